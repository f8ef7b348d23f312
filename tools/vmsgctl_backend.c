/*
 * tools/vmsgctl_backend.c: the client of vmsg-backend's control socket
 * (see vmsgctl_backend.h).
 */
#include "config.h"

#include "tools/vmsgctl_backend.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "util/vmsg_log.h"

/* A non-negative integer at `path` under v, or -1. */
static long long get_num(yajl_val v, const char **path)
{
    yajl_val n = yajl_tree_get(v, path, yajl_t_number);

    return n && YAJL_IS_INTEGER(n) && YAJL_GET_INTEGER(n) >= 0 ? YAJL_GET_INTEGER(n) : -1;
}

#define NUM(v, ...) get_num((v), (const char *[]){ __VA_ARGS__, NULL })
/* A counter the backend left out counts as 0. */
#define COUNT(v, ...) count_of(NUM(v, __VA_ARGS__))

static uint64_t count_of(long long n)
{
    return n < 0 ? 0 : (uint64_t)n;
}

static int parse_bus(yajl_val v, struct vmsgctl_backend_bus *b, char *err, size_t errlen)
{
    long long fe = NUM(v, "frontend_id"), bus = NUM(v, "bus");
    yajl_val connected = yajl_tree_get(v, (const char *[]){ "connected", NULL }, yajl_t_any);

    if (fe < 0 || fe > UINT32_MAX || bus < 0 || bus > UINT32_MAX || !connected ||
        !(YAJL_IS_TRUE(connected) || YAJL_IS_FALSE(connected))) {
        snprintf(err, errlen, "an instance without frontend_id, bus or connected");
        return -EPROTO;
    }
    *b = (struct vmsgctl_backend_bus){ .fe = (uint32_t)fe, .bus = (unsigned)bus };
    b->state = (long)NUM(v, "state");
    b->connected = YAJL_IS_TRUE(connected);
    if (b->connected) {
        b->to_backend_used = (uint32_t)COUNT(v, "ring", "to_backend", "used");
        b->to_backend_size = (uint32_t)COUNT(v, "ring", "to_backend", "size");
        b->to_frontend_used = (uint32_t)COUNT(v, "ring", "to_frontend", "used");
        b->to_frontend_size = (uint32_t)COUNT(v, "ring", "to_frontend", "size");
    }
    b->received = COUNT(v, "messages", "received");
    b->sent = COUNT(v, "messages", "sent");
    b->dropped_malformed = COUNT(v, "messages", "dropped_malformed");
    b->dropped_unexpected = COUNT(v, "messages", "dropped_unexpected");
    b->kicks_sent = COUNT(v, "kicks", "sent");
    b->kicks_received = COUNT(v, "kicks", "received");
    return 0;
}

int vmsgctl_backend_parse(const char *json, struct vmsgctl_backend *out, char *err,
                          size_t errlen)
{
    char why[256];
    yajl_val root = yajl_tree_parse(json, why, sizeof(why)), arr, e;
    long long id;
    int rc = -EPROTO;

    memset(out, 0, sizeof(*out));
    if (!root) {
        snprintf(err, errlen, "answer is not JSON: %s", why);
        return -EPROTO;
    }
    if ((e = yajl_tree_get(root, (const char *[]){ "error", NULL }, yajl_t_string))) {
        snprintf(err, errlen, "backend refused: %s", YAJL_GET_STRING(e));
        goto out;
    }
    id = NUM(root, "backend_id");
    arr = yajl_tree_get(root, (const char *[]){ "instances", NULL }, yajl_t_array);
    if (id < 0 || id > UINT32_MAX || !arr) {
        snprintf(err, errlen, "answer lacks backend_id or instances");
        goto out;
    }
    out->backend_id = (uint32_t)id;
    out->pid = (long)NUM(root, "pid");
    out->buses = calloc(YAJL_GET_ARRAY(arr)->len + 1, sizeof(*out->buses));
    if (!out->buses) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < YAJL_GET_ARRAY(arr)->len; i++) {
        if ((rc = parse_bus(YAJL_GET_ARRAY(arr)->values[i], &out->buses[i], err, errlen))) {
            vmsgctl_backend_free(out);
            goto out;
        }
        out->n++;
    }
    rc = 0;
out:
    yajl_tree_free(root);
    return rc;
}

/* Read until EOF (the backend closes after its answer) or the deadline. */
static int read_answer(int fd, char **out, char *err, size_t errlen)
{
    uint64_t deadline = vmsg_now_ms() + VMSGCTL_CONTROL_TIMEOUT_MS;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);

    if (!buf)
        return -ENOMEM;
    for (;;) {
        uint64_t now = vmsg_now_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) == 0) {
            snprintf(err, errlen, "no answer within %d ms", VMSGCTL_CONTROL_TIMEOUT_MS);
            free(buf);
            return -ETIMEDOUT;
        }
        if (len + 1 == cap) {
            char *grown = cap < VMSGCTL_CONTROL_ANSWER_MAX ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                snprintf(err, errlen, "answer larger than %u bytes", VMSGCTL_CONTROL_ANSWER_MAX);
                free(buf);
                return -EPROTO;
            }
            buf = grown;
            cap *= 2;
        }
        n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = -errno;
            snprintf(err, errlen, "read: %s", strerror(errno));
            free(buf);
            return rc;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int vmsgctl_backend_query(const char *path, struct vmsgctl_backend *out, char *err,
                          size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    static const char req[] = "status\n";
    char *answer = NULL;
    int fd, rc;

    memset(out, 0, sizeof(*out));
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s: path too long for a socket", path);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return rc;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1) {
        rc = -EPIPE;
        snprintf(err, errlen, "%s: cannot send the request", path);
        goto out;
    }
    if ((rc = read_answer(fd, &answer, err, errlen)) == 0)
        rc = vmsgctl_backend_parse(answer, out, err, errlen);
    free(answer);
out:
    close(fd);
    return rc;
}

void vmsgctl_backend_free(struct vmsgctl_backend *b)
{
    free(b->buses);
    b->buses = NULL;
    b->n = 0;
}

const struct vmsgctl_backend_bus *vmsgctl_backend_find(const struct vmsgctl_backend *b,
                                                       uint32_t fe, unsigned bus)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->buses[i].fe == fe && b->buses[i].bus == bus)
            return &b->buses[i];
    return NULL;
}
