/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared pool of a bus instance and the DMA ops that
 * give every bus address from it (docs/protocol.md 5.1).
 *
 * Owns: the pool memory (P 4 KiB frames, one virtually contiguous kernel
 * allocation, so a ring may cross a 4 KiB boundary), its grants and the
 * directory pages that list them, and the dma_map_ops set on the bus's
 * xenbus device: the virtio core allocates rings (dma_alloc_coherent) and
 * maps every buffer (dma_map_page) through them whenever the guest is a
 * Xen guest (vring_use_dma_api()). Rings are carved out of the pool;
 * buffers are bounced through pool slots: copied in when mapped for the
 * device, copied back when unmapped for the CPU. The device side (the
 * backend, possibly a compromised driver domain) sees only the pool, never
 * the guest's own pages; what it writes there reaches the guest only as
 * the bytes of a buffer the driver mapped for it, and only as many as the
 * driver mapped.
 *
 * Buffers of at least zero_copy_bytes (0: none) are not bounced: their
 * own frames are granted to the backend for the time of the mapping, and
 * the bus address is a grant address (protocol.md 5.2: bit 63, the first
 * of consecutive references, the offset in its 4 KiB frame). The backend
 * then maps them per request. A grant the backend still holds when the
 * driver unmaps is ended later by Xen's deferred path, which keeps the
 * page until then, so the backend can never reach memory reused by the
 * guest.
 *
 * The memory outlives a connection: after a backend restart the same
 * frames are granted again, so queues and buffers in flight stay where
 * they are (vmsg_pool_grant() after vmsg_pool_ungrant()).
 *
 * Why not Linux's grant-dma-ops: Debian's kernels do not build it
 * (CONFIG_XEN_VIRTIO is not set) and it exports nothing a module could
 * use; see shared/kernel-frontend.md.
 */
#ifndef VMSG_POOL_H
#define VMSG_POOL_H

#include <linux/dma-map-ops.h>
#include <linux/genalloc.h>
#include <xen/grant_table.h>

#define VMSG_POOL_FRAME		4096U		/* grants are 4 KiB on every guest */
#define VMSG_POOL_REFS_PER_DIR	1024U
#define VMSG_POOL_MAX_PAGES	1048576U
#define VMSG_POOL_SLOT_ORDER	6		/* bounce slots: 64-byte granules */
#define VMSG_GRANT_ADDR		BIT_ULL(63)	/* protocol.md 5.2 */
#define VMSG_GRANT_MAX_FRAMES	1024U		/* one grant-addressed buffer: 4 MiB */

struct vmsg_pool {
	void *base;			/* pages * 4 KiB, virtually contiguous */
	u32 pages;
	size_t bytes;
	struct gen_pool *slots;
	phys_addr_t *orig;		/* per granule: where a bounce slot's data belongs */
	void **dir;			/* ndir directory pages */
	u32 ndir;
	grant_ref_t *refs;		/* per frame */
	grant_ref_t *dir_refs;
	bool granted;
	bool leaked;			/* a grant stayed mapped: never free the memory */
	domid_t domid;			/* the backend's, for grant-addressed buffers */
	size_t zero_copy_bytes;		/* buffers this large are granted; 0: never */
	u64 map_failures;		/* no room in the pool: the driver retries */
	u64 grant_failures;		/* no grant references: the driver retries */
	u64 grants_held;		/* grants the backend kept past the unmap */
};

/* Allocate a pool of `pages` 4 KiB frames (nothing granted); buffers of
 * zero_copy_bytes or more (0: none) go as grant addresses. 0 or -errno.
 */
int vmsg_pool_create(struct vmsg_pool *pool, u32 pages, size_t zero_copy_bytes);
/* Free it; memory whose grant could not be ended is kept (leaked). */
void vmsg_pool_destroy(struct vmsg_pool *pool);

/* Grant every frame and the directory pages to `domid`. 0 or -errno. */
int vmsg_pool_grant(struct vmsg_pool *pool, domid_t domid);
/*
 * End every grant, waiting up to timeout_ms for the other end to unmap.
 * 0, or -EBUSY if a grant is still mapped (then pool->leaked is set and
 * the memory is never freed).
 */
int vmsg_pool_ungrant(struct vmsg_pool *pool, unsigned int timeout_ms);

/*
 * The DMA ops of a bus device: `dev`'s driver data must point at a
 * structure that starts with its struct vmsg_pool.
 */
extern const struct dma_map_ops vmsg_pool_dma_ops;

/* End one grant, waiting for the other end to unmap; false if it did not. */
bool vmsg_end_grant(grant_ref_t ref, unsigned int timeout_ms);

#endif
