/*
 * lib/transport/vmsg_pool.c: first-fit allocator over a bus memory region,
 * one bit per 64-byte unit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/vmsg_pool.h"

static inline bool unit_used(const struct vmsg_pool *p, size_t u)
{
    return p->used[u / 64] >> (u % 64) & 1;
}

static inline void unit_set(struct vmsg_pool *p, size_t u, bool used)
{
    if (used)
        p->used[u / 64] |= 1ull << (u % 64);
    else
        p->used[u / 64] &= ~(1ull << (u % 64));
}

int vmsg_pool_init(struct vmsg_pool *p, void *base, uint64_t base_addr, size_t size)
{
    memset(p, 0, sizeof(*p));
    if (!base || size == 0 || size % VMSG_POOL_PAGE)
        return -EINVAL;
    p->units = size / VMSG_POOL_UNIT;
    p->used = calloc((p->units + 63) / 64, sizeof(uint64_t));
    if (!p->used)
        return -ENOMEM;
    p->base = base;
    p->base_addr = base_addr;
    p->size = size;
    return 0;
}

void vmsg_pool_destroy(struct vmsg_pool *p)
{
    free(p->used);
    memset(p, 0, sizeof(*p));
}

static bool range_free(const struct vmsg_pool *p, size_t first, size_t n)
{
    for (size_t u = first; u < first + n; u++)
        if (unit_used(p, u))
            return false;
    return true;
}

int vmsg_pool_alloc(struct vmsg_pool *p, size_t len, size_t align, uint64_t *addr, void **ptr)
{
    if (len == 0 || align == 0 || (align & (align - 1)) || align > VMSG_POOL_PAGE)
        return -EINVAL;
    if (len > p->size)
        return -ENOMEM;
    size_t n = (len + VMSG_POOL_UNIT - 1) / VMSG_POOL_UNIT;
    size_t step = align <= VMSG_POOL_UNIT ? 1 : align / VMSG_POOL_UNIT;
    const size_t units_per_page = VMSG_POOL_PAGE / VMSG_POOL_UNIT;
    if (len > VMSG_POOL_PAGE)
        step = units_per_page;

    for (size_t first = 0; first + n <= p->units; first += step) {
        /* Small allocations stay inside one 4 KiB page (see header). */
        if (len <= VMSG_POOL_PAGE && first / units_per_page != (first + n - 1) / units_per_page)
            continue;
        if (!range_free(p, first, n))
            continue;
        for (size_t u = first; u < first + n; u++)
            unit_set(p, u, true);
        p->in_use += n * VMSG_POOL_UNIT;
        *addr = p->base_addr + first * VMSG_POOL_UNIT;
        *ptr = p->base + first * VMSG_POOL_UNIT;
        return 0;
    }
    return -ENOMEM;
}

void vmsg_pool_free(struct vmsg_pool *p, uint64_t addr, size_t len)
{
    if (addr < p->base_addr || len == 0)
        return;
    size_t first = (size_t)(addr - p->base_addr) / VMSG_POOL_UNIT;
    size_t n = (len + VMSG_POOL_UNIT - 1) / VMSG_POOL_UNIT;
    if (first + n > p->units)
        return;
    for (size_t u = first; u < first + n; u++)
        unit_set(p, u, false);
    p->in_use -= n * VMSG_POOL_UNIT;
}
