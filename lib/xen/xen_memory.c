/*
 * lib/xen/xen_memory.c: the pool and grant-encoded addresses (see
 * xen_memory.h).
 */
#include "config.h"

#include "xen/xen_memory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "util/vmsg_log.h"

#define PAGE VMSG_XEN_PAGE_SIZE

/* Mapping ids are unique for the life of the process, so a stale cookie
 * from before a reconnect can never name a new mapping. */
static uint64_t next_gmap_id;

struct vmsg_xen_gmap {
    struct vmsg_xen_gmap *next;
    uint64_t id;                /* what the caller's cookie names */
    void *area;
    unsigned npages;
};

unsigned vmsg_xen_pool_dir_pages(uint32_t pool_pages)
{
    return (unsigned)(((uint64_t)pool_pages + VMSG_XEN_REFS_PER_DIR_PAGE - 1) /
                      VMSG_XEN_REFS_PER_DIR_PAGE);
}

void vmsg_xen_pool_dir_write(void *dir, const uint32_t *refs, uint32_t pool_pages)
{
    uint8_t *d = dir;

    memset(d, 0, (size_t)vmsg_xen_pool_dir_pages(pool_pages) * PAGE);
    for (uint32_t i = 0; i < pool_pages; i++)
        vmsg_put_le32(d + (size_t)i * 4, refs[i]);
}

void vmsg_xen_pool_dir_read(const void *dir, uint32_t pool_pages, uint32_t *refs)
{
    const uint8_t *d = dir;

    for (uint32_t i = 0; i < pool_pages; i++)
        refs[i] = vmsg_get_le32(d + (size_t)i * 4);
}

int vmsg_xen_addr_decode(uint64_t addr, uint64_t len, uint64_t pool_size,
                         struct vmsg_xen_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!(addr & VMSG_XEN_ADDR_GRANT)) {
        /* Written so that neither side can overflow: addr <= size first. */
        if (addr > pool_size || len > pool_size - addr)
            return -EFAULT;
        out->offset = addr;
        return 0;
    }
    if (addr & VMSG_XEN_ADDR_RESERVED)
        return -EFAULT;
    out->grant = true;
    out->gref = (uint32_t)(addr >> 12);
    out->offset = addr & (PAGE - 1);
    if (len > (uint64_t)VMSG_XEN_GRANT_MAP_MAX_PAGES * PAGE)
        return -EFAULT;
    out->npages = (uint32_t)((out->offset + len + PAGE - 1) / PAGE);
    if (len == 0)
        out->npages = 0;
    /* The buffer spans refs gref .. gref + npages - 1, all 32-bit. */
    if (out->npages && (uint64_t)out->gref + out->npages - 1 > UINT32_MAX)
        return -EFAULT;
    if (out->npages > VMSG_XEN_GRANT_MAP_MAX_PAGES)
        return -EFAULT;
    return 0;
}

/* ---- frontend ----------------------------------------------------------------- */

int vmsg_xen_fpool_open(struct vmsg_xen_fpool *fp, struct vmsg_platform *plat,
                        pthread_mutex_t *plat_lock, uint32_t be_domid, uint32_t pages)
{
    uint32_t *refs;
    void *area = NULL;
    int rc;

    memset(fp, 0, sizeof(*fp));
    if (pages == 0 || pages > VMSG_XEN_POOL_PAGES_LIMIT)
        return -EINVAL;
    refs = malloc((size_t)pages * sizeof(*refs));
    if (!refs)
        return -ENOMEM;
    fp->plat = plat;
    fp->plat_lock = plat_lock;
    fp->ndir = vmsg_xen_pool_dir_pages(pages);
    pthread_mutex_lock(plat_lock);
    rc = vmsg_plat_gntshr_share(plat, be_domid, pages, true, VMSG_NOTIFY_NONE, VMSG_NOTIFY_NONE,
                                refs, &area);
    if (rc) {
        vmsg_err("pool for dom%u: sharing %u pages: %s", be_domid, pages,
                 vmsg_plat_last_error(plat));
        goto err_unlock;
    }
    fp->pages = area;
    fp->npages = pages;
    /* The backend only reads the directory: grant it read-only. */
    rc = vmsg_plat_gntshr_share(plat, be_domid, fp->ndir, false, VMSG_NOTIFY_NONE,
                                VMSG_NOTIFY_NONE, fp->dir_refs, &fp->dir);
    if (rc) {
        vmsg_err("pool for dom%u: sharing %u directory pages: %s", be_domid, fp->ndir,
                 vmsg_plat_last_error(plat));
        goto err_pages;
    }
    pthread_mutex_unlock(plat_lock);
    vmsg_xen_pool_dir_write(fp->dir, refs, pages);
    rc = vmsg_pool_init(&fp->alloc, fp->pages, 0, (size_t)pages * PAGE);
    if (rc) {
        pthread_mutex_lock(plat_lock);
        goto err_dir;
    }
    free(refs);
    return 0;

err_dir:
    vmsg_plat_gntshr_unshare(plat, fp->dir, fp->ndir);
err_pages:
    vmsg_plat_gntshr_unshare(plat, fp->pages, pages);
err_unlock:
    pthread_mutex_unlock(plat_lock);
    free(refs);
    memset(fp, 0, sizeof(*fp));
    return rc;
}

void vmsg_xen_fpool_close(struct vmsg_xen_fpool *fp)
{
    if (!fp->pages)
        return;
    vmsg_pool_destroy(&fp->alloc);
    pthread_mutex_lock(fp->plat_lock);
    vmsg_plat_gntshr_unshare(fp->plat, fp->dir, fp->ndir);
    vmsg_plat_gntshr_unshare(fp->plat, fp->pages, fp->npages);
    pthread_mutex_unlock(fp->plat_lock);
    fp->pages = NULL;
    fp->dir = NULL;
}

/* ---- backend ------------------------------------------------------------------ */

int vmsg_xen_bmem_open(struct vmsg_xen_bmem *bm, struct vmsg_platform *plat,
                       pthread_mutex_t *plat_lock, uint32_t fe_domid, uint32_t pages,
                       const uint32_t *dir_refs, unsigned ndir)
{
    uint32_t *refs;
    void *dir = NULL, *pool = NULL;
    int rc;

    memset(bm, 0, sizeof(*bm));
    if (pages == 0 || pages > VMSG_XEN_POOL_PAGES_LIMIT || ndir != vmsg_xen_pool_dir_pages(pages))
        return -EINVAL;
    refs = malloc((size_t)pages * sizeof(*refs));
    if (!refs)
        return -ENOMEM;
    pthread_mutex_lock(plat_lock);
    rc = vmsg_plat_gnttab_map(plat, fe_domid, ndir, dir_refs, false, VMSG_NOTIFY_NONE,
                              VMSG_NOTIFY_NONE, &dir);
    if (rc) {
        vmsg_warn("pool of dom%u: mapping %u directory pages: %s", fe_domid, ndir,
                  vmsg_plat_last_error(plat));
        goto out;
    }
    /* Copy once, then drop the directory: the frontend may rewrite it, but
     * only this private copy decides what we map. */
    vmsg_xen_pool_dir_read(dir, pages, refs);
    vmsg_plat_gnttab_unmap(plat, dir, ndir);
    rc = vmsg_plat_gnttab_map(plat, fe_domid, pages, refs, true, VMSG_NOTIFY_NONE,
                              VMSG_NOTIFY_NONE, &pool);
    if (rc) {
        vmsg_warn("pool of dom%u: mapping %u pool pages: %s", fe_domid, pages,
                  vmsg_plat_last_error(plat));
        goto out;
    }
    bm->plat = plat;
    bm->plat_lock = plat_lock;
    bm->fe_domid = fe_domid;
    bm->pool = pool;
    bm->npages = pages;
    bm->pool_size = (uint64_t)pages * PAGE;
    pthread_mutex_init(&bm->lock, NULL);
out:
    pthread_mutex_unlock(plat_lock);
    free(refs);
    return rc;
}

int vmsg_xen_bmem_map(struct vmsg_xen_bmem *bm, uint64_t addr, uint64_t len, bool writable,
                      struct vmsg_mapping *out)
{
    struct vmsg_xen_addr a;
    struct vmsg_xen_gmap *g;
    uint32_t *refs;
    void *area = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!bm->pool)
        return -EFAULT;     /* not connected: nothing is shared */
    rc = vmsg_xen_addr_decode(addr, len, bm->pool_size, &a);
    if (rc)
        return rc;
    if (!a.grant) {
        out->ptr = bm->pool + a.offset;
        out->len = (size_t)len;
        return 0;
    }
    if (a.npages == 0)
        return 0;           /* an empty range needs no mapping */
    refs = malloc(a.npages * sizeof(*refs));
    g = calloc(1, sizeof(*g));
    if (!refs || !g) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < a.npages; i++)
        refs[i] = a.gref + i;
    pthread_mutex_lock(bm->plat_lock);
    rc = vmsg_plat_gnttab_map(bm->plat, bm->fe_domid, a.npages, refs, writable,
                              VMSG_NOTIFY_NONE, VMSG_NOTIFY_NONE, &area);
    if (rc)
        vmsg_debug("grant address 0x%llx+%llu of dom%u: %s", (unsigned long long)addr,
                   (unsigned long long)len, bm->fe_domid, vmsg_plat_last_error(bm->plat));
    pthread_mutex_unlock(bm->plat_lock);
    if (rc) {
        /* Anything but exhaustion means the guest did not grant it to us
         * (or not writable): a bad address, for this request only. */
        rc = rc == -ENOMEM || rc == -ENOSPC ? -ENOMEM : -EFAULT;
        goto out;
    }
    g->area = area;
    g->npages = a.npages;
    pthread_mutex_lock(&bm->lock);
    g->id = __atomic_add_fetch(&next_gmap_id, 1, __ATOMIC_RELAXED);
    g->next = bm->gmaps;
    bm->gmaps = g;
    bm->live_gmaps++;
    pthread_mutex_unlock(&bm->lock);
    out->ptr = (uint8_t *)area + a.offset;
    out->len = (size_t)len;
    out->cookie = (void *)(uintptr_t)g->id;
    g = NULL;
out:
    free(g);
    free(refs);
    return rc;
}

void vmsg_xen_bmem_unmap(struct vmsg_xen_bmem *bm, struct vmsg_mapping *m)
{
    uint64_t id = (uint64_t)(uintptr_t)m->cookie;
    struct vmsg_xen_gmap *g = NULL;

    m->ptr = NULL;
    m->cookie = NULL;
    if (id == 0 || !bm->pool)
        return;     /* a pool range, an empty one, or already released */
    /* Look the id up instead of trusting a pointer: after a close that
     * already released the mapping the cookie names nothing. */
    pthread_mutex_lock(&bm->lock);
    for (struct vmsg_xen_gmap **pg = &bm->gmaps; *pg; pg = &(*pg)->next) {
        if ((*pg)->id == id) {
            g = *pg;
            *pg = g->next;
            bm->live_gmaps--;
            break;
        }
    }
    pthread_mutex_unlock(&bm->lock);
    if (!g)
        return;
    pthread_mutex_lock(bm->plat_lock);
    vmsg_plat_gnttab_unmap(bm->plat, g->area, g->npages);
    pthread_mutex_unlock(bm->plat_lock);
    free(g);
}

void vmsg_xen_bmem_close(struct vmsg_xen_bmem *bm)
{
    if (!bm->pool)
        return;
    pthread_mutex_lock(bm->plat_lock);
    while (bm->gmaps) {
        struct vmsg_xen_gmap *g = bm->gmaps;
        bm->gmaps = g->next;
        vmsg_warn("dom%u: a grant mapping of %u pages was still live at teardown", bm->fe_domid,
                  g->npages);
        vmsg_plat_gnttab_unmap(bm->plat, g->area, g->npages);
        free(g);
    }
    bm->live_gmaps = 0;
    vmsg_plat_gnttab_unmap(bm->plat, bm->pool, bm->npages);
    pthread_mutex_unlock(bm->plat_lock);
    pthread_mutex_destroy(&bm->lock);
    bm->pool = NULL;
}
