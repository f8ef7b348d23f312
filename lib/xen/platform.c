/*
 * lib/xen/platform.c: the implementation-independent half of the platform
 * interface: argument guards, dispatch to the ops table, error messages,
 * the transaction retry loop and the permission string helpers.
 */
#include "config.h"

#include "xen/platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vmsg_plat_fail(struct vmsg_platform *p, int err, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (!p)
        return err;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof(p->error), fmt, ap);
    va_end(ap);
    n = strlen(p->error);
    if (n < sizeof(p->error))
        snprintf(p->error + n, sizeof(p->error) - n, ": %s", strerror(-err));
    return err;
}

const char *vmsg_plat_last_error(const struct vmsg_platform *p)
{
    return p ? p->error : "no platform";
}

void vmsg_plat_close(struct vmsg_platform *p)
{
    if (p && p->ops && p->ops->close)
        p->ops->close(p);
}

/*
 * Every wrapper guards the arguments at the API edge so implementations can
 * trust them, and reports -ENOSYS for ops an implementation leaves NULL.
 */
#define CALL(p, op, ...) \
    ((p)->ops->op ? (p)->ops->op((p), __VA_ARGS__) \
                  : vmsg_plat_fail((p), -ENOSYS, "%s: " #op, (p)->ops->name))

int vmsg_plat_own_domid(struct vmsg_platform *p, uint32_t *domid)
{
    if (!domid)
        return vmsg_plat_fail(p, -EINVAL, "own_domid: NULL result");
    return CALL(p, own_domid, domid);
}

int vmsg_plat_domain_alive(struct vmsg_platform *p, uint32_t domid)
{
    return CALL(p, domain_alive, domid);
}

int vmsg_plat_evtchn_fd(struct vmsg_platform *p)
{
    if (!p->ops->evtchn_fd)
        return vmsg_plat_fail(p, -ENOSYS, "%s: evtchn_fd", p->ops->name);
    return p->ops->evtchn_fd(p);
}

int vmsg_plat_evtchn_bind_unbound(struct vmsg_platform *p, uint32_t remote_domid,
                                  uint32_t *port)
{
    if (!port)
        return vmsg_plat_fail(p, -EINVAL, "evtchn bind_unbound: NULL port");
    return CALL(p, evtchn_bind_unbound, remote_domid, port);
}

int vmsg_plat_evtchn_bind_interdomain(struct vmsg_platform *p, uint32_t remote_domid,
                                      uint32_t remote_port, uint32_t *local_port)
{
    if (!local_port)
        return vmsg_plat_fail(p, -EINVAL, "evtchn bind_interdomain: NULL port");
    return CALL(p, evtchn_bind_interdomain, remote_domid, remote_port, local_port);
}

int vmsg_plat_evtchn_unbind(struct vmsg_platform *p, uint32_t port)
{
    return CALL(p, evtchn_unbind, port);
}

int vmsg_plat_evtchn_notify(struct vmsg_platform *p, uint32_t port)
{
    return CALL(p, evtchn_notify, port);
}

int vmsg_plat_evtchn_pending(struct vmsg_platform *p, uint32_t *port)
{
    if (!port)
        return vmsg_plat_fail(p, -EINVAL, "evtchn pending: NULL port");
    return CALL(p, evtchn_pending, port);
}

int vmsg_plat_evtchn_unmask(struct vmsg_platform *p, uint32_t port)
{
    return CALL(p, evtchn_unmask, port);
}

static int check_notify(struct vmsg_platform *p, const char *what, unsigned count,
                        long notify_offset, long notify_port)
{
    if (notify_offset != VMSG_NOTIFY_NONE &&
        (notify_offset < 0 || (unsigned long)notify_offset >= (unsigned long)count * VMSG_XEN_PAGE_SIZE))
        return vmsg_plat_fail(p, -EINVAL, "%s: notify offset %ld outside %u pages", what,
                              notify_offset, count);
    if (notify_port != VMSG_NOTIFY_NONE && (notify_port < 0 || notify_port > (long)UINT32_MAX))
        return vmsg_plat_fail(p, -EINVAL, "%s: bad notify port %ld", what, notify_port);
    return 0;
}

int vmsg_plat_gntshr_share(struct vmsg_platform *p, uint32_t domid, unsigned count,
                           bool writable, long notify_offset, long notify_port,
                           uint32_t *refs, void **addr)
{
    int rc;

    if (!count || !refs || !addr)
        return vmsg_plat_fail(p, -EINVAL, "gntshr share: %u pages, refs %p, addr %p", count,
                              (void *)refs, (void *)addr);
    rc = check_notify(p, "gntshr share", count, notify_offset, notify_port);
    if (rc)
        return rc;
    return CALL(p, gntshr_share, domid, count, writable, notify_offset, notify_port, refs,
                addr);
}

int vmsg_plat_gntshr_unshare(struct vmsg_platform *p, void *addr, unsigned count)
{
    if (!addr || !count)
        return vmsg_plat_fail(p, -EINVAL, "gntshr unshare: addr %p, %u pages", addr, count);
    return CALL(p, gntshr_unshare, addr, count);
}

int vmsg_plat_gnttab_map(struct vmsg_platform *p, uint32_t domid, unsigned count,
                         const uint32_t *refs, bool writable, long notify_offset,
                         long notify_port, void **addr)
{
    int rc;

    if (!count || !refs || !addr)
        return vmsg_plat_fail(p, -EINVAL, "gnttab map: %u refs, refs %p, addr %p", count,
                              (const void *)refs, (void *)addr);
    rc = check_notify(p, "gnttab map", count, notify_offset, notify_port);
    if (rc)
        return rc;
    return CALL(p, gnttab_map, domid, count, refs, writable, notify_offset, notify_port, addr);
}

int vmsg_plat_gnttab_unmap(struct vmsg_platform *p, void *addr, unsigned count)
{
    if (!addr || !count)
        return vmsg_plat_fail(p, -EINVAL, "gnttab unmap: addr %p, %u pages", addr, count);
    return CALL(p, gnttab_unmap, addr, count);
}

static int check_path(struct vmsg_platform *p, const char *what, const char *path)
{
    if (!path || !*path)
        return vmsg_plat_fail(p, -EINVAL, "xenstore %s: empty path", what);
    return 0;
}

int vmsg_plat_xs_read(struct vmsg_platform *p, uint32_t tx, const char *path, char **value,
                      size_t *len)
{
    size_t dummy;
    int rc = check_path(p, "read", path);

    if (rc)
        return rc;
    if (!value)
        return vmsg_plat_fail(p, -EINVAL, "xenstore read %s: NULL value", path);
    *value = NULL;
    return CALL(p, xs_read, tx, path, value, len ? len : &dummy);
}

int vmsg_plat_xs_write(struct vmsg_platform *p, uint32_t tx, const char *path,
                       const void *value, size_t len)
{
    int rc = check_path(p, "write", path);

    if (rc)
        return rc;
    if (!value && len)
        return vmsg_plat_fail(p, -EINVAL, "xenstore write %s: NULL value", path);
    return CALL(p, xs_write, tx, path, value ? value : "", len);
}

int vmsg_plat_xs_printf(struct vmsg_platform *p, uint32_t tx, const char *path,
                        const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return vmsg_plat_fail(p, -E2BIG, "xenstore write %s: value too long", path);
    return vmsg_plat_xs_write(p, tx, path, buf, (size_t)n);
}

int vmsg_plat_xs_mkdir(struct vmsg_platform *p, uint32_t tx, const char *path)
{
    int rc = check_path(p, "mkdir", path);

    return rc ? rc : CALL(p, xs_mkdir, tx, path);
}

int vmsg_plat_xs_rm(struct vmsg_platform *p, uint32_t tx, const char *path)
{
    int rc = check_path(p, "rm", path);

    return rc ? rc : CALL(p, xs_rm, tx, path);
}

int vmsg_plat_xs_directory(struct vmsg_platform *p, uint32_t tx, const char *path,
                           char ***names, unsigned *count)
{
    int rc = check_path(p, "directory", path);

    if (rc)
        return rc;
    if (!names || !count)
        return vmsg_plat_fail(p, -EINVAL, "xenstore directory %s: NULL result", path);
    *names = NULL;
    *count = 0;
    return CALL(p, xs_directory, tx, path, names, count);
}

int vmsg_plat_xs_set_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                           const struct vmsg_xs_perm *perms, unsigned count)
{
    int rc = check_path(p, "set_perms", path);

    if (rc)
        return rc;
    if (!perms || !count)
        return vmsg_plat_fail(p, -EINVAL, "xenstore set_perms %s: empty list", path);
    for (unsigned i = 0; i < count; i++)
        if (perms[i].perms & ~(unsigned)VMSG_XS_PERM_BOTH)
            return vmsg_plat_fail(p, -EINVAL, "xenstore set_perms %s: bad bits %#x", path,
                                  perms[i].perms);
    return CALL(p, xs_set_perms, tx, path, perms, count);
}

int vmsg_plat_xs_get_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                           struct vmsg_xs_perm **perms, unsigned *count)
{
    int rc = check_path(p, "get_perms", path);

    if (rc)
        return rc;
    if (!perms || !count)
        return vmsg_plat_fail(p, -EINVAL, "xenstore get_perms %s: NULL result", path);
    *perms = NULL;
    *count = 0;
    return CALL(p, xs_get_perms, tx, path, perms, count);
}

int vmsg_plat_xs_watch_fd(struct vmsg_platform *p)
{
    if (!p->ops->xs_watch_fd)
        return vmsg_plat_fail(p, -ENOSYS, "%s: xs_watch_fd", p->ops->name);
    return p->ops->xs_watch_fd(p);
}

int vmsg_plat_xs_watch(struct vmsg_platform *p, const char *path, const char *token)
{
    int rc = check_path(p, "watch", path);

    if (rc)
        return rc;
    if (!token)
        return vmsg_plat_fail(p, -EINVAL, "xenstore watch %s: NULL token", path);
    return CALL(p, xs_watch, path, token);
}

int vmsg_plat_xs_unwatch(struct vmsg_platform *p, const char *path, const char *token)
{
    int rc = check_path(p, "unwatch", path);

    if (rc)
        return rc;
    if (!token)
        return vmsg_plat_fail(p, -EINVAL, "xenstore unwatch %s: NULL token", path);
    return CALL(p, xs_unwatch, path, token);
}

int vmsg_plat_xs_read_watch(struct vmsg_platform *p, char **path, char **token)
{
    if (!path || !token)
        return vmsg_plat_fail(p, -EINVAL, "xenstore read_watch: NULL result");
    *path = NULL;
    *token = NULL;
    return CALL(p, xs_read_watch, path, token);
}

int vmsg_plat_xs_tx_start(struct vmsg_platform *p, uint32_t *tx)
{
    if (!tx)
        return vmsg_plat_fail(p, -EINVAL, "xenstore transaction start: NULL result");
    return CALL(p, xs_tx_start, tx);
}

int vmsg_plat_xs_tx_end(struct vmsg_platform *p, uint32_t tx, bool abort)
{
    if (tx == VMSG_XS_TX_NONE)
        return vmsg_plat_fail(p, -EINVAL, "xenstore transaction end: no transaction");
    return CALL(p, xs_tx_end, tx, abort);
}

int vmsg_plat_xs_transaction(struct vmsg_platform *p, unsigned max_attempts,
                             int (*body)(struct vmsg_platform *p, uint32_t tx, void *arg),
                             void *arg)
{
    unsigned attempt;
    uint32_t tx;
    int rc;

    if (!body)
        return vmsg_plat_fail(p, -EINVAL, "xenstore transaction: NULL body");
    if (!max_attempts)
        max_attempts = 16;
    for (attempt = 0; attempt < max_attempts; attempt++) {
        rc = vmsg_plat_xs_tx_start(p, &tx);
        if (rc)
            return rc;
        rc = body(p, tx, arg);
        if (rc) {
            /* Keep the body's error message, not the abort's. */
            char saved[sizeof(p->error)];
            memcpy(saved, p->error, sizeof(saved));
            vmsg_plat_xs_tx_end(p, tx, true);
            memcpy(p->error, saved, sizeof(saved));
            if (rc == -EAGAIN)
                continue;
            return rc;
        }
        rc = vmsg_plat_xs_tx_end(p, tx, false);
        if (rc != -EAGAIN)
            return rc;
    }
    return vmsg_plat_fail(p, -EAGAIN, "xenstore transaction: %u attempts conflicted",
                          max_attempts);
}

int vmsg_xs_perms_parse(const char *s, struct vmsg_xs_perm *perms, unsigned max)
{
    unsigned n = 0;

    if (!s || !perms)
        return -EINVAL;
    while (*s) {
        unsigned bits;
        char *end;
        unsigned long id;

        while (*s == ' ')
            s++;
        if (!*s)
            break;
        switch (*s) {
        case 'n': bits = VMSG_XS_PERM_NONE; break;
        case 'r': bits = VMSG_XS_PERM_READ; break;
        case 'w': bits = VMSG_XS_PERM_WRITE; break;
        case 'b': bits = VMSG_XS_PERM_BOTH; break;
        default: return -EINVAL;
        }
        s++;
        if (*s < '0' || *s > '9')
            return -EINVAL;
        errno = 0;
        id = strtoul(s, &end, 10);
        if (errno || id > 0xFFFFu || (*end && *end != ' '))
            return -EINVAL;
        if (n == max)
            return -EINVAL;
        perms[n].domid = (uint32_t)id;
        perms[n].perms = bits;
        n++;
        s = end;
    }
    return n ? (int)n : -EINVAL;
}

int vmsg_xs_perms_format(const struct vmsg_xs_perm *perms, unsigned count, char *buf,
                         size_t len)
{
    static const char letter[] = { 'n', 'r', 'w', 'b' };
    size_t used = 0;

    if (!buf || !len)
        return -ENOSPC;
    buf[0] = '\0';
    for (unsigned i = 0; i < count; i++) {
        int n = snprintf(buf + used, len - used, "%s%c%u", i ? " " : "",
                         letter[perms[i].perms & 3], perms[i].domid);
        if (n < 0 || (size_t)n >= len - used)
            return -ENOSPC;
        used += (size_t)n;
    }
    return 0;
}
