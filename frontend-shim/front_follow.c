/*
 * frontend-shim/front_follow.c: `vmsg-front wait-device` and `vmsg-front
 * monitor`, following the bus's hotplug events (docs/protocol.md section
 * 6) for guest scripts.
 *
 * wait-device DEV present|absent [--timeout S] [--hold]
 *     until DEV is in (or out of) the device list, which follows
 *     EVENT_DEVICE; with --hold, a present device is held as a driver holds
 *     it (features negotiated, status non-zero) while waiting for it to go,
 *     so its removal takes the driver's reset path, not the backend's
 *     timeout.
 * monitor [--count N] [--timeout S]
 *     one line per EVENT_DEVICE: "READY D TYPE" or "REMOVED D".
 *
 * A bus instance has one frontend at a time, so a script cannot monitor in
 * the background while another vmsg-front uses the bus: it runs these
 * between its other commands.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "front_cli.h"
#include "util/vmsg_log.h"

#define WAIT_DEVICE_DEFAULT_S 30
#define VIRTIO_F_VERSION_1 32
/* Waits are sliced so that a --timeout is kept to within this. */
#define SLICE_MS 200

static bool present(struct front_cli *c, uint16_t num)
{
    const struct vmsg_front_dev *d = vmsg_front_device(c->f, num);

    return d && d->in_xenstore && d->in_get_devices;
}

/* Probe and negotiate (status ACKNOWLEDGE|DRIVER|FEATURES_OK): enough for
 * the backend to wait for this driver's reset when it detaches the device. */
static int hold(struct front_cli *c, uint16_t num, struct vmsg_driver_dev *dev)
{
    int rc = vmsg_front_probe(c->f, num, dev);

    if (rc)
        return rc;
    rc = vmsg_drv_negotiate(dev, 1ull << VIRTIO_F_VERSION_1);
    if (rc)
        vmsg_drv_release(dev);
    return rc;
}

static int parse_timeout(const char *s, uint64_t *ms)
{
    uint64_t v;

    if (!cli_number("--timeout", s, 86400, &v) || v == 0)
        return -EINVAL;
    *ms = v * 1000;
    return 0;
}

int cmd_wait_device(struct front_cli *c, int argc, char **argv)
{
    uint64_t v, timeout_ms = WAIT_DEVICE_DEFAULT_S * 1000, deadline;
    struct vmsg_driver_dev dev;
    bool want, held = false, hold_it = false;
    uint16_t num;
    int rc = 0;

    if (argc < 2)
        goto usage;
    if (!cli_number("device", argv[0], UINT16_MAX, &v))
        return 2;
    num = (uint16_t)v;
    if (!strcmp(argv[1], "present"))
        want = true;
    else if (!strcmp(argv[1], "absent"))
        want = false;
    else
        goto usage;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            if (parse_timeout(argv[++i], &timeout_ms))
                return 2;
        } else if (!strcmp(argv[i], "--hold")) {
            hold_it = true;
        } else {
            goto usage;
        }
    }
    if (!want && hold_it && present(c, num)) {
        if ((rc = hold(c, num, &dev))) {
            fprintf(stderr, "vmsg-front: device %u: cannot hold it as a driver: %s\n", num,
                    strerror(-rc));
            return 1;
        }
        held = true;
    }
    if (present(c, num) != want) {
        /* A script waits for this line before it makes the change. */
        printf("vmsg-front: bus %u: waiting for device %u to be %s%s\n", c->bus, num,
               want ? "present" : "absent", held ? " (held by a driver)" : "");
        fflush(stdout);
    }
    deadline = vmsg_now_ms() + timeout_ms;
    while (present(c, num) != want) {
        uint64_t now = vmsg_now_ms();

        if (now >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        rc = vmsg_front_wait(c->f, deadline - now < SLICE_MS ? (int)(deadline - now) : SLICE_MS);
        if (rc < 0 && rc != -EINTR)
            break;
        rc = 0;
    }
    if (held) {
        if (rc == 0 && !dev.let_go) {
            /* Gone from the list without REMOVED reaching this driver:
             * only a backend breaking section 6 does that. */
            fprintf(stderr, "vmsg-front: device %u: absent, but its driver saw no REMOVED\n",
                    num);
            rc = -EPROTO;
        }
        vmsg_drv_release(&dev);
    }
    if (rc) {
        fprintf(stderr, "vmsg-front: bus %u: device %u %s: %s\n", c->bus, num,
                want ? "did not appear" : "did not go",
                rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
        return 1;
    }
    printf("vmsg-front: bus %u: device %u %s%s\n", c->bus, num, want ? "present" : "absent",
           held ? " (its driver reset it)" : "");
    return 0;
usage:
    fprintf(stderr, "usage: vmsg-front wait-device DEV present|absent [--timeout S] [--hold]\n");
    return 2;
}

static void print_event(struct vmsg_front *f, uint16_t num, uint16_t state, void *opaque)
{
    const struct vmsg_front_dev *d = vmsg_front_device(f, num);
    unsigned *seen = opaque;

    if (state == VMSG_DEVICE_BUS_STATE_READY)
        printf("READY %u %s\n", num, d && d->type[0] ? d->type : "-");
    else if (state == VMSG_DEVICE_BUS_STATE_REMOVED)
        printf("REMOVED %u\n", num);
    else
        printf("STATE%u %u\n", state, num);
    fflush(stdout);
    (*seen)++;
}

int cmd_monitor(struct front_cli *c, int argc, char **argv)
{
    uint64_t count = 0, timeout_ms = 0, deadline;
    unsigned seen = 0;
    int rc = 0;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc) {
            if (!cli_number("--count", argv[++i], UINT32_MAX, &count))
                return 2;
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            if (parse_timeout(argv[++i], &timeout_ms))
                return 2;
        } else {
            fprintf(stderr, "usage: vmsg-front monitor [--count N] [--timeout S]\n");
            return 2;
        }
    }
    vmsg_front_on_event(c->f, print_event, &seen);
    deadline = timeout_ms ? vmsg_now_ms() + timeout_ms : UINT64_MAX;
    while (!count || seen < count) {
        uint64_t now = vmsg_now_ms();

        if (now >= deadline)
            break;
        rc = vmsg_front_wait(c->f, deadline - now < SLICE_MS ? (int)(deadline - now) : SLICE_MS);
        if (rc < 0 && rc != -EINTR)
            break;
        rc = 0;
    }
    vmsg_front_on_event(c->f, NULL, NULL);
    if (rc) {
        fprintf(stderr, "vmsg-front: bus %u: monitor: %s\n", c->bus, strerror(-rc));
        return 1;
    }
    return 0;
}
