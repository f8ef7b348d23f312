/*
 * lib/virtq/virtq_driver.c: the driver side of a split virtqueue.
 *
 * The device is not trusted either: the rings are shared with it, so the
 * driver keeps its own bookkeeping (free list, per-chain token and writable
 * length) in private memory, never reads the descriptor table back, and
 * checks every used entry against that bookkeeping before believing it.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/vmsg_log.h"
#include "virtq/vmsg_virtq.h"
#include "virtq/virtq_ring.h"

static void put_desc(uint8_t *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    /* Aligned (the table is 16-aligned): plain little-endian stores. */
    __atomic_store_n((uint64_t *)(void *)d, htole64(addr), __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(void *)(d + 8), htole32(len), __ATOMIC_RELAXED);
    shm_store16(d + 12, flags);
    shm_store16(d + 14, next);
}

static int bad_ring(struct vmsg_vq_drv *vq, const char *why, unsigned a, unsigned b)
{
    if (!vq->broken)
        vmsg_err("virtq: queue %u: the device broke the ring: %s (%u, %u); queue disabled",
                 vq->index, why, a, b);
    vq->broken = true;
    return -EIO;
}

int vmsg_vq_drv_init(struct vmsg_vq_drv *vq, struct vmsg_bus *bus, uint32_t index,
                     uint32_t size, uint64_t features)
{
    void *p;
    int rc;

    memset(vq, 0, sizeof(*vq));
    if (size == 0 || size > VIRTQ_DRIVER_MAX_SIZE || (size & (size - 1)))
        return -EINVAL;
    vq->bus = bus;
    vq->index = index;
    vq->size = (uint16_t)size;
    vq->event_idx = features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
    vq->free_next = calloc(size, sizeof(*vq->free_next));
    vq->slot = calloc(size, sizeof(*vq->slot));
    if (!vq->free_next || !vq->slot) {
        rc = -ENOMEM;
        goto err_mem;
    }
    if ((rc = vmsg_bus_alloc(bus, virtq_desc_bytes(size), 16, &vq->desc_addr, &p)) < 0)
        goto err_mem;
    vq->desc = p;
    if ((rc = vmsg_bus_alloc(bus, virtq_avail_bytes(size), 64, &vq->avail_addr, &p)) < 0)
        goto err_desc;
    vq->avail = p;
    if ((rc = vmsg_bus_alloc(bus, virtq_used_bytes(size), 64, &vq->used_addr, &p)) < 0)
        goto err_avail;
    vq->used = p;
    memset(vq->desc, 0, virtq_desc_bytes(size));
    memset(vq->avail, 0, virtq_avail_bytes(size));
    memset(vq->used, 0, virtq_used_bytes(size));
    for (uint32_t i = 0; i < size; i++)
        vq->free_next[i] = (uint16_t)(i + 1);
    vq->num_free = (uint16_t)size;
    return 0;

err_avail:
    vmsg_bus_free(bus, vq->avail_addr, virtq_avail_bytes(size));
err_desc:
    vmsg_bus_free(bus, vq->desc_addr, virtq_desc_bytes(size));
err_mem:
    free(vq->free_next);
    free(vq->slot);
    vq->free_next = NULL;
    vq->slot = NULL;
    return rc < 0 ? rc : -ENOMEM;
}

void vmsg_vq_drv_destroy(struct vmsg_vq_drv *vq)
{
    if (!vq->slot)
        return;
    vmsg_bus_free(vq->bus, vq->used_addr, virtq_used_bytes(vq->size));
    vmsg_bus_free(vq->bus, vq->avail_addr, virtq_avail_bytes(vq->size));
    vmsg_bus_free(vq->bus, vq->desc_addr, virtq_desc_bytes(vq->size));
    free(vq->free_next);
    free(vq->slot);
    vq->free_next = NULL;
    vq->slot = NULL;
}

int vmsg_vq_drv_add(struct vmsg_vq_drv *vq, const struct vmsg_vq_buf *bufs, unsigned n,
                    void *token)
{
    uint64_t write_cap = 0;
    bool seen_write = false;
    uint16_t head, i, last = 0;

    if (vq->broken)
        return -EIO;
    if (n == 0 || !token)
        return -EINVAL;
    for (unsigned k = 0; k < n; k++) {
        if (bufs[k].writable) {
            seen_write = true;
            write_cap += bufs[k].len;
        } else if (seen_write) {
            return -EINVAL;
        }
    }
    if (write_cap > UINT32_MAX)
        return -EINVAL;
    if (n > vq->num_free)
        return -ENOSPC;

    head = i = vq->free_head;
    for (unsigned k = 0; k < n; k++) {
        uint16_t flags = (uint16_t)((bufs[k].writable ? VIRTQ_DESC_F_WRITE : 0) |
                                    (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        uint16_t next = vq->free_next[i];
        put_desc(vq->desc + (size_t)i * VIRTQ_DESC_SIZE, bufs[k].addr, bufs[k].len, flags,
                 k + 1 < n ? next : 0);
        last = i;
        i = next;
    }
    vq->free_head = i;
    vq->num_free = (uint16_t)(vq->num_free - n);
    vq->slot[head] = (struct vmsg_vq_drv_slot){
        .token = token, .ndesc = (uint16_t)n, .last = last, .write_cap = (uint32_t)write_cap,
    };
    shm_store16(vq->avail + AVAIL_RING(vq->avail_idx & (vq->size - 1)), head);
    vq->avail_idx++;
    /* Release: the descriptors and the ring entry are visible before the
     * device can see the new index. */
    __atomic_store_n((uint16_t *)(void *)(vq->avail + AVAIL_IDX), htole16(vq->avail_idx),
                     __ATOMIC_RELEASE);
    return 0;
}

bool vmsg_vq_drv_kick_prepare(struct vmsg_vq_drv *vq)
{
    uint16_t old = vq->kicked_idx;

    if (vq->broken)
        return false;
    vq->kicked_idx = vq->avail_idx;
    /* Full fence: avail->idx must be visible before we read avail_event /
     * used flags; the device stores those and then re-reads avail->idx. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vq->event_idx)
        return virtq_need_event(shm_load16(vq->used + USED_RING(vq->size)), vq->avail_idx, old);
    return !(shm_load16(vq->used + USED_FLAGS) & VIRTQ_USED_F_NO_NOTIFY);
}

int vmsg_vq_drv_get_used(struct vmsg_vq_drv *vq, void **token, uint32_t *len)
{
    uint16_t used_idx, pending;
    uint32_t id, ulen;
    struct vmsg_vq_drv_slot *s;

    if (vq->broken)
        return -EIO;
    /* Acquire: the used element and the buffer contents the device wrote
     * before publishing used->idx are read after it. */
    used_idx = le16toh(__atomic_load_n((const uint16_t *)(const void *)(vq->used + USED_IDX),
                                       __ATOMIC_ACQUIRE));
    pending = (uint16_t)(used_idx - vq->last_used);
    if (pending == 0)
        return 0;
    if (pending > vq->size - vq->num_free)
        return bad_ring(vq, "used index ran ahead of what is in flight", used_idx, vq->last_used);
    const uint8_t *e = vq->used + USED_RING(vq->last_used & (vq->size - 1));
    id = shm_load32(e);
    ulen = shm_load32(e + 4);
    if (id >= vq->size)
        return bad_ring(vq, "used id out of range", id, vq->size);
    s = &vq->slot[id];
    if (!s->token)
        return bad_ring(vq, "used id not in flight", id, 0);
    if (ulen > s->write_cap)
        return bad_ring(vq, "used length above the writable length", ulen, s->write_cap);
    vq->last_used++;
    *token = s->token;
    *len = ulen;
    /* Chain the freed descriptors onto the free list, from private state. */
    vq->free_next[s->last] = vq->free_head;
    vq->free_head = (uint16_t)id;
    vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
    s->token = NULL;
    return 1;
}

void vmsg_vq_drv_enable_cb(struct vmsg_vq_drv *vq)
{
    if (vq->broken)
        return;
    if (vq->event_idx)
        shm_store16(vq->avail + AVAIL_RING(vq->size), vq->last_used);
    else
        shm_store16(vq->avail + AVAIL_FLAGS, 0);
    /* Full fence: used_event is visible before the caller re-checks the
     * used ring, so a buffer used meanwhile is either seen or notified. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
