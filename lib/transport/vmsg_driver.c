/*
 * lib/transport/vmsg_driver.c: the driver side of a bus instance and the
 * per-device operations a driver needs, each checked against what the
 * device answered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "transport/vmsg_driver.h"

#define VIRTIO_F_RING_RESET 40
#define CONFIG_READ_RETRIES 3

int vmsg_drvbus_init(struct vmsg_drvbus *db, struct vmsg_bus *bus)
{
    memset(db, 0, sizeof(*db));
    db->bus = bus;
    db->timeout_ms = VMSG_DRIVER_DEFAULT_TIMEOUT_MS;
    db->next_token = 1;
    db->drop_log = (struct vmsg_ratelimit)VMSG_RATELIMIT_INIT;
    return 0;
}

void vmsg_drvbus_destroy(struct vmsg_drvbus *db)
{
    free(db->devs);
    db->devs = NULL;
    db->ndevs = db->cap = 0;
}

static struct vmsg_driver_dev *find_dev(struct vmsg_drvbus *db, uint16_t dev_num)
{
    for (unsigned i = 0; i < db->ndevs; i++)
        if (db->devs[i]->dev_num == dev_num)
            return db->devs[i];
    return NULL;
}

static void drop(struct vmsg_drvbus *db, const char *what, const char *detail)
{
    db->dropped++;
    vmsg_log_ratelimited(&db->drop_log, VMSG_LOG_WARN, "%s: dropped %s: %s", db->bus->name, what, detail);
}

static void dispatch_event(struct vmsg_drvbus *db, const struct vmsg_msg *m)
{
    struct vmsg_driver_dev *dev;
    switch (m->kind) {
    case VMSG_K_EVENT_USED:
        dev = find_dev(db, m->hdr.dev_num);
        if (!dev)
            return drop(db, "EVENT_USED", "for a device we do not drive");
        if (m->u.event_used.vq_index >= dev->info.max_virtqueues)
            return drop(db, "EVENT_USED", "for a queue the device does not have");
        if (dev->on_used)
            dev->on_used(dev, m->u.event_used.vq_index, dev->opaque);
        return;
    case VMSG_K_EVENT_CONFIG:
        dev = find_dev(db, m->hdr.dev_num);
        if (!dev)
            return drop(db, "EVENT_CONFIG", "for a device we do not drive");
        dev->generation = m->u.event_config.generation;
        dev->last_event_status = m->u.event_config.device_status;
        dev->config_changed = true;
        if (dev->on_config)
            dev->on_config(dev, dev->opaque);
        return;
    case VMSG_K_BUS_EVENT_DEVICE:
        /* Section 6: the driver of a removed device lets go of it, after
         * whatever request is under way (let_go()). */
        for (unsigned i = 0; i < db->ndevs; i++) {
            dev = db->devs[i];
            if (dev->dev_num == m->u.event_device.device_number && !dev->removed &&
                m->u.event_device.device_bus_state == VMSG_DEVICE_BUS_STATE_REMOVED) {
                dev->removed = true;
                db->resets_pending = true;
            }
        }
        if (db->on_device_event)
            db->on_device_event(db, m->u.event_device.device_number,
                                m->u.event_device.device_bus_state, db->opaque);
        return;
    default:
        return drop(db, vmsg_kind_name(m->kind), "not a message a driver side accepts");
    }
}

/* Take one message off the bus: <0 error, 0 none, 1 taken (in buf/out). */
static int take_one(struct vmsg_drvbus *db, uint8_t *buf, struct vmsg_msg *out)
{
    struct vmsg_problem why;
    int len = vmsg_bus_recv(db->bus, buf, VMSG_LIMIT_MAX_MSG_SIZE);
    if (len <= 0)
        return len == -EMSGSIZE ? 2 : len;
    if (vmsg_decode(&db->bus->wire, buf, (size_t)len, 0, out, &why) != VMSG_OK) {
        drop(db, "malformed message", why.reason);
        return 2;
    }
    return 1;
}

static bool is_event(enum vmsg_kind k)
{
    return k == VMSG_K_EVENT_USED || k == VMSG_K_EVENT_CONFIG ||
           k == VMSG_K_BUS_EVENT_DEVICE || k == VMSG_K_EVENT_AVAIL;
}

static int request(struct vmsg_drvbus *db, struct vmsg_msg *req, struct vmsg_msg *resp,
                   uint8_t *resp_buf);
static int poll_events(struct vmsg_drvbus *db, int timeout_ms);

/*
 * docs/protocol.md section 6: the backend destroys a removed device once its
 * driver wrote status 0, or after 5 s. Every device the backend removed is
 * reset here, once, right after the request or poll that took the REMOVED
 * (never inside one: a request does not nest). From then on its requests
 * fail with -ENODEV; the driver that holds it finds `removed` set and
 * releases it.
 */
static void let_go(struct vmsg_drvbus *db)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];

    if (!db->resets_pending || db->letting_go)
        return;
    db->letting_go = true;
    while (db->resets_pending) {
        db->resets_pending = false;
        for (unsigned i = 0; i < db->ndevs; i++) {
            struct vmsg_driver_dev *dev = db->devs[i];
            struct vmsg_msg req = { .kind = VMSG_K_SET_DEVICE_STATUS_REQ }, resp;
            int rc;

            if (!dev->removed || dev->let_go)
                continue;
            dev->let_go = true;
            req.hdr.dev_num = dev->dev_num;
            req.u.set_device_status_req.status = 0;
            rc = request(db, &req, &resp, buf);
            if (rc < 0)
                vmsg_warn("%s: device %u was removed; resetting it failed: %s "
                          "(the backend drops it after its timeout)", db->bus->name,
                          dev->dev_num, strerror(-rc));
            else
                vmsg_info("%s: device %u was removed: reset, no longer used", db->bus->name,
                          dev->dev_num);
        }
    }
    db->letting_go = false;
}

int vmsg_drvbus_poll(struct vmsg_drvbus *db, int timeout_ms)
{
    int rc = poll_events(db, timeout_ms);

    let_go(db);
    return rc;
}

static int poll_events(struct vmsg_drvbus *db, int timeout_ms)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg m;
    int handled = 0;
    int rc = vmsg_bus_wait(db->bus, timeout_ms);
    if (rc <= 0)
        return rc;
    while ((rc = take_one(db, buf, &m)) > 0) {
        if (rc == 1 && is_event(m.kind)) {
            dispatch_event(db, &m);
            handled++;
        } else if (rc == 1) {
            drop(db, vmsg_kind_name(m.kind), "a response nobody is waiting for");
        }
    }
    return rc < 0 ? rc : handled;
}

int vmsg_drvbus_request(struct vmsg_drvbus *db, struct vmsg_msg *req,
                        struct vmsg_msg *resp, uint8_t *resp_buf)
{
    int rc = request(db, req, resp, resp_buf);

    let_go(db);
    return rc;
}

static int request(struct vmsg_drvbus *db, struct vmsg_msg *req, struct vmsg_msg *resp,
                   uint8_t *resp_buf)
{
    enum vmsg_kind want = vmsg_response_kind(req->kind);
    if (want == VMSG_KIND_COUNT)
        return -EINVAL;
    req->hdr.token = db->next_token++;
    if (db->next_token == 0)
        db->next_token = 1;
    int rc = vmsg_bus_send_msg(db->bus, req, db->timeout_ms);
    if (rc < 0)
        return rc;

    uint64_t deadline = vmsg_now_ms() + (uint64_t)db->timeout_ms;
    for (;;) {
        uint64_t now = vmsg_now_ms();
        if (now >= deadline)
            break;
        rc = vmsg_bus_wait(db->bus, (int)(deadline - now));
        if (rc < 0)
            return rc;
        while ((rc = take_one(db, resp_buf, resp)) > 0) {
            if (rc != 1)
                continue;
            if (is_event(resp->kind)) {
                dispatch_event(db, resp);
                continue;
            }
            bool same_dev = vmsg_kind_is_bus(want) || resp->hdr.dev_num == req->hdr.dev_num;
            /* Matched by kind and device in order (v1); a token that names
             * an earlier, timed-out request marks a late answer to it. */
            bool stale = db->stale_token && resp->hdr.token == db->stale_token &&
                         resp->hdr.token != req->hdr.token;
            if (resp->kind == want && same_dev && !stale)
                return 0;
            drop(db, vmsg_kind_name(resp->kind), stale ? "late answer to a timed-out request"
                                                       : "a response nobody is waiting for");
        }
        if (rc < 0)
            return rc;
    }
    db->stale_token = req->hdr.token;
    vmsg_warn("%s: %s to device %u: no answer within %d ms", db->bus->name, vmsg_kind_name(req->kind),
              req->hdr.dev_num, db->timeout_ms);
    return -ETIMEDOUT;
}

int vmsg_drvbus_get_devices(struct vmsg_drvbus *db, uint16_t *nums, unsigned max)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_BUS_GET_DEVICES_REQ }, resp;
    unsigned found = 0;
    uint32_t offset = 0;
    /* Ask for the widest window that fits a response. */
    uint32_t window = ((db->bus->wire.max_msg_size - VMSG_HEADER_SIZE - 6) * 8) & ~7u;
    if (window > 65528)
        window = 65528;

    for (;;) {
        req.u.get_devices_req.offset = (uint16_t)offset;
        req.u.get_devices_req.count = (uint16_t)(offset + window > 65536 ? 65536 - offset : window);
        int rc = vmsg_drvbus_request(db, &req, &resp, buf);
        if (rc < 0)
            return rc;
        const struct vmsg_get_devices_resp *r = &resp.u.get_devices_resp;
        if (r->offset != offset || r->count > req.u.get_devices_req.count)
            return -EPROTO;
        for (uint32_t bit = 0; bit < r->count; bit++) {
            if (!(r->bitmap[bit / 8] >> (bit % 8) & 1))
                continue;
            if (found < max)
                nums[found] = (uint16_t)(offset + bit);
            found++;
        }
        uint32_t covered = offset + r->count;
        if (r->next_offset == 0 || covered >= 65536)
            break;
        /* The validator guarantees next_offset >= offset + count; a device
         * that reports an empty window must still make progress. */
        if (r->next_offset <= offset)
            return -EPROTO;
        offset = r->next_offset;
    }
    return (int)found;
}

int vmsg_drvbus_ping(struct vmsg_drvbus *db, uint32_t data)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_BUS_PING_REQ }, resp;
    req.u.ping_req.data = data;
    int rc = vmsg_drvbus_request(db, &req, &resp, buf);
    if (rc < 0)
        return rc;
    return resp.u.ping_resp.data == data ? 0 : -EBADMSG;
}

/* --- per device ---------------------------------------------------------- */

static int dev_request(struct vmsg_driver_dev *dev, struct vmsg_msg *req, struct vmsg_msg *resp,
                       uint8_t *buf)
{
    if (dev->removed)
        return -ENODEV;     /* let_go() reset it; nothing more goes to it */
    req->hdr.dev_num = dev->dev_num;
    return vmsg_drvbus_request(dev->db, req, resp, buf);
}

int vmsg_drv_probe(struct vmsg_drvbus *db, uint16_t dev_num, struct vmsg_driver_dev *dev)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_GET_DEVICE_INFO_REQ }, resp;

    memset(dev, 0, sizeof(*dev));
    dev->db = db;
    dev->dev_num = dev_num;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc < 0)
        return rc;
    const struct vmsg_device_info *i = &resp.u.get_device_info_resp;
    if (i->device_id == 0)
        return -ENODEV;
    if (i->admin_vq_count && (uint64_t)i->admin_vq_start + i->admin_vq_count > i->max_virtqueues) {
        vmsg_warn("%s: device %u: admin queues %u+%u beyond its %u queues", db->bus->name, dev_num,
                  i->admin_vq_start, i->admin_vq_count, i->max_virtqueues);
        return -EPROTO;
    }
    dev->info = *i;
    if (db->ndevs == db->cap) {
        unsigned cap = db->cap ? db->cap * 2 : 8;
        struct vmsg_driver_dev **grown = realloc(db->devs, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        db->devs = grown;
        db->cap = cap;
    }
    db->devs[db->ndevs++] = dev;
    return 0;
}

void vmsg_drv_release(struct vmsg_driver_dev *dev)
{
    struct vmsg_drvbus *db = dev->db;
    for (unsigned i = 0; db && i < db->ndevs; i++) {
        if (db->devs[i] == dev) {
            db->devs[i] = db->devs[--db->ndevs];
            break;
        }
    }
    dev->db = NULL;
}

int vmsg_drv_get_status(struct vmsg_driver_dev *dev, uint32_t *status)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_GET_DEVICE_STATUS_REQ }, resp;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc == 0)
        *status = resp.u.get_device_status_resp.status;
    return rc;
}

int vmsg_drv_set_status(struct vmsg_driver_dev *dev, uint32_t status, uint32_t *result)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_SET_DEVICE_STATUS_REQ }, resp;
    req.u.set_device_status_req.status = status;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc == 0 && result)
        *result = resp.u.set_device_status_resp.status;
    return rc;
}

int vmsg_drv_reset(struct vmsg_driver_dev *dev)
{
    uint32_t result;
    int rc = vmsg_drv_set_status(dev, 0, &result);
    if (rc < 0)
        return rc;
    dev->features = 0;
    return result == 0 ? 0 : -EIO;
}

int vmsg_drv_get_features(struct vmsg_driver_dev *dev, uint64_t *offered)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_GET_DEVICE_FEATURES_REQ }, resp;
    uint32_t blocks = dev->info.num_feature_bits / 32;
    if (blocks > 2)
        blocks = 2;     /* the bits this transport knows */
    *offered = 0;
    if (blocks == 0)
        return 0;
    req.u.get_device_features_req.block_index = 0;
    req.u.get_device_features_req.num_blocks = blocks;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc < 0)
        return rc;
    const struct vmsg_feature_blocks *f = &resp.u.get_device_features_resp;
    if (f->block_index != 0 || f->num_blocks != blocks)
        return -EPROTO;
    for (uint32_t i = 0; i < blocks; i++)
        *offered |= (uint64_t)vmsg_get_le32(f->features + 4 * i) << (32 * i);
    return 0;
}

int vmsg_drv_negotiate(struct vmsg_driver_dev *dev, uint64_t wanted)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE], blocks[8];
    struct vmsg_msg req = { .kind = VMSG_K_SET_DRIVER_FEATURES_REQ }, resp;
    uint64_t offered;
    uint32_t status;
    int rc;

    if ((rc = vmsg_drv_reset(dev)) < 0 ||
        (rc = vmsg_drv_set_status(dev, VMSG_STATUS_ACKNOWLEDGE, NULL)) < 0 ||
        (rc = vmsg_drv_set_status(dev, VMSG_STATUS_ACKNOWLEDGE | VMSG_STATUS_DRIVER, NULL)) < 0 ||
        (rc = vmsg_drv_get_features(dev, &offered)) < 0)
        return rc;
    uint64_t chosen = offered & wanted;
    vmsg_put_le32(blocks, (uint32_t)chosen);
    vmsg_put_le32(blocks + 4, (uint32_t)(chosen >> 32));
    req.u.set_driver_features_req.block_index = 0;
    req.u.set_driver_features_req.num_blocks = 2;
    req.u.set_driver_features_req.features = blocks;
    if ((rc = dev_request(dev, &req, &resp, buf)) < 0)
        return rc;
    rc = vmsg_drv_set_status(dev, VMSG_STATUS_ACKNOWLEDGE | VMSG_STATUS_DRIVER |
                             VMSG_STATUS_FEATURES_OK, &status);
    if (rc < 0)
        return rc;
    if (!(status & VMSG_STATUS_FEATURES_OK)) {
        vmsg_warn("%s: device %u refused features 0x%" PRIx64, dev->db->bus->name, dev->dev_num, chosen);
        vmsg_drv_set_status(dev, status | VMSG_STATUS_FAILED, NULL);
        return -ENOTSUP;
    }
    dev->features = chosen;
    return 0;
}

static int config_bounds(const struct vmsg_driver_dev *dev, uint32_t off, uint32_t len)
{
    return (uint64_t)off + len > dev->info.config_size ? -ERANGE : 0;
}

/* One GET_CONFIG chunk, checked against what was asked. */
static int read_chunk(struct vmsg_driver_dev *dev, uint32_t off, uint8_t *dst, uint32_t len,
                      uint32_t *generation)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_GET_CONFIG_REQ }, resp;
    req.u.get_config_req.offset = off;
    req.u.get_config_req.length = len;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc < 0)
        return rc;
    const struct vmsg_config_data *c = &resp.u.get_config_resp;
    if (c->offset != off || c->length != len)
        return -EPROTO;
    if (len)
        memcpy(dst, c->data, len);
    *generation = c->generation;
    return 0;
}

int vmsg_drv_config_generation(struct vmsg_driver_dev *dev, uint32_t *generation)
{
    int rc = read_chunk(dev, 0, NULL, 0, generation);
    if (rc == 0)
        dev->generation = *generation;
    return rc;
}

int vmsg_drv_read_config(struct vmsg_driver_dev *dev, uint32_t off, void *buf, uint32_t len)
{
    uint32_t chunk = vmsg_max_config_chunk(dev->db->bus->wire.max_msg_size);
    int rc = config_bounds(dev, off, len);
    if (rc < 0)
        return rc;
    for (int attempt = 0; attempt < CONFIG_READ_RETRIES; attempt++) {
        uint32_t first_gen = 0, gen = 0;
        bool torn = false;
        for (uint32_t done = 0; done < len || (len == 0 && done == 0);) {
            uint32_t n = len - done < chunk ? len - done : chunk;
            if ((rc = read_chunk(dev, off + done, (uint8_t *)buf + done, n, &gen)) < 0)
                return rc;
            if (done == 0)
                first_gen = gen;
            else if (gen != first_gen)
                torn = true;
            done += n;
            if (n == 0)
                break;
        }
        dev->generation = gen;
        dev->config_changed = false;
        if (!torn)
            return 0;
    }
    return -EAGAIN;
}

static int write_chunk(struct vmsg_driver_dev *dev, uint32_t off, const uint8_t *src, uint32_t len,
                       uint32_t *applied)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_SET_CONFIG_REQ }, resp;
    req.u.set_config_req.generation = dev->generation;
    req.u.set_config_req.offset = off;
    req.u.set_config_req.length = len;
    req.u.set_config_req.data = src;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc < 0)
        return rc;
    const struct vmsg_config_data *c = &resp.u.set_config_resp;
    if (c->offset != off || (c->length != 0 && c->length != len))
        return -EPROTO;
    dev->generation = c->generation;
    *applied = c->length;
    return 0;
}

int vmsg_drv_write_config(struct vmsg_driver_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
    uint32_t chunk = vmsg_max_config_chunk(dev->db->bus->wire.max_msg_size);
    int rc = config_bounds(dev, off, len);
    if (rc < 0)
        return rc;
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < chunk ? len - done : chunk, applied, gen;
        if ((rc = write_chunk(dev, off + done, (const uint8_t *)buf + done, n, &applied)) < 0)
            return rc;
        if (applied == 0) {
            /* Rejected (stale generation): re-read it and try once more. */
            if ((rc = vmsg_drv_config_generation(dev, &gen)) < 0 ||
                (rc = write_chunk(dev, off + done, (const uint8_t *)buf + done, n, &applied)) < 0)
                return rc;
            if (applied == 0)
                return -EAGAIN;
        }
        done += n;
    }
    return 0;
}

int vmsg_drv_get_vqueue(struct vmsg_driver_dev *dev, uint32_t index, struct vmsg_vqueue_info *out)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_GET_VQUEUE_REQ }, resp;
    req.u.get_vqueue_req.index = index;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc < 0)
        return rc;
    if (resp.u.get_vqueue_resp.index != index)
        return -EPROTO;
    *out = resp.u.get_vqueue_resp;
    return 0;
}

int vmsg_drv_set_vqueue(struct vmsg_driver_dev *dev, uint32_t index, uint32_t size,
                        uint64_t desc, uint64_t driver, uint64_t device)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_SET_VQUEUE_REQ }, resp;
    struct vmsg_vqueue_info info;
    int rc;

    if (index >= dev->info.max_virtqueues)
        return -ENOENT;
    if ((rc = vmsg_drv_get_vqueue(dev, index, &info)) < 0)
        return rc;
    if (info.max_size == 0)
        return -ENOENT;
    if (size == 0 || size > info.max_size || (size & (size - 1)))
        return -EINVAL;
    req.u.set_vqueue_req = (struct vmsg_vqueue_setup){
        .index = index, .size = size, .desc_addr = desc, .driver_addr = driver, .device_addr = device,
    };
    if ((rc = dev_request(dev, &req, &resp, buf)) < 0)
        return rc;
    if ((rc = vmsg_drv_get_vqueue(dev, index, &info)) < 0)
        return rc;
    if (info.cur_size != size || info.desc_addr != desc || info.driver_addr != driver ||
        info.device_addr != device) {
        vmsg_warn("%s: device %u did not take the setup of queue %u", dev->db->bus->name,
                  dev->dev_num, index);
        return -EIO;
    }
    return 0;
}

int vmsg_drv_reset_vqueue(struct vmsg_driver_dev *dev, uint32_t index)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_RESET_VQUEUE_REQ }, resp;
    if (!(dev->features >> VIRTIO_F_RING_RESET & 1))
        return -ENOTSUP;
    req.u.reset_vqueue_req.index = index;
    return dev_request(dev, &req, &resp, buf);
}

int vmsg_drv_get_shm(struct vmsg_driver_dev *dev, uint32_t id, uint32_t *addr, uint32_t *len)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_msg req = { .kind = VMSG_K_GET_SHM_REQ }, resp;
    req.u.get_shm_req.index = id;
    int rc = dev_request(dev, &req, &resp, buf);
    if (rc < 0)
        return rc;
    if (resp.u.get_shm_resp.index != id)
        return -EPROTO;
    *addr = resp.u.get_shm_resp.address;
    *len = resp.u.get_shm_resp.length;
    return 0;
}

int vmsg_drv_notify(struct vmsg_driver_dev *dev, uint32_t index, uint32_t next_offset)
{
    struct vmsg_msg ev = { .kind = VMSG_K_EVENT_AVAIL };
    if (dev->removed)
        return -ENODEV;
    ev.hdr.dev_num = dev->dev_num;
    ev.u.event_avail.vq_index = index;
    ev.u.event_avail.next_offset = next_offset;
    return vmsg_bus_send_msg(dev->db->bus, &ev, dev->db->timeout_ms);
}

int vmsg_drv_driver_ok(struct vmsg_driver_dev *dev)
{
    uint32_t status, result;
    int rc = vmsg_drv_get_status(dev, &status);
    if (rc < 0)
        return rc;
    if ((rc = vmsg_drv_set_status(dev, status | VMSG_STATUS_DRIVER_OK, &result)) < 0)
        return rc;
    if (!(result & VMSG_STATUS_DRIVER_OK) || (result & VMSG_STATUS_DEVICE_NEEDS_RESET))
        return -EIO;
    return 0;
}
