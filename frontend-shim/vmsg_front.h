/*
 * frontend-shim/vmsg_front.h: libvmsg-front, the driver side of the
 * virtio-msg Xen bus for guest programs.
 *
 * Owns: finding this domain's bus instances (device/virtio-msg/<N>),
 * opening one (its own platform handle, the Xen bus frontend end of
 * lib/xen/xen_bus_front.h: channel and pool granted, published, handshake
 * to Connected), the driver-side transport on it (struct vmsg_drvbus), and
 * device enumeration from both views of docs/protocol.md section 6:
 * B/devices/<D> with state 4, and GET_DEVICES. A disagreement between the
 * two views is logged and reported, never hidden. Opt-in
 * (opts.reconnect_ms): getting the bus back when the backend went away and
 * came back (a restarted vmsg-backend), as a numbered new connection.
 *
 * What a device is for is then the business of the caller: it probes the
 * device (struct vmsg_driver_dev) or hands the drvbus to the userspace
 * drivers (frontend-shim/drivers/vmsg_drivers.h).
 *
 * Single-threaded: one thread uses one struct vmsg_front.
 * Return values: 0 (or a count) on success, a negative errno on failure.
 */
#ifndef VMSG_FRONT_H
#define VMSG_FRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/vmsg_driver.h"

/* Pool pages granted by default: 2 MiB. Linux's gntalloc grants at most
 * 1024 pages per process unless its `limit` parameter is raised. */
#define VMSG_FRONT_DEFAULT_POOL_PAGES 512u
#define VMSG_FRONT_DEFAULT_TIMEOUT_MS 10000
/* How many device numbers enumeration looks at (of the 65536 possible). */
#define VMSG_FRONT_MAX_DEVICES 1024u

struct vmsg_front;
struct vmsg_platform;

struct vmsg_front_opts {
    int timeout_ms;             /* connect and every request; 0: default */
    uint32_t pool_pages;        /* 0: VMSG_FRONT_DEFAULT_POOL_PAGES */
    int reconnect_ms;           /* 0: a lost backend is final; else how long
                                 * vmsg_front_reconnect() waits for it */
};

/* One device number, as each view sees it. */
struct vmsg_front_dev {
    uint16_t num;
    bool in_xenstore;           /* B/devices/<num>/state is 4 */
    bool in_get_devices;        /* GET_DEVICES lists it */
    char type[16];              /* B/devices/<num>/type, "" if unreadable */
};

/*
 * This domain's bus instances: the indices under device/virtio-msg, in
 * ascending order, up to max. Returns how many there are (may exceed
 * max), or -errno (xenstore not reachable).
 */
int vmsg_front_buses(unsigned *idx, unsigned max);

/*
 * Open bus instance `bus` and run the handshake until Connected (at most
 * opts->timeout_ms), then enumerate its devices. `opts` may be NULL.
 * Returns 0 and *out; -ENOENT (no such bus instance), -ETIMEDOUT (the
 * backend did not connect in time: is vmsg-backend running?), -EPROTO
 * (the backend refused what we published; its B/error is logged), other
 * -errno with the reason logged.
 */
int vmsg_front_open(struct vmsg_front **out, unsigned bus, const struct vmsg_front_opts *opts);

/*
 * As vmsg_front_open(), on a platform handle the caller opened (the unit
 * tests' fake Xen); the bus takes it over and closes it, also on failure.
 */
int vmsg_front_open_platform(struct vmsg_front **out, struct vmsg_platform *plat, unsigned bus,
                             const struct vmsg_front_opts *opts);

/*
 * Close: every probed device should have been released; the bus end goes
 * Closing, waits for the backend (at most 5 s), ungrants everything and
 * writes Closed. NULL is a no-op.
 */
void vmsg_front_close(struct vmsg_front *f);

/* The driver-side transport of the open bus instance. */
struct vmsg_drvbus *vmsg_front_drvbus(struct vmsg_front *f);

/*
 * Enumerate again (both views). Returns the number of device numbers seen
 * by either view, or -errno (GET_DEVICES failed, xenstore unreadable).
 * The views disagree when vmsg_front_views_agree() is false afterwards.
 */
int vmsg_front_enumerate(struct vmsg_front *f);

/*
 * Following the bus (docs/protocol.md section 6). Between enumerations the
 * device list follows EVENT_DEVICE: READY adds the device, REMOVED drops
 * it. A driver that holds a removed device finds its vmsg_driver_dev
 * `removed`; the drvbus has reset the device (status 0) so the backend
 * destroys it at once, and every further request to it fails with -ENODEV.
 *
 * vmsg_front_on_event() sets a function called for every EVENT_DEVICE
 * after the list was updated (NULL: none). It runs inside the bus's
 * request or wait: it must not make requests itself.
 */
typedef void (*vmsg_front_event_fn)(struct vmsg_front *f, uint16_t num, uint16_t state,
                                    void *opaque);
void vmsg_front_on_event(struct vmsg_front *f, vmsg_front_event_fn fn, void *opaque);

/*
 * Wait up to timeout_ms for events from the backend and handle them (the
 * list, removed devices, the event function). Returns the number of events
 * handled, 0 on timeout, or -errno (-EPIPE: the backend is gone).
 */
int vmsg_front_wait(struct vmsg_front *f, int timeout_ms);

/* The devices of the last enumeration, as events changed it since,
 * ascending; returns the count. */
unsigned vmsg_front_devices(const struct vmsg_front *f, const struct vmsg_front_dev **devs);

/* The entry for `num` in the last enumeration, or NULL. */
const struct vmsg_front_dev *vmsg_front_device(const struct vmsg_front *f, uint16_t num);

/* Whether both views listed the same device numbers last time. */
bool vmsg_front_views_agree(const struct vmsg_front *f);

/*
 * Probe device `num` (GET_DEVICE_INFO, checked) into *dev, registered for
 * its events; release it with vmsg_drv_release(). Returns 0, -ENODEV (not
 * present in both views, or device id 0), other -errno.
 */
int vmsg_front_probe(struct vmsg_front *f, uint16_t num, struct vmsg_driver_dev *dev);

/*
 * Riding out a backend restart (docs/protocol.md section 3, "Frontend
 * follows a closing backend"). Each connection has a number, 1 for the
 * one vmsg_front_open() made; each has its own channel and pool, so what
 * a driver allocated or negotiated on one is void on the next.
 */
uint32_t vmsg_front_connection(const struct vmsg_front *f);

/*
 * A driver whose request failed as if the bus were gone (-EPIPE, -EPROTO,
 * or -ETIMEDOUT) asks for a connection after `since`, the one it set its
 * device up on. Returns -EALREADY when `since` is still connected (the
 * failure was the device's, not the bus's); 0 when a later connection is
 * up (made now: the backend went away, came back within opts.reconnect_ms
 * and the handshake ran again with new grants; or made earlier for
 * another driver): the devices are enumerated again and every driver must
 * probe its device again, forgetting, not freeing, the bus memory of the
 * old connection. -ETIMEDOUT when the backend did not come back in time,
 * -ENOTCONN when opts.reconnect_ms is 0, another -errno from the
 * handshake.
 */
int vmsg_front_reconnect(struct vmsg_front *f, uint32_t since);

/* The bus index and the backend domain, for messages. */
unsigned vmsg_front_index(const struct vmsg_front *f);
uint32_t vmsg_front_backend_domid(const struct vmsg_front *f);

#endif
