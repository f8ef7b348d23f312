/*
 * tests/unit/test_xen_env.h: what the lib/xen bus tests share: a fake
 * machine with a toolstack (dom0), a backend driver domain and a guest,
 * the toolstack's bus instance creation with libxl's permission rules
 * (docs/protocol.md section 2.1), and a platform wrapper that serialises
 * every call into the fake (which is not thread-safe) so both bus ends can
 * run in their own threads, as they do on Xen.
 */
#ifndef VMSG_TEST_XEN_ENV_H
#define VMSG_TEST_XEN_ENV_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_platform.h"
#include "xen/platform.h"

/* A driver domain, not dom0: the permission rules then really apply. */
#define ENV_BE 1u
#define ENV_FE 3u

/* ---- the locking wrapper ----------------------------------------------------- */

static pthread_mutex_t env_fake_lock = PTHREAD_MUTEX_INITIALIZER;

static struct vmsg_platform *env_inner(struct vmsg_platform *p)
{
    return p->ctx;
}

/* Call op of the wrapped platform under the lock; keep its error text. */
#define ENV_FWD(p, op, ...) \
    ({ \
        struct vmsg_platform *in_ = env_inner(p); \
        pthread_mutex_lock(&env_fake_lock); \
        int rc_ = in_->ops->op(in_, __VA_ARGS__); \
        if (rc_ < 0) \
            memcpy((p)->error, in_->error, sizeof((p)->error)); \
        pthread_mutex_unlock(&env_fake_lock); \
        rc_; \
    })

static void lk_close(struct vmsg_platform *p)
{
    pthread_mutex_lock(&env_fake_lock);
    vmsg_plat_close(env_inner(p));
    pthread_mutex_unlock(&env_fake_lock);
    free(p);
}
static int lk_own_domid(struct vmsg_platform *p, uint32_t *d) { return ENV_FWD(p, own_domid, d); }
static int lk_domain_alive(struct vmsg_platform *p, uint32_t d) { return ENV_FWD(p, domain_alive, d); }
static int lk_evtchn_fd(struct vmsg_platform *p)
{
    return env_inner(p)->ops->evtchn_fd(env_inner(p));   /* a constant fd */
}
static int lk_bind_unbound(struct vmsg_platform *p, uint32_t r, uint32_t *port)
{
    return ENV_FWD(p, evtchn_bind_unbound, r, port);
}
static int lk_bind_interdomain(struct vmsg_platform *p, uint32_t r, uint32_t rp, uint32_t *lp)
{
    return ENV_FWD(p, evtchn_bind_interdomain, r, rp, lp);
}
static int lk_unbind(struct vmsg_platform *p, uint32_t port) { return ENV_FWD(p, evtchn_unbind, port); }
static int lk_notify(struct vmsg_platform *p, uint32_t port) { return ENV_FWD(p, evtchn_notify, port); }
static int lk_pending(struct vmsg_platform *p, uint32_t *port) { return ENV_FWD(p, evtchn_pending, port); }
static int lk_unmask(struct vmsg_platform *p, uint32_t port) { return ENV_FWD(p, evtchn_unmask, port); }
static int lk_share(struct vmsg_platform *p, uint32_t d, unsigned n, bool w, long no, long np,
                    uint32_t *refs, void **addr)
{
    return ENV_FWD(p, gntshr_share, d, n, w, no, np, refs, addr);
}
static int lk_unshare(struct vmsg_platform *p, void *a, unsigned n) { return ENV_FWD(p, gntshr_unshare, a, n); }
static int lk_map(struct vmsg_platform *p, uint32_t d, unsigned n, const uint32_t *refs, bool w,
                  long no, long np, void **addr)
{
    return ENV_FWD(p, gnttab_map, d, n, refs, w, no, np, addr);
}
static int lk_unmap(struct vmsg_platform *p, void *a, unsigned n) { return ENV_FWD(p, gnttab_unmap, a, n); }
static int lk_read(struct vmsg_platform *p, uint32_t tx, const char *path, char **v, size_t *len)
{
    return ENV_FWD(p, xs_read, tx, path, v, len);
}
static int lk_write(struct vmsg_platform *p, uint32_t tx, const char *path, const void *v, size_t len)
{
    return ENV_FWD(p, xs_write, tx, path, v, len);
}
static int lk_mkdir(struct vmsg_platform *p, uint32_t tx, const char *path) { return ENV_FWD(p, xs_mkdir, tx, path); }
static int lk_rm(struct vmsg_platform *p, uint32_t tx, const char *path) { return ENV_FWD(p, xs_rm, tx, path); }
static int lk_dir(struct vmsg_platform *p, uint32_t tx, const char *path, char ***n, unsigned *c)
{
    return ENV_FWD(p, xs_directory, tx, path, n, c);
}
static int lk_set_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                        const struct vmsg_xs_perm *pe, unsigned c)
{
    return ENV_FWD(p, xs_set_perms, tx, path, pe, c);
}
static int lk_get_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                        struct vmsg_xs_perm **pe, unsigned *c)
{
    return ENV_FWD(p, xs_get_perms, tx, path, pe, c);
}
static int lk_watch_fd(struct vmsg_platform *p)
{
    return env_inner(p)->ops->xs_watch_fd(env_inner(p));
}
static int lk_watch(struct vmsg_platform *p, const char *path, const char *t) { return ENV_FWD(p, xs_watch, path, t); }
static int lk_unwatch(struct vmsg_platform *p, const char *path, const char *t) { return ENV_FWD(p, xs_unwatch, path, t); }
static int lk_read_watch(struct vmsg_platform *p, char **path, char **t) { return ENV_FWD(p, xs_read_watch, path, t); }
static int lk_tx_start(struct vmsg_platform *p, uint32_t *tx) { return ENV_FWD(p, xs_tx_start, tx); }
static int lk_tx_end(struct vmsg_platform *p, uint32_t tx, bool a) { return ENV_FWD(p, xs_tx_end, tx, a); }

static const struct vmsg_platform_ops env_locked_ops = {
    .name = "fake+lock", .close = lk_close, .own_domid = lk_own_domid,
    .domain_alive = lk_domain_alive, .evtchn_fd = lk_evtchn_fd,
    .evtchn_bind_unbound = lk_bind_unbound, .evtchn_bind_interdomain = lk_bind_interdomain,
    .evtchn_unbind = lk_unbind, .evtchn_notify = lk_notify, .evtchn_pending = lk_pending,
    .evtchn_unmask = lk_unmask, .gntshr_share = lk_share, .gntshr_unshare = lk_unshare,
    .gnttab_map = lk_map, .gnttab_unmap = lk_unmap, .xs_read = lk_read, .xs_write = lk_write,
    .xs_mkdir = lk_mkdir, .xs_rm = lk_rm, .xs_directory = lk_dir, .xs_set_perms = lk_set_perms,
    .xs_get_perms = lk_get_perms, .xs_watch_fd = lk_watch_fd, .xs_watch = lk_watch,
    .xs_unwatch = lk_unwatch, .xs_read_watch = lk_read_watch, .xs_tx_start = lk_tx_start,
    .xs_tx_end = lk_tx_end,
};

/* Open a process of `domid` whose every platform call takes the lock. */
static inline int env_open(struct fake_xen *fx, uint32_t domid, struct vmsg_platform **out)
{
    struct vmsg_platform *inner, *p = calloc(1, sizeof(*p));
    int rc;

    if (!p)
        return -ENOMEM;
    pthread_mutex_lock(&env_fake_lock);
    rc = fake_platform_open(fx, domid, &inner);
    pthread_mutex_unlock(&env_fake_lock);
    if (rc) {
        free(p);
        return rc;
    }
    p->ops = &env_locked_ops;
    p->ctx = inner;
    *out = p;
    return 0;
}

/* ---- the toolstack ------------------------------------------------------------ */

struct env_create {
    uint32_t be, fe;
    unsigned bus;
};

static int env_create_tx(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    const struct env_create *a = arg;
    char f[128], b[128], path[192];
    struct vmsg_xs_perm fperms[] = { { a->fe, VMSG_XS_PERM_NONE }, { a->be, VMSG_XS_PERM_READ } };
    struct vmsg_xs_perm bperms[] = { { a->be, VMSG_XS_PERM_NONE }, { a->fe, VMSG_XS_PERM_READ } };
    int rc = 0;

    snprintf(f, sizeof(f), "/local/domain/%u/device/virtio-msg/%u", a->fe, a->bus);
    snprintf(b, sizeof(b), "/local/domain/%u/backend/virtio-msg/%u/%u", a->be, a->fe, a->bus);
    /* Directories first with their permissions; nodes below inherit. */
    rc = rc ? rc : vmsg_plat_xs_mkdir(p, tx, f);
    rc = rc ? rc : vmsg_plat_xs_set_perms(p, tx, f, fperms, 2);
    rc = rc ? rc : vmsg_plat_xs_mkdir(p, tx, b);
    rc = rc ? rc : vmsg_plat_xs_set_perms(p, tx, b, bperms, 2);
#define PUT(dir, node, ...) \
    do { \
        snprintf(path, sizeof(path), "%s/%s", dir, node); \
        if (!rc) rc = vmsg_plat_xs_printf(p, tx, path, __VA_ARGS__); \
    } while (0)
    PUT(f, "backend", "%s", b);
    PUT(f, "backend-id", "%u", a->be);
    PUT(f, "state", "1");
    PUT(b, "frontend", "%s", f);
    PUT(b, "frontend-id", "%u", a->fe);
    PUT(b, "online", "1");
    PUT(b, "state", "1");
#undef PUT
    return rc;
}

/* What `vmsgctl attach` does for a bus instance, as dom0. 0 or -errno. */
static inline int env_toolstack_create(struct vmsg_platform *tool, uint32_t be, uint32_t fe,
                                       unsigned bus)
{
    struct env_create a = { be, fe, bus };
    char path[128];
    int rc;

    /* The parents outside the transaction: the fake reports a conflict
     * for a transaction that creates intermediate nodes (its create()
     * records them as touched after creating them). */
    snprintf(path, sizeof(path), "/local/domain/%u/device/virtio-msg", fe);
    if ((rc = vmsg_plat_xs_mkdir(tool, VMSG_XS_TX_NONE, path)))
        return rc;
    snprintf(path, sizeof(path), "/local/domain/%u/backend/virtio-msg/%u", be, fe);
    if ((rc = vmsg_plat_xs_mkdir(tool, VMSG_XS_TX_NONE, path)))
        return rc;
    return vmsg_plat_xs_transaction(tool, 0, env_create_tx, &a);
}

/* Read a node as a string (malloc()ed) or NULL. */
static inline char *env_get(struct vmsg_platform *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline char *env_get(struct vmsg_platform *p, const char *fmt, ...)
{
    char path[256], *v = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL) ? NULL : v;
}

/* Whether node == want (frees the read value). */
static inline bool env_is(struct vmsg_platform *p, const char *path, const char *want)
{
    char *v = env_get(p, "%s", path);
    bool eq = v && !strcmp(v, want);

    free(v);
    return eq;
}

#endif
