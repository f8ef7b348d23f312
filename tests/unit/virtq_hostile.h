/*
 * tests/unit/virtq_hostile.h: rings a hostile driver could write, one case
 * per rule of the device-side chain walker. Shared by test-virtq (walker on
 * its own) and test-devices (the same rings through the loopback bus, where
 * each must leave the device in DEVICE_NEEDS_RESET).
 *
 * A case writes raw descriptors into the ring of a driver-side queue, past
 * the driver's bookkeeping, exactly as a malicious guest would.
 */
#ifndef VIRTQ_HOSTILE_H
#define VIRTQ_HOSTILE_H

#include <endian.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "virtq/vmsg_virtq.h"

struct hostile_ring {
    uint8_t *desc;          /* the queue's descriptor table */
    uint8_t *avail;         /* its available ring */
    uint16_t size;
    uint64_t buf_addr;      /* a valid 4 KiB buffer */
    uint8_t *ind;           /* a valid 4 KiB scratch area for tables ... */
    uint64_t ind_addr;      /* ... and its bus address */
    uint64_t mem_size;      /* bytes of shared memory: first invalid address */
    uint16_t head;          /* what the case puts in the avail ring */
    uint16_t idx_ahead;     /* 0: publish one entry; else avail->idx += this */
};

static inline void hostile_desc(uint8_t *table, unsigned i, uint64_t addr, uint32_t len,
                                uint16_t flags, uint16_t next)
{
    uint8_t *d = table + (size_t)i * VIRTQ_DESC_SIZE;
    vmsg_put_le64(d, addr);
    vmsg_put_le32(d + 8, len);
    vmsg_put_le16(d + 12, flags);
    vmsg_put_le16(d + 14, next);
}

static void hc_idx_runahead(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->buf_addr, 64, VIRTQ_DESC_F_WRITE, 0);
    r->idx_ahead = (uint16_t)(r->size + 1);
}

static void hc_bad_head(struct hostile_ring *r)
{
    r->head = r->size;
}

static void hc_bad_next(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->buf_addr, 64, VIRTQ_DESC_F_NEXT, r->size);
}

static void hc_loop(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->buf_addr, 64, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    hostile_desc(r->desc, 1, r->buf_addr, 64, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
}

static void hc_readable_after_writable(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->buf_addr, 64, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    hostile_desc(r->desc, 1, r->buf_addr + 64, 64, 0, 0);
}

static void hc_outside_memory(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->mem_size - 16, 64, VIRTQ_DESC_F_WRITE, 0);
}

static void hc_address_wraps(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, UINT64_MAX - 15, 64, VIRTQ_DESC_F_WRITE, 0);
}

static void hc_length_overflow(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->buf_addr, UINT32_MAX, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    hostile_desc(r->desc, 1, r->buf_addr, UINT32_MAX, VIRTQ_DESC_F_WRITE, 0);
}

static void hc_indirect_len_zero(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->ind_addr, 0, VIRTQ_DESC_F_INDIRECT, 0);
}

static void hc_indirect_len_not_multiple(struct hostile_ring *r)
{
    hostile_desc(r->ind, 0, r->buf_addr, 64, VIRTQ_DESC_F_WRITE, 0);
    hostile_desc(r->desc, 0, r->ind_addr, 24, VIRTQ_DESC_F_INDIRECT, 0);
}

static void hc_indirect_too_big(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->ind_addr, (uint32_t)(r->size + 1) * VIRTQ_DESC_SIZE,
                 VIRTQ_DESC_F_INDIRECT, 0);
}

static void hc_indirect_nested(struct hostile_ring *r)
{
    hostile_desc(r->ind, 0, r->ind_addr + 256, 16, VIRTQ_DESC_F_INDIRECT, 0);
    hostile_desc(r->ind + 256, 0, r->buf_addr, 64, VIRTQ_DESC_F_WRITE, 0);
    hostile_desc(r->desc, 0, r->ind_addr, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

static void hc_indirect_with_next(struct hostile_ring *r)
{
    hostile_desc(r->ind, 0, r->buf_addr, 64, VIRTQ_DESC_F_WRITE, 0);
    hostile_desc(r->desc, 0, r->ind_addr, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    hostile_desc(r->desc, 1, r->buf_addr, 64, VIRTQ_DESC_F_WRITE, 0);
}

static void hc_indirect_loop(struct hostile_ring *r)
{
    hostile_desc(r->ind, 0, r->buf_addr, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    hostile_desc(r->ind, 1, r->buf_addr, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    hostile_desc(r->desc, 0, r->ind_addr, 32, VIRTQ_DESC_F_INDIRECT, 0);
}

static void hc_indirect_bad_next(struct hostile_ring *r)
{
    hostile_desc(r->ind, 0, r->buf_addr, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    hostile_desc(r->desc, 0, r->ind_addr, 32, VIRTQ_DESC_F_INDIRECT, 0);
}

static void hc_indirect_outside_memory(struct hostile_ring *r)
{
    hostile_desc(r->desc, 0, r->mem_size - 16, 64, VIRTQ_DESC_F_INDIRECT, 0);
}

static void hc_indirect_not_head(struct hostile_ring *r)
{
    hostile_desc(r->ind, 0, r->buf_addr, 64, VIRTQ_DESC_F_WRITE, 0);
    hostile_desc(r->desc, 0, r->buf_addr, 64, VIRTQ_DESC_F_NEXT, 1);
    hostile_desc(r->desc, 1, r->ind_addr, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

struct hostile_case {
    const char *name;
    void (*build)(struct hostile_ring *r);
};

static const struct hostile_case hostile_cases[] = {
    { "avail index runs ahead", hc_idx_runahead },
    { "head descriptor index out of range", hc_bad_head },
    { "next descriptor index out of range", hc_bad_next },
    { "descriptor loop", hc_loop },
    { "readable after writable", hc_readable_after_writable },
    { "buffer outside shared memory", hc_outside_memory },
    { "buffer address wraps", hc_address_wraps },
    { "chain length overflows 32 bits", hc_length_overflow },
    { "indirect table of length 0", hc_indirect_len_zero },
    { "indirect table length not a multiple of 16", hc_indirect_len_not_multiple },
    { "indirect table longer than the queue", hc_indirect_too_big },
    { "nested indirect", hc_indirect_nested },
    { "indirect with NEXT", hc_indirect_with_next },
    { "loop inside an indirect table", hc_indirect_loop },
    { "indirect next out of range", hc_indirect_bad_next },
    { "indirect table outside shared memory", hc_indirect_outside_memory },
    { "indirect descriptor not at the head", hc_indirect_not_head },
};

#define HOSTILE_NCASES (sizeof(hostile_cases) / sizeof(hostile_cases[0]))

/* Write case `c` into the ring and publish it. `avail_idx` is the driver's
 * current avail index (the new entry goes there). */
static inline void hostile_publish(struct hostile_ring *r, const struct hostile_case *c,
                                   uint16_t avail_idx)
{
    r->head = 0;
    r->idx_ahead = 0;
    c->build(r);
    vmsg_put_le16(r->avail + 4 + 2 * (size_t)(avail_idx & (r->size - 1)), r->head);
    uint16_t idx = (uint16_t)(avail_idx + (r->idx_ahead ? r->idx_ahead : 1));
    __atomic_store_n((uint16_t *)(void *)(r->avail + 2), htole16(idx), __ATOMIC_RELEASE);
}

#endif
