/*
 * tests/unit/test_transport.c: the device-side and driver-side transports
 * against each other over the loopback bus, one test per applicable
 * conformance bullet of the spec digest section 5 (named conf_*), plus the
 * pool allocator and the loopback bus itself.
 *
 * The device model here is a test double: config space, two queues, a
 * fixed feature set, and counters of what the transport asked of it.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "proto/vmsg_le.h"
#include "transport/vmsg_device_internal.h"
#include "transport/vmsg_driver.h"
#include "transport/vmsg_loopback.h"
#include "tests/unit/test_util.h"
#include "tests/unit/vmsg_test.h"

#define VIRTIO_F_VERSION_1  32
#define VIRTIO_F_RING_RESET 40
#define TEST_FEATURES ((1ull << 0) | (1ull << 5) | (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_RESET))
#define TEST_CONFIG_SIZE 600
#define TEST_QUEUE_MAX 64

/* --- the test device model --------------------------------------------- */
struct testdev {
    struct vmsg_device dev;
    uint8_t config[TEST_CONFIG_SIZE];
    int resets, notifies[2], enables[2], queue_resets[2], driver_oks;
    uint64_t features_ok_with;
    bool refuse_bit5;
    bool fail_enable;
};

static struct testdev *td_of(struct vmsg_device *dev)
{
    return dev->model;
}

static void td_reset(struct vmsg_device *dev) { td_of(dev)->resets++; }
static int td_features_ok(struct vmsg_device *dev, uint64_t f)
{
    td_of(dev)->features_ok_with = f;
    return td_of(dev)->refuse_bit5 && (f & (1u << 5)) ? -ENOTSUP : 0;
}
static void td_read_config(struct vmsg_device *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
    memcpy(buf, td_of(dev)->config + off, len);
}
static int td_write_config(struct vmsg_device *dev, uint32_t off, const uint8_t *buf, uint32_t len)
{
    memcpy(td_of(dev)->config + off, buf, len);
    return 0;
}
static int td_queue_enable(struct vmsg_device *dev, uint32_t i)
{
    td_of(dev)->enables[i]++;
    return td_of(dev)->fail_enable ? -EIO : 0;
}
static void td_queue_reset(struct vmsg_device *dev, uint32_t i) { td_of(dev)->queue_resets[i]++; }
static void td_queue_notify(struct vmsg_device *dev, uint32_t i) { td_of(dev)->notifies[i]++; }
static void td_driver_ok(struct vmsg_device *dev) { td_of(dev)->driver_oks++; }

static const struct vmsg_device_ops td_ops = {
    .reset = td_reset, .features_ok = td_features_ok, .read_config = td_read_config,
    .write_config = td_write_config, .queue_enable = td_queue_enable,
    .queue_reset = td_queue_reset, .queue_notify = td_queue_notify, .driver_ok = td_driver_ok,
};

static void testdev_init(struct testdev *td)
{
    memset(td, 0, sizeof(*td));
    for (unsigned i = 0; i < TEST_CONFIG_SIZE; i++)
        td->config[i] = (uint8_t)(i * 7 + 1);
    struct vmsg_device_desc d = {
        .name = "test", .device_id = 0x1af4, .vendor_id = VMSG_VENDOR_ID_XEN,
        .features = TEST_FEATURES, .config_size = TEST_CONFIG_SIZE, .num_queues = 2,
        .queue_max_size = TEST_QUEUE_MAX,
    };
    CU_ASSERT_EQUAL_FATAL(vmsg_device_init(&td->dev, &d, &td_ops, td), 0);
}

/* --- fixture: a loopback bus with two devices, the device side in a thread */
struct fixture {
    struct vmsg_loopback lb;
    struct vmsg_devbus devbus;
    struct vmsg_drvbus drvbus;
    struct testdev td[2];
    struct vmsg_driver_dev drv;
    /* capture of every frame, for checks on what both sides sent */
    unsigned frames;
    bool bad_frame;
    bool rewrite_tokens;
    bool injecting;         /* a test sends malformed bytes on purpose */
    bool drop_to_device;
    uint16_t events_seen[8][2];
    unsigned nevents;
    unsigned used_seen[2];
};

static struct fixture fx;

static bool capture(bool to_device, uint8_t *msg, size_t len, void *opaque)
{
    struct fixture *f = opaque;
    struct vmsg_msg m;
    struct vmsg_problem why;
    f->frames++;
    if (f->injecting)
        return true;
    /* Everything our two sides send is strictly well formed and exactly
     * msg_size long, within the bus maximum. */
    if (vmsg_get_le16(msg + 6) != len || len > f->lb.driver.bus.wire.max_msg_size ||
        vmsg_decode(&f->lb.driver.bus.wire, msg, len, VMSG_DECODE_STRICT, &m, &why) != VMSG_OK) {
        fprintf(stderr, "bad frame from the %s side: %s\n", to_device ? "driver" : "device", why.reason);
        f->bad_frame = true;
    }
    if (f->rewrite_tokens)     /* the bus owns the token and may rewrite it */
        vmsg_put_le16(msg + 4, (uint16_t)(vmsg_get_le16(msg + 4) * 31 + 17));
    return !(to_device && f->drop_to_device);
}

static void on_device_event(struct vmsg_drvbus *db, uint16_t num, uint16_t state, void *opaque)
{
    if (fx.nevents < 8) {
        fx.events_seen[fx.nevents][0] = num;
        fx.events_seen[fx.nevents][1] = state;
    }
    fx.nevents++;
}

static void on_used(struct vmsg_driver_dev *dev, uint32_t vq, void *opaque)
{
    fx.used_seen[vq & 1]++;
}

static void fixture_up(uint32_t max_msg_size, uint16_t num0, uint16_t num1)
{
    memset(&fx, 0, sizeof(fx));
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_init(&fx.lb, max_msg_size, 64 * 4096), 0);
    fx.lb.filter = capture;
    fx.lb.filter_opaque = &fx;
    vmsg_devbus_init(&fx.devbus, vmsg_loopback_device_bus(&fx.lb));
    testdev_init(&fx.td[0]);
    testdev_init(&fx.td[1]);
    CU_ASSERT_EQUAL_FATAL(vmsg_devbus_add(&fx.devbus, num0, &fx.td[0].dev, false), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_devbus_add(&fx.devbus, num1, &fx.td[1].dev, false), 0);
    vmsg_drvbus_init(&fx.drvbus, vmsg_loopback_driver_bus(&fx.lb));
    fx.drvbus.timeout_ms = 2000;
    fx.drvbus.on_device_event = on_device_event;
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_start_device(&fx.lb, &fx.devbus), 0);
}

static void fixture_down(void)
{
    vmsg_loopback_stop_device(&fx.lb);
    vmsg_drvbus_destroy(&fx.drvbus);
    vmsg_devbus_destroy(&fx.devbus);
    CU_ASSERT_EQUAL(fx.lb.maps_live, 0);
    vmsg_loopback_destroy(&fx.lb);
    CU_ASSERT_FALSE(fx.bad_frame);
}

/* Send raw bytes as the driver; return the length of the first message
 * that comes back within timeout_ms, or 0. */
static int raw_exchange(const char *hex, uint8_t *reply, int timeout_ms)
{
    uint8_t b[300];
    size_t n = hex_decode(hex, b, sizeof(b));
    struct vmsg_bus *bus = vmsg_loopback_driver_bus(&fx.lb);
    fx.injecting = true;
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_send(bus, b, n, 1000), 0);
    fx.injecting = false;
    uint64_t end = vmsg_now_ms() + (uint64_t)timeout_ms;
    while (vmsg_now_ms() < end) {
        if (vmsg_bus_wait(bus, 20) > 0) {
            int len = vmsg_bus_recv(bus, reply, 300);
            if (len > 0)
                return len;
        }
    }
    return 0;
}

/* Bring device 0 to FEATURES_OK through the driver side. */
static void negotiate_dev0(uint16_t num)
{
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, num, &fx.drv), 0);
    fx.drv.on_used = on_used;
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_negotiate(&fx.drv, TEST_FEATURES), 0);
}

/* The device thread counts what it handled; give it up to 2 s. */
static uint64_t devbus_count(const uint64_t *counter, uint64_t value)
{
    for (int i = 0; i < 400 && __atomic_load_n(counter, __ATOMIC_ACQUIRE) < value; i++)
        usleep(5000);
    return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

static void wait_until(volatile int *counter, int value)
{
    for (int i = 0; i < 200 && __atomic_load_n(counter, __ATOMIC_ACQUIRE) < value; i++)
        usleep(5000);
}

/* --- Message format and limits ----------------------------------------- */

static void conf_reserved_type_bits_ignored_on_receive(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    int n = raw_exchange("fc 02 0000 0100 0800", r, 2000);     /* GET_DEVICE_INFO, bits 2..7 set */
    CU_ASSERT_EQUAL(n, 32);
    CU_ASSERT_EQUAL(r[0], VMSG_TYPE_RESPONSE);    /* we send them as 0 */
    CU_ASSERT_EQUAL(vmsg_get_le32(r + 8), 0x1af4);
    fixture_down();
}

static void conf_every_frame_well_formed_and_exact_size(void)
{
    uint8_t cfg[TEST_CONFIG_SIZE];
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&fx.drv, 0, cfg, sizeof(cfg)), 0);
    CU_ASSERT_EQUAL(vmsg_drv_write_config(&fx.drv, 10, cfg, 300), 0);
    CU_ASSERT_EQUAL(vmsg_drvbus_ping(&fx.drvbus, 7), 0);
    CU_ASSERT(fx.frames > 10);
    fixture_down();     /* asserts that no frame was malformed */
}

static void conf_minimum_message_size_chunks_everything(void)
{
    uint8_t cfg[TEST_CONFIG_SIZE];
    uint16_t nums[4];
    fixture_up(VMSG_V1_USABLE_MIN_MSG_SIZE, 0, 9);
    negotiate_dev0(0);
    unsigned before = fx.frames;
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&fx.drv, 0, cfg, sizeof(cfg)), 0);
    CU_ASSERT(memcmp(cfg, fx.td[0].config, sizeof(cfg)) == 0);
    /* 600 bytes in chunks of 28: 22 requests + 22 responses. */
    CU_ASSERT_EQUAL(fx.frames - before, 2 * ((TEST_CONFIG_SIZE + 27) / 28));
    memset(cfg, 0x5a, sizeof(cfg));
    CU_ASSERT_EQUAL(vmsg_drv_write_config(&fx.drv, 0, cfg, sizeof(cfg)), 0);
    CU_ASSERT(memcmp(cfg, fx.td[0].config, sizeof(cfg)) == 0);
    CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 4), 2);
    CU_ASSERT_EQUAL(nums[1], 9);
    fixture_down();
}

static void conf_dev_num_routes_to_the_right_device(void)
{
    struct vmsg_driver_dev d1;
    fixture_up(264, 3, 7);
    fx.td[1].config[0] = 0xee;
    fx.td[0].config[0] = 0x11;
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 3, &fx.drv), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 7, &d1), 0);
    uint8_t a, b;
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&fx.drv, 0, &a, 1), 0);
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&d1, 0, &b, 1), 0);
    CU_ASSERT_EQUAL(a, 0x11);
    CU_ASSERT_EQUAL(b, 0xee);
    vmsg_drv_release(&d1);
    fixture_down();
}

static void conf_token_opaque_when_bus_rewrites_it(void)
{
    fixture_up(264, 0, 1);
    fx.rewrite_tokens = true;
    negotiate_dev0(0);
    uint8_t cfg[64];
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&fx.drv, 0, cfg, sizeof(cfg)), 0);
    CU_ASSERT_EQUAL(vmsg_drvbus_ping(&fx.drvbus, 0x12345678), 0);
    fixture_down();
}

static void conf_device_echoes_request_token(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    CU_ASSERT_EQUAL(raw_exchange("00 07 0000 efbe 0800", r, 2000), 12);
    CU_ASSERT_EQUAL(vmsg_get_le16(r + 4), 0xbeef);
    CU_ASSERT_EQUAL(raw_exchange("02 03 0000 3412 0c00 01020304", r, 2000), 12);
    CU_ASSERT_EQUAL(vmsg_get_le16(r + 4), 0x1234);
    fixture_down();
}

static void conf_unknown_event_ids_ignored_by_both_ends(void)
{
    uint8_t r[300], raw[16];
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    uint64_t malformed = fx.devbus.stats.dropped_malformed;
    CU_ASSERT_EQUAL(raw_exchange("00 43 0000 0000 0800", r, 200), 0);
    CU_ASSERT_EQUAL(raw_exchange("00 c5 0000 0000 0800", r, 200), 0);
    CU_ASSERT_EQUAL(devbus_count(&fx.devbus.stats.dropped_malformed, malformed + 2), malformed + 2);
    /* Toward the driver: unknown events are dropped, not acted on. */
    fx.injecting = true;
    size_t n = hex_decode("00 43 0000 0000 0800", raw, sizeof(raw));
    CU_ASSERT_EQUAL(vmsg_bus_send(vmsg_loopback_device_bus(&fx.lb), raw, n, 100), 0);
    n = hex_decode("02 c5 0000 0000 0800", raw, sizeof(raw));
    CU_ASSERT_EQUAL(vmsg_bus_send(vmsg_loopback_device_bus(&fx.lb), raw, n, 100), 0);
    fx.injecting = false;
    uint64_t before = fx.drvbus.dropped;
    vmsg_drvbus_poll(&fx.drvbus, 100);
    CU_ASSERT_EQUAL(fx.drvbus.dropped, before + 2);
    uint32_t status;
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), 0);
    CU_ASSERT(status & VMSG_STATUS_FEATURES_OK);
    fixture_down();
}

/* --- Errors and ordering ------------------------------------------------- */

static void conf_malformed_messages_dropped_without_reply(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    /* msg_size smaller than the header, larger than sent, unknown id. */
    CU_ASSERT_EQUAL(raw_exchange("00 02 0000 0000 0400", r, 200), 0);
    CU_ASSERT_EQUAL(raw_exchange("00 02 0000 0000 1000", r, 200), 0);
    CU_ASSERT_EQUAL(raw_exchange("00 20 0000 0000 0800", r, 200), 0);
    CU_ASSERT_EQUAL(fx.devbus.stats.dropped_malformed, 3);
    fixture_down();
}

static void conf_truncated_set_vqueue_leaves_device_intact(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(raw_exchange("00 0a 0000 0000 1800 00000000 00000000 40000000 00000000", r, 200), 0);
    struct vmsg_vqueue_info q;
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 0, &q), 0);
    CU_ASSERT_EQUAL(q.cur_size, 0);
    CU_ASSERT_EQUAL(fx.td[0].enables[0], 0);
    fixture_down();
}

static void conf_no_reply_to_events(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    CU_ASSERT_EQUAL(raw_exchange("00 41 0000 0000 1000 09000000 00000000", r, 200), 0);
    CU_ASSERT_EQUAL(raw_exchange("02 40 0000 0000 0c00 0000 0100", r, 200), 0);
    /* Silence because the device saw both and dropped them, not because
     * they never arrived. */
    CU_ASSERT_EQUAL(devbus_count(&fx.devbus.stats.received, 2), 2);
    CU_ASSERT_EQUAL(devbus_count(&fx.devbus.stats.dropped_unexpected, 2), 2);
    fixture_down();
}

static void conf_one_response_per_request_in_order(void)
{
    uint8_t b[64], r[300];
    struct vmsg_bus *bus = vmsg_loopback_driver_bus(&fx.lb);
    fixture_up(264, 0, 1);
    for (uint32_t i = 0; i < 20; i++) {
        struct vmsg_msg m = { .kind = VMSG_K_BUS_PING_REQ, .hdr.token = (uint16_t)i };
        m.u.ping_req.data = i * 1000;
        int n = vmsg_encode(&bus->wire, &m, b, sizeof(b));
        CU_ASSERT_EQUAL_FATAL(vmsg_bus_send(bus, b, (size_t)n, 1000), 0);
    }
    for (uint32_t i = 0; i < 20; i++) {
        int n = 0;
        for (int t = 0; t < 100 && n == 0; t++) {
            vmsg_bus_wait(bus, 20);
            n = vmsg_bus_recv(bus, r, sizeof(r));
        }
        CU_ASSERT_EQUAL_FATAL(n, 12);
        CU_ASSERT_EQUAL(vmsg_get_le32(r + 8), i * 1000);
    }
    vmsg_bus_wait(bus, 100);
    CU_ASSERT_EQUAL(vmsg_bus_recv(bus, r, sizeof(r)), 0);     /* and not one more */
    fixture_down();
}

static void conf_unanswered_request_fails_after_bounded_timeout(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    fx.drvbus.timeout_ms = 300;
    fx.drop_to_device = true;
    uint64_t t0 = vmsg_now_ms();
    uint32_t status;
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), -ETIMEDOUT);
    uint64_t took = vmsg_now_ms() - t0;
    CU_ASSERT(took >= 300 && took < 2000);
    fx.drop_to_device = false;
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), 0);
    fixture_down();
}

static void conf_late_answer_to_timed_out_request_not_taken(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    /* Stop the device thread so the first request is answered late. */
    vmsg_loopback_stop_device(&fx.lb);
    fx.drvbus.timeout_ms = 100;
    uint32_t status;
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), -ETIMEDOUT);
    /* The device now answers the old request first; the driver must skip
     * that stale answer and take the one to its new request. */
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_start_device(&fx.lb, &fx.devbus), 0);
    fx.drvbus.timeout_ms = 2000;
    CU_ASSERT_EQUAL(vmsg_drv_set_status(&fx.drv, VMSG_STATUS_ACKNOWLEDGE | VMSG_STATUS_DRIVER |
                                        VMSG_STATUS_FEATURES_OK | VMSG_STATUS_FAILED, &status), 0);
    CU_ASSERT(status & VMSG_STATUS_FAILED);
    CU_ASSERT(fx.drvbus.dropped >= 1);
    fixture_down();
}

static void conf_peer_gone_is_an_error_not_a_hang(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    vmsg_loopback_close(&fx.lb);
    uint32_t status;
    int rc = vmsg_drv_get_status(&fx.drv, &status);
    CU_ASSERT(rc == -EPIPE);
    fixture_down();
}

/* --- Discovery and hotplug ----------------------------------------------- */

static void conf_absent_device_number_gets_no_answer(void)
{
    struct vmsg_driver_dev ghost;
    fixture_up(264, 0, 1);
    fx.drvbus.timeout_ms = 200;
    CU_ASSERT_EQUAL(vmsg_drv_probe(&fx.drvbus, 99, &ghost), -ETIMEDOUT);
    CU_ASSERT_EQUAL(fx.devbus.stats.dropped_unexpected, 1);
    fixture_down();
}

static void conf_get_devices_finds_sparse_numbers(void)
{
    uint16_t nums[8];
    struct testdev extra[2];
    for (uint32_t max = 48; max <= 264; max += 216) {
        fixture_up(max, 0, 2);
        testdev_init(&extra[0]);
        testdev_init(&extra[1]);
        vmsg_devbus_add(&fx.devbus, 5, &extra[0].dev, false);
        vmsg_devbus_add(&fx.devbus, 4000, &extra[1].dev, false);
        CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 8), 4);
        CU_ASSERT(nums[0] == 0 && nums[1] == 2 && nums[2] == 5 && nums[3] == 4000);
        fixture_down();
    }
}

static void conf_get_devices_window_rules(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 2);
    /* The spec's example: offset 0, count 16 -> bitmap 0b00000101, 0. */
    CU_ASSERT_EQUAL_FATAL(raw_exchange("02 02 0000 0100 0c00 0000 1000", r, 2000), 16);
    CU_ASSERT_EQUAL(vmsg_get_le16(r + 8), 0);
    CU_ASSERT_EQUAL(vmsg_get_le16(r + 10), 16);
    CU_ASSERT_EQUAL(vmsg_get_le16(r + 12), 0);      /* nothing beyond */
    CU_ASSERT_EQUAL(r[14], 0x05);
    CU_ASSERT_EQUAL(r[15], 0x00);
    /* A window past every device: empty bitmap, next_offset 0. */
    CU_ASSERT_EQUAL_FATAL(raw_exchange("02 02 0000 0100 0c00 4000 0800", r, 2000), 15);
    CU_ASSERT_EQUAL(vmsg_get_le16(r + 8), 64);
    CU_ASSERT_EQUAL(r[14], 0);
    /* Offset 8 window of 8 misses device 2 but names where it is not. */
    CU_ASSERT_EQUAL_FATAL(raw_exchange("02 02 0000 0100 0c00 0000 0800", r, 2000), 15);
    CU_ASSERT_EQUAL(r[14], 0x05);
    /* A window too large for one message is shortened, and says so. */
    CU_ASSERT_EQUAL_FATAL(raw_exchange("02 02 0000 0100 0c00 0000 f8ff", r, 2000), 264);
    CU_ASSERT_EQUAL(vmsg_get_le16(r + 10), (264 - 14) * 8);
    fixture_down();
}

static void conf_ping_echoes_data_exactly(void)
{
    fixture_up(264, 0, 1);
    uint32_t values[] = { 0, 1, 0xffffffff, 0x80000001, 0x12345678 };
    for (unsigned i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(vmsg_drvbus_ping(&fx.drvbus, values[i]), 0);
    fixture_down();
}

static void conf_event_device_ready_and_removed(void)
{
    struct testdev hot;
    uint16_t nums[8];
    fixture_up(264, 0, 1);
    for (int round = 0; round < 3; round++) {
        testdev_init(&hot);
        CU_ASSERT_EQUAL(vmsg_devbus_add(&fx.devbus, 42, &hot.dev, true), 0);
        CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 8), 3);
        struct vmsg_device *gone = vmsg_devbus_remove(&fx.devbus, 42, true);
        CU_ASSERT_PTR_EQUAL(gone, &hot.dev);
        vmsg_device_destroy(gone);
        CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 8), 2);
    }
    vmsg_drvbus_poll(&fx.drvbus, 50);
    CU_ASSERT_EQUAL_FATAL(fx.nevents, 6);
    CU_ASSERT(fx.events_seen[0][0] == 42 && fx.events_seen[0][1] == VMSG_DEVICE_BUS_STATE_READY);
    CU_ASSERT(fx.events_seen[1][0] == 42 && fx.events_seen[1][1] == VMSG_DEVICE_BUS_STATE_REMOVED);
    fixture_down();
}

/* --- Initialization ----------------------------------------------------- */

static void conf_device_info_answered_before_status_and_consistent(void)
{
    uint8_t a[300], b[300];
    fixture_up(264, 0, 1);
    int n1 = raw_exchange("00 02 0000 0100 0800", a, 2000);
    int n2 = raw_exchange("00 02 0000 0200 0800", b, 2000);
    CU_ASSERT_EQUAL_FATAL(n1, 32);
    CU_ASSERT_EQUAL(n2, 32);
    CU_ASSERT(memcmp(a + 8, b + 8, 24) == 0);
    CU_ASSERT_EQUAL(vmsg_get_le32(a + 16), 64);     /* num_feature_bits */
    CU_ASSERT_EQUAL(vmsg_get_le32(a + 20), TEST_CONFIG_SIZE);
    CU_ASSERT_EQUAL(vmsg_get_le32(a + 24), 2);
    fixture_down();
}

static void conf_config_access_bounded_by_config_size(void)
{
    uint8_t r[300], buf[8];
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&fx.drv, TEST_CONFIG_SIZE - 4, buf, 8), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_drv_write_config(&fx.drv, 0xfffffffc, buf, 8), -ERANGE);
    /* A device given an out-of-range request drops it. */
    CU_ASSERT_EQUAL(raw_exchange("00 05 0000 0100 1000 54020000 08000000", r, 200), 0);
    CU_ASSERT_EQUAL(raw_exchange("00 05 0000 0100 1000 fcffffff 08000000", r, 200), 0);
    /* A read that fits the config but not one message is dropped too. */
    CU_ASSERT_EQUAL(raw_exchange("00 05 0000 0100 1000 00000000 00010000", r, 200), 0);
    fixture_down();
}

static void conf_feature_blocks_beyond_64_bits_read_zero(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    int n = raw_exchange("00 03 0000 0100 1000 00000000 08000000", r, 2000);
    CU_ASSERT_EQUAL_FATAL(n, 16 + 32);
    CU_ASSERT_EQUAL(vmsg_get_le32(r + 16), (uint32_t)TEST_FEATURES);
    CU_ASSERT_EQUAL(vmsg_get_le32(r + 20), (uint32_t)(TEST_FEATURES >> 32));
    for (int i = 2; i < 8; i++)
        CU_ASSERT_EQUAL(vmsg_get_le32(r + 16 + 4 * i), 0);
    fixture_down();
}

static void conf_features_ok_cleared_for_unoffered_bit(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 0, &fx.drv), 0);
    CU_ASSERT_EQUAL(vmsg_drv_set_status(&fx.drv, 3, NULL), 0);
    /* bit 1 is not offered */
    CU_ASSERT_EQUAL(raw_exchange("00 04 0000 0100 1800 00000000 02000000 03000000 01000000", r, 2000), 8);
    uint32_t status;
    CU_ASSERT_EQUAL(vmsg_drv_set_status(&fx.drv, 3 | VMSG_STATUS_FEATURES_OK, &status), 0);
    CU_ASSERT_FALSE(status & VMSG_STATUS_FEATURES_OK);
    /* bits in block 5 the device never offered */
    CU_ASSERT_EQUAL(vmsg_drv_reset(&fx.drv), 0);
    CU_ASSERT_EQUAL(vmsg_drv_set_status(&fx.drv, 3, NULL), 0);
    CU_ASSERT_EQUAL(raw_exchange("00 04 0000 0100 1400 05000000 01000000 01000000", r, 2000), 8);
    CU_ASSERT_EQUAL(vmsg_drv_set_status(&fx.drv, 3 | VMSG_STATUS_FEATURES_OK, &status), 0);
    CU_ASSERT_FALSE(status & VMSG_STATUS_FEATURES_OK);
    fixture_down();
}

static void conf_driver_fails_probe_when_device_refuses_features(void)
{
    fixture_up(264, 0, 1);
    fx.td[0].refuse_bit5 = true;
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 0, &fx.drv), 0);
    CU_ASSERT_EQUAL(vmsg_drv_negotiate(&fx.drv, TEST_FEATURES), -ENOTSUP);
    CU_ASSERT_EQUAL(vmsg_drv_negotiate(&fx.drv, TEST_FEATURES & ~(1ull << 5)), 0);
    CU_ASSERT_EQUAL(fx.td[0].features_ok_with, TEST_FEATURES & ~(1ull << 5));
    fixture_down();
}

static void conf_set_vqueue_before_features_ok_ignored(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 0, &fx.drv), 0);
    CU_ASSERT_EQUAL(raw_exchange("00 0a 0000 0100 3000 00000000 00000000 10000000 00000000"
                                 " 0010000000000000 0020000000000000 0030000000000000", r, 2000), 8);
    struct vmsg_vqueue_info q;
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 0, &q), 0);
    CU_ASSERT_EQUAL(q.cur_size, 0);
    fixture_down();
}

static void conf_get_vqueue_after_set_vqueue_identical(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    struct vmsg_vqueue_info q;
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 1, &q), 0);
    CU_ASSERT_EQUAL(q.max_size, TEST_QUEUE_MAX);
    CU_ASSERT_EQUAL(q.cur_size, 0);     /* 0 until configured */
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 1, 32, 0x1000, 0x1200, 0x1400), 0);
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 1, &q), 0);
    CU_ASSERT(q.cur_size == 32 && q.desc_addr == 0x1000 && q.driver_addr == 0x1200 && q.device_addr == 0x1400);
    CU_ASSERT_EQUAL(fx.td[0].enables[1], 1);
    /* size above max, or not a power of two: refused */
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, TEST_QUEUE_MAX * 2, 0x1000, 0x1200, 0x1400), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 24, 0x1000, 0x1200, 0x1400), -EINVAL);
    /* a queue the device does not have */
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 2, 16, 0x1000, 0x1200, 0x1400), -ENOENT);
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 7, &q), 0);
    CU_ASSERT_EQUAL(q.max_size, 0);
    fixture_down();
}

static void conf_misaligned_or_reprogrammed_queue_refused(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 16, 0x1008, 0x1200, 0x1400), -EIO);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 16, 0x1000, 0x1200, 0x1400), 0);
    /* An enabled queue is reprogrammed only after RESET_VQUEUE. */
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 16, 0x2000, 0x2200, 0x2400), -EIO);
    fixture_down();
}

static void queue_that_fails_to_start_is_forgotten_and_needs_reset(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    fx.td[0].fail_enable = true;
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 16, 0x1000, 0x1200, 0x1400), -EIO);
    struct vmsg_vqueue_info q;
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 0, &q), 0);
    CU_ASSERT_EQUAL(q.cur_size, 0);
    uint32_t status;
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), 0);
    CU_ASSERT(status & VMSG_STATUS_DEVICE_NEEDS_RESET);
    CU_ASSERT_EQUAL(vmsg_drv_reset(&fx.drv), 0);
    CU_ASSERT_EQUAL(fx.td[0].queue_resets[0], 0);   /* never started, never reset */
    fixture_down();
}

static int released;
static void count_release(struct vmsg_device *dev)
{
    released++;
    vmsg_device_destroy(dev);
}

/* --- detach (docs/protocol.md section 6) -----------------------------------
 * The devbus is on the test's clock (times passed in): no sleeping, no timed
 * assertion. The device thread is stopped around detach and reap, as the
 * backend runs both on the bus thread. */

static void detach_removed_then_driver_reset_destroys_before_timeout(void)
{
    uint32_t status;
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    vmsg_loopback_stop_device(&fx.lb);
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 0, true, 5000), 0);
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 0, true, 5000), -EALREADY);
    CU_ASSERT_PTR_NULL(vmsg_devbus_reap(&fx.devbus, 0));     /* the driver holds it */
    CU_ASSERT_EQUAL(vmsg_devbus_next_deadline(&fx.devbus), 5000);
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_start_device(&fx.lb, &fx.devbus), 0);
    /* The driver takes REMOVED and resets the device before returning. */
    CU_ASSERT(vmsg_drvbus_poll(&fx.drvbus, 2000) >= 1);
    CU_ASSERT_TRUE(fx.drv.removed);
    CU_ASSERT_TRUE(fx.drv.let_go);
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), -ENODEV);
    CU_ASSERT_EQUAL(vmsg_drv_notify(&fx.drv, 0, 0), -ENODEV);
    vmsg_loopback_stop_device(&fx.lb);
    CU_ASSERT_EQUAL(fx.td[0].dev.status, 0);
    /* At 1 ms of its 5000: gone at once, reset by the driver. */
    struct vmsg_device *gone = vmsg_devbus_reap(&fx.devbus, 1);
    CU_ASSERT_PTR_EQUAL(gone, &fx.td[0].dev);
    CU_ASSERT_TRUE(gone && gone->let_go);
    CU_ASSERT_PTR_NULL(vmsg_devbus_reap(&fx.devbus, 1));
    CU_ASSERT_EQUAL(vmsg_devbus_next_deadline(&fx.devbus), UINT64_MAX);
    CU_ASSERT_PTR_NULL(vmsg_devbus_find(&fx.devbus, 0));
    vmsg_drv_release(&fx.drv);
    if (gone)
        vmsg_device_destroy(gone);
    CU_ASSERT_EQUAL(fx.nevents, 1);
    CU_ASSERT(fx.events_seen[0][0] == 0 && fx.events_seen[0][1] == VMSG_DEVICE_BUS_STATE_REMOVED);
    fixture_down();
}

static void detach_silent_driver_destroyed_at_timeout(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    vmsg_loopback_stop_device(&fx.lb);
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 0, true, 5000), 0);
    /* The driver never reads the REMOVED: nothing before the deadline. */
    CU_ASSERT_PTR_NULL(vmsg_devbus_reap(&fx.devbus, 0));
    CU_ASSERT_PTR_NULL(vmsg_devbus_reap(&fx.devbus, 4999));
    struct vmsg_device *gone = vmsg_devbus_reap(&fx.devbus, 5000);
    CU_ASSERT_PTR_EQUAL(gone, &fx.td[0].dev);
    CU_ASSERT_TRUE(gone && !gone->let_go);
    /* Taken off the bus reset: the model dropped its queue work. */
    CU_ASSERT_EQUAL(fx.td[0].dev.status, 0);
    CU_ASSERT(fx.td[0].resets >= 2);
    CU_ASSERT_PTR_NULL(vmsg_devbus_find(&fx.devbus, 0));
    CU_ASSERT_PTR_NOT_NULL(vmsg_devbus_find(&fx.devbus, 1));
    vmsg_drv_release(&fx.drv);
    if (gone)
        vmsg_device_destroy(gone);
    fixture_down();
}

static void detach_then_reattach_with_the_same_number(void)
{
    struct testdev again;
    struct vmsg_driver_dev d;
    uint16_t nums[4];
    fixture_up(264, 0, 1);
    testdev_init(&again);
    again.config[0] = 0x77;
    vmsg_loopback_stop_device(&fx.lb);
    /* Never set up by a driver (status 0): nothing to wait for. */
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 1, true, 5000), 0);
    /* The number stays taken until the old device is gone. */
    CU_ASSERT_EQUAL(vmsg_devbus_add(&fx.devbus, 1, &again.dev, true), -EEXIST);
    struct vmsg_device *gone = vmsg_devbus_reap(&fx.devbus, 0);
    CU_ASSERT_PTR_EQUAL(gone, &fx.td[1].dev);
    CU_ASSERT_TRUE(gone && gone->let_go);
    if (gone)
        vmsg_device_destroy(gone);
    CU_ASSERT_EQUAL(vmsg_devbus_add(&fx.devbus, 1, &again.dev, true), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_start_device(&fx.lb, &fx.devbus), 0);
    CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 4), 2);
    CU_ASSERT_EQUAL(nums[1], 1);
    /* The driver side saw REMOVED then READY, in that order. */
    CU_ASSERT_EQUAL_FATAL(fx.nevents, 2);
    CU_ASSERT(fx.events_seen[0][0] == 1 && fx.events_seen[0][1] == VMSG_DEVICE_BUS_STATE_REMOVED);
    CU_ASSERT(fx.events_seen[1][0] == 1 && fx.events_seen[1][1] == VMSG_DEVICE_BUS_STATE_READY);
    /* The new device answers as itself, and can leave in turn. */
    uint8_t b;
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 1, &d), 0);
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&d, 0, &b, 1), 0);
    CU_ASSERT_EQUAL(b, 0x77);
    vmsg_drv_release(&d);
    vmsg_loopback_stop_device(&fx.lb);
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 1, true, 5000), 0);
    gone = vmsg_devbus_reap(&fx.devbus, 0);
    CU_ASSERT_PTR_EQUAL(gone, &again.dev);
    if (gone)
        vmsg_device_destroy(gone);
    fixture_down();
}

static void detach_get_devices_excludes_a_leaving_device(void)
{
    struct vmsg_driver_dev d;
    uint16_t nums[4];
    fixture_up(264, 3, 7);
    negotiate_dev0(3);
    vmsg_loopback_stop_device(&fx.lb);
    /* Announced to nobody (no REMOVED): the view alone must change. */
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 7, false, 5000), 0);
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 9, false, 5000), -ENOENT);
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_start_device(&fx.lb, &fx.devbus), 0);
    CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 4), 1);
    CU_ASSERT_EQUAL(nums[0], 3);
    /* Still on the bus until reaped: its driver may reset it. */
    CU_ASSERT_EQUAL(vmsg_drv_probe(&fx.drvbus, 7, &d), 0);
    CU_ASSERT_EQUAL(vmsg_drv_reset(&d), 0);
    vmsg_drv_release(&d);
    /* The first device leaving too: the bitmap is empty, next_offset 0. */
    vmsg_loopback_stop_device(&fx.lb);
    CU_ASSERT_EQUAL(vmsg_devbus_detach(&fx.devbus, 3, false, 5000), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_start_device(&fx.lb, &fx.devbus), 0);
    CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 4), 0);
    vmsg_loopback_stop_device(&fx.lb);
    /* 7 was let go by its reset; 3's driver is silent until the deadline. */
    struct vmsg_device *gone = vmsg_devbus_reap(&fx.devbus, 0);
    CU_ASSERT_PTR_EQUAL(gone, &fx.td[1].dev);
    if (gone)
        vmsg_device_destroy(gone);
    CU_ASSERT_PTR_NULL(vmsg_devbus_reap(&fx.devbus, 0));
    vmsg_drv_release(&fx.drv);
    fixture_down();     /* destroys the leaving device 3 with the bus */
}

static void devbus_destroy_hands_devices_to_release(void)
{
    struct vmsg_loopback lb;
    struct vmsg_devbus db;
    struct testdev a, b;
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_init(&lb, 264, 4096), 0);
    vmsg_devbus_init(&db, vmsg_loopback_device_bus(&lb));
    db.release = count_release;
    testdev_init(&a);
    testdev_init(&b);
    CU_ASSERT_EQUAL(vmsg_devbus_add(&db, 1, &a.dev, false), 0);
    CU_ASSERT_EQUAL(vmsg_devbus_add(&db, 1, &b.dev, false), -EEXIST);
    CU_ASSERT_EQUAL(vmsg_devbus_add(&db, 2, &b.dev, false), 0);
    released = 0;
    vmsg_devbus_destroy(&db);
    CU_ASSERT_EQUAL(released, 2);
    vmsg_loopback_destroy(&lb);
}

static void conf_status_reported_accurately(void)
{
    uint32_t status, got;
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), 0);
    CU_ASSERT_EQUAL(status, VMSG_STATUS_ACKNOWLEDGE | VMSG_STATUS_DRIVER | VMSG_STATUS_FEATURES_OK);
    /* DEVICE_NEEDS_RESET is the device's bit: a driver cannot set it. */
    CU_ASSERT_EQUAL(vmsg_drv_set_status(&fx.drv, status | VMSG_STATUS_DEVICE_NEEDS_RESET, &got), 0);
    CU_ASSERT_EQUAL(got, status);
    CU_ASSERT_EQUAL(vmsg_drv_driver_ok(&fx.drv), 0);
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &got), 0);
    CU_ASSERT_EQUAL(got, status | VMSG_STATUS_DRIVER_OK);
    CU_ASSERT_EQUAL(fx.td[0].driver_oks, 1);
    fixture_down();
}

static void conf_driver_ok_refused_without_features_ok(void)
{
    uint32_t got;
    fixture_up(264, 0, 1);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 0, &fx.drv), 0);
    CU_ASSERT_EQUAL(vmsg_drv_set_status(&fx.drv, 3 | VMSG_STATUS_DRIVER_OK, &got), 0);
    CU_ASSERT_FALSE(got & VMSG_STATUS_DRIVER_OK);
    CU_ASSERT_EQUAL(fx.td[0].driver_oks, 0);
    fixture_down();
}

static void conf_no_queue_io_before_driver_ok(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 16, 0x1000, 0x1200, 0x1400), 0);
    CU_ASSERT_EQUAL(vmsg_drv_notify(&fx.drv, 0, 0), 0);
    uint32_t status;
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), 0);  /* the kick was handled before this */
    CU_ASSERT_EQUAL(fx.td[0].notifies[0], 0);
    /* Buffers made available early are looked at once DRIVER_OK is set. */
    CU_ASSERT_EQUAL(vmsg_drv_driver_ok(&fx.drv), 0);
    CU_ASSERT_EQUAL(fx.td[0].notifies[0], 1);
    fixture_down();
}

/* --- Configuration and generation --------------------------------------- */

static void conf_get_config_carries_current_generation(void)
{
    uint32_t g1, g2;
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_config_generation(&fx.drv, &g1), 0);
    CU_ASSERT_EQUAL(vmsg_device_config_changed(&fx.td[0].dev, 0, 4), 0);
    CU_ASSERT_EQUAL(vmsg_drv_config_generation(&fx.drv, &g2), 0);
    CU_ASSERT_NOT_EQUAL(g1, g2);
    fixture_down();
}

static void conf_device_config_change_sends_event_with_generation(void)
{
    uint8_t buf[4];
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    uint32_t before = fx.drv.generation;
    fx.td[0].config[8] = 0x99;
    CU_ASSERT_EQUAL(vmsg_device_config_changed(&fx.td[0].dev, 8, 4), 0);
    vmsg_drvbus_poll(&fx.drvbus, 500);
    CU_ASSERT_TRUE(fx.drv.config_changed);
    CU_ASSERT_NOT_EQUAL(fx.drv.generation, before);
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&fx.drv, 8, buf, 4), 0);
    CU_ASSERT_EQUAL(buf[0], 0x99);
    fixture_down();
}

static void conf_large_config_change_event_without_data(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    /* 500 bytes do not fit one EVENT_CONFIG (240 at most): length 0. */
    CU_ASSERT_EQUAL(vmsg_device_config_changed(&fx.td[0].dev, 0, 500), 0);
    struct vmsg_bus *bus = vmsg_loopback_driver_bus(&fx.lb);
    CU_ASSERT(vmsg_bus_wait(bus, 1000) > 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_recv(bus, r, sizeof(r)), 24);
    CU_ASSERT_EQUAL(r[1], VMSG_EVENT_CONFIG);
    CU_ASSERT_EQUAL(vmsg_get_le32(r + 20), 0);
    /* A small change carries its data. */
    CU_ASSERT_EQUAL(vmsg_device_config_changed(&fx.td[0].dev, 4, 8), 0);
    CU_ASSERT(vmsg_bus_wait(bus, 1000) > 0);
    CU_ASSERT_EQUAL(vmsg_bus_recv(bus, r, sizeof(r)), 24 + 8);
    CU_ASSERT(memcmp(r + 24, fx.td[0].config + 4, 8) == 0);
    fixture_down();
}

static void conf_set_config_with_stale_generation_rejected(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    uint8_t before = fx.td[0].config[0];
    /* The device starts at generation 0; 7 is stale. */
    CU_ASSERT_EQUAL_FATAL(raw_exchange("00 06 0000 0100 1500 07000000 00000000 01000000 ff", r, 2000), 20);
    CU_ASSERT_EQUAL(vmsg_get_le32(r + 16), 0);      /* length 0: rejected */
    CU_ASSERT_EQUAL(fx.td[0].config[0], before);
    CU_ASSERT_EQUAL_FATAL(raw_exchange("00 06 0000 0100 1500 00000000 00000000 01000000 ff", r, 2000), 21);
    CU_ASSERT_EQUAL(vmsg_get_le32(r + 16), 1);
    CU_ASSERT_EQUAL(fx.td[0].config[0], 0xff);
    /* length 0 is a no-op */
    CU_ASSERT_EQUAL(raw_exchange("00 06 0000 0100 1400 00000000 00000000 00000000", r, 2000), 20);
    fixture_down();
}

static void conf_driver_rereads_generation_after_rejection(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    uint8_t v = 0x42;
    /* The device's generation moves without the driver hearing of it. */
    fx.td[0].dev.generation += 5;
    CU_ASSERT_EQUAL(vmsg_drv_write_config(&fx.drv, 3, &v, 1), 0);
    CU_ASSERT_EQUAL(fx.td[0].config[3], 0x42);
    fixture_down();
}

/* --- Queues at runtime and reset ----------------------------------------- */

static void conf_reset_vqueue_with_ring_reset_allows_reprogramming(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT(fx.drv.features >> VIRTIO_F_RING_RESET & 1);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 16, 0x1000, 0x1200, 0x1400), 0);
    CU_ASSERT_EQUAL(vmsg_drv_reset_vqueue(&fx.drv, 0), 0);
    CU_ASSERT_EQUAL(fx.td[0].queue_resets[0], 1);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 32, 0x2000, 0x2200, 0x2400), 0);
    fixture_down();
}

static void conf_reset_vqueue_without_ring_reset_answered_unchanged(void)
{
    uint8_t r[300];
    fixture_up(264, 0, 1);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 0, &fx.drv), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_negotiate(&fx.drv, 1ull << VIRTIO_F_VERSION_1), 0);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 0, 16, 0x1000, 0x1200, 0x1400), 0);
    CU_ASSERT_EQUAL(raw_exchange("00 0b 0000 0100 0c00 00000000", r, 2000), 8);
    CU_ASSERT_EQUAL(fx.td[0].queue_resets[0], 0);
    struct vmsg_vqueue_info q;
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 0, &q), 0);
    CU_ASSERT_EQUAL(q.cur_size, 16);
    fixture_down();
}

static void conf_status_zero_resets_device_and_queues(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 1, 16, 0x1000, 0x1200, 0x1400), 0);
    CU_ASSERT_EQUAL(vmsg_drv_driver_ok(&fx.drv), 0);
    CU_ASSERT_EQUAL(vmsg_drv_reset(&fx.drv), 0);
    struct vmsg_vqueue_info q;
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&fx.drv, 1, &q), 0);
    CU_ASSERT_EQUAL(q.cur_size, 0);
    CU_ASSERT_EQUAL(fx.td[0].queue_resets[1], 1);
    CU_ASSERT(fx.td[0].resets >= 1);
    /* and it can be brought up again */
    CU_ASSERT_EQUAL(vmsg_drv_negotiate(&fx.drv, TEST_FEATURES), 0);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 1, 16, 0x1000, 0x1200, 0x1400), 0);
    fixture_down();
}

static void conf_needs_reset_reported_by_status_and_event(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_driver_ok(&fx.drv), 0);
    vmsg_device_needs_reset(&fx.td[0].dev, "test says so");
    vmsg_drvbus_poll(&fx.drvbus, 500);
    CU_ASSERT(fx.drv.last_event_status & VMSG_STATUS_DEVICE_NEEDS_RESET);
    uint32_t status;
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), 0);
    CU_ASSERT(status & VMSG_STATUS_DEVICE_NEEDS_RESET);
    CU_ASSERT_FALSE(vmsg_device_running(&fx.td[0].dev));
    CU_ASSERT_EQUAL(vmsg_drv_reset(&fx.drv), 0);
    CU_ASSERT_EQUAL(vmsg_drv_get_status(&fx.drv, &status), 0);
    CU_ASSERT_EQUAL(status, 0);
    fixture_down();
}

/* --- Notifications -------------------------------------------------------- */

static void conf_event_avail_reaches_model_and_event_used_reaches_driver(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_drv_set_vqueue(&fx.drv, 1, 16, 0x1000, 0x1200, 0x1400), 0);
    CU_ASSERT_EQUAL(vmsg_drv_driver_ok(&fx.drv), 0);
    int before = fx.td[0].notifies[1];
    CU_ASSERT_EQUAL(vmsg_drv_notify(&fx.drv, 1, 0), 0);
    wait_until(&fx.td[0].notifies[1], before + 1);
    CU_ASSERT_EQUAL(fx.td[0].notifies[1], before + 1);
    CU_ASSERT_EQUAL(vmsg_device_notify_used(&fx.td[0].dev, 1), 0);
    vmsg_drvbus_poll(&fx.drvbus, 500);
    CU_ASSERT_EQUAL(fx.used_seen[1], 1);
    fixture_down();
}

static void conf_event_used_not_sent_before_driver_ok(void)
{
    fixture_up(264, 0, 1);
    negotiate_dev0(0);
    CU_ASSERT_EQUAL(vmsg_device_notify_used(&fx.td[0].dev, 0), -EPERM);
    fixture_down();
}

static void conf_get_shm_absent_region_length_zero(void)
{
    uint32_t addr = 1, len = 1;
    fixture_up(264, 0, 1);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&fx.drvbus, 0, &fx.drv), 0);
    for (uint32_t id = 0; id < 4; id++) {
        CU_ASSERT_EQUAL(vmsg_drv_get_shm(&fx.drv, id, &addr, &len), 0);
        CU_ASSERT_EQUAL(len, 0);
    }
    fixture_down();
}

/* --- the pool allocator -------------------------------------------------- */

static void pool_small_allocations_never_cross_4k(void)
{
    struct vmsg_pool p;
    static uint8_t mem[4 * 4096] __attribute__((aligned(4096)));
    CU_ASSERT_EQUAL_FATAL(vmsg_pool_init(&p, mem, 0x10000, sizeof(mem)), 0);
    uint64_t a;
    void *ptr;
    for (int i = 0; i < 8; i++) {     /* two fit in each 4 KiB page */
        CU_ASSERT_EQUAL_FATAL(vmsg_pool_alloc(&p, 1500, 16, &a, &ptr), 0);
        CU_ASSERT_EQUAL(a / 4096, (a + 1499) / 4096);
        CU_ASSERT_PTR_EQUAL(ptr, mem + (a - 0x10000));
    }
    CU_ASSERT_EQUAL(vmsg_pool_alloc(&p, 1500, 16, &a, &ptr), -ENOMEM);
    vmsg_pool_destroy(&p);
}

static void pool_alignment_free_and_reuse(void)
{
    struct vmsg_pool p;
    static uint8_t mem[2 * 4096] __attribute__((aligned(4096)));
    CU_ASSERT_EQUAL_FATAL(vmsg_pool_init(&p, mem, 0, sizeof(mem)), 0);
    uint64_t a, b, c;
    void *ptr;
    CU_ASSERT_EQUAL(vmsg_pool_alloc(&p, 10, 1, &a, &ptr), 0);
    CU_ASSERT_EQUAL(vmsg_pool_alloc(&p, 100, 4096, &b, &ptr), 0);
    CU_ASSERT_EQUAL(b % 4096, 0);
    CU_ASSERT_EQUAL(vmsg_pool_alloc(&p, 8192, 4096, &c, &ptr), -ENOMEM);
    vmsg_pool_free(&p, a, 10);
    vmsg_pool_free(&p, b, 100);
    CU_ASSERT_EQUAL(p.in_use, 0);
    CU_ASSERT_EQUAL(vmsg_pool_alloc(&p, 8192, 4096, &c, &ptr), 0);
    CU_ASSERT_EQUAL(vmsg_pool_alloc(&p, 1, 3, &a, &ptr), -EINVAL);
    vmsg_pool_destroy(&p);
}

static void loopback_device_map_is_bounds_checked(void)
{
    struct vmsg_loopback lb;
    struct vmsg_mapping m;
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_init(&lb, 264, 4096), 0);
    struct vmsg_bus *dev = vmsg_loopback_device_bus(&lb);
    CU_ASSERT_EQUAL(vmsg_bus_map(dev, 0, 4096, true, &m), 0);
    vmsg_bus_unmap(dev, &m);
    CU_ASSERT_EQUAL(vmsg_bus_map(dev, 1, 4096, true, &m), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_bus_map(dev, 4096, 1, true, &m), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_bus_map(dev, UINT64_MAX - 1, 4, true, &m), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_bus_map(dev, 8, UINT64_MAX, true, &m), -EFAULT);
    CU_ASSERT_EQUAL(lb.maps_live, 0);
    vmsg_loopback_destroy(&lb);
    struct vmsg_loopback too_small;   /* below v1's usable minimum: nothing allocated */
    CU_ASSERT_EQUAL(vmsg_loopback_init(&too_small, 40, 4096), -EINVAL);
}

static const struct vmsg_conformance conformance[] = {
    { "conf_reserved_type_bits_ignored_on_receive", "Message format and limits",
      "D/V: type bits 2..7 sent as 0, ignored on receive" },
    { "conf_every_frame_well_formed_and_exact_size", "Message format and limits",
      "D/V: msg_size = header + payload exactly, never above the maximum; reserved fields 0" },
    { "conf_minimum_message_size_chunks_everything", "Message format and limits",
      "D/V: run at the minimum size: config access and enumeration are split" },
    { "conf_dev_num_routes_to_the_right_device", "Message format and limits",
      "D sets dev_num to the target, V to its own number" },
    { "conf_token_opaque_when_bus_rewrites_it", "Message format and limits",
      "D/V: token is opaque; the bus may rewrite it" },
    { "conf_device_echoes_request_token", "Message format and limits",
      "V copies the request token into the response (post-v1 MUST, tolerance in v1)" },
    { "conf_unknown_event_ids_ignored_by_both_ends", "Message format and limits",
      "D/V: ignore unknown device-originated or driver-originated IDs (0x43, 0xC5)" },
    { "conf_malformed_messages_dropped_without_reply", "Errors and ordering",
      "B/V: malformed headers and unknown msg_id discarded, no reply" },
    { "conf_truncated_set_vqueue_leaves_device_intact", "Errors and ordering",
      "V: discard malformed transport messages; device state intact" },
    { "conf_no_reply_to_events", "Errors and ordering", "B: never an error response to an event" },
    { "conf_one_response_per_request_in_order", "Errors and ordering",
      "B: per device number, exactly one response per request, in order" },
    { "conf_unanswered_request_fails_after_bounded_timeout", "Errors and ordering",
      "D/B: a request with no answer fails after a bounded timeout" },
    { "conf_late_answer_to_timed_out_request_not_taken", "Errors and ordering",
      "D: a late answer is not mistaken for the next request's" },
    { "conf_peer_gone_is_an_error_not_a_hang", "Errors and ordering",
      "B: transport-visible failure when the peer is gone" },
    { "conf_absent_device_number_gets_no_answer", "Discovery and hotplug",
      "B: forward only to validated device numbers" },
    { "conf_get_devices_finds_sparse_numbers", "Discovery and hotplug",
      "B: GET_DEVICES finds every device (0, 2, 5, 4000), at 48 and 264 bytes" },
    { "conf_get_devices_window_rules", "Discovery and hotplug",
      "GET_DEVICES: LSB-first bitmap, next_offset rules, window shortened to fit" },
    { "conf_ping_echoes_data_exactly", "Discovery and hotplug", "PING responder echoes data exactly" },
    { "conf_event_device_ready_and_removed", "Discovery and hotplug",
      "B: EVENT_DEVICE READY on add, REMOVED on removal; enumeration agrees" },
    { "conf_device_info_answered_before_status_and_consistent", "Initialization",
      "V: GET_DEVICE_INFO answered while inactive, consistent, bits multiple of 32" },
    { "conf_config_access_bounded_by_config_size", "Initialization",
      "D bounds config access by config_size; V drops out-of-range requests" },
    { "conf_feature_blocks_beyond_64_bits_read_zero", "Initialization",
      "V: zeros for feature blocks beyond what it implements" },
    { "conf_features_ok_cleared_for_unoffered_bit", "Initialization",
      "V: refuses FEATURES_OK for bits it did not offer" },
    { "conf_driver_fails_probe_when_device_refuses_features", "Initialization",
      "D: checks FEATURES_OK stuck, fails when refused" },
    { "conf_set_vqueue_before_features_ok_ignored", "Initialization",
      "D: negotiation before queues; V ignores (and logs) SET_VQUEUE before FEATURES_OK" },
    { "conf_get_vqueue_after_set_vqueue_identical", "Initialization",
      "V: true max/current sizes, keeps SET_VQUEUE values; size > max refused" },
    { "conf_misaligned_or_reprogrammed_queue_refused", "Initialization",
      "V: aligned addresses; enabled queue not reprogrammed" },
    { "conf_status_reported_accurately", "Initialization",
      "V: SET_DEVICE_STATUS response shows the resulting status" },
    { "conf_driver_ok_refused_without_features_ok", "Initialization",
      "D: DRIVER_OK only after negotiation" },
    { "conf_no_queue_io_before_driver_ok", "Initialization", "V: no queue I/O before DRIVER_OK" },
    { "conf_get_config_carries_current_generation", "Configuration and generation",
      "V: every GET_CONFIG response carries the current generation" },
    { "conf_device_config_change_sends_event_with_generation", "Configuration and generation",
      "V: EVENT_CONFIG on a device-side change, with the new generation" },
    { "conf_large_config_change_event_without_data", "Configuration and generation",
      "V: a change too large for one event: length 0, data via GET_CONFIG" },
    { "conf_set_config_with_stale_generation_rejected", "Configuration and generation",
      "V: reject SET_CONFIG with a stale generation, shown as length 0" },
    { "conf_driver_rereads_generation_after_rejection", "Configuration and generation",
      "D: re-reads the generation after a rejection and retries" },
    { "conf_reset_vqueue_with_ring_reset_allows_reprogramming", "Queues at runtime and reset",
      "V on RESET_VQUEUE: stop the queue, allow reprogramming" },
    { "conf_reset_vqueue_without_ring_reset_answered_unchanged", "Queues at runtime and reset",
      "V: RESET_VQUEUE without RING_RESET answered, nothing changed" },
    { "conf_status_zero_resets_device_and_queues", "Queues at runtime and reset",
      "V on status 0: reset, invalidate queues (cur_size 0)" },
    { "conf_needs_reset_reported_by_status_and_event", "Queues at runtime and reset",
      "V: DEVICE_NEEDS_RESET on unrecoverable error, via status and EVENT_CONFIG" },
    { "conf_event_avail_reaches_model_and_event_used_reaches_driver", "Notifications",
      "D sends EVENT_AVAIL naming the queue; V sends EVENT_USED" },
    { "conf_event_used_not_sent_before_driver_ok", "Notifications",
      "V: no EVENT_USED from a device that is not running" },
    { "conf_get_shm_absent_region_length_zero", "Per-message extras",
      "GET_SHM: length 0 for absent regions" },
    { NULL, NULL, NULL },
};

/* What a bus trace hook saw: message ids by direction, in order. */
struct trace_seen {
    pthread_mutex_t lock;
    const struct vmsg_bus *bus;
    unsigned sent, received, sent_get_devices, received_get_devices;
    enum vmsg_bus_dir last_dir;
};

static void trace_record(void *opaque, const struct vmsg_bus *bus, enum vmsg_bus_dir dir,
                         const void *msg, size_t len)
{
    struct trace_seen *t = opaque;
    struct vmsg_header h;
    bool get_devices = vmsg_peek_header(msg, len, &h) && h.msg_id == VMSG_BUS_GET_DEVICES;

    pthread_mutex_lock(&t->lock);
    t->bus = bus;
    t->last_dir = dir;
    if (dir == VMSG_BUS_SENT) {
        t->sent++;
        t->sent_get_devices += get_devices;
    } else {
        t->received++;
        t->received_get_devices += get_devices;
    }
    pthread_mutex_unlock(&t->lock);
}

/* The device thread traces its answer after the bus took it, so the
 * driver may have it first: wait (bounded) for the trace to catch up. */
static void trace_wait_sent(struct trace_seen *t, unsigned n)
{
    uint64_t end = vmsg_now_ms() + 2000;

    for (;;) {
        pthread_mutex_lock(&t->lock);
        bool done = t->sent >= n;
        pthread_mutex_unlock(&t->lock);
        if (done || vmsg_now_ms() > end)
            return;
        usleep(1000);
    }
}

/* The hook of the device end sees the request it received and the answer
 * it sent, with the bus they went through; one it dropped as malformed is
 * seen too; the driver end, without a hook, costs nothing and sees nothing. */
static void bus_trace_hook_sees_both_directions(void)
{
    struct trace_seen t = { .lock = PTHREAD_MUTEX_INITIALIZER };
    struct vmsg_bus *dev_bus;
    uint8_t reply[300];
    uint16_t nums[4];

    fixture_up(264, 0, 7);
    dev_bus = vmsg_loopback_device_bus(&fx.lb);
    CU_ASSERT_PTR_NULL(vmsg_loopback_driver_bus(&fx.lb)->trace);
    dev_bus->trace_opaque = &t;
    __atomic_store_n(&dev_bus->trace, trace_record, __ATOMIC_RELEASE);
    CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&fx.drvbus, nums, 4), 2);
    trace_wait_sent(&t, 1);
    pthread_mutex_lock(&t.lock);
    CU_ASSERT_EQUAL(t.received_get_devices, 1);
    CU_ASSERT_EQUAL(t.sent_get_devices, 1);
    CU_ASSERT_EQUAL(t.received, 1);
    CU_ASSERT_EQUAL(t.sent, 1);
    CU_ASSERT_EQUAL(t.last_dir, VMSG_BUS_SENT);
    CU_ASSERT_PTR_EQUAL(t.bus, dev_bus);
    pthread_mutex_unlock(&t.lock);
    /* A GET_DEVICES whose msg_size is below the header's: dropped, no
     * answer, but the trace shows it arrived. */
    CU_ASSERT_EQUAL(raw_exchange("40 02 0000 0100 0400", reply, 200), 0);
    CU_ASSERT_EQUAL(fx.devbus.stats.dropped_malformed, 1);
    pthread_mutex_lock(&t.lock);
    CU_ASSERT_EQUAL(t.received, 2);
    CU_ASSERT_EQUAL(t.received_get_devices, 2);
    CU_ASSERT_EQUAL(t.sent, 1);
    pthread_mutex_unlock(&t.lock);
    __atomic_store_n(&dev_bus->trace, NULL, __ATOMIC_RELEASE);
    fixture_down();
}

/* A guest that writes requests as fast as they are taken cannot keep the
 * bus thread in one poll: each call handles a bounded number and says
 * there is more, and every request still gets its answer in order. */
static void devbus_poll_work_is_bounded_per_call(void)
{
    struct vmsg_loopback lb;
    struct vmsg_devbus db;
    struct vmsg_bus *drv;
    uint8_t b[64], r[300];
    const unsigned n = VMSG_DEVBUS_POLL_BUDGET * 2 + 5;
    int total = 0, calls = 0;

    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_init(&lb, 264, 4096), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_devbus_init(&db, vmsg_loopback_device_bus(&lb)), 0);
    drv = vmsg_loopback_driver_bus(&lb);
    for (uint32_t i = 0; i < n; i++) {
        struct vmsg_msg m = { .kind = VMSG_K_BUS_PING_REQ, .hdr.token = (uint16_t)i };
        m.u.ping_req.data = i;
        int len = vmsg_encode(&drv->wire, &m, b, sizeof(b));
        CU_ASSERT_EQUAL_FATAL(vmsg_bus_send(drv, b, (size_t)len, 0), 0);
    }
    for (;;) {
        int rc = vmsg_devbus_poll(&db, 0);

        CU_ASSERT_FATAL(rc >= 0 && rc <= VMSG_DEVBUS_POLL_BUDGET);
        total += rc;
        calls++;
        if (!db.backlog)
            break;
    }
    CU_ASSERT_EQUAL(total, (int)n);
    CU_ASSERT_EQUAL(calls, 3);
    for (uint32_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL_FATAL(vmsg_bus_recv(drv, r, sizeof(r)), 12);
        CU_ASSERT_EQUAL(vmsg_get_le32(r + 8), i);
    }
    vmsg_devbus_destroy(&db);
    vmsg_loopback_destroy(&lb);
}

/* ---- the outbox, on a bus whose room the test opens and closes ------------ */

#define GATE_MAX 16

struct gate_bus {
    struct vmsg_bus bus;
    bool room;                          /* send takes messages */
    uint8_t sent[GATE_MAX][64];
    unsigned nsent;
    uint8_t in[GATE_MAX][64];           /* requests waiting for the device */
    size_t in_len[GATE_MAX];
    unsigned in_head, in_n;
};

static struct gate_bus *gate_of(struct vmsg_bus *b)
{
    return container_of(b, struct gate_bus, bus);
}

static int gate_send(struct vmsg_bus *b, const void *msg, size_t len, int timeout_ms)
{
    struct gate_bus *g = gate_of(b);

    (void)timeout_ms;
    if (!g->room)
        return -ETIMEDOUT;
    CU_ASSERT_FATAL(g->nsent < GATE_MAX && len <= 64);
    memcpy(g->sent[g->nsent++], msg, len);
    return 0;
}

static int gate_recv(struct vmsg_bus *b, void *buf, size_t cap)
{
    struct gate_bus *g = gate_of(b);
    size_t len;

    (void)cap;
    if (!g->in_n)
        return 0;
    len = g->in_len[g->in_head];
    memcpy(buf, g->in[g->in_head], len);
    g->in_head++;
    g->in_n--;
    return (int)len;
}

static int gate_wait(struct vmsg_bus *b, int timeout_ms)
{
    (void)timeout_ms;
    return gate_of(b)->in_n ? 1 : 0;
}

static const struct vmsg_bus_ops gate_ops = { .send = gate_send, .recv = gate_recv,
                                              .wait = gate_wait };

static void gate_ping(struct gate_bus *g, uint16_t token)
{
    struct vmsg_msg m = { .kind = VMSG_K_BUS_PING_REQ, .hdr.token = token };
    unsigned at = g->in_head + g->in_n;
    int len = vmsg_encode(&g->bus.wire, &m, g->in[at], sizeof(g->in[at]));

    CU_ASSERT_FATAL(len > 0 && at < GATE_MAX);
    g->in_len[at] = (size_t)len;
    g->in_n++;
}

static void gate_used(struct vmsg_devbus *db, uint32_t vq)
{
    struct vmsg_msg ev = { .kind = VMSG_K_EVENT_USED };

    ev.u.event_used.vq_index = vq;
    CU_ASSERT_EQUAL(vmsg_devbus_send(db, &ev), 0);
}

/* What the bus had no room for is held in order (answers and events), an
 * EVENT_USED already held is not held twice, no request is read while
 * anything is held, and a reset forgets what was held. */
static void devbus_outbox_keeps_order_coalesces_and_resets(void)
{
    static struct gate_bus g;
    struct vmsg_devbus db;

    memset(&g, 0, sizeof(g));
    g.bus.ops = &gate_ops;
    g.bus.wire.layout = VMSG_LAYOUT_V1;
    g.bus.wire.max_msg_size = 264;
    CU_ASSERT_EQUAL_FATAL(vmsg_devbus_init(&db, &g.bus), 0);
    gate_ping(&g, 1);
    gate_ping(&g, 2);
    gate_ping(&g, 3);
    /* The first answer finds no room: held, and reading stops. */
    CU_ASSERT_EQUAL(vmsg_devbus_poll(&db, 0), 1);
    CU_ASSERT_EQUAL(g.in_n, 2);
    CU_ASSERT_TRUE(vmsg_devbus_held(&db));
    gate_used(&db, 0);
    gate_used(&db, 0);                      /* says nothing new */
    gate_used(&db, 1);
    CU_ASSERT_EQUAL(db.stats.held, 3);
    CU_ASSERT_EQUAL(vmsg_devbus_poll(&db, 0), 0);     /* still no room */
    CU_ASSERT_EQUAL(g.in_n, 2);
    /* Room: the held ones go first, in order, then the reading resumes. */
    g.room = true;
    CU_ASSERT_EQUAL(vmsg_devbus_poll(&db, 0), 2);
    CU_ASSERT_EQUAL_FATAL(g.nsent, 5);
    CU_ASSERT_EQUAL(vmsg_get_le16(g.sent[0] + 4), 1);           /* answer 1 */
    CU_ASSERT_EQUAL(g.sent[1][1], g.sent[2][1]);                /* two EVENT_USED */
    CU_ASSERT_EQUAL(vmsg_get_le32(g.sent[1] + 8), 0);
    CU_ASSERT_EQUAL(vmsg_get_le32(g.sent[2] + 8), 1);
    CU_ASSERT_EQUAL(vmsg_get_le16(g.sent[3] + 4), 2);
    CU_ASSERT_EQUAL(vmsg_get_le16(g.sent[4] + 4), 3);
    CU_ASSERT_EQUAL(db.stats.sent, 5);
    CU_ASSERT_FALSE(vmsg_devbus_held(&db));
    /* Held for a connection that then resets: never sent afterwards. */
    g.room = false;
    gate_ping(&g, 4);
    CU_ASSERT_EQUAL(vmsg_devbus_poll(&db, 0), 1);
    vmsg_devbus_reset_all(&db);
    CU_ASSERT_FALSE(vmsg_devbus_held(&db));
    g.room = true;
    CU_ASSERT_EQUAL(vmsg_devbus_poll(&db, 0), 0);
    CU_ASSERT_EQUAL(g.nsent, 5);
    CU_ASSERT_EQUAL(db.stats.lost, 0);      /* dropped on reset, not by the peer */
    vmsg_devbus_destroy(&db);
}

static void register_suites(void)
{
    {
        VMSG_SUITE("conformance", NULL, NULL);
        VMSG_TEST(conf_reserved_type_bits_ignored_on_receive);
        VMSG_TEST(conf_every_frame_well_formed_and_exact_size);
        VMSG_TEST(conf_minimum_message_size_chunks_everything);
        VMSG_TEST(conf_dev_num_routes_to_the_right_device);
        VMSG_TEST(conf_token_opaque_when_bus_rewrites_it);
        VMSG_TEST(conf_device_echoes_request_token);
        VMSG_TEST(conf_unknown_event_ids_ignored_by_both_ends);
        VMSG_TEST(conf_malformed_messages_dropped_without_reply);
        VMSG_TEST(conf_truncated_set_vqueue_leaves_device_intact);
        VMSG_TEST(conf_no_reply_to_events);
        VMSG_TEST(conf_one_response_per_request_in_order);
        VMSG_TEST(conf_unanswered_request_fails_after_bounded_timeout);
        VMSG_TEST(conf_late_answer_to_timed_out_request_not_taken);
        VMSG_TEST(conf_peer_gone_is_an_error_not_a_hang);
        VMSG_TEST(conf_absent_device_number_gets_no_answer);
        VMSG_TEST(conf_get_devices_finds_sparse_numbers);
        VMSG_TEST(conf_get_devices_window_rules);
        VMSG_TEST(conf_ping_echoes_data_exactly);
        VMSG_TEST(conf_event_device_ready_and_removed);
        VMSG_TEST(conf_device_info_answered_before_status_and_consistent);
        VMSG_TEST(conf_config_access_bounded_by_config_size);
        VMSG_TEST(conf_feature_blocks_beyond_64_bits_read_zero);
        VMSG_TEST(conf_features_ok_cleared_for_unoffered_bit);
        VMSG_TEST(conf_driver_fails_probe_when_device_refuses_features);
        VMSG_TEST(conf_set_vqueue_before_features_ok_ignored);
        VMSG_TEST(conf_get_vqueue_after_set_vqueue_identical);
        VMSG_TEST(conf_misaligned_or_reprogrammed_queue_refused);
        VMSG_TEST(conf_status_reported_accurately);
        VMSG_TEST(conf_driver_ok_refused_without_features_ok);
        VMSG_TEST(conf_no_queue_io_before_driver_ok);
        VMSG_TEST(conf_get_config_carries_current_generation);
        VMSG_TEST(conf_device_config_change_sends_event_with_generation);
        VMSG_TEST(conf_large_config_change_event_without_data);
        VMSG_TEST(conf_set_config_with_stale_generation_rejected);
        VMSG_TEST(conf_driver_rereads_generation_after_rejection);
        VMSG_TEST(conf_reset_vqueue_with_ring_reset_allows_reprogramming);
        VMSG_TEST(conf_reset_vqueue_without_ring_reset_answered_unchanged);
        VMSG_TEST(conf_status_zero_resets_device_and_queues);
        VMSG_TEST(conf_needs_reset_reported_by_status_and_event);
        VMSG_TEST(conf_event_avail_reaches_model_and_event_used_reaches_driver);
        VMSG_TEST(conf_event_used_not_sent_before_driver_ok);
        VMSG_TEST(conf_get_shm_absent_region_length_zero);
    }
    {
        VMSG_SUITE("pool and loopback", NULL, NULL);
        VMSG_TEST(queue_that_fails_to_start_is_forgotten_and_needs_reset);
        VMSG_TEST(devbus_destroy_hands_devices_to_release);
        VMSG_TEST(detach_removed_then_driver_reset_destroys_before_timeout);
        VMSG_TEST(detach_silent_driver_destroyed_at_timeout);
        VMSG_TEST(detach_then_reattach_with_the_same_number);
        VMSG_TEST(detach_get_devices_excludes_a_leaving_device);
        VMSG_TEST(pool_small_allocations_never_cross_4k);
        VMSG_TEST(pool_alignment_free_and_reuse);
        VMSG_TEST(loopback_device_map_is_bounds_checked);
        VMSG_TEST(bus_trace_hook_sees_both_directions);
        VMSG_TEST(devbus_poll_work_is_bounded_per_call);
        VMSG_TEST(devbus_outbox_keeps_order_coalesces_and_resets);
    }
}

int main(int argc, char **argv)
{
    vmsg_log_init("test-transport", false, VMSG_LOG_ERR);
    return vmsg_test_main_report(argc, argv, register_suites, conformance);
}
