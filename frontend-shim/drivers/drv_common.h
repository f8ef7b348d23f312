/*
 * frontend-shim/drivers/drv_common.h: what the three drivers share:
 * device bring-up and teardown, the queues, request chains in bus memory
 * and waiting for them to come back.
 */
#ifndef VMSG_DRV_COMMON_H
#define VMSG_DRV_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq/vmsg_virtq.h"
#include "vmsg_drivers.h"

/* A buffer in bus memory (at most 4 KiB: never crosses a granted page). */
struct drv_buf {
    uint64_t addr;
    uint8_t *ptr;
    uint32_t len;
};

/* One chain in flight; its address is the virtq token. */
struct drv_chain {
    bool done;
    uint32_t used_len;
    unsigned q;
};

struct drv_common {
    struct vmsg_driver_dev dev;
    struct vmsg_bus *bus;       /* kept after drv_stop, to free buffers */
    struct vmsg_vq_drv *vqs;
    unsigned nvqs;
    bool probed;
    bool broken;                /* a ring broke: nothing more completes */
};

/*
 * Probe dev_num, check it is a `device_id` device, negotiate `wanted`
 * features (VMSG_VIRTQ_DRIVER_FEATURES are added), set up `nvqs` queues of
 * at most `qsize` descriptors and set DRIVER_OK. On failure the device is
 * reset and everything undone. 0 or -errno.
 */
int drv_start(struct drv_common *c, struct vmsg_drvbus *db, uint16_t dev_num,
              uint32_t device_id, uint64_t wanted, unsigned nvqs, uint32_t qsize);
/* Reset the device, free the rings, unregister. */
void drv_stop(struct drv_common *c);
/*
 * The bus connection the device was set up on is gone: forget the rings
 * and the probe without a message to the device, and from now on give no
 * bus memory back (drv_buf_free() forgets): it went with the connection,
 * and the pool of a new one may hand the same addresses out again.
 */
void drv_abandon(struct drv_common *c);

static inline struct vmsg_bus *drv_bus(const struct drv_common *c)
{
    return c->bus;
}

static inline bool drv_has(const struct drv_common *c, unsigned bit)
{
    return bit < 64 && (c->dev.features >> bit & 1);
}

int drv_buf_alloc(struct drv_common *c, uint32_t len, struct drv_buf *b);
void drv_buf_free(struct drv_common *c, struct drv_buf *b);

/* Add a chain on queue q and kick the device if it wants it. */
int drv_submit(struct drv_common *c, unsigned q, const struct vmsg_vq_buf *bufs, unsigned n,
               struct drv_chain *ch);
/* Wait until ch is used (or timeout_ms passes: -ETIMEDOUT; a broken ring:
 * -EIO). */
int drv_wait(struct drv_common *c, struct drv_chain *ch, int timeout_ms);
/* Collect what the device used on every queue; 0 or -EIO. */
int drv_reap(struct drv_common *c);

#endif
