/*
 * tests/unit/test_front_restart.c: libvmsg-front and the blk driver riding
 * out a backend restart, on the fake platform. A backend "process" (its
 * own platform handle, the Xen bus backend end, a devbus with a blk model
 * on a file, one thread) serves the guest; mid-stream it is killed as
 * SIGKILL would: nothing is closed, its platform handle goes, which tears
 * its mappings down with unmap notification. A second process takes the
 * instance on; the guest's writes that were in flight complete, the rest
 * of the stream follows, and both the guest (over the bus) and the file
 * hold exactly the data.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/devices/vmsg_devices.h"
#include "drivers/vmsg_drivers.h"
#include "test_xen_env.h"
#include "transport/vmsg_device.h"
#include "util/vmsg_log.h"
#include "vmsg_front.h"
#include "vmsg_test.h"
#include "xen/xen_bus_back.h"
#include "xen/xen_schema.h"

#define B_DIR "/local/domain/1/backend/virtio-msg/3/0"
#define DISK_SECTORS 8192u          /* 4 MiB */
#define STREAM_BYTES (2u << 20)
#define PIECE (32u << 10)
#define IN_FLIGHT 4u

static struct fake_xen *fx;
static char disk_path[64];

/* ---- a backend process ------------------------------------------------------------ */

struct backend {
    struct vmsg_platform *plat;
    struct vmsg_xen_back *back;
    struct vmsg_devbus db;
    struct vmsg_device *blk;
    pthread_t thread;
    bool running;
    volatile bool stop;
};

static void on_reset(struct vmsg_xen_back *b, void *opaque)
{
    (void)b;
    vmsg_devbus_reset_all(opaque);
}

/* The daemon's loop for one instance, with short sleeps. */
static void *backend_thread(void *arg)
{
    struct backend *be = arg;
    struct vmsg_bus *bus = vmsg_xen_back_bus(be->back);

    while (!be->stop) {
        struct pollfd pfd[8];
        int fds[6];
        int n = vmsg_device_model_fds(be->blk, fds, 6);

        pfd[0] = (struct pollfd){ .fd = vmsg_xen_back_watch_fd(be->back), .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = bus->ops->fd(bus), .events = POLLIN };
        for (int i = 0; i < n; i++)
            pfd[i + 2] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        poll(pfd, (nfds_t)n + 2, be->db.backlog ? 0 : 5);
        vmsg_xen_back_update(be->back);
        if (vmsg_xen_back_connected(be->back) && vmsg_devbus_poll(&be->db, 0) < 0)
            vmsg_xen_back_update(be->back);
        for (int i = 0; i < n; i++)
            if (pfd[i + 2].revents)
                vmsg_device_model_fd_ready(be->blk, fds[i]);
    }
    return NULL;
}

static void backend_start(struct backend *be)
{
    struct vmsg_param p[] = { { "path", disk_path }, { "io", "threads" } };
    struct vmsg_xen_back_hooks hooks = { .reset = on_reset, .opaque = &be->db };

    memset(be, 0, sizeof(*be));
    CU_ASSERT_FATAL(env_open(fx, ENV_BE, &be->plat) == 0);
    CU_ASSERT_FATAL(vmsg_device_model_create("blk", p, 2, &be->blk) == 0);
    CU_ASSERT_FATAL(vmsg_xen_back_open(&be->back, be->plat, ENV_FE, 0, NULL, &hooks) == 0);
    CU_ASSERT_FATAL(vmsg_devbus_init(&be->db, vmsg_xen_back_bus(be->back)) == 0);
    be->db.release = vmsg_device_model_destroy;
    CU_ASSERT_FATAL(vmsg_devbus_add(&be->db, 0, be->blk, false) == 0);
    CU_ASSERT_FATAL(vmsg_plat_xs_printf(be->plat, VMSG_XS_TX_NONE, B_DIR "/devices/0/state",
                                        "4") == 0);
    CU_ASSERT_FATAL(pthread_create(&be->thread, NULL, backend_thread, be) == 0);
    be->running = true;
}

/* The process stops serving (it hangs, or is about to die). */
static void backend_pause(struct backend *be)
{
    if (!be->running)
        return;
    be->stop = true;
    pthread_join(be->thread, NULL);
    be->running = false;
}

/* SIGKILL: the process stops where it is; the kernel drops its handles
 * (the grant mappings with their unmap notification) and nothing of it
 * writes xenstore again. Only then is its memory given back here. */
static void backend_kill(struct backend *be)
{
    struct vmsg_xen_back *b = be->back;

    backend_pause(be);
    vmsg_plat_close(be->plat);
    /* What the dead process held, freed without a call into Xen. */
    vmsg_devbus_destroy(&be->db);
    pthread_mutex_destroy(&b->mem.lock);
    pthread_mutex_destroy(&b->chan.send_lock);
    pthread_mutex_destroy(&b->plat_lock);
    free(b);
}

static void backend_stop(struct backend *be)
{
    backend_pause(be);
    vmsg_xen_back_close(be->back);
    vmsg_devbus_destroy(&be->db);
    vmsg_plat_close(be->plat);
}

/* Starts the second backend process a while after the first died. */
static void *restarter(void *arg)
{
    struct timespec ts = { 0, 300 * 1000000L };

    nanosleep(&ts, NULL);
    backend_start(arg);
    return NULL;
}

/* ---- the guest ---------------------------------------------------------------------- */

static int reconnect_bus(void *opaque, uint32_t since)
{
    return vmsg_front_reconnect(opaque, since);
}

static uint32_t bus_connection(void *opaque)
{
    return vmsg_front_connection(opaque);
}

static void make_data(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 131 + (i >> 12) * 7 + 1);
}

static struct vmsg_front *guest_open(int reconnect_ms, struct vmsg_blk **blk)
{
    struct vmsg_front_opts o = { .timeout_ms = 3000, .pool_pages = 64,
                                 .reconnect_ms = reconnect_ms };
    struct vmsg_platform *fep = NULL;
    struct vmsg_front *f;

    CU_ASSERT_FATAL(env_open(fx, ENV_FE, &fep) == 0);
    CU_ASSERT_FATAL(vmsg_front_open_platform(&f, fep, 0, &o) == 0);
    CU_ASSERT_EQUAL(vmsg_front_connection(f), 1);
    CU_ASSERT_FATAL(vmsg_blk_open(vmsg_front_drvbus(f), 0, 1, blk) == 0);
    if (reconnect_ms)
        vmsg_blk_set_reconnect(*blk, &(struct vmsg_drv_reconnect){
                                         .reconnect = reconnect_bus,
                                         .connection = bus_connection, .opaque = f });
    return f;
}

static void up(void)
{
    struct vmsg_platform *tool = NULL;
    int fd;

    snprintf(disk_path, sizeof(disk_path), "/tmp/vmsg-test-restart-%d.img", (int)getpid());
    fd = open(disk_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0 && ftruncate(fd, (off_t)DISK_SECTORS * 512) == 0);
    close(fd);
    fx = fake_xen_new();
    CU_ASSERT_FATAL(fx != NULL);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_BE, "driver") == 0);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_FE, "guest") == 0);
    CU_ASSERT_FATAL(env_open(fx, 0, &tool) == 0);
    CU_ASSERT_FATAL(env_toolstack_create(tool, ENV_BE, ENV_FE, 0) == 0);
    CU_ASSERT_FATAL(vmsg_plat_xs_printf(tool, VMSG_XS_TX_NONE, B_DIR "/devices/0/type",
                                        "blk") == 0);
    vmsg_plat_close(tool);
}

static void down(void)
{
    fake_xen_free(fx);
    unlink(disk_path);
}

static bool file_holds(const uint8_t *want, size_t len)
{
    uint8_t *got = malloc(len);
    int fd = open(disk_path, O_RDONLY);
    bool same = got && fd >= 0 && pread(fd, got, len, 0) == (ssize_t)len &&
                memcmp(got, want, len) == 0;

    if (fd >= 0)
        close(fd);
    free(got);
    return same;
}

/* ---- tests -------------------------------------------------------------------------- */

static void stream_survives_a_killed_backend(void)
{
    uint8_t *data = malloc(STREAM_BYTES), *back = calloc(1, STREAM_BYTES);
    struct vmsg_blk_req *r[IN_FLIGHT];
    struct backend a, b;
    struct vmsg_front *f;
    struct vmsg_blk *blk;
    pthread_t t;
    size_t off = 0;

    CU_ASSERT_FATAL(data && back);
    make_data(data, STREAM_BYTES);
    up();
    backend_start(&a);
    f = guest_open(5000, &blk);
    /* The first half goes through the first backend, acknowledged. */
    for (; off < STREAM_BYTES / 2; off += PIECE)
        CU_ASSERT_EQUAL_FATAL(vmsg_blk_write(blk, 0, off / 512, data + off, PIECE / 512), 0);
    /* The backend stops serving: these sit in the ring, not done. */
    backend_pause(&a);
    for (unsigned i = 0; i < IN_FLIGHT; i++, off += PIECE) {
        CU_ASSERT_EQUAL_FATAL(vmsg_blk_start(blk, 0, true, off / 512, data + off, PIECE / 512,
                                             &r[i]), 0);
    }
    backend_kill(&a);
    CU_ASSERT_FATAL(pthread_create(&t, NULL, restarter, &b) == 0);
    /* Each in-flight write completes, on the new backend. */
    for (unsigned i = 0; i < IN_FLIGHT; i++)
        CU_ASSERT_EQUAL(vmsg_blk_wait(blk, r[i]), 0);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(vmsg_front_connection(f), 2);
    CU_ASSERT_EQUAL(vmsg_blk_reconnects(blk), 1);
    for (; off < STREAM_BYTES; off += PIECE)
        CU_ASSERT_EQUAL_FATAL(vmsg_blk_write(blk, 0, off / 512, data + off, PIECE / 512), 0);
    CU_ASSERT_EQUAL(vmsg_blk_flush(blk, 0), 0);
    for (off = 0; off < STREAM_BYTES; off += PIECE)
        CU_ASSERT_EQUAL_FATAL(vmsg_blk_read(blk, 0, off / 512, back + off, PIECE / 512), 0);
    CU_ASSERT(memcmp(back, data, STREAM_BYTES) == 0);
    CU_ASSERT(file_holds(data, STREAM_BYTES));
    vmsg_blk_close(blk);
    vmsg_front_close(f);
    backend_stop(&b);
    down();
    free(data);
    free(back);
}

static void without_reconnect_a_lost_backend_fails_the_request(void)
{
    uint8_t buf[4096] = { 1 };
    struct backend a;
    struct vmsg_front *f;
    struct vmsg_blk *blk;

    up();
    backend_start(&a);
    f = guest_open(0, &blk);
    CU_ASSERT_EQUAL(vmsg_blk_write(blk, 0, 0, buf, 8), 0);
    backend_kill(&a);
    CU_ASSERT_EQUAL(vmsg_blk_write(blk, 0, 8, buf, 8), -EPIPE);
    CU_ASSERT_EQUAL(vmsg_front_reconnect(f, 1), -ENOTCONN);
    vmsg_blk_close(blk);
    vmsg_front_close(f);
    down();
}

static void a_backend_that_does_not_come_back_times_out(void)
{
    uint8_t buf[4096] = { 1 };
    struct backend a;
    struct vmsg_front *f;
    struct vmsg_blk *blk;
    uint64_t t0;

    up();
    backend_start(&a);
    f = guest_open(400, &blk);
    backend_kill(&a);
    t0 = vmsg_now_ms();
    CU_ASSERT_EQUAL(vmsg_blk_write(blk, 0, 0, buf, 8), -ETIMEDOUT);
    CU_ASSERT(vmsg_now_ms() - t0 >= 400);
    CU_ASSERT(vmsg_now_ms() - t0 < 3000);
    CU_ASSERT_EQUAL(vmsg_front_connection(f), 1);
    vmsg_blk_close(blk);
    vmsg_front_close(f);
    down();
}

static void register_suites(void)
{
    vmsg_log_init("test-front-restart", false, VMSG_LOG_ERR);
    VMSG_SUITE("front_backend_restart", NULL, NULL);
    VMSG_TEST(stream_survives_a_killed_backend);
    VMSG_TEST(without_reconnect_a_lost_backend_fails_the_request);
    VMSG_TEST(a_backend_that_does_not_come_back_times_out);
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
