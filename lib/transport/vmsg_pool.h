/*
 * lib/transport/vmsg_pool.h: the driver side's allocator for bus memory.
 *
 * Owns: handing out byte ranges of a region the device can reach (the
 * loopback region, or the Xen bus's granted pool) in 64-byte units. An
 * allocation of at most 4 KiB never crosses a 4 KiB boundary, because a
 * Xen guest with 16K or 64K pages grants only 4 KiB of each page, so
 * neighbouring pool pages need not be contiguous on the guest's side.
 * Larger allocations start on a 4 KiB boundary and are only valid where the
 * region is contiguous locally (the loopback, a 4K-page guest).
 * Not thread-safe: one bus instance, one thread.
 */
#ifndef VMSG_POOL_H
#define VMSG_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMSG_POOL_UNIT 64u
#define VMSG_POOL_PAGE 4096u

struct vmsg_pool {
    uint8_t *base;          /* local address of bus address base_addr */
    uint64_t base_addr;
    size_t size;            /* multiple of VMSG_POOL_PAGE */
    uint64_t *used;         /* one bit per unit */
    size_t units;
    size_t in_use;          /* bytes */
};

int vmsg_pool_init(struct vmsg_pool *p, void *base, uint64_t base_addr, size_t size);
void vmsg_pool_destroy(struct vmsg_pool *p);
/* 0 and *addr, *ptr filled, or -ENOMEM / -EINVAL (align not a power of two <= 4096). */
int vmsg_pool_alloc(struct vmsg_pool *p, size_t len, size_t align, uint64_t *addr, void **ptr);
void vmsg_pool_free(struct vmsg_pool *p, uint64_t addr, size_t len);

#endif
