/*
 * lib/xen/xen_channel.c: the message channel (see xen_channel.h).
 *
 * Memory ordering follows docs/protocol.md section 4.2 and 4.5, with the
 * __atomic builtins so it is right on Arm64 as well as x86: every barrier
 * says which accesses it orders and which barrier of the peer it pairs with.
 */
#include "config.h"

#include "xen/xen_channel.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <xen/io/libxenvchan.h>

#include "proto/vmsg_le.h"
#include "proto/vmsg_proto.h"
#include "util/vmsg_log.h"

/* Our layout is Xen's: a libxenvchan peer is a valid peer (section 2.3). */
_Static_assert(sizeof(struct vmsg_xen_chan_page) == offsetof(struct vchan_interface, grants),
               "channel header size");
_Static_assert(offsetof(struct vmsg_xen_chan_page, left) == offsetof(struct vchan_interface, left),
               "left");
_Static_assert(offsetof(struct vmsg_xen_chan_page, right) ==
                   offsetof(struct vchan_interface, right), "right");
_Static_assert(offsetof(struct vmsg_xen_chan_page, left_order) ==
                   offsetof(struct vchan_interface, left_order), "left_order");
_Static_assert(offsetof(struct vmsg_xen_chan_page, right_order) ==
                   offsetof(struct vchan_interface, right_order), "right_order");
_Static_assert(offsetof(struct vmsg_xen_chan_page, cli_live) == VMSG_XEN_CHAN_OFF_CLI_LIVE &&
                   offsetof(struct vchan_interface, cli_live) == VMSG_XEN_CHAN_OFF_CLI_LIVE,
               "cli_live");
_Static_assert(offsetof(struct vmsg_xen_chan_page, srv_live) == VMSG_XEN_CHAN_OFF_SRV_LIVE &&
                   offsetof(struct vchan_interface, srv_live) == VMSG_XEN_CHAN_OFF_SRV_LIVE,
               "srv_live");
_Static_assert(offsetof(struct vmsg_xen_chan_page, cli_notify) ==
                   offsetof(struct vchan_interface, cli_notify), "cli_notify");
_Static_assert(offsetof(struct vmsg_xen_chan_page, srv_notify) ==
                   offsetof(struct vchan_interface, srv_notify), "srv_notify");
_Static_assert(VMSG_XEN_NOTIFY_WRITE == VCHAN_NOTIFY_WRITE &&
                   VMSG_XEN_NOTIFY_READ == VCHAN_NOTIFY_READ, "notify bits");

/* How long a sender waiting for room sleeps between checks. It does not
 * take events off the port: the receiving thread may be sleeping on them. */
#define SEND_POLL_MS 1

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static void kick(struct vmsg_xen_chan *c)
{
    pthread_mutex_lock(c->plat_lock);
    if (vmsg_plat_evtchn_notify(c->plat, c->port) == 0)
        __atomic_add_fetch(&c->kicks_sent, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(c->plat_lock);
}

void vmsg_xen_chan_ack(struct vmsg_xen_chan *c)
{
    uint32_t port;

    pthread_mutex_lock(c->plat_lock);
    /* A taken port stays masked until eoi(), so it cannot come back
     * before then: at most one event per bound port, and at most
     * VMSG_XEN_CHAN_ACK_MAX per call; the rest wait in the fd. */
    while (c->eoi_n < VMSG_XEN_CHAN_ACK_MAX && vmsg_plat_evtchn_pending(c->plat, &port) == 0) {
        bool known = false;

        if (port == c->port)
            __atomic_add_fetch(&c->kicks_received, 1, __ATOMIC_RELAXED);
        for (unsigned i = 0; i < c->eoi_n; i++)
            known |= c->eoi_ports[i] == port;
        if (!known)
            c->eoi_ports[c->eoi_n++] = port;
    }
    pthread_mutex_unlock(c->plat_lock);
}

void vmsg_xen_chan_eoi(struct vmsg_xen_chan *c)
{
    if (!c->eoi_n)
        return;
    pthread_mutex_lock(c->plat_lock);
    for (unsigned i = 0; i < c->eoi_n; i++)
        vmsg_plat_evtchn_unmask(c->plat, c->eoi_ports[i]);
    c->eoi_n = 0;
    pthread_mutex_unlock(c->plat_lock);
}

void vmsg_xen_chan_stats(struct vmsg_xen_chan *c, struct vmsg_xen_chan_stats *out)
{
    /* Snapshots for a status display: the peer's indices may move right
     * after; an impossible one shows as a full ring (the data path
     * reports it as the error it is). */
    uint32_t rd_used = __atomic_load_n(&c->rd->prod, __ATOMIC_ACQUIRE) - c->rd_cons;
    uint32_t wr_used = __atomic_load_n(&c->wr_prod, __ATOMIC_RELAXED) -
                       __atomic_load_n(&c->wr->cons, __ATOMIC_ACQUIRE);

    out->rd_size = c->rd_size;
    out->wr_size = c->wr_size;
    out->rd_used = min_u32(rd_used, c->rd_size);
    out->wr_used = min_u32(wr_used, c->wr_size);
    out->kicks_sent = __atomic_load_n(&c->kicks_sent, __ATOMIC_RELAXED);
    out->kicks_received = __atomic_load_n(&c->kicks_received, __ATOMIC_RELAXED);
}

int vmsg_xen_chan_fd(struct vmsg_xen_chan *c)
{
    return vmsg_plat_evtchn_fd(c->plat);
}

bool vmsg_xen_chan_peer_alive(struct vmsg_xen_chan *c)
{
    return c->page && __atomic_load_n(c->peer_live, __ATOMIC_ACQUIRE) != 0;
}

/* Point the private ring views at the page once the orders are known. */
static void layout(struct vmsg_xen_chan *c, unsigned left_order, unsigned right_order,
                   uint32_t max_msg)
{
    uint8_t *base = (uint8_t *)c->page;
    /* Single-page rings: order 10 lives at offset 1024, order 11 at 2048. */
    uint8_t *left = base + (1u << left_order);
    uint8_t *right = base + (1u << right_order);

    if (c->server) {
        c->rd = &c->page->left;
        c->rd_data = left;
        c->rd_size = 1u << left_order;
        c->wr = &c->page->right;
        c->wr_data = right;
        c->wr_size = 1u << right_order;
        c->peer_live = &c->page->cli_live;
        c->own_notify = &c->page->srv_notify;
        c->peer_notify = &c->page->cli_notify;
    } else {
        c->rd = &c->page->right;
        c->rd_data = right;
        c->rd_size = 1u << right_order;
        c->wr = &c->page->left;
        c->wr_data = left;
        c->wr_size = 1u << left_order;
        c->peer_live = &c->page->srv_live;
        c->own_notify = &c->page->cli_notify;
        c->peer_notify = &c->page->srv_notify;
    }
    /* A message must fit the ring it travels in; both ends compute the
     * same bound from the same orders, so they agree on it. */
    c->max_msg = min_u32(max_msg, min_u32(c->rd_size, c->wr_size));
}

int vmsg_xen_chan_server_open(struct vmsg_xen_chan *c, struct vmsg_platform *plat,
                              pthread_mutex_t *plat_lock, uint32_t peer_domid,
                              uint32_t max_msg)
{
    void *page = NULL;
    int rc;

    memset(c, 0, sizeof(*c));
    if (max_msg < VMSG_V1_USABLE_MIN_MSG_SIZE || max_msg > VMSG_LIMIT_MAX_MSG_SIZE)
        return -EINVAL;
    c->plat = plat;
    c->plat_lock = plat_lock;
    c->server = true;
    c->peer_domid = peer_domid;
    pthread_mutex_lock(plat_lock);
    rc = vmsg_plat_evtchn_bind_unbound(plat, peer_domid, &c->port);
    if (rc) {
        vmsg_err("channel to dom%u: allocating an event channel: %s", peer_domid,
                 vmsg_plat_last_error(plat));
        goto err_unlock;
    }
    /* The unmap notification tells the backend we are gone, also when
     * this process crashes (section 4.3). */
    rc = vmsg_plat_gntshr_share(plat, peer_domid, 1, true, VMSG_XEN_CHAN_OFF_SRV_LIVE,
                                (long)c->port, &c->ring_ref, &page);
    if (rc) {
        vmsg_err("channel to dom%u: sharing the page: %s", peer_domid,
                 vmsg_plat_last_error(plat));
        goto err_unbind;
    }
    pthread_mutex_unlock(plat_lock);

    /* The page is zeroed (indices 0). The backend learns its grant only
     * from xenstore, which we write after this, so these plain stores are
     * complete before the peer can look. */
    c->page = page;
    c->page->left_order = VMSG_XEN_LEFT_ORDER;
    c->page->right_order = VMSG_XEN_RIGHT_ORDER;
    c->page->cli_live = 2;
    c->page->srv_live = 1;
    c->page->cli_notify = VMSG_XEN_NOTIFY_WRITE;
    c->page->srv_notify = 0;
    layout(c, VMSG_XEN_LEFT_ORDER, VMSG_XEN_RIGHT_ORDER, max_msg);
    pthread_mutex_init(&c->send_lock, NULL);
    return 0;

err_unbind:
    vmsg_plat_evtchn_unbind(plat, c->port);
err_unlock:
    pthread_mutex_unlock(plat_lock);
    memset(c, 0, sizeof(*c));
    return rc;
}

static bool order_ok(unsigned o)
{
    return o == 10 || o == 11;
}

int vmsg_xen_chan_client_open(struct vmsg_xen_chan *c, struct vmsg_platform *plat,
                              pthread_mutex_t *plat_lock, uint32_t peer_domid,
                              uint32_t ring_ref, uint32_t remote_port, uint32_t max_msg)
{
    void *page = NULL;
    unsigned lo, ro;
    int rc;

    memset(c, 0, sizeof(*c));
    if (max_msg < VMSG_V1_USABLE_MIN_MSG_SIZE || max_msg > VMSG_LIMIT_MAX_MSG_SIZE)
        return -EINVAL;
    c->plat = plat;
    c->plat_lock = plat_lock;
    c->server = false;
    c->peer_domid = peer_domid;
    c->ring_ref = ring_ref;
    pthread_mutex_lock(plat_lock);
    rc = vmsg_plat_evtchn_bind_interdomain(plat, peer_domid, remote_port, &c->port);
    if (rc) {
        vmsg_err("channel to dom%u: binding event channel %u: %s", peer_domid, remote_port,
                 vmsg_plat_last_error(plat));
        goto err_unlock;
    }
    /* Our unmap (or death) clears cli_live and kicks the frontend. */
    rc = vmsg_plat_gnttab_map(plat, peer_domid, 1, &ring_ref, true, VMSG_XEN_CHAN_OFF_CLI_LIVE,
                              (long)c->port, &page);
    if (rc) {
        vmsg_err("channel to dom%u: mapping ring-ref %u: %s", peer_domid, ring_ref,
                 vmsg_plat_last_error(plat));
        goto err_unbind;
    }
    pthread_mutex_unlock(plat_lock);
    c->page = page;

    /* The orders are read once; the frontend could change the shared copy
     * at any time, so only these private values are used from here on. */
    lo = __atomic_load_n(&c->page->left_order, __ATOMIC_RELAXED);
    ro = __atomic_load_n(&c->page->right_order, __ATOMIC_RELAXED);
    if (!order_ok(lo) || !order_ok(ro) || lo == ro) {
        vmsg_warn("channel to dom%u: ring orders %u/%u are not a single-page pair (10/11)",
                  peer_domid, lo, ro);
        rc = -EPROTO;
        goto err_unmap;
    }
    layout(c, lo, ro, max_msg);
    if (!vmsg_xen_chan_peer_alive(c)) {
        vmsg_warn("channel to dom%u: srv_live is 0: the frontend is gone", peer_domid);
        rc = -EPIPE;
        goto err_unmap;
    }
    /* Start from the indices as they are: a fresh page has them at 0, and
     * from now on we alone write our cons and our prod. */
    c->rd_cons = __atomic_load_n(&c->rd->cons, __ATOMIC_RELAXED);
    c->wr_prod = __atomic_load_n(&c->wr->prod, __ATOMIC_RELAXED);
    pthread_mutex_init(&c->send_lock, NULL);
    /* Release: our setup is complete before the frontend sees us live. */
    __atomic_store_n(&c->page->cli_live, 1, __ATOMIC_RELEASE);
    /* Section 4.3, as libxenvchan's client does: ask for a kick on the
     * frontend's next write and kick it now, so a libxenvchan server
     * sleeping in libxenvchan_wait() until cli_live is 1 wakes up. Our
     * own frontend takes the kick as a spurious one. */
    __atomic_fetch_or(&c->page->srv_notify, (uint8_t)VMSG_XEN_NOTIFY_WRITE, __ATOMIC_SEQ_CST);
    kick(c);
    return 0;

err_unmap:
    pthread_mutex_lock(plat_lock);
    vmsg_plat_gnttab_unmap(plat, page, 1);
err_unbind:
    vmsg_plat_evtchn_unbind(plat, c->port);
err_unlock:
    pthread_mutex_unlock(plat_lock);
    memset(c, 0, sizeof(*c));
    return rc;
}

void vmsg_xen_chan_close(struct vmsg_xen_chan *c)
{
    if (!c->page)
        return;
    pthread_mutex_lock(c->plat_lock);
    /* Unmap first: the unmap notification kicks the peer through our
     * port, which must still be bound. */
    if (c->server)
        vmsg_plat_gntshr_unshare(c->plat, c->page, 1);
    else
        vmsg_plat_gnttab_unmap(c->plat, c->page, 1);
    vmsg_plat_evtchn_unbind(c->plat, c->port);
    pthread_mutex_unlock(c->plat_lock);
    pthread_mutex_destroy(&c->send_lock);
    c->page = NULL;
    c->port = 0;
    c->eoi_n = 0;       /* the ports are gone with the binding */
}

/* ---- data path -------------------------------------------------------------- */

static void ring_copy_out(const uint8_t *ring, uint32_t size, uint32_t idx, uint8_t *dst,
                          uint32_t n)
{
    uint32_t off = idx & (size - 1);
    uint32_t first = min_u32(n, size - off);

    memcpy(dst, ring + off, first);
    memcpy(dst + first, ring, n - first);
}

static void ring_copy_in(uint8_t *ring, uint32_t size, uint32_t idx, const uint8_t *src,
                         uint32_t n)
{
    uint32_t off = idx & (size - 1);
    uint32_t first = min_u32(n, size - off);

    memcpy(ring + off, src, first);
    memcpy(ring, src + first, n - first);
}

static void framing_error(struct vmsg_xen_chan *c, const char *what, uint32_t value)
{
    if (!c->broken)
        vmsg_err("channel %s dom%u: framing error: %s %u (ring %u, max message %u); "
                 "nothing later in the ring is trusted",
                 c->server ? "to backend" : "from frontend", c->peer_domid, what, value,
                 c->rd_size, c->max_msg);
    c->broken = true;
}

/*
 * After moving an index: if the peer asked for a kick on this kind of
 * progress (bit set in our notify byte), clear the bit and kick.
 */
static void notify_peer(struct vmsg_xen_chan *c, uint8_t bit)
{
    /* Full barrier: the index store above must be visible before we read
     * the notify byte. It pairs with the peer's barrier between setting
     * the bit and re-reading the index (request_kick()), so either we see
     * its request or it sees our new index. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_fetch_and(c->own_notify, (uint8_t)~bit, __ATOMIC_SEQ_CST) & bit)
        kick(c);
}

/* Ask the peer to kick us on its next write (or read) of our rings. */
static void request_kick(struct vmsg_xen_chan *c, uint8_t bit)
{
    __atomic_fetch_or(c->peer_notify, bit, __ATOMIC_SEQ_CST);
    /* Full barrier: the request must be visible before we re-read the
     * peer's index; pairs with the fence in the peer's notify_peer(). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * Room for `len` bytes in the write ring: 1 yes, 0 no, -EPIPE the peer's
 * cons is impossible (it ran ahead of our prod or more than a ring behind).
 */
static int write_room(struct vmsg_xen_chan *c, uint32_t len)
{
    /* Acquire: the peer finished copying the bytes it consumed (its full
     * barrier before storing cons) before we overwrite them. */
    uint32_t cons = __atomic_load_n(&c->wr->cons, __ATOMIC_ACQUIRE);
    uint32_t used = c->wr_prod - cons;

    if (used > c->wr_size) {
        if (!c->broken)
            vmsg_err("channel %s dom%u: peer's consumer index %u is impossible (prod %u)",
                     c->server ? "to backend" : "from frontend", c->peer_domid, cons,
                     c->wr_prod);
        c->broken = true;
        return -EPIPE;
    }
    return c->wr_size - used >= len;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };

    nanosleep(&ts, NULL);
}

int vmsg_xen_chan_send(struct vmsg_xen_chan *c, const void *msg, size_t len, int timeout_ms)
{
    uint64_t deadline = vmsg_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    int rc;

    if (len < VMSG_HEADER_SIZE)
        return -EINVAL;
    if (len > c->max_msg)
        return -EMSGSIZE;
    if (!c->page)
        return -EPIPE;
    pthread_mutex_lock(&c->send_lock);
    for (;;) {
        if (c->broken || !vmsg_xen_chan_peer_alive(c)) {
            rc = -EPIPE;
            break;
        }
        rc = write_room(c, (uint32_t)len);
        if (rc < 0)
            break;
        if (rc == 0) {
            /* Full: ask for a kick when the peer reads, then look again so
             * a read that raced with the request is not missed. */
            request_kick(c, VMSG_XEN_NOTIFY_READ);
            rc = write_room(c, (uint32_t)len);
            if (rc < 0)
                break;
        }
        if (rc == 1) {
            ring_copy_in(c->wr_data, c->wr_size, c->wr_prod, msg, (uint32_t)len);
            c->wr_prod += (uint32_t)len;
            /* Write barrier: the whole message is in the ring before the
             * new prod; pairs with the reader's acquire load of prod. */
            __atomic_store_n(&c->wr->prod, c->wr_prod, __ATOMIC_RELEASE);
            notify_peer(c, VMSG_XEN_NOTIFY_WRITE);
            rc = 0;
            break;
        }
        if (timeout_ms >= 0 && vmsg_now_ms() >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        sleep_ms(SEND_POLL_MS);
    }
    pthread_mutex_unlock(&c->send_lock);
    return rc;
}

/*
 * What the read ring holds: -EPROTO broken framing, 0 no whole message,
 * else the msg_size of the next whole message (copied header in hdr).
 */
static int next_message(struct vmsg_xen_chan *c, uint8_t hdr[VMSG_HEADER_SIZE])
{
    /* Read barrier (acquire): the bytes up to prod are read after prod. */
    uint32_t prod = __atomic_load_n(&c->rd->prod, __ATOMIC_ACQUIRE);
    uint32_t avail = prod - c->rd_cons;
    uint32_t msg_size;

    if (avail > c->rd_size) {
        framing_error(c, "prod - cons =", avail);
        return -EPROTO;
    }
    if (avail < VMSG_HEADER_SIZE)
        return 0;
    /* The header is copied once; only the copy's msg_size is used. */
    ring_copy_out(c->rd_data, c->rd_size, c->rd_cons, hdr, VMSG_HEADER_SIZE);
    msg_size = vmsg_get_le16(hdr + 6);
    if (msg_size < VMSG_HEADER_SIZE || msg_size > c->max_msg) {
        framing_error(c, "msg_size", msg_size);
        return -EPROTO;
    }
    return avail < msg_size ? 0 : (int)msg_size;
}

int vmsg_xen_chan_recv(struct vmsg_xen_chan *c, void *buf, size_t cap)
{
    uint8_t hdr[VMSG_HEADER_SIZE];
    int n;

    if (cap < c->max_msg)
        return -EINVAL;
    if (c->broken)
        return -EPROTO;
    if (!vmsg_xen_chan_peer_alive(c))
        return -EPIPE;
    n = next_message(c, hdr);
    if (n <= 0)
        return n;
    memcpy(buf, hdr, VMSG_HEADER_SIZE);
    ring_copy_out(c->rd_data, c->rd_size, c->rd_cons + VMSG_HEADER_SIZE,
                  (uint8_t *)buf + VMSG_HEADER_SIZE, (uint32_t)n - VMSG_HEADER_SIZE);
    c->rd_cons += (uint32_t)n;
    /* Full barrier: our copy out of the ring is complete before the peer
     * sees the space as free and overwrites it; pairs with the writer's
     * acquire load of cons. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&c->rd->cons, c->rd_cons, __ATOMIC_RELAXED);
    notify_peer(c, VMSG_XEN_NOTIFY_READ);
    return n;
}

/* Whether recv() has something to report (a message, an error). */
static bool recv_ready(struct vmsg_xen_chan *c)
{
    uint8_t hdr[VMSG_HEADER_SIZE];

    return c->broken || !vmsg_xen_chan_peer_alive(c) || next_message(c, hdr) != 0;
}

int vmsg_xen_chan_wait(struct vmsg_xen_chan *c, int timeout_ms)
{
    struct pollfd pfd = { .fd = vmsg_xen_chan_fd(c), .events = POLLIN };
    int rc;

    if (!c->page)
        return 1;   /* closed: recv() reports it */
    vmsg_xen_chan_ack(c);
    if (recv_ready(c))
        return 1;
    /* Nothing to do: the work the taken events announced is done, so
     * they are re-enabled now (late EOI), once each. */
    vmsg_xen_chan_eoi(c);
    /* Empty: ask for a kick on the next write, then look again so a write
     * between the check above and the request is not slept through. */
    request_kick(c, VMSG_XEN_NOTIFY_WRITE);
    if (recv_ready(c))
        return 1;
    if (pfd.fd < 0)
        return pfd.fd;
    rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0)
        return 0;
    vmsg_xen_chan_ack(c);
    return 1;
}
