/*
 * lib/virtq/virtq_device.c: the device side of a split virtqueue.
 *
 * The guest can rewrite every ring byte at any moment. So each shared field
 * is fetched exactly once, through the accessors below, into private
 * memory; the chain is then validated on that private copy and only the
 * copy is used. A violation marks the queue broken and reports it to the
 * device once (DEVICE_NEEDS_RESET + EVENT_CONFIG); the process carries on.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "transport/vmsg_device.h"
#include "util/vmsg_log.h"
#include "virtq/vmsg_virtq.h"
#include "virtq/virtq_ring.h"

/* A private copy of one descriptor. */
struct vmsg_vq_walk {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* Descriptors may sit in an indirect table at any address the guest chose,
 * so all 16 bytes are copied at once, bytewise. The signal fence keeps the
 * compiler from replacing later uses of the copy by fresh loads from shared
 * memory. */
static struct vmsg_vq_walk shm_load_desc(const uint8_t *p)
{
    uint8_t raw[VIRTQ_DESC_SIZE];
    struct vmsg_vq_walk d;

    memcpy(raw, p, sizeof(raw));
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    d.addr = vmsg_get_le64(raw);
    d.len = vmsg_get_le32(raw + 8);
    d.flags = vmsg_get_le16(raw + 12);
    d.next = vmsg_get_le16(raw + 14);
    return d;
}

/* ---- violations --------------------------------------------------------- */
static void vq_broken(struct vmsg_vq_dev *vq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void vq_broken(struct vmsg_vq_dev *vq, const char *fmt, ...)
{
    char why[160], line[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (__atomic_exchange_n(&vq->broken, true, __ATOMIC_ACQ_REL))
        return;     /* told once */
    snprintf(line, sizeof(line), "queue %u broken: %s", vq->index, why);
    if (vq->dev)
        vmsg_device_needs_reset(vq->dev, line);
    else
        vmsg_warn("virtq: %s", line);
}

/* ---- setup -------------------------------------------------------------- */
int vmsg_vq_dev_init(struct vmsg_vq_dev *vq, struct vmsg_bus *bus, struct vmsg_device *dev,
                     uint32_t index, uint32_t size, uint64_t desc_addr, uint64_t driver_addr,
                     uint64_t device_addr, uint64_t features)
{
    int rc;

    memset(vq, 0, sizeof(*vq));
    if (size == 0 || size > 32768 || (size & (size - 1)) ||
        (desc_addr & 15) || (driver_addr & 1) || (device_addr & 3))
        return -EINVAL;
    vq->bus = bus;
    vq->dev = dev;
    vq->index = index;
    vq->size = (uint16_t)size;
    vq->event_idx = features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
    vq->indirect = features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
    vq->walk = calloc(size, sizeof(*vq->walk));
    if (!vq->walk)
        return -ENOMEM;
    if ((rc = vmsg_bus_map(bus, desc_addr, virtq_desc_bytes(size), false, &vq->desc_map)) < 0)
        goto err_walk;
    if ((rc = vmsg_bus_map(bus, driver_addr, virtq_avail_bytes(size), false, &vq->avail_map)) < 0)
        goto err_desc;
    if ((rc = vmsg_bus_map(bus, device_addr, virtq_used_bytes(size), true, &vq->used_map)) < 0)
        goto err_avail;
    /* A bus maps at page granularity, so the local pointers keep the bus
     * addresses' alignment; check anyway: the accessors rely on it. */
    if (((uintptr_t)vq->avail_map.ptr & 1) || ((uintptr_t)vq->used_map.ptr & 3)) {
        rc = -EINVAL;
        goto err_used;
    }
    /* A fresh ring has used.idx 0. A driver that set its queue up again
     * after a backend restart (docs/protocol.md 3) keeps its ring, and the
     * chains it published past used.idx were never completed: resume
     * there, so they are served now. Any value is a valid start. */
    vq->used_idx = shm_load16(vq->used_map.ptr + USED_IDX);
    vq->last_avail = vq->used_idx;
    return 0;

err_used:
    vmsg_bus_unmap(bus, &vq->used_map);
err_avail:
    vmsg_bus_unmap(bus, &vq->avail_map);
err_desc:
    vmsg_bus_unmap(bus, &vq->desc_map);
err_walk:
    free(vq->walk);
    vq->walk = NULL;
    return rc;
}

void vmsg_vq_dev_destroy(struct vmsg_vq_dev *vq)
{
    if (!vq->walk)
        return;
    if (__atomic_load_n(&vq->inflight, __ATOMIC_ACQUIRE))
        vmsg_warn("virtq: queue %u destroyed with %u chains in flight", vq->index, vq->inflight);
    vmsg_bus_unmap(vq->bus, &vq->used_map);
    vmsg_bus_unmap(vq->bus, &vq->avail_map);
    vmsg_bus_unmap(vq->bus, &vq->desc_map);
    free(vq->walk);
    vq->walk = NULL;
}

/* ---- the chain walker ----------------------------------------------------- */
/*
 * Copy the chain starting at `head` into vq->walk[], checking the structure
 * as it goes. Returns the number of descriptors, or -EIO after reporting a
 * violation. Nothing is mapped yet.
 */
static int walk_chain(struct vmsg_vq_dev *vq, uint16_t head, uint32_t limit)
{
    const uint8_t *table = vq->desc_map.ptr;
    uint32_t table_n = vq->size;
    struct vmsg_mapping ind = { 0 };
    bool in_indirect = false, seen_write = false;
    uint64_t rd = 0, wr = 0;
    uint32_t n = 0;
    uint32_t i = head;
    int rc = -EIO;

    for (;;) {
        struct vmsg_vq_walk d = shm_load_desc(table + (size_t)i * VIRTQ_DESC_SIZE);

        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!vq->indirect) {
                vq_broken(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
                goto out;
            }
            if (in_indirect) {
                vq_broken(vq, "nested indirect descriptor in the table of head %u", head);
                goto out;
            }
            if (n != 0 || (d.flags & VIRTQ_DESC_F_NEXT)) {
                vq_broken(vq, "indirect descriptor %u not alone at the head of its chain", i);
                goto out;
            }
            if (d.len == 0 || d.len % VIRTQ_DESC_SIZE || d.len / VIRTQ_DESC_SIZE > vq->size) {
                vq_broken(vq, "indirect table of %u bytes (a non-zero multiple of 16, at most %u)",
                          d.len, vq->size * VIRTQ_DESC_SIZE);
                goto out;
            }
            if (d.addr + d.len < d.addr) {
                vq_broken(vq, "indirect table at 0x%" PRIx64 " wraps the address space", d.addr);
                goto out;
            }
            rc = vmsg_bus_map(vq->bus, d.addr, d.len, false, &ind);
            if (rc == -EFAULT) {
                vq_broken(vq, "indirect table 0x%" PRIx64 "+%u outside shared memory", d.addr, d.len);
                rc = -EIO;
                goto out;
            }
            if (rc < 0)
                goto out;
            rc = -EIO;
            table = ind.ptr;
            table_n = d.len / VIRTQ_DESC_SIZE;
            in_indirect = true;
            i = 0;
            continue;
        }
        if (n >= limit) {
            vq_broken(vq, "chain at head %u longer than %u descriptors (a loop?)", head, limit);
            goto out;
        }
        if (d.flags & VIRTQ_DESC_F_WRITE) {
            seen_write = true;
            wr += d.len;
        } else if (seen_write) {
            vq_broken(vq, "readable descriptor after a writable one in chain %u", head);
            goto out;
        } else {
            rd += d.len;
        }
        if (rd > UINT32_MAX || wr > UINT32_MAX) {
            vq_broken(vq, "chain %u longer than 4 GiB", head);
            goto out;
        }
        if (d.addr + d.len < d.addr) {
            vq_broken(vq, "buffer 0x%" PRIx64 "+%u wraps the address space", d.addr, d.len);
            goto out;
        }
        vq->walk[n++] = d;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= table_n) {
            vq_broken(vq, "descriptor %u's next %u beyond the %s of %u", i, d.next,
                      in_indirect ? "indirect table" : "queue", table_n);
            goto out;
        }
        i = d.next;
    }
    rc = (int)n;
out:
    if (ind.ptr)
        vmsg_bus_unmap(vq->bus, &ind);
    return rc;
}

/* Map every non-empty segment of the walked chain into e->seg[]. */
static int map_chain(struct vmsg_vq_dev *vq, uint32_t n, struct vmsg_vq_elem *e)
{
    uint32_t k = 0;
    int rc;

    for (uint32_t j = 0; j < n; j++) {
        const struct vmsg_vq_walk *d = &vq->walk[j];
        bool writable = d->flags & VIRTQ_DESC_F_WRITE;
        if (d->len == 0)
            continue;
        rc = vmsg_bus_map(vq->bus, d->addr, d->len, writable, &e->seg[k]);
        if (rc < 0) {
            while (k)
                vmsg_bus_unmap(vq->bus, &e->seg[--k]);
            if (rc == -EFAULT) {
                vq_broken(vq, "buffer 0x%" PRIx64 "+%u outside shared memory", d->addr, d->len);
                return -EIO;
            }
            return rc;
        }
        if (writable) {
            e->nwrite++;
            e->write_len += d->len;
        } else {
            e->nread++;
            e->read_len += d->len;
        }
        k++;
    }
    return 0;
}

int vmsg_vq_pop(struct vmsg_vq_dev *vq, uint32_t max_segs, struct vmsg_vq_elem **out)
{
    struct vmsg_vq_elem *e;
    uint16_t avail_idx, pending, head;
    uint32_t limit = max_segs && max_segs < vq->size ? max_segs : vq->size;
    int n, rc;

    *out = NULL;
    if (vmsg_vq_broken(vq))
        return -EIO;
    /* Acquire: the ring entries and descriptors the driver wrote before it
     * published avail->idx (with a release or wmb) are read after it. */
    avail_idx = le16toh(__atomic_load_n((const uint16_t *)(const void *)(vq->avail_map.ptr + AVAIL_IDX),
                                        __ATOMIC_ACQUIRE));
    pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending == 0)
        return 0;
    if (pending > vq->size) {
        vq_broken(vq, "avail index %u ran %u ahead of %u (queue size %u)", avail_idx, pending,
                  vq->last_avail, vq->size);
        return -EIO;
    }
    /* An honest driver cannot have more chains out than the queue has
     * entries: one republishing a head while its earlier pops are in
     * flight would make us hold chains (and their mappings) without end.
     * QEMU calls this "virtqueue size exceeded". */
    if (__atomic_load_n(&vq->inflight, __ATOMIC_ACQUIRE) >= vq->size) {
        vq_broken(vq, "virtqueue size exceeded: %u chains in flight on a queue of %u",
                  __atomic_load_n(&vq->inflight, __ATOMIC_RELAXED), vq->size);
        return -EIO;
    }
    head = shm_load16(vq->avail_map.ptr + AVAIL_RING(vq->last_avail & (vq->size - 1)));
    if (head >= vq->size) {
        vq_broken(vq, "avail ring names descriptor %u of %u", head, vq->size);
        return -EIO;
    }
    n = walk_chain(vq, head, limit);
    if (n < 0)
        return n;
    e = calloc(1, sizeof(*e) + (size_t)n * sizeof(e->seg[0]));
    if (!e)
        return -ENOMEM;
    e->head = head;
    rc = map_chain(vq, (uint32_t)n, e);
    if (rc < 0) {
        free(e);
        return rc;
    }
    vq->last_avail++;
    __atomic_add_fetch(&vq->inflight, 1, __ATOMIC_RELAXED);
    *out = e;
    return 1;
}

static void release(struct vmsg_vq_dev *vq, struct vmsg_vq_elem *e)
{
    for (uint32_t k = 0; k < e->nread + e->nwrite; k++)
        vmsg_bus_unmap(vq->bus, &e->seg[k]);
    free(e);
    __atomic_sub_fetch(&vq->inflight, 1, __ATOMIC_RELEASE);
}

void vmsg_vq_push(struct vmsg_vq_dev *vq, struct vmsg_vq_elem *e, uint32_t written)
{
    if (!vmsg_vq_broken(vq)) {
        uint8_t *slot = vq->used_map.ptr + USED_RING(vq->used_idx & (vq->size - 1));
        if (written > e->write_len)
            written = e->write_len;
        shm_store32(slot, e->head);
        shm_store32(slot + 4, written);
        vq->used_idx++;
        /* Release: the used element (and the data written into the buffers
         * before this call) is visible before the driver sees the index. */
        __atomic_store_n((uint16_t *)(void *)(vq->used_map.ptr + USED_IDX), htole16(vq->used_idx),
                         __ATOMIC_RELEASE);
    }
    release(vq, e);
}

void vmsg_vq_drop(struct vmsg_vq_dev *vq, struct vmsg_vq_elem *e)
{
    release(vq, e);
}

bool vmsg_vq_should_notify(struct vmsg_vq_dev *vq)
{
    uint16_t old, event;
    bool valid;

    if (vmsg_vq_broken(vq))
        return false;
    /* Full fence: our used->idx store must be visible before we read
     * used_event / flags, or we and the driver (which stores used_event,
     * then re-reads used->idx) could each miss the other's update. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx)
        return !(shm_load16(vq->avail_map.ptr + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    old = vq->signalled_used;
    valid = vq->signalled_valid;
    vq->signalled_used = vq->used_idx;
    vq->signalled_valid = true;
    if (!valid)
        return true;
    event = shm_load16(vq->avail_map.ptr + AVAIL_RING(vq->size));
    return virtq_need_event(event, vq->used_idx, old);
}

void vmsg_vq_disable_notify(struct vmsg_vq_dev *vq)
{
    /* With EVENT_IDX a stale avail_event already suppresses kicks. */
    if (!vq->event_idx && !vmsg_vq_broken(vq))
        shm_store16(vq->used_map.ptr + USED_FLAGS, VIRTQ_USED_F_NO_NOTIFY);
}

bool vmsg_vq_enable_notify(struct vmsg_vq_dev *vq)
{
    uint16_t avail_idx;

    if (vmsg_vq_broken(vq))
        return false;
    if (vq->event_idx)
        shm_store16(vq->used_map.ptr + USED_RING(vq->size), vq->last_avail);
    else
        shm_store16(vq->used_map.ptr + USED_FLAGS, 0);
    /* Full fence: the store above must be visible before we re-read
     * avail->idx; the driver publishes avail->idx and then reads our
     * avail_event/flags, so one of us sees the other. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    avail_idx = shm_load16(vq->avail_map.ptr + AVAIL_IDX);
    return avail_idx != vq->last_avail;
}

size_t vmsg_vq_elem_read(const struct vmsg_vq_elem *e, size_t off, void *buf, size_t len)
{
    size_t done = 0;
    for (uint32_t k = 0; k < e->nread && done < len; k++) {
        const struct vmsg_mapping *s = &e->seg[k];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t chunk = s->len - off < len - done ? s->len - off : len - done;
        memcpy((uint8_t *)buf + done, s->ptr + off, chunk);
        done += chunk;
        off = 0;
    }
    return done;
}

size_t vmsg_vq_elem_write(struct vmsg_vq_elem *e, size_t off, const void *buf, size_t len)
{
    size_t done = 0;
    for (uint32_t k = e->nread; k < e->nread + e->nwrite && done < len; k++) {
        struct vmsg_mapping *s = &e->seg[k];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t chunk = s->len - off < len - done ? s->len - off : len - done;
        memcpy(s->ptr + off, (const uint8_t *)buf + done, chunk);
        done += chunk;
        off = 0;
    }
    return done;
}
