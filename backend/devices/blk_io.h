/*
 * backend/devices/blk_io.h: asynchronous I/O on a virtio-blk backing file.
 *
 * Owns: the I/O engines (io_uring through liburing, or a small thread pool
 * doing the same work with plain syscalls) and the synchronous execution of
 * one request that both fall back on. A request is submitted from the bus
 * thread and completed exactly once, on one of the engine's own threads,
 * through its complete() callback.
 */
#ifndef VMSG_BLK_IO_H
#define VMSG_BLK_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum blk_op {
    BLK_OP_READ,
    BLK_OP_WRITE,
    BLK_OP_FLUSH,       /* fdatasync */
    BLK_OP_DISCARD,     /* advisory: unsupported by the file is still success */
    BLK_OP_ZEROES,      /* reads as zero afterwards, whatever the file supports */
};

struct blk_io_req {
    enum blk_op op;
    uint64_t offset;            /* bytes */
    uint64_t len;               /* bytes; READ/WRITE: the sum of iov */
    bool dsync;                 /* write-through: data on disk before completion */
    struct iovec *iov;          /* READ/WRITE; may be advanced in place */
    unsigned niov;
    int result;                 /* 0 or -errno, set before complete() */
    void (*complete)(struct blk_io_req *r);
};

struct blk_io;

/*
 * Start an engine on `fd`. `mode`: "uring" (io_uring or fail), "threads",
 * or "auto" (io_uring where the kernel offers every opcode we use, else
 * threads). 0 and *out, -ENOSYS/-EPERM (uring refused), -EINVAL, -ENOMEM.
 */
int blk_io_create(int fd, const char *mode, struct blk_io **out);
/* Every submitted request must have completed. Stops the threads. */
void blk_io_destroy(struct blk_io *io);
/* Submit from the bus thread; completes later on an engine thread. */
void blk_io_submit(struct blk_io *io, struct blk_io_req *r);
/* "io_uring" or "threads". */
const char *blk_io_engine(const struct blk_io *io);

/* --- shared by the engines ---------------------------------------------- */
struct blk_io_ops {
    const char *name;
    void (*submit)(struct blk_io *io, struct blk_io_req *r);
    void (*destroy)(struct blk_io *io);
};

struct blk_io {
    const struct blk_io_ops *ops;
    int fd;
};

/* Do (the rest of) r with blocking syscalls. 0 or -errno. */
int blk_io_execute(int fd, struct blk_io_req *r);
/* Drop the first `done` bytes of r's iovec and offset (a short transfer). */
void blk_io_advance(struct blk_io_req *r, uint64_t done);

int blk_io_uring_create(int fd, bool required, struct blk_io **out);
int blk_io_threads_create(int fd, struct blk_io **out);

#endif
