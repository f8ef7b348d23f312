/*
 * backend/devices/rng.c: virtio-rng (device type 4): one request queue
 * whose writable buffers are filled from getrandom(), or from the file or
 * device named by the parameter source=PATH (a hardware RNG such as
 * /dev/hwrng, or a fixed file in a test). A source that runs dry (end of
 * a regular file) gives short buffers, which virtio-rng allows. The
 * source is read non-blocking: the buffers are filled on the bus
 * instance's thread, and a slow /dev/hwrng or an idle FIFO must not stall
 * the guest's other devices; what is not there yet makes a short buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "devices_internal.h"
#include "util/vmsg_log.h"

#define RNG_QUEUE_SIZE 256

struct rng {
    struct vmsg_vq_dev vq;
    bool live;
    int fd;                 /* source=PATH, or -1 for getrandom() */
};

/* Fill one segment; getrandom() and read() may return short. */
static size_t fill(const struct rng *r, uint8_t *p, size_t len)
{
    static struct vmsg_ratelimit rl = VMSG_RATELIMIT_INIT;
    size_t done = 0;
    while (done < len) {
        ssize_t n = r->fd < 0 ? getrandom(p + done, len - done, 0)
                              : read(r->fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;      /* the source has no more bytes just now */
            vmsg_log_ratelimited(&rl, VMSG_LOG_WARN, "rng: %s failed: %m",
                                 r->fd < 0 ? "getrandom" : "reading the source");
            break;
        }
        if (n == 0)
            break;          /* the source ran dry */
        done += (size_t)n;
    }
    return done;
}

static void rng_notify(struct vmsg_device *dev, uint32_t index)
{
    struct rng *r = dev->model;
    uint32_t budget = vmsg_device_queue_budget(dev, 0);
    struct vmsg_vq_elem *e;
    bool used = false;
    int rc;

    if (index != 0 || !r->live)
        return;
    do {
        vmsg_vq_disable_notify(&r->vq);
        while ((rc = vmsg_vq_pop(&r->vq, 0, &e)) > 0) {
            uint32_t written = 0;
            /* A chain may alias one page up to 4 GiB: fill at most the
             * per-chain limit, a short buffer as virtio-rng allows. */
            for (uint32_t k = e->nread; k < e->nread + e->nwrite; k++) {
                size_t want = e->seg[k].len;
                size_t got;

                if (want > VMSG_RNG_CHAIN_MAX_BYTES - written)
                    want = VMSG_RNG_CHAIN_MAX_BYTES - written;
                got = fill(r, e->seg[k].ptr, want);
                written += (uint32_t)got;
                if (got < e->seg[k].len)
                    break;
            }
            vmsg_vq_push(&r->vq, e, written);
            used = true;
            if (--budget == 0) {
                /* A queue's worth per call: the rest from the loop's
                 * retry step, after its other work. */
                vmsg_device_continue_queue(dev, 0);
                goto out;
            }
        }
        if (rc < 0) {
            vmsg_model_pop_failed(dev, 0, &r->vq, rc);
            break;
        }
    } while (vmsg_vq_enable_notify(&r->vq));
out:
    if (used && vmsg_vq_should_notify(&r->vq))
        vmsg_device_notify_used(dev, 0);
}

static int rng_queue_enable(struct vmsg_device *dev, uint32_t index)
{
    struct rng *r = dev->model;
    int rc = vmsg_model_vq_init(dev, index, &r->vq);
    r->live = rc == 0;
    return rc;
}

static void rng_queue_reset(struct vmsg_device *dev, uint32_t index)
{
    struct rng *r = dev->model;
    if (r->live)
        vmsg_vq_dev_destroy(&r->vq);
    r->live = false;
}

static void rng_read_config(struct vmsg_device *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
    /* No config space. */
}

static void rng_destroy(struct vmsg_device *dev)
{
    struct rng *r = dev->model;
    rng_queue_reset(dev, 0);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

static const struct vmsg_device_ops rng_ops = {
    .read_config = rng_read_config,
    .queue_enable = rng_queue_enable,
    .queue_reset = rng_queue_reset,
    .queue_notify = rng_notify,
    .destroy = rng_destroy,
};

static int rng_create(struct vmsg_device *dev, const struct vmsg_param *p, unsigned n)
{
    static const char *const known[] = { "source", NULL };
    const char *source = vmsg_param_str(p, n, "source");
    const struct vmsg_device_desc desc = {
        .name = "rng",
        .device_id = VIRTIO_ID_RNG,
        .vendor_id = VMSG_VENDOR_ID_XEN,
        .features = VMSG_VIRTQ_DEVICE_FEATURES,
        .config_size = 0,
        .num_queues = 1,
        .queue_max_size = RNG_QUEUE_SIZE,
    };
    struct rng *r;
    int rc;

    if ((rc = vmsg_params_check("rng", p, n, known)) < 0)
        return rc;
    if (source && source[0] != '/') {
        char es[VMSG_LOG_ESCAPED_SIZE(64)];

        vmsg_err("rng: source '%s' is not an absolute path",
                 vmsg_log_escape(es, sizeof(es), source));
        return -EINVAL;
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->fd = -1;
    if (source && (r->fd = open(source, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        rc = -errno;
        vmsg_err("rng: cannot open source '%s': %s", source, strerror(-rc));
        free(r);
        return rc;
    }
    rc = vmsg_device_init(dev, &desc, &rng_ops, r);
    if (rc < 0) {
        if (r->fd >= 0)
            close(r->fd);
        free(r);
    }
    return rc;
}

const struct vmsg_model_type vmsg_model_rng = {
    .name = "rng",
    .create = rng_create,
};
