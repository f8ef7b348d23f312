/*
 * frontend-shim/drivers/vmsg_drivers.h: userspace virtio drivers (rng,
 * console, blk) on the driver-side transport and lib/virtq, with a small
 * synchronous API for the vmsg-front CLI and the system tests.
 *
 * Owns: bringing a device up (probe, feature negotiation, queue setup,
 * DRIVER_OK) and down (reset, rings freed), bounce buffers in bus memory
 * (each at most 4 KiB, so none crosses a granted page), and waiting for
 * used buffers with a bounded timeout. Single-threaded, like the drvbus
 * underneath: one thread per bus instance.
 *
 * Return values: >= 0 success (a byte count where said), -ETIMEDOUT (the
 * device did not answer in time), -EIO (the device returned an I/O error or
 * broke a ring: the device must then be reopened), -ENOTSUP (the device
 * lacks the feature), -ERANGE (sector range beyond the disk), -EROFS
 * (write to a read-only disk), -ENODEV (not that kind of device), other
 * negative errno.
 */
#ifndef VMSG_DRIVERS_H
#define VMSG_DRIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "transport/vmsg_driver.h"

#define VMSG_DRIVERS_TIMEOUT_MS 10000

/* --- riding out a backend restart (opt-in) --------------------------------- */
/*
 * How a driver gets its bus back when the backend went away; libvmsg-front
 * provides both calls (vmsg_front_reconnect(), vmsg_front_connection()).
 * A request that fails as if the bus were gone (-EPIPE, -EPROTO,
 * -ETIMEDOUT) calls reconnect(opaque, since) with the connection its
 * device was set up on. On 0 the driver forgets what it had on the old
 * connection, sets the device up again (probe, features, queues) and
 * resubmits, in the order they were started, every request not yet
 * returned to its caller: a write acknowledged before the loss is never
 * lost, one not acknowledged is written again. On -EALREADY (the bus
 * never went away) the request fails with its own error; on another error
 * (the backend did not come back in time) with that one.
 */
struct vmsg_drv_reconnect {
    int (*reconnect)(void *opaque, uint32_t since);
    uint32_t (*connection)(void *opaque);
    void *opaque;
};

/* --- virtio-rng ---------------------------------------------------------- */
struct vmsg_rng;
int vmsg_rng_open(struct vmsg_drvbus *db, uint16_t dev_num, struct vmsg_rng **out);
/* Fill buf with up to len random bytes from the device. Returns len, fewer
 * when a device whose source ran dry had given some, or -errno (-EIO when it
 * gave none). */
ssize_t vmsg_rng_read(struct vmsg_rng *r, void *buf, size_t len);
void vmsg_rng_close(struct vmsg_rng *r);

/* --- virtio-console ------------------------------------------------------- */
struct vmsg_console;
int vmsg_console_open(struct vmsg_drvbus *db, uint16_t dev_num, struct vmsg_console **out);
/* Send all of buf to the host end. Returns len or -errno. */
ssize_t vmsg_console_write(struct vmsg_console *c, const void *buf, size_t len);
/* Receive up to len bytes of host input, waiting at most timeout_ms for
 * the first. Returns the byte count, 0 on timeout, or -errno. */
ssize_t vmsg_console_read(struct vmsg_console *c, void *buf, size_t len, int timeout_ms);
/* VIRTIO_CONSOLE_F_SIZE: 0 and the size, or -ENOTSUP. */
int vmsg_console_size(struct vmsg_console *c, uint16_t *rows, uint16_t *cols);
void vmsg_console_close(struct vmsg_console *c);

/* --- virtio-blk ------------------------------------------------------------ */
struct vmsg_blk;
/* Open with up to `want_queues` request queues (MQ; fewer if the device
 * has fewer). */
int vmsg_blk_open(struct vmsg_drvbus *db, uint16_t dev_num, unsigned want_queues,
                  struct vmsg_blk **out);
void vmsg_blk_close(struct vmsg_blk *b);

/* Ride out backend restarts from now on (r is copied; NULL: never). */
void vmsg_blk_set_reconnect(struct vmsg_blk *b, const struct vmsg_drv_reconnect *r);
/* How many times the device was set up again on a new connection. */
unsigned vmsg_blk_reconnects(const struct vmsg_blk *b);

uint64_t vmsg_blk_capacity(const struct vmsg_blk *b);     /* 512-byte sectors */
bool vmsg_blk_read_only(const struct vmsg_blk *b);
unsigned vmsg_blk_num_queues(const struct vmsg_blk *b);
uint32_t vmsg_blk_block_size(const struct vmsg_blk *b);
/* Largest transfer one request carries, in bytes. */
size_t vmsg_blk_max_transfer(const struct vmsg_blk *b);
/* The device's id string (GET_ID), NUL-terminated, at most 20 bytes. */
int vmsg_blk_get_id(struct vmsg_blk *b, char id[21]);

/* Synchronous sector I/O on queue q. nsectors * 512 bytes at buf. 0 or
 * -errno. */
int vmsg_blk_read(struct vmsg_blk *b, unsigned q, uint64_t sector, void *buf, uint32_t nsectors);
int vmsg_blk_write(struct vmsg_blk *b, unsigned q, uint64_t sector, const void *buf,
                   uint32_t nsectors);
int vmsg_blk_flush(struct vmsg_blk *b, unsigned q);
int vmsg_blk_discard(struct vmsg_blk *b, unsigned q, uint64_t sector, uint32_t nsectors);
int vmsg_blk_write_zeroes(struct vmsg_blk *b, unsigned q, uint64_t sector, uint32_t nsectors);

/*
 * Asynchronous form, for several requests in flight on several queues:
 * start a read or write, then wait for it. A started request must be waited
 * for (it owns bus memory until then). buf must stay valid until the wait
 * (a write is copied from it again if it is resubmitted after a backend
 * restart).
 */
struct vmsg_blk_req;
int vmsg_blk_start(struct vmsg_blk *b, unsigned q, bool write, uint64_t sector, void *buf,
                   uint32_t nsectors, struct vmsg_blk_req **out);
/* Wait for r, copy read data out, free r. 0 or -errno. */
int vmsg_blk_wait(struct vmsg_blk *b, struct vmsg_blk_req *r);

#endif
