/*
 * lib/virtq/vmsg_virtq.h: split virtqueues (virtio 1.x, section 2.7), the
 * device side and the driver side.
 *
 * Owns: the split ring layout, the device side's chain walker (every index,
 * flag, length and address the guest wrote is copied once into private
 * memory and checked before use), used-ring publication, and event-index
 * notification suppression in both directions; on the driver side, ring
 * allocation from the bus, adding buffers, the kick decision and checked
 * collection of used buffers.
 *
 * All guest memory is reached through the bus (vmsg_bus_map on the device
 * side, vmsg_bus_alloc on the driver side); ring fields are little-endian.
 *
 * Threading, device side: pop, enable/disable_notify from one thread (the
 * bus instance's); push and should_notify from one thread at a time (the
 * model serialises them), possibly concurrently with pop: the two sides
 * touch disjoint ring fields and share only atomics. Driver side: one
 * thread.
 */
#ifndef VMSG_VIRTQ_H
#define VMSG_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/vmsg_bus.h"

struct vmsg_device;

/* Descriptor flags, ring flags (virtio 1.x 2.7.5 - 2.7.8). */
#define VIRTQ_DESC_F_NEXT           1u
#define VIRTQ_DESC_F_WRITE          2u
#define VIRTQ_DESC_F_INDIRECT       4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT  1u
#define VIRTQ_USED_F_NO_NOTIFY      1u

/* Reserved feature bits that concern the ring and the transport. */
#define VIRTIO_F_INDIRECT_DESC      28
#define VIRTIO_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_RESET         40

#define VIRTIO_BIT(b) (1ull << (b))

/* What every device model offers: virtio 1.x, addresses are bus addresses
 * (ACCESS_PLATFORM), per-queue reset, indirect tables and event index. */
#define VMSG_VIRTQ_DEVICE_FEATURES \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | \
     VIRTIO_BIT(VIRTIO_F_RING_RESET) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | \
     VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

/* What the userspace drivers ask for (no indirect tables: they never need
 * chains longer than their queue). */
#define VMSG_VIRTQ_DRIVER_FEATURES \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | \
     VIRTIO_BIT(VIRTIO_F_RING_RESET) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

/* Split ring part sizes in bytes for a queue of n descriptors. */
#define VIRTQ_DESC_SIZE 16u
static inline size_t virtq_desc_bytes(uint32_t n)  { return (size_t)VIRTQ_DESC_SIZE * n; }
static inline size_t virtq_avail_bytes(uint32_t n) { return 6 + (size_t)2 * n; }
static inline size_t virtq_used_bytes(uint32_t n)  { return 6 + (size_t)8 * n; }

/* The largest queue whose three parts each fit one 4 KiB page (the used
 * ring, 6 + 8n bytes, is the limit): the driver side never lets a ring
 * cross a 4 KiB page of the bus (see vmsg_pool.h). */
#define VIRTQ_DRIVER_MAX_SIZE 256u

/* virtio's event-index test: has new_idx passed event_idx since old_idx? */
static inline bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* ======================= device side ===================================== */

/*
 * One popped chain: nread segments the device reads (driver -> device)
 * followed by nwrite segments the device writes, each already mapped and
 * bounds-checked. Zero-length descriptors are dropped from the list.
 * Owned by the caller until vmsg_vq_push() or vmsg_vq_drop().
 */
struct vmsg_vq_elem {
    uint16_t head;              /* descriptor index reported in the used ring */
    uint32_t nread;
    uint32_t nwrite;
    uint32_t read_len;          /* total bytes readable */
    uint32_t write_len;         /* total bytes writable */
    void *opaque;               /* for the model */
    struct vmsg_mapping seg[];  /* nread + nwrite */
};

/*
 * Limits on what a chain may be (documented bounds, not spec constants):
 * - a chain has at most `size` descriptors in total, counting the entries of
 *   its indirect table (virtio 1.x 2.7.5.3.1: no chain longer than the queue
 *   size), so a loop is found as an over-long chain;
 * - an indirect descriptor is allowed only as the head of a chain (it cannot
 *   have NEXT, and Linux and QEMU only ever use it so), its table length is
 *   a non-zero multiple of 16 of at most size * 16 bytes, and its entries
 *   may not be indirect themselves;
 * - readable and writable totals each fit 32 bits (the used ring's len);
 * - at most `size` chains are in flight (popped, not yet pushed or
 *   dropped): one more is a violation ("virtqueue size exceeded").
 */
struct vmsg_vq_dev {
    struct vmsg_bus *bus;
    struct vmsg_device *dev;    /* told on a violation; may be NULL */
    uint32_t index;
    uint16_t size;              /* private copy: the guest cannot change it */
    bool event_idx;
    bool indirect;
    bool broken;                /* atomic: read by push on another thread */
    uint16_t last_avail;        /* next avail ring slot to consume */
    uint16_t used_idx;          /* our copy of used->idx */
    uint16_t signalled_used;    /* used_idx at the last notify decision */
    bool signalled_valid;
    uint32_t inflight;          /* atomic: popped, not yet pushed */
    struct vmsg_mapping desc_map, avail_map, used_map;
    struct vmsg_vq_walk *walk;  /* scratch: size private descriptor copies */
};

/*
 * Map the rings of queue `index` (addresses and size as SET_VQUEUE gave
 * them) and start consuming at the ring's used.idx (0 for a fresh ring; a
 * queue set up again on a ring in use resumes where the last device left
 * it). `features` are the negotiated ones
 * (EVENT_IDX, INDIRECT_DESC matter). 0; -EINVAL for a size that is not a
 * power of two in 1..32768 or misaligned rings; -EFAULT if a ring lies
 * outside shared memory; -ENOMEM.
 */
int vmsg_vq_dev_init(struct vmsg_vq_dev *vq, struct vmsg_bus *bus, struct vmsg_device *dev,
                     uint32_t index, uint32_t size, uint64_t desc_addr, uint64_t driver_addr,
                     uint64_t device_addr, uint64_t features);
/* Unmap the rings. Every popped element must have been pushed or dropped. */
void vmsg_vq_dev_destroy(struct vmsg_vq_dev *vq);

/*
 * Take the next available chain. Returns 1 and *out (free it with push or
 * drop), 0 if nothing is available, -EIO if the queue is broken (now or
 * before: the violation is logged and the device told it needs a reset
 * once), -ENOMEM (mapping resources or memory ran out; nothing consumed).
 * `max_segs` bounds nread + nwrite for this model (0: the queue size); a
 * longer chain is a violation.
 */
int vmsg_vq_pop(struct vmsg_vq_dev *vq, uint32_t max_segs, struct vmsg_vq_elem **out);

/* Return a chain with `written` bytes written (clamped to write_len), unmap
 * and free it. On a broken queue only the unmap and free happen. */
void vmsg_vq_push(struct vmsg_vq_dev *vq, struct vmsg_vq_elem *elem, uint32_t written);
/* Give a chain back unused (reset paths); nothing reaches the used ring. */
void vmsg_vq_drop(struct vmsg_vq_dev *vq, struct vmsg_vq_elem *elem);

/* After pushes: does the driver want EVENT_USED now? (EVENT_IDX used_event,
 * else VIRTQ_AVAIL_F_NO_INTERRUPT.) */
bool vmsg_vq_should_notify(struct vmsg_vq_dev *vq);

/* Ask the driver not to send EVENT_AVAIL while we drain the ring. */
void vmsg_vq_disable_notify(struct vmsg_vq_dev *vq);
/* Ask for EVENT_AVAIL again. Returns true if buffers arrived meanwhile (the
 * caller pops again: the driver may have skipped its kick). */
bool vmsg_vq_enable_notify(struct vmsg_vq_dev *vq);

/* Copy helpers over an element's segments, bounds-checked. They return the
 * bytes copied (short if the chain is shorter). */
size_t vmsg_vq_elem_read(const struct vmsg_vq_elem *e, size_t off, void *buf, size_t len);
size_t vmsg_vq_elem_write(struct vmsg_vq_elem *e, size_t off, const void *buf, size_t len);

static inline bool vmsg_vq_broken(const struct vmsg_vq_dev *vq)
{
    return __atomic_load_n(&vq->broken, __ATOMIC_ACQUIRE);
}

/* ======================= driver side ===================================== */

/* One buffer of a chain: readable ones (device reads) come first. */
struct vmsg_vq_buf {
    uint64_t addr;              /* bus address */
    uint32_t len;
    bool writable;              /* device writes it */
};

struct vmsg_vq_drv_slot {
    void *token;                /* NULL: free */
    uint16_t ndesc;
    uint16_t last;              /* last descriptor of the chain */
    uint32_t write_cap;         /* writable bytes: bound for used len */
};

struct vmsg_vq_drv {
    struct vmsg_bus *bus;
    uint32_t index;
    uint16_t size;
    bool event_idx;
    bool broken;
    uint64_t desc_addr, avail_addr, used_addr;
    uint8_t *desc, *avail, *used;   /* our own pointers from vmsg_bus_alloc */
    uint16_t free_head;
    uint16_t num_free;
    uint16_t avail_idx;         /* our copy of avail->idx */
    uint16_t kicked_idx;        /* avail_idx at the last kick decision */
    uint16_t last_used;
    uint16_t *free_next;        /* private free list: never read back from
                                 * the shared table a device could scribble */
    struct vmsg_vq_drv_slot *slot; /* per head */
};

/*
 * Allocate and zero the rings for a queue of `size` descriptors (a power of
 * two, at most VIRTQ_DRIVER_MAX_SIZE). `features` are the negotiated ones.
 * 0, -EINVAL, -ENOMEM. The caller programs desc_addr/avail_addr/used_addr
 * with SET_VQUEUE.
 */
int vmsg_vq_drv_init(struct vmsg_vq_drv *vq, struct vmsg_bus *bus, uint32_t index,
                     uint32_t size, uint64_t features);
void vmsg_vq_drv_destroy(struct vmsg_vq_drv *vq);

/*
 * Make a chain of n buffers available, readable ones first. `token`
 * (non-NULL) comes back from get_used. 0; -EINVAL (n == 0, token NULL,
 * readable after writable, total writable above 4 GiB); -ENOSPC (not enough
 * free descriptors now); -EIO (queue broken).
 */
int vmsg_vq_drv_add(struct vmsg_vq_drv *vq, const struct vmsg_vq_buf *bufs, unsigned n,
                    void *token);
/* After adds: does the device want EVENT_AVAIL? (EVENT_IDX avail_event,
 * else VIRTQ_USED_F_NO_NOTIFY.) */
bool vmsg_vq_drv_kick_prepare(struct vmsg_vq_drv *vq);
/*
 * Collect one used buffer: 1 with *token and *len, 0 if none, -EIO if the
 * device broke the ring (index run-ahead, id out of range or not in flight,
 * length above what was writable): the queue is marked broken and stays so
 * until reset.
 */
int vmsg_vq_drv_get_used(struct vmsg_vq_drv *vq, void **token, uint32_t *len);
/* Tell the device we want EVENT_USED when the next buffer is used. */
void vmsg_vq_drv_enable_cb(struct vmsg_vq_drv *vq);
static inline unsigned vmsg_vq_drv_num_free(const struct vmsg_vq_drv *vq)
{
    return vq->num_free;
}

#endif
