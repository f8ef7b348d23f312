/*
 * backend/bus_devices.c: B/devices/<D>/ nodes <-> device models on the
 * instance's devbus (see bus_devices.h).
 */
#include "config.h"

#include "bus_devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vmsg_devices.h"
#include "util/vmsg_log.h"

/* docs/protocol.md section 8: detach wait for the driver's reset. */
#define DETACH_WAIT_MS 5000

/* Model names for the bare virtio device ids section 6 allows as `type`. */
static const char *model_of(const struct vmsg_xs_device *d)
{
    switch (d->type) {
    case VMSG_XS_DEV_RNG: return "rng";
    case VMSG_XS_DEV_CONSOLE: return "console";
    case VMSG_XS_DEV_BLK: return "blk";
    case VMSG_XS_DEV_VIRTIO_ID:
        switch (d->virtio_id) {
        case VIRTIO_ID_RNG: return "rng";
        case VIRTIO_ID_CONSOLE: return "console";
        case VIRTIO_ID_BLOCK: return "blk";
        }
    }
    return NULL;
}

/*
 * Section 7's keys in the device models' vocabulary. The schema module has
 * already refused unknown keys and bad values; this only renames:
 * console output=pty|file:P|socket:P -> (default)|log=P|socket=P, blk
 * target=P -> path=P. Returns the count, or -EINVAL with `why` filled.
 */
static int model_params(const struct vmsg_xs_device *d, struct vmsg_param *out,
                        char *why, size_t whylen)
{
    unsigned n = 0;

    for (unsigned i = 0; i < d->nparams; i++) {
        const char *key = d->params[i].key, *val = d->params[i].value;

        if (!strcmp(key, "output")) {
            if (!strcmp(val, "pty"))
                continue;   /* the model's default */
            if (!strncmp(val, "file:", 5)) {
                out[n++] = (struct vmsg_param){ "log", val + 5 };
            } else if (!strncmp(val, "socket:", 7)) {
                out[n++] = (struct vmsg_param){ "socket", val + 7 };
            } else {
                snprintf(why, whylen, "params/output: '%s' is not pty, file:PATH or socket:PATH",
                         val);
                return -EINVAL;
            }
        } else if (!strcmp(key, "target")) {
            out[n++] = (struct vmsg_param){ "path", val };
        } else {
            out[n++] = (struct vmsg_param){ key, val };
        }
    }
    return (int)n;
}

/*
 * Platform calls go through xb->plat_lock, which the channel also takes
 * when a model's I/O thread sends; it is held for the xenstore call only,
 * never across a send.
 */
static int dev_state(struct vmsg_xen_back *xb, uint16_t num, uint32_t *state)
{
    char node[32];
    int rc;

    snprintf(node, sizeof(node), "devices/%u/state", num);
    pthread_mutex_lock(&xb->plat_lock);
    rc = vmsg_xs_read_u32(xb->plat, VMSG_XS_TX_NONE, xb->bdir, node, 0, VMSG_XB_STATE_MAX, state);
    pthread_mutex_unlock(&xb->plat_lock);
    return rc;
}

static int dev_set_state(struct vmsg_xen_back *xb, uint16_t num, unsigned from, unsigned to)
{
    int rc;

    pthread_mutex_lock(&xb->plat_lock);
    rc = vmsg_xs_dev_set_state(xb->plat, xb->bdir, num, from, to);
    pthread_mutex_unlock(&xb->plat_lock);
    return rc;
}

static void announce(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint16_t num,
                     uint16_t bus_state)
{
    int rc;

    if (!vmsg_xen_back_connected(xb))
        return;     /* the driver enumerates afresh when it connects */
    /* Through the devbus's outbox: held, not lost, while the driver is
     * slow to read (docs/protocol.md section 4.7). */
    rc = vmsg_devbus_announce(db, num, bus_state);
    if (rc)
        vmsg_warn("%s: device %u: EVENT_DEVICE %s not sent: %s", db->bus->name, num,
                  bus_state == VMSG_DEVICE_BUS_STATE_READY ? "READY" : "REMOVED", strerror(-rc));
}

/* Section 6, "a device the backend cannot serve": state 6 and `error`. */
static void refuse(struct vmsg_xen_back *xb, uint16_t num, const char *why)
{
    int rc;

    vmsg_err("backend %s: device %u refused: %s", xb->bdir, num, why);
    pthread_mutex_lock(&xb->plat_lock);
    rc = vmsg_xs_dev_set_error(xb->plat, xb->bdir, num, why);
    pthread_mutex_unlock(&xb->plat_lock);
    if (rc)
        vmsg_err("backend %s: device %u: cannot write its error node: %s", xb->bdir, num,
                 strerror(-rc));
}

/* Section 6, hotplug: create, add, state 4, then EVENT_DEVICE READY. */
static int attach(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint16_t num,
                  uint32_t from)
{
    struct vmsg_param params[VMSG_XS_DEV_MAX_PARAMS];
    struct vmsg_xs_device d;
    struct vmsg_device *dev;
    const char *model;
    char why[192];
    int n, rc;

    pthread_mutex_lock(&xb->plat_lock);
    rc = vmsg_xs_dev_read(xb->plat, xb->bdir, num, &d, why, sizeof(why));
    pthread_mutex_unlock(&xb->plat_lock);
    if (rc == -EINVAL) {
        refuse(xb, num, why);
        return 0;
    }
    if (rc)
        return rc == -ENOENT ? 0 : rc;  /* half-written: the next event completes it */
    model = model_of(&d);
    if (!model) {
        snprintf(why, sizeof(why), "type: virtio device id %u is not served here", d.virtio_id);
        refuse(xb, num, why);
        goto out;
    }
    n = model_params(&d, params, why, sizeof(why));
    if (n < 0) {
        refuse(xb, num, why);
        goto out;
    }
    rc = vmsg_device_model_create(model, params, (unsigned)n, &dev);
    if (rc) {
        snprintf(why, sizeof(why), "%s device cannot be created: %s (the backend's log says more)",
                 model, strerror(-rc));
        refuse(xb, num, why);
        rc = 0;
        goto out;
    }
    rc = vmsg_devbus_add(db, num, dev, false);
    if (rc) {
        vmsg_device_model_destroy(dev);
        snprintf(why, sizeof(why), "cannot add to the bus: %s", strerror(-rc));
        refuse(xb, num, why);
        rc = 0;
        goto out;
    }
    if (model[0] == 'c' && vmsg_console_host_path(dev))
        vmsg_info("backend %s: device %u: console host end %s", xb->bdir, num,
                  vmsg_console_host_path(dev));
    /* After a backend restart the node says 4 already: nothing to write. */
    rc = from == VMSG_XB_CONNECTED ? 0 : dev_set_state(xb, num, from, VMSG_XB_CONNECTED);
    if (rc) {
        /* Both views must agree: without state 4 the device is not there. */
        vmsg_err("backend %s: device %u: cannot write state 4: %s", xb->bdir, num,
                 strerror(-rc));
        vmsg_device_model_destroy(vmsg_devbus_remove(db, num, false));
        goto out;
    }
    announce(xb, db, num, VMSG_DEVICE_BUS_STATE_READY);
out:
    vmsg_xs_dev_free(&d);
    return rc;
}

/*
 * Section 6, detach, first half: EVENT_DEVICE REMOVED; the device stays on
 * the bus, unlisted, answering its driver, until the driver resets it or
 * DETACH_WAIT_MS pass; vmsg_back_devices_reap() does the rest. Nothing
 * here waits: the instance's other devices go on being served meanwhile.
 * Without a connection there is no driver to wait for: the devices were
 * reset when it went (status 0), so the device goes at once. A device the
 * backend never served (refused) is Closed at once.
 */
static int detach(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint16_t num,
                  uint64_t now_ms)
{
    struct vmsg_device *dev = vmsg_devbus_find(db, num);
    bool connected = vmsg_xen_back_connected(xb);
    int rc;

    if (!dev)
        return dev_set_state(xb, num, VMSG_XB_CLOSING, VMSG_XB_CLOSED);
    if (dev->leaving)
        return 0;
    rc = vmsg_devbus_detach(db, num, connected, now_ms + DETACH_WAIT_MS);
    if (rc && rc != -EALREADY)
        vmsg_warn("%s: device %u: EVENT_DEVICE REMOVED not sent: %s", db->bus->name, num,
                  strerror(-rc));
    vmsg_info("backend %s: device %u: detaching%s", xb->bdir, num,
              dev->let_go ? "" : ": REMOVED sent, waiting up to 5 s for the driver's reset");
    return 0;
}

/* Devices whose whole directory the toolstack removed: gone at once. */
static void drop(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint16_t num)
{
    vmsg_info("backend %s: device %u: nodes removed: dropping it", xb->bdir, num);
    if (vmsg_devbus_detach(db, num, vmsg_xen_back_connected(xb), 0) == -ENOENT)
        return;
    vmsg_device_model_destroy(vmsg_devbus_remove(db, num, false));
}

int vmsg_back_devices_reap(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint64_t now_ms)
{
    struct vmsg_device *dev;
    int rc = 0;

    while ((dev = vmsg_devbus_reap(db, now_ms))) {
        uint16_t num = dev->dev_num;
        int err;

        vmsg_info("backend %s: device %u: %s: destroyed", xb->bdir, num,
                  dev->let_go ? "the driver let go"
                              : "the driver did not reset it within 5 s");
        vmsg_device_model_destroy(dev);
        err = dev_set_state(xb, num, VMSG_XB_CLOSING, VMSG_XB_CLOSED);
        if (err && err != -ENOENT) {
            vmsg_err("backend %s: device %u: cannot write state 6: %s", xb->bdir, num,
                     strerror(-err));
            rc = err;
        }
    }
    return rc;
}

static bool listed(const uint16_t *nums, unsigned count, uint16_t num)
{
    for (unsigned i = 0; i < count; i++)
        if (nums[i] == num)
            return true;
    return false;
}

int vmsg_back_devices_sync(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint64_t now_ms)
{
    uint16_t *nums = NULL;
    unsigned count = 0;
    int rc;

    pthread_mutex_lock(&xb->plat_lock);
    rc = vmsg_xs_dev_list(xb->plat, xb->bdir, &nums, &count);
    pthread_mutex_unlock(&xb->plat_lock);
    if (rc)
        return rc;
    /* Devices whose whole directory the toolstack removed without a detach. */
    for (unsigned i = db->ndevices; i-- > 0;) {
        uint16_t num = db->devices[i]->dev_num;
        if (!listed(nums, count, num))
            drop(xb, db, num);
    }
    for (unsigned i = 0; i < count && rc == 0; i++) {
        bool served = vmsg_devbus_find(db, nums[i]) != NULL;
        uint32_t state;

        if (dev_state(xb, nums[i], &state))
            continue;   /* not written yet, or garbage the checker reports */
        if (!served && (state == VMSG_XB_INITIALISING || state == VMSG_XB_CONNECTED))
            rc = attach(xb, db, nums[i], state);
        else if (state == VMSG_XB_CLOSING)
            rc = detach(xb, db, nums[i], now_ms);
    }
    free(nums);
    return rc;
}

unsigned vmsg_back_devices_fds(struct vmsg_devbus *db, int *fds, struct vmsg_device **owners,
                               unsigned max)
{
    unsigned n = 0;

    for (unsigned i = 0; i < db->ndevices && n < max; i++) {
        int got = vmsg_device_model_fds(db->devices[i], fds + n, (int)(max - n));
        for (int j = 0; j < got; j++)
            owners[n + (unsigned)j] = db->devices[i];
        if (got > 0)
            n += (unsigned)got;
    }
    return n;
}
