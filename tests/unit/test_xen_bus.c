/*
 * tests/unit/test_xen_bus.c: the two ends of a Xen bus instance
 * (lib/xen/xen_bus_back.h, xen_bus_front.h) on the fake platform: the
 * XenbusState handshake (docs/protocol.md section 3) both ways, every way
 * a connection ends and comes back, and finally the virtio-msg device and
 * driver transports talking over it, each end in its own thread.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "proto/vmsg_le.h"
#include "test_xen_env.h"
#include "transport/vmsg_device.h"
#include "transport/vmsg_driver.h"
#include "util/vmsg_log.h"
#include "vmsg_test.h"
#include "xen/xen_bus_back.h"
#include "xen/xen_bus_front.h"

#define F_DIR "/local/domain/3/device/virtio-msg/0"
#define B_DIR "/local/domain/1/backend/virtio-msg/3/0"
#define POOL_PAGES 16u

static struct fake_xen *fx;
static struct vmsg_platform *tool, *bep, *fep;
static struct vmsg_xen_back *back;
static struct vmsg_xen_front *front;
static int resets;

static void on_reset(struct vmsg_xen_back *b, void *opaque)
{
    (void)b;
    (*(int *)opaque)++;
}

static void up(void)
{
    struct vmsg_xen_back_hooks hooks = { .reset = on_reset, .opaque = &resets };

    resets = 0;
    fx = fake_xen_new();
    CU_ASSERT_FATAL(fx != NULL);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_BE, "driver") == 0);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_FE, "guest") == 0);
    CU_ASSERT_FATAL(env_open(fx, 0, &tool) == 0);
    CU_ASSERT_FATAL(env_open(fx, ENV_BE, &bep) == 0);
    CU_ASSERT_FATAL(env_open(fx, ENV_FE, &fep) == 0);
    CU_ASSERT_FATAL(env_toolstack_create(tool, ENV_BE, ENV_FE, 0) == 0);
    CU_ASSERT_FATAL(vmsg_xen_back_open(&back, bep, ENV_FE, 0, NULL, &hooks) == 0);
    CU_ASSERT_FATAL(vmsg_xen_front_open(&front, fep, 0, POOL_PAGES, 0) == 0);
}

static void down(void)
{
    /* The backend first: with nobody stepping it, a frontend's close would
     * wait VMSG_XEN_FRONT_CLOSE_WAIT_MS for it to answer Closing. */
    if (back)
        vmsg_xen_back_close(back);
    if (front)
        vmsg_xen_front_close(front);
    front = NULL;
    back = NULL;
    /* Teardown leaves nothing mapped, shared or bound. */
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    CU_ASSERT_EQUAL(fake_xen_shared_pages(fx, ENV_FE), 0);
    vmsg_plat_close(fep);
    vmsg_plat_close(bep);
    vmsg_plat_close(tool);
    fake_xen_free(fx);
}

static bool is(const char *path, const char *want)
{
    return env_is(tool, path, want);
}

/* Drive both ends by hand, one step each, as two event loops would. */
static void handshake(void)
{
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_INITIALISED);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CONNECTED);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CONNECTED);
}

/* ---- handshake -------------------------------------------------------------------- */

static void handshake_connects_both_ends(void)
{
    up();
    CU_ASSERT(is(B_DIR "/state", "2"));
    CU_ASSERT(is(B_DIR "/max-msg-size", "264"));
    CU_ASSERT(is(F_DIR "/state", "1"));
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_INITIALISED);
    CU_ASSERT(is(F_DIR "/state", "3"));
    CU_ASSERT(is(F_DIR "/version", "1"));
    CU_ASSERT(is(F_DIR "/pool-pages", "16"));
    CU_ASSERT_FALSE(vmsg_xen_front_connected(front));
    /* Not connected: the frontend writes nothing yet. */
    uint8_t m[8] = { 0, 3, 0, 0, 0, 0, 8, 0 };
    CU_ASSERT_EQUAL(vmsg_bus_send(vmsg_xen_front_bus(front), m, 8, 0), -EPIPE);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CONNECTED);
    CU_ASSERT(is(B_DIR "/state", "4"));
    CU_ASSERT(vmsg_xen_back_connected(back));
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), POOL_PAGES + 1);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CONNECTED);
    CU_ASSERT(is(F_DIR "/state", "4"));
    CU_ASSERT(vmsg_xen_front_connected(front));
    /* Spurious updates change nothing. */
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CONNECTED);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CONNECTED);
    CU_ASSERT_EQUAL(resets, 0);
    down();
}

static void frontend_close_and_reconnect(void)
{
    up();
    handshake();
    CU_ASSERT_EQUAL(vmsg_xen_front_begin_close(front), 0);
    CU_ASSERT(is(F_DIR "/state", "5"));
    /* The backend follows: reset, unmap, Closed. */
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CLOSED);
    CU_ASSERT_EQUAL(resets, 1);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    /* The frontend ungrants and is Closed; then the backend waits again. */
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CLOSED);
    CU_ASSERT_EQUAL(fake_xen_shared_pages(fx, ENV_FE), 0);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    /* Starting again publishes new grants. */
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_INITIALISED);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CONNECTED);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CONNECTED);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), POOL_PAGES + 1);
    down();
}

static void frontend_death_is_followed_and_a_new_frontend_connects(void)
{
    up();
    handshake();
    /* The guest's process dies: its grants go with unmap notification. */
    vmsg_plat_close(fep);
    free(front->be_error);
    pthread_mutex_destroy(&front->plat_lock);
    vmsg_pool_destroy(&front->pool.alloc);
    free(front);
    front = NULL;
    uint8_t buf[300];
    CU_ASSERT_EQUAL(vmsg_bus_wait(vmsg_xen_back_bus(back), 1000), 1);
    CU_ASSERT_EQUAL(vmsg_bus_recv(vmsg_xen_back_bus(back), buf, sizeof(buf)), -EPIPE);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CLOSED);
    CU_ASSERT_EQUAL(resets, 1);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    /* F still says Connected: the backend waits. */
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CLOSED);
    /* A new process starts from Initialising, which lets the backend go. */
    CU_ASSERT_FATAL(env_open(fx, ENV_FE, &fep) == 0);
    CU_ASSERT_FATAL(vmsg_xen_front_open(&front, fep, 0, POOL_PAGES, 0) == 0);
    CU_ASSERT(is(F_DIR "/state", "1"));
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_INITIALISED);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CONNECTED);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CONNECTED);
    down();
}

static void backend_restart_is_seen_and_the_frontend_reconnects(void)
{
    struct vmsg_xen_back_hooks hooks = { .reset = on_reset, .opaque = &resets };

    up();
    handshake();
    vmsg_xen_back_close(back);
    back = NULL;
    CU_ASSERT(is(B_DIR "/state", "6"));
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), -EPIPE);
    CU_ASSERT(is(F_DIR "/state", "6"));
    CU_ASSERT_FALSE(vmsg_xen_front_connected(front));
    CU_ASSERT_EQUAL(fake_xen_shared_pages(fx, ENV_FE), 0);
    /* A new backend process takes the instance on again. */
    CU_ASSERT_FATAL(vmsg_xen_back_open(&back, bep, ENV_FE, 0, NULL, &hooks) == 0);
    handshake();
    down();
}

/* A killed backend's successor writes InitWait; if that is seen before
 * the unmap notification of the dead one, the connection is over all
 * the same. */
static void backend_back_in_initwait_ends_the_connection(void)
{
    up();
    handshake();
    CU_ASSERT_FATAL(vmsg_plat_xs_printf(tool, VMSG_XS_TX_NONE, B_DIR "/state", "2") == 0);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), -EPIPE);
    CU_ASSERT(is(F_DIR "/state", "6"));
    CU_ASSERT_FALSE(vmsg_xen_front_connected(front));
    down();
}

static void backend_refusal_is_reported_and_retried(void)
{
    up();
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_INITIALISED);
    /* Something rewrote F between publish and connect. */
    CU_ASSERT_EQUAL(vmsg_plat_xs_printf(fep, VMSG_XS_TX_NONE, F_DIR "/pool-dir-ref", "x"), 0);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    char *err = env_get(tool, B_DIR "/error");
    CU_ASSERT(err && strstr(err, "pool-dir-ref"));
    free(err);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    /* Not retried on spurious events for the same attempt. */
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), -EPROTO);
    CU_ASSERT(is(F_DIR "/state", "6"));
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    /* The next attempt works, and the error goes. */
    handshake();
    err = env_get(tool, B_DIR "/error");
    CU_ASSERT_PTR_NULL(err);
    free(err);
    down();
}

static void framing_error_closes_the_instance_until_reconnect(void)
{
    up();
    handshake();
    /* The guest writes a message whose msg_size breaks framing. */
    struct vmsg_xen_chan *c = &front->chan;
    uint8_t bad[8] = { 0, 3, 0, 0, 0, 0, 4, 0 };
    for (unsigned i = 0; i < 8; i++)
        c->wr_data[(c->wr_prod + i) & (c->wr_size - 1)] = bad[i];
    c->wr_prod += 8;
    __atomic_store_n(&c->wr->prod, c->wr_prod, __ATOMIC_RELEASE);
    uint8_t buf[300];
    CU_ASSERT_EQUAL(vmsg_bus_recv(vmsg_xen_back_bus(back), buf, sizeof(buf)), -EPROTO);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CLOSED);
    char *err = env_get(tool, B_DIR "/error");
    CU_ASSERT(err && strstr(err, "framing"));
    free(err);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), -EPIPE);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_INITIALISED);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CONNECTED);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CONNECTED);
    down();
}

static void offline_closes_the_backend_for_good(void)
{
    up();
    handshake();
    CU_ASSERT_EQUAL(vmsg_plat_xs_printf(tool, VMSG_XS_TX_NONE, B_DIR "/online", "0"), 0);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CLOSED);
    CU_ASSERT(vmsg_xen_back_finished(back));
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), -EPIPE);
    down();
}

static void destroyed_guest_is_released_without_waiting(void)
{
    up();
    handshake();
    CU_ASSERT_EQUAL(fake_xen_destroy_domain(fx, ENV_FE), 0);
    CU_ASSERT_FALSE(fake_xen_domain_released(fx, ENV_FE));  /* we still map it */
    CU_ASSERT_EQUAL(vmsg_xen_back_domain_gone(back), 0);
    CU_ASSERT(fake_xen_domain_released(fx, ENV_FE));
    char *v = env_get(tool, B_DIR "/state");
    CU_ASSERT_PTR_NULL(v);
    free(v);
    vmsg_xen_back_close(back);
    back = NULL;
    /* The dead guest's process can only be discarded. */
    vmsg_plat_close(fep);
    pthread_mutex_destroy(&front->plat_lock);
    free(front->be_error);
    vmsg_pool_destroy(&front->pool.alloc);
    free(front);
    front = NULL;
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    vmsg_plat_close(bep);
    vmsg_plat_close(tool);
    fake_xen_free(fx);
}

static void frontend_refuses_a_backend_without_room(void)
{
    struct vmsg_xen_front *f2;

    up();
    vmsg_xen_front_close(front);
    front = NULL;
    CU_ASSERT_FATAL(vmsg_xen_front_open(&f2, fep, 0, 20000, 0) == 0);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(f2), -E2BIG);
    CU_ASSERT_EQUAL(fake_xen_shared_pages(fx, ENV_FE), 0);
    vmsg_xen_front_close(f2);
    down();
}

/* ---- transports over the bus ---------------------------------------------------- */

#define DEV_CONFIG 40

struct minidev {
    struct vmsg_device dev;
    uint8_t config[DEV_CONFIG];
};

static void md_read_config(struct vmsg_device *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
    memcpy(buf, ((struct minidev *)dev->model)->config + off, len);
}

static const struct vmsg_device_ops md_ops = { .read_config = md_read_config };

struct device_side {
    struct vmsg_devbus db;
    int stop_fd;
    int last_rc;
};

/* Sleeps as vmsg-backend does: on the bus fd alone, with no timeout, so a
 * wake-up the channel fails to arm hangs the driver's next request. */
static void *device_thread(void *arg)
{
    struct device_side *ds = arg;
    struct vmsg_bus *bus = ds->db.bus;

    for (;;) {
        struct pollfd pfd[2] = { { .fd = bus->ops->fd(bus), .events = POLLIN },
                                 { .fd = ds->stop_fd, .events = POLLIN } };
        int rc = vmsg_devbus_poll(&ds->db, 0);

        if (rc < 0) {
            ds->last_rc = rc;
            /* A daemon would now run vmsg_xen_back_update(). */
            break;
        }
        if (poll(pfd, 2, ds->db.backlog ? 0 : -1) < 0 && errno != EINTR) {
            ds->last_rc = -errno;
            break;
        }
        if (pfd[1].revents)
            break;
    }
    return NULL;
}

static void transports_talk_over_the_xen_bus(void)
{
    struct minidev md[2];
    struct device_side ds = { .stop_fd = eventfd(0, EFD_CLOEXEC) };
    struct vmsg_drvbus drv;
    struct vmsg_driver_dev dd;
    uint16_t nums[8];
    uint8_t cfg[DEV_CONFIG];
    pthread_t t;

    up();
    handshake();
    for (unsigned k = 0; k < 2; k++) {
        struct vmsg_device_desc d = {
            .name = "mini", .device_id = 4, .vendor_id = VMSG_VENDOR_ID_XEN,
            .features = 1ull << 32, .config_size = DEV_CONFIG, .num_queues = 1,
            .queue_max_size = 64,
        };
        for (unsigned i = 0; i < DEV_CONFIG; i++)
            md[k].config[i] = (uint8_t)(i * 3 + k);
        CU_ASSERT_FATAL(vmsg_device_init(&md[k].dev, &d, &md_ops, &md[k]) == 0);
    }
    CU_ASSERT_FATAL(vmsg_devbus_init(&ds.db, vmsg_xen_back_bus(back)) == 0);
    CU_ASSERT_FATAL(vmsg_devbus_add(&ds.db, 0, &md[0].dev, false) == 0);
    CU_ASSERT_FATAL(vmsg_devbus_add(&ds.db, 42, &md[1].dev, false) == 0);
    CU_ASSERT_FATAL(pthread_create(&t, NULL, device_thread, &ds) == 0);

    CU_ASSERT_FATAL(vmsg_drvbus_init(&drv, vmsg_xen_front_bus(front)) == 0);
    drv.timeout_ms = 3000;
    CU_ASSERT_EQUAL(vmsg_drvbus_ping(&drv, 0xdeadbeef), 0);
    CU_ASSERT_EQUAL(vmsg_drvbus_get_devices(&drv, nums, 8), 2);
    CU_ASSERT(nums[0] == 0 && nums[1] == 42);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_probe(&drv, 42, &dd), 0);
    CU_ASSERT_EQUAL(dd.info.device_id, 4);
    CU_ASSERT_EQUAL(dd.info.config_size, DEV_CONFIG);
    CU_ASSERT_EQUAL(vmsg_drv_negotiate(&dd, 1ull << 32), 0);
    CU_ASSERT_EQUAL(dd.features, 1ull << 32);
    CU_ASSERT_EQUAL(vmsg_drv_read_config(&dd, 0, cfg, DEV_CONFIG), 0);
    CU_ASSERT(memcmp(cfg, md[1].config, DEV_CONFIG) == 0);
    /* Memory the driver allocates is what the device maps. */
    uint64_t addr;
    void *ptr;
    struct vmsg_mapping m;
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(vmsg_xen_front_bus(front), 256, 64, &addr, &ptr), 0);
    memset(ptr, 0x77, 256);
    CU_ASSERT_EQUAL(vmsg_bus_map(vmsg_xen_back_bus(back), addr, 256, true, &m), 0);
    CU_ASSERT(m.ptr && m.ptr[0] == 0x77 && m.ptr[255] == 0x77);
    vmsg_bus_unmap(vmsg_xen_back_bus(back), &m);
    vmsg_bus_free(vmsg_xen_front_bus(front), addr, 256);
    /* Many requests in a row: the notify bits never lose a wake-up (a
     * lost one times the ping out, since the device never re-checks). */
    for (unsigned i = 0; i < 500; i++)
        CU_ASSERT_EQUAL_FATAL(vmsg_drvbus_ping(&drv, i), 0);
    vmsg_drv_release(&dd);
    vmsg_drvbus_destroy(&drv);

    CU_ASSERT_FATAL(write(ds.stop_fd, &(uint64_t){ 1 }, sizeof(uint64_t)) == sizeof(uint64_t));
    pthread_join(t, NULL);
    close(ds.stop_fd);
    CU_ASSERT_EQUAL(ds.last_rc, 0);
    CU_ASSERT_EQUAL(ds.db.stats.dropped_malformed, 0);
    /* The frontend closes; the backend resets the devices and follows. */
    CU_ASSERT_EQUAL(vmsg_xen_front_begin_close(front), 0);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_CLOSED);
    CU_ASSERT_EQUAL(resets, 1);
    CU_ASSERT_EQUAL(vmsg_xen_front_step(front), VMSG_XB_CLOSED);
    CU_ASSERT_EQUAL(vmsg_xen_back_update(back), VMSG_XB_INITWAIT);
    vmsg_devbus_destroy(&ds.db);
    down();
}

/*
 * A guest merely slow to read: it has many requests in flight and leaves
 * its left ring full for longer than any send timeout. The backend stops
 * reading while it cannot answer (back-pressure) and holds the answer it
 * could not write; once the guest reads, every request gets exactly its
 * one response, in order, and the device side never gave up.
 */
#define SLOW_READER_REQUESTS 150u

static void slow_reader_gets_every_response(void)
{
    struct minidev md;
    struct device_side ds = { .stop_fd = eventfd(0, EFD_CLOEXEC) };
    struct vmsg_bus *fbus;
    uint8_t b[VMSG_LIMIT_MAX_MSG_SIZE];
    pthread_t t;
    unsigned got = 0;

    up();
    handshake();
    struct vmsg_device_desc d = {
        .name = "mini", .device_id = 4, .vendor_id = VMSG_VENDOR_ID_XEN,
        .features = 1ull << 32, .config_size = DEV_CONFIG, .num_queues = 1,
        .queue_max_size = 64,
    };
    CU_ASSERT_FATAL(vmsg_device_init(&md.dev, &d, &md_ops, &md) == 0);
    CU_ASSERT_FATAL(vmsg_devbus_init(&ds.db, vmsg_xen_back_bus(back)) == 0);
    CU_ASSERT_FATAL(vmsg_devbus_add(&ds.db, 0, &md.dev, false) == 0);
    CU_ASSERT_FATAL(pthread_create(&t, NULL, device_thread, &ds) == 0);

    /* 150 PINGs of 12 bytes: more answers than the 1024-byte left ring
     * holds, fewer requests than it and the 2048-byte right ring hold
     * together, so sending all of them needs no reading. */
    fbus = vmsg_xen_front_bus(front);
    for (uint32_t i = 0; i < SLOW_READER_REQUESTS; i++) {
        struct vmsg_msg m = { .kind = VMSG_K_BUS_PING_REQ, .hdr.token = (uint16_t)i };
        m.u.ping_req.data = 0x1000 + i;
        int len = vmsg_encode(&fbus->wire, &m, b, sizeof(b));
        CU_ASSERT_FATAL(len > 0);
        CU_ASSERT_EQUAL_FATAL(vmsg_bus_send(fbus, b, (size_t)len, 5000), 0);
    }
    /* Slow: longer than any timeout the backend might give up after. */
    sleep(3);
    while (got < SLOW_READER_REQUESTS) {
        int len = vmsg_bus_recv(fbus, b, sizeof(b));

        if (len == 0) {
            if (vmsg_bus_wait(fbus, 2000) <= 0)
                break;
            continue;
        }
        CU_ASSERT_EQUAL_FATAL(len, 12);
        CU_ASSERT_EQUAL(vmsg_get_le16(b + 4), got);             /* token */
        CU_ASSERT_EQUAL(vmsg_get_le32(b + 8), 0x1000 + got);    /* data */
        got++;
    }
    CU_ASSERT_EQUAL(got, SLOW_READER_REQUESTS);
    vmsg_bus_wait(fbus, 200);                       /* a kick may come: spurious */
    CU_ASSERT_EQUAL(vmsg_bus_recv(fbus, b, sizeof(b)), 0);  /* and not one more */

    CU_ASSERT_FATAL(write(ds.stop_fd, &(uint64_t){ 1 }, sizeof(uint64_t)) == sizeof(uint64_t));
    pthread_join(t, NULL);
    close(ds.stop_fd);
    CU_ASSERT_EQUAL(ds.last_rc, 0);
    CU_ASSERT_EQUAL(ds.db.stats.sent, SLOW_READER_REQUESTS);
    vmsg_devbus_destroy(&ds.db);
    down();
}

static void register_suites(void)
{
    vmsg_log_init("test-xen-bus", false, VMSG_LOG_ERR);
    {
        VMSG_SUITE("xen_bus_handshake", NULL, NULL);
        VMSG_TEST(handshake_connects_both_ends);
        VMSG_TEST(frontend_close_and_reconnect);
        VMSG_TEST(frontend_death_is_followed_and_a_new_frontend_connects);
        VMSG_TEST(backend_restart_is_seen_and_the_frontend_reconnects);
        VMSG_TEST(backend_back_in_initwait_ends_the_connection);
        VMSG_TEST(backend_refusal_is_reported_and_retried);
        VMSG_TEST(framing_error_closes_the_instance_until_reconnect);
        VMSG_TEST(offline_closes_the_backend_for_good);
        VMSG_TEST(destroyed_guest_is_released_without_waiting);
        VMSG_TEST(frontend_refuses_a_backend_without_room);
    }
    {
        VMSG_SUITE("xen_bus_transports", NULL, NULL);
        VMSG_TEST(transports_talk_over_the_xen_bus);
        VMSG_TEST(slow_reader_gets_every_response);
    }
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
