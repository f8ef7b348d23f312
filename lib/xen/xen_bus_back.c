/*
 * lib/xen/xen_bus_back.c: the backend end of a bus instance (see
 * xen_bus_back.h).
 */
#include "config.h"

#include "xen/xen_bus_back.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/vmsg_log.h"

static struct vmsg_xen_back *back_of(struct vmsg_bus *bus)
{
    return container_of(bus, struct vmsg_xen_back, bus);
}

/* ---- bus ops -------------------------------------------------------------------- */

static int back_send(struct vmsg_bus *bus, const void *msg, size_t len, int timeout_ms)
{
    return vmsg_xen_chan_send(&back_of(bus)->chan, msg, len, timeout_ms);
}

static int back_recv(struct vmsg_bus *bus, void *buf, size_t cap)
{
    return vmsg_xen_chan_recv(&back_of(bus)->chan, buf, cap);
}

static int back_wait(struct vmsg_bus *bus, int timeout_ms)
{
    return vmsg_xen_chan_wait(&back_of(bus)->chan, timeout_ms);
}

static int back_fd(struct vmsg_bus *bus)
{
    return vmsg_plat_evtchn_fd(back_of(bus)->plat);
}

static void back_rearm(struct vmsg_bus *bus)
{
    vmsg_xen_chan_eoi(&back_of(bus)->chan);
}

static int back_map(struct vmsg_bus *bus, uint64_t addr, uint64_t len, bool writable,
                    struct vmsg_mapping *out)
{
    return vmsg_xen_bmem_map(&back_of(bus)->mem, addr, len, writable, out);
}

static void back_unmap(struct vmsg_bus *bus, struct vmsg_mapping *m)
{
    vmsg_xen_bmem_unmap(&back_of(bus)->mem, m);
}

static const struct vmsg_bus_ops back_ops = {
    .send = back_send,
    .recv = back_recv,
    .wait = back_wait,
    .fd = back_fd,
    .rearm = back_rearm,
    .map = back_map,
    .unmap = back_unmap,
};

/* ---- state machine ---------------------------------------------------------------- */

static int set_state(struct vmsg_xen_back *b, unsigned to)
{
    int rc;

    pthread_mutex_lock(&b->plat_lock);
    rc = vmsg_xs_write_state(b->plat, VMSG_XS_TX_NONE, b->bdir, "backend", b->state, to);
    pthread_mutex_unlock(&b->plat_lock);
    if (rc == 0)
        b->state = to;
    return rc;
}

static void set_error(struct vmsg_xen_back *b, const char *why)
{
    pthread_mutex_lock(&b->plat_lock);
    vmsg_xs_back_set_error(b->plat, b->bdir, why);
    pthread_mutex_unlock(&b->plat_lock);
}

/* Publish the parameters and go to InitWait (from open, or after Closed). */
static int to_initwait(struct vmsg_xen_back *b)
{
    int rc;

    pthread_mutex_lock(&b->plat_lock);
    rc = vmsg_xs_back_publish(b->plat, b->bdir, &b->params, b->state);
    pthread_mutex_unlock(&b->plat_lock);
    if (rc == 0) {
        b->state = VMSG_XB_INITWAIT;
        b->rejected = false;
    }
    return rc;
}

/* Section 3, "Backend follows a closing frontend", steps 1 and 2. */
static void teardown(struct vmsg_xen_back *b)
{
    if (b->hooks.reset)
        b->hooks.reset(b, b->hooks.opaque);
    vmsg_xen_bmem_close(&b->mem);
    vmsg_xen_chan_close(&b->chan);
}

/* F Initialised: read F once, map, bind, go Connected. */
static int back_connect(struct vmsg_xen_back *b)
{
    struct vmsg_xs_front_info *fi = malloc(sizeof(*fi));
    char why[192];
    int rc;

    if (!fi)
        return -ENOMEM;
    pthread_mutex_lock(&b->plat_lock);
    rc = vmsg_xs_back_read_frontend(b->plat, b->fdir, &b->params, fi, why, sizeof(why));
    pthread_mutex_unlock(&b->plat_lock);
    if (rc)
        goto refuse;
    rc = vmsg_xen_chan_client_open(&b->chan, b->plat, &b->plat_lock, b->fe_domid, fi->ring_ref,
                                   fi->event_channel, fi->max_msg_size);
    if (rc) {
        snprintf(why, sizeof(why), "channel (ring-ref %u, event-channel %u): %s", fi->ring_ref,
                 fi->event_channel, rc == -EPROTO ? "ring orders are not 10/11" : strerror(-rc));
        goto refuse;
    }
    rc = vmsg_xen_bmem_open(&b->mem, b->plat, &b->plat_lock, b->fe_domid, fi->pool_pages,
                            fi->pool_dir_refs, fi->ndir);
    if (rc) {
        snprintf(why, sizeof(why), "pool (%u pages, pool-dir-ref): cannot map: %s",
                 fi->pool_pages, strerror(-rc));
        goto err_chan;
    }
    b->bus.wire.max_msg_size = b->chan.max_msg;
    rc = set_state(b, VMSG_XB_CONNECTED);
    if (rc)
        goto err_mem;
    pthread_mutex_lock(&b->plat_lock);
    vmsg_xs_back_clear_error(b->plat, b->bdir);
    pthread_mutex_unlock(&b->plat_lock);
    vmsg_info("backend %s: serving dom%u: max message %u bytes, pool %u pages", b->bdir,
              b->fe_domid, b->chan.max_msg, fi->pool_pages);
    free(fi);
    return 0;

err_mem:
    vmsg_xen_bmem_close(&b->mem);
err_chan:
    vmsg_xen_chan_close(&b->chan);
refuse:
    /* Section 2.4 / 9: write error, do not connect, stay in InitWait. */
    if (rc != -ENOMEM) {
        set_error(b, why);
        b->rejected = true;
    }
    free(fi);
    return rc;
}

/* Why a Connected instance must stop now, or NULL. */
static const char *disconnect_reason(struct vmsg_xen_back *b, int fe_rc, unsigned fe_state)
{
    if (b->chan.broken)
        return "framing error";
    if (fe_rc)
        return "frontend directory unreadable or gone";
    if (fe_state != VMSG_XB_INITIALISED && fe_state != VMSG_XB_CONNECTED)
        return vmsg_xb_state_name(fe_state);
    if (!vmsg_xen_chan_peer_alive(&b->chan))
        return "srv_live 0 (frontend gone)";
    return NULL;
}

static int stop_for_good(struct vmsg_xen_back *b)
{
    vmsg_info("backend %s: online is 0: closing", b->bdir);
    if (b->state != VMSG_XB_CLOSED)
        set_state(b, VMSG_XB_CLOSING);
    teardown(b);
    if (b->state != VMSG_XB_CLOSED)
        set_state(b, VMSG_XB_CLOSED);
    b->finished = true;
    return (int)b->state;
}

int vmsg_xen_back_update(struct vmsg_xen_back *b)
{
    unsigned fe_state = VMSG_XB_UNKNOWN;
    bool online = true;
    int fe_rc, rc;

    if (b->finished)
        return (int)b->state;
    pthread_mutex_lock(&b->plat_lock);
    vmsg_xs_watch_drain(b->plat);
    rc = vmsg_xs_read_online(b->plat, b->bdir, &online);
    fe_rc = vmsg_xs_read_state(b->plat, VMSG_XS_TX_NONE, b->fdir, &fe_state);
    pthread_mutex_unlock(&b->plat_lock);
    if (rc == 0 && !online)
        return stop_for_good(b);
    if (rc && rc != -EINVAL && rc != -ERANGE)
        return rc;  /* xenstore failed: try again on the next event */

    if (b->state == VMSG_XB_CONNECTED) {
        const char *why = disconnect_reason(b, fe_rc, fe_state);
        if (!why)
            return (int)b->state;
        vmsg_info("backend %s: disconnecting: %s", b->bdir, why);
        teardown(b);
        if (b->chan.broken)
            set_error(b, "framing error on the channel: see the backend's log");
        b->chan.broken = false;
        set_state(b, VMSG_XB_CLOSED);
    }
    if (b->state == VMSG_XB_CLOSED) {
        /* Section 3 step 4: the frontend finished its side. */
        if (fe_rc || fe_state == VMSG_XB_CLOSED || fe_state == VMSG_XB_INITIALISING)
            to_initwait(b);
        else
            return (int)b->state;
    }
    if (b->state == VMSG_XB_INITWAIT) {
        if (fe_rc || fe_state != VMSG_XB_INITIALISED)
            b->rejected = false;    /* a new attempt gets a new read of F */
        else if (!b->rejected)
            back_connect(b);
    }
    return (int)b->state;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static int watch(struct vmsg_xen_back *b, const char *dir, const char *node)
{
    char path[VMSG_XS_PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    return vmsg_plat_xs_watch(b->plat, path, b->token);
}

static void unwatch(struct vmsg_xen_back *b, const char *dir, const char *node)
{
    char path[VMSG_XS_PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    vmsg_plat_xs_unwatch(b->plat, path, b->token);
}

int vmsg_xen_back_open(struct vmsg_xen_back **out, struct vmsg_platform *plat,
                       uint32_t fe_domid, unsigned bus_index,
                       const struct vmsg_xen_back_params *params,
                       const struct vmsg_xen_back_hooks *hooks)
{
    struct vmsg_xen_back *b;
    uint32_t st;
    int rc;

    if (!out || !plat || bus_index > VMSG_XEN_BUS_INDEX_MAX || fe_domid > VMSG_XEN_DOMID_MAX)
        return -EINVAL;
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    if (params)
        b->params = *params;
    if ((rc = vmsg_xen_back_params_check(&b->params)))
        goto err_free;
    if (hooks)
        b->hooks = *hooks;
    b->plat = plat;
    b->fe_domid = fe_domid;
    b->index = bus_index;
    pthread_mutex_init(&b->plat_lock, NULL);
    b->bus.ops = &back_ops;
    b->bus.wire.layout = VMSG_LAYOUT_V1;
    b->bus.wire.max_msg_size = b->params.max_msg_size;
    b->bus.revision = 1;
    b->bus.transport_features = 0;
    snprintf(b->bus.name, sizeof(b->bus.name), "dom%u/bus%u", fe_domid, bus_index);
    snprintf(b->token, sizeof(b->token), "vmsg-back/%u/%u", fe_domid, bus_index);

    if ((rc = vmsg_plat_own_domid(plat, &b->be_domid)))
        goto err_lock;
    if ((rc = vmsg_xs_be_dir(b->bdir, sizeof(b->bdir), b->be_domid, fe_domid, bus_index)))
        goto err_lock;
    rc = vmsg_xs_back_read_toolstack(plat, b->bdir, fe_domid, bus_index, b->fdir);
    if (rc) {
        vmsg_err("backend %s: not a bus instance for dom%u: %s", b->bdir, fe_domid,
                 strerror(-rc));
        goto err_lock;
    }
    /* Only for the log line: whatever the toolstack (or we, before a
     * restart) left there, we go to InitWait now. */
    if (vmsg_xs_read_u32(plat, VMSG_XS_TX_NONE, b->bdir, "state", 0, VMSG_XB_STATE_MAX, &st) == 0)
        b->state = st;
    if ((rc = to_initwait(b)))
        goto err_lock;
    if ((rc = watch(b, b->fdir, "state")))
        goto err_lock;
    if ((rc = watch(b, b->bdir, "online")))
        goto err_unwatch;
    *out = b;
    return 0;

err_unwatch:
    unwatch(b, b->fdir, "state");
err_lock:
    pthread_mutex_destroy(&b->plat_lock);
err_free:
    free(b);
    return rc;
}

int vmsg_xen_back_domain_gone(struct vmsg_xen_back *b)
{
    int rc;

    vmsg_info("backend %s: dom%u is gone: releasing everything", b->bdir, b->fe_domid);
    teardown(b);
    b->finished = true;
    pthread_mutex_lock(&b->plat_lock);
    rc = vmsg_plat_xs_rm(b->plat, VMSG_XS_TX_NONE, b->bdir);
    pthread_mutex_unlock(&b->plat_lock);
    return rc;
}

void vmsg_xen_back_close(struct vmsg_xen_back *b)
{
    if (!b)
        return;
    if (!b->finished) {
        /* Section 3, "Backend closes". */
        set_state(b, VMSG_XB_CLOSING);
        teardown(b);
        set_state(b, VMSG_XB_CLOSED);
    }
    unwatch(b, b->fdir, "state");
    unwatch(b, b->bdir, "online");
    pthread_mutex_destroy(&b->plat_lock);
    free(b);
}

struct vmsg_bus *vmsg_xen_back_bus(struct vmsg_xen_back *b)
{
    return &b->bus;
}

int vmsg_xen_back_watch_fd(struct vmsg_xen_back *b)
{
    return vmsg_plat_xs_watch_fd(b->plat);
}

bool vmsg_xen_back_connected(const struct vmsg_xen_back *b)
{
    return b->state == VMSG_XB_CONNECTED;
}

bool vmsg_xen_back_finished(const struct vmsg_xen_back *b)
{
    return b->finished;
}
