/*
 * backend/devices/blk_io.c: choosing the I/O engine, and executing one
 * request synchronously (the thread pool's whole job, and io_uring's
 * fallback for short transfers and operations a file does not support).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <unistd.h>

#include "blk_io.h"
#include "util/vmsg_log.h"

int blk_io_create(int fd, const char *mode, struct blk_io **out)
{
    int rc;

    if (strcmp(mode, "threads") == 0)
        return blk_io_threads_create(fd, out);
    if (strcmp(mode, "uring") != 0 && strcmp(mode, "auto") != 0)
        return -EINVAL;
    rc = blk_io_uring_create(fd, strcmp(mode, "uring") == 0, out);
    if (rc == 0 || strcmp(mode, "uring") == 0)
        return rc;
    vmsg_info("blk: io_uring unavailable (%s), using the thread pool", strerror(-rc));
    return blk_io_threads_create(fd, out);
}

void blk_io_destroy(struct blk_io *io)
{
    if (io)
        io->ops->destroy(io);
}

void blk_io_submit(struct blk_io *io, struct blk_io_req *r)
{
    io->ops->submit(io, r);
}

const char *blk_io_engine(const struct blk_io *io)
{
    return io->ops->name;
}

void blk_io_advance(struct blk_io_req *r, uint64_t done)
{
    r->offset += done;
    r->len -= done;
    while (r->niov && done >= r->iov[0].iov_len) {
        done -= r->iov[0].iov_len;
        r->iov++;
        r->niov--;
    }
    if (r->niov && done) {
        r->iov[0].iov_base = (uint8_t *)r->iov[0].iov_base + done;
        r->iov[0].iov_len -= done;
    }
}

static int rw(int fd, struct blk_io_req *r)
{
    while (r->len) {
        ssize_t n;
        if (r->op == BLK_OP_READ)
            n = preadv(fd, r->iov, (int)r->niov, (off_t)r->offset);
        else
            n = pwritev2(fd, r->iov, (int)r->niov, (off_t)r->offset, r->dsync ? RWF_DSYNC : 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;    /* the file shrank under us */
        blk_io_advance(r, (uint64_t)n);
    }
    return 0;
}

/* Zeroes by writing them, for files that support no zeroing fallocate. */
static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
    static const uint8_t zero[65536];
    while (len) {
        size_t chunk = len < sizeof(zero) ? (size_t)len : sizeof(zero);
        ssize_t n = pwrite(fd, zero, chunk, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

static bool unsupported(int err)
{
    return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL || err == ENODEV;
}

int blk_io_execute(int fd, struct blk_io_req *r)
{
    int rc = 0;

    switch (r->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        return rw(fd, r);
    case BLK_OP_FLUSH:
        return fdatasync(fd) < 0 ? -errno : 0;
    case BLK_OP_DISCARD:
        if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)r->offset,
                      (off_t)r->len) < 0 && !unsupported(errno))
            return -errno;
        return 0;
    case BLK_OP_ZEROES:
        if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)r->offset,
                      (off_t)r->len) == 0)
            break;
        if (!unsupported(errno))
            return -errno;
        /* tmpfs and some others punch holes but do not zero ranges. */
        if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)r->offset,
                      (off_t)r->len) == 0)
            break;
        if (!unsupported(errno))
            return -errno;
        rc = write_zeroes(fd, r->offset, r->len);
        break;
    }
    if (rc == 0 && r->dsync && fdatasync(fd) < 0)
        rc = -errno;
    return rc;
}
