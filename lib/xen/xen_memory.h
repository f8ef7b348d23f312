/*
 * lib/xen/xen_memory.h: what a bus address means on the Xen bus
 * (docs/protocol.md section 5).
 *
 * Owns:
 * - the pool directory format (pages of le32 grant refs, 1024 per page);
 * - the frontend's granted pool (struct vmsg_xen_fpool): P pool pages and
 *   ceil(P/1024) directory pages shared with the backend, and the driver-
 *   side allocator (struct vmsg_pool) over them, bus address = pool offset;
 * - the backend's view (struct vmsg_xen_bmem): the whole pool mapped once,
 *   contiguously, at connect; grant-encoded addresses (bit 63) mapped per
 *   request in one batch and unmapped on completion; every address and
 *   length bounds-checked (-EFAULT, never a partial mapping).
 *
 * Platform calls go through `plat_lock` (shared with the channel of the
 * same bus end). vmsg_xen_bmem_map()/unmap() may be called from several
 * threads.
 */
#ifndef VMSG_XEN_MEMORY_H
#define VMSG_XEN_MEMORY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "transport/vmsg_bus.h"
#include "transport/vmsg_pool.h"
#include "xen/platform.h"
#include "xen/xen_schema.h"

/* Bit 63: a grant address (section 5.2); bits 62..44 must be 0. */
#define VMSG_XEN_ADDR_GRANT (1ull << 63)
#define VMSG_XEN_ADDR_RESERVED 0x7ffff00000000000ull
/* The most pages one grant-addressed buffer may span (4 MiB): a bound on
 * what one request can make the backend map. */
#define VMSG_XEN_GRANT_MAP_MAX_PAGES 1024u

/* Directory pages for P pool pages: ceil(P / 1024). */
unsigned vmsg_xen_pool_dir_pages(uint32_t pool_pages);

/*
 * Write the refs of `pool_pages` pages into directory pages at `dir`
 * (vmsg_xen_pool_dir_pages() * 4096 bytes), little-endian, unused entries 0.
 */
void vmsg_xen_pool_dir_write(void *dir, const uint32_t *refs, uint32_t pool_pages);

/* Copy `pool_pages` refs out of mapped directory pages (read once). */
void vmsg_xen_pool_dir_read(const void *dir, uint32_t pool_pages, uint32_t *refs);

/* A decoded bus address range. */
struct vmsg_xen_addr {
    bool grant;
    uint64_t offset;    /* pool: byte offset; grant: offset in the first page */
    uint32_t gref;      /* grant: first grant reference */
    uint32_t npages;    /* grant: pages spanned (0 for len 0) */
};

/*
 * Decode [addr, addr+len) against a pool of `pool_size` bytes. Returns 0,
 * or -EFAULT: a pool range past the pool (or overflowing), reserved bits
 * set, a grant range whose refs would pass 2^32 - 1 or that spans more than
 * VMSG_XEN_GRANT_MAP_MAX_PAGES pages.
 */
int vmsg_xen_addr_decode(uint64_t addr, uint64_t len, uint64_t pool_size,
                         struct vmsg_xen_addr *out);

/* ---- frontend: the granted pool --------------------------------------------- */

struct vmsg_xen_fpool {
    struct vmsg_platform *plat;
    pthread_mutex_t *plat_lock;
    uint8_t *pages;             /* P pages, contiguous on our side */
    uint32_t npages;
    void *dir;
    unsigned ndir;
    uint32_t dir_refs[VMSG_XEN_MAX_DIR_PAGES];
    struct vmsg_pool alloc;     /* bus address 0 = first pool byte */
};

/*
 * Share `pages` pool pages (writable) and their directory pages
 * (read-only) with `be_domid`, fill the directory and set up the allocator.
 * Returns 0 (fp->dir_refs[0..ndir) are what F publishes) or -errno
 * (-EINVAL: pages 0 or above 1048576); nothing left shared on failure.
 */
int vmsg_xen_fpool_open(struct vmsg_xen_fpool *fp, struct vmsg_platform *plat,
                        pthread_mutex_t *plat_lock, uint32_t be_domid, uint32_t pages);

/* Stop sharing everything. Idempotent. */
void vmsg_xen_fpool_close(struct vmsg_xen_fpool *fp);

/* ---- backend: the mapped pool and grant mappings ----------------------------- */

struct vmsg_xen_gmap;           /* one live grant mapping (xen_memory.c) */

struct vmsg_xen_bmem {
    struct vmsg_platform *plat;
    pthread_mutex_t *plat_lock;
    pthread_mutex_t lock;       /* the list of grant mappings */
    uint32_t fe_domid;
    uint8_t *pool;              /* P pages, mapped contiguously */
    uint32_t npages;
    uint64_t pool_size;
    struct vmsg_xen_gmap *gmaps;
    unsigned live_gmaps;
};

/*
 * At connect: map the `ndir` directory pages (read-only, one batch), copy
 * the refs privately, unmap the directory, then map all `pages` pool pages
 * writable as one range. Returns 0 or -errno (-EINVAL: ndir does not match
 * pages; a grant the frontend did not give us: the platform's error).
 */
int vmsg_xen_bmem_open(struct vmsg_xen_bmem *bm, struct vmsg_platform *plat,
                       pthread_mutex_t *plat_lock, uint32_t fe_domid, uint32_t pages,
                       const uint32_t *dir_refs, unsigned ndir);

/*
 * Translate [addr, addr+len) for the device side (vmsg_bus_ops.map):
 * a pool range points into the pool mapping; a grant range is mapped now
 * (read-only unless `writable`) in one batch. Returns 0 and *out, -EFAULT
 * (outside what the peer shared, reserved bits, a ref not granted to us or
 * granted read-only for a writable map), -ENOMEM (out of memory or mapping
 * resources).
 */
int vmsg_xen_bmem_map(struct vmsg_xen_bmem *bm, uint64_t addr, uint64_t len, bool writable,
                      struct vmsg_mapping *out);

/* Release a translation; a grant mapping is unmapped. A mapping that
 * vmsg_xen_bmem_close() already released is ignored. */
void vmsg_xen_bmem_unmap(struct vmsg_xen_bmem *bm, struct vmsg_mapping *m);

/* Unmap every grant mapping still live (logged: a device leaked it) and
 * the pool. Idempotent. */
void vmsg_xen_bmem_close(struct vmsg_xen_bmem *bm);

#endif
