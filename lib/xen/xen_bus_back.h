/*
 * lib/xen/xen_bus_back.h: the backend end of one Xen bus instance, the
 * device side of the virtio-msg transport (docs/protocol.md section 3).
 *
 * Owns: B's parameters and state, the backend's XenbusState machine
 * (InitWait -> Connected on F Initialised; Closed when the frontend
 * closes, dies or breaks the framing; back to InitWait once F is Closed,
 * Initialising or gone; Closing -> Closed when the backend itself stops),
 * the mapped channel and pool, and a struct vmsg_bus (send, recv, wait,
 * fd, map, unmap) for vmsg_devbus.
 *
 * It does not own devices: the daemon adds them to its vmsg_devbus and
 * keeps B/devices/ in step (xen_schema.h has the node helpers). Before the
 * backend unmaps anything it calls hooks.reset, where the daemon resets
 * every device (vmsg_devbus_reset_all) so no model touches guest memory
 * or sends afterwards.
 *
 * The platform handle passed to open is this bus instance's own (its
 * event channel and watch events are consumed here); one thread drives an
 * instance. A daemon's loop per instance:
 *
 *     poll { vmsg_xen_back_watch_fd(b), vmsg_xen_back_bus(b)->ops->fd(bus) }
 *     watch fd readable, or a bus error:  vmsg_xen_back_update(b)
 *     vmsg_xen_back_connected(b):         vmsg_devbus_poll(&db, 0)
 *                                          (-EPIPE / -EPROTO -> update;
 *                                          db.backlog -> poll without sleeping)
 *     vmsg_xen_back_finished(b):          vmsg_xen_back_close(b)
 */
#ifndef VMSG_XEN_BUS_BACK_H
#define VMSG_XEN_BUS_BACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "transport/vmsg_bus.h"
#include "xen/platform.h"
#include "xen/xen_channel.h"
#include "xen/xen_memory.h"
#include "xen/xen_schema.h"

struct vmsg_xen_back;

struct vmsg_xen_back_hooks {
    /* Reset every device: called before each disconnect unmaps. May be NULL. */
    void (*reset)(struct vmsg_xen_back *b, void *opaque);
    void *opaque;
};

struct vmsg_xen_back {
    struct vmsg_bus bus;                /* device side: map/unmap, no alloc */
    struct vmsg_platform *plat;
    pthread_mutex_t plat_lock;          /* every platform call of this instance */
    uint32_t be_domid, fe_domid;
    unsigned index;
    char bdir[VMSG_XS_PATH_MAX], fdir[VMSG_XS_PATH_MAX];
    char token[48];                     /* our watches */
    struct vmsg_xen_back_params params;
    struct vmsg_xen_back_hooks hooks;
    unsigned state;                     /* B/state as we last wrote it */
    bool rejected;                      /* refused the current F Initialised */
    bool finished;                      /* closed for good: call close */
    struct vmsg_xen_chan chan;
    struct vmsg_xen_bmem mem;
};

/*
 * Take on bus instance `bus_index` of frontend domain `fe_domid`: check
 * the toolstack's B nodes (frontend, frontend-id), publish the parameters
 * and go to InitWait, and watch F/state and B/online. Call
 * vmsg_xen_back_update() next (the watches fire once right away).
 * `params` may be NULL (defaults: 264 bytes, 16384 pool pages).
 * Returns 0 and *out, -EINVAL (bad arguments or toolstack nodes that do
 * not name this frontend), -ENOENT (B missing), -ENOMEM, other -errno.
 */
int vmsg_xen_back_open(struct vmsg_xen_back **out, struct vmsg_platform *plat,
                       uint32_t fe_domid, unsigned bus_index,
                       const struct vmsg_xen_back_params *params,
                       const struct vmsg_xen_back_hooks *hooks);

/*
 * Take the queued watch events and advance the state machine from what
 * xenstore and the channel say now: connect when F is Initialised (on a
 * protocol error write B/error and stay in InitWait), disconnect (reset
 * hook, unmap, Closed) when F is Closing/Closed/Initialising/gone, the
 * frontend's live byte is 0 or the framing broke (B/error says so), return
 * to InitWait when F is Closed, Initialising or gone, and close for good
 * when B/online is 0. Safe to call at any time (spurious events).
 * Returns the backend's XenbusState after the update, or a negative errno
 * when xenstore itself failed.
 */
int vmsg_xen_back_update(struct vmsg_xen_back *b);

/*
 * The frontend domain was destroyed (@releaseDomain and it no longer
 * exists): reset, unmap and unbind without waiting for anything, remove B
 * and mark the instance finished. Returns 0 or -errno from removing B.
 */
int vmsg_xen_back_domain_gone(struct vmsg_xen_back *b);

/*
 * The backend stops (SIGTERM): Closing, reset hook, unmap, Closed, drop
 * the watches and free *b. With the instance finished by domain_gone()
 * it only frees. Leaves no grant mapped and no port bound.
 */
void vmsg_xen_back_close(struct vmsg_xen_back *b);

/* The device-side bus (valid from open to close). */
struct vmsg_bus *vmsg_xen_back_bus(struct vmsg_xen_back *b);

/* The fd that polls readable when a watch event is queued. */
int vmsg_xen_back_watch_fd(struct vmsg_xen_back *b);

/* Whether the instance is Connected (devices may be served). */
bool vmsg_xen_back_connected(const struct vmsg_xen_back *b);

/* Whether the instance is closed for good (online 0, domain gone). */
bool vmsg_xen_back_finished(const struct vmsg_xen_back *b);

#endif
