/*
 * backend/devices/console.c: virtio-console (device type 3) with one port:
 * receiveq 0 carries host input to the guest, transmitq 1 guest output to
 * the host. The host end is a pty (default), a listening UNIX socket (one
 * client at a time) or an append-only log file.
 *
 * Everything here runs on the bus instance's thread (queue callbacks and
 * fd_ready alike), so the model needs no lock of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "devices_internal.h"
#include "proto/vmsg_le.h"
#include "util/vmsg_log.h"

#define VIRTIO_CONSOLE_F_SIZE   0
#define CONSOLE_CONFIG_SIZE     12      /* cols, rows, max_nr_ports, emerg_wr */
#define CONSOLE_QUEUE_SIZE      256
#define RXQ                     0
#define TXQ                     1

enum host_mode { HOST_PTY, HOST_SOCKET, HOST_LOG };

struct console {
    struct vmsg_device *dev;
    struct vmsg_vq_dev vq[2];
    bool live[2];
    enum host_mode mode;
    int io_fd;              /* pty master, socket client or log file; -1 */
    int listen_fd;          /* socket mode */
    int slave_fd;           /* pty mode: held open so the master never hangs up */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    uint16_t cols, rows;
    uint64_t dropped;       /* output bytes the host end would not take */
    uint64_t over_limit;    /* output bytes past VMSG_CONSOLE_CHAIN_MAX_BYTES */
    struct vmsg_ratelimit drop_log;
    size_t npending;        /* host input waiting for receive buffers */
    uint8_t pending[4096];
};

/* ---- host end ------------------------------------------------------------- */
static int open_pty(struct console *c)
{
    struct termios t;
    int rc;

    c->io_fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (c->io_fd < 0)
        return -errno;
    if (grantpt(c->io_fd) < 0 || unlockpt(c->io_fd) < 0 ||
        ptsname_r(c->io_fd, c->path, sizeof(c->path)) != 0)
        goto fail;
    if (fcntl(c->io_fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(c->io_fd, F_SETFD, FD_CLOEXEC) < 0)
        goto fail;
    c->slave_fd = open(c->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (c->slave_fd < 0)
        goto fail;
    /* Raw: no echo of guest output back into the guest, no line editing. */
    if (tcgetattr(c->slave_fd, &t) < 0)
        goto fail;
    cfmakeraw(&t);
    if (tcsetattr(c->slave_fd, TCSANOW, &t) < 0)
        goto fail;
    vmsg_info("console: host end is pty %s", c->path);
    return 0;
fail:
    rc = -errno;
    vmsg_err("console: cannot set up a pty: %s", strerror(errno));
    return rc;
}

static int open_socket(struct console *c, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int rc;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        char ep[VMSG_LOG_ESCAPED_SIZE(64)];

        vmsg_err("console: socket path '%s' too long", vmsg_log_escape(ep, sizeof(ep), path));
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    strcpy(c->path, path);
    /* A stale socket from an earlier run is replaced; anything else is not. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->listen_fd < 0)
        goto fail;
    if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(c->listen_fd, 1) < 0)
        goto fail;
    vmsg_info("console: host end is UNIX socket %s", path);
    return 0;
fail:
    rc = -errno;
    vmsg_err("console: cannot listen on '%s': %s", path, strerror(errno));
    return rc;
}

static int open_log(struct console *c, const char *path)
{
    c->io_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (c->io_fd < 0) {
        int rc = -errno;
        vmsg_err("console: cannot open log '%s': %s", path, strerror(errno));
        return rc;
    }
    vmsg_info("console: output goes to %s", path);
    return 0;
}

static void close_host(struct console *c)
{
    if (c->io_fd >= 0)
        close(c->io_fd);
    if (c->slave_fd >= 0)
        close(c->slave_fd);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->path);
    }
    c->io_fd = c->slave_fd = c->listen_fd = -1;
}

/* Guest output: the host end takes what it can without blocking the bus
 * thread; what it refuses is dropped and counted (a console must not stall
 * the guest because nobody reads the pty). */
static void host_write(struct console *c, const uint8_t *p, size_t len)
{
    while (len && c->io_fd >= 0) {
        ssize_t n = write(c->io_fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            c->dropped += len;
            vmsg_log_ratelimited(&c->drop_log, VMSG_LOG_INFO,
                                 "console: host end not taking output (%s), %llu bytes dropped",
                                 n < 0 ? strerror(errno) : "closed", (unsigned long long)c->dropped);
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

/* ---- queues ---------------------------------------------------------------- */
/* Move pending host input into receive buffers. */
static void flush_rx(struct console *c)
{
    struct vmsg_vq_elem *e;
    bool used = false;

    if (!c->live[RXQ] || !vmsg_device_running(c->dev))
        return;
    while (c->npending) {
        int rc = vmsg_vq_pop(&c->vq[RXQ], 0, &e);
        if (rc == 0 && vmsg_vq_enable_notify(&c->vq[RXQ]))
            continue;       /* a buffer arrived while we re-armed */
        if (rc < 0)
            vmsg_model_pop_failed(c->dev, RXQ, &c->vq[RXQ], rc);
        if (rc <= 0)
            break;
        size_t n = vmsg_vq_elem_write(e, 0, c->pending, c->npending);
        memmove(c->pending, c->pending + n, c->npending - n);
        c->npending -= n;
        vmsg_vq_push(&c->vq[RXQ], e, (uint32_t)n);
        used = true;
    }
    if (used && vmsg_vq_should_notify(&c->vq[RXQ]))
        vmsg_device_notify_used(c->dev, RXQ);
}

/* One transmit chain to the host end: at most the per-chain limit, since
 * a chain may alias one page up to 4 GiB (and the host end may be a log
 * file on dom0's disk). The rest is dropped and counted. */
static void write_chain(struct console *c, const struct vmsg_vq_elem *e)
{
    uint32_t budget = VMSG_CONSOLE_CHAIN_MAX_BYTES;
    uint64_t over = 0;

    for (uint32_t k = 0; k < e->nread; k++) {
        size_t take = e->seg[k].len < budget ? e->seg[k].len : budget;

        host_write(c, e->seg[k].ptr, take);
        budget -= (uint32_t)take;
        over += e->seg[k].len - take;
    }
    if (over) {
        c->over_limit += over;
        vmsg_log_ratelimited(&c->drop_log, VMSG_LOG_INFO,
                             "console: a chain of %u bytes, above the %u-byte limit: "
                             "%llu bytes dropped so far", e->read_len,
                             VMSG_CONSOLE_CHAIN_MAX_BYTES, (unsigned long long)c->over_limit);
    }
}

static void drain_tx(struct console *c)
{
    uint32_t budget = vmsg_device_queue_budget(c->dev, TXQ);
    struct vmsg_vq_elem *e;
    bool used = false;
    int rc;

    if (!c->live[TXQ])
        return;
    do {
        vmsg_vq_disable_notify(&c->vq[TXQ]);
        while ((rc = vmsg_vq_pop(&c->vq[TXQ], 0, &e)) > 0) {
            write_chain(c, e);
            vmsg_vq_push(&c->vq[TXQ], e, 0);
            used = true;
            if (--budget == 0) {
                /* A queue's worth per call: the rest from the loop's
                 * retry step, after its other work. */
                vmsg_device_continue_queue(c->dev, TXQ);
                goto out;
            }
        }
        if (rc < 0) {
            vmsg_model_pop_failed(c->dev, TXQ, &c->vq[TXQ], rc);
            break;
        }
    } while (vmsg_vq_enable_notify(&c->vq[TXQ]));
out:
    if (used && vmsg_vq_should_notify(&c->vq[TXQ]))
        vmsg_device_notify_used(c->dev, TXQ);
}

static void console_notify(struct vmsg_device *dev, uint32_t index)
{
    struct console *c = dev->model;
    if (index == RXQ)
        flush_rx(c);
    else if (index == TXQ)
        drain_tx(c);
}

static int console_queue_enable(struct vmsg_device *dev, uint32_t index)
{
    struct console *c = dev->model;
    int rc = vmsg_model_vq_init(dev, index, &c->vq[index]);
    c->live[index] = rc == 0;
    return rc;
}

static void console_queue_reset(struct vmsg_device *dev, uint32_t index)
{
    struct console *c = dev->model;
    if (index < 2 && c->live[index])
        vmsg_vq_dev_destroy(&c->vq[index]);
    if (index < 2)
        c->live[index] = false;
}

static void console_read_config(struct vmsg_device *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
    struct console *c = dev->model;
    uint8_t cfg[CONSOLE_CONFIG_SIZE] = { 0 };
    vmsg_put_le16(cfg, c->cols);
    vmsg_put_le16(cfg + 2, c->rows);
    vmsg_put_le32(cfg + 4, 1);      /* max_nr_ports: MULTIPORT is not offered */
    memcpy(buf, cfg + off, len);
}

static void console_destroy(struct vmsg_device *dev)
{
    struct console *c = dev->model;
    console_queue_reset(dev, RXQ);
    console_queue_reset(dev, TXQ);
    close_host(c);
    free(c);
}

/* ---- host-side events ------------------------------------------------------ */
static int console_fds(struct vmsg_device *dev, int *fds, int max)
{
    struct console *c = dev->model;
    int n = 0;
    if (max < 1)
        return 0;
    if (c->mode == HOST_SOCKET && c->io_fd < 0)
        fds[n++] = c->listen_fd;
    else if (c->mode != HOST_LOG && c->io_fd >= 0 && c->npending < sizeof(c->pending))
        fds[n++] = c->io_fd;    /* only while there is room: no busy poll */
    return n;
}

static void console_fd_ready(struct vmsg_device *dev, int fd)
{
    struct console *c = dev->model;

    if (fd == c->listen_fd && c->io_fd < 0) {
        c->io_fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c->io_fd >= 0)
            vmsg_info("console: client connected on %s", c->path);
        return;
    }
    if (fd != c->io_fd || c->mode == HOST_LOG)
        return;
    ssize_t n = read(c->io_fd, c->pending + c->npending, sizeof(c->pending) - c->npending);
    if (n > 0) {
        c->npending += (size_t)n;
        flush_rx(c);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        if (c->mode == HOST_SOCKET) {
            vmsg_info("console: client on %s went away", c->path);
            close(c->io_fd);
            c->io_fd = -1;
        }
    }
}

static int console_write_config(struct vmsg_device *dev, uint32_t off, const uint8_t *buf,
                                 uint32_t len)
{
    return -EPERM;  /* cols/rows are the device's; emerg_wr is not offered */
}

static const struct vmsg_device_ops console_ops = {
    .read_config = console_read_config,
    .write_config = console_write_config,
    .queue_enable = console_queue_enable,
    .queue_reset = console_queue_reset,
    .queue_notify = console_notify,
    .destroy = console_destroy,
};

static int console_create(struct vmsg_device *dev, const struct vmsg_param *p, unsigned n)
{
    static const char *const known[] = { "pty", "socket", "log", "rows", "cols", NULL };
    const struct vmsg_device_desc desc = {
        .name = "console",
        .device_id = VIRTIO_ID_CONSOLE,
        .vendor_id = VMSG_VENDOR_ID_XEN,
        .features = VMSG_VIRTQ_DEVICE_FEATURES | VIRTIO_BIT(VIRTIO_CONSOLE_F_SIZE),
        .config_size = CONSOLE_CONFIG_SIZE,
        .num_queues = 2,
        .queue_max_size = CONSOLE_QUEUE_SIZE,
    };
    const char *sock = vmsg_param_str(p, n, "socket");
    const char *log = vmsg_param_str(p, n, "log");
    uint64_t rows, cols;
    struct console *c;
    int rc;

    if ((rc = vmsg_params_check("console", p, n, known)) < 0 ||
        (rc = vmsg_param_u64("console", p, n, "rows", 25, 1, UINT16_MAX, &rows)) < 0 ||
        (rc = vmsg_param_u64("console", p, n, "cols", 80, 1, UINT16_MAX, &cols)) < 0)
        return rc;
    if ((sock != NULL) + (log != NULL) + (vmsg_param_str(p, n, "pty") != NULL) > 1) {
        vmsg_err("console: choose one of pty, socket=PATH and log=PATH");
        return -EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->dev = dev;
    c->io_fd = c->listen_fd = c->slave_fd = -1;
    c->rows = (uint16_t)rows;
    c->cols = (uint16_t)cols;
    c->drop_log = (struct vmsg_ratelimit)VMSG_RATELIMIT_INIT;
    c->mode = sock ? HOST_SOCKET : log ? HOST_LOG : HOST_PTY;
    rc = sock ? open_socket(c, sock) : log ? open_log(c, log) : open_pty(c);
    if (rc < 0)
        goto err;
    rc = vmsg_device_init(dev, &desc, &console_ops, c);
    if (rc < 0)
        goto err;
    return 0;
err:
    close_host(c);
    free(c);
    return rc;
}

const struct vmsg_model_type vmsg_model_console = {
    .name = "console",
    .create = console_create,
    .fds = console_fds,
    .fd_ready = console_fd_ready,
};

const char *vmsg_console_host_path(struct vmsg_device *dev)
{
    if (vmsg_model_type_of(dev) != &vmsg_model_console)
        return NULL;
    struct console *c = dev->model;
    return c->mode == HOST_LOG ? NULL : c->path;
}
