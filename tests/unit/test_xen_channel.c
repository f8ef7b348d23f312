/*
 * tests/unit/test_xen_channel.c: the message channel (lib/xen/xen_channel.h,
 * docs/protocol.md section 4) and bus memory (lib/xen/xen_memory.h,
 * section 5) between a guest (frontend, vchan server) and a driver domain
 * (backend, vchan client) on the fake platform. Misbehaving peers are
 * simulated by writing the shared page directly.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "test_xen_env.h"
#include "util/vmsg_log.h"
#include "vmsg_test.h"
#include "xen/xen_channel.h"
#include "xen/xen_memory.h"

static struct fake_xen *fx;
static struct vmsg_platform *be, *fe;
static pthread_mutex_t be_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fe_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vmsg_xen_chan srv, cli;  /* frontend, backend */

static void machine_up(void)
{
    fx = fake_xen_new();
    CU_ASSERT_FATAL(fx != NULL);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_BE, "driver") == 0);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_FE, "guest") == 0);
    CU_ASSERT_FATAL(env_open(fx, ENV_BE, &be) == 0);
    CU_ASSERT_FATAL(env_open(fx, ENV_FE, &fe) == 0);
}

static void machine_down(void)
{
    vmsg_plat_close(fe);
    vmsg_plat_close(be);
    fake_xen_free(fx);
}

static void chan_up(uint32_t max_msg)
{
    machine_up();
    CU_ASSERT_FATAL(vmsg_xen_chan_server_open(&srv, fe, &fe_lock, ENV_BE, max_msg) == 0);
    CU_ASSERT_FATAL(vmsg_xen_chan_client_open(&cli, be, &be_lock, ENV_FE, srv.ring_ref, srv.port,
                                              max_msg) == 0);
    vmsg_xen_chan_ack(&cli);    /* the bind's own event */
    vmsg_xen_chan_eoi(&cli);
}

static void chan_down(void)
{
    vmsg_xen_chan_close(&cli);
    vmsg_xen_chan_close(&srv);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    CU_ASSERT_EQUAL(fake_xen_shared_pages(fx, ENV_FE), 0);
    machine_down();
}

/* A message of `len` bytes: header with msg_size, then a pattern. */
static void make_msg(uint8_t *m, uint32_t len, uint8_t seed)
{
    memset(m, 0, 8);
    m[1] = 0x03;
    vmsg_put_le16(m + 6, (uint16_t)len);
    for (uint32_t i = 8; i < len; i++)
        m[i] = (uint8_t)(seed + i);
}

static bool fd_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, 0) == 1;
}

/* Write raw bytes into a channel's write ring as a misbehaving or
 * piecewise (libxenvchan) writer would, and publish them. */
static void raw_put(struct vmsg_xen_chan *c, const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        c->wr_data[(c->wr_prod + i) & (c->wr_size - 1)] = b[i];
    c->wr_prod += n;
    __atomic_store_n(&c->wr->prod, c->wr_prod, __ATOMIC_RELEASE);
}

/* ---- channel ---------------------------------------------------------------- */

static void page_is_initialised_as_libxenvchan_server(void)
{
    machine_up();
    CU_ASSERT_FATAL(vmsg_xen_chan_server_open(&srv, fe, &fe_lock, ENV_BE, 264) == 0);
    struct vmsg_xen_chan_page *pg = srv.page;
    CU_ASSERT_EQUAL(pg->left_order, 10);
    CU_ASSERT_EQUAL(pg->right_order, 11);
    CU_ASSERT_EQUAL(pg->cli_live, 2);
    CU_ASSERT_EQUAL(pg->srv_live, 1);
    CU_ASSERT_EQUAL(pg->cli_notify, VMSG_XEN_NOTIFY_WRITE);
    CU_ASSERT_EQUAL(pg->srv_notify, 0);
    vmsg_xen_chan_close(&srv);
    machine_down();

    chan_up(264);
    pg = srv.page;
    CU_ASSERT_EQUAL(pg->cli_live, 1);   /* the client set it when it mapped */
    CU_ASSERT(srv.rd_size == 1024 && srv.wr_size == 2048);
    CU_ASSERT(cli.rd_size == 2048 && cli.wr_size == 1024);
    CU_ASSERT(srv.max_msg == 264 && cli.max_msg == 264);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 1);
    chan_down();
}

static void messages_travel_whole_both_ways(void)
{
    uint8_t m[264], r[264];

    chan_up(264);
    make_msg(m, 20, 1);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 20, 0), 0);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 20);
    CU_ASSERT(memcmp(m, r, 20) == 0);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 0);
    make_msg(m, 264, 2);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 264, 0), 0);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&srv, r, sizeof(r)), 264);
    CU_ASSERT(memcmp(m, r, 264) == 0);
    /* Sizes the channel refuses to write. */
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 265, 0), -EMSGSIZE);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 7, 0), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&srv, r, 100), -EINVAL);   /* cap < max */
    chan_down();
}

static void ring_wraps_around(void)
{
    uint8_t m[264], r[264];

    chan_up(264);
    /* 200 does not divide 1024: messages straddle the ring's end. */
    for (unsigned i = 0; i < 60; i++) {
        uint32_t len = 200 + (i % 3) * 21;
        make_msg(m, len, (uint8_t)i);
        CU_ASSERT_EQUAL_FATAL(vmsg_xen_chan_send(&cli, m, len, 0), 0);
        CU_ASSERT_EQUAL_FATAL(vmsg_xen_chan_recv(&srv, r, sizeof(r)), (int)len);
        CU_ASSERT_FATAL(memcmp(m, r, len) == 0);
    }
    CU_ASSERT(cli.wr_prod > 4 * 1024);
    chan_down();
}

static void full_ring_waits_for_the_reader(void)
{
    uint8_t m[264], r[264];
    int sent = 0;

    chan_up(264);
    make_msg(m, 264, 9);
    /* The left ring (1024 bytes) takes three 264-byte messages. */
    while (vmsg_xen_chan_send(&cli, m, 264, 0) == 0)
        sent++;
    CU_ASSERT_EQUAL(sent, 3);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 264, 20), -ETIMEDOUT);
    /* The full writer asked the frontend for a kick when it reads. */
    CU_ASSERT(srv.page->srv_notify & VMSG_XEN_NOTIFY_READ);
    vmsg_xen_chan_ack(&cli);
    vmsg_xen_chan_eoi(&cli);
    uint64_t kicks = srv.kicks_sent;
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&srv, r, sizeof(r)), 264);
    CU_ASSERT_EQUAL(srv.kicks_sent, kicks + 1);
    CU_ASSERT(fd_readable(vmsg_xen_chan_fd(&cli)));
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 264, 0), 0);
    /* A message that fits exactly into the room left (1024 - 3 * 264 =
     * 232) goes; then not even a header fits. */
    make_msg(m, 232, 4);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 232, 0), 0);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 8, 0), -ETIMEDOUT);
    chan_down();
}

static void reader_waits_for_a_partly_published_message(void)
{
    uint8_t m[264], r[264];

    chan_up(264);
    make_msg(m, 100, 3);
    raw_put(&srv, m, 5);                /* not even a header */
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 0);
    raw_put(&srv, m + 5, 50);           /* header, part of the body */
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 0);
    CU_ASSERT_EQUAL(vmsg_xen_chan_wait(&cli, 0), 0);  /* nothing whole yet */
    raw_put(&srv, m + 55, 45);
    CU_ASSERT_EQUAL(vmsg_xen_chan_wait(&cli, 0), 1);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 100);
    CU_ASSERT(memcmp(m, r, 100) == 0);
    chan_down();
}

static void framing_error_on(uint32_t bad_size)
{
    uint8_t m[16], r[300];

    chan_up(264);
    make_msg(m, 16, 1);
    vmsg_put_le16(m + 6, (uint16_t)bad_size);
    raw_put(&srv, m, 16);
    CU_ASSERT_EQUAL(vmsg_xen_chan_wait(&cli, 0), 1);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), -EPROTO);
    /* Sticky: nothing later in the ring is trusted. */
    make_msg(m, 16, 1);
    raw_put(&srv, m, 16);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), -EPROTO);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 16, 0), -EPIPE);
    chan_down();
}

static void undersized_msg_size_breaks_framing(void)
{
    framing_error_on(0);
    framing_error_on(7);
}

static void oversized_msg_size_breaks_framing(void)
{
    framing_error_on(265);
    framing_error_on(65535);
}

static void effective_maximum_is_enforced_by_the_reader(void)
{
    uint8_t m[264], r[264];

    chan_up(100);
    make_msg(m, 101, 1);
    raw_put(&srv, m, 101);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), -EPROTO);
    chan_down();
    /* A maximum above the smaller ring is lowered to it on both ends. */
    chan_up(4096);
    CU_ASSERT(srv.max_msg == 1024 && cli.max_msg == 1024);
    chan_down();
}

static void producer_more_than_a_ring_ahead_breaks_framing(void)
{
    uint8_t r[264];

    chan_up(264);
    __atomic_store_n(&srv.page->right.prod, 2049u, __ATOMIC_RELEASE);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), -EPROTO);
    chan_down();
    /* An impossible consumer index of the peer stops the writer. */
    chan_up(264);
    uint8_t m[16];
    make_msg(m, 16, 0);
    __atomic_store_n(&srv.page->left.cons, 5000u, __ATOMIC_RELEASE);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 16, 0), -EPIPE);
    chan_down();
}

/* libxenvchan's client, on connect, sets cli_live 1, asks for a kick on the
 * server's next write and kicks: a libxenvchan server waiting in
 * libxenvchan_wait() for its client depends on that kick. */
static void client_connect_wakes_the_server_like_libxenvchan(void)
{
    machine_up();
    CU_ASSERT_FATAL(vmsg_xen_chan_server_open(&srv, fe, &fe_lock, ENV_BE, 264) == 0);
    CU_ASSERT_FALSE(fd_readable(vmsg_xen_chan_fd(&srv)));
    CU_ASSERT_FATAL(vmsg_xen_chan_client_open(&cli, be, &be_lock, ENV_FE, srv.ring_ref, srv.port,
                                              264) == 0);
    CU_ASSERT_EQUAL(srv.page->cli_live, 1);
    CU_ASSERT_EQUAL(srv.page->srv_notify, VMSG_XEN_NOTIFY_WRITE);
    CU_ASSERT_EQUAL(cli.kicks_sent, 1);
    CU_ASSERT(fd_readable(vmsg_xen_chan_fd(&srv)));
    chan_down();
}

static void no_kick_unless_the_peer_asked(void)
{
    uint8_t m[64], r[264];

    chan_up(264);
    make_msg(m, 64, 1);
    /* The backend asked for one kick when it connected: the first write
     * kicks, the second does not. */
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 64, 0), 0);
    CU_ASSERT_EQUAL(srv.kicks_sent, 1);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 64);
    vmsg_xen_chan_ack(&cli);
    vmsg_xen_chan_eoi(&cli);
    srv.kicks_sent = 0;
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 64, 0), 0);
    CU_ASSERT_EQUAL(srv.kicks_sent, 0);
    CU_ASSERT_FALSE(fd_readable(vmsg_xen_chan_fd(&cli)));
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 64);
    /* The backend finds the ring empty and asks before sleeping. */
    CU_ASSERT_EQUAL(vmsg_xen_chan_wait(&cli, 0), 0);
    CU_ASSERT(srv.page->srv_notify & VMSG_XEN_NOTIFY_WRITE);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 64, 0), 0);
    CU_ASSERT_EQUAL(srv.kicks_sent, 1);
    CU_ASSERT_FALSE(srv.page->srv_notify & VMSG_XEN_NOTIFY_WRITE);
    CU_ASSERT(fd_readable(vmsg_xen_chan_fd(&cli)));
    CU_ASSERT_EQUAL(vmsg_xen_chan_wait(&cli, 0), 1);
    /* The request was used up: the next write does not kick. */
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 64, 0), 0);
    CU_ASSERT_EQUAL(srv.kicks_sent, 1);
    /* The other way: cli_notify starts with NOTIFY_WRITE, one kick (the
     * connect kick was the first). */
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 64, 0), 0);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 64, 0), 0);
    CU_ASSERT_EQUAL(cli.kicks_sent, 2);
    /* Reading kicks only a writer that asked (nobody did). */
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 64);
    CU_ASSERT_EQUAL(cli.kicks_sent, 2);
    chan_down();
}

static void peer_death_is_seen_through_the_live_bytes(void)
{
    uint8_t m[64], r[264];

    chan_up(264);
    make_msg(m, 64, 1);
    CU_ASSERT(vmsg_xen_chan_peer_alive(&cli));
    /* The frontend unshares (or its process dies): srv_live 0 and a kick. */
    vmsg_xen_chan_close(&srv);
    CU_ASSERT(fd_readable(vmsg_xen_chan_fd(&cli)));
    CU_ASSERT_FALSE(vmsg_xen_chan_peer_alive(&cli));
    CU_ASSERT_EQUAL(vmsg_xen_chan_wait(&cli, 1000), 1);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), -EPIPE);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&cli, m, 64, 0), -EPIPE);
    chan_down();

    /* The backend unmaps: the frontend sees cli_live 0. */
    chan_up(264);
    vmsg_xen_chan_ack(&srv);
    vmsg_xen_chan_eoi(&srv);
    vmsg_xen_chan_close(&cli);
    CU_ASSERT(fd_readable(vmsg_xen_chan_fd(&srv)));
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&srv, r, sizeof(r)), -EPIPE);
    chan_down();
}

/*
 * A guest that kicks in a tight loop: the storm platform below kicks the
 * backend's port from the frontend's side right after every unmask, so a
 * new event is always latched by the time the port is enabled again. A
 * receiver's turn must still end, and it must unmask at most once per turn
 * (late EOI, as Linux does since XSA-332), never loop while the port is
 * pending.
 */
#define STORM_CAP 100000u
static struct vmsg_platform_ops storm_ops;
static const struct vmsg_platform_ops *storm_inner_ops;
static unsigned storm_unmasks;

static int storm_unmask(struct vmsg_platform *p, uint32_t port)
{
    int rc = storm_inner_ops->evtchn_unmask(p, port);

    if (++storm_unmasks < STORM_CAP)
        vmsg_plat_evtchn_notify(fe, srv.port);
    return rc;
}

static void kick_storm_does_not_hold_the_receiver(void)
{
    chan_up(264);
    storm_inner_ops = be->ops;
    storm_ops = *be->ops;
    storm_ops.evtchn_unmask = storm_unmask;
    be->ops = &storm_ops;
    storm_unmasks = 0;
    vmsg_plat_evtchn_notify(fe, srv.port);     /* the storm starts */
    for (int turn = 0; turn < 3; turn++) {
        unsigned before = storm_unmasks;

        CU_ASSERT(vmsg_xen_chan_wait(&cli, 0) >= 0);
        CU_ASSERT(storm_unmasks - before <= 1);
        /* The end of the turn unmasks once: the latched kick wakes the
         * fd again, so nothing is lost either. */
        vmsg_xen_chan_eoi(&cli);
        CU_ASSERT(fd_readable(vmsg_xen_chan_fd(&cli)));
    }
    be->ops = storm_inner_ops;
    chan_down();
}

static void client_refuses_impossible_orders(void)
{
    struct vmsg_xen_chan c2;

    machine_up();
    CU_ASSERT_FATAL(vmsg_xen_chan_server_open(&srv, fe, &fe_lock, ENV_BE, 264) == 0);
    srv.page->left_order = 11;      /* both 11: not a single-page pair */
    CU_ASSERT_EQUAL(vmsg_xen_chan_client_open(&c2, be, &be_lock, ENV_FE, srv.ring_ref, srv.port,
                                              264), -EPROTO);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    srv.page->left_order = 12;
    CU_ASSERT_EQUAL(vmsg_xen_chan_client_open(&c2, be, &be_lock, ENV_FE, srv.ring_ref, srv.port,
                                              264), -EPROTO);
    /* The port was released too: binding again works. */
    srv.page->left_order = 10;
    CU_ASSERT_EQUAL(vmsg_xen_chan_client_open(&c2, be, &be_lock, ENV_FE, srv.ring_ref, srv.port,
                                              264), 0);
    vmsg_xen_chan_close(&c2);
    /* A grant that is not ours. */
    CU_ASSERT(vmsg_xen_chan_client_open(&c2, be, &be_lock, ENV_FE, 200, srv.port, 264) < 0);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    vmsg_xen_chan_close(&srv);
    machine_down();
}

/* Both ends in their own threads, many messages: the barriers' test. */
struct pump {
    struct vmsg_xen_chan *c;
    unsigned count;
    int failures;
};

static void *pump_send(void *arg)
{
    struct pump *p = arg;
    uint8_t m[264];

    for (unsigned i = 0; i < p->count; i++) {
        uint32_t len = 8 + (i * 37) % 257;
        make_msg(m, len, (uint8_t)i);
        if (vmsg_xen_chan_send(p->c, m, len, 5000))
            p->failures++;
    }
    return NULL;
}

static void threads_exchange_many_messages(void)
{
    struct pump p = { .count = 20000 };
    uint8_t want[264], r[264];
    pthread_t t;
    unsigned got = 0;

    chan_up(264);
    p.c = &cli;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, pump_send, &p) == 0);
    while (got < p.count) {
        int n = vmsg_xen_chan_wait(&srv, 5000);
        if (n <= 0)
            break;
        while ((n = vmsg_xen_chan_recv(&srv, r, sizeof(r))) > 0) {
            uint32_t len = 8 + (got * 37) % 257;
            make_msg(want, len, (uint8_t)got);
            if ((uint32_t)n != len || memcmp(r, want, len))
                break;
            got++;
        }
        if (n < 0)
            break;
    }
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(got, p.count);
    CU_ASSERT_EQUAL(p.failures, 0);
    chan_down();
}

/* ---- memory ---------------------------------------------------------------------- */

static void directory_pages_hold_1024_refs_each(void)
{
    CU_ASSERT_EQUAL(vmsg_xen_pool_dir_pages(1), 1);
    CU_ASSERT_EQUAL(vmsg_xen_pool_dir_pages(1024), 1);
    CU_ASSERT_EQUAL(vmsg_xen_pool_dir_pages(1025), 2);
    CU_ASSERT_EQUAL(vmsg_xen_pool_dir_pages(VMSG_XEN_POOL_PAGES_LIMIT), 1024);

    uint32_t refs[1025], back[1025];
    uint8_t *dir = malloc(2 * 4096);
    CU_ASSERT_FATAL(dir != NULL);
    for (unsigned i = 0; i < 1025; i++)
        refs[i] = 0x01020304u + i;
    memset(dir, 0xee, 2 * 4096);
    vmsg_xen_pool_dir_write(dir, refs, 1025);
    /* Little-endian, page 1 starts with pool page 1024, the rest is 0. */
    CU_ASSERT(dir[0] == 0x04 && dir[1] == 0x03 && dir[2] == 0x02 && dir[3] == 0x01);
    CU_ASSERT_EQUAL(vmsg_get_le32(dir + 4096), refs[1024]);
    for (unsigned i = 4096 + 4; i < 2 * 4096; i++)
        CU_ASSERT_FATAL(dir[i] == 0);
    vmsg_xen_pool_dir_read(dir, 1025, back);
    CU_ASSERT(memcmp(refs, back, sizeof(refs)) == 0);
    /* 1024 refs fill exactly one page. */
    memset(dir, 0xee, 4096);
    vmsg_xen_pool_dir_write(dir, refs, 1024);
    CU_ASSERT_EQUAL(vmsg_get_le32(dir + 4092), refs[1023]);
    free(dir);
}

static void addresses_decode_with_bounds(void)
{
    struct vmsg_xen_addr a;
    const uint64_t G = VMSG_XEN_ADDR_GRANT, size = 8 * 4096;

    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(0, size, size, &a), 0);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(size - 1, 1, size, &a), 0);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(size, 0, size, &a), 0);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(size - 1, 2, size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(size + 1, 0, size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(16, UINT64_MAX - 8, size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G - 1, 2, size, &a), -EFAULT);
    /* Grant addresses. */
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G | (7ull << 12) | 100, 5000, size, &a), 0);
    CU_ASSERT(a.grant && a.gref == 7 && a.offset == 100 && a.npages == 2);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G | (7ull << 12), 4096, size, &a), 0);
    CU_ASSERT_EQUAL(a.npages, 1);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G | (0xffffffffull << 12), 4096, size, &a), 0);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G | (0xffffffffull << 12), 4097, size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G | (1ull << 62), 1, size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G | (1ull << 44), 1, size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G, (uint64_t)VMSG_XEN_GRANT_MAP_MAX_PAGES * 4096 + 1,
                                         size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G | 1, (uint64_t)VMSG_XEN_GRANT_MAP_MAX_PAGES * 4096,
                                         size, &a), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_addr_decode(G, UINT64_MAX, size, &a), -EFAULT);
}

static void pool_is_shared_and_mapped_once(void)
{
    /* The fake's grant table has 255 entries: P = 200 (1 directory page);
     * the 2-page directory format is checked above without the platform. */
    static const uint32_t sizes[] = { 1, 200 };

    for (size_t k = 0; k < 2; k++) {
        struct vmsg_xen_fpool fp;
        struct vmsg_xen_bmem bm;
        struct vmsg_mapping m;
        uint32_t P = sizes[k];

        machine_up();
        CU_ASSERT_FATAL(vmsg_xen_fpool_open(&fp, fe, &fe_lock, ENV_BE, P) == 0);
        CU_ASSERT_EQUAL(fp.ndir, 1);
        CU_ASSERT_EQUAL(fake_xen_shared_pages(fx, ENV_FE), P + 1);
        CU_ASSERT_FATAL(vmsg_xen_bmem_open(&bm, be, &be_lock, ENV_FE, P, fp.dir_refs, fp.ndir) ==
                        0);
        /* The directory was unmapped after the copy: only the pool is. */
        CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), P);
        /* The backend's view is the frontend's memory. */
        uint64_t addr;
        void *ptr;
        CU_ASSERT_EQUAL_FATAL(vmsg_pool_alloc(&fp.alloc, 100, 64, &addr, &ptr), 0);
        memset(ptr, 0x5a, 100);
        CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, addr, 100, true, &m), 0);
        CU_ASSERT(m.ptr[0] == 0x5a && m.ptr[99] == 0x5a);
        m.ptr[0] = 0x11;
        CU_ASSERT_EQUAL(((uint8_t *)ptr)[0], 0x11);
        vmsg_xen_bmem_unmap(&bm, &m);
        /* Pool bounds. */
        uint64_t size = (uint64_t)P * 4096;
        CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, size - 8, 8, false, &m), 0);
        CU_ASSERT(m.ptr == bm.pool + size - 8);
        CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, size - 8, 9, false, &m), -EFAULT);
        CU_ASSERT_PTR_NULL(m.ptr);
        CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, UINT64_MAX >> 1, 1, false, &m), -EFAULT);
        vmsg_xen_bmem_close(&bm);
        CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
        vmsg_xen_fpool_close(&fp);
        CU_ASSERT_EQUAL(fake_xen_shared_pages(fx, ENV_FE), 0);
        machine_down();
    }
}

static void backend_refuses_a_directory_it_cannot_map(void)
{
    struct vmsg_xen_fpool fp;
    struct vmsg_xen_bmem bm;
    uint32_t bogus = 250;

    machine_up();
    CU_ASSERT_FATAL(vmsg_xen_fpool_open(&fp, fe, &fe_lock, ENV_BE, 4) == 0);
    CU_ASSERT(vmsg_xen_bmem_open(&bm, be, &be_lock, ENV_FE, 4, &bogus, 1) < 0);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_open(&bm, be, &be_lock, ENV_FE, 4, fp.dir_refs, 2), -EINVAL);
    /* A directory naming a page that is not granted: no partial pool. */
    vmsg_put_le32((uint8_t *)fp.dir + 4, 251);
    CU_ASSERT(vmsg_xen_bmem_open(&bm, be, &be_lock, ENV_FE, 4, fp.dir_refs, 1) < 0);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    vmsg_xen_fpool_close(&fp);
    machine_down();
}

static void grant_addresses_are_mapped_per_request(void)
{
    struct vmsg_xen_fpool fp;
    struct vmsg_xen_bmem bm;
    struct vmsg_mapping m, m2;
    uint32_t refs[3], ro_ref;
    void *pages, *ro;

    machine_up();
    CU_ASSERT_FATAL(vmsg_xen_fpool_open(&fp, fe, &fe_lock, ENV_BE, 2) == 0);
    CU_ASSERT_FATAL(vmsg_xen_bmem_open(&bm, be, &be_lock, ENV_FE, 2, fp.dir_refs, 1) == 0);
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(fe, ENV_BE, 3, true, VMSG_NOTIFY_NONE, VMSG_NOTIFY_NONE,
                                           refs, &pages) == 0);
    CU_ASSERT_FATAL(refs[1] == refs[0] + 1 && refs[2] == refs[0] + 2);
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(fe, ENV_BE, 1, false, VMSG_NOTIFY_NONE,
                                           VMSG_NOTIFY_NONE, &ro_ref, &ro) == 0);
    memset(pages, 0, 3 * 4096);
    ((uint8_t *)pages)[100] = 0x42;
    ((uint8_t *)pages)[4096 + 1000] = 0x43;
    unsigned base = fake_xen_mapped_pages(fx, ENV_BE);
    uint64_t G = VMSG_XEN_ADDR_GRANT | ((uint64_t)refs[0] << 12);

    /* 5000 bytes from offset 100 span two refs: mapped in one batch. */
    CU_ASSERT_EQUAL_FATAL(vmsg_xen_bmem_map(&bm, G | 100, 5000, true, &m), 0);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), base + 2);
    CU_ASSERT(m.ptr[0] == 0x42 && m.ptr[4096 + 1000 - 100] == 0x43);
    m.ptr[1] = 0x44;
    CU_ASSERT_EQUAL(((uint8_t *)pages)[101], 0x44);
    CU_ASSERT_EQUAL(bm.live_gmaps, 1);
    vmsg_xen_bmem_unmap(&bm, &m);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), base);
    vmsg_xen_bmem_unmap(&bm, &m);   /* twice: harmless */

    /* Failures map nothing at all. */
    /* refs[2] is writable, the ref after it (ro_ref) read-only. */
    uint64_t beyond = VMSG_XEN_ADDR_GRANT | ((uint64_t)refs[2] << 12);
    CU_ASSERT_FATAL(ro_ref == refs[2] + 1);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, beyond, 4097, true, &m), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, beyond | 4095, 4098, false, &m), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, G | (1ull << 50), 16, false, &m), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, VMSG_XEN_ADDR_GRANT | (200ull << 12), 16, false, &m),
                    -EFAULT);
    uint64_t RO = VMSG_XEN_ADDR_GRANT | ((uint64_t)ro_ref << 12);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, RO, 16, true, &m), -EFAULT);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), base);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, RO, 16, false, &m), 0);
    vmsg_xen_bmem_unmap(&bm, &m);
    /* Empty range: nothing to map. */
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, G, 0, false, &m), 0);
    vmsg_xen_bmem_unmap(&bm, &m);

    /* A mapping still live at teardown is released, its cookie dead. */
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, G, 16, false, &m2), 0);
    vmsg_xen_bmem_close(&bm);
    CU_ASSERT_EQUAL(fake_xen_mapped_pages(fx, ENV_BE), 0);
    vmsg_xen_bmem_unmap(&bm, &m2);
    CU_ASSERT_EQUAL(vmsg_xen_bmem_map(&bm, 0, 16, false, &m), -EFAULT);  /* closed */
    vmsg_plat_gntshr_unshare(fe, pages, 3);
    vmsg_plat_gntshr_unshare(fe, ro, 1);
    vmsg_xen_fpool_close(&fp);
    machine_down();
}

/* Ring fill is what one end wrote and the other has not taken yet, seen
 * the same from both ends; a kick the backend takes is counted. */
static void stats_show_ring_fill_and_kicks(void)
{
    struct vmsg_xen_chan_stats cs, ss;
    uint8_t m[264], r[264];

    chan_up(264);
    make_msg(m, 100, 1);
    vmsg_xen_chan_stats(&cli, &cs);
    CU_ASSERT_EQUAL(cs.rd_used, 0);
    CU_ASSERT_EQUAL(cs.wr_used, 0);
    CU_ASSERT_EQUAL(cs.rd_size, 2048);      /* right ring: frontend -> backend */
    CU_ASSERT_EQUAL(cs.wr_size, 1024);
    uint64_t kicks = cs.kicks_received;
    /* The backend waits (asking for a kick), the frontend writes. */
    CU_ASSERT_EQUAL(vmsg_xen_chan_wait(&cli, 0), 0);
    CU_ASSERT_EQUAL(vmsg_xen_chan_send(&srv, m, 100, 0), 0);
    vmsg_xen_chan_stats(&cli, &cs);
    vmsg_xen_chan_stats(&srv, &ss);
    CU_ASSERT_EQUAL(cs.rd_used, 100);
    CU_ASSERT_EQUAL(ss.wr_used, 100);
    CU_ASSERT_EQUAL(ss.rd_used, 0);
    vmsg_xen_chan_ack(&cli);
    vmsg_xen_chan_eoi(&cli);
    vmsg_xen_chan_stats(&cli, &cs);
    CU_ASSERT(ss.kicks_sent > 0);
    CU_ASSERT_EQUAL(cs.kicks_received, kicks + ss.kicks_sent);
    CU_ASSERT_EQUAL(vmsg_xen_chan_recv(&cli, r, sizeof(r)), 100);
    vmsg_xen_chan_stats(&cli, &cs);
    vmsg_xen_chan_stats(&srv, &ss);
    CU_ASSERT_EQUAL(cs.rd_used, 0);
    CU_ASSERT_EQUAL(ss.wr_used, 0);
    /* A peer's impossible producer index shows as a full ring. */
    srv.page->right.prod += 5000;
    vmsg_xen_chan_stats(&cli, &cs);
    CU_ASSERT_EQUAL(cs.rd_used, 2048);
    chan_down();
}

static void register_suites(void)
{
    vmsg_log_init("test-xen-channel", false, VMSG_LOG_ERR);
    {
        VMSG_SUITE("xen_channel", NULL, NULL);
        VMSG_TEST(page_is_initialised_as_libxenvchan_server);
        VMSG_TEST(messages_travel_whole_both_ways);
        VMSG_TEST(ring_wraps_around);
        VMSG_TEST(stats_show_ring_fill_and_kicks);
        VMSG_TEST(full_ring_waits_for_the_reader);
        VMSG_TEST(reader_waits_for_a_partly_published_message);
        VMSG_TEST(undersized_msg_size_breaks_framing);
        VMSG_TEST(oversized_msg_size_breaks_framing);
        VMSG_TEST(effective_maximum_is_enforced_by_the_reader);
        VMSG_TEST(producer_more_than_a_ring_ahead_breaks_framing);
        VMSG_TEST(client_connect_wakes_the_server_like_libxenvchan);
        VMSG_TEST(no_kick_unless_the_peer_asked);
        VMSG_TEST(peer_death_is_seen_through_the_live_bytes);
        VMSG_TEST(client_refuses_impossible_orders);
        VMSG_TEST(kick_storm_does_not_hold_the_receiver);
        VMSG_TEST(threads_exchange_many_messages);
    }
    {
        VMSG_SUITE("xen_memory", NULL, NULL);
        VMSG_TEST(directory_pages_hold_1024_refs_each);
        VMSG_TEST(addresses_decode_with_bounds);
        VMSG_TEST(pool_is_shared_and_mapped_once);
        VMSG_TEST(backend_refuses_a_directory_it_cannot_map);
        VMSG_TEST(grant_addresses_are_mapped_per_request);
    }
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
