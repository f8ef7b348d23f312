/*
 * lib/transport/vmsg_device.h: the device side of the virtio-msg transport.
 *
 * Owns: one device number's transport state (status machine, feature
 * negotiation in 32-bit blocks, config generation, queue programming) and
 * the device side of a bus instance (struct vmsg_devbus: device numbers,
 * GET_DEVICES, PING, EVENT_DEVICE, message dispatch and the drop policy for
 * malformed input). A *device model* (rng, console, blk, ...) plugs in
 * through struct vmsg_device_ops; it never sees a message.
 *
 * Malformed or unexpected messages are dropped with a rate-limited log line
 * (the spec has no error message) and never change device state. Everything
 * runs on the bus instance's thread; the vmsg_device_notify_* services may
 * also be called from a model's worker threads.
 */
#ifndef VMSG_DEVICE_H
#define VMSG_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "transport/vmsg_bus.h"
#include "util/vmsg_log.h"

struct vmsg_device;
struct vmsg_devbus;

/* What SET_VQUEUE programmed for one queue. */
struct vmsg_vq_state {
    uint32_t size;          /* 0: not configured */
    uint64_t desc_addr;
    uint64_t driver_addr;
    uint64_t device_addr;
    bool enabled;
    bool retry;             /* the model asked to look again (retry_queue) */
};

/*
 * The device model. Every callback is optional except read_config. Return
 * values: 0 success, negative errno failure (the transport then reports it
 * the way the spec says: FEATURES_OK cleared, SET_CONFIG length 0,
 * DEVICE_NEEDS_RESET for a queue that cannot start).
 */
struct vmsg_device_ops {
    /* Driver wrote status 0 (or the bus instance went away): drop all
     * queue work, forget negotiated features. Synchronous. */
    void (*reset)(struct vmsg_device *dev);
    /* FEATURES_OK was requested with these driver features (a subset of
     * what was offered, already checked). <0 refuses: FEATURES_OK cleared. */
    int (*features_ok)(struct vmsg_device *dev, uint64_t features);
    /* Copy config bytes [off, off+len) (already bounds-checked). */
    void (*read_config)(struct vmsg_device *dev, uint32_t off, uint8_t *buf, uint32_t len);
    /* Apply a driver write (bounds-checked). <0 rejects it. */
    int (*write_config)(struct vmsg_device *dev, uint32_t off, const uint8_t *buf, uint32_t len);
    /* Queue `index` was programmed (SET_VQUEUE); its state is in
     * vmsg_device_vq(). <0: the queue cannot run: its state is cleared
     * (queue_reset is not called for it) and the device needs a reset. */
    int (*queue_enable)(struct vmsg_device *dev, uint32_t index);
    /* Stop queue `index` and drop its state (RESET_VQUEUE or full reset). */
    void (*queue_reset)(struct vmsg_device *dev, uint32_t index);
    /* The driver made buffers available (EVENT_AVAIL after DRIVER_OK). */
    void (*queue_notify)(struct vmsg_device *dev, uint32_t index);
    /* The driver set DRIVER_OK. */
    void (*driver_ok)(struct vmsg_device *dev);
    /* GET_SHM: fill region `id`, or return -ENOENT (answered as length 0). */
    int (*get_shm)(struct vmsg_device *dev, uint32_t id, uint64_t *addr, uint64_t *len);
    /* The device is being removed from its bus: free the model. */
    void (*destroy)(struct vmsg_device *dev);
};

/* What a model declares when it creates its device. */
struct vmsg_device_desc {
    const char *name;               /* "rng", "blk": for logs */
    uint32_t device_id;             /* virtio device type */
    uint32_t vendor_id;
    uint64_t features;              /* offered device features (64 bits) */
    uint32_t config_size;
    uint32_t num_queues;
    uint32_t queue_max_size;        /* power of two, <= 32768 */
};

#define VMSG_VENDOR_ID_XEN 0x584e4558u /* "XENX" little-endian: ours */

struct vmsg_device {
    const struct vmsg_device_ops *ops;
    void *model;                    /* the model's private state */
    struct vmsg_device_desc desc;
    struct vmsg_devbus *devbus;     /* set while on a bus */
    uint16_t dev_num;

    /* Transport state, owned by the transport (read with the accessors). */
    uint32_t status;
    uint64_t driver_features;       /* as written by SET_DRIVER_FEATURES */
    uint64_t negotiated;            /* valid once FEATURES_OK stuck */
    bool unknown_features_requested; /* driver set bits beyond 64 */
    uint32_t generation;
    struct vmsg_vq_state *vqs;      /* desc.num_queues entries */
    pthread_mutex_t event_lock;     /* status + events from model threads */

    /* Detach (docs/protocol.md section 6), owned by the devbus. */
    bool leaving;                   /* REMOVED sent: GET_DEVICES skips it */
    bool let_go;                    /* reset (status 0) since it started leaving */
    uint64_t leave_deadline_ms;     /* on the caller's clock: reaped then at the latest */

    /* Queues a model could not serve just now (vmsg_device_retry_queue),
     * owned by the bus thread: their queue_notify runs again then. */
    uint64_t retry_at_ms;           /* vmsg_now_ms() clock; 0: none */
};

/* Create a device around a model (vqs allocated here). 0 or -errno. */
int vmsg_device_init(struct vmsg_device *dev, const struct vmsg_device_desc *desc,
                     const struct vmsg_device_ops *ops, void *model);
/* Calls ops->destroy, frees what init allocated. */
void vmsg_device_destroy(struct vmsg_device *dev);

/* --- services for device models --------------------------------------- */
struct vmsg_bus *vmsg_device_bus(const struct vmsg_device *dev);
const struct vmsg_vq_state *vmsg_device_vq(const struct vmsg_device *dev, uint32_t index);
bool vmsg_device_has_feature(const struct vmsg_device *dev, unsigned bit);
bool vmsg_device_running(const struct vmsg_device *dev); /* DRIVER_OK, not NEEDS_RESET */
/* Tell the driver queue `index` has used buffers (EVENT_USED). 0 or -errno.
 * Safe from any thread (an I/O completion thread included): it takes only
 * the devbus's send path, never the device's lock. */
int vmsg_device_notify_used(struct vmsg_device *dev, uint32_t index);
/* Config bytes [off, off+len) changed on the device side: bump the
 * generation and send EVENT_CONFIG (with the data when it fits). */
int vmsg_device_config_changed(struct vmsg_device *dev, uint32_t off, uint32_t len);
/* Something impossible happened (a broken ring): set DEVICE_NEEDS_RESET,
 * log `why` and send EVENT_CONFIG. The device does no more queue I/O until
 * the driver resets it. Call it only on the bus instance's thread (from a
 * model callback or its fd handler): it takes the device's lock, which the
 * bus thread holds while a callback such as queue_reset waits for I/O. */
void vmsg_device_needs_reset(struct vmsg_device *dev, const char *why);

/* How long a queue a model could not serve waits before it is looked at
 * again. */
#define VMSG_DEVICE_RETRY_MS 20

/*
 * The model could not take what queue `index` holds now (memory or
 * mappings ran out, a budget refused a chain): its queue_notify runs again
 * in VMSG_DEVICE_RETRY_MS, as if the driver had sent EVENT_AVAIL, so a
 * refused pop never leaves a queue stuck waiting for a kick the driver
 * will not send. Bus instance thread only; vmsg_devbus_retry() runs it.
 */
void vmsg_device_retry_queue(struct vmsg_device *dev, uint32_t index);

/*
 * The model stopped at its bound of work for one call (a queue's worth of
 * chains) with more perhaps waiting: its queue_notify runs again from the
 * bus loop's next vmsg_devbus_retry() (the one of this turn, or of the
 * next), which does not sleep meanwhile; in between the loop looks at its
 * stop request, its fds and the other devices. A guest that refills as
 * fast as the model drains cannot hold the bus thread. Bus instance thread
 * only.
 */
void vmsg_device_continue_queue(struct vmsg_device *dev, uint32_t index);

/* How many chains a model takes from one queue in one call: its size. */
static inline uint32_t vmsg_device_queue_budget(const struct vmsg_device *dev, uint32_t index)
{
    return index < dev->desc.num_queues && dev->vqs[index].size ? dev->vqs[index].size
                                                               : dev->desc.queue_max_size;
}

/* --- the device side of one bus instance --------------------------------- */
struct vmsg_devbus_stats {
    uint64_t received;
    uint64_t sent;
    uint64_t held;                  /* had to wait for room (back-pressure) */
    uint64_t lost;                  /* never sent: the peer went, or the outbox was full */
    uint64_t dropped_malformed;     /* failed the validator */
    uint64_t dropped_unexpected;    /* valid, but not for us / wrong state */
};

/* The most messages the outbox holds (one answer, and events). */
#define VMSG_DEVBUS_OUTBOX_MAX 256

struct vmsg_devbus_held;

struct vmsg_devbus {
    struct vmsg_bus *bus;
    pthread_mutex_t lock;           /* devices[], stats */
    struct vmsg_device **devices;   /* sorted by dev_num */
    unsigned ndevices;
    unsigned cap;
    struct vmsg_devbus_stats stats;
    /* Back-pressure (docs/protocol.md section 4.7): what the bus had no
     * room for, oldest first, sent before anything newer once there is
     * room and never dropped while the peer lives; while it holds
     * anything, no new request is read. Under outbox_lock: the bus thread
     * and the models' threads send. */
    pthread_mutex_t outbox_lock;
    struct vmsg_devbus_held *outbox[VMSG_DEVBUS_OUTBOX_MAX];
    unsigned outbox_head, outbox_n;
    struct vmsg_ratelimit lost_log;
    struct vmsg_ratelimit drop_log;
    /* Devices taken off so far: a caller holding device pointers from
     * before (fds it polled) knows by a change that one may be gone. */
    uint64_t removals;
    /* Set by vmsg_devbus_poll() when it stopped at its budget with
     * messages perhaps still waiting: the caller polls again at once
     * (without sleeping on the bus fd, which may not wake for them). */
    bool backlog;
    /* How vmsg_devbus_destroy() disposes of devices still on the bus:
     * NULL means vmsg_device_destroy() (for devices the caller embeds);
     * models made by the registry set vmsg_device_model_destroy. */
    void (*release)(struct vmsg_device *dev);
};

int vmsg_devbus_init(struct vmsg_devbus *db, struct vmsg_bus *bus);
/* Takes every device still on the bus off it (no announcement) and hands
 * it to db->release. */
void vmsg_devbus_destroy(struct vmsg_devbus *db);

/* Put a device on the bus as number dev_num. With `announce` the driver is
 * told (EVENT_DEVICE READY): hotplug. -EEXIST if the number is taken. */
int vmsg_devbus_add(struct vmsg_devbus *db, uint16_t dev_num, struct vmsg_device *dev,
                    bool announce);
/* Take a device off the bus (EVENT_DEVICE REMOVED with `announce`) and
 * return it (the caller destroys it); NULL if there is none. */
struct vmsg_device *vmsg_devbus_remove(struct vmsg_devbus *db, uint16_t dev_num, bool announce);
struct vmsg_device *vmsg_devbus_find(struct vmsg_devbus *db, uint16_t dev_num);

/*
 * Detach, first half (docs/protocol.md section 6). The device stops being
 * listed by GET_DEVICES, EVENT_DEVICE REMOVED is sent with `announce`, and
 * the device stays on the bus, answering its driver, until the driver
 * resets it (status 0) or until `deadline_ms` on the caller's clock;
 * vmsg_devbus_reap() then takes it off. A device whose status is 0 has no
 * driver to wait for: it can be reaped at once. The number stays taken
 * until then. Returns 0, -ENOENT (no such device), -EALREADY (already
 * leaving), or the error of sending REMOVED (the device leaves anyway).
 */
int vmsg_devbus_detach(struct vmsg_devbus *db, uint16_t dev_num, bool announce,
                       uint64_t deadline_ms);

/*
 * Detach, second half: one leaving device that its driver let go, or whose
 * deadline is at or before now_ms, taken off the bus (reset) and returned
 * for the caller to destroy; NULL when none is due. Call until NULL.
 * Whether the driver let go is dev->let_go.
 */
struct vmsg_device *vmsg_devbus_reap(struct vmsg_devbus *db, uint64_t now_ms);

/* The earliest deadline of a leaving device or of a queue retry
 * (vmsg_device_retry_queue), UINT64_MAX when there is none: how long the
 * caller may sleep before it must call vmsg_devbus_reap() and
 * vmsg_devbus_retry(). */
uint64_t vmsg_devbus_next_deadline(struct vmsg_devbus *db);

/* Run the queue retries due at now_ms (vmsg_now_ms() clock). Bus instance
 * thread, once per turn of its loop. */
void vmsg_devbus_retry(struct vmsg_devbus *db, uint64_t now_ms);

/* Validate and act on one received message; answers requests. Returns 0
 * (handled or dropped; an answer the bus had no room for is held in the
 * outbox) or a negative errno from the bus when the answer cannot be sent
 * at all (-EPIPE: the peer is gone). */
int vmsg_devbus_handle(struct vmsg_devbus *db, const void *msg, size_t len);

/* Send EVENT_DEVICE (state READY or REMOVED) for dev_num, through the
 * outbox like every message. 0 (sent or held) or -errno. */
int vmsg_devbus_announce(struct vmsg_devbus *db, uint16_t dev_num, uint16_t state);

/* Whether the outbox holds messages waiting for room (any thread). */
bool vmsg_devbus_held(struct vmsg_devbus *db);

/* The most messages one vmsg_devbus_poll() handles. */
#define VMSG_DEVBUS_POLL_BUDGET 64

/* Send what the outbox holds, then wait up to timeout_ms for messages and
 * handle those that arrived, at most VMSG_DEVBUS_POLL_BUDGET (then
 * db->backlog is set: call again without sleeping). While the outbox holds
 * anything it reads nothing (back-pressure): the bus then wakes its fd
 * when the peer makes room. Otherwise, on return the bus will wake its fd
 * for the next message, so a caller may sleep on vmsg_bus fd() alone.
 * Returns the number handled, or a negative errno from the bus (-EPIPE:
 * the peer is gone; -EPROTO: framing broken, reset the bus instance). */
int vmsg_devbus_poll(struct vmsg_devbus *db, int timeout_ms);

/* Reset every device (the driver side went away or reconnects) and
 * forget what the outbox held for the old connection. */
void vmsg_devbus_reset_all(struct vmsg_devbus *db);

#endif
