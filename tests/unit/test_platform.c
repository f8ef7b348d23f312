/*
 * tests/unit/test_platform.c: the platform interface's semantics, checked
 * on the in-process fake. Each case states one behaviour of Xen that the
 * project relies on; the same behaviours are checked on real Xen by the
 * system scenarios (tests/system/scenarios/platform, xenstore-perms).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "fake_platform.h"
#include "vmsg_test.h"

#define FE 3

static struct fake_xen *fx;
static struct vmsg_platform *d0, *du;

static int setup(void)
{
    fx = fake_xen_new();
    if (!fx || fake_xen_add_domain(fx, FE, "guest") || fake_platform_open(fx, 0, &d0) ||
        fake_platform_open(fx, FE, &du))
        return -1;
    return 0;
}

static void teardown(void)
{
    if (du)
        vmsg_plat_close(du);
    if (d0)
        vmsg_plat_close(d0);
    fake_xen_free(fx);
    fx = NULL;
    du = d0 = NULL;
}

/* Each test gets a fresh machine. */
#define BEGIN() CU_ASSERT_FATAL(setup() == 0)
#define END() teardown()

static bool readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, 0) == 1;
}

/* Take one event; returns the port or -1. */
static long take_event(struct vmsg_platform *p)
{
    uint32_t port;

    if (vmsg_plat_evtchn_pending(p, &port))
        return -1;
    vmsg_plat_evtchn_unmask(p, port);
    return port;
}

static void drain(struct vmsg_platform *p)
{
    while (take_event(p) >= 0)
        ;
}

/* Connect dom FE (unbound side) and dom0 (binding side). */
static void connect_ports(uint32_t *fe_port, uint32_t *be_port)
{
    CU_ASSERT_FATAL(vmsg_plat_evtchn_bind_unbound(du, 0, fe_port) == 0);
    CU_ASSERT_FATAL(vmsg_plat_evtchn_bind_interdomain(d0, FE, *fe_port, be_port) == 0);
    drain(d0);
}

static char *xs_get(struct vmsg_platform *p, const char *path)
{
    char *v = NULL;

    return vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL) ? NULL : v;
}

static int xs_put(struct vmsg_platform *p, const char *path, const char *v)
{
    return vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, path, v, strlen(v));
}

static void set_perms(struct vmsg_platform *p, const char *path, const char *perms)
{
    struct vmsg_xs_perm pp[4];
    int n = vmsg_xs_perms_parse(perms, pp, 4);

    CU_ASSERT_FATAL(n > 0);
    CU_ASSERT_FATAL(vmsg_plat_xs_set_perms(p, VMSG_XS_TX_NONE, path, pp, (unsigned)n) == 0);
}

/* Collect queued watch events as "path|token;..." */
static void watch_events(struct vmsg_platform *p, char *out, size_t len)
{
    char *path, *token;

    out[0] = '\0';
    while (vmsg_plat_xs_read_watch(p, &path, &token) == 0) {
        snprintf(out + strlen(out), len - strlen(out), "%s|%s;", path, token);
        free(path);
        free(token);
    }
}

/* ---- event channels ------------------------------------------------------ */

static void notify_reaches_the_peer_and_its_fd_polls_readable(void)
{
    uint32_t fp, bp;

    BEGIN();
    connect_ports(&fp, &bp);
    CU_ASSERT(!readable(vmsg_plat_evtchn_fd(du)));
    CU_ASSERT(vmsg_plat_evtchn_notify(d0, bp) == 0);
    CU_ASSERT(readable(vmsg_plat_evtchn_fd(du)));
    CU_ASSERT(take_event(du) == fp);
    CU_ASSERT(!readable(vmsg_plat_evtchn_fd(du)));
    CU_ASSERT(vmsg_plat_evtchn_notify(du, fp) == 0);
    CU_ASSERT(take_event(d0) == bp);
    END();
}

static void pending_without_event_is_eagain(void)
{
    uint32_t port;

    BEGIN();
    CU_ASSERT(vmsg_plat_evtchn_pending(du, &port) == -EAGAIN);
    END();
}

static void binding_fires_the_new_port_once(void)
{
    uint32_t fp, bp;

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_evtchn_bind_unbound(du, 0, &fp) == 0);
    CU_ASSERT_FATAL(vmsg_plat_evtchn_bind_interdomain(d0, FE, fp, &bp) == 0);
    CU_ASSERT(take_event(d0) == bp);
    CU_ASSERT(take_event(d0) == -1);
    END();
}

static void fired_port_stays_masked_and_latches_until_unmask(void)
{
    uint32_t fp, bp, got;

    BEGIN();
    connect_ports(&fp, &bp);
    vmsg_plat_evtchn_notify(d0, bp);
    CU_ASSERT_FATAL(vmsg_plat_evtchn_pending(du, &got) == 0);
    vmsg_plat_evtchn_notify(d0, bp);
    vmsg_plat_evtchn_notify(d0, bp);
    CU_ASSERT(vmsg_plat_evtchn_pending(du, &got) == -EAGAIN);
    CU_ASSERT(vmsg_plat_evtchn_unmask(du, fp) == 0);
    CU_ASSERT(take_event(du) == fp);   /* the two latched kicks, once */
    CU_ASSERT(take_event(du) == -1);
    END();
}

static void bind_to_a_port_meant_for_another_domain_fails(void)
{
    struct vmsg_platform *other;
    uint32_t fp, lp;

    BEGIN();
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, 5, "other") == 0);
    CU_ASSERT_FATAL(fake_platform_open(fx, 5, &other) == 0);
    CU_ASSERT_FATAL(vmsg_plat_evtchn_bind_unbound(du, 0, &fp) == 0);
    CU_ASSERT(vmsg_plat_evtchn_bind_interdomain(other, FE, fp, &lp) == -EINVAL);
    CU_ASSERT(vmsg_plat_evtchn_bind_interdomain(d0, FE, fp + 7, &lp) == -EINVAL);
    CU_ASSERT(strstr(vmsg_plat_last_error(d0), "port") != NULL);
    vmsg_plat_close(other);
    END();
}

static void unbound_peer_swallows_kicks(void)
{
    uint32_t fp, bp;

    BEGIN();
    connect_ports(&fp, &bp);
    CU_ASSERT(vmsg_plat_evtchn_unbind(du, fp) == 0);
    CU_ASSERT(vmsg_plat_evtchn_notify(d0, bp) == 0);
    CU_ASSERT(take_event(du) == -1);
    CU_ASSERT(vmsg_plat_evtchn_notify(du, fp) == -EINVAL);   /* not ours any more */
    END();
}

/* ---- grants -------------------------------------------------------------- */

static void shared_pages_map_contiguously_at_another_address(void)
{
    uint32_t refs[2];
    void *s, *m;

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(du, 0, 2, true, VMSG_NOTIFY_NONE, VMSG_NOTIFY_NONE,
                                           refs, &s) == 0);
    CU_ASSERT_FATAL(vmsg_plat_gnttab_map(d0, FE, 2, refs, true, VMSG_NOTIFY_NONE,
                                         VMSG_NOTIFY_NONE, &m) == 0);
    CU_ASSERT(s != m);
    strcpy((char *)s + 4096 + 10, "from the guest");
    CU_ASSERT_STRING_EQUAL((char *)m + 4096 + 10, "from the guest");
    strcpy((char *)m, "from dom0");
    CU_ASSERT_STRING_EQUAL((char *)s, "from dom0");
    CU_ASSERT(fake_xen_mapped_pages(fx, 0) == 2);
    CU_ASSERT(vmsg_plat_gnttab_unmap(d0, m, 2) == 0);
    CU_ASSERT(fake_xen_mapped_pages(fx, 0) == 0);
    CU_ASSERT(vmsg_plat_gntshr_unshare(du, s, 2) == 0);
    CU_ASSERT(fake_xen_shared_pages(fx, FE) == 0);
    END();
}

static void mapping_a_ref_not_granted_to_us_fails(void)
{
    struct vmsg_platform *other;
    uint32_t ref;
    void *s, *m;

    BEGIN();
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, 5, "other") == 0);
    CU_ASSERT_FATAL(fake_platform_open(fx, 5, &other) == 0);
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(du, 0, 1, true, VMSG_NOTIFY_NONE, VMSG_NOTIFY_NONE,
                                           &ref, &s) == 0);
    CU_ASSERT(vmsg_plat_gnttab_map(other, FE, 1, &ref, false, VMSG_NOTIFY_NONE,
                                   VMSG_NOTIFY_NONE, &m) == -EINVAL);
    CU_ASSERT(strstr(vmsg_plat_last_error(other), "not granted") != NULL);
    ref += 50;
    CU_ASSERT(vmsg_plat_gnttab_map(d0, FE, 1, &ref, false, VMSG_NOTIFY_NONE,
                                   VMSG_NOTIFY_NONE, &m) == -EINVAL);
    vmsg_plat_close(other);
    END();
}

static void writable_map_of_read_only_grant_is_refused(void)
{
    uint32_t ref;
    void *s, *m;

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(du, 0, 1, false, VMSG_NOTIFY_NONE,
                                           VMSG_NOTIFY_NONE, &ref, &s) == 0);
    CU_ASSERT(vmsg_plat_gnttab_map(d0, FE, 1, &ref, true, VMSG_NOTIFY_NONE, VMSG_NOTIFY_NONE,
                                   &m) == -EACCES);
    CU_ASSERT(vmsg_plat_gnttab_map(d0, FE, 1, &ref, false, VMSG_NOTIFY_NONE,
                                   VMSG_NOTIFY_NONE, &m) == 0);
    END();
}

static void notify_offset_outside_the_area_is_einval(void)
{
    uint32_t ref;
    void *s;

    BEGIN();
    CU_ASSERT(vmsg_plat_gntshr_share(du, 0, 1, true, 4096, VMSG_NOTIFY_NONE, &ref, &s) ==
              -EINVAL);
    END();
}

static void unshare_clears_the_live_byte_and_kicks_the_mapper(void)
{
    uint32_t fp, bp, ref;
    char *s, *m;

    BEGIN();
    connect_ports(&fp, &bp);
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(du, 0, 1, true, 100, fp, &ref, (void **)&s) == 0);
    s[100] = 1;
    CU_ASSERT_FATAL(vmsg_plat_gnttab_map(d0, FE, 1, &ref, true, VMSG_NOTIFY_NONE,
                                         VMSG_NOTIFY_NONE, (void **)&m) == 0);
    CU_ASSERT(m[100] == 1);
    CU_ASSERT(vmsg_plat_gntshr_unshare(du, s, 1) == 0);
    CU_ASSERT(m[100] == 0);              /* still mapped: the page lives on */
    CU_ASSERT(take_event(d0) == bp);
    END();
}

static void unmap_clears_the_live_byte_and_kicks_the_sharer(void)
{
    uint32_t fp, bp, refs[2];
    char *s, *m;

    BEGIN();
    connect_ports(&fp, &bp);
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(du, 0, 2, true, VMSG_NOTIFY_NONE,
                                           VMSG_NOTIFY_NONE, refs, (void **)&s) == 0);
    s[4096 + 5] = 1;
    CU_ASSERT_FATAL(vmsg_plat_gnttab_map(d0, FE, 2, refs, true, 4096 + 5, bp,
                                         (void **)&m) == 0);
    CU_ASSERT(vmsg_plat_gnttab_unmap(d0, m, 2) == 0);
    CU_ASSERT(s[4096 + 5] == 0);
    CU_ASSERT(take_event(du) == fp);
    END();
}

static void process_exit_fires_the_notifications(void)
{
    uint32_t fp, bp, ref;
    char *s, *m;

    BEGIN();
    connect_ports(&fp, &bp);
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(du, 0, 1, true, VMSG_NOTIFY_NONE,
                                           VMSG_NOTIFY_NONE, &ref, (void **)&s) == 0);
    s[7] = 1;
    CU_ASSERT_FATAL(vmsg_plat_gnttab_map(d0, FE, 1, &ref, true, 7, bp, (void **)&m) == 0);
    vmsg_plat_close(d0);
    d0 = NULL;
    CU_ASSERT(s[7] == 0);
    CU_ASSERT(take_event(du) == fp);
    END();
}

static void destroyed_sharer_notifies_nobody_and_stays_until_unmapped(void)
{
    uint32_t fp, bp, ref;
    char *s, *m;

    BEGIN();
    connect_ports(&fp, &bp);
    CU_ASSERT_FATAL(vmsg_plat_gntshr_share(du, 0, 1, true, 9, fp, &ref, (void **)&s) == 0);
    strcpy(s, "data");
    s[9] = 1;
    CU_ASSERT_FATAL(vmsg_plat_gnttab_map(d0, FE, 1, &ref, true, VMSG_NOTIFY_NONE,
                                         VMSG_NOTIFY_NONE, (void **)&m) == 0);
    CU_ASSERT(vmsg_plat_domain_alive(d0, FE) == 1);
    CU_ASSERT(fake_xen_destroy_domain(fx, FE) == 0);
    CU_ASSERT(vmsg_plat_domain_alive(d0, FE) == 0);
    CU_ASSERT(m[9] == 1);                /* its kernel did not run */
    CU_ASSERT(take_event(d0) == -1);
    CU_ASSERT_STRING_EQUAL(m, "data");   /* the page is still ours to read */
    CU_ASSERT(!fake_xen_domain_released(fx, FE));
    CU_ASSERT(vmsg_plat_gnttab_map(d0, FE, 1, &ref, false, VMSG_NOTIFY_NONE,
                                   VMSG_NOTIFY_NONE, (void **)&s) == -EINVAL);
    CU_ASSERT(vmsg_plat_gnttab_unmap(d0, m, 1) == 0);
    CU_ASSERT(fake_xen_domain_released(fx, FE));
    CU_ASSERT(vmsg_plat_own_domid(du, &ref) == -ESRCH);
    END();
}

/* ---- identity ------------------------------------------------------------ */

static void own_domid_and_domain_alive(void)
{
    uint32_t id;

    BEGIN();
    CU_ASSERT(vmsg_plat_own_domid(du, &id) == 0 && id == FE);
    CU_ASSERT(vmsg_plat_own_domid(d0, &id) == 0 && id == 0);
    CU_ASSERT(vmsg_plat_domain_alive(d0, FE) == 1);
    CU_ASSERT(vmsg_plat_domain_alive(d0, 42) == 0);
    CU_ASSERT(vmsg_plat_domain_alive(du, 0) == -ENOSYS);   /* a domU cannot ask */
    END();
}

/* ---- xenstore ------------------------------------------------------------ */

static void relative_paths_are_under_the_domain_home(void)
{
    char *v;

    BEGIN();
    CU_ASSERT(xs_put(du, "data/x", "1") == 0);
    v = xs_get(d0, "/local/domain/3/data/x");
    CU_ASSERT(v && !strcmp(v, "1"));
    free(v);
    v = xs_get(du, "name");
    CU_ASSERT(v && !strcmp(v, "guest"));
    free(v);
    END();
}

static void guest_cannot_write_another_domains_directory(void)
{
    BEGIN();
    CU_ASSERT(xs_put(du, "/local/domain/0/data/x", "1") == -EACCES);
    CU_ASSERT(vmsg_plat_xs_mkdir(du, VMSG_XS_TX_NONE, "/local/domain/0/x") == -EACCES);
    CU_ASSERT(xs_get(du, "/local/domain/0/name") == NULL);
    CU_ASSERT(strstr(vmsg_plat_last_error(du), "/local/domain/0/name") != NULL);
    END();
}

static void missing_node_under_unreadable_parent_is_eacces(void)
{
    char *v;

    BEGIN();
    CU_ASSERT(vmsg_plat_xs_read(du, VMSG_XS_TX_NONE, "/local/domain/0/nope", &v, NULL) ==
              -EACCES);
    CU_ASSERT(vmsg_plat_xs_read(du, VMSG_XS_TX_NONE, "data/nope", &v, NULL) == -ENOENT);
    END();
}

static void backend_dir_is_readable_not_writable_by_its_frontend(void)
{
    const char *be = "/local/domain/0/backend/vmsg/3/0";
    char *v;

    BEGIN();
    CU_ASSERT_FATAL(xs_put(d0, "/local/domain/0/backend/vmsg/3/0/state", "2") == 0);
    set_perms(d0, be, "n0 r3");
    set_perms(d0, "/local/domain/0/backend/vmsg/3/0/state", "n0 r3");
    v = xs_get(du, "/local/domain/0/backend/vmsg/3/0/state");
    CU_ASSERT(v && !strcmp(v, "2"));
    free(v);
    CU_ASSERT(xs_put(du, "/local/domain/0/backend/vmsg/3/0/state", "4") == -EACCES);
    CU_ASSERT(xs_put(du, "/local/domain/0/backend/vmsg/3/0/new", "x") == -EACCES);
    CU_ASSERT(vmsg_plat_xs_rm(du, VMSG_XS_TX_NONE, "/local/domain/0/backend/vmsg/3/0/state") ==
              -EACCES);
    END();
}

static void dom0_may_do_anything(void)
{
    char *v;

    BEGIN();
    CU_ASSERT(xs_put(d0, "/local/domain/3/data/by-dom0", "y") == 0);
    set_perms(du, "data", "n3");
    v = xs_get(d0, "/local/domain/3/data/by-dom0");
    CU_ASSERT(v && !strcmp(v, "y"));
    free(v);
    CU_ASSERT(vmsg_plat_xs_rm(d0, VMSG_XS_TX_NONE, "/local/domain/3/data") == 0);
    END();
}

static void new_nodes_inherit_perms_and_guest_creator_owns_them(void)
{
    struct vmsg_xs_perm *p;
    unsigned n;
    char s[64];

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_mkdir(d0, VMSG_XS_TX_NONE, "/local/domain/3/device/vmsg/0") ==
                    0);
    set_perms(d0, "/local/domain/3/device/vmsg/0", "n3 r0");
    CU_ASSERT_FATAL(xs_put(du, "device/vmsg/0/a/b", "1") == 0);
    CU_ASSERT_FATAL(vmsg_plat_xs_get_perms(d0, VMSG_XS_TX_NONE, "/local/domain/3/device/vmsg/0/a",
                                           &p, &n) == 0);
    vmsg_xs_perms_format(p, n, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "n3 r0");
    free(p);
    /* dom0 creating under the guest's node keeps the guest as owner. */
    CU_ASSERT_FATAL(xs_put(d0, "/local/domain/0/backend/x/y", "1") == 0);
    set_perms(d0, "/local/domain/0/backend/x", "n0 b3");
    CU_ASSERT_FATAL(xs_put(du, "/local/domain/0/backend/x/z", "1") == 0);
    CU_ASSERT_FATAL(vmsg_plat_xs_get_perms(d0, VMSG_XS_TX_NONE, "/local/domain/0/backend/x/z",
                                           &p, &n) == 0);
    vmsg_xs_perms_format(p, n, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "n3 b3");
    free(p);
    END();
}

static void only_owner_sets_perms_and_only_dom0_gives_nodes_away(void)
{
    struct vmsg_xs_perm mine = { FE, VMSG_XS_PERM_READ }, theirs = { 5, 0 };

    BEGIN();
    CU_ASSERT(vmsg_plat_xs_set_perms(du, VMSG_XS_TX_NONE, "/local/domain/3", &mine, 1) ==
              -EACCES);
    CU_ASSERT_FATAL(xs_put(du, "data/mine", "1") == 0);
    CU_ASSERT(vmsg_plat_xs_set_perms(du, VMSG_XS_TX_NONE, "data/mine", &mine, 1) == 0);
    CU_ASSERT(vmsg_plat_xs_set_perms(du, VMSG_XS_TX_NONE, "data/mine", &theirs, 1) == -EPERM);
    CU_ASSERT(vmsg_plat_xs_set_perms(d0, VMSG_XS_TX_NONE, "/local/domain/3/data/mine", &theirs,
                                     1) == 0);
    END();
}

static void rm_of_missing_node_with_parent_succeeds(void)
{
    BEGIN();
    CU_ASSERT(vmsg_plat_xs_rm(du, VMSG_XS_TX_NONE, "data/never") == 0);
    CU_ASSERT(vmsg_plat_xs_rm(du, VMSG_XS_TX_NONE, "data/never/deeper") == -ENOENT);
    END();
}

static void directory_lists_children_in_creation_order(void)
{
    char **names;
    unsigned n;

    BEGIN();
    xs_put(du, "data/d/b", "");
    xs_put(du, "data/d/a", "");
    CU_ASSERT_FATAL(vmsg_plat_xs_directory(du, VMSG_XS_TX_NONE, "data/d", &names, &n) == 0);
    CU_ASSERT(n == 2 && !strcmp(names[0], "b") && !strcmp(names[1], "a") && !names[2]);
    free(names);
    END();
}

static void bad_paths_are_einval(void)
{
    BEGIN();
    CU_ASSERT(xs_put(du, "data//x", "1") == -EINVAL);
    CU_ASSERT(xs_put(du, "data/x/", "1") == -EINVAL);
    CU_ASSERT(xs_put(du, "data/x y", "1") == -EINVAL);
    END();
}

static void watch_fires_once_on_registration_then_on_changes_below(void)
{
    char ev[512];

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_watch(d0, "/local/domain/3/data", "t") == 0);
    CU_ASSERT(readable(vmsg_plat_xs_watch_fd(d0)));
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "/local/domain/3/data|t;");
    CU_ASSERT(!readable(vmsg_plat_xs_watch_fd(d0)));
    xs_put(du, "data/a/b", "1");
    xs_put(du, "name", "x");      /* not below the watch: denied anyway */
    xs_put(d0, "/local/domain/3/datax", "1");
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "/local/domain/3/data/a/b|t;");
    END();
}

static void relative_watch_reports_relative_paths(void)
{
    char ev[512];

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_watch(du, "data", "r") == 0);
    xs_put(du, "data/q", "1");
    watch_events(du, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "data|r;data/q|r;");
    END();
}

static void rm_fires_watches_below_the_removed_node(void)
{
    char ev[512];

    BEGIN();
    xs_put(d0, "/local/domain/0/backend/t/x", "1");
    CU_ASSERT_FATAL(vmsg_plat_xs_watch(d0, "/local/domain/0/backend/t/x", "w") == 0);
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT(vmsg_plat_xs_rm(d0, VMSG_XS_TX_NONE, "/local/domain/0/backend/t") == 0);
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "/local/domain/0/backend/t/x|w;");
    END();
}

static void watchers_without_read_permission_hear_nothing(void)
{
    char ev[512];

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_watch(du, "/local/domain/0/data", "spy") == 0);
    watch_events(du, ev, sizeof(ev));
    xs_put(d0, "/local/domain/0/data/secret", "1");
    watch_events(du, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "");
    END();
}

static void release_domain_fires_for_dom0_on_destroy(void)
{
    char ev[512];

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_watch(d0, "@releaseDomain", "rel") == 0);
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "@releaseDomain|rel;");
    CU_ASSERT(fake_xen_destroy_domain(fx, FE) == 0);
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "@releaseDomain|rel;");
    CU_ASSERT(xs_get(d0, "/local/domain/3/name") == NULL);
    END();
}

static void transaction_commits_atomically(void)
{
    uint32_t tx;
    char *v, ev[256];

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_watch(d0, "/local/domain/3/data", "t") == 0);
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_FATAL(vmsg_plat_xs_tx_start(du, &tx) == 0);
    CU_ASSERT(vmsg_plat_xs_write(du, tx, "data/a", "1", 1) == 0);
    CU_ASSERT(xs_get(d0, "/local/domain/3/data/a") == NULL);   /* not yet visible */
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "");
    CU_ASSERT(vmsg_plat_xs_tx_end(du, tx, false) == 0);
    v = xs_get(d0, "/local/domain/3/data/a");
    CU_ASSERT(v && !strcmp(v, "1"));
    free(v);
    watch_events(d0, ev, sizeof(ev));
    CU_ASSERT_STRING_EQUAL(ev, "/local/domain/3/data/a|t;");
    END();
}

/* What a toolstack does: build a whole new subtree in one transaction. */
static void transaction_creating_parents_commits(void)
{
    uint32_t tx;
    char *v;

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_tx_start(du, &tx) == 0);
    CU_ASSERT(vmsg_plat_xs_write(du, tx, "data/new/deep/leaf", "x", 1) == 0);
    CU_ASSERT(vmsg_plat_xs_write(du, tx, "data/new/other", "y", 1) == 0);
    CU_ASSERT_EQUAL(vmsg_plat_xs_tx_end(du, tx, false), 0);
    v = xs_get(d0, "/local/domain/3/data/new/deep/leaf");
    CU_ASSERT(v && !strcmp(v, "x"));
    free(v);
    v = xs_get(d0, "/local/domain/3/data/new/other");
    CU_ASSERT(v && !strcmp(v, "y"));
    free(v);
    END();
}

static void transaction_conflict_is_eagain_and_applies_nothing(void)
{
    uint32_t tx;
    char *v;

    BEGIN();
    xs_put(du, "data/c", "0");
    CU_ASSERT_FATAL(vmsg_plat_xs_tx_start(du, &tx) == 0);
    CU_ASSERT_FATAL(vmsg_plat_xs_read(du, tx, "data/c", &v, NULL) == 0);
    free(v);
    CU_ASSERT(vmsg_plat_xs_write(du, tx, "data/d", "1", 1) == 0);
    CU_ASSERT(xs_put(d0, "/local/domain/3/data/c", "9") == 0);   /* someone else */
    CU_ASSERT(vmsg_plat_xs_tx_end(du, tx, false) == -EAGAIN);
    CU_ASSERT(xs_get(du, "data/d") == NULL);
    END();
}

static void aborted_transaction_applies_nothing(void)
{
    uint32_t tx;

    BEGIN();
    CU_ASSERT_FATAL(vmsg_plat_xs_tx_start(du, &tx) == 0);
    vmsg_plat_xs_write(du, tx, "data/e", "1", 1);
    CU_ASSERT(vmsg_plat_xs_tx_end(du, tx, true) == 0);
    CU_ASSERT(xs_get(du, "data/e") == NULL);
    END();
}

/* The body conflicts on its first run (another writer sneaks in). */
static int body_runs;

static int conflicting_body(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    char *v;
    int rc;

    body_runs++;
    rc = vmsg_plat_xs_read(p, tx, "data/n", &v, NULL);
    if (rc)
        return rc;
    free(v);
    if (body_runs == 1)
        xs_put(d0, "/local/domain/3/data/n", "other");
    return vmsg_plat_xs_write(p, tx, "data/n", "mine", 4);
}

static int failing_body(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    body_runs++;
    return -EPERM;
}

static void transaction_helper_reruns_the_body_on_eagain(void)
{
    char *v;

    BEGIN();
    xs_put(du, "data/n", "0");
    body_runs = 0;
    CU_ASSERT(vmsg_plat_xs_transaction(du, 0, conflicting_body, NULL) == 0);
    CU_ASSERT(body_runs == 2);
    v = xs_get(du, "data/n");
    CU_ASSERT(v && !strcmp(v, "mine"));
    free(v);
    body_runs = 0;
    CU_ASSERT(vmsg_plat_xs_transaction(du, 0, failing_body, NULL) == -EPERM);
    CU_ASSERT(body_runs == 1);
    END();
}

static void perm_strings_round_trip(void)
{
    struct vmsg_xs_perm p[4];
    char s[64];

    CU_ASSERT(vmsg_xs_perms_parse("n0 r5 b7 w9", p, 4) == 4);
    CU_ASSERT(p[1].domid == 5 && p[1].perms == VMSG_XS_PERM_READ);
    CU_ASSERT(vmsg_xs_perms_format(p, 4, s, sizeof(s)) == 0);
    CU_ASSERT_STRING_EQUAL(s, "n0 r5 b7 w9");
    CU_ASSERT(vmsg_xs_perms_parse("x0", p, 4) == -EINVAL);
    CU_ASSERT(vmsg_xs_perms_parse("r", p, 4) == -EINVAL);
    CU_ASSERT(vmsg_xs_perms_parse("n0 r1", p, 1) == -EINVAL);
    CU_ASSERT(vmsg_xs_perms_format(p, 4, s, 5) == -ENOSPC);
}

static void register_suites(void)
{
    {
        VMSG_SUITE("platform/evtchn", NULL, NULL);
        VMSG_TEST(notify_reaches_the_peer_and_its_fd_polls_readable);
        VMSG_TEST(pending_without_event_is_eagain);
        VMSG_TEST(binding_fires_the_new_port_once);
        VMSG_TEST(fired_port_stays_masked_and_latches_until_unmask);
        VMSG_TEST(bind_to_a_port_meant_for_another_domain_fails);
        VMSG_TEST(unbound_peer_swallows_kicks);
    }
    {
        VMSG_SUITE("platform/grants", NULL, NULL);
        VMSG_TEST(shared_pages_map_contiguously_at_another_address);
        VMSG_TEST(mapping_a_ref_not_granted_to_us_fails);
        VMSG_TEST(writable_map_of_read_only_grant_is_refused);
        VMSG_TEST(notify_offset_outside_the_area_is_einval);
        VMSG_TEST(unshare_clears_the_live_byte_and_kicks_the_mapper);
        VMSG_TEST(unmap_clears_the_live_byte_and_kicks_the_sharer);
        VMSG_TEST(process_exit_fires_the_notifications);
        VMSG_TEST(destroyed_sharer_notifies_nobody_and_stays_until_unmapped);
    }
    {
        VMSG_SUITE("platform/identity", NULL, NULL);
        VMSG_TEST(own_domid_and_domain_alive);
    }
    {
        VMSG_SUITE("platform/xenstore", NULL, NULL);
        VMSG_TEST(relative_paths_are_under_the_domain_home);
        VMSG_TEST(guest_cannot_write_another_domains_directory);
        VMSG_TEST(missing_node_under_unreadable_parent_is_eacces);
        VMSG_TEST(backend_dir_is_readable_not_writable_by_its_frontend);
        VMSG_TEST(dom0_may_do_anything);
        VMSG_TEST(new_nodes_inherit_perms_and_guest_creator_owns_them);
        VMSG_TEST(only_owner_sets_perms_and_only_dom0_gives_nodes_away);
        VMSG_TEST(rm_of_missing_node_with_parent_succeeds);
        VMSG_TEST(directory_lists_children_in_creation_order);
        VMSG_TEST(bad_paths_are_einval);
        VMSG_TEST(watch_fires_once_on_registration_then_on_changes_below);
        VMSG_TEST(relative_watch_reports_relative_paths);
        VMSG_TEST(rm_fires_watches_below_the_removed_node);
        VMSG_TEST(watchers_without_read_permission_hear_nothing);
        VMSG_TEST(release_domain_fires_for_dom0_on_destroy);
        VMSG_TEST(transaction_commits_atomically);
        VMSG_TEST(transaction_creating_parents_commits);
        VMSG_TEST(transaction_conflict_is_eagain_and_applies_nothing);
        VMSG_TEST(aborted_transaction_applies_nothing);
        VMSG_TEST(transaction_helper_reruns_the_body_on_eagain);
    }
    {
        VMSG_SUITE("platform/helpers", NULL, NULL);
        VMSG_TEST(perm_strings_round_trip);
    }
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
