// SPDX-License-Identifier: GPL-2.0
/*
 * The granted pool and its bounce DMA ops. See vmsg_pool.h.
 */
#include <linux/delay.h>
#include <linux/dma-direction.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <xen/page.h>

#include "vmsg_pool.h"

/* The largest single mapping: a blk segment or a net buffer fits. */
#define VMSG_POOL_MAX_MAPPING	(256 * 1024)

static struct vmsg_pool *dev_pool(struct device *dev)
{
	return dev_get_drvdata(dev);
}

int vmsg_pool_create(struct vmsg_pool *pool, u32 pages, size_t zero_copy_bytes)
{
	u32 i;

	memset(pool, 0, sizeof(*pool));
	if (!pages || pages > VMSG_POOL_MAX_PAGES)
		return -EINVAL;
	pool->pages = pages;
	pool->zero_copy_bytes = zero_copy_bytes;
	pool->bytes = (size_t)pages * VMSG_POOL_FRAME;
	pool->ndir = DIV_ROUND_UP(pages, VMSG_POOL_REFS_PER_DIR);
	pool->base = vzalloc(PAGE_ALIGN(pool->bytes));
	pool->orig = vzalloc((pool->bytes >> VMSG_POOL_SLOT_ORDER) * sizeof(*pool->orig));
	pool->refs = kvcalloc(pages, sizeof(*pool->refs), GFP_KERNEL);
	pool->dir_refs = kcalloc(pool->ndir, sizeof(*pool->dir_refs), GFP_KERNEL);
	pool->dir = kcalloc(pool->ndir, sizeof(*pool->dir), GFP_KERNEL);
	pool->slots = gen_pool_create(VMSG_POOL_SLOT_ORDER, -1);
	if (!pool->base || !pool->orig || !pool->refs || !pool->dir_refs || !pool->dir ||
	    !pool->slots)
		goto err;
	for (i = 0; i < pool->ndir; i++) {
		pool->dir[i] = (void *)get_zeroed_page(GFP_KERNEL);
		if (!pool->dir[i])
			goto err;
	}
	/* The "physical" address of a slot is its pool address. */
	if (gen_pool_add_virt(pool->slots, (unsigned long)pool->base, 0, pool->bytes, -1))
		goto err;
	return 0;
err:
	vmsg_pool_destroy(pool);
	return -ENOMEM;
}

void vmsg_pool_destroy(struct vmsg_pool *pool)
{
	u32 i;

	if (pool->granted)
		vmsg_pool_ungrant(pool, 0);
	if (pool->slots) {
		/* Only in use if a driver leaked a mapping: keep quiet then. */
		if (gen_pool_avail(pool->slots) == gen_pool_size(pool->slots))
			gen_pool_destroy(pool->slots);
	}
	if (!pool->leaked) {
		vfree(pool->base);
		for (i = 0; pool->dir && i < pool->ndir; i++)
			free_page((unsigned long)pool->dir[i]);
	}
	vfree(pool->orig);
	kvfree(pool->refs);
	kfree(pool->dir_refs);
	kfree(pool->dir);
	memset(pool, 0, sizeof(*pool));
}

/* The guest frame of 4 KiB frame i of the pool (a kernel page may hold
 * several: 16 KiB and 64 KiB page kernels).
 */
static unsigned long pool_frame_gfn(struct vmsg_pool *pool, u32 i)
{
	size_t off = (size_t)i * VMSG_POOL_FRAME;
	struct page *page = vmalloc_to_page(pool->base + off);

	return pfn_to_gfn(page_to_xen_pfn(page) + (off % PAGE_SIZE) / XEN_PAGE_SIZE);
}

bool vmsg_end_grant(grant_ref_t ref, unsigned int timeout_ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);

	for (;;) {
		if (gnttab_try_end_foreign_access(ref))
			return true;
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(10000, 20000);
	}
}

int vmsg_pool_grant(struct vmsg_pool *pool, domid_t domid)
{
	u32 i, granted = 0, dirs = 0;
	int ref;

	pool->domid = domid;
	for (i = 0; i < pool->ndir; i++)
		memset(pool->dir[i], 0, VMSG_POOL_FRAME);
	for (; granted < pool->pages; granted++) {
		ref = gnttab_grant_foreign_access(domid, pool_frame_gfn(pool, granted), 0);
		if (ref < 0)
			goto err;
		pool->refs[granted] = ref;
		((__le32 *)pool->dir[granted / VMSG_POOL_REFS_PER_DIR])
			[granted % VMSG_POOL_REFS_PER_DIR] = cpu_to_le32(ref);
	}
	for (; dirs < pool->ndir; dirs++) {
		ref = gnttab_grant_foreign_access(domid, virt_to_gfn(pool->dir[dirs]), 1);
		if (ref < 0)
			goto err;
		pool->dir_refs[dirs] = ref;
	}
	pool->granted = true;
	return 0;
err:
	/* Nobody knows these references yet: ending them cannot wait. */
	while (dirs--)
		gnttab_end_foreign_access(pool->dir_refs[dirs], NULL);
	while (granted--)
		gnttab_end_foreign_access(pool->refs[granted], NULL);
	return ref;
}

int vmsg_pool_ungrant(struct vmsg_pool *pool, unsigned int timeout_ms)
{
	u32 i;
	bool ok = true;

	if (!pool->granted)
		return 0;
	for (i = 0; i < pool->ndir; i++) {
		if (vmsg_end_grant(pool->dir_refs[i], timeout_ms))
			continue;
		ok = false;
		gnttab_end_foreign_access(pool->dir_refs[i], NULL);
	}
	for (i = 0; i < pool->pages; i++) {
		/* The first one waited for the unmap of all of them. */
		if (vmsg_end_grant(pool->refs[i], ok ? timeout_ms : 0))
			continue;
		ok = false;
		/* Still mapped: Xen ends it when it is unmapped; we keep the page. */
		gnttab_end_foreign_access(pool->refs[i], NULL);
	}
	pool->granted = false;
	if (!ok) {
		pool->leaked = true;
		return -EBUSY;
	}
	return 0;
}

/* ---- DMA ops ------------------------------------------------------------- */

static bool pool_range_ok(struct vmsg_pool *pool, dma_addr_t addr, size_t size)
{
	return addr < pool->bytes && size <= pool->bytes - addr;
}

static void *vmsg_dma_alloc(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp,
			    unsigned long attrs)
{
	struct vmsg_pool *pool = dev_pool(dev);
	struct genpool_data_align align = { .align = VMSG_POOL_FRAME };
	unsigned long va;

	/* Rings start on a frame, as every split-ring alignment wants. */
	va = gen_pool_alloc_algo(pool->slots, size, gen_pool_first_fit_align, &align);
	if (!va)
		return NULL;
	memset((void *)va, 0, size);
	*dma_handle = va - (unsigned long)pool->base;
	return (void *)va;
}

static void vmsg_dma_free(struct device *dev, size_t size, void *vaddr, dma_addr_t dma_handle,
			  unsigned long attrs)
{
	struct vmsg_pool *pool = dev_pool(dev);

	if (WARN_ON_ONCE(!pool_range_ok(pool, dma_handle, size)))
		return;
	gen_pool_free(pool->slots, (unsigned long)vaddr, size);
}

/* ---- grant-addressed buffers (zero copy) ------------------------------------ */

static bool is_grant_addr(dma_addr_t addr)
{
	return addr & VMSG_GRANT_ADDR;
}

static dma_addr_t grant_map(struct vmsg_pool *pool, phys_addr_t phys, size_t size,
			    enum dma_data_direction dir)
{
	unsigned long first = XEN_PFN_DOWN(phys);
	unsigned int n = XEN_PFN_DOWN(phys + size - 1) - first + 1, i;
	grant_ref_t ref;

	if (n > VMSG_GRANT_MAX_FRAMES || gnttab_alloc_grant_reference_seq(n, &ref)) {
		pool->grant_failures++;
		return DMA_MAPPING_ERROR;
	}
	/* Consecutive references, one a 4 KiB frame, as 5.2 wants. */
	for (i = 0; i < n; i++)
		gnttab_grant_foreign_access_ref(ref + i, pool->domid, pfn_to_gfn(first + i),
						dir == DMA_TO_DEVICE);
	return VMSG_GRANT_ADDR | (dma_addr_t)ref << XEN_PAGE_SHIFT | (phys & ~XEN_PAGE_MASK);
}

static void grant_unmap(struct vmsg_pool *pool, dma_addr_t addr, size_t size)
{
	grant_ref_t ref = (addr & ~VMSG_GRANT_ADDR) >> XEN_PAGE_SHIFT;
	unsigned int n = XEN_PFN_UP((addr & ~XEN_PAGE_MASK) + size), i;

	for (i = 0; i < n; i++) {
		if (gnttab_end_foreign_access_ref(ref + i)) {
			gnttab_free_grant_reference(ref + i);
			continue;
		}
		/* Still mapped: Xen's deferred path keeps the page until the
		 * backend lets go, then frees the reference.
		 */
		pool->grants_held++;
		gnttab_end_foreign_access(ref + i, NULL);
	}
}

/* ---- bounced buffers ---------------------------------------------------------- */

static void bounce(struct vmsg_pool *pool, dma_addr_t addr, size_t size, bool to_device)
{
	void *orig = phys_to_virt(pool->orig[addr >> VMSG_POOL_SLOT_ORDER]);

	if (to_device)
		memcpy(pool->base + addr, orig, size);
	else
		memcpy(orig, pool->base + addr, size);
}

static dma_addr_t vmsg_dma_map_page(struct device *dev, struct page *page, unsigned long offset,
				    size_t size, enum dma_data_direction dir, unsigned long attrs)
{
	struct vmsg_pool *pool = dev_pool(dev);
	unsigned long va;
	dma_addr_t addr;

	if (size > VMSG_POOL_MAX_MAPPING)
		return DMA_MAPPING_ERROR;
	if (pool->zero_copy_bytes && size >= pool->zero_copy_bytes)
		return grant_map(pool, page_to_phys(page) + offset, size, dir);
	va = gen_pool_alloc(pool->slots, size);
	if (!va) {
		pool->map_failures++;
		return DMA_MAPPING_ERROR;
	}
	addr = va - (unsigned long)pool->base;
	pool->orig[addr >> VMSG_POOL_SLOT_ORDER] = page_to_phys(page) + offset;
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(pool, addr, size, true);
	return addr;
}

static void vmsg_dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
				enum dma_data_direction dir, unsigned long attrs)
{
	struct vmsg_pool *pool = dev_pool(dev);

	if (is_grant_addr(addr)) {
		grant_unmap(pool, addr, size);
		return;
	}
	if (WARN_ON_ONCE(!pool_range_ok(pool, addr, size)))
		return;
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(pool, addr, size, false);
	gen_pool_free(pool->slots, (unsigned long)pool->base + addr, size);
}

static void vmsg_dma_sync_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
				  enum dma_data_direction dir)
{
	struct vmsg_pool *pool = dev_pool(dev);

	if (pool_range_ok(pool, addr, size) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(pool, addr, size, false);
}

static void vmsg_dma_sync_for_device(struct device *dev, dma_addr_t addr, size_t size,
				     enum dma_data_direction dir)
{
	struct vmsg_pool *pool = dev_pool(dev);

	if (pool_range_ok(pool, addr, size) &&
	    (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(pool, addr, size, true);
}

static void vmsg_dma_unmap_sg(struct device *dev, struct scatterlist *sgl, int nents,
			      enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vmsg_dma_unmap_page(dev, sg->dma_address, sg_dma_len(sg), dir, attrs);
}

static int vmsg_dma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
			   enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = vmsg_dma_map_page(dev, sg_page(sg), sg->offset, sg->length,
						    dir, attrs);
		if (sg->dma_address == DMA_MAPPING_ERROR) {
			vmsg_dma_unmap_sg(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
			return -ENOMEM;
		}
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

static size_t vmsg_dma_max_mapping_size(struct device *dev)
{
	return VMSG_POOL_MAX_MAPPING;
}

static int vmsg_dma_supported(struct device *dev, u64 mask)
{
	return 1;
}

const struct dma_map_ops vmsg_pool_dma_ops = {
	.alloc = vmsg_dma_alloc,
	.free = vmsg_dma_free,
	.map_page = vmsg_dma_map_page,
	.unmap_page = vmsg_dma_unmap_page,
	.map_sg = vmsg_dma_map_sg,
	.unmap_sg = vmsg_dma_unmap_sg,
	.sync_single_for_cpu = vmsg_dma_sync_for_cpu,
	.sync_single_for_device = vmsg_dma_sync_for_device,
	.max_mapping_size = vmsg_dma_max_mapping_size,
	.dma_supported = vmsg_dma_supported,
};
