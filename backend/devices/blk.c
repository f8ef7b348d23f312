/*
 * backend/devices/blk.c: virtio-blk (device type 2) on a raw image file or
 * a block device, with one or more request queues.
 *
 * The bus thread pops requests, copies and checks each header, and hands
 * the data transfer to the I/O engine (blk_io.h); the engine's threads
 * write the status byte, push the used entry and send EVENT_USED. Every
 * request from the guest gets a status (OK, IOERR or UNSUPP); only a chain
 * that has no room for a header or a status byte breaks the device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_io.h"
#include "devices_internal.h"
#include "virtio/virtio_blk.h"
#include "proto/vmsg_le.h"
#include "util/vmsg_log.h"

#define BLK_MAX_QUEUES              16u
#define BLK_MAX_DISCARD_SECTORS     (1u << 22)  /* 2 GiB per request */

struct blk;

struct blk_queue {
    struct blk *b;
    uint32_t index;
    struct vmsg_vq_dev vq;
    bool live;
    pthread_mutex_t lock;       /* push + should_notify, inflight */
    pthread_cond_t idle;
    unsigned inflight;
};

struct blk {
    struct vmsg_device *dev;
    int fd;
    bool ro;
    uint64_t capacity;          /* sectors */
    uint32_t blk_size;
    uint8_t phys_exp;
    uint32_t queue_size;
    uint32_t seg_max;
    uint16_t num_queues;
    char serial[VIRTIO_BLK_ID_BYTES];
    struct blk_io *io;
    struct vmsg_ratelimit bad_log;
    struct blk_queue q[];
};

struct blk_req {
    struct blk_io_req io;       /* first: the engine hands it back */
    struct blk_queue *q;
    struct vmsg_vq_elem *e;
    uint8_t *status;            /* the last writable byte of the chain */
    uint32_t written;           /* used length on success */
    struct iovec iov[];
};

/* ---- completion (any thread) ---------------------------------------------- */
static void complete(struct blk_queue *q, struct vmsg_vq_elem *e, uint8_t *status_byte,
                     uint8_t status, uint32_t written)
{
    bool notify;

    *status_byte = status;
    pthread_mutex_lock(&q->lock);
    vmsg_vq_push(&q->vq, e, status == VIRTIO_BLK_S_OK ? written : 1);
    notify = vmsg_vq_should_notify(&q->vq);
    pthread_mutex_unlock(&q->lock);
    if (notify)
        vmsg_device_notify_used(q->b->dev, q->index);
}

static void io_done(struct blk_io_req *r)
{
    struct blk_req *req = (struct blk_req *)r;
    struct blk_queue *q = req->q;

    if (r->result < 0)
        vmsg_log_ratelimited(&q->b->bad_log, VMSG_LOG_WARN, "blk: I/O error on queue %u: %s",
                             q->index, strerror(-r->result));
    complete(q, req->e, req->status, r->result < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK,
             req->written);
    free(req);
    /* Last: queue_reset waits for this before the queue goes away. */
    pthread_mutex_lock(&q->lock);
    if (--q->inflight == 0)
        pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->lock);
}

/* ---- request parsing (bus thread) ---------------------------------------- */
/* The data iovec: `len` bytes of segments [first, last] from byte `skip`. */
static unsigned build_iov(struct vmsg_vq_elem *e, uint32_t first, uint32_t end, uint64_t skip,
                          uint64_t len, struct iovec *iov)
{
    unsigned n = 0;
    for (uint32_t k = first; k < end && len; k++) {
        uint64_t seg = e->seg[k].len;
        if (skip >= seg) {
            skip -= seg;
            continue;
        }
        uint64_t take = seg - skip < len ? seg - skip : len;
        iov[n].iov_base = e->seg[k].ptr + skip;
        iov[n].iov_len = (size_t)take;
        n++;
        len -= take;
        skip = 0;
    }
    return n;
}

/* Is [sector, sector + nsec) inside the disk? Overflow-safe. */
static bool in_range(const struct blk *b, uint64_t sector, uint64_t nsec)
{
    return sector <= b->capacity && nsec <= b->capacity - sector;
}

static void bad_request(struct blk *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bad_request(struct blk *b, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    vmsg_log_ratelimited(&b->bad_log, VMSG_LOG_INFO, "blk: device %u: %s", b->dev->dev_num, why);
}

/* Returns the status for a request finished here, or -1 once it was
 * handed to the engine. */
static int start_request(struct blk_queue *q, struct vmsg_vq_elem *e, uint8_t *status)
{
    struct blk *b = q->b;
    uint8_t hdr[VIRTIO_BLK_HDR_SIZE], seg[VIRTIO_BLK_SEG_SIZE];
    uint32_t data_len, type;
    uint64_t sector;
    enum blk_op op;
    struct blk_req *req;

    vmsg_vq_elem_read(e, 0, hdr, sizeof(hdr));
    type = vmsg_get_le32(hdr);
    sector = vmsg_get_le64(hdr + 8);
    req = calloc(1, sizeof(*req) + (size_t)(e->nread + e->nwrite) * sizeof(struct iovec));
    if (!req)
        return VIRTIO_BLK_S_IOERR;
    req->io.iov = req->iov;
    req->written = 1;

    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        if (type == VIRTIO_BLK_T_IN ? e->read_len != VIRTIO_BLK_HDR_SIZE : e->write_len != 1) {
            bad_request(b, "%s request with data in both directions",
                        type == VIRTIO_BLK_T_IN ? "read" : "write");
            goto ioerr;
        }
        if (type == VIRTIO_BLK_T_OUT && b->ro) {
            bad_request(b, "write to a read-only disk");
            goto ioerr;
        }
        data_len = type == VIRTIO_BLK_T_IN ? e->write_len - 1 : e->read_len - VIRTIO_BLK_HDR_SIZE;
        if (data_len % VIRTIO_BLK_SECTOR_SIZE || !in_range(b, sector, data_len / VIRTIO_BLK_SECTOR_SIZE)) {
            bad_request(b, "%s of %u bytes at sector %llu: beyond %llu sectors or not whole sectors",
                        type == VIRTIO_BLK_T_IN ? "read" : "write", data_len,
                        (unsigned long long)sector, (unsigned long long)b->capacity);
            goto ioerr;
        }
        if (data_len == 0)
            goto ok;
        op = type == VIRTIO_BLK_T_IN ? BLK_OP_READ : BLK_OP_WRITE;
        req->io.niov = type == VIRTIO_BLK_T_IN ?
            build_iov(e, e->nread, e->nread + e->nwrite, 0, data_len, req->iov) :
            build_iov(e, 0, e->nread, VIRTIO_BLK_HDR_SIZE, data_len, req->iov);
        req->io.offset = sector * VIRTIO_BLK_SECTOR_SIZE;
        req->io.len = data_len;
        if (type == VIRTIO_BLK_T_IN)
            req->written = data_len + 1;
        break;
    case VIRTIO_BLK_T_FLUSH:
        if (!vmsg_device_has_feature(b->dev, VIRTIO_BLK_F_FLUSH))
            goto unsupp;
        op = BLK_OP_FLUSH;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        uint32_t n = e->write_len - 1 < VIRTIO_BLK_ID_BYTES ? e->write_len - 1 : VIRTIO_BLK_ID_BYTES;
        vmsg_vq_elem_write(e, 0, b->serial, n);
        free(req);
        complete(q, e, status, VIRTIO_BLK_S_OK, n + 1);
        return -1;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
        bool discard = type == VIRTIO_BLK_T_DISCARD;
        if (!vmsg_device_has_feature(b->dev, discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES))
            goto unsupp;
        if (b->ro)
            goto ioerr;
        if (e->read_len - VIRTIO_BLK_HDR_SIZE != VIRTIO_BLK_SEG_SIZE) {
            /* max_discard_seg / max_write_zeroes_seg are 1 */
            bad_request(b, "%s with %u payload bytes (one 16-byte segment)",
                        discard ? "discard" : "write zeroes", e->read_len - VIRTIO_BLK_HDR_SIZE);
            if ((e->read_len - VIRTIO_BLK_HDR_SIZE) % VIRTIO_BLK_SEG_SIZE || e->read_len == VIRTIO_BLK_HDR_SIZE)
                goto ioerr;
            goto unsupp;
        }
        vmsg_vq_elem_read(e, VIRTIO_BLK_HDR_SIZE, seg, sizeof(seg));
        uint64_t s = vmsg_get_le64(seg);
        uint32_t nsec = vmsg_get_le32(seg + 8);
        uint32_t flags = vmsg_get_le32(seg + 12);
        if (flags & ~(discard ? 0u : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
            goto unsupp;
        if (nsec > BLK_MAX_DISCARD_SECTORS || !in_range(b, s, nsec)) {
            bad_request(b, "%s of %u sectors at %llu beyond %llu sectors",
                        discard ? "discard" : "write zeroes", nsec, (unsigned long long)s,
                        (unsigned long long)b->capacity);
            goto ioerr;
        }
        if (nsec == 0)
            goto ok;
        op = discard ? BLK_OP_DISCARD : BLK_OP_ZEROES;
        req->io.offset = s * VIRTIO_BLK_SECTOR_SIZE;
        req->io.len = (uint64_t)nsec * VIRTIO_BLK_SECTOR_SIZE;
        break;
    }
    default:
        goto unsupp;
    }
    req->io.op = op;
    req->io.dsync = op != BLK_OP_READ && op != BLK_OP_FLUSH &&
                    !vmsg_device_has_feature(b->dev, VIRTIO_BLK_F_FLUSH);
    req->io.complete = io_done;
    req->q = q;
    req->e = e;
    req->status = status;
    pthread_mutex_lock(&q->lock);
    q->inflight++;
    pthread_mutex_unlock(&q->lock);
    blk_io_submit(b->io, &req->io);
    return -1;

ok:
    free(req);
    return VIRTIO_BLK_S_OK;
ioerr:
    free(req);
    return VIRTIO_BLK_S_IOERR;
unsupp:
    free(req);
    return VIRTIO_BLK_S_UNSUPP;
}

static void handle(struct blk_queue *q, struct vmsg_vq_elem *e)
{
    struct blk *b = q->b;
    int status;

    /* The layout every request shares: a readable 16-byte header first,
     * the status byte as the last byte of the last writable descriptor.
     * Without room for both there is no way to answer: the driver is
     * broken, as QEMU also judges. */
    if (e->read_len < VIRTIO_BLK_HDR_SIZE || e->write_len < 1 || e->nwrite == 0) {
        vmsg_vq_drop(&q->vq, e);
        vmsg_device_needs_reset(b->dev, "blk request without a header or a status byte");
        return;
    }
    const struct vmsg_mapping *last = &e->seg[e->nread + e->nwrite - 1];
    uint8_t *status_byte = last->ptr + last->len - 1;
    status = start_request(q, e, status_byte);
    if (status >= 0)
        complete(q, e, status_byte, (uint8_t)status, 1);
}

static void blk_notify(struct vmsg_device *dev, uint32_t index)
{
    struct blk *b = dev->model;
    uint32_t budget = vmsg_device_queue_budget(dev, index);
    struct blk_queue *q;
    struct vmsg_vq_elem *e;
    int rc;

    if (index >= b->num_queues || !b->q[index].live)
        return;
    q = &b->q[index];
    do {
        vmsg_vq_disable_notify(&q->vq);
        while ((rc = vmsg_vq_pop(&q->vq, b->seg_max + 2, &e)) > 0) {
            handle(q, e);
            if (!vmsg_device_running(dev))
                return;
            if (--budget == 0) {
                /* A queue's worth per call (completions refill it as
                 * fast as a guest likes): the rest from the loop's retry
                 * step, after its other work. */
                vmsg_device_continue_queue(dev, index);
                return;
            }
        }
        if (rc < 0) {
            vmsg_model_pop_failed(dev, index, &q->vq, rc);
            return;
        }
    } while (vmsg_vq_enable_notify(&q->vq));
}

/* ---- queues and config ----------------------------------------------------- */
static int blk_queue_enable(struct vmsg_device *dev, uint32_t index)
{
    struct blk *b = dev->model;
    int rc;

    if (index >= b->num_queues)
        return -EINVAL;
    rc = vmsg_model_vq_init(dev, index, &b->q[index].vq);
    b->q[index].live = rc == 0;
    return rc;
}

static void blk_queue_reset(struct vmsg_device *dev, uint32_t index)
{
    struct blk *b = dev->model;
    struct blk_queue *q;

    if (index >= b->num_queues)
        return;
    q = &b->q[index];
    /* Requests in the engine still point into the rings and buffers. */
    pthread_mutex_lock(&q->lock);
    while (q->inflight)
        pthread_cond_wait(&q->idle, &q->lock);
    pthread_mutex_unlock(&q->lock);
    if (q->live)
        vmsg_vq_dev_destroy(&q->vq);
    q->live = false;
}

static void blk_read_config(struct vmsg_device *dev, uint32_t off, uint8_t *buf, uint32_t len)
{
    struct blk *b = dev->model;
    uint8_t cfg[VIRTIO_BLK_CONFIG_SIZE] = { 0 };
    uint32_t discard_align = b->blk_size / VIRTIO_BLK_SECTOR_SIZE;

    vmsg_put_le64(cfg + VIRTIO_BLK_CFG_CAPACITY, b->capacity);
    vmsg_put_le32(cfg + VIRTIO_BLK_CFG_SEG_MAX, b->seg_max);
    vmsg_put_le32(cfg + VIRTIO_BLK_CFG_BLK_SIZE, b->blk_size);
    cfg[VIRTIO_BLK_CFG_PHYS_BLOCK_EXP] = b->phys_exp;
    vmsg_put_le16(cfg + VIRTIO_BLK_CFG_MIN_IO_SIZE, 1);
    vmsg_put_le16(cfg + VIRTIO_BLK_CFG_NUM_QUEUES, b->num_queues);
    vmsg_put_le32(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, BLK_MAX_DISCARD_SECTORS);
    vmsg_put_le32(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1);
    vmsg_put_le32(cfg + VIRTIO_BLK_CFG_DISCARD_ALIGNMENT, discard_align);
    vmsg_put_le32(cfg + VIRTIO_BLK_CFG_MAX_WZ_SECTORS, BLK_MAX_DISCARD_SECTORS);
    vmsg_put_le32(cfg + VIRTIO_BLK_CFG_MAX_WZ_SEG, 1);
    cfg[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
    memcpy(buf, cfg + off, len);
}

static void blk_destroy(struct vmsg_device *dev)
{
    struct blk *b = dev->model;

    for (uint32_t i = 0; i < b->num_queues; i++) {
        blk_queue_reset(dev, i);
        pthread_cond_destroy(&b->q[i].idle);
        pthread_mutex_destroy(&b->q[i].lock);
    }
    blk_io_destroy(b->io);
    close(b->fd);
    free(b);
}

static const struct vmsg_device_ops blk_ops = {
    .read_config = blk_read_config,
    .queue_enable = blk_queue_enable,
    .queue_reset = blk_queue_reset,
    .queue_notify = blk_notify,
    .destroy = blk_destroy,
};

/* ---- creation -------------------------------------------------------------- */
static int open_backing(struct blk *b, const char *path)
{
    struct stat st;
    uint64_t bytes;

    b->fd = open(path, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (b->fd < 0) {
        int rc = -errno;
        vmsg_err("blk: cannot open '%s'%s: %s", path, b->ro ? " read-only" : "", strerror(errno));
        return rc;
    }
    if (fstat(b->fd, &st) < 0)
        goto fail;
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0)
            goto fail;
    } else if (S_ISREG(st.st_mode)) {
        bytes = (uint64_t)st.st_size;
    } else {
        vmsg_err("blk: '%s' is neither a regular file nor a block device", path);
        close(b->fd);
        return -EINVAL;
    }
    b->capacity = bytes / VIRTIO_BLK_SECTOR_SIZE;
    return 0;
fail: {
        int rc = -errno;
        vmsg_err("blk: cannot size '%s': %s", path, strerror(errno));
        close(b->fd);
        return rc;
    }
}

static bool power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int blk_create(struct vmsg_device *dev, const struct vmsg_param *p, unsigned n)
{
    static const char *const known[] = {
        "path", "ro", "discard", "num-queues", "queue-size", "blk-size", "phys-block-size",
        "serial", "io", NULL,
    };
    const char *path = vmsg_param_str(p, n, "path");
    const char *serial = vmsg_param_str(p, n, "serial");
    const char *io = vmsg_param_str(p, n, "io");
    uint64_t nq, qsize, bsize, psize;
    bool ro, discard;
    struct blk *b;
    int rc;

    if ((rc = vmsg_params_check("blk", p, n, known)) < 0 ||
        (rc = vmsg_param_bool("blk", p, n, "ro", false, &ro)) < 0 ||
        (rc = vmsg_param_bool("blk", p, n, "discard", true, &discard)) < 0 ||
        (rc = vmsg_param_u64("blk", p, n, "num-queues", 1, 1, BLK_MAX_QUEUES, &nq)) < 0 ||
        (rc = vmsg_param_u64("blk", p, n, "queue-size", 256, 4, 1024, &qsize)) < 0 ||
        (rc = vmsg_param_u64("blk", p, n, "blk-size", 512, 512, 4096, &bsize)) < 0 ||
        (rc = vmsg_param_u64("blk", p, n, "phys-block-size", bsize, bsize, 65536, &psize)) < 0)
        return rc;
    if (!path || !*path) {
        vmsg_err("blk: parameter path=FILE is required");
        return -EINVAL;
    }
    if (!power_of_two(qsize) || !power_of_two(bsize) || !power_of_two(psize)) {
        vmsg_err("blk: queue-size, blk-size and phys-block-size must be powers of two");
        return -EINVAL;
    }
    if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES) {
        char es[VMSG_LOG_ESCAPED_SIZE(32)];

        vmsg_err("blk: serial '%s' longer than %u bytes", vmsg_log_escape(es, sizeof(es), serial),
                 VIRTIO_BLK_ID_BYTES);
        return -EINVAL;
    }
    if (!io)
        io = "auto";

    b = calloc(1, sizeof(*b) + nq * sizeof(b->q[0]));
    if (!b)
        return -ENOMEM;
    b->dev = dev;
    b->ro = ro;
    b->num_queues = (uint16_t)nq;
    b->queue_size = (uint32_t)qsize;
    b->seg_max = (uint32_t)qsize - 2;     /* room for header and status */
    b->blk_size = (uint32_t)bsize;
    b->phys_exp = (uint8_t)__builtin_ctzll(psize / bsize);
    b->bad_log = (struct vmsg_ratelimit)VMSG_RATELIMIT_INIT;
    if (serial) {
        memcpy(b->serial, serial, strlen(serial));
    } else {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        /* The id is not NUL-terminated when it fills all 20 bytes. */
        memcpy(b->serial, base, strnlen(base, sizeof(b->serial)));
    }
    if ((rc = open_backing(b, path)) < 0)
        goto err_free;
    if ((rc = blk_io_create(b->fd, io, &b->io)) < 0) {
        vmsg_err("blk: cannot start I/O engine '%s': %s", io, strerror(-rc));
        goto err_close;
    }
    for (uint32_t i = 0; i < nq; i++) {
        b->q[i].b = b;
        b->q[i].index = i;
        pthread_mutex_init(&b->q[i].lock, NULL);
        pthread_cond_init(&b->q[i].idle, NULL);
    }

    uint64_t features = VMSG_VIRTQ_DEVICE_FEATURES | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
                        VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                        VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);
    /* discard=0 keeps the image's blocks allocated (a preallocated or
     * thick-provisioned target); a read-only disk never offers either. */
    if (ro)
        features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
    else if (discard)
        features |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
    const struct vmsg_device_desc desc = {
        .name = "blk",
        .device_id = VIRTIO_ID_BLOCK,
        .vendor_id = VMSG_VENDOR_ID_XEN,
        .features = features,
        .config_size = VIRTIO_BLK_CONFIG_SIZE,
        .num_queues = (uint32_t)nq,
        .queue_max_size = (uint32_t)qsize,
    };
    if ((rc = vmsg_device_init(dev, &desc, &blk_ops, b)) < 0)
        goto err_queues;
    vmsg_info("blk: %s: %llu sectors%s, %u queue(s) of %u, I/O engine %s", path,
              (unsigned long long)b->capacity, ro ? ", read-only" : "", b->num_queues,
              b->queue_size, blk_io_engine(b->io));
    return 0;

err_queues:
    for (uint32_t i = 0; i < nq; i++) {
        pthread_cond_destroy(&b->q[i].idle);
        pthread_mutex_destroy(&b->q[i].lock);
    }
    blk_io_destroy(b->io);
err_close:
    close(b->fd);
err_free:
    free(b);
    return rc;
}

const struct vmsg_model_type vmsg_model_blk = {
    .name = "blk",
    .create = blk_create,
};

const char *vmsg_blk_io_engine(struct vmsg_device *dev)
{
    if (vmsg_model_type_of(dev) != &vmsg_model_blk)
        return NULL;
    return blk_io_engine(((struct blk *)dev->model)->io);
}
