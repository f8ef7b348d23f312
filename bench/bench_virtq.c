/*
 * bench/bench_virtq.c: the device side of a split virtqueue: vmsg_vq_pop
 * (copy and check the chain, map every segment) and vmsg_vq_push (used
 * ring, unmap), for chains of 1, 4 and 16 segments laid out directly in
 * the descriptor table or in an indirect table, over loopback memory.
 *
 * The driver side is played by hand in this thread, because the userspace
 * driver never builds indirect chains: the chains are written once and
 * only their heads are re-published in the avail ring, a few stores per
 * chain, so nearly all of what is measured is the device side. Chains are
 * published, popped and pushed in batches of BATCH, with one
 * should_notify per batch, as a model draining its queue does.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "proto/vmsg_le.h"
#include "transport/vmsg_loopback.h"
#include "virtq/vmsg_virtq.h"

#define QSIZE 256u
#define BATCH 8u
#define SEG_LEN 512u
#define MEM_SIZE (1u << 20)

static const uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
    VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX);

struct vq_case {
    unsigned segs;
    bool indirect;
    struct vmsg_vq_dev vq;
    uint8_t *avail;             /* the driver's view of the avail ring */
    uint16_t avail_idx;
    uint16_t heads[BATCH];
};

static void put_desc(uint8_t *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t *d = table + (size_t)i * VIRTQ_DESC_SIZE;
    vmsg_put_le64(d, addr);
    vmsg_put_le32(d + 8, len);
    vmsg_put_le16(d + 12, flags);
    vmsg_put_le16(d + 14, next);
}

/* Chain layout: one segment is a writable buffer (an rng request);
 * otherwise the first half is readable and the rest writable (a blk
 * request is header + data + status). */
static void put_chain(uint8_t *table, unsigned first, unsigned segs, uint64_t buf_addr)
{
    for (unsigned k = 0; k < segs; k++) {
        bool last = k + 1 == segs;
        bool writable = segs == 1 || k >= segs / 2;
        put_desc(table, first + k, buf_addr + (k % 8) * SEG_LEN, SEG_LEN,
                 (uint16_t)((writable ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT)),
                 (uint16_t)(last ? 0 : first + k + 1));
    }
}

static int alloc(struct vmsg_bus *drv, size_t len, uint64_t *addr, uint8_t **ptr)
{
    void *p;
    int rc = vmsg_bus_alloc(drv, len, 4096, addr, &p);
    if (rc == 0)
        memset(p, 0, len);
    *ptr = p;
    return rc;
}

static int case_init(struct vq_case *c, struct vmsg_loopback *lb)
{
    struct vmsg_bus *drv = vmsg_loopback_driver_bus(lb);
    uint64_t desc_addr, avail_addr, used_addr, ind_addr, buf_addr;
    uint8_t *desc, *used, *ind, *buf;
    int rc;

    /* Each table holds up to 16 entries (256 bytes): BATCH fit one page. */
    if ((rc = alloc(drv, virtq_desc_bytes(QSIZE), &desc_addr, &desc)) < 0 ||
        (rc = alloc(drv, virtq_avail_bytes(QSIZE) + 2, &avail_addr, &c->avail)) < 0 ||
        (rc = alloc(drv, virtq_used_bytes(QSIZE) + 2, &used_addr, &used)) < 0 ||
        (rc = alloc(drv, BATCH * 16 * VIRTQ_DESC_SIZE, &ind_addr, &ind)) < 0 ||
        (rc = alloc(drv, 8 * SEG_LEN, &buf_addr, &buf)) < 0)
        return rc;
    for (unsigned j = 0; j < BATCH; j++) {
        if (c->indirect) {
            uint8_t *t = ind + (size_t)j * 16 * VIRTQ_DESC_SIZE;
            put_chain(t, 0, c->segs, buf_addr);
            put_desc(desc, j, ind_addr + (uint64_t)(t - ind), c->segs * VIRTQ_DESC_SIZE,
                     VIRTQ_DESC_F_INDIRECT, 0);
            c->heads[j] = (uint16_t)j;
        } else {
            put_chain(desc, j * c->segs, c->segs, buf_addr);
            c->heads[j] = (uint16_t)(j * c->segs);
        }
    }
    return vmsg_vq_dev_init(&c->vq, vmsg_loopback_device_bus(lb), NULL, 0, QSIZE, desc_addr,
                            avail_addr, used_addr, features);
}

static int run_chains(void *ctx, uint64_t n)
{
    struct vq_case *c = ctx;
    struct vmsg_vq_elem *elem[BATCH];

    while (n > 0) {
        unsigned b = n < BATCH ? (unsigned)n : BATCH;
        for (unsigned j = 0; j < b; j++)
            vmsg_put_le16(c->avail + 4 + 2 * ((c->avail_idx + j) % QSIZE), c->heads[j]);
        c->avail_idx = (uint16_t)(c->avail_idx + b);
        __atomic_store_n((uint16_t *)(void *)(c->avail + 2), htole16(c->avail_idx),
                         __ATOMIC_RELEASE);
        for (unsigned j = 0; j < b; j++) {
            int rc = vmsg_vq_pop(&c->vq, 0, &elem[j]);
            if (rc != 1)
                return rc < 0 ? rc : -EIO;
        }
        for (unsigned j = 0; j < b; j++)
            vmsg_vq_push(&c->vq, elem[j], elem[j]->write_len);
        vmsg_vq_should_notify(&c->vq);
        n -= b;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const unsigned seg_counts[] = { 1, 4, 16 };
    enum { NSEGS = sizeof(seg_counts) / sizeof(seg_counts[0]), NCASES = 2 * NSEGS };
    static struct vmsg_loopback lb;
    static struct vq_case vcs[NCASES];
    struct bench_case cases[NCASES];
    struct bench_opts o;
    int rc;

    bench_parse(argc, argv, 3.0, NULL, NULL, &o);
    vmsg_log_init("bench-virtq", false, VMSG_LOG_WARN);
    if ((rc = vmsg_loopback_init(&lb, VMSG_RECOMMENDED_MAX_MSG_SIZE, MEM_SIZE)) < 0) {
        fprintf(stderr, "bench-virtq: loopback: %s\n", strerror(-rc));
        return 1;
    }
    for (unsigned i = 0; i < NCASES; i++) {
        struct vq_case *c = &vcs[i];
        c->segs = seg_counts[i / 2];
        c->indirect = i % 2;
        if ((rc = case_init(c, &lb)) < 0) {
            fprintf(stderr, "bench-virtq: ring set-up: %s\n", strerror(-rc));
            return 1;
        }
        cases[i] = (struct bench_case){ .run = run_chains, .ctx = c };
        snprintf(cases[i].name, sizeof(cases[i].name), "%u segs %s", c->segs,
                 c->indirect ? "indirect" : "direct");
    }

    bench_print_machine("bench-virtq");
    rc = bench_run(&o, cases, NCASES);
    for (unsigned i = 0; i < NCASES; i++)
        vmsg_vq_dev_destroy(&vcs[i].vq);
    vmsg_loopback_destroy(&lb);
    if (rc < 0) {
        fprintf(stderr, "bench-virtq: %s\n", strerror(-rc));
        return 1;
    }
    if (bench_counted(&o))
        printf("# counted mode: %llu chains per case; per-case Ir from bench/callgrind.sh\n",
               (unsigned long long)o.iterations);
    else
        printf("# timed mode: %.1f s in all, cases interleaved; queue %u, batches of %u\n",
               o.seconds, QSIZE, BATCH);
    printf("%-22s %10s %12s %10s %14s\n", "chain", "ns/chain", "chains/s", "ns/seg",
           "indirect/direct");
    for (unsigned i = 0; i < NCASES; i++) {
        const struct bench_case *c = &cases[i];
        if (!c->ops)
            continue;
        printf("%-22s %10.1f %12.0f %10.1f", c->name, bench_ns_per_op(c), bench_ops_per_s(c),
               bench_ns_per_op(c) / vcs[i].segs);
        if (vcs[i].indirect && cases[i - 1].ops)
            printf(" %14.2f", bench_ns_per_op(c) / bench_ns_per_op(&cases[i - 1]));
        putchar('\n');
    }
    return 0;
}
