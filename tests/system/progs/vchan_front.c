/*
 * vmsg-vchan-front: the domU half of the "vchan-compat" system scenario.
 *
 * A frontend whose message channel is Xen's own libxenvchan, not our
 * lib/xen/xen_channel.c: libxenvchan_server_init() shares the channel page,
 * allocates the event channel and writes F/ring-ref and F/event-channel
 * itself. The rest of the bus (pool, version, state machine) is ours, from
 * lib/xen. It then talks to an unmodified vmsg-backend with virtio-msg
 * messages sent and received by libxenvchan_send()/libxenvchan_recv()
 * (encoded and decoded by lib/proto), and runs the rng driver of
 * frontend-shim/drivers over a struct vmsg_bus made of the same calls.
 * This proves docs/protocol.md section 4 is the libxenvchan wire format
 * (section 4.6 lists what a libxenvchan frontend must add).
 *
 * Prints one PASS or FAIL line per check; exits 1 if any check failed.
 *
 * usage: vmsg-vchan-front [BUS]     (default bus index 0)
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxenvchan.h>

#include "drivers/vmsg_drivers.h"
#include "probe.h"
#include "proto/vmsg_le.h"
#include "proto/vmsg_proto.h"
#include "transport/vmsg_bus.h"
#include "transport/vmsg_driver.h"
#include "util/vmsg_log.h"
#include "xen/xen_bus_front.h"
#include "xen/xen_channel.h"
#include "xen/xen_memory.h"
#include "xen/xen_schema.h"

/* Protocol.md 4.1: left (backend -> frontend) order 10, right order 11.
 * libxenvchan_server_init() picks exactly these in-page orders for
 * left_min <= 1024 and right_min <= 2048. */
#define LEFT_MIN 1024u
#define RIGHT_MIN 2048u
#define POOL_PAGES 16u
#define STEP_MS 30000
#define PING_DATA 0x5a17c0deu
#define RNG_BYTES 64u

static unsigned failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s ", ok ? "PASS" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (!ok)
        failures++;
}

/* ---- a struct vmsg_bus on libxenvchan -------------------------------------------- */

struct vchan_bus {
    struct vmsg_bus bus;
    struct libxenvchan *vc;
    struct vmsg_xen_fpool *pool;
    uint8_t hdr[VMSG_HEADER_SIZE];  /* header taken, body not there yet */
    uint16_t msg_size;
    bool have_hdr;
    bool broken;
    unsigned long sent, received;
};

static struct vchan_bus *vchan_of(struct vmsg_bus *bus)
{
    return container_of(bus, struct vchan_bus, bus);
}

/* Sleep until the event channel fires (a kick from the backend). */
static int vchan_sleep(struct vchan_bus *v, int timeout_ms)
{
    struct pollfd pfd = { .fd = libxenvchan_fd_for_select(v->vc), .events = POLLIN };
    int rc = poll(&pfd, 1, timeout_ms);

    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0)
        return 0;
    /* Readable: libxenvchan_wait() takes the event and unmasks the port
     * without blocking. */
    return libxenvchan_wait(v->vc) ? -EIO : 1;
}

static int vchan_send(struct vmsg_bus *bus, const void *msg, size_t len, int timeout_ms)
{
    struct vchan_bus *v = vchan_of(bus);
    /* "No limit" is STEP_MS here: a test program must fail, not hang. */
    long long deadline = probe_now_ms() + (timeout_ms < 0 ? STEP_MS : timeout_ms);

    for (;;) {
        /* Packet mode: all of msg or nothing (0: no room yet). */
        int n = libxenvchan_send(v->vc, msg, len);

        if (n == (int)len) {
            v->sent++;
            return 0;
        }
        if (n < 0)
            return -EPIPE;
        long long left = deadline - probe_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        if (vchan_sleep(v, (int)left) < 0)
            return -EIO;
    }
}

/* Bytes the next step of recv needs: the header, or the rest of it. */
static size_t vchan_need(const struct vchan_bus *v)
{
    return v->have_hdr ? (size_t)v->msg_size - VMSG_HEADER_SIZE : VMSG_HEADER_SIZE;
}

static int vchan_recv(struct vmsg_bus *bus, void *buf, size_t cap)
{
    struct vchan_bus *v = vchan_of(bus);
    int n;

    if (v->broken)
        return -EPROTO;
    if (!v->have_hdr) {
        n = libxenvchan_recv(v->vc, v->hdr, VMSG_HEADER_SIZE);
        if (n < 0)
            return -EPIPE;
        if (n == 0)
            return libxenvchan_is_open(v->vc) ? 0 : -EPIPE;
        v->msg_size = vmsg_get_le16(v->hdr + 6);
        if (v->msg_size < VMSG_HEADER_SIZE || v->msg_size > v->bus.wire.max_msg_size) {
            printf("vchan-front: framing error: msg_size %u\n", v->msg_size);
            v->broken = true;
            return -EPROTO;
        }
        v->have_hdr = true;
    }
    if (cap < v->msg_size)
        return -EINVAL;
    if (v->msg_size > VMSG_HEADER_SIZE) {
        n = libxenvchan_recv(v->vc, (uint8_t *)buf + VMSG_HEADER_SIZE, vchan_need(v));
        if (n < 0)
            return -EPIPE;
        if (n == 0)
            return libxenvchan_is_open(v->vc) ? 0 : -EPIPE;
    }
    memcpy(buf, v->hdr, VMSG_HEADER_SIZE);
    v->have_hdr = false;
    v->received++;
    return v->msg_size;
}

static int vchan_wait(struct vmsg_bus *bus, int timeout_ms)
{
    struct vchan_bus *v = vchan_of(bus);

    /* libxenvchan_data_ready() also asks the backend for a kick on its
     * next write, before we sleep. */
    if (v->broken || !libxenvchan_is_open(v->vc) ||
        (size_t)libxenvchan_data_ready(v->vc) >= vchan_need(v))
        return 1;
    return vchan_sleep(v, timeout_ms < 0 ? STEP_MS : timeout_ms);
}

static int vchan_fd(struct vmsg_bus *bus)
{
    return libxenvchan_fd_for_select(vchan_of(bus)->vc);
}

static int vchan_alloc(struct vmsg_bus *bus, size_t len, size_t align, uint64_t *addr,
                       void **ptr)
{
    return vmsg_pool_alloc(&vchan_of(bus)->pool->alloc, len, align, addr, ptr);
}

static void vchan_free(struct vmsg_bus *bus, uint64_t addr, size_t len)
{
    vmsg_pool_free(&vchan_of(bus)->pool->alloc, addr, len);
}

static const struct vmsg_bus_ops vchan_ops = {
    .send = vchan_send,
    .recv = vchan_recv,
    .wait = vchan_wait,
    .fd = vchan_fd,
    .alloc = vchan_alloc,
    .free = vchan_free,
};

/* Events that arrived while request() waited for a response. */
static unsigned events_seen;

/*
 * One request by hand: encode, libxenvchan_send, then libxenvchan_recv
 * until the response of the same namespace, msg_id and device arrives
 * (events in between are counted and skipped). resp points into buf.
 */
static int request(struct vchan_bus *v, struct vmsg_msg *req, struct vmsg_msg *resp,
                   uint8_t *buf, size_t cap)
{
    static uint16_t token = 0x100;
    long long deadline = probe_now_ms() + STEP_MS;
    enum vmsg_kind want = vmsg_response_kind(req->kind);
    struct vmsg_problem why;
    int n;

    req->hdr.token = token++;
    n = vmsg_encode(&v->bus.wire, req, buf, cap);
    if (n < 0)
        return n;
    if ((n = vchan_send(&v->bus, buf, (size_t)n, STEP_MS)) < 0)
        return n;
    for (;;) {
        n = vchan_recv(&v->bus, buf, cap);
        if (n < 0)
            return n;
        if (n == 0) {
            long long left = deadline - probe_now_ms();
            if (left <= 0)
                return -ETIMEDOUT;
            if ((n = vchan_wait(&v->bus, (int)left)) < 0)
                return n;
            continue;
        }
        if (vmsg_decode(&v->bus.wire, buf, (size_t)n, VMSG_DECODE_STRICT, resp, &why) != VMSG_OK) {
            printf("vchan-front: malformed message from the backend: %s\n", why.reason);
            return -EBADMSG;
        }
        if (!strcmp(vmsg_kind_role(resp->kind), "event")) {
            events_seen++;
            continue;
        }
        if (resp->kind != want || resp->hdr.dev_num != req->hdr.dev_num)
            return -EPROTO;
        if (resp->hdr.token != req->hdr.token)
            printf("vchan-front: note: token %u echoed as %u\n", req->hdr.token, resp->hdr.token);
        return 0;
    }
}

/* ---- the bus instance: xenstore side ---------------------------------------------- */

struct ctx {
    struct vmsg_platform *plat;
    uint32_t fe, be;
    char fdir[VMSG_XS_PATH_MAX], bdir[VMSG_XS_PATH_MAX];
    unsigned state;             /* F/state as we last wrote it */
};

static int set_state(struct ctx *x, unsigned to)
{
    int rc = vmsg_xs_write_state(x->plat, VMSG_XS_TX_NONE, x->fdir, "frontend", x->state, to);

    if (rc == 0)
        x->state = to;
    return rc;
}

/* Wait (watching B/state) until B/state is one of `a` or `b`. */
static int wait_be_state(struct ctx *x, unsigned a, unsigned b, int ms, unsigned *seen)
{
    long long deadline = probe_now_ms() + ms;

    for (;;) {
        long long left;
        int rc = vmsg_xs_read_state(x->plat, VMSG_XS_TX_NONE, x->bdir, seen);

        if (rc)
            return rc;
        if (*seen == a || *seen == b)
            return 0;
        left = deadline - probe_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        rc = probe_wait_watch(x->plat, left > 200 ? 200 : (int)left);
        if (rc && rc != -ETIMEDOUT)
            return rc;
    }
}

/* A node libxenvchan wrote: its value (strictly parsed) and permissions. */
static void check_vchan_node(struct ctx *x, const char *node, uint32_t min, uint32_t max,
                             uint32_t *val)
{
    char path[VMSG_XS_PATH_MAX + 32];
    struct vmsg_xs_perm *perms = NULL;
    unsigned n = 0;
    int rc = vmsg_xs_read_u32(x->plat, VMSG_XS_TX_NONE, x->fdir, node, min, max, val);

    check(rc == 0, "libxenvchan wrote F/%s = %u (a strict decimal, as section 2.4 reads it)",
          node, rc ? 0 : *val);
    snprintf(path, sizeof(path), "%s/%s", x->fdir, node);
    rc = vmsg_plat_xs_get_perms(x->plat, VMSG_XS_TX_NONE, path, &perms, &n);
    check(rc == 0 && n == 2 && perms[0].domid == x->fe && perms[0].perms == VMSG_XS_PERM_NONE &&
              perms[1].domid == x->be && perms[1].perms == VMSG_XS_PERM_READ,
          "F/%s permissions are n%u r%u (section 2.1; %u entries, owner %u)", node, x->fe, x->be,
          n, n ? perms[0].domid : 0);
    free(perms);
}

/* Device numbers B/devices/ says are served (state 4), ascending. */
static unsigned served_devices(struct ctx *x, uint16_t *out, unsigned max, int *rng)
{
    uint16_t *nums = NULL;
    unsigned count = 0, k = 0;

    *rng = -1;
    if (vmsg_xs_dev_list(x->plat, x->bdir, &nums, &count))
        return 0;
    for (unsigned i = 0; i < count; i++) {
        struct vmsg_xs_device dev;
        char why[160];

        if (vmsg_xs_dev_read(x->plat, x->bdir, nums[i], &dev, why, sizeof(why)))
            continue;
        if (dev.state == VMSG_XB_CONNECTED) {
            if (k < max)
                out[k++] = nums[i];
            if (dev.type == VMSG_XS_DEV_RNG && *rng < 0)
                *rng = nums[i];
        }
        vmsg_xs_dev_free(&dev);
    }
    free(nums);
    return k;
}

/* ---- the checks over the channel -------------------------------------------------- */

static void talk(struct ctx *x, struct vchan_bus *v)
{
    uint8_t buf[VMSG_LIMIT_MAX_MSG_SIZE];
    uint16_t xs_devs[64], bus_devs[64];
    unsigned nxs, nbus = 0;
    struct vmsg_msg req, resp;
    int rng, rc;

    memset(&req, 0, sizeof(req));
    req.kind = VMSG_K_BUS_PING_REQ;
    req.u.ping_req.data = PING_DATA;
    rc = request(v, &req, &resp, buf, sizeof(buf));
    check(rc == 0 && resp.u.ping_resp.data == PING_DATA,
          "PING 0x%08x answered with 0x%08x over libxenvchan (%s)", PING_DATA,
          rc ? 0 : resp.u.ping_resp.data, rc ? strerror(-rc) : "ok");

    nxs = served_devices(x, xs_devs, 64, &rng);
    memset(&req, 0, sizeof(req));
    req.kind = VMSG_K_BUS_GET_DEVICES_REQ;
    req.u.get_devices_req.offset = 0;
    req.u.get_devices_req.count = 64;
    rc = request(v, &req, &resp, buf, sizeof(buf));
    if (rc == 0)
        for (unsigned bit = 0; bit < resp.u.get_devices_resp.count && nbus < 64; bit++)
            if (resp.u.get_devices_resp.bitmap[bit / 8] >> (bit % 8) & 1)
                bus_devs[nbus++] = (uint16_t)bit;
    check(rc == 0 && nbus == nxs && nxs > 0 && !memcmp(bus_devs, xs_devs, nxs * sizeof(uint16_t)),
          "GET_DEVICES lists %u devices, B/devices has %u at state 4, the same numbers (%s)",
          nbus, nxs, rc ? strerror(-rc) : "ok");
    check(rng >= 0, "B/devices has an rng device (%d)", rng);
    if (rng < 0)
        return;

    memset(&req, 0, sizeof(req));
    req.kind = VMSG_K_GET_DEVICE_INFO_REQ;
    req.hdr.dev_num = (uint16_t)rng;
    rc = request(v, &req, &resp, buf, sizeof(buf));
    check(rc == 0 && resp.u.get_device_info_resp.device_id == 4 &&
              resp.u.get_device_info_resp.max_virtqueues >= 1,
          "GET_DEVICE_INFO of device %d: device_id %u (rng is 4), %u queues (%s)", rng,
          rc ? 0 : resp.u.get_device_info_resp.device_id,
          rc ? 0 : resp.u.get_device_info_resp.max_virtqueues, rc ? strerror(-rc) : "ok");

    memset(&req, 0, sizeof(req));
    req.kind = VMSG_K_GET_CONFIG_REQ;
    req.hdr.dev_num = (uint16_t)rng;
    req.u.get_config_req.offset = 0;
    req.u.get_config_req.length = 0;   /* rng has no config space: the generation */
    rc = request(v, &req, &resp, buf, sizeof(buf));
    check(rc == 0 && resp.u.get_config_resp.length == 0,
          "GET_CONFIG of device %d answered: generation %u (%s)", rng,
          rc ? 0 : resp.u.get_config_resp.generation, rc ? strerror(-rc) : "ok");

    /* The whole rng flow: negotiation, SET_VQUEUE with rings in the pool
     * we granted, EVENT_AVAIL, EVENT_USED, all over libxenvchan. */
    struct vmsg_drvbus db;
    struct vmsg_rng *r = NULL;
    uint8_t random[RNG_BYTES];
    unsigned long sent0 = v->sent, recv0 = v->received;
    bool nonzero = false;
    ssize_t got = -1;

    vmsg_drvbus_init(&db, &v->bus);
    rc = vmsg_rng_open(&db, (uint16_t)rng, &r);
    check(rc == 0, "rng driver up: features negotiated, queue 0 set up in the pool, DRIVER_OK (%s)",
          rc ? strerror(-rc) : "ok");
    if (rc == 0) {
        memset(random, 0, sizeof(random));
        got = vmsg_rng_read(r, random, sizeof(random));
        for (unsigned i = 0; i < sizeof(random); i++)
            nonzero |= random[i] != 0;
        check(got == (ssize_t)sizeof(random) && nonzero,
              "rng read %zd of %u bytes through EVENT_AVAIL/EVENT_USED, not all zero "
              "(%02x%02x%02x%02x...)", got, RNG_BYTES, random[0], random[1], random[2],
              random[3]);
        vmsg_rng_close(r);
    }
    check(db.dropped == 0, "the driver dropped no message from the backend (%llu)",
          (unsigned long long)db.dropped);
    vmsg_drvbus_destroy(&db);
    printf("vchan-front: rng flow: %lu messages sent, %lu received with libxenvchan\n",
           v->sent - sent0, v->received - recv0);
}

/* ---- main -------------------------------------------------------------------------- */

/* Whether the page is what section 4.1 says a fresh server page holds. */
static void check_page(const struct vchan_interface *pg)
{
    check(pg->left_order == VMSG_XEN_LEFT_ORDER && pg->right_order == VMSG_XEN_RIGHT_ORDER,
          "libxenvchan chose orders left %u right %u for %u/%u bytes (section 4.1: 10/11)",
          pg->left_order, pg->right_order, LEFT_MIN, RIGHT_MIN);
    check(pg->cli_live == 2 && pg->srv_live == 1 && pg->cli_notify == VMSG_XEN_NOTIFY_WRITE &&
              pg->srv_notify == 0 && pg->left.prod == 0 && pg->left.cons == 0 &&
              pg->right.prod == 0 && pg->right.cons == 0,
          "libxenvchan initialised the page as section 4.1 says: cli_live %u srv_live %u "
          "cli_notify %u srv_notify %u, indices 0",
          pg->cli_live, pg->srv_live, pg->cli_notify, pg->srv_notify);
}

/* As a libxenvchan server waits for its client: sleep on the event
 * channel until cli_live is 1. True if that happened after a kick. */
static bool wait_client_kick(struct vchan_bus *v)
{
    long long deadline = probe_now_ms() + STEP_MS;
    unsigned kicks = 0;

    for (;;) {
        long long left = deadline - probe_now_ms();
        int rc;

        if (left <= 0)
            return false;
        rc = vchan_sleep(v, (int)left);
        if (rc < 0)
            return false;
        kicks += rc > 0;
        if (kicks && libxenvchan_is_open(v->vc) == 1)
            return true;
    }
}

int main(int argc, char **argv)
{
    static struct vmsg_xs_front_info info;
    struct vmsg_xen_fpool pool;
    pthread_mutex_t plat_lock = PTHREAD_MUTEX_INITIALIZER;
    struct vchan_bus v;
    struct vmsg_xs_back_info bi;
    struct ctx x;
    char err[256], token[] = "vchan-front";
    uint32_t bus = 0, ring_ref = 0, port = 0;
    unsigned seen = 0;
    bool pool_up = false, kicked;
    int rc;

    probe_name = "vchan-front";
    vmsg_log_init("vchan-front", false, VMSG_LOG_INFO);
    if (argc > 2 || (argc == 2 && (probe_parse_u32(argv[1], &bus) || bus > VMSG_XEN_BUS_INDEX_MAX)))
        return fprintf(stderr, "usage: vmsg-vchan-front [BUS]   (bus index 0..255)\n"), 2;
    memset(&x, 0, sizeof(x));
    memset(&v, 0, sizeof(v));
    if ((rc = vmsg_plat_xen_open(&x.plat, err, sizeof(err))))
        return probe_fail(NULL, "open platform: %s", err);
    if (vmsg_plat_own_domid(x.plat, &x.fe) || vmsg_xs_fe_dir(x.fdir, sizeof(x.fdir), x.fe, bus))
        return probe_fail(x.plat, "own domid");
    rc = vmsg_xs_front_read_toolstack(x.plat, x.fdir, x.fe, bus, &x.be, x.bdir);
    if (rc)
        return probe_fail(x.plat, "no usable bus instance %s: %s", x.fdir, strerror(-rc));
    probe_log("I am dom%u, bus %u, backend dom%u (%s)", x.fe, bus, x.be, x.bdir);
    rc = vmsg_xs_read_state(x.plat, VMSG_XS_TX_NONE, x.fdir, &x.state);
    if (rc || (x.state != VMSG_XB_INITIALISING && set_state(&x, VMSG_XB_INITIALISING)))
        return probe_fail(x.plat, "F/state to Initialising");
    if (vmsg_plat_xs_watch(x.plat, x.bdir, token))
        return probe_fail(x.plat, "watch %s", x.bdir);

    rc = wait_be_state(&x, VMSG_XB_INITWAIT, VMSG_XB_INITWAIT, STEP_MS, &seen);
    if (rc)
        return probe_fail(x.plat, "B/state InitWait: %s (B/state %u)", strerror(-rc), seen);
    if ((rc = vmsg_xs_front_read_backend(x.plat, x.bdir, &bi)))
        return probe_fail(x.plat, "read B's parameters: %s", strerror(-rc));

    /* The channel: all of it libxenvchan's (page, port, two F nodes). */
    v.vc = libxenvchan_server_init(NULL, (int)x.be, x.fdir, LEFT_MIN, RIGHT_MIN);
    check(v.vc != NULL, "libxenvchan_server_init(dom%u, %s, %u, %u)", x.be, x.fdir, LEFT_MIN,
          RIGHT_MIN);
    if (!v.vc)
        goto out_closed;
    v.vc->blocking = 0;     /* server_init leaves it unset; we poll ourselves */
    check_page(v.vc->ring);
    check_vchan_node(&x, "ring-ref", 1, UINT32_MAX, &ring_ref);
    check_vchan_node(&x, "event-channel", 1, UINT32_MAX, &port);
    check(port == v.vc->event_port, "F/event-channel is libxenvchan's port %u", v.vc->event_port);

    /* The rest of F is the bus's own (section 2.3), from lib/xen. */
    if ((rc = vmsg_xen_fpool_open(&pool, x.plat, &plat_lock, x.be, POOL_PAGES))) {
        check(false, "share a pool of %u pages: %s", POOL_PAGES, strerror(-rc));
        goto out_close;
    }
    pool_up = true;
    v.pool = &pool;
    v.bus.ops = &vchan_ops;
    v.bus.wire.layout = VMSG_LAYOUT_V1;
    /* Section 2.4: B's maximum, capped by the smaller ring. */
    v.bus.wire.max_msg_size = bi.max_msg_size < LEFT_MIN ? bi.max_msg_size : LEFT_MIN;
    v.bus.revision = 1;
    snprintf(v.bus.name, sizeof(v.bus.name), "dom%u/bus%u-vchan", x.fe, bus);
    info.channel_nodes_written = true;
    info.ring_ref = ring_ref;
    info.event_channel = port;
    info.version = VMSG_XEN_BUS_VERSION;
    info.pool_pages = POOL_PAGES;
    info.ndir = pool.ndir;
    memcpy(info.pool_dir_refs, pool.dir_refs, pool.ndir * sizeof(uint32_t));
    rc = vmsg_xs_front_publish(x.plat, x.fdir, &info, x.state);
    check(rc == 0, "published version, pool-pages, pool-dir-ref and F/state Initialised (%s)",
          rc ? strerror(-rc) : "ok");
    if (rc)
        goto out_close;
    x.state = VMSG_XB_INITIALISED;

    kicked = wait_client_kick(&v);
    check(kicked, "the backend connected: cli_live %u, and its connect kick woke a libxenvchan "
          "server sleeping on the event channel", v.vc->ring->cli_live);
    rc = wait_be_state(&x, VMSG_XB_CONNECTED, VMSG_XB_CONNECTED, STEP_MS, &seen);
    check(rc == 0, "B/state Connected (B/state %u)", seen);
    if (rc || set_state(&x, VMSG_XB_CONNECTED))
        goto out_close;

    talk(&x, &v);
    check(events_seen == 0, "no unexpected event between requests and responses (%u)",
          events_seen);

out_close:
    /* Section 3, frontend closes: Closing, wait for B Closed, unshare,
     * Closed. */
    if (x.state == VMSG_XB_CONNECTED || x.state == VMSG_XB_INITIALISED) {
        set_state(&x, VMSG_XB_CLOSING);
        rc = wait_be_state(&x, VMSG_XB_CLOSED, VMSG_XB_INITWAIT, VMSG_XEN_FRONT_CLOSE_WAIT_MS,
                           &seen);
        check(rc == 0, "the backend followed: B/state %u after our Closing", seen);
    }
    if (pool_up)
        vmsg_xen_fpool_close(&pool);
    if (v.vc) {
        /* libxenvchan_close() removes the server's whole xs_path (its
         * close_xs_srv()): that is F, which belongs to the toolstack and
         * outlives this connection (section 4.6). Keep it. */
        free(v.vc->xs_path);
        v.vc->xs_path = NULL;
        libxenvchan_close(v.vc);
    }
out_closed:
    set_state(&x, VMSG_XB_CLOSED);
    rc = wait_be_state(&x, VMSG_XB_INITWAIT, VMSG_XB_INITWAIT, STEP_MS, &seen);
    check(rc == 0, "the bus instance is back in InitWait for the next frontend (B/state %u)", seen);
    vmsg_plat_xs_unwatch(x.plat, x.bdir, token);
    vmsg_plat_close(x.plat);
    printf("vchan-front: %s (%u failed)\n", failures ? "FAILED" : "all checks passed", failures);
    return failures ? 1 : 0;
}
