/*
 * tests/unit/test_backend_control.c: vmsg-backend's control socket
 * (backend/control.h): the status JSON, and the socket itself: mode,
 * one request -> one answer, refusals, a stale socket replaced and a live
 * one left alone.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "control.h"
#include "tests/unit/vmsg_test.h"
#include "util/vmsg_log.h"

static char dir[64], sock_path[96];

static int suite_up(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vmsg-control-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    /* A directory that does not exist yet: the daemon creates it. */
    snprintf(sock_path, sizeof(sock_path), "%s/run/control", dir);
    return 0;
}

static int suite_down(void)
{
    char sub[80];

    unlink(sock_path);
    snprintf(sub, sizeof(sub), "%s/run", dir);
    rmdir(sub);
    rmdir(dir);
    return 0;
}

static const struct vmsg_back_stats two[2] = {
    { .fe_domid = 3, .index = 0, .state = 4, .connected = true,
      .to_backend_used = 12, .to_backend_size = 2048, .to_frontend_used = 0,
      .to_frontend_size = 1024, .received = 1234, .sent = 1233, .dropped_malformed = 2,
      .dropped_unexpected = 1, .held = 9, .lost = 3, .kicks_sent = 77, .kicks_received = 88 },
    { .fe_domid = 5, .index = 1, .state = 2 },
};

static long long num_at(yajl_val root, const char **path)
{
    yajl_val v = yajl_tree_get(root, path, yajl_t_number);

    return v ? YAJL_GET_INTEGER(v) : -1;
}

static void status_json_carries_every_counter(void)
{
    char *json = NULL, err[128];
    yajl_val root, inst, v;

    CU_ASSERT_EQUAL_FATAL(vmsg_control_status_json(0, 42, two, 2, &json), 0);
    root = yajl_tree_parse(json, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL(num_at(root, (const char *[]){ "backend_id", NULL }), 0);
    CU_ASSERT_EQUAL(num_at(root, (const char *[]){ "pid", NULL }), 42);
    v = yajl_tree_get(root, (const char *[]){ "instances", NULL }, yajl_t_array);
    CU_ASSERT_FATAL(v && YAJL_GET_ARRAY(v)->len == 2);
    inst = YAJL_GET_ARRAY(v)->values[0];
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "frontend_id", NULL }), 3);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "bus", NULL }), 0);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "state", NULL }), 4);
    CU_ASSERT(YAJL_IS_TRUE(yajl_tree_get(inst, (const char *[]){ "connected", NULL }, yajl_t_true)));
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "ring", "to_backend", "used", NULL }), 12);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "ring", "to_backend", "size", NULL }), 2048);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "ring", "to_frontend", "used", NULL }), 0);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "ring", "to_frontend", "size", NULL }), 1024);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "messages", "received", NULL }), 1234);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "messages", "sent", NULL }), 1233);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "messages", "dropped_malformed", NULL }), 2);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "messages", "dropped_unexpected", NULL }), 1);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "messages", "held", NULL }), 9);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "messages", "lost", NULL }), 3);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "kicks", "sent", NULL }), 77);
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "kicks", "received", NULL }), 88);
    /* Not connected: no ring to speak of. */
    inst = YAJL_GET_ARRAY(v)->values[1];
    CU_ASSERT_EQUAL(num_at(inst, (const char *[]){ "frontend_id", NULL }), 5);
    CU_ASSERT(YAJL_IS_FALSE(yajl_tree_get(inst, (const char *[]){ "connected", NULL }, yajl_t_false)));
    CU_ASSERT(YAJL_IS_NULL(yajl_tree_get(inst, (const char *[]){ "ring", NULL }, yajl_t_null)));
    yajl_tree_free(root);
    free(json);
}

static unsigned collect_two(void *opaque, struct vmsg_back_stats *out, unsigned max)
{
    unsigned *calls = opaque;

    (*calls)++;
    for (unsigned i = 0; i < 2 && i < max; i++)
        out[i] = two[i];
    return 2;
}

static int client_connect(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send `req` as a client, let the daemon serve, return its answer. */
static char *ask(struct vmsg_control *ctl, const char *req)
{
    static char buf[4096];
    size_t len = 0;
    ssize_t n;
    int fd = client_connect();

    if (fd < 0)
        return NULL;
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return NULL;
    }
    vmsg_control_serve(ctl);
    while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    return buf;
}

static void socket_answers_status_once_per_request(void)
{
    struct vmsg_control *ctl;
    unsigned calls = 0;
    struct stat st;
    char *a;

    CU_ASSERT_EQUAL_FATAL(vmsg_control_open(&ctl, sock_path, 7, collect_two, &calls), 0);
    CU_ASSERT_EQUAL_FATAL(stat(sock_path, &st), 0);
    CU_ASSERT(S_ISSOCK(st.st_mode));
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    a = ask(ctl, "status\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(calls, 1);
    CU_ASSERT(strstr(a, "\"backend_id\":7") != NULL);
    CU_ASSERT(strstr(a, "\"received\":1234") != NULL);
    CU_ASSERT(strchr(a, '\n') == a + strlen(a) - 1);    /* one line */
    a = ask(ctl, "reboot\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT(strstr(a, "\"error\":\"unknown request 'reboot'\"") != NULL);
    CU_ASSERT_EQUAL(calls, 1);
    /* Nobody waiting: serve returns at once. */
    vmsg_control_serve(ctl);
    vmsg_control_close(ctl);
    CU_ASSERT_NOT_EQUAL(access(sock_path, F_OK), 0);
}

static void live_socket_kept_stale_one_replaced(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct vmsg_control *ctl, *second;
    unsigned calls = 0;
    int stale;

    CU_ASSERT_EQUAL_FATAL(vmsg_control_open(&ctl, sock_path, 0, collect_two, &calls), 0);
    CU_ASSERT_EQUAL(vmsg_control_open(&second, sock_path, 0, collect_two, &calls), -EADDRINUSE);
    CU_ASSERT_PTR_NOT_NULL(ask(ctl, "status\n"));   /* the first still answers */
    vmsg_control_close(ctl);
    /* What a killed daemon leaves: a socket file nobody listens on. */
    stale = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    CU_ASSERT_EQUAL_FATAL(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(stale);
    CU_ASSERT_EQUAL(access(sock_path, F_OK), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_control_open(&ctl, sock_path, 0, collect_two, &calls), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(ask(ctl, "status\n"), "instances"));
    vmsg_control_close(ctl);
    CU_ASSERT_EQUAL(vmsg_control_open(&ctl, "/tmp/" "a-path-far-too-long-for-a-unix-socket-"
                                            "address-because-sun-path-holds-only-108-bytes-"
                                            "xxxxxxxxxxxxxxxxxxxx", 0, collect_two, &calls),
                    -ENAMETOOLONG);
}

static void register_suites(void)
{
    VMSG_SUITE("backend control socket", suite_up, suite_down);
    VMSG_TEST(status_json_carries_every_counter);
    VMSG_TEST(socket_answers_status_once_per_request);
    VMSG_TEST(live_socket_kept_stale_one_replaced);
}

int main(void)
{
    vmsg_log_init("test-backend-control", false, VMSG_LOG_ERR);
    return vmsg_test_main(register_suites);
}
