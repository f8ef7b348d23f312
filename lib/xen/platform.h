/*
 * lib/xen/platform.h: the one interface through which the project touches
 * Xen (DESIGN.md section 2).
 *
 * Owns: event channels, grant sharing (gntshr), grant mapping (gnttab),
 * xenstore access, the own domain id and the "is that domain alive" query.
 * Nothing else in the project includes a libxen* header.
 *
 * A platform is an ops table plus a context. The real one
 * (vmsg_plat_xen_open(), platform_xen.c) sits on libxenevtchn,
 * libxengnttab, libxenstore and libxenctrl; unit tests substitute the
 * in-process fake in tests/unit/fake_platform.h, which implements the same
 * ops with Xen's semantics.
 *
 * Conventions for every function below:
 * - 0 (or a documented non-negative value) on success, a negative errno on
 *   failure. Xen's libraries report errors through errno; the wrappers turn
 *   that into the return value and also record a message with context
 *   ("xengnttab map 2 refs of dom 3: Invalid argument") that
 *   vmsg_plat_last_error() returns until the next failing call.
 * - One platform handle is one "process" of one domain: its event channel
 *   ports, shared pages and mappings belong to it and are released, with
 *   their unmap notifications, by vmsg_plat_close().
 * - A platform handle is not thread-safe; use one per thread or lock.
 * - Grants are always 4 KiB Xen pages (VMSG_XEN_PAGE_SIZE), whatever the
 *   kernel's page size.
 */
#ifndef VMSG_XEN_PLATFORM_H
#define VMSG_XEN_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMSG_XEN_PAGE_SIZE 4096u

/* Xen's DOMID_SELF is not a valid peer; real domain ids are < 0x7FF0. */
#define VMSG_DOMID_INVALID UINT32_MAX

/* No unmap notification (notify_offset / notify_port argument). */
#define VMSG_NOTIFY_NONE (-1)

/* The null transaction: an operation outside any transaction. */
#define VMSG_XS_TX_NONE 0u

/* Xenstore permission bits, as in xenstore_lib.h. */
enum {
    VMSG_XS_PERM_NONE = 0x0,
    VMSG_XS_PERM_READ = 0x1,
    VMSG_XS_PERM_WRITE = 0x2,
    VMSG_XS_PERM_BOTH = 0x3,
};

/*
 * One xenstore permission entry. The first entry of a node's list names the
 * owner (who may always read, write and change permissions) and, in `perms`,
 * what every domain not listed later may do. Later entries give one domain
 * its own rights. Dom0 (a privileged connection) may do anything.
 * Xenstore's string form: "n0 r5" = owner 0, others none, dom 5 read.
 */
struct vmsg_xs_perm {
    uint32_t domid;
    unsigned perms;   /* VMSG_XS_PERM_* */
};

struct vmsg_platform;

/*
 * The ops a platform implements. Each receives the platform it was called
 * on (ops use p->ctx) and follows the return conventions documented on the
 * vmsg_plat_* wrappers below, which are the only callers.
 */
struct vmsg_platform_ops {
    const char *name;
    void (*close)(struct vmsg_platform *p);

    int (*own_domid)(struct vmsg_platform *p, uint32_t *domid);
    int (*domain_alive)(struct vmsg_platform *p, uint32_t domid);

    int (*evtchn_fd)(struct vmsg_platform *p);
    int (*evtchn_bind_unbound)(struct vmsg_platform *p, uint32_t remote_domid, uint32_t *port);
    int (*evtchn_bind_interdomain)(struct vmsg_platform *p, uint32_t remote_domid,
                                   uint32_t remote_port, uint32_t *local_port);
    int (*evtchn_unbind)(struct vmsg_platform *p, uint32_t port);
    int (*evtchn_notify)(struct vmsg_platform *p, uint32_t port);
    int (*evtchn_pending)(struct vmsg_platform *p, uint32_t *port);
    int (*evtchn_unmask)(struct vmsg_platform *p, uint32_t port);

    int (*gntshr_share)(struct vmsg_platform *p, uint32_t domid, unsigned count, bool writable,
                        long notify_offset, long notify_port, uint32_t *refs, void **addr);
    int (*gntshr_unshare)(struct vmsg_platform *p, void *addr, unsigned count);
    int (*gnttab_map)(struct vmsg_platform *p, uint32_t domid, unsigned count,
                      const uint32_t *refs, bool writable, long notify_offset,
                      long notify_port, void **addr);
    int (*gnttab_unmap)(struct vmsg_platform *p, void *addr, unsigned count);

    int (*xs_read)(struct vmsg_platform *p, uint32_t tx, const char *path, char **value,
                   size_t *len);
    int (*xs_write)(struct vmsg_platform *p, uint32_t tx, const char *path, const void *value,
                    size_t len);
    int (*xs_mkdir)(struct vmsg_platform *p, uint32_t tx, const char *path);
    int (*xs_rm)(struct vmsg_platform *p, uint32_t tx, const char *path);
    int (*xs_directory)(struct vmsg_platform *p, uint32_t tx, const char *path, char ***names,
                        unsigned *count);
    int (*xs_set_perms)(struct vmsg_platform *p, uint32_t tx, const char *path,
                        const struct vmsg_xs_perm *perms, unsigned count);
    int (*xs_get_perms)(struct vmsg_platform *p, uint32_t tx, const char *path,
                        struct vmsg_xs_perm **perms, unsigned *count);
    int (*xs_watch_fd)(struct vmsg_platform *p);
    int (*xs_watch)(struct vmsg_platform *p, const char *path, const char *token);
    int (*xs_unwatch)(struct vmsg_platform *p, const char *path, const char *token);
    int (*xs_read_watch)(struct vmsg_platform *p, char **path, char **token);
    int (*xs_tx_start)(struct vmsg_platform *p, uint32_t *tx);
    int (*xs_tx_end)(struct vmsg_platform *p, uint32_t tx, bool abort);
};

/* A platform instance. Callers treat it as opaque and use vmsg_plat_*(). */
struct vmsg_platform {
    const struct vmsg_platform_ops *ops;
    void *ctx;
    char error[256];
};

/*
 * Open the real platform on libxen*. Opens xenstore, the event channel
 * device and the gntdev/gntalloc devices that are present. In a domU without
 * privileges domain_alive() reports -ENOSYS instead of failing the open.
 * Returns 0 and *out, or a negative errno with a message in *err (which may
 * be NULL) of at most errlen bytes.
 */
int vmsg_plat_xen_open(struct vmsg_platform **out, char *err, size_t errlen);

/* Release everything the handle holds (ports, shares, mappings, watches). */
void vmsg_plat_close(struct vmsg_platform *p);

/* The message recorded by the last failing call on this platform. */
const char *vmsg_plat_last_error(const struct vmsg_platform *p);

/*
 * Record a failure: formats "<context>: <strerror(-err)>" into p->error and
 * returns err (a negative errno) so implementations can `return
 * vmsg_plat_fail(p, -EINVAL, "map %u refs", n);`.
 */
int vmsg_plat_fail(struct vmsg_platform *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- identity ------------------------------------------------------------ */

/* This domain's id (xenstore "domid"). 0 or negative errno. */
int vmsg_plat_own_domid(struct vmsg_platform *p, uint32_t *domid);

/*
 * Whether domain `domid` exists and is not dying.
 * Returns 1 alive, 0 gone or dying, -ENOSYS when this domain may ask
 * neither Xen (domctl) nor xenstored (a driver domain: use the xenstore
 * tree instead, docs/driver-domain.md), other negative errno on failure.
 */
int vmsg_plat_domain_alive(struct vmsg_platform *p, uint32_t domid);

/* ---- event channels ------------------------------------------------------ */

/*
 * The fd that becomes readable (POLLIN) when a bound port fired. Never
 * closed by the caller. Returns the fd or a negative errno.
 */
int vmsg_plat_evtchn_fd(struct vmsg_platform *p);

/* Allocate a port that `remote_domid` may bind to. 0 and *port, or -errno. */
int vmsg_plat_evtchn_bind_unbound(struct vmsg_platform *p, uint32_t remote_domid,
                                  uint32_t *port);

/*
 * Connect to port `remote_port` of `remote_domid`, which that domain
 * allocated for us with bind_unbound. Xen marks the new local port pending
 * once (a kick sent before the bind may have been lost), so treat every
 * event as a hint to re-check shared state. 0 and *local_port, or -errno
 * (-EINVAL: no such unbound port for us).
 */
int vmsg_plat_evtchn_bind_interdomain(struct vmsg_platform *p, uint32_t remote_domid,
                                      uint32_t remote_port, uint32_t *local_port);

/* Close a local port; the peer's end becomes unbound. 0 or -errno. */
int vmsg_plat_evtchn_unbind(struct vmsg_platform *p, uint32_t port);

/* Kick the peer of a local port. 0 or -errno. */
int vmsg_plat_evtchn_notify(struct vmsg_platform *p, uint32_t port);

/*
 * Take one fired port. The port stays masked (further kicks are latched, not
 * delivered) until vmsg_plat_evtchn_unmask(). Never blocks.
 * Returns 0 and *port, -EAGAIN when nothing is pending, other -errno.
 */
int vmsg_plat_evtchn_pending(struct vmsg_platform *p, uint32_t *port);

/* Re-enable delivery on a port; a latched kick is delivered now. 0 / -errno. */
int vmsg_plat_evtchn_unmask(struct vmsg_platform *p, uint32_t port);

/* ---- grants -------------------------------------------------------------- */

/*
 * Allocate `count` zeroed, contiguous 4 KiB pages and grant them to `domid`
 * (read-only unless `writable`). refs[i] is the grant of page i.
 * Unmap notification: when these pages are unshared (also when the handle is
 * closed or the process dies), the byte at `notify_offset` (counted from the
 * start of the area, < count * 4096) is cleared and `notify_port` (a local
 * port) is notified; VMSG_NOTIFY_NONE disables either part.
 * Returns 0 and *addr, or -errno.
 */
int vmsg_plat_gntshr_share(struct vmsg_platform *p, uint32_t domid, unsigned count,
                           bool writable, long notify_offset, long notify_port,
                           uint32_t *refs, void **addr);

/*
 * Stop sharing pages returned by gntshr_share (whole area only). Pages the
 * peer still maps stay alive until it unmaps them. 0 or -errno.
 */
int vmsg_plat_gntshr_unshare(struct vmsg_platform *p, void *addr, unsigned count);

/*
 * Map `count` grant refs of domain `domid` into one contiguous area, read-only
 * unless `writable`. Unmap notification as for gntshr_share: on unmap (or
 * close, or death of this process) the byte at `notify_offset` of the area is
 * cleared and local port `notify_port` is notified.
 * Returns 0 and *addr, or -errno (-EINVAL/-ENOENT: a ref that is not granted
 * to us; -EACCES: write map of a read-only grant).
 */
int vmsg_plat_gnttab_map(struct vmsg_platform *p, uint32_t domid, unsigned count,
                         const uint32_t *refs, bool writable, long notify_offset,
                         long notify_port, void **addr);

/* Unmap an area returned by gnttab_map (whole area only). 0 or -errno. */
int vmsg_plat_gnttab_unmap(struct vmsg_platform *p, void *addr, unsigned count);

/* ---- xenstore ------------------------------------------------------------ */
/*
 * Paths are absolute ("/local/domain/0/...") or relative to this domain's
 * home "/local/domain/<own domid>". `tx` is VMSG_XS_TX_NONE or a transaction
 * from vmsg_plat_xs_tx_start(). Errors as xenstored reports them: -ENOENT no
 * such node, -EACCES not permitted, -EINVAL bad path, -EAGAIN transaction
 * conflict (only from tx_end), -EEXIST, -ENOSPC quota.
 */

/*
 * Read a node. *value is malloc()ed, NUL-terminated (the terminator is not
 * counted in *len, which may be NULL); free() it. 0 or -errno.
 */
int vmsg_plat_xs_read(struct vmsg_platform *p, uint32_t tx, const char *path, char **value,
                      size_t *len);

/* Write a node, creating it and missing parents (which inherit permissions). */
int vmsg_plat_xs_write(struct vmsg_platform *p, uint32_t tx, const char *path,
                       const void *value, size_t len);

/* printf-style convenience for vmsg_plat_xs_write(). */
int vmsg_plat_xs_printf(struct vmsg_platform *p, uint32_t tx, const char *path,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Create an empty node (and parents); an existing node is left alone. */
int vmsg_plat_xs_mkdir(struct vmsg_platform *p, uint32_t tx, const char *path);

/* Remove a node and everything below it; a missing node whose parent exists is 0. */
int vmsg_plat_xs_rm(struct vmsg_platform *p, uint32_t tx, const char *path);

/*
 * List the children's names (not full paths). *names is one malloc()ed block:
 * free(*names) releases the array and the strings. 0 or -errno.
 */
int vmsg_plat_xs_directory(struct vmsg_platform *p, uint32_t tx, const char *path,
                           char ***names, unsigned *count);

/* Replace a node's permission list (owner first). Only the owner or dom0. */
int vmsg_plat_xs_set_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                           const struct vmsg_xs_perm *perms, unsigned count);

/* A node's permission list; *perms is malloc()ed, owner first. 0 or -errno. */
int vmsg_plat_xs_get_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                           struct vmsg_xs_perm **perms, unsigned *count);

/*
 * The fd that becomes readable when a watch event is queued. Returns the fd
 * or -errno. Never closed by the caller.
 */
int vmsg_plat_xs_watch_fd(struct vmsg_platform *p);

/*
 * Watch `path` and everything below it (or a special path such as
 * "@releaseDomain"). Like xenstored, one event for `path` itself is queued
 * right away, so a watcher never misses the state before it registered.
 * 0 or -errno.
 */
int vmsg_plat_xs_watch(struct vmsg_platform *p, const char *path, const char *token);

/* Remove a watch; events already queued stay queued. 0 or -errno. */
int vmsg_plat_xs_unwatch(struct vmsg_platform *p, const char *path, const char *token);

/*
 * Take one queued watch event without blocking. *path and *token are
 * malloc()ed; free() both. 0, -EAGAIN when none is queued, other -errno.
 */
int vmsg_plat_xs_read_watch(struct vmsg_platform *p, char **path, char **token);

/* Start a transaction. 0 and *tx, or -errno. */
int vmsg_plat_xs_tx_start(struct vmsg_platform *p, uint32_t *tx);

/*
 * Commit (abort = false) or abandon a transaction. -EAGAIN: another writer
 * changed something this transaction touched; nothing was applied. 0 / -errno.
 */
int vmsg_plat_xs_tx_end(struct vmsg_platform *p, uint32_t tx, bool abort);

/*
 * Run `body` in a transaction and commit it, running the whole body again
 * (in a fresh transaction) as long as the commit reports -EAGAIN, at most
 * `max_attempts` times (0 = 16). `body` returns 0 to commit or a negative
 * errno to abort; that value is returned as is (-EAGAIN from body retries).
 * Returns 0 once committed, -EAGAIN when every attempt conflicted, other -errno.
 */
int vmsg_plat_xs_transaction(struct vmsg_platform *p, unsigned max_attempts,
                             int (*body)(struct vmsg_platform *p, uint32_t tx, void *arg),
                             void *arg);

/* ---- helpers over the ops ------------------------------------------------ */

/* Parse "n0 r5 b7" into perms (at most max). Returns the count or -EINVAL. */
int vmsg_xs_perms_parse(const char *s, struct vmsg_xs_perm *perms, unsigned max);

/* Format perms as "n0 r5 b7" into buf. Returns 0 or -ENOSPC. */
int vmsg_xs_perms_format(const struct vmsg_xs_perm *perms, unsigned count, char *buf,
                         size_t len);

#endif
