/*
 * lib/xen/platform_xen.c: the real platform, on libxenevtchn, libxengnttab
 * (xengnttab_* and xengntshr_*), libxenstore and libxenctrl.
 *
 * This is the only file in the project that includes libxen* headers.
 * It is compiled without -I lib (see lib/xen/local.mk) because Xen's own
 * <xen/platform.h>, included by xenctrl.h, has the same name as ours.
 *
 * libxengnttab only exports single-page variants of "share with unmap
 * notification" and "map with unmap notification". Multi-page areas with a
 * notification are made here with the same gntalloc/gntdev ioctls that
 * libxengnttab uses internally, on the library's own fds, so the areas are
 * still released by xengntshr_unshare()/xengnttab_unmap().
 */
#include "config.h"

#include "xen/platform.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xentoollog.h>
#include <xen/sys/gntalloc.h>
#include <xen/sys/gntdev.h>

/* A shared or mapped area, remembered so close() releases it. */
struct area {
    struct area *next;
    void *addr;
    unsigned count;
    bool mapped;          /* gnttab mapping (else a gntshr share) */
};

struct xen_ctx {
    xentoollog_logger *log;
    xenevtchn_handle *xce;
    xengnttab_handle *xgt;
    xengntshr_handle *xgs;
    struct xs_handle *xs;
    xc_interface *xc;
    bool xc_tried;
    bool xs_intro_denied;          /* xenstored refused IS_DOMAIN_INTRODUCED */
    struct area *areas;
};

static struct xen_ctx *X(struct vmsg_platform *p)
{
    return p->ctx;
}

static int errno_or(int fallback)
{
    return errno ? -errno : fallback;
}

static int remember(struct vmsg_platform *p, void *addr, unsigned count, bool mapped)
{
    struct area *a = malloc(sizeof(*a));

    if (!a)
        return -ENOMEM;
    a->addr = addr;
    a->count = count;
    a->mapped = mapped;
    a->next = X(p)->areas;
    X(p)->areas = a;
    return 0;
}

static void forget(struct vmsg_platform *p, void *addr)
{
    for (struct area **pp = &X(p)->areas; *pp; pp = &(*pp)->next) {
        if ((*pp)->addr == addr) {
            struct area *a = *pp;
            *pp = a->next;
            free(a);
            return;
        }
    }
}

static bool known(struct vmsg_platform *p, void *addr, unsigned count, bool mapped)
{
    for (struct area *a = X(p)->areas; a; a = a->next)
        if (a->addr == addr)
            return a->count == count && a->mapped == mapped;
    return false;
}

static void xen_close(struct vmsg_platform *p)
{
    struct xen_ctx *x = X(p);

    /* Unmapping before closing the devices fires the unmap notifications. */
    while (x->areas) {
        struct area *a = x->areas;
        x->areas = a->next;
        if (a->mapped)
            xengnttab_unmap(x->xgt, a->addr, a->count);
        else
            xengntshr_unshare(x->xgs, a->addr, a->count);
        free(a);
    }
    if (x->xc)
        xc_interface_close(x->xc);
    if (x->xs)
        xs_close(x->xs);
    if (x->xgs)
        xengntshr_close(x->xgs);
    if (x->xgt)
        xengnttab_close(x->xgt);
    if (x->xce)
        xenevtchn_close(x->xce);
    if (x->log)
        xtl_logger_destroy(x->log);
    free(x);
    free(p);
}

/* ---- identity ------------------------------------------------------------ */

static int xen_own_domid(struct vmsg_platform *p, uint32_t *domid)
{
    unsigned len;
    char *v, *end;
    unsigned long id;

    errno = 0;
    v = xs_read(X(p)->xs, XBT_NULL, "domid", &len);
    if (!v)
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore read own domid");
    errno = 0;
    id = strtoul(v, &end, 10);
    if (errno || end == v || *end || id >= 0x7FF0) {
        vmsg_plat_fail(p, -EPROTO, "own domid '%.16s' is not a domain id", v);
        free(v);
        return -EPROTO;
    }
    free(v);
    *domid = (uint32_t)id;
    return 0;
}

/*
 * xenstored's view, for a domain that may not ask Xen: it forgets a domain
 * as soon as Xen reports it dying (and fires @releaseDomain then). Xen
 * 4.17's C xenstored answers IS_DOMAIN_INTRODUCED only to privileged
 * callers (EACCES otherwise); libxenstore reports that refusal as "false"
 * with errno set.
 */
static int xs_domain_introduced(struct vmsg_platform *p, uint32_t domid)
{
    struct xen_ctx *x = X(p);
    bool introduced;

    if (x->xs_intro_denied)
        return vmsg_plat_fail(p, -ENOSYS, "domain_alive(%u): not privileged (no domctl, "
                              "xenstored refuses IS_DOMAIN_INTRODUCED)", domid);
    errno = 0;
    introduced = xs_is_domain_introduced(x->xs, domid);
    if (introduced)
        return 1;
    if (errno == EACCES || errno == EPERM) {
        x->xs_intro_denied = true;
        return vmsg_plat_fail(p, -ENOSYS, "domain_alive(%u): not privileged (no domctl, "
                              "xenstored refuses IS_DOMAIN_INTRODUCED: %s)", domid,
                              strerror(errno));
    }
    if (errno)
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore is_domain_introduced(%u)", domid);
    return 0;
}

static int xen_domain_alive(struct vmsg_platform *p, uint32_t domid)
{
    struct xen_ctx *x = X(p);
    xc_domaininfo_t info;
    int n;

    /* A driver domain has no privcmd rights, or may open privcmd but not
     * issue domctls: ask once, then only xenstored. */
    if (!x->xc_tried) {
        x->xc_tried = true;
        x->xc = xc_interface_open(x->log, x->log, 0);
    }
    if (!x->xc)
        return xs_domain_introduced(p, domid);
    errno = 0;
    n = xc_domain_getinfolist(x->xc, domid, 1, &info);
    if (n < 0) {
        if (errno == EPERM || errno == EACCES) {
            xc_interface_close(x->xc);
            x->xc = NULL;
            return xs_domain_introduced(p, domid);
        }
        return vmsg_plat_fail(p, errno_or(-EIO), "xc_domain_getinfolist(%u)", domid);
    }
    if (n == 0 || info.domain != domid)
        return 0;
    return (info.flags & XEN_DOMINF_dying) ? 0 : 1;
}

/* ---- event channels ------------------------------------------------------ */

static int need_evtchn(struct vmsg_platform *p, const char *what)
{
    return X(p)->xce ? 0 : vmsg_plat_fail(p, -ENODEV, "%s: /dev/xen/evtchn not open", what);
}

static int xen_evtchn_fd(struct vmsg_platform *p)
{
    int rc = need_evtchn(p, "evtchn fd");

    return rc ? rc : xenevtchn_fd(X(p)->xce);
}

static int xen_evtchn_bind_unbound(struct vmsg_platform *p, uint32_t remote, uint32_t *port)
{
    xenevtchn_port_or_error_t r;
    int rc = need_evtchn(p, "evtchn bind_unbound");

    if (rc)
        return rc;
    errno = 0;
    r = xenevtchn_bind_unbound_port(X(p)->xce, remote);
    if (r < 0)
        return vmsg_plat_fail(p, errno_or(-EIO), "evtchn bind unbound port for dom %u", remote);
    *port = (uint32_t)r;
    return 0;
}

static int xen_evtchn_bind_interdomain(struct vmsg_platform *p, uint32_t remote,
                                       uint32_t rport, uint32_t *lport)
{
    xenevtchn_port_or_error_t r;
    int rc = need_evtchn(p, "evtchn bind_interdomain");

    if (rc)
        return rc;
    errno = 0;
    r = xenevtchn_bind_interdomain(X(p)->xce, remote, rport);
    if (r < 0)
        return vmsg_plat_fail(p, errno_or(-EIO), "evtchn bind to dom %u port %u", remote,
                              rport);
    *lport = (uint32_t)r;
    return 0;
}

static int xen_evtchn_unbind(struct vmsg_platform *p, uint32_t port)
{
    int rc = need_evtchn(p, "evtchn unbind");

    if (rc)
        return rc;
    errno = 0;
    if (xenevtchn_unbind(X(p)->xce, port) < 0)
        return vmsg_plat_fail(p, errno_or(-EIO), "evtchn unbind port %u", port);
    return 0;
}

static int xen_evtchn_notify(struct vmsg_platform *p, uint32_t port)
{
    int rc = need_evtchn(p, "evtchn notify");

    if (rc)
        return rc;
    errno = 0;
    if (xenevtchn_notify(X(p)->xce, port) < 0)
        return vmsg_plat_fail(p, errno_or(-EIO), "evtchn notify port %u", port);
    return 0;
}

static int xen_evtchn_pending(struct vmsg_platform *p, uint32_t *port)
{
    struct pollfd pfd;
    xenevtchn_port_or_error_t r;
    int rc = need_evtchn(p, "evtchn pending");

    if (rc)
        return rc;
    /* xenevtchn_pending() may block when nothing fired: look first. */
    pfd.fd = xenevtchn_fd(X(p)->xce);
    pfd.events = POLLIN;
    rc = poll(&pfd, 1, 0);
    if (rc < 0)
        return vmsg_plat_fail(p, -errno, "evtchn poll");
    if (rc == 0)
        return -EAGAIN;
    errno = 0;
    r = xenevtchn_pending(X(p)->xce);
    if (r < 0) {
        if (errno == EAGAIN)
            return -EAGAIN;
        return vmsg_plat_fail(p, errno_or(-EIO), "evtchn pending");
    }
    *port = (uint32_t)r;
    return 0;
}

static int xen_evtchn_unmask(struct vmsg_platform *p, uint32_t port)
{
    int rc = need_evtchn(p, "evtchn unmask");

    if (rc)
        return rc;
    errno = 0;
    if (xenevtchn_unmask(X(p)->xce, port) < 0)
        return vmsg_plat_fail(p, errno_or(-EIO), "evtchn unmask port %u", port);
    return 0;
}

/* ---- grants -------------------------------------------------------------- */

static unsigned notify_action(long notify_offset, long notify_port)
{
    return (notify_offset != VMSG_NOTIFY_NONE ? UNMAP_NOTIFY_CLEAR_BYTE : 0) |
           (notify_port != VMSG_NOTIFY_NONE ? UNMAP_NOTIFY_SEND_EVENT : 0);
}

/*
 * Share with an unmap notification: the sequence of libxengnttab's
 * linux_gntshr_share_pages(), which has no public multi-page entry point.
 */
static int share_notify(struct vmsg_platform *p, uint32_t domid, unsigned count,
                        bool writable, long notify_offset, long notify_port,
                        uint32_t *refs, void **out)
{
    int fd = xengntshr_fd(X(p)->xgs);
    struct ioctl_gntalloc_alloc_gref *alloc;
    struct ioctl_gntalloc_unmap_notify notify = { 0 };
    struct ioctl_gntalloc_dealloc_gref dealloc = { 0 };
    void *area;
    int rc = 0;

    alloc = calloc(1, sizeof(*alloc) + count * sizeof(alloc->gref_ids[0]));
    if (!alloc)
        return vmsg_plat_fail(p, -ENOMEM, "gntshr share %u pages", count);
    alloc->domid = (uint16_t)domid;
    alloc->flags = writable ? GNTALLOC_FLAG_WRITABLE : 0;
    alloc->count = count;
    if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, alloc) < 0) {
        rc = vmsg_plat_fail(p, -errno, "gntalloc: grant %u pages to dom %u", count, domid);
        goto out_free;
    }
    notify.index = alloc->index + (notify_offset != VMSG_NOTIFY_NONE ? (uint64_t)notify_offset : 0);
    notify.action = notify_action(notify_offset, notify_port);
    notify.event_channel_port = notify_port != VMSG_NOTIFY_NONE ? (uint32_t)notify_port : 0;
    if (ioctl(fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, &notify) < 0) {
        rc = vmsg_plat_fail(p, -errno, "gntalloc: unmap notify at %ld port %ld",
                            notify_offset, notify_port);
        goto out_dealloc;
    }
    area = mmap(NULL, (size_t)count * VMSG_XEN_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                fd, (off_t)alloc->index);
    if (area == MAP_FAILED) {
        rc = vmsg_plat_fail(p, -errno, "gntalloc: mmap %u pages", count);
        goto out_dealloc;
    }
    memcpy(refs, alloc->gref_ids, count * sizeof(refs[0]));
    *out = area;
out_dealloc:
    /* Dropping the file's slots now makes munmap() release the grants. */
    dealloc.index = alloc->index;
    dealloc.count = count;
    ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &dealloc);
out_free:
    free(alloc);
    return rc;
}

static int xen_gntshr_share(struct vmsg_platform *p, uint32_t domid, unsigned count,
                            bool writable, long notify_offset, long notify_port,
                            uint32_t *refs, void **addr)
{
    void *area = NULL;
    int rc;

    if (!X(p)->xgs)
        return vmsg_plat_fail(p, -ENODEV, "gntshr share: /dev/xen/gntalloc not open");
    if (notify_action(notify_offset, notify_port)) {
        if (sysconf(_SC_PAGESIZE) != VMSG_XEN_PAGE_SIZE)
            return vmsg_plat_fail(p, -EOPNOTSUPP,
                                  "gntshr share with notify: kernel page size is not 4 KiB");
        rc = share_notify(p, domid, count, writable, notify_offset, notify_port, refs, &area);
        if (rc)
            return rc;
    } else {
        errno = 0;
        area = xengntshr_share_pages(X(p)->xgs, domid, (int)count, refs, writable);
        if (!area)
            return vmsg_plat_fail(p, errno_or(-EIO), "gntshr share %u pages with dom %u",
                                  count, domid);
    }
    rc = remember(p, area, count, false);
    if (rc) {
        xengntshr_unshare(X(p)->xgs, area, count);
        return vmsg_plat_fail(p, rc, "gntshr share");
    }
    memset(area, 0, (size_t)count * VMSG_XEN_PAGE_SIZE);
    *addr = area;
    return 0;
}

static int xen_gntshr_unshare(struct vmsg_platform *p, void *addr, unsigned count)
{
    if (!X(p)->xgs || !known(p, addr, count, false))
        return vmsg_plat_fail(p, -EINVAL, "gntshr unshare %p (%u pages): not a shared area",
                              addr, count);
    forget(p, addr);
    errno = 0;
    if (xengntshr_unshare(X(p)->xgs, addr, count) < 0)
        return vmsg_plat_fail(p, errno_or(-EIO), "gntshr unshare %u pages", count);
    return 0;
}

static int xen_gnttab_map(struct vmsg_platform *p, uint32_t domid, unsigned count,
                          const uint32_t *refs, bool writable, long notify_offset,
                          long notify_port, void **addr)
{
    struct xen_ctx *x = X(p);
    void *area;
    int rc;

    if (!x->xgt)
        return vmsg_plat_fail(p, -ENODEV, "gnttab map: /dev/xen/gntdev not open");
    errno = 0;
    area = xengnttab_map_domain_grant_refs(x->xgt, count, domid, (uint32_t *)refs,
                                           PROT_READ | (writable ? PROT_WRITE : 0));
    if (!area)
        return vmsg_plat_fail(p, errno_or(-EIO), "gnttab map %u refs of dom %u (first %u)",
                              count, domid, refs[0]);
    if (notify_action(notify_offset, notify_port)) {
        struct ioctl_gntdev_get_offset_for_vaddr where = { .vaddr = (uintptr_t)area };
        struct ioctl_gntdev_unmap_notify notify = { 0 };
        int fd = xengnttab_fd(x->xgt);

        if (ioctl(fd, IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR, &where) < 0) {
            rc = vmsg_plat_fail(p, -errno, "gntdev: offset of new mapping");
            goto out_unmap;
        }
        notify.index = where.offset +
                       (notify_offset != VMSG_NOTIFY_NONE ? (uint64_t)notify_offset : 0);
        notify.action = notify_action(notify_offset, notify_port);
        notify.event_channel_port = notify_port != VMSG_NOTIFY_NONE ? (uint32_t)notify_port : 0;
        if (ioctl(fd, IOCTL_GNTDEV_SET_UNMAP_NOTIFY, &notify) < 0) {
            rc = vmsg_plat_fail(p, -errno, "gntdev: unmap notify at %ld port %ld",
                                notify_offset, notify_port);
            goto out_unmap;
        }
    }
    rc = remember(p, area, count, true);
    if (rc) {
        vmsg_plat_fail(p, rc, "gnttab map");
        goto out_unmap;
    }
    *addr = area;
    return 0;
out_unmap:
    xengnttab_unmap(x->xgt, area, count);
    return rc;
}

static int xen_gnttab_unmap(struct vmsg_platform *p, void *addr, unsigned count)
{
    if (!X(p)->xgt || !known(p, addr, count, true))
        return vmsg_plat_fail(p, -EINVAL, "gnttab unmap %p (%u pages): not a mapped area",
                              addr, count);
    forget(p, addr);
    errno = 0;
    if (xengnttab_unmap(X(p)->xgt, addr, count) < 0)
        return vmsg_plat_fail(p, errno_or(-EIO), "gnttab unmap %u pages", count);
    return 0;
}

/* ---- xenstore ------------------------------------------------------------ */

static int xen_xs_read(struct vmsg_platform *p, uint32_t tx, const char *path, char **value,
                       size_t *len)
{
    unsigned n;
    char *v;

    errno = 0;
    v = xs_read(X(p)->xs, tx, path, &n);
    if (!v)
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore read %s", path);
    *value = v;
    *len = n;
    return 0;
}

static int xen_xs_write(struct vmsg_platform *p, uint32_t tx, const char *path,
                        const void *value, size_t len)
{
    errno = 0;
    if (!xs_write(X(p)->xs, tx, path, value, (unsigned)len))
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore write %s", path);
    return 0;
}

static int xen_xs_mkdir(struct vmsg_platform *p, uint32_t tx, const char *path)
{
    errno = 0;
    if (!xs_mkdir(X(p)->xs, tx, path))
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore mkdir %s", path);
    return 0;
}

static int xen_xs_rm(struct vmsg_platform *p, uint32_t tx, const char *path)
{
    errno = 0;
    if (!xs_rm(X(p)->xs, tx, path))
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore rm %s", path);
    return 0;
}

static int xen_xs_directory(struct vmsg_platform *p, uint32_t tx, const char *path,
                            char ***names, unsigned *count)
{
    char **v;
    unsigned n;

    errno = 0;
    v = xs_directory(X(p)->xs, tx, path, &n);
    if (!v)
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore directory %s", path);
    *names = v;     /* one block, like ours: free(*names) */
    *count = n;
    return 0;
}

static int xen_xs_set_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                            const struct vmsg_xs_perm *perms, unsigned count)
{
    struct xs_permissions *xp = calloc(count, sizeof(*xp));
    int rc = 0;

    if (!xp)
        return vmsg_plat_fail(p, -ENOMEM, "xenstore set_perms %s", path);
    for (unsigned i = 0; i < count; i++) {
        xp[i].id = perms[i].domid;
        xp[i].perms = perms[i].perms;
    }
    errno = 0;
    if (!xs_set_permissions(X(p)->xs, tx, path, xp, count))
        rc = vmsg_plat_fail(p, errno_or(-EIO), "xenstore set_perms %s", path);
    free(xp);
    return rc;
}

static int xen_xs_get_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                            struct vmsg_xs_perm **perms, unsigned *count)
{
    struct xs_permissions *xp;
    struct vmsg_xs_perm *out;
    unsigned n;

    errno = 0;
    xp = xs_get_permissions(X(p)->xs, tx, path, &n);
    if (!xp)
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore get_perms %s", path);
    out = calloc(n ? n : 1, sizeof(*out));
    if (!out) {
        free(xp);
        return vmsg_plat_fail(p, -ENOMEM, "xenstore get_perms %s", path);
    }
    for (unsigned i = 0; i < n; i++) {
        out[i].domid = xp[i].id;
        out[i].perms = xp[i].perms & VMSG_XS_PERM_BOTH;
    }
    free(xp);
    *perms = out;
    *count = n;
    return 0;
}

static int xen_xs_watch_fd(struct vmsg_platform *p)
{
    int fd = xs_fileno(X(p)->xs);

    return fd < 0 ? vmsg_plat_fail(p, errno_or(-EIO), "xenstore watch fd") : fd;
}

static int xen_xs_watch(struct vmsg_platform *p, const char *path, const char *token)
{
    errno = 0;
    if (!xs_watch(X(p)->xs, path, token))
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore watch %s", path);
    return 0;
}

static int xen_xs_unwatch(struct vmsg_platform *p, const char *path, const char *token)
{
    errno = 0;
    if (!xs_unwatch(X(p)->xs, path, token))
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore unwatch %s", path);
    return 0;
}

static int xen_xs_read_watch(struct vmsg_platform *p, char **path, char **token)
{
    char **ev;

    errno = 0;
    ev = xs_check_watch(X(p)->xs);
    if (!ev) {
        if (errno == EAGAIN || errno == 0)
            return -EAGAIN;
        return vmsg_plat_fail(p, -errno, "xenstore read watch");
    }
    *path = strdup(ev[XS_WATCH_PATH]);
    *token = strdup(ev[XS_WATCH_TOKEN]);
    free(ev);
    if (!*path || !*token) {
        free(*path);
        free(*token);
        *path = *token = NULL;
        return vmsg_plat_fail(p, -ENOMEM, "xenstore read watch");
    }
    return 0;
}

static int xen_xs_tx_start(struct vmsg_platform *p, uint32_t *tx)
{
    xs_transaction_t t;

    errno = 0;
    t = xs_transaction_start(X(p)->xs);
    if (t == XBT_NULL)
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore transaction start");
    *tx = t;
    return 0;
}

static int xen_xs_tx_end(struct vmsg_platform *p, uint32_t tx, bool abort)
{
    errno = 0;
    if (!xs_transaction_end(X(p)->xs, tx, abort)) {
        if (errno == EAGAIN)
            return -EAGAIN;   /* expected; the retry loop handles it */
        return vmsg_plat_fail(p, errno_or(-EIO), "xenstore transaction %s", abort ? "abort" : "commit");
    }
    return 0;
}

static const struct vmsg_platform_ops xen_ops = {
    .name = "xen",
    .close = xen_close,
    .own_domid = xen_own_domid,
    .domain_alive = xen_domain_alive,
    .evtchn_fd = xen_evtchn_fd,
    .evtchn_bind_unbound = xen_evtchn_bind_unbound,
    .evtchn_bind_interdomain = xen_evtchn_bind_interdomain,
    .evtchn_unbind = xen_evtchn_unbind,
    .evtchn_notify = xen_evtchn_notify,
    .evtchn_pending = xen_evtchn_pending,
    .evtchn_unmask = xen_evtchn_unmask,
    .gntshr_share = xen_gntshr_share,
    .gntshr_unshare = xen_gntshr_unshare,
    .gnttab_map = xen_gnttab_map,
    .gnttab_unmap = xen_gnttab_unmap,
    .xs_read = xen_xs_read,
    .xs_write = xen_xs_write,
    .xs_mkdir = xen_xs_mkdir,
    .xs_rm = xen_xs_rm,
    .xs_directory = xen_xs_directory,
    .xs_set_perms = xen_xs_set_perms,
    .xs_get_perms = xen_xs_get_perms,
    .xs_watch_fd = xen_xs_watch_fd,
    .xs_watch = xen_xs_watch,
    .xs_unwatch = xen_xs_unwatch,
    .xs_read_watch = xen_xs_read_watch,
    .xs_tx_start = xen_xs_tx_start,
    .xs_tx_end = xen_xs_tx_end,
};

int vmsg_plat_xen_open(struct vmsg_platform **out, char *err, size_t errlen)
{
    struct vmsg_platform *p = calloc(1, sizeof(*p));
    struct xen_ctx *x = calloc(1, sizeof(*x));
    int rc;

    if (!p || !x) {
        rc = -ENOMEM;
        if (err)
            snprintf(err, errlen, "xen platform: out of memory");
        goto out_free;
    }
    p->ops = &xen_ops;
    p->ctx = x;
    /* libxen* log every failed open to stderr; only errors we return matter. */
    x->log = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);

    errno = 0;
    x->xs = xs_open(0);
    if (!x->xs) {
        rc = errno_or(-EIO);
        if (err)
            snprintf(err, errlen, "xenstore open (is xenstored running / xenfs mounted?): %s",
                     strerror(-rc));
        goto out_close;
    }
    errno = 0;
    x->xce = xenevtchn_open(x->log, 0);
    if (!x->xce) {
        rc = errno_or(-EIO);
        if (err)
            snprintf(err, errlen, "open /dev/xen/evtchn (module xen-evtchn loaded?): %s",
                     strerror(-rc));
        goto out_close;
    }
    /* Either grant device may be absent; the calls that need it say so. */
    x->xgt = xengnttab_open(x->log, 0);
    x->xgs = xengntshr_open(x->log, 0);
    *out = p;
    return 0;

out_close:
    xen_close(p);
    return rc;
out_free:
    free(x);
    free(p);
    return rc;
}
