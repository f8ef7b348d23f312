/*
 * lib/transport/vmsg_loopback.h: an in-process bus with both ends in one
 * process, for tests, fuzzing, benchmarks and the loopback demo.
 *
 * Owns: two message queues (driver->device, device->driver) with eventfds
 * for wake-ups, and one shared memory region standing in for the memory the
 * guest shares: bus addresses are offsets into it, the driver end allocates
 * from it (struct vmsg_pool) and the device end maps from it with bounds
 * checks. A test can run the device end in its own thread
 * (vmsg_loopback_start_device) or pump it by hand.
 *
 * Test hooks let a test drop, hold or rewrite messages in flight (to prove
 * timeouts, token opacity and malformed-input handling), and make mappings
 * fail as if resources ran out.
 */
#ifndef VMSG_LOOPBACK_H
#define VMSG_LOOPBACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "transport/vmsg_bus.h"
#include "transport/vmsg_device.h"
#include "transport/vmsg_pool.h"

struct vmsg_loopback;

/* One direction of the loopback: a bounded FIFO of whole messages. */
struct vmsg_lb_queue {
    pthread_mutex_t lock;
    uint8_t *buf;           /* ring of (le16 length, bytes) records */
    size_t size;
    size_t head, tail;      /* free-running byte counters */
    int efd;                /* eventfd: readable while non-empty */
    bool closed;
};

struct vmsg_lb_end {
    struct vmsg_bus bus;
    struct vmsg_loopback *lb;
    struct vmsg_lb_queue *in;
    struct vmsg_lb_queue *out;
    bool driver_side;
};

/* Return false to drop the message; may rewrite it in place (len fixed). */
typedef bool (*vmsg_lb_filter)(bool to_device, uint8_t *msg, size_t len, void *opaque);

struct vmsg_loopback {
    struct vmsg_lb_end driver;
    struct vmsg_lb_end device;
    struct vmsg_lb_queue to_device;
    struct vmsg_lb_queue to_driver;
    uint8_t *mem;           /* the shared region */
    size_t mem_size;
    struct vmsg_pool pool;  /* driver-side allocator over mem */
    vmsg_lb_filter filter;
    void *filter_opaque;
    uint64_t maps_live;     /* device-side mappings not yet unmapped */
    /* Test hook: the next fail_maps device-side maps of valid ranges fail
     * with -ENOMEM, as when mapping resources run out (atomic). */
    unsigned fail_maps;
    /* Test hook: called on the device's thread before every device-side
     * map (a guest acting while the device walks its ring); NULL: none. */
    void (*on_device_map)(void *opaque);
    void *on_device_map_opaque;

    pthread_t device_thread;
    bool device_thread_running;
    volatile bool stop;
    struct vmsg_devbus *devbus;
};

/* Create a pair with max message size `max_msg_size` and `mem_size` bytes
 * of shared memory (a multiple of 4096). 0 or -errno. */
int vmsg_loopback_init(struct vmsg_loopback *lb, uint32_t max_msg_size, size_t mem_size);
void vmsg_loopback_destroy(struct vmsg_loopback *lb);

static inline struct vmsg_bus *vmsg_loopback_driver_bus(struct vmsg_loopback *lb)
{
    return &lb->driver.bus;
}
static inline struct vmsg_bus *vmsg_loopback_device_bus(struct vmsg_loopback *lb)
{
    return &lb->device.bus;
}

/* Run vmsg_devbus_poll() on `db` in a thread until _stop_device(). */
int vmsg_loopback_start_device(struct vmsg_loopback *lb, struct vmsg_devbus *db);
void vmsg_loopback_stop_device(struct vmsg_loopback *lb);

/* Simulate the peer going away: both ends see -EPIPE. */
void vmsg_loopback_close(struct vmsg_loopback *lb);

#endif
