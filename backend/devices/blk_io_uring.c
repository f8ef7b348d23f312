/*
 * backend/devices/blk_io_uring.c: the io_uring engine. The bus thread fills
 * and submits SQEs; one reaper thread waits for CQEs and completes them.
 * The two ends of the ring are used by one thread each, which liburing
 * allows without a lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "blk_io.h"
#include "util/vmsg_log.h"

#define URING_DEPTH 256

struct uring {
    struct blk_io io;
    struct io_uring ring;
    pthread_t reaper;
};

/* user_data of the NOP that tells the reaper to stop. */
static char stop_marker;

/* Finish r after its CQE: short transfers and unsupported operations are
 * completed synchronously here, on the reaper thread. */
static void finish(struct uring *u, struct blk_io_req *r, int res)
{
    switch (r->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        if (res >= 0 && (uint64_t)res < r->len) {
            blk_io_advance(r, (uint64_t)res);
            res = res == 0 && r->op == BLK_OP_READ ? -EIO : blk_io_execute(u->io.fd, r);
        } else if (res > 0) {
            res = 0;
        }
        break;
    case BLK_OP_DISCARD:
    case BLK_OP_ZEROES:
        if (res == -EOPNOTSUPP || res == -EINVAL || res == -ENODEV)
            res = blk_io_execute(u->io.fd, r);  /* its own fallbacks, and dsync */
        else if (res == 0 && r->dsync)
            res = fdatasync(u->io.fd) < 0 ? -errno : 0;
        break;
    case BLK_OP_FLUSH:
        break;
    }
    r->result = res < 0 ? res : 0;
    r->complete(r);
}

static void *reaper(void *arg)
{
    struct uring *u = arg;
    struct io_uring_cqe *cqe;

    for (;;) {
        int rc = io_uring_wait_cqe(&u->ring, &cqe);
        if (rc == -EINTR)
            continue;
        if (rc < 0) {
            vmsg_err("blk: io_uring wait failed: %s", strerror(-rc));
            return NULL;
        }
        void *data = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        if (data == &stop_marker)
            return NULL;
        finish(u, data, res);
    }
}

static struct io_uring_sqe *get_sqe(struct uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {     /* full: hand what is queued to the kernel, then retry */
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

static void uring_submit(struct blk_io *io, struct blk_io_req *r)
{
    struct uring *u = (struct uring *)io;
    struct io_uring_sqe *sqe = get_sqe(u);
    int rc;

    if (!sqe) {
        r->result = blk_io_execute(io->fd, r);
        r->complete(r);
        return;
    }
    switch (r->op) {
    case BLK_OP_READ:
        io_uring_prep_readv(sqe, io->fd, r->iov, r->niov, r->offset);
        break;
    case BLK_OP_WRITE:
        io_uring_prep_writev(sqe, io->fd, r->iov, r->niov, r->offset);
        if (r->dsync)
            sqe->rw_flags = RWF_DSYNC;
        break;
    case BLK_OP_FLUSH:
        io_uring_prep_fsync(sqe, io->fd, IORING_FSYNC_DATASYNC);
        break;
    case BLK_OP_DISCARD:
        io_uring_prep_fallocate(sqe, io->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                r->offset, r->len);
        break;
    case BLK_OP_ZEROES:
        io_uring_prep_fallocate(sqe, io->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                                r->offset, r->len);
        break;
    }
    io_uring_sqe_set_data(sqe, r);
    rc = io_uring_submit(&u->ring);
    if (rc < 0)
        vmsg_warn("blk: io_uring submit failed: %s (the reaper completes it later)", strerror(-rc));
}

static void uring_destroy(struct blk_io *io)
{
    struct uring *u = (struct uring *)io;
    struct io_uring_sqe *sqe = get_sqe(u);

    if (sqe) {
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data(sqe, &stop_marker);
        io_uring_submit(&u->ring);
        pthread_join(u->reaper, NULL);
    } else {
        pthread_cancel(u->reaper);
        pthread_join(u->reaper, NULL);
    }
    io_uring_queue_exit(&u->ring);
    free(u);
}

static const struct blk_io_ops uring_ops = {
    .name = "io_uring",
    .submit = uring_submit,
    .destroy = uring_destroy,
};

/* Every opcode we submit must be there, or the engine is not used at all. */
static bool has_opcodes(struct io_uring *ring)
{
    static const int need[] = {
        IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC, IORING_OP_FALLOCATE, IORING_OP_NOP,
    };
    struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
    bool ok = probe != NULL;

    for (size_t i = 0; ok && i < sizeof(need) / sizeof(need[0]); i++)
        ok = io_uring_opcode_supported(probe, need[i]);
    if (probe)
        io_uring_free_probe(probe);
    return ok;
}

int blk_io_uring_create(int fd, bool required, struct blk_io **out)
{
    struct uring *u = calloc(1, sizeof(*u));
    int rc;

    if (!u)
        return -ENOMEM;
    u->io.ops = &uring_ops;
    u->io.fd = fd;
    rc = io_uring_queue_init(URING_DEPTH, &u->ring, 0);
    if (rc < 0) {
        if (required)
            vmsg_err("blk: io_uring_queue_init: %s", strerror(-rc));
        free(u);
        return rc;
    }
    if (!has_opcodes(&u->ring)) {
        if (required)
            vmsg_err("blk: this kernel's io_uring lacks an opcode virtio-blk needs");
        rc = -ENOSYS;
        goto err_ring;
    }
    rc = -pthread_create(&u->reaper, NULL, reaper, u);
    if (rc < 0)
        goto err_ring;
    *out = &u->io;
    return 0;

err_ring:
    io_uring_queue_exit(&u->ring);
    free(u);
    return rc;
}
