/*
 * lib/xen/xen_bus_front.c: the frontend end of a bus instance (see
 * xen_bus_front.h).
 */
#include "config.h"

#include "xen/xen_bus_front.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/vmsg_log.h"

static struct vmsg_xen_front *front_of(struct vmsg_bus *bus)
{
    return container_of(bus, struct vmsg_xen_front, bus);
}

/* ---- bus ops -------------------------------------------------------------------- */

static int front_send(struct vmsg_bus *bus, const void *msg, size_t len, int timeout_ms)
{
    struct vmsg_xen_front *f = front_of(bus);

    /* Section 3: nothing is written before B is Connected, nor while
     * closing. */
    if (!__atomic_load_n(&f->connected, __ATOMIC_ACQUIRE))
        return -EPIPE;
    return vmsg_xen_chan_send(&f->chan, msg, len, timeout_ms);
}

static int front_recv(struct vmsg_bus *bus, void *buf, size_t cap)
{
    return vmsg_xen_chan_recv(&front_of(bus)->chan, buf, cap);
}

static int front_wait(struct vmsg_bus *bus, int timeout_ms)
{
    return vmsg_xen_chan_wait(&front_of(bus)->chan, timeout_ms);
}

static int front_fd(struct vmsg_bus *bus)
{
    return vmsg_plat_evtchn_fd(front_of(bus)->plat);
}

static void front_rearm(struct vmsg_bus *bus)
{
    vmsg_xen_chan_eoi(&front_of(bus)->chan);
}

static int front_alloc(struct vmsg_bus *bus, size_t len, size_t align, uint64_t *addr,
                       void **ptr)
{
    struct vmsg_xen_front *f = front_of(bus);

    return f->shared ? vmsg_pool_alloc(&f->pool.alloc, len, align, addr, ptr) : -ENOMEM;
}

static void front_free(struct vmsg_bus *bus, uint64_t addr, size_t len)
{
    struct vmsg_xen_front *f = front_of(bus);

    /* After a disconnect the pool is gone and so is every allocation. */
    if (f->shared)
        vmsg_pool_free(&f->pool.alloc, addr, len);
}

static const struct vmsg_bus_ops front_ops = {
    .send = front_send,
    .recv = front_recv,
    .wait = front_wait,
    .fd = front_fd,
    .rearm = front_rearm,
    .alloc = front_alloc,
    .free = front_free,
};

/* ---- state machine ---------------------------------------------------------------- */

static int set_state(struct vmsg_xen_front *f, unsigned to)
{
    int rc;

    pthread_mutex_lock(&f->plat_lock);
    rc = vmsg_xs_write_state(f->plat, VMSG_XS_TX_NONE, f->fdir, "frontend", f->state, to);
    pthread_mutex_unlock(&f->plat_lock);
    if (rc == 0)
        f->state = to;
    return rc;
}

/* B/error now, malloc()ed, or NULL if there is none. */
static char *read_be_error(struct vmsg_xen_front *f)
{
    char path[VMSG_XS_PATH_MAX + 16];
    char *v = NULL;

    snprintf(path, sizeof(path), "%s/error", f->bdir);
    if (vmsg_plat_xs_read(f->plat, VMSG_XS_TX_NONE, path, &v, NULL))
        return NULL;
    return v;
}

static void ungrant(struct vmsg_xen_front *f)
{
    __atomic_store_n(&f->connected, false, __ATOMIC_RELEASE);
    if (!f->shared)
        return;
    vmsg_xen_fpool_close(&f->pool);
    vmsg_xen_chan_close(&f->chan);
    f->shared = false;
}

/* The peer is gone or refused us: drop everything and go Closed. */
static int fail_closed(struct vmsg_xen_front *f, int err, const char *why)
{
    vmsg_warn("frontend %s: %s", f->fdir, why);
    ungrant(f);
    set_state(f, VMSG_XB_CLOSED);
    return err;
}

/* B InitWait: read B, grant the channel and pool, publish, Initialised. */
static int publish(struct vmsg_xen_front *f)
{
    struct vmsg_xs_back_info be;
    struct vmsg_xs_front_info *info;
    uint32_t max_msg;
    int rc;

    pthread_mutex_lock(&f->plat_lock);
    rc = vmsg_xs_front_read_backend(f->plat, f->bdir, &be);
    pthread_mutex_unlock(&f->plat_lock);
    if (rc)
        return rc;
    if (f->pool_pages > be.max_pool_pages) {
        vmsg_err("frontend %s: the backend maps at most %u pool pages, %u asked", f->fdir,
                 be.max_pool_pages, f->pool_pages);
        return -E2BIG;
    }
    /* Section 2.4: the effective maximum is the smaller of the two. */
    max_msg = be.max_msg_size;
    if (f->want_max_msg && f->want_max_msg < max_msg)
        max_msg = f->want_max_msg;
    info = calloc(1, sizeof(*info));
    if (!info)
        return -ENOMEM;
    rc = vmsg_xen_chan_server_open(&f->chan, f->plat, &f->plat_lock, f->be_domid, max_msg);
    if (rc)
        goto out;
    rc = vmsg_xen_fpool_open(&f->pool, f->plat, &f->plat_lock, f->be_domid, f->pool_pages);
    if (rc)
        goto err_chan;
    f->shared = true;
    f->bus.wire.max_msg_size = f->chan.max_msg;
    info->ring_ref = f->chan.ring_ref;
    info->event_channel = f->chan.port;
    info->version = VMSG_XEN_BUS_VERSION;
    info->max_msg_size = f->want_max_msg && f->want_max_msg < be.max_msg_size ? f->want_max_msg
                                                                             : 0;
    info->pool_pages = f->pool_pages;
    info->ndir = f->pool.ndir;
    memcpy(info->pool_dir_refs, f->pool.dir_refs, f->pool.ndir * sizeof(uint32_t));
    pthread_mutex_lock(&f->plat_lock);
    free(f->be_error);
    f->be_error = read_be_error(f);
    rc = vmsg_xs_front_publish(f->plat, f->fdir, info, f->state);
    pthread_mutex_unlock(&f->plat_lock);
    if (rc)
        goto err_ungrant;
    f->state = VMSG_XB_INITIALISED;
    free(info);
    return 0;

err_ungrant:
    ungrant(f);
    free(info);
    return rc;
err_chan:
    vmsg_xen_chan_close(&f->chan);
out:
    free(info);
    return rc;
}

/* Whether the backend refused what we published (a new B/error). */
static bool refused(struct vmsg_xen_front *f)
{
    char *now;
    bool changed;

    pthread_mutex_lock(&f->plat_lock);
    now = read_be_error(f);
    pthread_mutex_unlock(&f->plat_lock);
    changed = now && (!f->be_error || strcmp(now, f->be_error));
    if (changed) {
        char enow[VMSG_LOG_ESCAPED_SIZE(192)];

        /* The peer's text: escaped like every string a peer chose. */
        vmsg_err("frontend %s: the backend refused the connection: %s", f->fdir,
                 vmsg_log_escape(enow, sizeof(enow), now));
    }
    free(now);
    return changed;
}

/* While Connected: whether the backend we connected to is no more. B
 * back in InitWait or Initialising means a new backend process took the
 * instance on (the old one was killed and its unmap notification has not
 * reached us yet, or was lost). */
static bool backend_gone(struct vmsg_xen_front *f, int be_rc)
{
    return be_rc || f->be_state >= VMSG_XB_CLOSING || f->be_state == VMSG_XB_UNKNOWN ||
           f->be_state == VMSG_XB_INITWAIT || f->be_state == VMSG_XB_INITIALISING ||
           (f->shared && !vmsg_xen_chan_peer_alive(&f->chan));
}

int vmsg_xen_front_step(struct vmsg_xen_front *f)
{
    unsigned be_state = VMSG_XB_UNKNOWN;
    int be_rc;

    pthread_mutex_lock(&f->plat_lock);
    vmsg_xs_watch_drain(f->plat);
    be_rc = vmsg_xs_read_state(f->plat, VMSG_XS_TX_NONE, f->bdir, &be_state);
    pthread_mutex_unlock(&f->plat_lock);
    f->be_state = be_rc ? VMSG_XB_UNKNOWN : be_state;

    switch (f->state) {
    case VMSG_XB_CLOSING:
        if (be_rc || f->be_state == VMSG_XB_CLOSED || f->be_state == VMSG_XB_INITWAIT ||
            !vmsg_xen_chan_peer_alive(&f->chan) || vmsg_now_ms() >= f->close_deadline_ms) {
            ungrant(f);
            set_state(f, VMSG_XB_CLOSED);
        }
        break;
    case VMSG_XB_INITIALISED:
        if (f->be_state == VMSG_XB_CONNECTED) {
            if (!vmsg_xen_chan_peer_alive(&f->chan))
                return fail_closed(f, -EPIPE, "the backend connected and died (cli_live 0)");
            if (set_state(f, VMSG_XB_CONNECTED) == 0)
                __atomic_store_n(&f->connected, true, __ATOMIC_RELEASE);
        } else if (f->be_state != VMSG_XB_INITWAIT) {
            return fail_closed(f, -EPIPE, "the backend left InitWait without connecting");
        } else if (refused(f)) {
            return fail_closed(f, -EPROTO, "refused by the backend");
        }
        break;
    case VMSG_XB_CONNECTED:
        if (backend_gone(f, be_rc) || f->chan.broken)
            return fail_closed(f, -EPIPE, f->chan.broken ? "framing error from the backend"
                                                         : "the backend went away");
        break;
    default:
        /* Initialising, Closed (or a state someone else left): start once
         * the backend waits for us. */
        if (!be_rc && f->be_state == VMSG_XB_INITWAIT) {
            int rc = publish(f);
            if (rc)
                return rc;
        }
        break;
    }
    return (int)f->state;
}

int vmsg_xen_front_connect(struct vmsg_xen_front *f, int timeout_ms)
{
    uint64_t deadline = vmsg_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

    for (;;) {
        struct pollfd pfd = { .fd = vmsg_xen_front_watch_fd(f), .events = POLLIN };
        uint64_t now;
        int rc = vmsg_xen_front_step(f);

        if (rc < 0)
            return rc;
        if (rc == VMSG_XB_CONNECTED)
            return 0;
        now = vmsg_now_ms();
        if (timeout_ms >= 0 && now >= deadline)
            return -ETIMEDOUT;
        /* Bounded sleeps: the backend's cli_live going to 0 kicks the
         * event channel, not the watch fd. */
        rc = poll(&pfd, 1, timeout_ms < 0 || deadline - now > 100 ? 100 : (int)(deadline - now));
        if (rc < 0 && errno != EINTR)
            return -errno;
    }
}

int vmsg_xen_front_begin_close(struct vmsg_xen_front *f)
{
    if (f->state == VMSG_XB_CLOSING || f->state == VMSG_XB_CLOSED ||
        f->state == VMSG_XB_INITIALISING) {
        ungrant(f);
        return 0;
    }
    __atomic_store_n(&f->connected, false, __ATOMIC_RELEASE);
    f->close_deadline_ms = vmsg_now_ms() + VMSG_XEN_FRONT_CLOSE_WAIT_MS;
    return set_state(f, VMSG_XB_CLOSING);
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static int watch(struct vmsg_xen_front *f, const char *node, bool on)
{
    char path[VMSG_XS_PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/%s", f->bdir, node);
    return on ? vmsg_plat_xs_watch(f->plat, path, f->token)
              : vmsg_plat_xs_unwatch(f->plat, path, f->token);
}

int vmsg_xen_front_open(struct vmsg_xen_front **out, struct vmsg_platform *plat,
                        unsigned bus_index, uint32_t pool_pages, uint32_t max_msg_size)
{
    struct vmsg_xen_front *f;
    uint32_t st;
    int rc;

    if (!out || !plat || bus_index > VMSG_XEN_BUS_INDEX_MAX || pool_pages == 0 ||
        pool_pages > VMSG_XEN_POOL_PAGES_LIMIT ||
        (max_msg_size && (max_msg_size < 48 || max_msg_size > 65535)))
        return -EINVAL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->plat = plat;
    f->index = bus_index;
    f->pool_pages = pool_pages;
    f->want_max_msg = max_msg_size;
    pthread_mutex_init(&f->plat_lock, NULL);
    f->bus.ops = &front_ops;
    f->bus.wire.layout = VMSG_LAYOUT_V1;
    f->bus.wire.max_msg_size = 264;
    f->bus.revision = 1;
    f->bus.transport_features = 0;
    snprintf(f->token, sizeof(f->token), "vmsg-front/%u", bus_index);

    if ((rc = vmsg_plat_own_domid(plat, &f->fe_domid)))
        goto err;
    snprintf(f->bus.name, sizeof(f->bus.name), "dom%u/bus%u", f->fe_domid, bus_index);
    if ((rc = vmsg_xs_fe_dir(f->fdir, sizeof(f->fdir), f->fe_domid, bus_index)))
        goto err;
    rc = vmsg_xs_front_read_toolstack(plat, f->fdir, f->fe_domid, bus_index, &f->be_domid,
                                      f->bdir);
    if (rc) {
        vmsg_err("frontend %s: no usable bus instance: %s", f->fdir, strerror(-rc));
        goto err;
    }
    rc = vmsg_xs_read_u32(plat, VMSG_XS_TX_NONE, f->fdir, "state", 0, VMSG_XB_STATE_MAX, &st);
    if (rc)
        goto err;
    f->state = st;
    /* A state left by an earlier instance of us (crashed, kexec): start
     * again from Initialising, which also tells the backend to let go. */
    if (f->state != VMSG_XB_INITIALISING && (rc = set_state(f, VMSG_XB_INITIALISING)))
        goto err;
    if ((rc = watch(f, "state", true)))
        goto err;
    if ((rc = watch(f, "error", true)))
        goto err_unwatch;
    *out = f;
    return 0;

err_unwatch:
    watch(f, "state", false);
err:
    pthread_mutex_destroy(&f->plat_lock);
    free(f);
    return rc;
}

void vmsg_xen_front_close(struct vmsg_xen_front *f)
{
    if (!f)
        return;
    vmsg_xen_front_begin_close(f);
    while (f->state == VMSG_XB_CLOSING) {
        struct pollfd pfd = { .fd = vmsg_xen_front_watch_fd(f), .events = POLLIN };

        if (vmsg_xen_front_step(f) < 0)
            break;
        if (f->state == VMSG_XB_CLOSING)
            poll(&pfd, 1, 50);
    }
    ungrant(f);
    if (f->state != VMSG_XB_CLOSED && f->state != VMSG_XB_INITIALISING)
        set_state(f, VMSG_XB_CLOSED);
    watch(f, "state", false);
    watch(f, "error", false);
    free(f->be_error);
    pthread_mutex_destroy(&f->plat_lock);
    free(f);
}

struct vmsg_bus *vmsg_xen_front_bus(struct vmsg_xen_front *f)
{
    return &f->bus;
}

int vmsg_xen_front_watch_fd(struct vmsg_xen_front *f)
{
    return vmsg_plat_xs_watch_fd(f->plat);
}

bool vmsg_xen_front_connected(const struct vmsg_xen_front *f)
{
    return __atomic_load_n(&f->connected, __ATOMIC_ACQUIRE);
}
