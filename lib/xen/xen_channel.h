/*
 * lib/xen/xen_channel.h: the message channel of the Xen bus
 * (docs/protocol.md section 4): one granted page in the io/libxenvchan.h
 * layout, two byte rings carrying whole virtio-msg messages, one event
 * channel, notify-request bits and live bytes.
 *
 * Owns: the channel page (shared by the frontend, the vchan server; mapped
 * by the backend, the vchan client), the event channel port of this end,
 * private copies of the ring orders and of the indices this end writes,
 * and the framing check. A channel whose peer broke the framing is
 * "broken" for good: the bus instance must be closed (section 4.4).
 *
 * Threads: recv()/wait() from one thread; send() may be called from
 * several (serialised by the channel). Every platform call goes through
 * `plat_lock`, which the owner (the bus end) shares with its other users
 * of the same platform handle.
 *
 * Event channel: the channel takes every pending port of its platform
 * handle, so give each bus instance its own handle (one per thread, as
 * platform.h asks).
 */
#ifndef VMSG_XEN_CHANNEL_H
#define VMSG_XEN_CHANNEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen/platform.h"

/* The wire layout (section 4.1), asserted equal to io/libxenvchan.h in
 * xen_channel.c. */
struct vmsg_xen_ring_shared {
    uint32_t cons, prod;
};

struct vmsg_xen_chan_page {
    struct vmsg_xen_ring_shared left;   /* backend -> frontend */
    struct vmsg_xen_ring_shared right;  /* frontend -> backend */
    uint16_t left_order, right_order;
    uint8_t cli_live, srv_live;
    uint8_t cli_notify, srv_notify;
};

#define VMSG_XEN_CHAN_OFF_CLI_LIVE 20
#define VMSG_XEN_CHAN_OFF_SRV_LIVE 21
#define VMSG_XEN_NOTIFY_WRITE 0x1u
#define VMSG_XEN_NOTIFY_READ 0x2u
/* The most pending events one ack() takes off the platform handle: a
 * bound on the work of one turn, whatever the peer does. */
#define VMSG_XEN_CHAN_ACK_MAX 8u
/* Orders the frontend uses in version 1 (section 4.1). */
#define VMSG_XEN_LEFT_ORDER 10u
#define VMSG_XEN_RIGHT_ORDER 11u

struct vmsg_xen_chan {
    struct vmsg_platform *plat;
    pthread_mutex_t *plat_lock;
    pthread_mutex_t send_lock;  /* one writer at a time on the write ring */
    bool server;                /* frontend (shares) or backend (maps) */
    uint32_t peer_domid;
    uint32_t port;              /* our end of the event channel */
    uint32_t ring_ref;          /* server: the grant of the page */
    struct vmsg_xen_chan_page *page;

    /* Private copies: sizes from the orders read once, and the index
     * each side alone writes (our cons of the read ring, our prod of the
     * write ring), so the peer cannot move them under us. */
    struct vmsg_xen_ring_shared *rd, *wr;
    uint8_t *rd_data, *wr_data;
    uint32_t rd_size, wr_size;
    uint32_t rd_cons, wr_prod;
    uint8_t *peer_live, *own_notify, *peer_notify;
    uint32_t max_msg;           /* effective maximum, capped by the rings */
    bool broken;                /* framing error seen: sticky */
    /* Late EOI (as Linux since XSA-332): the ports ack() took stay masked
     * until the work they announced is done; eoi() unmasks each once.
     * Receiving thread only. */
    uint32_t eoi_ports[VMSG_XEN_CHAN_ACK_MAX];
    unsigned eoi_n;
    uint64_t kicks_sent;        /* for tests and statistics */
    uint64_t kicks_received;    /* our port found pending by _ack */
};

/* What vmsg_xen_chan_stats() reports. "rd" is the ring this end reads. */
struct vmsg_xen_chan_stats {
    uint32_t rd_used, rd_size;  /* bytes waiting for us / ring size */
    uint32_t wr_used, wr_size;  /* bytes we wrote the peer has not taken */
    uint64_t kicks_sent, kicks_received;
};

/*
 * Frontend: allocate an unbound port for `peer_domid`, share one zeroed
 * page with it (writable, unmap notification on srv_live and the port),
 * and initialise the page as section 4.1 says (orders 10/11, cli_live 2,
 * srv_live 1, cli_notify NOTIFY_WRITE). `max_msg` is the effective maximum
 * message size (48..65535); the channel lowers it to the smaller ring size.
 * Returns 0 (c->ring_ref and c->port are what F publishes) or -errno; on
 * failure nothing is left allocated.
 */
int vmsg_xen_chan_server_open(struct vmsg_xen_chan *c, struct vmsg_platform *plat,
                              pthread_mutex_t *plat_lock, uint32_t peer_domid,
                              uint32_t max_msg);

/*
 * Backend: bind to `remote_port` of `peer_domid`, map grant `ring_ref`
 * (writable, unmap notification on cli_live and our port), copy the orders
 * once and check them (each 10 or 11, different; else -EPROTO), check
 * srv_live (0: -EPIPE), then set cli_live = 1, set NOTIFY_WRITE in
 * srv_notify and kick the frontend (as libxenvchan's client does).
 * Returns 0 or -errno; on failure nothing is left mapped or bound.
 */
int vmsg_xen_chan_client_open(struct vmsg_xen_chan *c, struct vmsg_platform *plat,
                              pthread_mutex_t *plat_lock, uint32_t peer_domid,
                              uint32_t ring_ref, uint32_t remote_port, uint32_t max_msg);

/*
 * Unmap or unshare the page (which fires our unmap notification: the peer
 * sees our live byte 0 and a kick) and unbind the port. Idempotent.
 */
void vmsg_xen_chan_close(struct vmsg_xen_chan *c);

/*
 * Write one whole message of `len` bytes (8 <= len <= c->max_msg; its
 * msg_size is the caller's business). Waits up to timeout_ms (< 0: no
 * limit) for room. Returns 0 written, -EMSGSIZE / -EINVAL bad len,
 * -ETIMEDOUT no room in time, -EPIPE peer gone or channel broken.
 */
int vmsg_xen_chan_send(struct vmsg_xen_chan *c, const void *msg, size_t len, int timeout_ms);

/*
 * Take the next whole message into buf (cap >= c->max_msg, else -EINVAL).
 * Returns its length, 0 if no whole message is there yet, -EPIPE if the
 * peer is gone (its live byte is 0), -EPROTO if the peer broke the framing
 * (prod - cons > ring size, msg_size < 8 or > c->max_msg): sticky.
 */
int vmsg_xen_chan_recv(struct vmsg_xen_chan *c, void *buf, size_t cap);

/*
 * Block until recv() may have something (a whole message, the peer gone,
 * a framing error) or timeout_ms passes (-1: no limit). Takes the pending
 * events (ack()); when nothing is ready the work they announced is done,
 * so it unmasks them (eoi()), asks the peer for a kick and sleeps.
 * Returns 1 maybe ready (the events taken stay masked until the next
 * wait() finds nothing or eoi() is called), 0 timed out, -errno.
 */
int vmsg_xen_chan_wait(struct vmsg_xen_chan *c, int timeout_ms);

/*
 * Take up to VMSG_XEN_CHAN_ACK_MAX pending events of the platform handle
 * and keep their ports masked: call when the fd polled readable, then
 * re-check the rings, and call eoi() once the work is done. Bounded: it
 * never loops on how often the peer kicks, so a guest kicking in a tight
 * loop cannot keep the receiving thread here (late EOI).
 */
void vmsg_xen_chan_ack(struct vmsg_xen_chan *c);

/*
 * Unmask, once each, the ports ack() took: the end of the work they
 * announced. A kick latched meanwhile makes the fd readable again (one
 * event, not a loop). Call before sleeping on the fd. Idempotent.
 */
void vmsg_xen_chan_eoi(struct vmsg_xen_chan *c);

/*
 * Ring fill and kick counts, for statistics. Call from the thread that
 * receives, while the channel is open (it reads the shared page); a
 * peer's impossible index shows as a full ring.
 */
void vmsg_xen_chan_stats(struct vmsg_xen_chan *c, struct vmsg_xen_chan_stats *out);

/* The fd that polls readable on a kick (the platform's event fd). */
int vmsg_xen_chan_fd(struct vmsg_xen_chan *c);

/* Whether the peer's live byte is non-zero (2 counts: not yet connected). */
bool vmsg_xen_chan_peer_alive(struct vmsg_xen_chan *c);

#endif
