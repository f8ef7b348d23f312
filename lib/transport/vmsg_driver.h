/*
 * lib/transport/vmsg_driver.h: the driver side of the virtio-msg transport.
 *
 * Owns: the driver side of a bus instance (struct vmsg_drvbus: one request
 * in flight at a time, bounded-timeout request/response, GET_DEVICES, PING,
 * event routing) and per-device operations (struct vmsg_driver_dev: probe,
 * status, feature negotiation, chunked config access, queue setup, notify).
 *
 * Responses are matched by namespace, msg_id and dev_num, in order (the v1
 * rule); the token is echoed by our device but not relied on. A request with
 * no answer fails with -ETIMEDOUT after drvbus->timeout_ms. Everything a
 * device returns is checked before use (a rogue backend must not corrupt
 * the guest side). Single-threaded: call from one thread per bus instance.
 */
#ifndef VMSG_DRIVER_H
#define VMSG_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/vmsg_bus.h"
#include "util/vmsg_log.h"

struct vmsg_driver_dev;

#define VMSG_DRIVER_DEFAULT_TIMEOUT_MS 5000

struct vmsg_drvbus {
    struct vmsg_bus *bus;
    int timeout_ms;                 /* per request */
    uint16_t next_token;
    uint16_t stale_token;           /* token of the last timed-out request */
    struct vmsg_driver_dev **devs;  /* registered for event routing */
    unsigned ndevs;
    unsigned cap;
    /* Called for EVENT_DEVICE (READY/REMOVED); may be NULL. */
    void (*on_device_event)(struct vmsg_drvbus *db, uint16_t dev_num, uint16_t state,
                            void *opaque);
    void *opaque;
    bool resets_pending;            /* a registered device was removed */
    bool letting_go;                /* resetting removed devices now */
    uint64_t dropped;               /* malformed or unexpected messages */
    struct vmsg_ratelimit drop_log;
};

int vmsg_drvbus_init(struct vmsg_drvbus *db, struct vmsg_bus *bus);
void vmsg_drvbus_destroy(struct vmsg_drvbus *db);

/* Send a request and wait for its response; events that arrive meanwhile
 * are dispatched. resp_buf (>= max_msg_size bytes) backs resp's pointers.
 * 0, -ETIMEDOUT (no answer), -EPIPE (peer gone), or another -errno. */
int vmsg_drvbus_request(struct vmsg_drvbus *db, struct vmsg_msg *req,
                        struct vmsg_msg *resp, uint8_t *resp_buf);

/*
 * Handle incoming events for up to timeout_ms. Returns events handled.
 *
 * EVENT_DEVICE REMOVED for a registered device (docs/protocol.md section 6):
 * the device is marked `removed`, and once the request or poll that took
 * the event is done, the drvbus resets it (status 0) so the backend can let
 * it go at once; its requests then fail with -ENODEV.
 */
int vmsg_drvbus_poll(struct vmsg_drvbus *db, int timeout_ms);

/* Enumerate with GET_DEVICES: fills nums (up to max) in ascending order,
 * returns how many exist, or -errno. */
int vmsg_drvbus_get_devices(struct vmsg_drvbus *db, uint16_t *nums, unsigned max);
/* PING with `data`; 0 if echoed exactly, -EBADMSG if not, -errno. */
int vmsg_drvbus_ping(struct vmsg_drvbus *db, uint32_t data);

/* What the driver learned about a device and negotiated with it. */
struct vmsg_driver_dev {
    struct vmsg_drvbus *db;
    uint16_t dev_num;
    struct vmsg_device_info info;   /* from GET_DEVICE_INFO, authoritative */
    uint64_t features;              /* negotiated */
    uint32_t generation;            /* latest seen */
    bool config_changed;            /* EVENT_CONFIG seen since last read */
    bool removed;                   /* EVENT_DEVICE REMOVED seen: requests fail
                                     * with -ENODEV; release the device */
    bool let_go;                    /* reset by the drvbus after the removal */
    uint32_t last_event_status;     /* device_status of the last EVENT_CONFIG */
    /* Called on EVENT_USED for a queue; may be NULL. */
    void (*on_used)(struct vmsg_driver_dev *dev, uint32_t vq, void *opaque);
    void (*on_config)(struct vmsg_driver_dev *dev, void *opaque);
    void *opaque;
};

/* GET_DEVICE_INFO, checked (device_id 0 -> -ENODEV; num_feature_bits not a
 * multiple of 32 or over 64 blocks' worth, admin range outside the queues ->
 * -EPROTO), then register for events. */
int vmsg_drv_probe(struct vmsg_drvbus *db, uint16_t dev_num, struct vmsg_driver_dev *dev);
void vmsg_drv_release(struct vmsg_driver_dev *dev);

int vmsg_drv_get_status(struct vmsg_driver_dev *dev, uint32_t *status);
/* SET_DEVICE_STATUS; *result (may be NULL) is what the device reports. */
int vmsg_drv_set_status(struct vmsg_driver_dev *dev, uint32_t status, uint32_t *result);
/* Status 0; -EIO if the device does not show 0 afterwards. */
int vmsg_drv_reset(struct vmsg_driver_dev *dev);

/* Reset, ACKNOWLEDGE, DRIVER, read the offered features, write back
 * offered & wanted, FEATURES_OK and check it stuck (-ENOTSUP if the device
 * cleared it). On success dev->features holds the result. */
int vmsg_drv_negotiate(struct vmsg_driver_dev *dev, uint64_t wanted);
/* Read the offered feature bits (the first 64). */
int vmsg_drv_get_features(struct vmsg_driver_dev *dev, uint64_t *offered);

/* Config access bounded by info.config_size (-ERANGE) and split into chunks
 * that fit the bus maximum. A multi-chunk read whose generation changes
 * midway is retried (up to 3 times, then -EAGAIN). */
int vmsg_drv_read_config(struct vmsg_driver_dev *dev, uint32_t off, void *buf, uint32_t len);
/* -EAGAIN if the device rejected the write (stale generation) after one
 * re-read and retry. */
int vmsg_drv_write_config(struct vmsg_driver_dev *dev, uint32_t off, const void *buf, uint32_t len);
/* GET_CONFIG of length 0: the current generation. */
int vmsg_drv_config_generation(struct vmsg_driver_dev *dev, uint32_t *generation);

int vmsg_drv_get_vqueue(struct vmsg_driver_dev *dev, uint32_t index, struct vmsg_vqueue_info *out);
/* SET_VQUEUE then GET_VQUEUE to confirm; -EINVAL for size 0, not a power of
 * two or above max_size; -EIO if the device did not take the values. */
int vmsg_drv_set_vqueue(struct vmsg_driver_dev *dev, uint32_t index, uint32_t size,
                        uint64_t desc, uint64_t driver, uint64_t device);
int vmsg_drv_reset_vqueue(struct vmsg_driver_dev *dev, uint32_t index);
int vmsg_drv_get_shm(struct vmsg_driver_dev *dev, uint32_t id, uint32_t *addr, uint32_t *len);
/* EVENT_AVAIL for queue `index` (next_offset 0 unless NOTIFICATION_DATA). */
int vmsg_drv_notify(struct vmsg_driver_dev *dev, uint32_t index, uint32_t next_offset);
/* status | DRIVER_OK, checked. */
int vmsg_drv_driver_ok(struct vmsg_driver_dev *dev);

#endif
