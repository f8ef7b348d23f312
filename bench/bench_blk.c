/*
 * bench/bench_blk.c: virtio-blk random reads and writes through the
 * userspace driver to the blk model on a temporary file, io=uring against
 * io=threads in one run.
 *
 * Two rigs are up side by side, one per engine, each a loopback bus with
 * its device end in tests/support/model_pump.c, a thread shaped like the
 * daemon's loop (one poll over the bus fd and the model's fds).
 * Every (op, block size, depth) is measured on both engines in alternating
 * slices (bench.h), so the uring/threads ratio compares like with like on
 * this shared machine. Depth 1 is synchronous I/O on queue 0; depth 16
 * keeps 16 requests in flight spread over 4 queues, and keeps them in
 * flight across slices so no pipeline ramp is measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/devices/vmsg_devices.h"
#include "bench/bench.h"
#include "frontend-shim/drivers/vmsg_drivers.h"
#include "tests/support/model_pump.h"
#include "transport/vmsg_loopback.h"

#define DEV_NUM 1
#define NQUEUES 4u
#define MAX_DEPTH 16u
#define MAX_BS (64u * 1024u)
#define MEM_SIZE (32u << 20)

static const char *dir = "/dev/shm";
static uint64_t file_bytes = 64u << 20;

struct rig {
    const char *engine;         /* "uring" or "threads" */
    char path[256];
    struct vmsg_loopback lb;
    struct vmsg_devbus db;
    struct vmsg_drvbus drv;
    struct vmsg_device *dev;
    struct vmsg_blk *blk;
    struct model_pump pump;
    bool up;
};

struct io_case {
    struct rig *rig;
    bool write;
    uint32_t bs;
    unsigned depth;
    uint64_t rng;
    /* Depth > 1: requests in flight, oldest first, kept across run() calls. */
    struct vmsg_blk_req *inflight[MAX_DEPTH];
    uint8_t *buf[MAX_DEPTH];
    unsigned head, count, next_q;
};

/* A file of file_bytes, written through so reads hit real pages. */
static int make_file(const char *path)
{
    static uint8_t chunk[1u << 20];
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -errno;
    memset(chunk, 0x5a, sizeof(chunk));
    for (uint64_t off = 0; off < file_bytes; off += sizeof(chunk)) {
        if (pwrite(fd, chunk, sizeof(chunk), (off_t)off) != (ssize_t)sizeof(chunk)) {
            int err = errno ? -errno : -ENOSPC;
            close(fd);
            return err;
        }
    }
    close(fd);
    return 0;
}

static void rig_down(struct rig *r)
{
    if (!r->up)
        return;
    r->up = false;
    vmsg_blk_close(r->blk);
    model_pump_stop(&r->pump);
    vmsg_drvbus_destroy(&r->drv);
    vmsg_devbus_destroy(&r->db);
    vmsg_loopback_destroy(&r->lb);
    unlink(r->path);
}

static int rig_up(struct rig *r)
{
    char nq[8];
    int rc;
    snprintf(r->path, sizeof(r->path), "%s/vmsg-bench-%s-%d.img", dir, r->engine, (int)getpid());
    snprintf(nq, sizeof(nq), "%u", NQUEUES);
    struct vmsg_param p[] = { { "path", r->path }, { "io", r->engine }, { "num-queues", nq } };
    if ((rc = make_file(r->path)) < 0)
        return rc;
    if ((rc = vmsg_device_model_create("blk", p, 3, &r->dev)) < 0)
        goto err_file;
    if ((rc = vmsg_loopback_init(&r->lb, VMSG_RECOMMENDED_MAX_MSG_SIZE, MEM_SIZE)) < 0)
        goto err_dev;
    if ((rc = vmsg_devbus_init(&r->db, vmsg_loopback_device_bus(&r->lb))) < 0)
        goto err_lb;
    r->db.release = vmsg_device_model_destroy;
    if ((rc = vmsg_devbus_add(&r->db, DEV_NUM, r->dev, false)) < 0 ||
        (rc = vmsg_drvbus_init(&r->drv, vmsg_loopback_driver_bus(&r->lb))) < 0)
        goto err_lb;
    if ((rc = model_pump_start(&r->pump, &r->db, r->dev)) < 0)
        goto err_lb;
    if ((rc = vmsg_blk_open(&r->drv, DEV_NUM, NQUEUES, &r->blk)) < 0) {
        model_pump_stop(&r->pump);
        goto err_lb;
    }
    r->up = true;
    if (vmsg_blk_num_queues(r->blk) != NQUEUES) {
        fprintf(stderr, "bench-blk: the device gave %u queues, not %u\n",
                vmsg_blk_num_queues(r->blk), NQUEUES);
        rig_down(r);
        return -EPROTO;
    }
    return 0;

err_lb:
    /* The devbus owns the device once added; before that we still do. */
    if (vmsg_devbus_find(&r->db, DEV_NUM))
        r->dev = NULL;
    vmsg_drvbus_destroy(&r->drv);
    vmsg_devbus_destroy(&r->db);
    vmsg_loopback_destroy(&r->lb);
err_dev:
    if (r->dev)
        vmsg_device_model_destroy(r->dev);
err_file:
    unlink(r->path);
    return rc;
}

/* xorshift64: cheap, and the same sequence for both engines. */
static uint64_t next_sector(struct io_case *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return (c->rng % (file_bytes / c->bs)) * (c->bs / 512);
}

static int run_sync(struct io_case *c, uint64_t n)
{
    struct vmsg_blk *b = c->rig->blk;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t sector = next_sector(c);
        int rc = c->write ? vmsg_blk_write(b, 0, sector, c->buf[0], c->bs / 512)
                          : vmsg_blk_read(b, 0, sector, c->buf[0], c->bs / 512);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int start_one(struct io_case *c)
{
    unsigned slot = (c->head + c->count) % MAX_DEPTH;
    int rc = vmsg_blk_start(c->rig->blk, c->next_q, c->write, next_sector(c), c->buf[slot],
                            c->bs / 512, &c->inflight[slot]);
    if (rc < 0)
        return rc;
    c->next_q = (c->next_q + 1) % NQUEUES;
    c->count++;
    return 0;
}

static int wait_oldest(struct io_case *c)
{
    int rc = vmsg_blk_wait(c->rig->blk, c->inflight[c->head]);
    c->head = (c->head + 1) % MAX_DEPTH;
    c->count--;
    return rc;
}

/* n completions, topping the pipeline up to `depth` before each wait. */
static int run_async(struct io_case *c, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int rc;
        while (c->count < c->depth)
            if ((rc = start_one(c)) < 0)
                return rc;
        if ((rc = wait_oldest(c)) < 0)
            return rc;
    }
    return 0;
}

static int run_io(void *ctx, uint64_t n)
{
    struct io_case *c = ctx;
    return c->depth == 1 ? run_sync(c, n) : run_async(c, n);
}

static int drain(struct io_case *c)
{
    int rc = 0;
    while (c->count)
        if (wait_oldest(c) < 0)
            rc = -EIO;
    return rc;
}

static int parse_extra(int argc, char **argv, int i)
{
    if (i + 1 >= argc)
        return 0;
    if (strcmp(argv[i], "--dir") == 0) {
        dir = argv[i + 1];
        return 2;
    }
    if (strcmp(argv[i], "--file-mb") == 0) {
        file_bytes = strtoull(argv[i + 1], NULL, 10) << 20;
        if (file_bytes < MAX_BS) {
            fprintf(stderr, "bench-blk: --file-mb must be at least 1\n");
            exit(2);
        }
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const uint32_t sizes[] = { 4096, 64 * 1024 };
    static const unsigned depths[] = { 1, MAX_DEPTH };
    enum { NCFG = 2 * 2 * 2, NCASES = 2 * NCFG };
    static struct rig rigs[2] = { { .engine = "uring" }, { .engine = "threads" } };
    static struct io_case ics[NCASES];
    struct bench_case cases[NCASES];
    struct bench_opts o;
    unsigned ncases = 0;
    int rc = 0;

    bench_parse(argc, argv, 8.0, "  --dir DIR       where the disk files go (default /dev/shm)\n"
                "  --file-mb N     size of each disk file in MiB (default 64)\n",
                parse_extra, &o);
    if (bench_counted(&o)) {
        fprintf(stderr, "bench-blk: I/O is measured timed only (--seconds)\n");
        return 2;
    }
    vmsg_log_init("bench-blk", false, VMSG_LOG_WARN);
    for (unsigned e = 0; e < 2; e++) {
        if ((rc = rig_up(&rigs[e])) < 0)
            fprintf(stderr, "bench-blk: io=%s unavailable here: %s\n", rigs[e].engine,
                    strerror(-rc));
    }
    /* Engine innermost, so the two engines of one configuration take
     * adjacent turns. */
    for (unsigned cfg = 0; cfg < NCFG; cfg++) {
        for (unsigned e = 0; e < 2; e++) {
            struct io_case *c = &ics[2 * cfg + e];
            *c = (struct io_case){ .rig = &rigs[e], .write = cfg / 4, .bs = sizes[cfg / 2 % 2],
                                   .depth = depths[cfg % 2], .rng = 0x9e3779b97f4a7c15ull };
            for (unsigned k = 0; k < c->depth; k++)
                if (!(c->buf[k] = malloc(c->bs))) {
                    fprintf(stderr, "bench-blk: out of memory\n");
                    return 1;
                }
            for (unsigned k = 0; k < c->depth; k++)
                memset(c->buf[k], 0xa5, c->bs);
            if (!rigs[e].up)
                continue;
            cases[ncases] = (struct bench_case){ .run = run_io, .ctx = c };
            snprintf(cases[ncases].name, sizeof(cases[0].name), "%s %uK qd%u %s",
                     c->write ? "write" : "read", c->bs / 1024, c->depth, rigs[e].engine);
            ncases++;
        }
    }

    bench_print_machine("bench-blk");
    if (ncases)
        rc = bench_run(&o, cases, ncases);
    for (unsigned i = 0; i < NCASES; i++) {
        if (ics[i].rig->up && drain(&ics[i]) < 0 && rc == 0)
            rc = -EIO;
        for (unsigned k = 0; k < ics[i].depth; k++)
            free(ics[i].buf[k]);
    }
    rig_down(&rigs[0]);
    rig_down(&rigs[1]);
    if (!ncases || rc < 0) {
        fprintf(stderr, "bench-blk: %s\n", ncases ? strerror(-rc) : "no engine available");
        return 1;
    }
    printf("# timed mode: %.1f s in all, engines alternating; files in %s, %llu MiB each, "
           "%u queues\n", o.seconds, dir, (unsigned long long)(file_bytes >> 20), NQUEUES);
    printf("%-18s %11s %11s %11s %11s %14s\n", "op", "uring IOPS", "uring MB/s", "thr IOPS",
           "thr MB/s", "uring/threads");
    for (unsigned cfg = 0; cfg < NCFG; cfg++) {
        const struct io_case *u = &ics[2 * cfg];
        const struct bench_case *cu = NULL, *ct = NULL;
        for (unsigned i = 0; i < ncases; i++) {
            if (cases[i].ctx == &ics[2 * cfg])
                cu = &cases[i];
            if (cases[i].ctx == &ics[2 * cfg + 1])
                ct = &cases[i];
        }
        char label[32];
        snprintf(label, sizeof(label), "%s %uK qd%u", u->write ? "write" : "read", u->bs / 1024,
                 u->depth);
        double iops_u = cu ? bench_ops_per_s(cu) : 0, iops_t = ct ? bench_ops_per_s(ct) : 0;
        printf("%-18s %11.0f %11.1f %11.0f %11.1f", label, iops_u, iops_u * u->bs / 1e6, iops_t,
               iops_t * u->bs / 1e6);
        if (iops_u && iops_t)
            printf(" %14.2f", iops_u / iops_t);
        putchar('\n');
    }
    return 0;
}
