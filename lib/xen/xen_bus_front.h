/*
 * lib/xen/xen_bus_front.h: the frontend end of one Xen bus instance, the
 * driver side of the virtio-msg transport (docs/protocol.md section 3).
 *
 * Owns: F's published nodes and state, the frontend's XenbusState machine
 * (Initialising -> Initialised once B is InitWait; Connected once B is
 * Connected; Closing -> Closed on close; Closed when the backend closes,
 * dies or is replaced (B back in InitWait or Initialising while we are
 * Connected), and Initialised again once B is in InitWait), the granted
 * channel page and pool, and a struct vmsg_bus (send, recv, wait, fd,
 * alloc, free) for vmsg_drvbus.
 *
 * Each connection has a new channel and a new pool: after the state left
 * Connected, everything the drivers allocated and negotiated is void and
 * the guest library starts its drivers again.
 *
 * The platform handle is this bus instance's own; one thread drives it
 * (vmsg_bus send() may also come from other threads).
 */
#ifndef VMSG_XEN_BUS_FRONT_H
#define VMSG_XEN_BUS_FRONT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "transport/vmsg_bus.h"
#include "xen/platform.h"
#include "xen/xen_channel.h"
#include "xen/xen_memory.h"
#include "xen/xen_schema.h"

/* Section 8: how long a closing frontend waits for B Closed. */
#define VMSG_XEN_FRONT_CLOSE_WAIT_MS 5000

struct vmsg_xen_front {
    struct vmsg_bus bus;                /* driver side: alloc/free, no map */
    struct vmsg_platform *plat;
    pthread_mutex_t plat_lock;
    uint32_t fe_domid, be_domid;
    unsigned index;
    char fdir[VMSG_XS_PATH_MAX], bdir[VMSG_XS_PATH_MAX];
    char token[48];
    uint32_t pool_pages;
    uint32_t want_max_msg;              /* 0: no preference */
    unsigned state;                     /* F/state as we last wrote it */
    unsigned be_state;                  /* B/state as last read */
    bool connected;                     /* state Connected and B Connected */
    bool shared;                        /* channel and pool are granted */
    char *be_error;                     /* B/error when we published */
    uint64_t close_deadline_ms;
    struct vmsg_xen_chan chan;
    struct vmsg_xen_fpool pool;
};

/*
 * Attach to bus instance `bus_index` of this domain: read F/backend-id and
 * F/backend (which must name the canonical B), go to Initialising if F was
 * left in another state, and watch B/state and B/error. Nothing is granted
 * yet. `pool_pages` (1..1048576; the backend may allow fewer) is the pool
 * size; `max_msg_size` 0 publishes no preference, else 48..65535.
 * Returns 0 and *out, -EINVAL, -ENOENT (no such bus instance), -errno.
 */
int vmsg_xen_front_open(struct vmsg_xen_front **out, struct vmsg_platform *plat,
                        unsigned bus_index, uint32_t pool_pages, uint32_t max_msg_size);

/*
 * Advance the state machine without blocking, from what xenstore and the
 * channel say now: when B is InitWait, read its parameters, grant the
 * channel and the pool and publish them (Initialised); when B is
 * Connected, go Connected; when the backend is Closing/Closed/gone or its
 * cli_live is 0, ungrant everything and go Closed (a later step
 * reconnects once B is InitWait again); when closing, finish once B is
 * Closed or the wait is over.
 * Returns the frontend's XenbusState, or -EPIPE (the backend went away:
 * now Closed), -EPROTO (the backend refused what we published: its
 * B/error is logged; now Closed), -EPROTONOSUPPORT / -E2BIG (B offers no
 * version 1, or fewer pool pages than asked), other -errno.
 */
int vmsg_xen_front_step(struct vmsg_xen_front *f);

/*
 * Step until Connected, polling the watch fd, for at most timeout_ms.
 * Returns 0 Connected, -ETIMEDOUT, or an error of vmsg_xen_front_step().
 */
int vmsg_xen_front_connect(struct vmsg_xen_front *f, int timeout_ms);

/*
 * Start closing: Closing, stop sending. Later steps finish (ungrant,
 * Closed) once B is Closed, the backend is gone, or 5 s passed.
 * Returns 0 or -errno.
 */
int vmsg_xen_front_begin_close(struct vmsg_xen_front *f);

/*
 * Close: begin_close() if not yet, step until Closed (at most 5 s), drop
 * the watches and free *f. Leaves nothing granted and no port bound.
 */
void vmsg_xen_front_close(struct vmsg_xen_front *f);

/* The driver-side bus (valid from open to close). */
struct vmsg_bus *vmsg_xen_front_bus(struct vmsg_xen_front *f);

/* The fd that polls readable when a watch event is queued. */
int vmsg_xen_front_watch_fd(struct vmsg_xen_front *f);

/* Whether the bus is Connected (messages may flow). */
bool vmsg_xen_front_connected(const struct vmsg_xen_front *f);

#endif
