/*
 * tests/unit/test_vmsgctl_status.c: `vmsgctl status` merging xenstore with
 * what the backend's control socket answers (tools/vmsgctl_backend.h).
 * The backend is a fake peer thread on a socket in a scratch directory
 * that answers one request with a canned status object, and records the
 * request it got.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "test_vmsgctl_env.h"
#include "tools/vmsgctl_backend.h"
#include "vmsg_test.h"

/* dom3's bus 0 served by the driver domain (T_BE), and another instance
 * the toolstack does not know about. */
static const char canned[] =
    "{\"backend_id\":1,\"pid\":99,\"instances\":["
    "{\"frontend_id\":3,\"bus\":0,\"state\":4,\"connected\":true,"
    "\"ring\":{\"to_backend\":{\"used\":16,\"size\":2048},"
    "\"to_frontend\":{\"used\":0,\"size\":1024}},"
    "\"messages\":{\"received\":4321,\"sent\":4320,\"dropped_malformed\":3,"
    "\"dropped_unexpected\":0},\"kicks\":{\"sent\":555,\"received\":666}},"
    "{\"frontend_id\":9,\"bus\":2,\"state\":2,\"connected\":false,\"ring\":null,"
    "\"messages\":{\"received\":0,\"sent\":0,\"dropped_malformed\":0,"
    "\"dropped_unexpected\":0},\"kicks\":{\"sent\":0,\"received\":0}}]}\n";

struct peer {
    pthread_t thread;
    int listen_fd;
    const char *answer;
    char request[64];
    char dir[64], path[96];
};

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    int fd = accept(p->listen_fd, NULL, NULL);
    ssize_t n;

    if (fd < 0)
        return NULL;
    n = read(fd, p->request, sizeof(p->request) - 1);
    p->request[n > 0 ? n : 0] = '\0';
    if (write(fd, p->answer, strlen(p->answer)) < 0)
        p->request[0] = '\0';
    close(fd);
    return NULL;
}

static void peer_start(struct peer *p, const char *answer)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    memset(p, 0, sizeof(*p));
    p->answer = answer;
    snprintf(p->dir, sizeof(p->dir), "/tmp/vmsgctl-status-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(p->dir));
    snprintf(p->path, sizeof(p->path), "%s/control", p->dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->path);
    p->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(p->listen_fd >= 0);
    CU_ASSERT_EQUAL_FATAL(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CU_ASSERT_EQUAL_FATAL(listen(p->listen_fd, 1), 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

static void peer_stop(struct peer *p)
{
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
    unlink(p->path);
    rmdir(p->dir);
}

static bool has(const char *s, const char *what)
{
    return s && strstr(s, what);
}

static void attach_connected_rng(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);

    CU_ASSERT_EQUAL(a.status, 0);
    t_put(T_B "/state", "4");
    t_put(T_F "/state", "4");
    t_run_free(&a);
}

static void status_table_shows_the_backend_counters(void)
{
    struct peer p;
    struct t_run s;

    attach_connected_rng();
    peer_start(&p, canned);
    s = t_vmsgctl(vmsgctl_status, "status", "--control", p.path, NULL);
    peer_stop(&p);
    CU_ASSERT_STRING_EQUAL(p.request, "status\n");
    CU_ASSERT_EQUAL(s.status, 0);
    CU_ASSERT(has(s.out, "Connected     Connected"));
    CU_ASSERT(has(s.out, "to-backend 16/2048 to-frontend 0/1024"));
    CU_ASSERT(has(s.out, "received 4321 sent 4320 dropped 3 malformed 0 unexpected"));
    CU_ASSERT(has(s.out, "kicks: received 666 sent 555"));
    CU_ASSERT(!has(s.err, "not reachable"));
    t_run_free(&s);
}

static void status_json_nests_the_backend_counters(void)
{
    struct peer p;
    struct t_run j;
    yajl_val tree, b;
    char ebuf[128];

    attach_connected_rng();
    peer_start(&p, canned);
    j = t_vmsgctl(vmsgctl_status, "status", "--json", "-c", p.path, NULL);
    peer_stop(&p);
    CU_ASSERT_EQUAL(j.status, 0);
    tree = yajl_tree_parse(j.out, ebuf, sizeof(ebuf));
    CU_ASSERT_FATAL(YAJL_IS_ARRAY(tree) && tree->u.array.len == 1);
    b = tree->u.array.values[0];
    CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(b, (const char *[]){ "backend_stats",
                        "messages", "received", NULL }, yajl_t_number)), 4321);
    CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(b, (const char *[]){ "backend_stats", "ring",
                        "to_backend", "used", NULL }, yajl_t_number)), 16);
    CU_ASSERT_EQUAL(YAJL_GET_INTEGER(yajl_tree_get(b, (const char *[]){ "backend_stats", "kicks",
                        "received", NULL }, yajl_t_number)), 666);
    yajl_tree_free(tree);
    t_run_free(&j);
}

/* No backend: xenstore's view still, and a note saying why there is no more. */
static void status_without_backend_still_shows_xenstore(void)
{
    struct t_run s, j;
    char ebuf[128];
    yajl_val tree;

    attach_connected_rng();
    s = t_vmsgctl(vmsgctl_status, "status", "--control", "/nonexistent/vmsg/control", NULL);
    CU_ASSERT_EQUAL(s.status, 0);
    CU_ASSERT(has(s.out, "Connected     Connected"));
    CU_ASSERT(!has(s.out, "messages:"));
    CU_ASSERT(has(s.err, "backend not reachable (is vmsg-backend running here? driver-domain "
                         "backends are not reachable from dom0)"));
    CU_ASSERT(has(s.err, "/nonexistent/vmsg/control"));
    j = t_vmsgctl(vmsgctl_status, "status", "--json", "--control", "/nonexistent/vmsg/control",
                  NULL);
    tree = yajl_tree_parse(j.out, ebuf, sizeof(ebuf));
    CU_ASSERT_FATAL(YAJL_IS_ARRAY(tree) && tree->u.array.len == 1);
    CU_ASSERT(YAJL_IS_NULL(yajl_tree_get(tree->u.array.values[0],
                                         (const char *[]){ "backend_stats", NULL }, yajl_t_any)));
    yajl_tree_free(tree);
    t_run_free(&s);
    t_run_free(&j);
}

/* A backend in another domain than the instance's is not asked about it;
 * a refusal or garbage is "not reachable" with the reason. */
static void status_matches_only_the_backends_own_instances(void)
{
    struct peer p;
    struct t_run s;
    static const char dom0_backend[] = "{\"backend_id\":0,\"pid\":1,\"instances\":["
        "{\"frontend_id\":3,\"bus\":0,\"state\":4,\"connected\":false,\"ring\":null,"
        "\"messages\":{\"received\":7777},\"kicks\":{}}]}";

    attach_connected_rng();
    peer_start(&p, dom0_backend);
    s = t_vmsgctl(vmsgctl_status, "status", "--control", p.path, NULL);
    peer_stop(&p);
    CU_ASSERT_EQUAL(s.status, 0);
    CU_ASSERT(!has(s.out, "7777"));
    CU_ASSERT(!has(s.err, "not reachable"));
    t_run_free(&s);
    peer_start(&p, "{\"error\":\"unknown request 'status'\"}");
    s = t_vmsgctl(vmsgctl_status, "status", "--control", p.path, NULL);
    peer_stop(&p);
    CU_ASSERT(has(s.err, "not reachable"));
    CU_ASSERT(has(s.err, "backend refused: unknown request"));
    t_run_free(&s);
}

static void backend_answer_parsing_refuses_what_is_not_status(void)
{
    struct vmsgctl_backend b;
    char err[128];

    CU_ASSERT_EQUAL(vmsgctl_backend_parse(canned, &b, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(b.backend_id, 1);
    CU_ASSERT_EQUAL(b.n, 2);
    CU_ASSERT_PTR_NOT_NULL(vmsgctl_backend_find(&b, 9, 2));
    CU_ASSERT_FALSE(vmsgctl_backend_find(&b, 9, 2)->connected);
    CU_ASSERT_PTR_NULL(vmsgctl_backend_find(&b, 3, 1));
    vmsgctl_backend_free(&b);
    CU_ASSERT_EQUAL(vmsgctl_backend_parse("not json", &b, err, sizeof(err)), -EPROTO);
    CU_ASSERT_EQUAL(vmsgctl_backend_parse("{}", &b, err, sizeof(err)), -EPROTO);
    CU_ASSERT(has(err, "backend_id"));
    CU_ASSERT_EQUAL(vmsgctl_backend_parse("{\"backend_id\":0,\"instances\":[{\"bus\":1}]}", &b,
                                          err, sizeof(err)), -EPROTO);
    CU_ASSERT_EQUAL(b.n, 0);
    CU_ASSERT_EQUAL(vmsgctl_backend_parse("{\"backend_id\":-4,\"instances\":[]}", &b, err,
                                          sizeof(err)), -EPROTO);
}

static void register_suites(void)
{
#define ONE(fn) \
    { \
        VMSG_SUITE(#fn, t_setup, t_teardown); \
        VMSG_TEST(fn); \
    }
    ONE(status_table_shows_the_backend_counters)
    ONE(status_json_nests_the_backend_counters)
    ONE(status_without_backend_still_shows_xenstore)
    ONE(status_matches_only_the_backends_own_instances)
    ONE(backend_answer_parsing_refuses_what_is_not_status)
#undef ONE
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
