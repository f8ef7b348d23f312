/*
 * tests/fuzz/fuzz_virtq_chain.c: arbitrary ring memory fed to the device
 * side's chain walker (lib/virtq/virtq_device.c).
 *
 * Input: [size selector][feature bits][segment limit][memory image ...].
 * The image fills a small shared region holding the three rings; whatever
 * is left of the input keeps rewriting ring bytes from inside the bus's map
 * callback, as a guest racing the walker would. Invariants (abort on
 * failure): every popped segment lies inside the region and matches the
 * element's totals, a failure is reported as DEVICE_NEEDS_RESET exactly
 * once, and a broken queue stays broken. ASan catches any access outside
 * the region: it is allocated at exactly its size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/vmsg_log.h"
#include "virtq/vmsg_virtq.h"

#define MEM_SIZE    4096u
#define DESC_OFF    0u          /* up to 32 * 16 = 512 bytes */
#define AVAIL_OFF   512u        /* up to 6 + 2 * 32 = 70 */
#define USED_OFF    1024u       /* up to 6 + 8 * 32 = 262 */

struct fuzz_bus {
    struct vmsg_bus bus;
    uint8_t *mem;
    const uint8_t *race;        /* bytes that rewrite memory during maps */
    size_t race_len;
    int maps_live;
};

static unsigned resets;

/* The walker reports violations here; the real one lives in lib/transport. */
void vmsg_device_needs_reset(struct vmsg_device *dev, const char *why)
{
    (void)dev;
    (void)why;
    resets++;
}

static int fb_map(struct vmsg_bus *bus, uint64_t addr, uint64_t len, bool writable,
                  struct vmsg_mapping *out)
{
    struct fuzz_bus *f = container_of(bus, struct fuzz_bus, bus);
    (void)writable;
    /* The guest strikes: two bytes of input overwrite one ring byte. */
    if (f->race_len >= 2) {
        f->mem[(f->race[0] * 4u) % 1536u] = f->race[1];
        f->race += 2;
        f->race_len -= 2;
    }
    if (addr > MEM_SIZE || len > MEM_SIZE - addr)
        return -EFAULT;
    out->ptr = f->mem + addr;
    out->len = (size_t)len;
    out->cookie = NULL;
    f->maps_live++;
    return 0;
}

static void fb_unmap(struct vmsg_bus *bus, struct vmsg_mapping *m)
{
    struct fuzz_bus *f = container_of(bus, struct fuzz_bus, bus);
    if (m->ptr)
        f->maps_live--;
    m->ptr = NULL;
}

static const struct vmsg_bus_ops fb_ops = { .map = fb_map, .unmap = fb_unmap };

static void check_elem(const struct fuzz_bus *f, const struct vmsg_vq_elem *e, uint32_t size,
                       uint32_t limit)
{
    uint64_t rd = 0, wr = 0;
    if (e->head >= size || e->nread + e->nwrite > limit)
        abort();
    for (uint32_t k = 0; k < e->nread + e->nwrite; k++) {
        const struct vmsg_mapping *s = &e->seg[k];
        if (s->len == 0 || s->ptr < f->mem || s->ptr + s->len > f->mem + MEM_SIZE)
            abort();
        *(k < e->nread ? &rd : &wr) += s->len;
    }
    if (rd != e->read_len || wr != e->write_len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static bool quiet;
    struct fuzz_bus f = { .bus.ops = &fb_ops };
    struct vmsg_vq_dev vq;
    struct vmsg_vq_elem *e;
    uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1);
    uint32_t size, limit;
    size_t image;
    int rc;

    if (!quiet) {
        vmsg_log_init("fuzz", false, VMSG_LOG_ERR);
        quiet = true;
    }
    if (len < 3)
        return 0;
    size = 1u << (data[0] % 6);
    if (data[1] & 1)
        features |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
    if (data[1] & 2)
        features |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
    limit = data[2] % (size + 1);       /* 0: the queue size */
    data += 3;
    len -= 3;
    f.mem = calloc(1, MEM_SIZE);
    if (!f.mem)
        return 0;
    image = len < 1536 ? len : 1536;
    memcpy(f.mem, data, image);
    f.race = data + image;
    f.race_len = len - image;

    resets = 0;
    /* A fake device: the walker only hands it to vmsg_device_needs_reset. */
    if (vmsg_vq_dev_init(&vq, &f.bus, (struct vmsg_device *)&f, 0, size, DESC_OFF, AVAIL_OFF,
                         USED_OFF, features) != 0)
        abort();
    for (int i = 0; i < 64; i++) {
        rc = vmsg_vq_pop(&vq, limit, &e);
        if (rc <= 0)
            break;
        check_elem(&f, e, size, limit ? limit : size);
        /* The device writes every writable byte, as a real model may. */
        for (uint32_t k = e->nread; k < e->nread + e->nwrite; k++)
            memset(e->seg[k].ptr, 0xa5, e->seg[k].len);
        vmsg_vq_push(&vq, e, e->write_len);
        (void)vmsg_vq_should_notify(&vq);
        if (i % 8 == 7)
            (void)vmsg_vq_enable_notify(&vq);
    }
    if (rc == -EIO) {
        if (!vmsg_vq_broken(&vq) || resets != 1 || vmsg_vq_pop(&vq, limit, &e) != -EIO)
            abort();
    } else if (resets != 0 || vmsg_vq_broken(&vq)) {
        abort();
    }
    vmsg_vq_dev_destroy(&vq);
    if (f.maps_live != 0)
        abort();
    free(f.mem);
    return 0;
}
