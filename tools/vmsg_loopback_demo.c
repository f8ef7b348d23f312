/*
 * tools/vmsg_loopback_demo.c: the main job until the Xen bus exists. Both
 * ends of a bus in one process over the loopback bus: the device side
 * serves the real virtio-rng model, the driver side enumerates the bus and
 * reads random bytes through the userspace virtio-rng driver (probe,
 * feature negotiation, virtqueue setup, EVENT_AVAIL/EVENT_USED); then every message that crossed the bus is printed as vmsgctl decode
 * prints it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/devices/vmsg_devices.h"
#include "frontend-shim/drivers/vmsg_drivers.h"
#include "proto/vmsg_le.h"
#include "trace/vmsg_json.h"
#include "transport/vmsg_driver.h"
#include "transport/vmsg_loopback.h"

#define DEMO_BYTES 32
#define MAX_CAPTURE 256

struct capture {
    unsigned n;
    bool to_device[MAX_CAPTURE];
    uint16_t len[MAX_CAPTURE];
    uint8_t *msg[MAX_CAPTURE];
};

static bool record(bool to_device, uint8_t *msg, size_t len, void *opaque)
{
    struct capture *c = opaque;
    if (c->n < MAX_CAPTURE && (c->msg[c->n] = malloc(len))) {
        memcpy(c->msg[c->n], msg, len);
        c->len[c->n] = (uint16_t)len;
        c->to_device[c->n] = to_device;
        c->n++;
    }
    return true;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "vmsg-loopback-demo: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
    return 1;
}

int main(void)
{
    struct vmsg_loopback lb;
    struct vmsg_devbus devbus;
    struct vmsg_drvbus drvbus;
    struct vmsg_device *rng;
    struct vmsg_rng *rngdrv;
    struct capture cap = { 0 };
    uint16_t nums[8];
    int rc, exit_code = 1;

    vmsg_log_init("vmsg-loopback-demo", false, VMSG_LOG_INFO);
    if ((rc = vmsg_loopback_init(&lb, VMSG_RECOMMENDED_MAX_MSG_SIZE, 64 * 4096)) < 0)
        return fail("loopback bus", rc);
    lb.filter = record;
    lb.filter_opaque = &cap;
    vmsg_devbus_init(&devbus, vmsg_loopback_device_bus(&lb));
    devbus.release = vmsg_device_model_destroy;
    vmsg_drvbus_init(&drvbus, vmsg_loopback_driver_bus(&lb));

    printf("== device side: virtio-rng as device number 0 on a loopback bus (max message %u bytes)\n",
           lb.device.bus.wire.max_msg_size);
    if ((rc = vmsg_device_model_create("rng", NULL, 0, &rng)) < 0) {
        fail("creating the rng device", rc);
        goto out_bus;
    }
    if ((rc = vmsg_devbus_add(&devbus, 0, rng, false)) < 0 ||
        (rc = vmsg_loopback_start_device(&lb, &devbus)) < 0) {
        fail("starting the device side", rc);
        goto out_bus;
    }

    printf("== driver side\n");
    int n = vmsg_drvbus_get_devices(&drvbus, nums, 8);
    if (n <= 0) {
        fail("GET_DEVICES found no device", n < 0 ? n : ENODEV);
        goto out_stop;
    }
    printf("GET_DEVICES: %d device(s), first number %u\n", n, nums[0]);
    if ((rc = vmsg_rng_open(&drvbus, nums[0], &rngdrv)) < 0) {
        fail("opening virtio-rng (probe, features, queue setup)", rc);
        goto out_stop;
    }
    printf("virtio-rng driver up: probed, features negotiated, queue 0 set up, DRIVER_OK\n");
    for (int round = 1; round <= 2; round++) {
        uint8_t bytes[DEMO_BYTES];
        ssize_t got = vmsg_rng_read(rngdrv, bytes, sizeof(bytes));
        if (got < 0) {
            fail("reading random bytes", (int)got);
            goto out_rng;
        }
        printf("random bytes, read %d (%zd bytes): ", round, got);
        for (ssize_t i = 0; i < got; i++)
            printf("%02x", bytes[i]);
        printf("\n");
    }
    exit_code = 0;

out_rng:
    vmsg_rng_close(rngdrv);
out_stop:
    vmsg_loopback_stop_device(&lb);
out_bus:
    vmsg_devbus_destroy(&devbus);
    vmsg_drvbus_destroy(&drvbus);
    vmsg_loopback_destroy(&lb);

    printf("\n== the %u messages that crossed the bus, as 'vmsgctl decode' prints them\n", cap.n);
    static char line[4 * VMSG_LIMIT_MAX_MSG_SIZE];
    struct vmsg_wire wire = { VMSG_LAYOUT_V1, VMSG_RECOMMENDED_MAX_MSG_SIZE };
    for (unsigned i = 0; i < cap.n; i++) {
        vmsg_json_render(&wire, 0, cap.msg[i], cap.len[i], line, sizeof(line));
        printf("%s %s\n", cap.to_device[i] ? "driver->device" : "device->driver", line);
        free(cap.msg[i]);
    }
    printf("\n%s\n", exit_code == 0 ? "loopback demo: OK" : "loopback demo: FAILED");
    return exit_code;
}
