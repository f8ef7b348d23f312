/*
 * lib/transport/vmsg_bus.h: the abstract bus both transports sit on.
 *
 * A bus moves whole virtio-msg messages between the driver side and the
 * device side of one bus instance, and says what a bus address means: on
 * the device side it translates a guest's bus address range into local
 * memory (bounds-checked), on the driver side it hands out memory the peer
 * can reach (vrings, buffers). Implementations: the in-process loopback bus
 * (lib/transport/vmsg_loopback.h) and the Xen bus (lib/xen).
 *
 * An implementation embeds struct vmsg_bus and recovers itself with
 * container_of(). All calls for one bus end come from one thread, except
 * send(), which implementations make safe to call from several.
 */
#ifndef VMSG_BUS_H
#define VMSG_BUS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/vmsg_proto.h"

#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

struct vmsg_bus;

/* A translated bus address range: `len` bytes at `ptr`, valid until unmap. */
struct vmsg_mapping {
    uint8_t *ptr;
    size_t len;
    void *cookie;           /* the bus's own bookkeeping */
};

struct vmsg_bus_ops {
    /* Queue one whole message of `len` bytes (len == its msg_size). Waits at
     * most `timeout_ms` for room. 0 queued, -ETIMEDOUT no room in time,
     * -EPIPE the peer is gone, -EMSGSIZE len above the bus maximum. */
    int (*send)(struct vmsg_bus *bus, const void *msg, size_t len, int timeout_ms);

    /* Take the next whole message into buf (cap >= max_msg_size). Returns
     * its length, 0 if none is ready, -EPIPE if the peer is gone, -EPROTO if
     * the peer broke the framing (the bus instance must then be reset). */
    int (*recv)(struct vmsg_bus *bus, void *buf, size_t cap);

    /* Block until recv() may have something or timeout_ms passes (-1: no
     * limit). >0 maybe ready, 0 timed out, <0 error. */
    int (*wait)(struct vmsg_bus *bus, int timeout_ms);

    /* A file descriptor that becomes readable when recv() may have
     * something, for event loops; -1 if the bus has none. */
    int (*fd)(struct vmsg_bus *bus);

    /* Optional. The caller is done with the work wait() announced and is
     * about to sleep on fd(): re-enable the wake-ups the bus held back
     * meanwhile (on Xen, the late EOI of the event channel). */
    void (*rearm)(struct vmsg_bus *bus);

    /* Device side: translate [addr, addr+len) to local memory. 0 on success;
     * -EFAULT if any byte lies outside what the peer shared (never a
     * partial mapping), -ENOMEM if mapping resources ran out. */
    int (*map)(struct vmsg_bus *bus, uint64_t addr, uint64_t len, bool writable,
               struct vmsg_mapping *out);
    void (*unmap)(struct vmsg_bus *bus, struct vmsg_mapping *m);

    /* Driver side: memory the device can reach. `align` is a power of two
     * <= 4096; an allocation of at most 4096 bytes never crosses a 4 KiB
     * page of the bus address space (Xen grants are 4 KiB even where the
     * guest's pages are larger). Returns 0 and fills *addr and *ptr, or
     * -ENOMEM. NULL on the device side. */
    int (*alloc)(struct vmsg_bus *bus, size_t len, size_t align, uint64_t *addr, void **ptr);
    void (*free)(struct vmsg_bus *bus, uint64_t addr, size_t len);
};

enum vmsg_bus_dir {
    VMSG_BUS_SENT,
    VMSG_BUS_RECEIVED,
};

/*
 * Optional observer of the traffic of one bus end (vmsg-backend --trace):
 * called with every whole message this end sent (after the bus took it)
 * or received (before anyone acts on it, so a malformed one is seen too).
 * `msg` is valid only during the call. Called from every thread that
 * sends, so it must be thread-safe. NULL (the default) costs one branch.
 */
typedef void vmsg_bus_trace_fn(void *opaque, const struct vmsg_bus *bus, enum vmsg_bus_dir dir,
                               const void *msg, size_t len);

struct vmsg_bus {
    const struct vmsg_bus_ops *ops;
    struct vmsg_wire wire;          /* layout and maximum message size */
    uint32_t revision;              /* transport revision: 1 */
    uint32_t transport_features;    /* v1 defines none: 0 */
    char name[48];                  /* for log lines: "dom3/bus0" */
    vmsg_bus_trace_fn *trace;       /* set before traffic starts, or NULL */
    void *trace_opaque;
};

static inline int vmsg_bus_send(struct vmsg_bus *b, const void *msg, size_t len, int timeout_ms)
{
    int rc = b->ops->send(b, msg, len, timeout_ms);

    if (b->trace && rc == 0)
        b->trace(b->trace_opaque, b, VMSG_BUS_SENT, msg, len);
    return rc;
}
static inline int vmsg_bus_recv(struct vmsg_bus *b, void *buf, size_t cap)
{
    int len = b->ops->recv(b, buf, cap);

    if (b->trace && len > 0)
        b->trace(b->trace_opaque, b, VMSG_BUS_RECEIVED, buf, (size_t)len);
    return len;
}
static inline int vmsg_bus_wait(struct vmsg_bus *b, int timeout_ms)
{
    return b->ops->wait(b, timeout_ms);
}
static inline void vmsg_bus_rearm(struct vmsg_bus *b)
{
    if (b->ops->rearm)
        b->ops->rearm(b);
}
static inline int vmsg_bus_map(struct vmsg_bus *b, uint64_t addr, uint64_t len,
                               bool writable, struct vmsg_mapping *out)
{
    return b->ops->map(b, addr, len, writable, out);
}
static inline void vmsg_bus_unmap(struct vmsg_bus *b, struct vmsg_mapping *m)
{
    if (b->ops->unmap)
        b->ops->unmap(b, m);
}
static inline int vmsg_bus_alloc(struct vmsg_bus *b, size_t len, size_t align,
                                 uint64_t *addr, void **ptr)
{
    return b->ops->alloc ? b->ops->alloc(b, len, align, addr, ptr) : -ENOSYS;
}
static inline void vmsg_bus_free(struct vmsg_bus *b, uint64_t addr, size_t len)
{
    if (b->ops->free)
        b->ops->free(b, addr, len);
}

/* Encode *m for this bus and send it. Returns 0 or a negative errno. */
int vmsg_bus_send_msg(struct vmsg_bus *b, const struct vmsg_msg *m, int timeout_ms);

#endif
