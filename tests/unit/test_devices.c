/*
 * tests/unit/test_devices.c: the device models end to end through the
 * loopback bus, driven by the userspace drivers: rng, console (pty, socket,
 * log), blk (both I/O engines, read-only, ranges, multi-queue), and hostile
 * rings, each of which must leave the device in DEVICE_NEEDS_RESET while
 * the device side carries on serving.
 *
 * The device end runs in tests/support/model_pump.c, a thread shaped like
 * the daemon's loop: one poll() over the bus fd and the model's fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/devices/vmsg_devices.h"
#include "proto/vmsg_le.h"
#include "frontend-shim/drivers/drv_common.h"
#include "frontend-shim/drivers/vmsg_drivers.h"
#include "tests/support/model_pump.h"
#include "tests/unit/virtq_hostile.h"
#include "tests/unit/vmsg_test.h"
#include "transport/vmsg_loopback.h"

#define MEM_SIZE (8u << 20)
#define DEV_NUM 7

struct rig {
    struct vmsg_loopback lb;
    struct vmsg_devbus db;
    struct vmsg_drvbus drv;
    struct vmsg_device *dev;
    struct model_pump pump;
};

static struct rig rig;

/* Create a device of `type` and serve it on a fresh loopback. */
static int rig_up(const char *type, const struct vmsg_param *p, unsigned n)
{
    int rc;

    memset(&rig, 0, sizeof(rig));
    if ((rc = vmsg_device_model_create(type, p, n, &rig.dev)) < 0)
        return rc;
    CU_ASSERT_EQUAL_FATAL(vmsg_loopback_init(&rig.lb, VMSG_RECOMMENDED_MAX_MSG_SIZE, MEM_SIZE), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_devbus_init(&rig.db, vmsg_loopback_device_bus(&rig.lb)), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_devbus_add(&rig.db, DEV_NUM, rig.dev, false), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_drvbus_init(&rig.drv, vmsg_loopback_driver_bus(&rig.lb)), 0);
    CU_ASSERT_EQUAL_FATAL(model_pump_start(&rig.pump, &rig.db, rig.dev), 0);
    return 0;
}

static void rig_down(void)
{
    model_pump_stop(&rig.pump);
    vmsg_drvbus_destroy(&rig.drv);
    struct vmsg_device *dev = vmsg_devbus_remove(&rig.db, DEV_NUM, false);
    CU_ASSERT_PTR_EQUAL(dev, rig.dev);
    vmsg_device_model_destroy(dev);
    vmsg_devbus_destroy(&rig.db);
    CU_ASSERT_EQUAL(rig.lb.maps_live, 0);
    vmsg_loopback_destroy(&rig.lb);
}

/* ---- registry ---------------------------------------------------------- */
static void test_registry_rejects_bad_params(void)
{
    struct vmsg_device *dev;
    struct vmsg_param typo[] = { { "pth", "/dev/null" } };
    struct vmsg_param nopath[] = { { "ro", "1" } };
    struct vmsg_param badq[] = { { "path", "/dev/null" }, { "num-queues", "17" } };
    struct vmsg_param two[] = { { "log", "/tmp/x" }, { "socket", "/tmp/y" } };
    struct vmsg_param dup[] = { { "rows", "1" }, { "rows", "2" } };
    struct vmsg_param notfile[] = { { "path", "/tmp" } };

    CU_ASSERT_EQUAL(vmsg_device_model_create("gpu", NULL, 0, &dev), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_device_model_create("rng", typo, 1, &dev), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_device_model_create("blk", typo, 1, &dev), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_device_model_create("blk", nopath, 1, &dev), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_device_model_create("blk", badq, 2, &dev), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_device_model_create("blk", notfile, 1, &dev), -EISDIR);
    CU_ASSERT_EQUAL(vmsg_device_model_create("console", two, 2, &dev), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_device_model_create("console", dup, 2, &dev), -EINVAL);
    CU_ASSERT_PTR_NULL(dev);
}

/* ---- rng ---------------------------------------------------------------- */
static void test_rng_gives_the_bytes_asked_for(void)
{
    struct vmsg_rng *r;
    static uint8_t buf[10000];
    size_t zeros = 0;

    CU_ASSERT_EQUAL_FATAL(rig_up("rng", NULL, 0), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_rng_open(&rig.drv, DEV_NUM, &r), 0);
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, 1), 1);
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++)
        zeros += buf[i] == 0;
    CU_ASSERT_TRUE(zeros < 200);    /* ~39 expected from random bytes */
    for (int i = 0; i < 300; i++)   /* round the ring a few times */
        CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, 33), 33);
    vmsg_rng_close(r);
    rig_down();
}

/* source=PATH: the bytes come from that file, in order, and a source that
 * runs dry completes buffers short (here empty) instead of hanging or
 * making bytes up. */
static void test_rng_source_file(void)
{
    char path[64];
    struct vmsg_rng *r;
    uint8_t want[100], buf[200];
    int fd;

    snprintf(path, sizeof(path), "/tmp/vmsg-test-rng-%d", (int)getpid());
    for (size_t i = 0; i < sizeof(want); i++)
        want[i] = (uint8_t)(i * 7 + 1);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL_FATAL(write(fd, want, sizeof(want)), (ssize_t)sizeof(want));
    close(fd);
    struct vmsg_param p[] = { { "source", path } };
    CU_ASSERT_EQUAL_FATAL(rig_up("rng", p, 1), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_rng_open(&rig.drv, DEV_NUM, &r), 0);
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, 60), 60);
    CU_ASSERT_EQUAL(memcmp(buf, want, 60), 0);
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, 40), 40);
    CU_ASSERT_EQUAL(memcmp(buf, want + 60, 40), 0);
    /* Dry: the device completes the buffer with 0 bytes, the driver says so. */
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, 10), -EIO);
    vmsg_rng_close(r);
    rig_down();
    unlink(path);
}

/* A source with nothing to give yet (an idle FIFO, a slow /dev/hwrng)
 * makes a short buffer at once; it must not block the device's thread. */
static void test_rng_source_never_blocks(void)
{
    char path[64];
    struct vmsg_rng *r;
    uint8_t buf[32];
    int wfd;

    snprintf(path, sizeof(path), "/tmp/vmsg-test-rng-fifo-%d", (int)getpid());
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    struct vmsg_param p[] = { { "source", path } };
    CU_ASSERT_EQUAL_FATAL(rig_up("rng", p, 1), 0);
    /* A writer that has written nothing: reads would block, not see EOF. */
    wfd = open(path, O_WRONLY | O_NONBLOCK);
    CU_ASSERT_FATAL(wfd >= 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_rng_open(&rig.drv, DEV_NUM, &r), 0);
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, sizeof(buf)), -EIO);
    CU_ASSERT_EQUAL(write(wfd, "0123456789abcdef", 16), 16);
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, sizeof(buf)), 16);
    CU_ASSERT_EQUAL(memcmp(buf, "0123456789abcdef", 16), 0);
    vmsg_rng_close(r);
    close(wfd);
    rig_down();
    unlink(path);
}

static void test_rng_source_refused(void)
{
    struct vmsg_device *dev = NULL;
    struct vmsg_param rel[] = { { "source", "dev/hwrng" } };
    struct vmsg_param missing[] = { { "source", "/nonexistent/vmsg-rng" } };

    CU_ASSERT_EQUAL(vmsg_device_model_create("rng", rel, 1, &dev), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_device_model_create("rng", missing, 1, &dev), -ENOENT);
    CU_ASSERT_PTR_NULL(dev);
}

/* VIRTIO_F_RING_RESET: a queue is reset and reprogrammed while the device
 * keeps running, and serves again from index 0. */
static void test_rng_queue_reset(void)
{
    struct drv_common c;
    struct drv_chain ch;
    uint64_t addr;
    void *ptr;
    struct vmsg_vq_buf b;
    struct vmsg_vqueue_info info;

    CU_ASSERT_EQUAL_FATAL(rig_up("rng", NULL, 0), 0);
    struct vmsg_bus *bus = vmsg_loopback_driver_bus(&rig.lb);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(bus, 64, 64, &addr, &ptr), 0);
    b = (struct vmsg_vq_buf){ addr, 64, true };
    CU_ASSERT_EQUAL_FATAL(drv_start(&c, &rig.drv, DEV_NUM, VIRTIO_ID_RNG, 0, 1, 16), 0);
    CU_ASSERT_TRUE(drv_has(&c, VIRTIO_F_RING_RESET));
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(drv_submit(&c, 0, &b, 1, &ch), 0);
        CU_ASSERT_EQUAL(drv_wait(&c, &ch, 2000), 0);
    }
    CU_ASSERT_EQUAL(vmsg_drv_reset_vqueue(&c.dev, 0), 0);
    CU_ASSERT_EQUAL(vmsg_drv_get_vqueue(&c.dev, 0, &info), 0);
    CU_ASSERT_EQUAL(info.cur_size, 0);
    vmsg_vq_drv_destroy(&c.vqs[0]);
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_drv_init(&c.vqs[0], bus, 0, 8, c.dev.features), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_drv_set_vqueue(&c.dev, 0, 8, c.vqs[0].desc_addr,
                                              c.vqs[0].avail_addr, c.vqs[0].used_addr), 0);
    CU_ASSERT_EQUAL(drv_submit(&c, 0, &b, 1, &ch), 0);
    CU_ASSERT_EQUAL(drv_wait(&c, &ch, 2000), 0);
    CU_ASSERT_EQUAL(ch.used_len, 64);
    drv_stop(&c);
    vmsg_bus_free(bus, addr, 64);
    rig_down();
}

/* ---- console -------------------------------------------------------------- */
/*
 * Host to guest first: a socket's connect() returns before the model has
 * accepted it, and output with no client yet is dropped (console.c), so
 * the guest's read of what the host typed is what proves the host end is
 * up before the guest writes. The host's reads are bounded by poll() so a
 * lost line fails the test instead of hanging it.
 */
static void console_round_trip(int host_fd)
{
    struct vmsg_console *c;
    char buf[64] = { 0 };
    ssize_t n, got = 0;

    CU_ASSERT_EQUAL_FATAL(vmsg_console_open(&rig.drv, DEV_NUM, &c), 0);
    CU_ASSERT_EQUAL(write(host_fd, "typed on the host", 17), 17);
    while (got < 17 && (n = vmsg_console_read(c, buf + got, sizeof(buf) - 1 - (size_t)got, 2000)) > 0)
        got += n;
    CU_ASSERT_EQUAL(got, 17);
    CU_ASSERT_STRING_EQUAL(buf, "typed on the host");
    /* Nothing more: a read times out with 0. */
    CU_ASSERT_EQUAL(vmsg_console_read(c, buf, sizeof(buf), 50), 0);

    CU_ASSERT_EQUAL(vmsg_console_write(c, "hello from the guest", 20), 20);
    memset(buf, 0, sizeof(buf));
    got = 0;
    while (got < 20) {
        struct pollfd pfd = { .fd = host_fd, .events = POLLIN };
        if (poll(&pfd, 1, 2000) != 1 ||
            (n = read(host_fd, buf + got, sizeof(buf) - 1 - (size_t)got)) <= 0)
            break;
        got += n;
    }
    CU_ASSERT_EQUAL(got, 20);
    CU_ASSERT_STRING_EQUAL(buf, "hello from the guest");
    vmsg_console_close(c);
}

static void test_console_pty_round_trip(void)
{
    struct vmsg_param p[] = { { "rows", "40" }, { "cols", "132" } };
    struct vmsg_console *c;
    uint16_t rows, cols;

    CU_ASSERT_EQUAL_FATAL(rig_up("console", p, 2), 0);
    const char *path = vmsg_console_host_path(rig.dev);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    int fd = open(path, O_RDWR | O_NOCTTY);
    CU_ASSERT_FATAL(fd >= 0);
    console_round_trip(fd);
    CU_ASSERT_EQUAL_FATAL(vmsg_console_open(&rig.drv, DEV_NUM, &c), 0);
    CU_ASSERT_EQUAL(vmsg_console_size(c, &rows, &cols), 0);
    CU_ASSERT_EQUAL(rows, 40);
    CU_ASSERT_EQUAL(cols, 132);
    vmsg_console_close(c);
    close(fd);
    rig_down();
}

static void test_console_socket_round_trip(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/vmsg-test-console-%d.sock", (int)getpid());
    struct vmsg_param p[] = { { "socket", path } };
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    CU_ASSERT_EQUAL_FATAL(rig_up("console", p, 1), 0);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    console_round_trip(fd);
    close(fd);
    rig_down();
    CU_ASSERT_EQUAL(access(path, F_OK), -1);    /* the socket is cleaned up */
}

static void test_console_log_file(void)
{
    char path[64], buf[64] = { 0 };
    snprintf(path, sizeof(path), "/tmp/vmsg-test-console-%d.log", (int)getpid());
    struct vmsg_param p[] = { { "log", path } };
    struct vmsg_console *c;

    unlink(path);
    CU_ASSERT_EQUAL_FATAL(rig_up("console", p, 1), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_console_open(&rig.drv, DEV_NUM, &c), 0);
    CU_ASSERT_EQUAL(vmsg_console_write(c, "boot log line\n", 14), 14);
    vmsg_console_close(c);
    rig_down();
    int fd = open(path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), 14);
    CU_ASSERT_STRING_EQUAL(buf, "boot log line\n");
    close(fd);
    unlink(path);
}

/* ---- blk ------------------------------------------------------------------ */
#define DISK_SECTORS 8192u      /* 4 MiB */

static char disk_path[64];

static int make_disk(void)
{
    snprintf(disk_path, sizeof(disk_path), "/tmp/vmsg-test-disk-%d.img", (int)getpid());
    int fd = open(disk_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)DISK_SECTORS * 512) < 0)
        return -1;
    close(fd);
    return 0;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 9));
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

/* Bring a blk device up on disk_path with engine `io`; false if that engine is not
 * available here (io_uring forbidden), which is reported and skipped. */
static bool blk_up(const char *io, const char *ro, const char *nq, struct vmsg_blk **b,
                   unsigned want_queues)
{
    struct vmsg_param p[] = {
        { "path", disk_path }, { "io", io }, { "serial", "vmsg-disk-0001" },
        { "ro", ro }, { "num-queues", nq },
    };
    int rc = rig_up("blk", p, 5);
    if (rc < 0 && strcmp(io, "uring") == 0) {
        fprintf(stderr, "\n  (io_uring refused here: %s; skipped)\n", strerror(-rc));
        return false;
    }
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    if (strcmp(io, "auto") != 0)
        CU_ASSERT_STRING_EQUAL(vmsg_blk_io_engine(rig.dev),
                               strcmp(io, "uring") == 0 ? "io_uring" : "threads");
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_open(&rig.drv, DEV_NUM, want_queues, b), 0);
    return true;
}

static void blk_read_write(const char *io)
{
    struct vmsg_blk *b;
    static uint8_t out[256 * 1024], in[256 * 1024];
    char id[21];

    if (make_disk() < 0 || !blk_up(io, "0", "1", &b, 1))
        return;
    CU_ASSERT_EQUAL(vmsg_blk_capacity(b), DISK_SECTORS);
    CU_ASSERT_FALSE(vmsg_blk_read_only(b));
    CU_ASSERT_EQUAL(vmsg_blk_get_id(b, id), 0);
    CU_ASSERT_STRING_EQUAL(id, "vmsg-disk-0001");

    fill(out, sizeof(out), 1);
    CU_ASSERT_EQUAL(vmsg_blk_write(b, 0, 100, out, sizeof(out) / 512), 0);
    CU_ASSERT_EQUAL(vmsg_blk_flush(b, 0), 0);
    CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, 100, in, sizeof(in) / 512), 0);
    CU_ASSERT_EQUAL(memcmp(in, out, sizeof(in)), 0);

    /* It reached the file. */
    int fd = open(disk_path, O_RDONLY);
    CU_ASSERT_EQUAL(pread(fd, in, 4096, 100 * 512), 4096);
    CU_ASSERT_EQUAL(memcmp(in, out, 4096), 0);
    close(fd);

    /* Discard and write zeroes read back as zeroes; neighbours untouched. */
    CU_ASSERT_EQUAL(vmsg_blk_discard(b, 0, 104, 8), 0);
    CU_ASSERT_EQUAL(vmsg_blk_write_zeroes(b, 0, 120, 16), 0);
    CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, 100, in, 64), 0);
    CU_ASSERT_EQUAL(memcmp(in, out, 4 * 512), 0);
    CU_ASSERT_TRUE(all_zero(in + 4 * 512, 8 * 512));
    CU_ASSERT_EQUAL(memcmp(in + 12 * 512, out + 12 * 512, 8 * 512), 0);
    CU_ASSERT_TRUE(all_zero(in + 20 * 512, 16 * 512));
    CU_ASSERT_EQUAL(memcmp(in + 36 * 512, out + 36 * 512, 28 * 512), 0);

    /* The last sector works, one past it does not (driver and device). */
    struct vmsg_blk_req *r;
    CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, DISK_SECTORS - 1, in, 1), 0);
    CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, DISK_SECTORS - 1, in, 2), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_blk_discard(b, 0, DISK_SECTORS, 1), -ERANGE);
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_start(b, 0, false, DISK_SECTORS - 1, in, 2, &r), 0);
    CU_ASSERT_EQUAL(vmsg_blk_wait(b, r), -EIO);
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_start(b, 0, true, UINT64_MAX - 1, out, 4, &r), 0);
    CU_ASSERT_EQUAL(vmsg_blk_wait(b, r), -EIO);
    /* Still serving after the refusals. */
    CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, 100, in, 4), 0);
    CU_ASSERT_EQUAL(memcmp(in, out, 4 * 512), 0);
    vmsg_blk_close(b);
    rig_down();
    unlink(disk_path);
}

static void test_blk_read_write_threads(void)
{
    blk_read_write("threads");
}

static void test_blk_read_write_uring(void)
{
    blk_read_write("uring");
}

static void test_blk_read_only(void)
{
    struct vmsg_blk *b, *rw;
    struct vmsg_blk_req *r;
    static uint8_t out[4096], in[4096];

    CU_ASSERT_EQUAL_FATAL(make_disk(), 0);
    /* Put known data there first. */
    if (!blk_up("auto", "0", "1", &rw, 1))
        return;
    fill(out, sizeof(out), 3);
    CU_ASSERT_EQUAL(vmsg_blk_write(rw, 0, 0, out, 8), 0);
    vmsg_blk_close(rw);
    rig_down();

    if (!blk_up("auto", "1", "1", &b, 1))
        return;
    CU_ASSERT_TRUE(vmsg_blk_read_only(b));
    CU_ASSERT_EQUAL(vmsg_blk_write(b, 0, 0, in, 8), -EROFS);
    CU_ASSERT_EQUAL(vmsg_blk_discard(b, 0, 0, 8), -ENOTSUP);   /* not offered when ro */
    memset(in, 0xaa, sizeof(in));
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_start(b, 0, true, 0, in, 8, &r), 0);
    CU_ASSERT_EQUAL(vmsg_blk_wait(b, r), -EIO);                 /* the device refuses too */
    CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, 0, in, 8), 0);
    CU_ASSERT_EQUAL(memcmp(in, out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(vmsg_blk_flush(b, 0), 0);
    vmsg_blk_close(b);
    rig_down();
    unlink(disk_path);
}

static void blk_multi_queue(const char *io)
{
    enum { NQ = 4, PER_Q = 8, SECTORS = 16 };
    struct vmsg_blk *b;
    struct vmsg_blk_req *r[NQ * PER_Q];
    static uint8_t out[NQ * PER_Q][SECTORS * 512], in[NQ * PER_Q][SECTORS * 512];

    if (make_disk() < 0 || !blk_up(io, "0", "4", &b, NQ))
        return;
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_num_queues(b), NQ);
    for (unsigned i = 0; i < NQ * PER_Q; i++) {
        fill(out[i], sizeof(out[i]), i + 10);
        CU_ASSERT_EQUAL_FATAL(vmsg_blk_start(b, i % NQ, true, i * SECTORS, out[i], SECTORS, &r[i]), 0);
    }
    for (unsigned i = 0; i < NQ * PER_Q; i++)
        CU_ASSERT_EQUAL(vmsg_blk_wait(b, r[i]), 0);
    for (unsigned i = 0; i < NQ * PER_Q; i++)
        CU_ASSERT_EQUAL_FATAL(vmsg_blk_start(b, (i + 1) % NQ, false, i * SECTORS, in[i], SECTORS, &r[i]), 0);
    for (unsigned i = NQ * PER_Q; i-- > 0;)
        CU_ASSERT_EQUAL(vmsg_blk_wait(b, r[i]), 0);
    for (unsigned i = 0; i < NQ * PER_Q; i++)
        CU_ASSERT_EQUAL(memcmp(in[i], out[i], sizeof(in[i])), 0);
    /* A driver that wants fewer queues gets fewer. */
    vmsg_blk_close(b);
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_open(&rig.drv, DEV_NUM, 2, &b), 0);
    CU_ASSERT_EQUAL(vmsg_blk_num_queues(b), 2);
    vmsg_blk_close(b);
    rig_down();
    unlink(disk_path);
}

static void test_blk_multi_queue_threads(void)
{
    blk_multi_queue("threads");
}

static void test_blk_multi_queue_uring(void)
{
    blk_multi_queue("uring");
}

/* ---- a pop that fails ---------------------------------------------------- */
/*
 * Mapping a chain fails (mapping resources or memory ran out) just when
 * the driver's request comes: the chain stays in the ring and the model
 * must come back to it, not return with the queue waiting for a kick the
 * driver will never send. Each model's request completes, well within the
 * drivers' 10 s timeout.
 */
static void fail_next_map(void)
{
    __atomic_store_n(&rig.lb.fail_maps, 1, __ATOMIC_RELEASE);
}

static bool taken_in_time(uint64_t t0)
{
    return __atomic_load_n(&rig.lb.fail_maps, __ATOMIC_ACQUIRE) == 0 && vmsg_now_ms() - t0 < 2000;
}

static void test_rng_failed_pop_is_retried(void)
{
    struct vmsg_rng *r;
    uint8_t buf[32];

    CU_ASSERT_EQUAL_FATAL(rig_up("rng", NULL, 0), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_rng_open(&rig.drv, DEV_NUM, &r), 0);
    uint64_t t0 = vmsg_now_ms();
    fail_next_map();
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    CU_ASSERT_TRUE(taken_in_time(t0));
    vmsg_rng_close(r);
    rig_down();
}

static void test_console_failed_pop_is_retried(void)
{
    char path[64], buf[64] = { 0 };
    struct vmsg_console *c;

    snprintf(path, sizeof(path), "/tmp/vmsg-test-console-retry-%d.log", (int)getpid());
    unlink(path);
    struct vmsg_param p[] = { { "log", path } };
    CU_ASSERT_EQUAL_FATAL(rig_up("console", p, 1), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_console_open(&rig.drv, DEV_NUM, &c), 0);
    uint64_t t0 = vmsg_now_ms();
    fail_next_map();
    CU_ASSERT_EQUAL(vmsg_console_write(c, "after a retry\n", 14), 14);
    CU_ASSERT_TRUE(taken_in_time(t0));
    vmsg_console_close(c);
    rig_down();
    int fd = open(path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), 14);
    CU_ASSERT_STRING_EQUAL(buf, "after a retry\n");
    close(fd);
    unlink(path);
}

static void test_blk_failed_pop_is_retried(void)
{
    struct vmsg_blk *b;
    uint8_t in[512];

    CU_ASSERT_EQUAL_FATAL(make_disk(), 0);
    if (blk_up("threads", "0", "1", &b, 1)) {
        uint64_t t0 = vmsg_now_ms();
        fail_next_map();
        CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, 0, in, 1), 0);
        CU_ASSERT_TRUE(taken_in_time(t0));
        vmsg_blk_close(b);
        rig_down();
    }
    unlink(disk_path);
}

/* ---- per-chain byte limits ------------------------------------------------ */
/*
 * One chain may describe the same 4 KiB page many times over (up to 4 GiB
 * of aliased buffers): the models take at most their per-chain limit
 * (docs/protocol.md section 8) from it, whatever the chain says.
 */
#define ALIASED_SEGS 32u     /* 32 x 4 KiB = 128 KiB, twice the limit */

static void aliased_chain(struct vmsg_vq_buf *bufs, uint64_t addr, bool writable)
{
    for (unsigned k = 0; k < ALIASED_SEGS; k++)
        bufs[k] = (struct vmsg_vq_buf){ addr, 4096, writable };
}

static void test_console_chain_is_capped(void)
{
    char path[64];
    struct vmsg_vq_buf bufs[ALIASED_SEGS];
    struct drv_common c;
    struct drv_chain ch;
    struct stat st;
    uint64_t addr;
    void *ptr;

    snprintf(path, sizeof(path), "/tmp/vmsg-test-console-cap-%d.log", (int)getpid());
    unlink(path);
    struct vmsg_param p[] = { { "log", path } };
    CU_ASSERT_EQUAL_FATAL(rig_up("console", p, 1), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(vmsg_loopback_driver_bus(&rig.lb), 4096, 4096, &addr,
                                         &ptr), 0);
    memset(ptr, 'x', 4096);
    CU_ASSERT_EQUAL_FATAL(drv_start(&c, &rig.drv, DEV_NUM, VIRTIO_ID_CONSOLE, 0, 2, 64), 0);
    aliased_chain(bufs, addr, false);
    CU_ASSERT_EQUAL(drv_submit(&c, 1, bufs, ALIASED_SEGS, &ch), 0);
    CU_ASSERT_EQUAL(drv_wait(&c, &ch, 5000), 0);
    drv_stop(&c);
    vmsg_bus_free(vmsg_loopback_driver_bus(&rig.lb), addr, 4096);
    rig_down();
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, VMSG_CONSOLE_CHAIN_MAX_BYTES);
    unlink(path);
}

static void test_rng_chain_is_capped(void)
{
    struct vmsg_vq_buf bufs[ALIASED_SEGS];
    struct drv_common c;
    struct drv_chain ch;
    uint64_t addr;
    void *ptr;

    CU_ASSERT_EQUAL_FATAL(rig_up("rng", NULL, 0), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(vmsg_loopback_driver_bus(&rig.lb), 4096, 4096, &addr,
                                         &ptr), 0);
    CU_ASSERT_EQUAL_FATAL(drv_start(&c, &rig.drv, DEV_NUM, VIRTIO_ID_RNG, 0, 1, 64), 0);
    aliased_chain(bufs, addr, true);
    CU_ASSERT_EQUAL(drv_submit(&c, 0, bufs, ALIASED_SEGS, &ch), 0);
    CU_ASSERT_EQUAL(drv_wait(&c, &ch, 5000), 0);
    CU_ASSERT_EQUAL(ch.used_len, VMSG_RNG_CHAIN_MAX_BYTES);
    drv_stop(&c);
    vmsg_bus_free(vmsg_loopback_driver_bus(&rig.lb), addr, 4096);
    rig_down();
}

/* ---- a guest that refills as fast as the device drains ------------------- */
/*
 * Every time the device maps a chain, the guest has already published the
 * next one (the hook runs on the device's thread, just before the map).
 * A model must still give the loop back after a bounded number of chains
 * (its queue size per call) and carry on later, or one guest holds the
 * bus thread, its stop request and every other device.
 */
#define REFILL_CAP 100000ul
#define REFILL_QSIZE 16u

struct refill {
    struct vmsg_vq_drv *vq;
    uint16_t head, idx;
    bool stop;
    unsigned long maps, last_turn, in_turn, max_in_turn;
};

static struct refill refill;

static void refill_on_map(void *opaque)
{
    struct refill *f = opaque;
    unsigned long turn = __atomic_load_n(&rig.pump.turns, __ATOMIC_ACQUIRE);

    if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
        return;
    if (turn != f->last_turn) {
        f->last_turn = turn;
        f->in_turn = 0;
    }
    if (++f->in_turn > f->max_in_turn)
        f->max_in_turn = f->in_turn;
    if (++f->maps >= REFILL_CAP) {
        __atomic_store_n(&f->stop, true, __ATOMIC_RELEASE);
        return;
    }
    vmsg_put_le16(f->vq->avail + 4 + 2 * (f->idx & (f->vq->size - 1)), f->head);
    vmsg_put_le16(f->vq->avail + 2, ++f->idx);
}

static void refilling_guest(const char *type, const struct vmsg_param *p, unsigned np,
                            uint32_t device_id, unsigned nvqs, unsigned q, bool writable)
{
    struct drv_common c;
    struct drv_chain ch;
    uint64_t addr;
    void *ptr;

    CU_ASSERT_EQUAL_FATAL(rig_up(type, p, np), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(vmsg_loopback_driver_bus(&rig.lb), 4096, 4096, &addr,
                                         &ptr), 0);
    memset(ptr, 'r', 4096);
    CU_ASSERT_EQUAL_FATAL(drv_start(&c, &rig.drv, DEV_NUM, device_id, 0, nvqs, REFILL_QSIZE),
                          0);
    memset(&refill, 0, sizeof(refill));
    refill.vq = &c.vqs[q];
    refill.head = c.vqs[q].free_head;
    refill.idx = (uint16_t)(c.vqs[q].avail_idx + 1);
    refill.last_turn = __atomic_load_n(&rig.pump.turns, __ATOMIC_ACQUIRE);
    rig.lb.on_device_map_opaque = &refill;
    __atomic_store_n(&rig.lb.on_device_map, refill_on_map, __ATOMIC_RELEASE);
    struct vmsg_vq_buf b = { addr, 64, writable };
    CU_ASSERT_EQUAL(drv_submit(&c, q, &b, 1, &ch), 0);
    usleep(300 * 1000);
    __atomic_store_n(&refill.stop, true, __ATOMIC_RELEASE);
    usleep(50 * 1000);
    __atomic_store_n(&rig.lb.on_device_map, NULL, __ATOMIC_RELEASE);
    if (refill.max_in_turn > 2 * REFILL_QSIZE)
        fprintf(stderr, "\n  %s: %lu chains in one turn\n", type, refill.max_in_turn);
    CU_ASSERT(refill.maps > 2 * REFILL_QSIZE);      /* the guest did refill */
    /* A queue's worth per call: one call for the kick, one from the
     * loop's retry step of the same turn. */
    CU_ASSERT(refill.max_in_turn <= 2 * REFILL_QSIZE);
    drv_stop(&c);
    vmsg_bus_free(vmsg_loopback_driver_bus(&rig.lb), addr, 4096);
    rig_down();
}

static void test_rng_refilling_guest_cannot_hold_the_loop(void)
{
    refilling_guest("rng", NULL, 0, VIRTIO_ID_RNG, 1, 0, true);
}

static void test_console_refilling_guest_cannot_hold_the_loop(void)
{
    char path[64];

    snprintf(path, sizeof(path), "/tmp/vmsg-test-console-refill-%d.log", (int)getpid());
    struct vmsg_param p[] = { { "log", path } };
    refilling_guest("console", p, 1, VIRTIO_ID_CONSOLE, 2, 1, false);
    unlink(path);
}

/* ---- hostile rings ------------------------------------------------------ */
static bool wait_needs_reset(struct drv_common *c)
{
    for (int i = 0; i < 200; i++) {
        uint32_t st = 0;
        if (vmsg_drv_get_status(&c->dev, &st) == 0 && (st & VMSG_STATUS_DEVICE_NEEDS_RESET))
            return true;
        usleep(10000);
    }
    return false;
}

/* After a violation: the driver resets, and the same device serves again. */
static void check_serves_again(void)
{
    struct vmsg_rng *r;
    uint8_t buf[64];
    CU_ASSERT_EQUAL_FATAL(vmsg_rng_open(&rig.drv, DEV_NUM, &r), 0);
    CU_ASSERT_EQUAL(vmsg_rng_read(r, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    vmsg_rng_close(r);
}

static void test_hostile_rings_need_reset(void)
{
    struct vmsg_bus *bus;
    uint64_t buf_addr, ind_addr;
    void *buf_ptr, *ind_ptr;

    CU_ASSERT_EQUAL_FATAL(rig_up("rng", NULL, 0), 0);
    bus = vmsg_loopback_driver_bus(&rig.lb);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(bus, 4096, 4096, &buf_addr, &buf_ptr), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(bus, 4096, 4096, &ind_addr, &ind_ptr), 0);
    for (size_t k = 0; k < HOSTILE_NCASES; k++) {
        struct drv_common c;
        CU_ASSERT_EQUAL_FATAL(drv_start(&c, &rig.drv, DEV_NUM, VIRTIO_ID_RNG,
                                        VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), 1, 16), 0);
        CU_ASSERT_TRUE(drv_has(&c, VIRTIO_F_INDIRECT_DESC));
        struct hostile_ring r = {
            .desc = c.vqs[0].desc, .avail = c.vqs[0].avail, .size = c.vqs[0].size,
            .buf_addr = buf_addr, .ind = ind_ptr, .ind_addr = ind_addr, .mem_size = MEM_SIZE,
        };
        memset(ind_ptr, 0, 4096);
        hostile_publish(&r, &hostile_cases[k], c.vqs[0].avail_idx);
        CU_ASSERT_EQUAL(vmsg_drv_notify(&c.dev, 0, 0), 0);
        bool reset = wait_needs_reset(&c);
        if (!reset)
            fprintf(stderr, "\n  case '%s' did not set DEVICE_NEEDS_RESET\n", hostile_cases[k].name);
        CU_ASSERT_TRUE(reset);
        drv_stop(&c);
        check_serves_again();
    }
    vmsg_bus_free(bus, ind_addr, 4096);
    vmsg_bus_free(bus, buf_addr, 4096);
    rig_down();
}

/* A blk chain with no room for the status byte cannot be answered. */
static void test_blk_request_without_status_needs_reset(void)
{
    struct vmsg_bus *bus;
    struct drv_common c;
    struct drv_chain ch;
    uint64_t addr;
    void *ptr;

    CU_ASSERT_EQUAL_FATAL(make_disk(), 0);
    struct vmsg_param p[] = { { "path", disk_path } };
    CU_ASSERT_EQUAL_FATAL(rig_up("blk", p, 1), 0);
    bus = vmsg_loopback_driver_bus(&rig.lb);
    CU_ASSERT_EQUAL_FATAL(vmsg_bus_alloc(bus, 64, 64, &addr, &ptr), 0);
    memset(ptr, 0, 64);
    CU_ASSERT_EQUAL_FATAL(drv_start(&c, &rig.drv, DEV_NUM, VIRTIO_ID_BLOCK, 0, 1, 16), 0);
    struct vmsg_vq_buf hdr_only = { addr, 16, false };
    CU_ASSERT_EQUAL(drv_submit(&c, 0, &hdr_only, 1, &ch), 0);
    CU_ASSERT_TRUE(wait_needs_reset(&c));
    drv_stop(&c);
    vmsg_bus_free(bus, addr, 64);
    /* The device serves again after the reset. */
    struct vmsg_blk *b;
    uint8_t in[512];
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_open(&rig.drv, DEV_NUM, 1, &b), 0);
    CU_ASSERT_EQUAL(vmsg_blk_read(b, 0, 0, in, 1), 0);
    vmsg_blk_close(b);
    rig_down();
    unlink(disk_path);
}

/* discard=0 on a read-write disk: neither DISCARD nor WRITE_ZEROES offered. */
static void test_blk_no_discard(void)
{
    struct vmsg_blk *b;
    struct vmsg_param p[] = { { "path", disk_path }, { "discard", "0" } };

    CU_ASSERT_EQUAL_FATAL(make_disk(), 0);
    CU_ASSERT_EQUAL_FATAL(rig_up("blk", p, 2), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_blk_open(&rig.drv, DEV_NUM, 1, &b), 0);
    CU_ASSERT_FALSE(vmsg_blk_read_only(b));
    CU_ASSERT_EQUAL(vmsg_blk_discard(b, 0, 0, 8), -ENOTSUP);
    vmsg_blk_close(b);
    rig_down();
    unlink(disk_path);
}

static void register_suites(void)
{
    VMSG_SUITE("devices", NULL, NULL);
    VMSG_TEST(test_registry_rejects_bad_params);
    VMSG_TEST(test_rng_gives_the_bytes_asked_for);
    VMSG_TEST(test_rng_queue_reset);
    VMSG_TEST(test_rng_source_file);
    VMSG_TEST(test_rng_source_never_blocks);
    VMSG_TEST(test_rng_source_refused);
    VMSG_TEST(test_console_pty_round_trip);
    VMSG_TEST(test_console_socket_round_trip);
    VMSG_TEST(test_console_log_file);
    VMSG_TEST(test_blk_read_write_threads);
    VMSG_TEST(test_blk_read_write_uring);
    VMSG_TEST(test_blk_read_only);
    VMSG_TEST(test_blk_no_discard);
    VMSG_TEST(test_blk_multi_queue_threads);
    VMSG_TEST(test_blk_multi_queue_uring);
    VMSG_TEST(test_rng_failed_pop_is_retried);
    VMSG_TEST(test_console_failed_pop_is_retried);
    VMSG_TEST(test_blk_failed_pop_is_retried);
    VMSG_TEST(test_console_chain_is_capped);
    VMSG_TEST(test_rng_chain_is_capped);
    VMSG_TEST(test_rng_refilling_guest_cannot_hold_the_loop);
    VMSG_TEST(test_console_refilling_guest_cannot_hold_the_loop);
    VMSG_TEST(test_hostile_rings_need_reset);
    VMSG_TEST(test_blk_request_without_status_needs_reset);
}

int main(void)
{
    vmsg_log_init("test-devices", false, getenv("VMSG_DEBUG") ? VMSG_LOG_DEBUG : VMSG_LOG_WARN);
    return vmsg_test_main(register_suites);
}
