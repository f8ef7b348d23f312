/*
 * frontend-shim/vmsg_front.c: libvmsg-front (see vmsg_front.h).
 */
#include "config.h"

#include "vmsg_front.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/vmsg_log.h"
#include "xen/platform.h"
#include "xen/xen_bus_front.h"
#include "xen/xen_schema.h"

struct vmsg_front {
    struct vmsg_platform *plat;
    struct vmsg_xen_front *xf;
    struct vmsg_drvbus db;
    unsigned index;
    int reconnect_ms;
    uint32_t connection;                /* 1, then one more per reconnection */
    struct vmsg_front_dev *devs;        /* VMSG_FRONT_MAX_DEVICES, ascending */
    unsigned ndevs;
    bool agree;
    vmsg_front_event_fn on_event;
    void *event_opaque;
};

int vmsg_front_buses(unsigned *idx, unsigned max)
{
    struct vmsg_platform *p;
    char err[256], **names = NULL;
    unsigned n = 0, count = 0;
    int rc;

    rc = vmsg_plat_xen_open(&p, err, sizeof(err));
    if (rc) {
        vmsg_err("cannot open Xen: %s", err);
        return rc;
    }
    /* Relative to our home, /local/domain/<self>. */
    rc = vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, "device/virtio-msg", &names, &n);
    if (rc == -ENOENT) {
        rc = 0;
        n = 0;
    } else if (rc) {
        vmsg_err("device/virtio-msg: %s", vmsg_plat_last_error(p));
    }
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        uint32_t v;
        if (vmsg_xs_parse_u32(names[i], 0, VMSG_XEN_BUS_INDEX_MAX, &v)) {
            vmsg_warn("device/virtio-msg/%s: not a bus index: ignored", names[i]);
            continue;
        }
        /* Insertion sort: xenstore lists in no particular order. */
        unsigned j = count < max ? count : max;
        while (j > 0 && idx[j - 1] > v) {
            if (j < max)
                idx[j] = idx[j - 1];
            j--;
        }
        if (j < max)
            idx[j] = v;
        count++;
    }
    free(names);
    vmsg_plat_close(p);
    return rc ? rc : (int)count;
}

static int dev_cmp(const void *a, const void *b)
{
    const struct vmsg_front_dev *x = a, *y = b;
    return (int)x->num - (int)y->num;
}

static struct vmsg_front_dev *dev_slot(struct vmsg_front_dev *devs, unsigned *n, uint16_t num)
{
    for (unsigned i = 0; i < *n; i++)
        if (devs[i].num == num)
            return &devs[i];
    if (*n >= VMSG_FRONT_MAX_DEVICES)
        return NULL;
    devs[*n] = (struct vmsg_front_dev){ .num = num };
    return &devs[(*n)++];
}

/* The xenstore view: B/devices/<D> whose state is 4, with their type. */
static int enum_xenstore(struct vmsg_front *f, struct vmsg_front_dev *devs, unsigned *n)
{
    struct vmsg_xen_front *xf = f->xf;
    uint16_t *nums = NULL;
    unsigned count = 0;
    int rc;

    pthread_mutex_lock(&xf->plat_lock);
    rc = vmsg_xs_dev_list(f->plat, xf->bdir, &nums, &count);
    for (unsigned i = 0; rc == 0 && i < count; i++) {
        char node[48], path[VMSG_XS_PATH_MAX + 48], *type = NULL;
        struct vmsg_front_dev *d;
        uint32_t state;

        snprintf(node, sizeof(node), "devices/%u/state", nums[i]);
        if (vmsg_xs_read_u32(f->plat, VMSG_XS_TX_NONE, xf->bdir, node, 0, VMSG_XB_STATE_MAX,
                             &state) || state != VMSG_XB_CONNECTED)
            continue;
        d = dev_slot(devs, n, nums[i]);
        if (!d)
            break;
        d->in_xenstore = true;
        snprintf(path, sizeof(path), "%s/devices/%u/type", xf->bdir, nums[i]);
        if (vmsg_plat_xs_read(f->plat, VMSG_XS_TX_NONE, path, &type, NULL) == 0)
            snprintf(d->type, sizeof(d->type), "%s", type);
        free(type);
    }
    pthread_mutex_unlock(&xf->plat_lock);
    if (rc)
        vmsg_err("%s/devices: %s", xf->bdir, strerror(-rc));
    free(nums);
    return rc;
}

int vmsg_front_enumerate(struct vmsg_front *f)
{
    struct vmsg_front_dev *devs = calloc(VMSG_FRONT_MAX_DEVICES, sizeof(*devs));
    uint16_t *nums = calloc(VMSG_FRONT_MAX_DEVICES, sizeof(*nums));
    unsigned n = 0;
    int rc, got;

    if (!devs || !nums) {
        rc = -ENOMEM;
        goto out;
    }
    got = vmsg_drvbus_get_devices(&f->db, nums, VMSG_FRONT_MAX_DEVICES);
    if (got < 0) {
        rc = got;
        vmsg_err("bus %u: GET_DEVICES: %s", f->index, strerror(-rc));
        goto out;
    }
    if ((unsigned)got > VMSG_FRONT_MAX_DEVICES) {
        vmsg_warn("bus %u: %d devices; only the first %u are looked at", f->index, got,
                  VMSG_FRONT_MAX_DEVICES);
        got = VMSG_FRONT_MAX_DEVICES;
    }
    for (int i = 0; i < got; i++)
        dev_slot(devs, &n, nums[i])->in_get_devices = true;
    if ((rc = enum_xenstore(f, devs, &n)))
        goto out;
    qsort(devs, n, sizeof(*devs), dev_cmp);
    f->agree = true;
    for (unsigned i = 0; i < n; i++) {
        if (devs[i].in_xenstore == devs[i].in_get_devices)
            continue;
        f->agree = false;
        vmsg_err("bus %u: device %u: %s but %s (docs/protocol.md section 6 says both views "
                 "agree)", f->index, devs[i].num,
                 devs[i].in_xenstore ? "xenstore state is 4" : "xenstore state is not 4",
                 devs[i].in_get_devices ? "GET_DEVICES lists it" : "GET_DEVICES does not list it");
    }
    free(f->devs);
    f->devs = devs;
    f->ndevs = n;
    devs = NULL;
    rc = (int)n;
out:
    free(devs);
    free(nums);
    return rc;
}

/*
 * EVENT_DEVICE (docs/protocol.md section 6) keeps the list in step between
 * enumerations: READY adds the device as both views show it then (the
 * backend writes state 4 before it announces), REMOVED drops it (the
 * backend no longer lists it; the drvbus resets it if a driver held it).
 * A hostile backend may announce anything: the entry is only a hint until
 * a probe, which asks the device itself.
 */
static void on_device_event(struct vmsg_drvbus *db, uint16_t num, uint16_t state, void *opaque)
{
    struct vmsg_front *f = opaque;
    struct vmsg_front_dev *d;
    unsigned i;

    (void)db;
    if (!f->devs)
        goto tell;  /* the first enumeration, under way, lists what is there */
    for (i = 0; i < f->ndevs && f->devs[i].num < num; i++)
        ;
    d = i < f->ndevs && f->devs[i].num == num ? &f->devs[i] : NULL;
    if (state == VMSG_DEVICE_BUS_STATE_REMOVED && d) {
        memmove(d, d + 1, (f->ndevs - i - 1) * sizeof(*d));
        f->ndevs--;
    } else if (state == VMSG_DEVICE_BUS_STATE_READY && !d && f->ndevs < VMSG_FRONT_MAX_DEVICES) {
        char path[VMSG_XS_PATH_MAX + 48], *type = NULL;

        memmove(&f->devs[i + 1], &f->devs[i], (f->ndevs - i) * sizeof(*f->devs));
        f->ndevs++;
        d = &f->devs[i];
        *d = (struct vmsg_front_dev){ .num = num, .in_get_devices = true };
        uint32_t st;

        pthread_mutex_lock(&f->xf->plat_lock);
        snprintf(path, sizeof(path), "devices/%u/state", num);
        d->in_xenstore = vmsg_xs_read_u32(f->plat, VMSG_XS_TX_NONE, f->xf->bdir, path, 0,
                                          VMSG_XB_STATE_MAX, &st) == 0 &&
                         st == VMSG_XB_CONNECTED;
        snprintf(path, sizeof(path), "%s/devices/%u/type", f->xf->bdir, num);
        if (vmsg_plat_xs_read(f->plat, VMSG_XS_TX_NONE, path, &type, NULL) == 0)
            snprintf(d->type, sizeof(d->type), "%s", type);
        pthread_mutex_unlock(&f->xf->plat_lock);
        free(type);
        if (!d->in_xenstore)
            vmsg_warn("bus %u: device %u announced READY but its xenstore state is not 4",
                      f->index, num);
    } else if (state != VMSG_DEVICE_BUS_STATE_READY && state != VMSG_DEVICE_BUS_STATE_REMOVED) {
        vmsg_debug("bus %u: EVENT_DEVICE for %u with unknown state %u", f->index, num, state);
    }
tell:
    if (f->on_event)
        f->on_event(f, num, state, f->event_opaque);
}

void vmsg_front_on_event(struct vmsg_front *f, vmsg_front_event_fn fn, void *opaque)
{
    f->on_event = fn;
    f->event_opaque = opaque;
}

int vmsg_front_wait(struct vmsg_front *f, int timeout_ms)
{
    return vmsg_drvbus_poll(&f->db, timeout_ms);
}

int vmsg_front_open(struct vmsg_front **out, unsigned bus, const struct vmsg_front_opts *opts)
{
    struct vmsg_platform *plat;
    char err[256];
    int rc;

    rc = vmsg_plat_xen_open(&plat, err, sizeof(err));
    if (rc) {
        vmsg_err("cannot open Xen: %s", err);
        return rc;
    }
    return vmsg_front_open_platform(out, plat, bus, opts);
}

int vmsg_front_open_platform(struct vmsg_front **out, struct vmsg_platform *plat, unsigned bus,
                             const struct vmsg_front_opts *opts)
{
    struct vmsg_front_opts o = opts ? *opts : (struct vmsg_front_opts){ 0 };
    struct vmsg_front *f;
    int rc;

    if (o.timeout_ms <= 0)
        o.timeout_ms = VMSG_FRONT_DEFAULT_TIMEOUT_MS;
    if (!o.pool_pages)
        o.pool_pages = VMSG_FRONT_DEFAULT_POOL_PAGES;
    f = calloc(1, sizeof(*f));
    if (!f) {
        vmsg_plat_close(plat);
        return -ENOMEM;
    }
    f->index = bus;
    f->plat = plat;
    f->reconnect_ms = o.reconnect_ms > 0 ? o.reconnect_ms : 0;
    f->connection = 1;
    rc = vmsg_xen_front_open(&f->xf, f->plat, bus, o.pool_pages, 0);
    if (rc) {
        vmsg_err("bus %u: %s (%s)", bus,
                 rc == -ENOENT ? "no such bus instance under device/virtio-msg" : strerror(-rc),
                 vmsg_plat_last_error(f->plat));
        goto err_plat;
    }
    rc = vmsg_xen_front_connect(f->xf, o.timeout_ms);
    if (rc) {
        vmsg_err("bus %u: backend dom%u did not connect: %s%s", bus, f->xf->be_domid,
                 strerror(-rc), rc == -ETIMEDOUT ? " (is vmsg-backend running?)" : "");
        goto err_xf;
    }
    rc = vmsg_drvbus_init(&f->db, vmsg_xen_front_bus(f->xf));
    if (rc)
        goto err_xf;
    f->db.timeout_ms = o.timeout_ms;
    f->db.on_device_event = on_device_event;
    f->db.opaque = f;
    rc = vmsg_front_enumerate(f);
    if (rc < 0)
        goto err_db;
    *out = f;
    return 0;

err_db:
    vmsg_drvbus_destroy(&f->db);
err_xf:
    vmsg_xen_front_close(f->xf);
err_plat:
    vmsg_plat_close(f->plat);
    free(f);
    return rc;
}

uint32_t vmsg_front_connection(const struct vmsg_front *f)
{
    return f->connection;
}

int vmsg_front_reconnect(struct vmsg_front *f, uint32_t since)
{
    int rc;

    if (since != f->connection)
        return 0;   /* another driver already saw the bus come back */
    /* One step notices a dead backend (cli_live 0, B/state) and goes
     * Closed, ungranting everything of this connection. */
    rc = vmsg_xen_front_step(f->xf);
    if (rc == VMSG_XB_CONNECTED)
        return -EALREADY;
    if (!f->reconnect_ms)
        return -ENOTCONN;
    vmsg_warn("bus %u: backend dom%u went away: waiting up to %d ms for it to come back",
              f->index, f->xf->be_domid, f->reconnect_ms);
    rc = vmsg_xen_front_connect(f->xf, f->reconnect_ms);
    if (rc) {
        vmsg_err("bus %u: backend dom%u did not come back: %s", f->index, f->xf->be_domid,
                 strerror(-rc));
        return rc;
    }
    f->connection++;
    /* Tokens of the old connection mean nothing on the new one. */
    f->db.stale_token = 0;
    vmsg_info("bus %u: connected again to backend dom%u (connection %u)", f->index,
              f->xf->be_domid, f->connection);
    rc = vmsg_front_enumerate(f);
    return rc < 0 ? rc : 0;
}

void vmsg_front_close(struct vmsg_front *f)
{
    if (!f)
        return;
    vmsg_drvbus_destroy(&f->db);
    vmsg_xen_front_close(f->xf);
    vmsg_plat_close(f->plat);
    free(f->devs);
    free(f);
}

struct vmsg_drvbus *vmsg_front_drvbus(struct vmsg_front *f)
{
    return &f->db;
}

unsigned vmsg_front_devices(const struct vmsg_front *f, const struct vmsg_front_dev **devs)
{
    *devs = f->devs;
    return f->ndevs;
}

const struct vmsg_front_dev *vmsg_front_device(const struct vmsg_front *f, uint16_t num)
{
    for (unsigned i = 0; i < f->ndevs; i++)
        if (f->devs[i].num == num)
            return &f->devs[i];
    return NULL;
}

bool vmsg_front_views_agree(const struct vmsg_front *f)
{
    return f->agree;
}

int vmsg_front_probe(struct vmsg_front *f, uint16_t num, struct vmsg_driver_dev *dev)
{
    const struct vmsg_front_dev *d = vmsg_front_device(f, num);

    if (!d || !d->in_get_devices || !d->in_xenstore) {
        vmsg_err("bus %u: device %u is not present (xenstore state 4 and GET_DEVICES)",
                 f->index, num);
        return -ENODEV;
    }
    return vmsg_drv_probe(&f->db, num, dev);
}

unsigned vmsg_front_index(const struct vmsg_front *f)
{
    return f->index;
}

uint32_t vmsg_front_backend_domid(const struct vmsg_front *f)
{
    return f->xf->be_domid;
}
