/*
 * lib/transport/vmsg_devbus.c: the device side of one bus instance: which
 * device numbers exist, the bus messages (GET_DEVICES, PING, EVENT_DEVICE),
 * validation and dispatch of everything received.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/vmsg_device_internal.h"

/* A message the bus had no room for, encoded. */
struct vmsg_devbus_held {
    size_t len;
    uint8_t msg[];
};

int vmsg_bus_send_msg(struct vmsg_bus *b, const struct vmsg_msg *m, int timeout_ms)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    int len = vmsg_encode(&b->wire, m, buf, sizeof(buf));
    if (len < 0)
        return len;
    return vmsg_bus_send(b, buf, (size_t)len, timeout_ms);
}

int vmsg_devbus_init(struct vmsg_devbus *db, struct vmsg_bus *bus)
{
    memset(db, 0, sizeof(*db));
    db->bus = bus;
    db->drop_log = (struct vmsg_ratelimit)VMSG_RATELIMIT_INIT;
    db->lost_log = (struct vmsg_ratelimit)VMSG_RATELIMIT_INIT;
    pthread_mutex_init(&db->lock, NULL);
    pthread_mutex_init(&db->outbox_lock, NULL);
    return 0;
}

/* ---- the outbox: back-pressure instead of lost messages ------------------- */

static void count(struct vmsg_devbus *db, uint64_t *counter, uint64_t n)
{
    pthread_mutex_lock(&db->lock);
    *counter += n;
    pthread_mutex_unlock(&db->lock);
}

/* Drop everything held (the peer is gone, or a new connection starts).
 * Caller holds outbox_lock. Returns how many were dropped. */
static unsigned outbox_clear(struct vmsg_devbus *db)
{
    unsigned n = db->outbox_n;

    while (db->outbox_n) {
        free(db->outbox[db->outbox_head]);
        db->outbox[db->outbox_head] = NULL;
        db->outbox_head = (db->outbox_head + 1) % VMSG_DEVBUS_OUTBOX_MAX;
        db->outbox_n--;
    }
    db->outbox_head = 0;
    return n;
}

/*
 * Send what is held, oldest first, never waiting. 0 all sent; -ETIMEDOUT
 * the bus still has no room (it then wakes its fd when the peer makes
 * some); another -errno: the peer is gone and what was held is lost.
 * Caller holds outbox_lock.
 */
static int outbox_flush(struct vmsg_devbus *db)
{
    while (db->outbox_n) {
        struct vmsg_devbus_held *h = db->outbox[db->outbox_head];
        int rc = vmsg_bus_send(db->bus, h->msg, h->len, 0);

        if (rc == -ETIMEDOUT)
            return rc;
        if (rc < 0) {
            unsigned lost = outbox_clear(db);

            count(db, &db->stats.lost, lost);
            vmsg_log_ratelimited(&db->lost_log, VMSG_LOG_INFO,
                                 "%s: %u held messages not sent: %s", db->bus->name, lost,
                                 strerror(-rc));
            return rc;
        }
        free(h);
        db->outbox[db->outbox_head] = NULL;
        db->outbox_head = (db->outbox_head + 1) % VMSG_DEVBUS_OUTBOX_MAX;
        db->outbox_n--;
        count(db, &db->stats.sent, 1);
    }
    return 0;
}

/* Hold one encoded message. An EVENT_USED already held for the same queue
 * says all it would (the driver looks at the whole used ring), so it is
 * not held twice. Caller holds outbox_lock. 0 or -ENOBUFS. */
static int outbox_push(struct vmsg_devbus *db, const uint8_t *msg, size_t len, bool coalesce)
{
    struct vmsg_devbus_held *h;

    if (coalesce) {
        for (unsigned i = 0; i < db->outbox_n; i++) {
            const struct vmsg_devbus_held *o =
                db->outbox[(db->outbox_head + i) % VMSG_DEVBUS_OUTBOX_MAX];
            if (o->len == len && memcmp(o->msg, msg, len) == 0)
                return 0;
        }
    }
    if (db->outbox_n == VMSG_DEVBUS_OUTBOX_MAX)
        return -ENOBUFS;
    h = malloc(sizeof(*h) + len);
    if (!h)
        return -ENOBUFS;
    h->len = len;
    memcpy(h->msg, msg, len);
    db->outbox[(db->outbox_head + db->outbox_n) % VMSG_DEVBUS_OUTBOX_MAX] = h;
    db->outbox_n++;
    count(db, &db->stats.held, 1);
    return 0;
}

bool vmsg_devbus_held(struct vmsg_devbus *db)
{
    bool held;

    pthread_mutex_lock(&db->outbox_lock);
    held = db->outbox_n != 0;
    pthread_mutex_unlock(&db->outbox_lock);
    return held;
}

void vmsg_devbus_destroy(struct vmsg_devbus *db)
{
    while (db->ndevices) {
        struct vmsg_device *dev = vmsg_devbus_remove(db, db->devices[0]->dev_num, false);
        if (db->release)
            db->release(dev);
        else
            vmsg_device_destroy(dev);
    }
    free(db->devices);
    db->devices = NULL;
    pthread_mutex_lock(&db->outbox_lock);
    outbox_clear(db);
    pthread_mutex_unlock(&db->outbox_lock);
    pthread_mutex_destroy(&db->outbox_lock);
    pthread_mutex_destroy(&db->lock);
}

/*
 * Every message of the device side goes out here, from the bus thread and
 * the models' threads alike. It never waits for room: what the bus cannot
 * take now is held, in order behind anything held before, and the bus
 * thread sends it once the peer reads (vmsg_devbus_poll). Returns 0 (sent
 * or held), -ENOBUFS (the outbox is full: lost, logged), or another
 * -errno of the bus (-EPIPE: the peer is gone).
 */
int vmsg_devbus_send(struct vmsg_devbus *db, const struct vmsg_msg *m)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    int len = vmsg_encode(&db->bus->wire, m, buf, sizeof(buf));
    int rc;

    if (len < 0)
        return len;
    pthread_mutex_lock(&db->outbox_lock);
    rc = outbox_flush(db);
    if (rc == 0) {
        rc = vmsg_bus_send(db->bus, buf, (size_t)len, 0);
        if (rc == 0)
            count(db, &db->stats.sent, 1);
    }
    if (rc == -ETIMEDOUT) {
        rc = outbox_push(db, buf, (size_t)len, m->kind == VMSG_K_EVENT_USED);
        if (rc < 0) {
            count(db, &db->stats.lost, 1);
            vmsg_log_ratelimited(&db->lost_log, VMSG_LOG_WARN,
                                 "%s: %s not sent: %u messages already wait for room",
                                 db->bus->name, vmsg_kind_name(m->kind), db->outbox_n);
        }
    }
    pthread_mutex_unlock(&db->outbox_lock);
    return rc;
}

/* Index of the first device with dev_num >= n. Caller holds db->lock. */
static unsigned lower_bound(const struct vmsg_devbus *db, uint32_t n)
{
    unsigned lo = 0, hi = db->ndevices;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (db->devices[mid]->dev_num < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct vmsg_device *vmsg_devbus_find(struct vmsg_devbus *db, uint16_t dev_num)
{
    pthread_mutex_lock(&db->lock);
    unsigned i = lower_bound(db, dev_num);
    struct vmsg_device *dev = i < db->ndevices && db->devices[i]->dev_num == dev_num ?
                              db->devices[i] : NULL;
    pthread_mutex_unlock(&db->lock);
    return dev;
}

int vmsg_devbus_announce(struct vmsg_devbus *db, uint16_t dev_num, uint16_t state)
{
    struct vmsg_msg ev = { .kind = VMSG_K_BUS_EVENT_DEVICE };
    ev.u.event_device.device_number = dev_num;
    ev.u.event_device.device_bus_state = state;
    return vmsg_devbus_send(db, &ev);
}

static int announce(struct vmsg_devbus *db, uint16_t dev_num, uint16_t state)
{
    return vmsg_devbus_announce(db, dev_num, state);
}

int vmsg_devbus_add(struct vmsg_devbus *db, uint16_t dev_num, struct vmsg_device *dev, bool notify)
{
    pthread_mutex_lock(&db->lock);
    unsigned i = lower_bound(db, dev_num);
    if (i < db->ndevices && db->devices[i]->dev_num == dev_num) {
        pthread_mutex_unlock(&db->lock);
        return -EEXIST;
    }
    if (db->ndevices == db->cap) {
        unsigned cap = db->cap ? db->cap * 2 : 8;
        struct vmsg_device **grown = realloc(db->devices, cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&db->lock);
            return -ENOMEM;
        }
        db->devices = grown;
        db->cap = cap;
    }
    memmove(&db->devices[i + 1], &db->devices[i], (db->ndevices - i) * sizeof(*db->devices));
    db->devices[i] = dev;
    db->ndevices++;
    dev->devbus = db;
    dev->dev_num = dev_num;
    dev->leaving = false;
    dev->let_go = false;
    pthread_mutex_unlock(&db->lock);
    vmsg_info("%s: device %u (%s) added", db->bus->name, dev_num, dev->desc.name);
    return notify ? announce(db, dev_num, VMSG_DEVICE_BUS_STATE_READY) : 0;
}

struct vmsg_device *vmsg_devbus_remove(struct vmsg_devbus *db, uint16_t dev_num, bool notify)
{
    pthread_mutex_lock(&db->lock);
    unsigned i = lower_bound(db, dev_num);
    if (i >= db->ndevices || db->devices[i]->dev_num != dev_num) {
        pthread_mutex_unlock(&db->lock);
        return NULL;
    }
    struct vmsg_device *dev = db->devices[i];
    memmove(&db->devices[i], &db->devices[i + 1], (db->ndevices - i - 1) * sizeof(*db->devices));
    db->ndevices--;
    db->removals++;
    pthread_mutex_unlock(&db->lock);
    if (notify)
        announce(db, dev_num, VMSG_DEVICE_BUS_STATE_REMOVED);
    /* Off the bus: this reset is ours, not the driver's letting go. */
    __atomic_store_n(&dev->leaving, false, __ATOMIC_RELEASE);
    vmsg_device_reset(dev);
    dev->devbus = NULL;
    vmsg_info("%s: device %u (%s) removed", db->bus->name, dev_num, dev->desc.name);
    return dev;
}

int vmsg_devbus_detach(struct vmsg_devbus *db, uint16_t dev_num, bool notify,
                       uint64_t deadline_ms)
{
    struct vmsg_device *dev = vmsg_devbus_find(db, dev_num);

    if (!dev)
        return -ENOENT;
    if (dev->leaving)
        return -EALREADY;
    /* Under db->lock: GET_DEVICES reads it there. Set before the status
     * is looked at, so that a reset racing with this either came first
     * (status 0 below) or sees `leaving` and sets let_go itself. */
    pthread_mutex_lock(&db->lock);
    dev->leave_deadline_ms = deadline_ms;
    __atomic_store_n(&dev->leaving, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&db->lock);
    pthread_mutex_lock(&dev->event_lock);
    /* Status 0: never set up, or reset already; nothing to let go. */
    if (__atomic_load_n(&dev->status, __ATOMIC_ACQUIRE) == 0)
        __atomic_store_n(&dev->let_go, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&dev->event_lock);
    vmsg_info("%s: device %u (%s) leaving%s", db->bus->name, dev_num, dev->desc.name,
              dev->let_go ? "" : ": waiting for the driver's reset");
    return notify ? announce(db, dev_num, VMSG_DEVICE_BUS_STATE_REMOVED) : 0;
}

struct vmsg_device *vmsg_devbus_reap(struct vmsg_devbus *db, uint64_t now_ms)
{
    uint16_t due = 0;
    bool found = false;

    pthread_mutex_lock(&db->lock);
    for (unsigned i = 0; i < db->ndevices && !found; i++) {
        const struct vmsg_device *d = db->devices[i];
        if (d->leaving && (__atomic_load_n(&d->let_go, __ATOMIC_ACQUIRE) ||
                           now_ms >= d->leave_deadline_ms)) {
            due = d->dev_num;
            found = true;
        }
    }
    pthread_mutex_unlock(&db->lock);
    return found ? vmsg_devbus_remove(db, due, false) : NULL;
}

uint64_t vmsg_devbus_next_deadline(struct vmsg_devbus *db)
{
    uint64_t next = UINT64_MAX;

    pthread_mutex_lock(&db->lock);
    for (unsigned i = 0; i < db->ndevices; i++) {
        const struct vmsg_device *d = db->devices[i];

        if (d->leaving && d->leave_deadline_ms < next)
            next = d->leave_deadline_ms;
        if (d->retry_at_ms && d->retry_at_ms < next)
            next = d->retry_at_ms;
    }
    pthread_mutex_unlock(&db->lock);
    return next;
}

void vmsg_devbus_retry(struct vmsg_devbus *db, uint64_t now_ms)
{
    /* Devices are only removed on this (the bus) thread, so the list can
     * be walked without db->lock, as in vmsg_devbus_reset_all(). */
    for (unsigned i = 0; i < db->ndevices; i++) {
        struct vmsg_device *dev = db->devices[i];

        if (!dev->retry_at_ms || dev->retry_at_ms > now_ms)
            continue;
        pthread_mutex_lock(&dev->event_lock);
        dev->retry_at_ms = 0;
        for (uint32_t q = 0; q < dev->desc.num_queues; q++) {
            if (!dev->vqs[q].retry)
                continue;
            dev->vqs[q].retry = false;
            /* As for EVENT_AVAIL: a queue reset or a device needing a reset
             * meanwhile has nothing to retry. The model may ask again. */
            if (dev->vqs[q].enabled && vmsg_device_running(dev) && dev->ops->queue_notify)
                dev->ops->queue_notify(dev, q);
        }
        pthread_mutex_unlock(&dev->event_lock);
    }
}

void vmsg_devbus_reset_all(struct vmsg_devbus *db)
{
    /* What was held belongs to the connection that is going: never to a
     * new one. */
    pthread_mutex_lock(&db->outbox_lock);
    outbox_clear(db);
    pthread_mutex_unlock(&db->outbox_lock);
    /* Devices are only removed on this (the bus) thread, so the list can be
     * walked without db->lock; holding it here would invert the lock order
     * of a model thread that reports an event (device lock, then db->lock). */
    for (unsigned i = 0; i < db->ndevices; i++)
        vmsg_device_reset(db->devices[i]);
}

/* GET_DEVICES: a window of device numbers as an LSB-first bitmap. The
 * window is shortened to what fits one message (and to the 16-bit number
 * space); next_offset names the window holding the next device after it. */
static void answer_get_devices(struct vmsg_devbus *db, const struct vmsg_get_devices_req *r,
                               struct vmsg_msg *resp, uint8_t *bitmap)
{
    uint32_t fit = (db->bus->wire.max_msg_size - VMSG_HEADER_SIZE - 6) * 8;
    uint32_t count = r->count;
    if (count > fit)
        count = fit & ~7u;
    if ((uint32_t)r->offset + count > 65536)
        count = 65536 - r->offset;
    memset(bitmap, 0, count / 8);

    pthread_mutex_lock(&db->lock);
    unsigned i = lower_bound(db, r->offset);
    /* A leaving device (detach, section 6) is no longer listed. */
    for (; i < db->ndevices && db->devices[i]->dev_num < (uint32_t)r->offset + count; i++) {
        uint32_t bit = db->devices[i]->dev_num - r->offset;
        if (!db->devices[i]->leaving)
            bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
    while (i < db->ndevices && db->devices[i]->leaving)
        i++;
    uint32_t next = i < db->ndevices ? db->devices[i]->dev_num & ~7u : 0;
    pthread_mutex_unlock(&db->lock);

    resp->u.get_devices_resp.offset = r->offset;
    resp->u.get_devices_resp.count = (uint16_t)count;
    resp->u.get_devices_resp.next_offset = (uint16_t)next;
    resp->u.get_devices_resp.bitmap = bitmap;
}

static int handle_bus_message(struct vmsg_devbus *db, const struct vmsg_msg *m, uint8_t *scratch)
{
    struct vmsg_msg resp = { .hdr.token = m->hdr.token };
    switch (m->kind) {
    case VMSG_K_BUS_GET_DEVICES_REQ:
        resp.kind = VMSG_K_BUS_GET_DEVICES_RESP;
        answer_get_devices(db, &m->u.get_devices_req, &resp, scratch);
        break;
    case VMSG_K_BUS_PING_REQ:
        resp.kind = VMSG_K_BUS_PING_RESP;
        resp.u.ping_resp.data = m->u.ping_req.data;
        break;
    default:
        pthread_mutex_lock(&db->lock);
        db->stats.dropped_unexpected++;
        pthread_mutex_unlock(&db->lock);
        vmsg_log_ratelimited(&db->drop_log, VMSG_LOG_WARN, "%s: dropped bus %s %s: not for a device side",
                             db->bus->name, vmsg_kind_name(m->kind), vmsg_kind_role(m->kind));
        return 0;
    }
    return vmsg_devbus_send(db, &resp);
}

int vmsg_devbus_handle(struct vmsg_devbus *db, const void *raw, size_t len)
{
    struct vmsg_msg m, resp;
    struct vmsg_problem why;
    uint8_t scratch[VMSG_LIMIT_MAX_MSG_SIZE];

    pthread_mutex_lock(&db->lock);
    db->stats.received++;
    pthread_mutex_unlock(&db->lock);
    if (vmsg_decode(&db->bus->wire, raw, len, 0, &m, &why) != VMSG_OK) {
        pthread_mutex_lock(&db->lock);
        db->stats.dropped_malformed++;
        pthread_mutex_unlock(&db->lock);
        vmsg_log_ratelimited(&db->drop_log, VMSG_LOG_WARN, "%s: dropped malformed message: %s: %s",
                             db->bus->name, vmsg_verdict_name(why.verdict), why.reason);
        return 0;
    }
    if (why.ignored[0])
        vmsg_debug("%s: %s", db->bus->name, why.ignored);
    if (vmsg_kind_is_bus(m.kind))
        return handle_bus_message(db, &m, scratch);

    struct vmsg_device *dev = vmsg_devbus_find(db, m.hdr.dev_num);
    if (!dev) {
        pthread_mutex_lock(&db->lock);
        db->stats.dropped_unexpected++;
        pthread_mutex_unlock(&db->lock);
        vmsg_log_ratelimited(&db->drop_log, VMSG_LOG_WARN, "%s: dropped %s for device %u: no such device",
                             db->bus->name, vmsg_kind_name(m.kind), m.hdr.dev_num);
        return 0;
    }
    if (!vmsg_device_handle(dev, &m, &resp, scratch))
        return 0;
    return vmsg_devbus_send(db, &resp);
}

int vmsg_devbus_poll(struct vmsg_devbus *db, int timeout_ms)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    int handled = 0;
    bool armed = false;
    int rc;

    db->backlog = false;
    /* Back-pressure: what could not be written before goes first, and
     * while anything is still held no new request is read. */
    pthread_mutex_lock(&db->outbox_lock);
    rc = outbox_flush(db);
    pthread_mutex_unlock(&db->outbox_lock);
    if (rc == -ETIMEDOUT) {
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    rc = vmsg_bus_wait(db->bus, timeout_ms);
    if (rc <= 0)
        goto out;
    for (;;) {
        /* Bounded work per call: a guest writing messages as fast as we
         * take them must not keep the bus thread from its stop request,
         * its other fds and the other devices' completions. */
        if (handled >= VMSG_DEVBUS_POLL_BUDGET) {
            db->backlog = true;
            rc = handled;
            goto out;
        }
        int len = vmsg_bus_recv(db->bus, buf, sizeof(buf));
        if (len == 0) {
            if (armed) {
                rc = handled;
                goto out;
            }
            /* A bus such as the Xen channel wakes the device only if it
             * asked for a kick (vchan's notify bits), and it asks only
             * from wait() on an empty ring: ask now, or a caller that
             * sleeps on the bus fd after this return misses the next
             * message and wakes at its own re-check interval. */
            rc = vmsg_bus_wait(db->bus, 0);
            if (rc <= 0) {
                rc = rc < 0 ? rc : handled;
                goto out;
            }
            armed = true;
            continue;
        }
        armed = false;
        if (len == -EMSGSIZE)
            continue;   /* the bus dropped an oversized message whole */
        if (len < 0) {
            rc = len;
            goto out;
        }
        rc = vmsg_devbus_handle(db, buf, (size_t)len);
        if (rc < 0)
            goto out;
        handled++;
        if (vmsg_devbus_held(db)) {
            /* The peer is not reading: stop taking its requests until it
             * makes room (the bus wakes us then). */
            rc = handled;
            goto out;
        }
    }
out:
    /* The caller sleeps on the bus fd next: wake-ups held back while we
     * worked (late EOI) are enabled again, once. */
    vmsg_bus_rearm(db->bus);
    return rc;
}
