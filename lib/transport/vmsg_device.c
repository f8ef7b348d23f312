/*
 * lib/transport/vmsg_device.c: one device number's transport state machine
 * and its answers to transport requests.
 *
 * Requests arrive already validated against the wire layout; this file
 * checks them against the device (config bounds, queue indices, status
 * rules). A request that cannot be answered sensibly is dropped with a log
 * line and changes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "transport/vmsg_device.h"
#include "transport/vmsg_device_internal.h"

#define VIRTIO_F_VERSION_1  32
#define VIRTIO_F_RING_RESET 40

int vmsg_device_init(struct vmsg_device *dev, const struct vmsg_device_desc *desc,
                     const struct vmsg_device_ops *ops, void *model)
{
    pthread_mutexattr_t attr;

    memset(dev, 0, sizeof(*dev));
    if (!ops || !ops->read_config || desc->num_queues == 0 || desc->num_queues > 65536 ||
        desc->queue_max_size == 0 || desc->queue_max_size > 32768 ||
        (desc->queue_max_size & (desc->queue_max_size - 1)))
        return -EINVAL;
    dev->vqs = calloc(desc->num_queues, sizeof(*dev->vqs));
    if (!dev->vqs)
        return -ENOMEM;
    dev->ops = ops;
    dev->model = model;
    dev->desc = *desc;
    /* Recursive: a model may report a broken ring from inside a callback
     * that the bus thread runs with this lock held. */
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&dev->event_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return 0;
}

void vmsg_device_destroy(struct vmsg_device *dev)
{
    if (!dev->vqs)
        return;
    if (dev->ops->destroy)
        dev->ops->destroy(dev);
    free(dev->vqs);
    dev->vqs = NULL;
    pthread_mutex_destroy(&dev->event_lock);
}

struct vmsg_bus *vmsg_device_bus(const struct vmsg_device *dev)
{
    return dev->devbus ? dev->devbus->bus : NULL;
}

const struct vmsg_vq_state *vmsg_device_vq(const struct vmsg_device *dev, uint32_t index)
{
    return index < dev->desc.num_queues ? &dev->vqs[index] : NULL;
}

bool vmsg_device_has_feature(const struct vmsg_device *dev, unsigned bit)
{
    return bit < 64 && (dev->negotiated >> bit & 1);
}

bool vmsg_device_running(const struct vmsg_device *dev)
{
    uint32_t s = __atomic_load_n(&dev->status, __ATOMIC_ACQUIRE);
    return (s & VMSG_STATUS_DRIVER_OK) && !(s & VMSG_STATUS_DEVICE_NEEDS_RESET);
}

/* Send an event from this device. Events carry token 0. */
static int send_event(struct vmsg_device *dev, struct vmsg_msg *ev)
{
    if (!dev->devbus)
        return -ENOTCONN;
    ev->hdr.dev_num = dev->dev_num;
    ev->hdr.token = 0;
    return vmsg_devbus_send(dev->devbus, ev);
}

int vmsg_device_notify_used(struct vmsg_device *dev, uint32_t index)
{
    struct vmsg_msg ev = { .kind = VMSG_K_EVENT_USED };
    ev.u.event_used.vq_index = index;
    if (!vmsg_device_running(dev))
        return -EPERM;
    return send_event(dev, &ev);
}

static int send_event_config(struct vmsg_device *dev, uint32_t off, uint32_t len, bool with_data)
{
    struct vmsg_msg ev = { .kind = VMSG_K_EVENT_CONFIG };
    uint8_t data[VMSG_LIMIT_MAX_MSG_SIZE];

    ev.u.event_config.device_status = dev->status;
    ev.u.event_config.generation = dev->generation;
    ev.u.event_config.offset = off;
    ev.u.event_config.length = len;
    if (with_data && len) {
        dev->ops->read_config(dev, off, data, len);
        ev.u.event_config.data = data;
        ev.tail_len = len;
    }
    return send_event(dev, &ev);
}

int vmsg_device_config_changed(struct vmsg_device *dev, uint32_t off, uint32_t len)
{
    int rc;
    if ((uint64_t)off + len > dev->desc.config_size)
        return -ERANGE;
    pthread_mutex_lock(&dev->event_lock);
    dev->generation++;
    struct vmsg_bus *bus = vmsg_device_bus(dev);
    if (bus && len <= vmsg_max_event_config_data(bus->wire.max_msg_size))
        rc = send_event_config(dev, off, len, true);
    else    /* does not fit: announce the change, the driver re-reads */
        rc = send_event_config(dev, 0, 0, false);
    pthread_mutex_unlock(&dev->event_lock);
    return rc;
}

void vmsg_device_needs_reset(struct vmsg_device *dev, const char *why)
{
    pthread_mutex_lock(&dev->event_lock);
    if (!(dev->status & VMSG_STATUS_DEVICE_NEEDS_RESET)) {
        vmsg_warn("%s: device %u (%s) needs reset: %s", dev->devbus ? dev->devbus->bus->name : "-",
                  dev->dev_num, dev->desc.name, why);
        __atomic_or_fetch(&dev->status, VMSG_STATUS_DEVICE_NEEDS_RESET, __ATOMIC_RELEASE);
        send_event_config(dev, 0, 0, false);
    }
    pthread_mutex_unlock(&dev->event_lock);
}

void vmsg_device_retry_queue(struct vmsg_device *dev, uint32_t index)
{
    if (index >= dev->desc.num_queues)
        return;
    dev->vqs[index].retry = true;
    if (!dev->retry_at_ms)
        dev->retry_at_ms = vmsg_now_ms() + VMSG_DEVICE_RETRY_MS;
}

void vmsg_device_continue_queue(struct vmsg_device *dev, uint32_t index)
{
    uint64_t now = vmsg_now_ms();

    if (index >= dev->desc.num_queues)
        return;
    dev->vqs[index].retry = true;
    /* Due now: the loop's next retry step (0 would mean "none"). */
    if (!dev->retry_at_ms || dev->retry_at_ms > now)
        dev->retry_at_ms = now ? now : 1;
}

/* Full reset (status 0): the model drops queue work, every queue stops. */
void vmsg_device_reset(struct vmsg_device *dev)
{
    pthread_mutex_lock(&dev->event_lock);
    __atomic_store_n(&dev->status, 0, __ATOMIC_RELEASE);
    for (uint32_t i = 0; i < dev->desc.num_queues; i++) {
        if (dev->vqs[i].enabled && dev->ops->queue_reset)
            dev->ops->queue_reset(dev, i);
        memset(&dev->vqs[i], 0, sizeof(dev->vqs[i]));
    }
    if (dev->ops->reset)
        dev->ops->reset(dev);
    dev->retry_at_ms = 0;   /* the queues' retry flags went with them */
    dev->driver_features = 0;
    dev->negotiated = 0;
    dev->unknown_features_requested = false;
    /* A driver's status 0, or the bus instance going: either way nothing
     * uses the device any more, so a detach need not wait. */
    if (__atomic_load_n(&dev->leaving, __ATOMIC_ACQUIRE))
        __atomic_store_n(&dev->let_go, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&dev->event_lock);
}

static void log_drop(struct vmsg_device *dev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void log_drop(struct vmsg_device *dev, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&dev->devbus->lock);
    dev->devbus->stats.dropped_unexpected++;
    pthread_mutex_unlock(&dev->devbus->lock);
    vmsg_log_ratelimited(&dev->devbus->drop_log, VMSG_LOG_WARN, "%s: device %u: dropped: %s",
                         dev->devbus->bus->name, dev->dev_num, why);
}

static void answer_device_info(struct vmsg_device *dev, struct vmsg_msg *resp)
{
    struct vmsg_device_info *i = &resp->u.get_device_info_resp;
    i->device_id = dev->desc.device_id;
    i->vendor_id = dev->desc.vendor_id;
    /* Always 64: the Linux v1 driver refuses anything else. */
    i->num_feature_bits = 64;
    i->config_size = dev->desc.config_size;
    i->max_virtqueues = dev->desc.num_queues;
    i->admin_vq_start = 0;
    i->admin_vq_count = 0;
}

static bool answer_get_features(struct vmsg_device *dev, const struct vmsg_msg *req,
                                struct vmsg_msg *resp, uint8_t *scratch)
{
    const struct vmsg_feature_blocks *r = &req->u.get_device_features_req;
    uint32_t fit = vmsg_max_feature_blocks(dev->devbus->bus->wire.max_msg_size);
    if (r->num_blocks > fit) {
        log_drop(dev, "GET_DEVICE_FEATURES of %u blocks, at most %u fit a message", r->num_blocks, fit);
        return false;
    }
    for (uint32_t i = 0; i < r->num_blocks; i++) {
        uint64_t block = (uint64_t)r->block_index + i;
        uint32_t bits = block < 2 ? (uint32_t)(dev->desc.features >> (32 * block)) : 0;
        vmsg_put_le32(scratch + 4 * i, bits);
    }
    resp->u.get_device_features_resp.block_index = r->block_index;
    resp->u.get_device_features_resp.num_blocks = r->num_blocks;
    resp->u.get_device_features_resp.features = scratch;
    return true;
}

static bool handle_set_features(struct vmsg_device *dev, const struct vmsg_msg *req)
{
    const struct vmsg_feature_blocks *r = &req->u.set_driver_features_req;
    if (dev->status & VMSG_STATUS_FEATURES_OK) {
        log_drop(dev, "SET_DRIVER_FEATURES after FEATURES_OK ignored");
        return true;    /* still answered: the response is empty */
    }
    for (uint32_t i = 0; i < r->num_blocks; i++) {
        uint64_t block = (uint64_t)r->block_index + i;
        uint32_t bits = vmsg_get_le32(r->features + 4 * i);
        if (block < 2) {
            dev->driver_features &= ~((uint64_t)UINT32_MAX << (32 * block));
            dev->driver_features |= (uint64_t)bits << (32 * block);
        } else if (bits) {
            dev->unknown_features_requested = true;
        }
    }
    return true;
}

static bool answer_get_config(struct vmsg_device *dev, const struct vmsg_msg *req,
                              struct vmsg_msg *resp, uint8_t *scratch)
{
    const struct vmsg_config_range *r = &req->u.get_config_req;
    uint32_t fit = vmsg_max_config_chunk(dev->devbus->bus->wire.max_msg_size);
    if ((uint64_t)r->offset + r->length > dev->desc.config_size) {
        log_drop(dev, "GET_CONFIG offset %u length %u beyond config size %u",
                 r->offset, r->length, dev->desc.config_size);
        return false;
    }
    if (r->length > fit) {
        log_drop(dev, "GET_CONFIG length %u, at most %u fit a message", r->length, fit);
        return false;
    }
    if (r->length)
        dev->ops->read_config(dev, r->offset, scratch, r->length);
    resp->u.get_config_resp.generation = dev->generation;
    resp->u.get_config_resp.offset = r->offset;
    resp->u.get_config_resp.length = r->length;
    resp->u.get_config_resp.data = scratch;
    return true;
}

static bool answer_set_config(struct vmsg_device *dev, const struct vmsg_msg *req,
                              struct vmsg_msg *resp)
{
    const struct vmsg_config_data *r = &req->u.set_config_req;
    struct vmsg_config_data *a = &resp->u.set_config_resp;
    if ((uint64_t)r->offset + r->length > dev->desc.config_size) {
        log_drop(dev, "SET_CONFIG offset %u length %u beyond config size %u",
                 r->offset, r->length, dev->desc.config_size);
        return false;
    }
    a->generation = dev->generation;
    a->offset = r->offset;
    a->length = 0;
    if (r->length == 0)
        return true;
    if (r->generation != dev->generation) {
        /* v1: a stale write is rejected, and shown as length 0. */
        vmsg_debug("%s: device %u: SET_CONFIG with stale generation %u (now %u) rejected",
                   dev->devbus->bus->name, dev->dev_num, r->generation, dev->generation);
        return true;
    }
    if (!dev->ops->write_config || dev->ops->write_config(dev, r->offset, r->data, r->length) < 0)
        return true;
    a->length = r->length;
    a->data = r->data;      /* echo what was applied */
    resp->tail_len = r->length;
    return true;
}

/* Accept FEATURES_OK only for offered bits, VERSION_1 included, and what
 * the model agrees to. */
static bool features_acceptable(struct vmsg_device *dev)
{
    uint64_t f = dev->driver_features;
    if (dev->unknown_features_requested || (f & ~dev->desc.features))
        return false;
    if ((dev->desc.features >> VIRTIO_F_VERSION_1 & 1) && !(f >> VIRTIO_F_VERSION_1 & 1))
        return false;
    return !dev->ops->features_ok || dev->ops->features_ok(dev, f) == 0;
}

static void handle_set_status(struct vmsg_device *dev, uint32_t want)
{
    uint32_t old = dev->status;
    const uint32_t driver_bits = VMSG_STATUS_ACKNOWLEDGE | VMSG_STATUS_DRIVER |
                                 VMSG_STATUS_FEATURES_OK | VMSG_STATUS_DRIVER_OK |
                                 VMSG_STATUS_FAILED;
    if (want == 0) {
        vmsg_device_reset(dev);
        return;
    }
    if (old & ~want & driver_bits)
        vmsg_debug("%s: device %u: driver tried to clear status bits 0x%x; only a reset does",
                   dev->devbus->bus->name, dev->dev_num, old & ~want & driver_bits);
    uint32_t next = old | (want & driver_bits);

    if ((next & VMSG_STATUS_FEATURES_OK) && !(old & VMSG_STATUS_FEATURES_OK)) {
        if (features_acceptable(dev)) {
            dev->negotiated = dev->driver_features;
        } else {
            vmsg_info("%s: device %u (%s): driver features 0x%" PRIx64 " refused (offered 0x%" PRIx64 ")",
                      dev->devbus->bus->name, dev->dev_num, dev->desc.name,
                      dev->driver_features, dev->desc.features);
            next &= ~VMSG_STATUS_FEATURES_OK;
        }
    }
    bool start = (next & VMSG_STATUS_DRIVER_OK) && !(old & VMSG_STATUS_DRIVER_OK);
    if (start && !(next & VMSG_STATUS_FEATURES_OK)) {
        vmsg_info("%s: device %u: DRIVER_OK without FEATURES_OK refused", dev->devbus->bus->name,
                  dev->dev_num);
        next &= ~VMSG_STATUS_DRIVER_OK;
        start = false;
    }
    __atomic_store_n(&dev->status, next, __ATOMIC_RELEASE);
    if (start) {
        vmsg_debug("%s: device %u (%s) DRIVER_OK, features 0x%" PRIx64, dev->devbus->bus->name,
                   dev->dev_num, dev->desc.name, dev->negotiated);
        if (dev->ops->driver_ok)
            dev->ops->driver_ok(dev);
        /* Buffers the driver made available before DRIVER_OK (Linux's
         * console does that) are looked at now. */
        for (uint32_t i = 0; i < dev->desc.num_queues; i++)
            if (dev->vqs[i].enabled && dev->ops->queue_notify && vmsg_device_running(dev))
                dev->ops->queue_notify(dev, i);
    }
}

static void answer_get_vqueue(struct vmsg_device *dev, uint32_t index, struct vmsg_msg *resp)
{
    struct vmsg_vqueue_info *i = &resp->u.get_vqueue_resp;
    i->index = index;
    if (index >= dev->desc.num_queues)
        return;     /* max_size 0: no such queue */
    const struct vmsg_vq_state *q = &dev->vqs[index];
    i->max_size = dev->desc.queue_max_size;
    i->cur_size = q->size;
    i->desc_addr = q->desc_addr;
    i->driver_addr = q->driver_addr;
    i->device_addr = q->device_addr;
}

static void handle_set_vqueue(struct vmsg_device *dev, const struct vmsg_vqueue_setup *s)
{
    if (s->index >= dev->desc.num_queues) {
        log_drop(dev, "SET_VQUEUE for queue %u, device has %u", s->index, dev->desc.num_queues);
        return;
    }
    if (!(dev->status & VMSG_STATUS_FEATURES_OK)) {
        log_drop(dev, "SET_VQUEUE %u before FEATURES_OK", s->index);
        return;
    }
    struct vmsg_vq_state *q = &dev->vqs[s->index];
    if (q->enabled) {
        log_drop(dev, "SET_VQUEUE %u while the queue is enabled (RESET_VQUEUE first)", s->index);
        return;
    }
    if (s->size == 0 || s->size > dev->desc.queue_max_size || (s->size & (s->size - 1))) {
        log_drop(dev, "SET_VQUEUE %u size %u (max %u, power of two)", s->index, s->size,
                 dev->desc.queue_max_size);
        return;
    }
    /* Split ring alignment: descriptors 16, available ring 2, used ring 4. */
    if ((s->desc_addr & 15) || (s->driver_addr & 1) || (s->device_addr & 3)) {
        log_drop(dev, "SET_VQUEUE %u misaligned rings (desc 0x%" PRIx64 ", driver 0x%" PRIx64
                 ", device 0x%" PRIx64 ")", s->index, s->desc_addr, s->driver_addr, s->device_addr);
        return;
    }
    q->size = s->size;
    q->desc_addr = s->desc_addr;
    q->driver_addr = s->driver_addr;
    q->device_addr = s->device_addr;
    q->enabled = true;
    if (dev->ops->queue_enable && dev->ops->queue_enable(dev, s->index) < 0) {
        /* Never started, so never to be reset: forget it. */
        memset(q, 0, sizeof(*q));
        vmsg_device_needs_reset(dev, "a queue could not be started");
    }
}

static void handle_reset_vqueue(struct vmsg_device *dev, uint32_t index)
{
    /* Without RING_RESET a RESET_VQUEUE changes nothing but is still
     * answered: the v1-era Linux driver sends one per queue on teardown. */
    if (!vmsg_device_has_feature(dev, VIRTIO_F_RING_RESET) || index >= dev->desc.num_queues)
        return;
    if (dev->vqs[index].enabled && dev->ops->queue_reset)
        dev->ops->queue_reset(dev, index);
    memset(&dev->vqs[index], 0, sizeof(dev->vqs[index]));
}

static void answer_get_shm(struct vmsg_device *dev, uint32_t id, struct vmsg_msg *resp)
{
    uint64_t addr = 0, len = 0;
    resp->u.get_shm_resp.index = id;
    if (!dev->ops->get_shm || dev->ops->get_shm(dev, id, &addr, &len) < 0)
        return;
    if (addr > UINT32_MAX || len > UINT32_MAX) {
        /* v1's GET_SHM has 32-bit fields: a region beyond them is absent. */
        vmsg_warn("%s: device %u: shm region %u does not fit v1's 32-bit GET_SHM", dev->devbus->bus->name,
                  dev->dev_num, id);
        return;
    }
    resp->u.get_shm_resp.address = (uint32_t)addr;
    resp->u.get_shm_resp.length = (uint32_t)len;
}

static void handle_event_avail(struct vmsg_device *dev, uint32_t index)
{
    if (index >= dev->desc.num_queues || !dev->vqs[index].enabled) {
        log_drop(dev, "EVENT_AVAIL for queue %u, which is not set up", index);
        return;
    }
    if (!vmsg_device_running(dev)) {
        /* Looked at on DRIVER_OK; after NEEDS_RESET, not at all. */
        vmsg_debug("%s: device %u: EVENT_AVAIL %u before DRIVER_OK deferred", dev->devbus->bus->name,
                   dev->dev_num, index);
        return;
    }
    if (dev->ops->queue_notify)
        dev->ops->queue_notify(dev, index);
}

bool vmsg_device_handle(struct vmsg_device *dev, const struct vmsg_msg *req,
                        struct vmsg_msg *resp, uint8_t *scratch)
{
    bool answer = true;

    pthread_mutex_lock(&dev->event_lock);
    memset(resp, 0, sizeof(*resp));
    switch (req->kind) {
    case VMSG_K_GET_DEVICE_INFO_REQ:
        answer_device_info(dev, resp);
        break;
    case VMSG_K_GET_DEVICE_FEATURES_REQ:
        answer = answer_get_features(dev, req, resp, scratch);
        break;
    case VMSG_K_SET_DRIVER_FEATURES_REQ:
        answer = handle_set_features(dev, req);
        break;
    case VMSG_K_GET_CONFIG_REQ:
        answer = answer_get_config(dev, req, resp, scratch);
        break;
    case VMSG_K_SET_CONFIG_REQ:
        answer = answer_set_config(dev, req, resp);
        break;
    case VMSG_K_GET_DEVICE_STATUS_REQ:
        resp->u.get_device_status_resp.status = dev->status;
        break;
    case VMSG_K_SET_DEVICE_STATUS_REQ:
        handle_set_status(dev, req->u.set_device_status_req.status);
        resp->u.set_device_status_resp.status = dev->status;
        break;
    case VMSG_K_GET_VQUEUE_REQ:
        answer_get_vqueue(dev, req->u.get_vqueue_req.index, resp);
        break;
    case VMSG_K_SET_VQUEUE_REQ:
        handle_set_vqueue(dev, &req->u.set_vqueue_req);
        break;
    case VMSG_K_RESET_VQUEUE_REQ:
        handle_reset_vqueue(dev, req->u.reset_vqueue_req.index);
        break;
    case VMSG_K_GET_SHM_REQ:
        answer_get_shm(dev, req->u.get_shm_req.index, resp);
        break;
    case VMSG_K_EVENT_AVAIL:
        handle_event_avail(dev, req->u.event_avail.vq_index);
        answer = false;
        break;
    default:
        log_drop(dev, "%s %s is not a message a device accepts", vmsg_kind_name(req->kind),
                 vmsg_kind_role(req->kind));
        answer = false;
        break;
    }
    if (answer) {
        resp->kind = vmsg_response_kind(req->kind);
        resp->hdr.dev_num = dev->dev_num;
        resp->hdr.token = req->hdr.token;   /* echoed: every driver expects it */
    }
    pthread_mutex_unlock(&dev->event_lock);
    return answer;
}
