/*
 * tests/unit/test_vmsgctl.c: the toolstack subcommands (attach, detach,
 * list, status) run as dom0 on the fake platform, checked against
 * docs/protocol.md sections 2, 6 and 7.
 */
#include "config.h"

#include <poll.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "test_vmsgctl_env.h"
#include "vmsg_test.h"

/* Whether the directory's children are exactly `want` (space-separated, sorted). */
static bool children_are(const char *path, const char *want)
{
    struct vmsg_platform *p;
    char **names = NULL, got[512] = "";
    unsigned n = 0;

    if (fake_platform_open(t_fx, 0, &p))
        return false;
    if (vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, path, &names, &n) == 0) {
        /* Sort: the fake lists in creation order, xenstored does not promise one. */
        for (unsigned i = 1; i < n; i++)
            for (unsigned k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
                char *t = names[k];
                names[k] = names[k - 1];
                names[k - 1] = t;
            }
        for (unsigned i = 0; i < n; i++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
                     names[i]);
    }
    free(names);
    vmsg_plat_close(p);
    if (strcmp(got, want))
        fprintf(stderr, "%s: children '%s', want '%s'\n", path, got, want);
    return !strcmp(got, want);
}

static bool node_is(const char *path, const char *want)
{
    char *v = t_get(path);
    bool eq = v && !strcmp(v, want);

    if (!eq)
        fprintf(stderr, "%s: '%s', want '%s'\n", path, v ? v : "(missing)", want);
    free(v);
    return eq;
}

/* Every node below path (and path) has permissions `want`. */
static bool perms_all(const char *path, const char *want)
{
    struct vmsg_platform *p;
    char **names = NULL, perms[64], child[256];
    unsigned n = 0;
    bool ok;

    t_perms(path, perms, sizeof(perms));
    ok = !strcmp(perms, want);
    if (!ok)
        fprintf(stderr, "%s: perms '%s', want '%s'\n", path, perms, want);
    if (fake_platform_open(t_fx, 0, &p))
        return false;
    if (vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, path, &names, &n))
        n = 0;
    vmsg_plat_close(p);
    for (unsigned i = 0; i < n; i++) {
        snprintf(child, sizeof(child), "%s/%s", path, names[i]);
        ok = perms_all(child, want) && ok;
    }
    free(names);
    return ok;
}

static bool has(const char *s, const char *what)
{
    bool yes = s && strstr(s, what);

    if (!yes)
        fprintf(stderr, "'%s' not in: %s\n", what, s ? s : "(null)");
    return yes;
}

/* ---- attach ------------------------------------------------------------------- */

static void attach_writes_exactly_the_documented_nodes(void)
{
    struct t_run r = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=blk", "backend=driver",
                               "target=/img/disk.raw", "ro=1", NULL);

    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_STRING_EQUAL(r.out, "0\n");
    /* 2.3: F holds what the toolstack writes and nothing else. */
    CU_ASSERT(children_are(T_F, "backend backend-id state"));
    CU_ASSERT(node_is(T_F "/backend", T_B));
    CU_ASSERT(node_is(T_F "/backend-id", "1"));
    CU_ASSERT(node_is(T_F "/state", "1"));
    /* 2.2 and section 6. */
    CU_ASSERT(children_are(T_B, "devices frontend frontend-id online state"));
    CU_ASSERT(node_is(T_B "/frontend", T_F));
    CU_ASSERT(node_is(T_B "/frontend-id", "3"));
    CU_ASSERT(node_is(T_B "/online", "1"));
    CU_ASSERT(node_is(T_B "/state", "1"));
    CU_ASSERT(children_are(T_B "/devices", "0"));
    CU_ASSERT(children_are(T_B "/devices/0", "params state type"));
    CU_ASSERT(node_is(T_B "/devices/0/type", "blk"));
    CU_ASSERT(node_is(T_B "/devices/0/state", "1"));
    CU_ASSERT(children_are(T_B "/devices/0/params", "ro target"));
    CU_ASSERT(node_is(T_B "/devices/0/params/target", "/img/disk.raw"));
    CU_ASSERT(node_is(T_B "/devices/0/params/ro", "1"));
    /* 2.1: libxl's rules on every node. */
    CU_ASSERT(perms_all(T_F, "n3 r1"));
    CU_ASSERT(perms_all(T_B, "n1 r3"));
    t_run_free(&r);
}

static void attach_neither_side_can_write_the_other_directory(void)
{
    struct t_run r = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct vmsg_platform *guest, *driver;
    char *v = NULL;

    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    CU_ASSERT_EQUAL_FATAL(fake_platform_open(t_fx, T_FE, &guest), 0);
    CU_ASSERT_EQUAL_FATAL(fake_platform_open(t_fx, T_BE, &driver), 0);
    /* The guest reads B but cannot change it, nor add a node to it. */
    CU_ASSERT_EQUAL(vmsg_plat_xs_read(guest, VMSG_XS_TX_NONE, T_B "/devices/0/type", &v, NULL),
                    0);
    free(v);
    CU_ASSERT_EQUAL(vmsg_plat_xs_write(guest, VMSG_XS_TX_NONE, T_B "/devices/0/state", "4", 1),
                    -EACCES);
    CU_ASSERT_EQUAL(vmsg_plat_xs_write(guest, VMSG_XS_TX_NONE, T_B "/devices/1/type", "blk", 3),
                    -EACCES);
    CU_ASSERT_EQUAL(vmsg_plat_xs_write(guest, VMSG_XS_TX_NONE, T_B "/state", "4", 1), -EACCES);
    /* ...and the backend likewise with F, while each writes its own. */
    CU_ASSERT_EQUAL(vmsg_plat_xs_write(driver, VMSG_XS_TX_NONE, T_F "/state", "4", 1), -EACCES);
    CU_ASSERT_EQUAL(vmsg_plat_xs_write(driver, VMSG_XS_TX_NONE, T_B "/state", "2", 1), 0);
    CU_ASSERT_EQUAL(vmsg_plat_xs_write(guest, VMSG_XS_TX_NONE, T_F "/state", "3", 1), 0);
    vmsg_plat_close(guest);
    vmsg_plat_close(driver);
    t_run_free(&r);
}

static void attach_reuses_the_bus_and_takes_the_lowest_free_devnum(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "3", "type=rng", "backend=1", NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=console",
                               "backend=driver", "output=pty", "rows=25", "cols=80", NULL);
    struct t_run c = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "devnum=7",
                               "backend=driver", NULL);
    struct t_run d = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=4", "backend=driver",
                               NULL);

    CU_ASSERT_STRING_EQUAL(a.out, "0\n");
    CU_ASSERT_STRING_EQUAL(b.out, "1\n");
    CU_ASSERT_STRING_EQUAL(c.out, "7\n");
    CU_ASSERT_STRING_EQUAL(d.out, "2\n");
    CU_ASSERT(children_are(T_B "/devices", "0 1 2 7"));
    CU_ASSERT(children_are("/local/domain/3/device/virtio-msg", "0"));
    CU_ASSERT(node_is(T_B "/devices/2/type", "4"));
    t_run_free(&a);
    t_run_free(&b);
    t_run_free(&c);
    t_run_free(&d);
}

static void attach_another_backend_gets_its_own_bus(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", NULL);
    struct t_run c = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "bus=0",
                               "backend=0", NULL);

    CU_ASSERT_EQUAL(a.status, 0);
    CU_ASSERT_EQUAL(b.status, 0);   /* default backend: this domain, dom0 */
    CU_ASSERT(node_is("/local/domain/3/device/virtio-msg/1/backend-id", "0"));
    CU_ASSERT(node_is("/local/domain/0/backend/virtio-msg/3/1/devices/0/type", "rng"));
    CU_ASSERT(perms_all("/local/domain/3/device/virtio-msg/1", "n3 r0"));
    CU_ASSERT(perms_all("/local/domain/0/backend/virtio-msg/3/1", "n0 r3"));
    /* Bus 0 belongs to the driver domain: asking for it with dom0 fails. */
    CU_ASSERT_EQUAL(c.status, 1);
    CU_ASSERT(has(c.err, "bus 0 of domain guest is served by backend domain 1"));
    t_run_free(&a);
    t_run_free(&b);
    t_run_free(&c);
}

static void attach_taken_devnum_fails_naming_the_path(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               "devnum=0", NULL);

    CU_ASSERT_EQUAL(b.status, 1);
    CU_ASSERT(has(b.err, T_B "/devices/0"));
    CU_ASSERT_STRING_EQUAL(b.out, "");
    t_run_free(&a);
    t_run_free(&b);
}

/* Each bad invocation: usage status, a message naming the culprit, nothing written. */
static void attach_rejects_bad_types_keys_and_values(void)
{
    static const struct {
        const char *args[4];
        const char *named;
    } cases[] = {
        { { "type=console", "colour=red" }, "unknown parameter 'colour' for type console" },
        { { "type=console", "rows=abc" }, "rows='abc'" },
        { { "type=console", "rows=0" }, "expected a decimal 1..65535" },
        { { "type=console", "output=tty" }, "output='tty'" },
        { { "type=console", "output=file:relative" }, "output='file:relative'" },
        { { "type=blk" }, "type blk needs parameter target" },
        { { "type=blk", "target=/a", "ro=2" }, "ro='2'" },
        { { "type=blk", "target=/a", "serial=123456789012345678901" }, "serial=" },
        { { "type=blk", "target=/a", "num-queues=17" }, "num-queues='17'" },
        { { "type=blk", "target=/a", "target=/b" }, "'target' given twice" },
        { { "type=disk" }, "type 'disk'" },
        { { "type=0" }, "type '0'" },
        { { "type=rng", "ro=1" }, "unknown parameter 'ro' for type rng" },
        { { "type=7", "x=1" }, "unknown parameter 'x' for type 7" },
        { { "backend=driver" }, "type=TYPE is required" },
        { { "type=rng", "bus=256" }, "bus '256'" },
        { { "type=rng", "devnum=65536" }, "devnum '65536'" },
        { { "type=rng", "noequals" }, "'noequals': expected KEY=VALUE" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *const *a = cases[i].args;
        struct t_run r = t_vmsgctl(vmsgctl_attach, "attach", "guest", a[0], a[1], a[2], a[3],
                                   NULL);

        CU_ASSERT_EQUAL(r.status, 2);
        CU_ASSERT(has(r.err, cases[i].named));
        t_run_free(&r);
    }
    CU_ASSERT(t_get(T_F) == NULL);
    CU_ASSERT(t_get(T_B) == NULL);
}

static void attach_resolves_names_and_ids(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "nosuch", "type=rng", NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "7", "type=rng", NULL);
    struct t_run c = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=nosuch",
                               NULL);
    struct t_run d = t_vmsgctl(vmsgctl_attach, "attach", "Domain-0", "type=rng",
                               "backend=guest", NULL);

    CU_ASSERT_EQUAL(a.status, 1);
    CU_ASSERT(has(a.err, "domain 'nosuch'"));
    CU_ASSERT_EQUAL(b.status, 1);
    CU_ASSERT(has(b.err, "/local/domain/7"));
    CU_ASSERT_EQUAL(c.status, 1);
    CU_ASSERT(has(c.err, "'nosuch'"));
    /* A guest may serve dom0 too: names resolve both ways. */
    CU_ASSERT_EQUAL(d.status, 0);
    CU_ASSERT(node_is("/local/domain/3/backend/virtio-msg/0/0/frontend-id", "0"));
    t_run_free(&a);
    t_run_free(&b);
    t_run_free(&c);
    t_run_free(&d);
}

static void usage_errors_and_help(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "--help", NULL);
    struct t_run c = t_vmsgctl(vmsgctl_detach, "detach", "guest", "x", NULL);
    struct t_run d = t_vmsgctl(vmsgctl_detach, "detach", "guest", "0", "--timeout", "0", NULL);
    struct t_run e = t_vmsgctl(vmsgctl_list, "list", "--bogus", NULL);
    struct t_run f = t_vmsgctl(vmsgctl_status, "status", "extra", NULL);

    CU_ASSERT_EQUAL(a.status, 2);
    CU_ASSERT(has(a.err, "DOMAIN is missing"));
    CU_ASSERT_EQUAL(b.status, 0);
    CU_ASSERT(has(b.out, "usage: vmsgctl attach"));
    CU_ASSERT_EQUAL(c.status, 2);
    CU_ASSERT(has(c.err, "DEVNUM 'x'"));
    CU_ASSERT_EQUAL(d.status, 2);
    CU_ASSERT(has(d.err, "--timeout '0'"));
    CU_ASSERT_EQUAL(e.status, 2);
    CU_ASSERT_EQUAL(f.status, 2);
    t_run_free(&a);
    t_run_free(&b);
    t_run_free(&c);
    t_run_free(&d);
    t_run_free(&e);
    t_run_free(&f);
}

/* ---- detach ------------------------------------------------------------------- */

/* The backend's side of section 6: on devices/0/state = 5, write 6. */
struct fake_backend {
    pthread_t thread;
    bool saw_closing;
    int rc;
};

static void *backend_main(void *arg)
{
    struct fake_backend *fb = arg;
    struct vmsg_platform *p;
    int fd;

    if ((fb->rc = env_open(t_fx, T_BE, &p)))
        return NULL;
    fb->rc = vmsg_plat_xs_watch(p, T_B "/devices/0/state", "be");
    fd = vmsg_plat_xs_watch_fd(p);
    for (int i = 0; i < 500 && !fb->rc; i++) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        char *v = NULL, *wp, *wt;

        poll(&pfd, 1, 10);
        while (vmsg_plat_xs_read_watch(p, &wp, &wt) == 0) {
            free(wp);
            free(wt);
        }
        if (vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, T_B "/devices/0/state", &v, NULL) == 0 &&
            !strcmp(v, "5")) {
            fb->saw_closing = true;
            usleep(50 * 1000);  /* the driver's reset takes a while */
            fb->rc = vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, T_B "/devices/0/state", "6", 1);
            free(v);
            break;
        }
        free(v);
    }
    vmsg_plat_close(p);
    return NULL;
}

static void detach_waits_for_the_backend_to_close(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct fake_backend fb = { 0 };
    struct t_run d;

    t_put(T_B "/devices/0/state", "4");     /* the backend had connected it */
    CU_ASSERT_EQUAL_FATAL(pthread_create(&fb.thread, NULL, backend_main, &fb), 0);
    d = t_vmsgctl(vmsgctl_detach, "detach", "guest", "0", "--timeout", "5", NULL);
    pthread_join(fb.thread, NULL);
    CU_ASSERT_EQUAL(fb.rc, 0);
    CU_ASSERT(fb.saw_closing);
    CU_ASSERT_EQUAL(d.status, 0);
    CU_ASSERT_STRING_EQUAL(d.err, "");
    CU_ASSERT(children_are(T_B "/devices", "1"));
    t_run_free(&a);
    t_run_free(&b);
    t_run_free(&d);
}

static void detach_timeout_leaves_the_device_unless_forced(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run d = t_vmsgctl(vmsgctl_detach, "detach", "guest", "0", "--timeout", "0.2",
                               NULL);
    struct t_run f;

    CU_ASSERT_EQUAL(d.status, 1);
    CU_ASSERT(has(d.err, "timed out after 0.2 s"));
    CU_ASSERT(has(d.err, "use --force"));
    CU_ASSERT(node_is(T_B "/devices/0/state", "5"));
    f = t_vmsgctl(vmsgctl_detach, "detach", "guest", "0", "-t", "0.1", "--force", NULL);
    CU_ASSERT_EQUAL(f.status, 0);
    CU_ASSERT(has(f.err, "removing it anyway"));
    CU_ASSERT(t_get(T_B "/devices/0") == NULL);
    t_run_free(&a);
    t_run_free(&d);
    t_run_free(&f);
}

static void detach_refused_device_goes_at_once(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run d;

    t_put(T_B "/devices/0/state", "6");     /* the backend refused it (section 6) */
    d = t_vmsgctl(vmsgctl_detach, "detach", "guest", "0", "--timeout", "0.1", NULL);
    CU_ASSERT_EQUAL(d.status, 0);
    CU_ASSERT(t_get(T_B "/devices/0") == NULL);
    t_run_free(&a);
    t_run_free(&d);
}

static void detach_unknown_device_or_ambiguous_bus(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", NULL);
    struct t_run c = t_vmsgctl(vmsgctl_detach, "detach", "guest", "5", NULL);
    struct t_run d = t_vmsgctl(vmsgctl_detach, "detach", "guest", "0", NULL);
    struct t_run e = t_vmsgctl(vmsgctl_detach, "detach", "guest", "0", "--bus", "1", "-t",
                               "0.1", NULL);

    CU_ASSERT_EQUAL(c.status, 1);
    CU_ASSERT(has(c.err, "domain guest has no virtio-msg device 5"));
    CU_ASSERT_EQUAL(d.status, 1);
    CU_ASSERT(has(d.err, "buses 0 and 1"));
    CU_ASSERT(has(d.err, "--bus"));
    /* --bus picks one: no backend answers, so it times out on bus 1 only. */
    CU_ASSERT_EQUAL(e.status, 1);
    CU_ASSERT(node_is("/local/domain/0/backend/virtio-msg/3/1/devices/0/state", "5"));
    CU_ASSERT(node_is(T_B "/devices/0/state", "1"));
    t_run_free(&a);
    t_run_free(&b);
    t_run_free(&c);
    t_run_free(&d);
    t_run_free(&e);
}

/* ---- list and status -------------------------------------------------------------- */

static void list_shows_devices_as_table_and_json(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=blk", "backend=driver",
                               "target=/img", "serial=abc", NULL);
    struct t_run l, j, o;
    yajl_val tree, dev;
    char ebuf[128];

    t_put(T_B "/devices/0/state", "4");
    l = t_vmsgctl(vmsgctl_list, "list", NULL);
    CU_ASSERT_EQUAL(l.status, 0);
    CU_ASSERT(has(l.out, "guest(3)"));
    CU_ASSERT(has(l.out, "driver(1)"));
    CU_ASSERT(has(l.out, "Connected"));
    CU_ASSERT(has(l.out, "serial=abc"));
    CU_ASSERT(has(l.out, "target=/img"));
    j = t_vmsgctl(vmsgctl_list, "list", "guest", "--json", NULL);
    CU_ASSERT_EQUAL(j.status, 0);
    tree = yajl_tree_parse(j.out, ebuf, sizeof(ebuf));
    CU_ASSERT_FATAL(YAJL_IS_ARRAY(tree) && tree->u.array.len == 1);
    dev = tree->u.array.values[0];
    {
        const char *pdomain[] = { "domain", NULL }, *pstate[] = { "state", NULL },
                   *ptarget[] = { "params", "target", NULL }, *pbe[] = { "backend_id", NULL },
                   *pname[] = { "state_name", NULL };

        CU_ASSERT_STRING_EQUAL(YAJL_GET_STRING(yajl_tree_get(dev, pdomain, yajl_t_string)),
                               "guest");
        CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(dev, pstate, yajl_t_number)), 4);
        CU_ASSERT_STRING_EQUAL(YAJL_GET_STRING(yajl_tree_get(dev, pname, yajl_t_string)),
                               "Connected");
        CU_ASSERT_STRING_EQUAL(YAJL_GET_STRING(yajl_tree_get(dev, ptarget, yajl_t_string)),
                               "/img");
        CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(dev, pbe, yajl_t_number)), 1);
    }
    yajl_tree_free(tree);
    /* Another domain: no devices, an empty array. */
    o = t_vmsgctl(vmsgctl_list, "list", "driver", "--json", NULL);
    CU_ASSERT_STRING_EQUAL(o.out, "[]\n");
    t_run_free(&a);
    t_run_free(&l);
    t_run_free(&j);
    t_run_free(&o);
}

static void status_shows_states_by_name_and_effective_sizes(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run s, j;
    yajl_val tree;
    char ebuf[128];

    t_put(T_B "/max-msg-size", "264");
    t_put(T_B "/state", "4");
    t_put(T_F "/max-msg-size", "128");
    t_put(T_F "/pool-pages", "64");
    t_put(T_F "/state", "4");
    t_put(T_B "/error", "nothing really");
    s = t_vmsgctl(vmsgctl_status, "status", NULL);
    CU_ASSERT_EQUAL(s.status, 0);
    CU_ASSERT(has(s.out, "Connected     Connected"));
    CU_ASSERT(has(s.out, "128"));
    CU_ASSERT(has(s.out, "error: nothing really"));
    j = t_vmsgctl(vmsgctl_status, "status", "--json", NULL);
    tree = yajl_tree_parse(j.out, ebuf, sizeof(ebuf));
    CU_ASSERT_FATAL(YAJL_IS_ARRAY(tree) && tree->u.array.len == 1);
    {
        yajl_val b = tree->u.array.values[0];
        const char *pmax[] = { "max_msg_size", NULL }, *pdev[] = { "devices", NULL },
                   *pst[] = { "backend_state_name", NULL }, *ppool[] = { "pool_pages", NULL };

        CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(b, pmax, yajl_t_number)), 128);
        CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(b, pdev, yajl_t_number)), 1);
        CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(b, ppool, yajl_t_number)), 64);
        CU_ASSERT_STRING_EQUAL(YAJL_GET_STRING(yajl_tree_get(b, pst, yajl_t_string)),
                               "Connected");
    }
    yajl_tree_free(tree);
    t_run_free(&a);
    t_run_free(&s);
    t_run_free(&j);
}

static void status_shows_half_a_bus_instance(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);
    struct t_run s;

    t_rm(T_B);
    s = t_vmsgctl(vmsgctl_status, "status", NULL);
    CU_ASSERT_EQUAL(s.status, 0);
    CU_ASSERT(has(s.out, "(no B)"));
    CU_ASSERT(has(s.out, "half a bus instance"));
    t_run_free(&a);
    t_run_free(&s);
}

static void register_suites(void)
{
    /* A fresh machine per test: one suite each, as CU_add_suite's init
     * and cleanup run once per suite. */
#define ONE(fn) \
    { \
        VMSG_SUITE(#fn, t_setup, t_teardown); \
        VMSG_TEST(fn); \
    }
    ONE(attach_writes_exactly_the_documented_nodes)
    ONE(attach_neither_side_can_write_the_other_directory)
    ONE(attach_reuses_the_bus_and_takes_the_lowest_free_devnum)
    ONE(attach_another_backend_gets_its_own_bus)
    ONE(attach_taken_devnum_fails_naming_the_path)
    ONE(attach_rejects_bad_types_keys_and_values)
    ONE(attach_resolves_names_and_ids)
    ONE(usage_errors_and_help)
    ONE(detach_waits_for_the_backend_to_close)
    ONE(detach_timeout_leaves_the_device_unless_forced)
    ONE(detach_refused_device_goes_at_once)
    ONE(detach_unknown_device_or_ambiguous_bus)
    ONE(list_shows_devices_as_table_and_json)
    ONE(status_shows_states_by_name_and_effective_sizes)
    ONE(status_shows_half_a_bus_instance)
#undef ONE
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
