/*
 * bench/bench_transport.c: request/response round trips over the loopback
 * bus, driver side in this thread, device side in the loopback's device
 * thread (as in the daemon): PING, a 244-byte GET_CONFIG (the largest chunk
 * a 264-byte bus carries) and a whole feature negotiation. Under callgrind
 * the instruction counts include both threads: everything one round trip
 * costs in user space on both sides.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "transport/vmsg_driver.h"
#include "transport/vmsg_loopback.h"
#include "virtq/vmsg_virtq.h"

#define DEV_NUM 1
#define CONFIG_SIZE 256u
#define CONFIG_CHUNK 244u

/* A device with nothing but a config space: the transport alone is
 * measured, no device model work. */
static uint8_t config[CONFIG_SIZE];

static void cfg_read(struct vmsg_device *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
    memcpy(buf, config + off, len);
}

static const struct vmsg_device_ops cfg_ops = { .read_config = cfg_read };

static const struct vmsg_device_desc cfg_desc = {
    .name = "bench", .device_id = 0x4242, .vendor_id = VMSG_VENDOR_ID_XEN,
    .features = VMSG_VIRTQ_DEVICE_FEATURES, .config_size = CONFIG_SIZE,
    .num_queues = 1, .queue_max_size = 256,
};

struct rig {
    struct vmsg_loopback lb;
    struct vmsg_devbus db;
    struct vmsg_device dev;
    struct vmsg_drvbus drv;
    struct vmsg_driver_dev ddev;
};

static int run_ping(void *ctx, uint64_t n)
{
    struct rig *r = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int rc = vmsg_drvbus_ping(&r->drv, (uint32_t)i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int run_get_config(void *ctx, uint64_t n)
{
    struct rig *r = ctx;
    uint8_t buf[CONFIG_CHUNK];
    for (uint64_t i = 0; i < n; i++) {
        int rc = vmsg_drv_read_config(&r->ddev, 0, buf, sizeof(buf));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int run_negotiate(void *ctx, uint64_t n)
{
    struct rig *r = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int rc = vmsg_drv_negotiate(&r->ddev, VMSG_VIRTQ_DRIVER_FEATURES);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static uint64_t requests_seen(struct rig *r)
{
    pthread_mutex_lock(&r->db.lock);
    uint64_t n = r->db.stats.received;
    pthread_mutex_unlock(&r->db.lock);
    return n;
}

static int rig_up(struct rig *r)
{
    int rc;
    memset(r, 0, sizeof(*r));
    if ((rc = vmsg_loopback_init(&r->lb, VMSG_RECOMMENDED_MAX_MSG_SIZE, 1u << 20)) < 0 ||
        (rc = vmsg_devbus_init(&r->db, vmsg_loopback_device_bus(&r->lb))) < 0 ||
        (rc = vmsg_device_init(&r->dev, &cfg_desc, &cfg_ops, NULL)) < 0 ||
        (rc = vmsg_devbus_add(&r->db, DEV_NUM, &r->dev, false)) < 0 ||
        (rc = vmsg_loopback_start_device(&r->lb, &r->db)) < 0 ||
        (rc = vmsg_drvbus_init(&r->drv, vmsg_loopback_driver_bus(&r->lb))) < 0)
        return rc;
    return vmsg_drv_probe(&r->drv, DEV_NUM, &r->ddev);
}

static void rig_down(struct rig *r)
{
    vmsg_drv_release(&r->ddev);
    vmsg_drvbus_destroy(&r->drv);
    vmsg_loopback_stop_device(&r->lb);
    vmsg_devbus_destroy(&r->db);    /* destroys the device too */
    vmsg_loopback_destroy(&r->lb);
}

int main(int argc, char **argv)
{
    static struct rig rig;
    struct bench_opts o;
    struct bench_case cases[] = {
        { "PING", run_ping, &rig, 0, 0 },
        { "GET_CONFIG 244B", run_get_config, &rig, 0, 0 },
        { "negotiate features", run_negotiate, &rig, 0, 0 },
    };
    enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
    uint64_t round_trips[NCASES];
    int rc;

    bench_parse(argc, argv, 3.0, NULL, NULL, &o);
    vmsg_log_init("bench-transport", false, VMSG_LOG_WARN);
    for (size_t i = 0; i < CONFIG_SIZE; i++)
        config[i] = (uint8_t)i;
    if ((rc = rig_up(&rig)) < 0) {
        fprintf(stderr, "bench-transport: setting up the loopback rig: %s\n", strerror(-rc));
        return 1;
    }
    /* Count what one operation costs in requests, from the device's own
     * statistics rather than from what the driver code is assumed to do. */
    for (unsigned i = 0; i < NCASES; i++) {
        uint64_t before = requests_seen(&rig);
        if ((rc = cases[i].run(cases[i].ctx, 1)) < 0)
            break;
        round_trips[i] = requests_seen(&rig) - before;
    }

    bench_print_machine("bench-transport");
    if (rc >= 0)
        rc = bench_run(&o, cases, NCASES);
    rig_down(&rig);
    if (rc < 0) {
        fprintf(stderr, "bench-transport: %s\n", strerror(-rc));
        return 1;
    }
    if (bench_counted(&o))
        printf("# counted mode: %llu operations per case; per-case Ir from bench/callgrind.sh\n",
               (unsigned long long)o.iterations);
    else
        printf("# timed mode: %.1f s in all, cases interleaved; 264-byte bus, device thread\n",
               o.seconds);
    const struct bench_case *ping = &cases[0];
    double ping_rt_ns = ping->ops ? bench_ns_per_op(ping) / (double)round_trips[0] : 0;
    printf("%-20s %6s %10s %12s %12s %10s %12s\n", "operation", "rt/op", "us/op", "ops/s",
           "messages/s", "us/rt", "rt vs PING");
    for (unsigned i = 0; i < NCASES; i++) {
        const struct bench_case *c = &cases[i];
        if (!c->ops)
            continue;
        double rt_ns = bench_ns_per_op(c) / (double)round_trips[i];
        printf("%-20s %6llu %10.2f %12.0f %12.0f %10.2f %12.2f\n", c->name,
               (unsigned long long)round_trips[i], bench_ns_per_op(c) / 1e3, bench_ops_per_s(c),
               bench_ops_per_s(c) * 2.0 * (double)round_trips[i], rt_ns / 1e3,
               ping_rt_ns ? rt_ns / ping_rt_ns : 0);
    }
    return 0;
}
