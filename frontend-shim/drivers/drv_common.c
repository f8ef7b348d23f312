/*
 * frontend-shim/drivers/drv_common.c: device bring-up, queues and waiting
 * for used buffers, shared by the rng, console and blk drivers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drv_common.h"
#include "transport/vmsg_pool.h"
#include "util/vmsg_log.h"

int drv_reap(struct drv_common *c)
{
    void *token;
    uint32_t len;
    int rc;

    if (c->broken)
        return -EIO;
    for (unsigned q = 0; q < c->nvqs; q++) {
        for (;;) {
            while ((rc = vmsg_vq_drv_get_used(&c->vqs[q], &token, &len)) > 0) {
                struct drv_chain *ch = token;
                ch->used_len = len;
                ch->done = true;
            }
            if (rc < 0) {
                c->broken = true;
                return rc;
            }
            /* Re-arm, then look once more: a buffer used in between would
             * otherwise wait for an event the device decided not to send. */
            vmsg_vq_drv_enable_cb(&c->vqs[q]);
            if (vmsg_vq_drv_get_used(&c->vqs[q], &token, &len) == 0)
                break;
            /* One arrived in between: take it and go round again. */
            struct drv_chain *ch = token;
            ch->used_len = len;
            ch->done = true;
        }
    }
    return 0;
}

static void on_used(struct vmsg_driver_dev *dev, uint32_t vq, void *opaque)
{
    drv_reap(opaque);
}

static int setup_queue(struct drv_common *c, unsigned i, uint32_t qsize)
{
    struct vmsg_vqueue_info info;
    struct vmsg_vq_drv *vq = &c->vqs[i];
    uint32_t size;
    int rc;

    if ((rc = vmsg_drv_get_vqueue(&c->dev, i, &info)) < 0)
        return rc;
    if (info.max_size == 0)
        return -ENODEV;
    size = qsize < VIRTQ_DRIVER_MAX_SIZE ? qsize : VIRTQ_DRIVER_MAX_SIZE;
    while (size > info.max_size)
        size /= 2;
    if ((rc = vmsg_vq_drv_init(vq, drv_bus(c), i, size, c->dev.features)) < 0)
        return rc;
    rc = vmsg_drv_set_vqueue(&c->dev, i, size, vq->desc_addr, vq->avail_addr, vq->used_addr);
    if (rc < 0)
        vmsg_vq_drv_destroy(vq);
    return rc;
}

int drv_start(struct drv_common *c, struct vmsg_drvbus *db, uint16_t dev_num,
              uint32_t device_id, uint64_t wanted, unsigned nvqs, uint32_t qsize)
{
    unsigned i = 0;
    int rc;

    memset(c, 0, sizeof(*c));
    c->bus = db->bus;
    if ((rc = vmsg_drv_probe(db, dev_num, &c->dev)) < 0)
        return rc;
    if (c->dev.info.device_id != device_id) {
        rc = -ENODEV;
        goto err;
    }
    if (nvqs == 0 || nvqs > c->dev.info.max_virtqueues) {
        rc = -ENODEV;
        goto err;
    }
    if ((rc = vmsg_drv_negotiate(&c->dev, wanted | VMSG_VIRTQ_DRIVER_FEATURES)) < 0)
        goto err;
    if (!drv_has(c, VIRTIO_F_VERSION_1)) {
        rc = -ENOTSUP;
        goto err;
    }
    c->vqs = calloc(nvqs, sizeof(*c->vqs));
    if (!c->vqs) {
        rc = -ENOMEM;
        goto err;
    }
    c->nvqs = nvqs;
    for (; i < nvqs; i++)
        if ((rc = setup_queue(c, i, qsize)) < 0)
            goto err_queues;
    c->dev.on_used = on_used;
    c->dev.opaque = c;
    if ((rc = vmsg_drv_driver_ok(&c->dev)) < 0)
        goto err_queues;
    c->probed = true;
    return 0;

err_queues:
    vmsg_drv_reset(&c->dev);    /* the device lets go of the rings first */
    while (i)
        vmsg_vq_drv_destroy(&c->vqs[--i]);
    free(c->vqs);
    c->vqs = NULL;
    vmsg_drv_release(&c->dev);
    return rc;
err:
    vmsg_drv_reset(&c->dev);
    vmsg_drv_release(&c->dev);
    return rc;
}

void drv_stop(struct drv_common *c)
{
    if (!c->probed)
        return;
    /* The device lets go of the rings before we free them. */
    vmsg_drv_reset(&c->dev);
    for (unsigned i = 0; i < c->nvqs; i++)
        vmsg_vq_drv_destroy(&c->vqs[i]);
    free(c->vqs);
    c->vqs = NULL;
    vmsg_drv_release(&c->dev);
    c->probed = false;
}

/* Where the memory of a lost connection is "given back": nowhere. */
static const struct vmsg_bus_ops gone_ops;
static struct vmsg_bus gone_bus = { .ops = &gone_ops, .name = "(connection lost)" };

void drv_abandon(struct drv_common *c)
{
    if (c->probed) {
        for (unsigned i = 0; i < c->nvqs; i++) {
            c->vqs[i].bus = &gone_bus;
            vmsg_vq_drv_destroy(&c->vqs[i]);
        }
        free(c->vqs);
        c->vqs = NULL;
        c->nvqs = 0;
        vmsg_drv_release(&c->dev);
        c->probed = false;
    }
    c->bus = &gone_bus;
}

int drv_buf_alloc(struct drv_common *c, uint32_t len, struct drv_buf *b)
{
    void *p;
    int rc;

    if (len == 0 || len > VMSG_POOL_PAGE)
        return -EINVAL;
    rc = vmsg_bus_alloc(drv_bus(c), len, 8, &b->addr, &p);
    if (rc < 0)
        return rc;
    b->ptr = p;
    b->len = len;
    return 0;
}

void drv_buf_free(struct drv_common *c, struct drv_buf *b)
{
    if (b->ptr)
        vmsg_bus_free(drv_bus(c), b->addr, b->len);
    b->ptr = NULL;
}

int drv_submit(struct drv_common *c, unsigned q, const struct vmsg_vq_buf *bufs, unsigned n,
               struct drv_chain *ch)
{
    int rc;

    if (c->broken)
        return -EIO;
    if (q >= c->nvqs)
        return -EINVAL;
    ch->done = false;
    ch->used_len = 0;
    ch->q = q;
    /* No room: collect what the device finished and try once more. */
    rc = vmsg_vq_drv_add(&c->vqs[q], bufs, n, ch);
    if (rc == -ENOSPC && drv_reap(c) == 0)
        rc = vmsg_vq_drv_add(&c->vqs[q], bufs, n, ch);
    if (rc < 0)
        return rc;
    if (vmsg_vq_drv_kick_prepare(&c->vqs[q]))
        return vmsg_drv_notify(&c->dev, q, 0);
    return 0;
}

int drv_wait(struct drv_common *c, struct drv_chain *ch, int timeout_ms)
{
    uint64_t deadline = vmsg_now_ms() + (uint64_t)timeout_ms;
    int rc;

    for (;;) {
        if ((rc = drv_reap(c)) < 0)
            return rc;
        if (ch->done)
            return 0;
        uint64_t now = vmsg_now_ms();
        if (now >= deadline)
            break;
        rc = vmsg_drvbus_poll(c->dev.db, (int)(deadline - now < 100 ? deadline - now : 100));
        if (rc < 0 && rc != -EINTR)
            return rc;
        if (c->dev.removed) {
            /* Detached: the drvbus reset it, nothing in flight completes. */
            c->broken = true;
            return -ENODEV;
        }
        if (c->dev.last_event_status & VMSG_STATUS_DEVICE_NEEDS_RESET) {
            c->broken = true;
            return -EIO;
        }
    }
    /* The chain stays in the ring, naming memory the caller will reuse:
     * nothing more may complete on this device until it is reopened. */
    c->broken = true;
    return -ETIMEDOUT;
}
