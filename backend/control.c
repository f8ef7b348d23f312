/*
 * backend/control.c: the control socket (see control.h).
 */
#include "config.h"

#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "util/vmsg_log.h"

/* More bus instances than one backend serves in practice; a status answer
 * lists at most this many (and says how many there were). */
#define STATUS_MAX_INSTANCES 4096

struct vmsg_control {
    int fd;
    uint32_t backend_id;
    vmsg_control_collect_fn *collect;
    void *opaque;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void put_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void put_num(yajl_gen g, const char *k, uint64_t v)
{
    put_str(g, k);
    yajl_gen_integer(g, (long long)v);
}

static void put_ring(yajl_gen g, const char *k, uint32_t used, uint32_t size)
{
    put_str(g, k);
    yajl_gen_map_open(g);
    put_num(g, "used", used);
    put_num(g, "size", size);
    yajl_gen_map_close(g);
}

static void put_instance(yajl_gen g, const struct vmsg_back_stats *s)
{
    yajl_gen_map_open(g);
    put_num(g, "frontend_id", s->fe_domid);
    put_num(g, "bus", s->index);
    put_num(g, "state", s->state);
    put_str(g, "connected");
    yajl_gen_bool(g, s->connected);
    put_str(g, "ring");
    if (s->connected) {
        yajl_gen_map_open(g);
        put_ring(g, "to_backend", s->to_backend_used, s->to_backend_size);
        put_ring(g, "to_frontend", s->to_frontend_used, s->to_frontend_size);
        yajl_gen_map_close(g);
    } else {
        yajl_gen_null(g);
    }
    put_str(g, "messages");
    yajl_gen_map_open(g);
    put_num(g, "received", s->received);
    put_num(g, "sent", s->sent);
    put_num(g, "dropped_malformed", s->dropped_malformed);
    put_num(g, "dropped_unexpected", s->dropped_unexpected);
    put_num(g, "held", s->held);
    put_num(g, "lost", s->lost);
    yajl_gen_map_close(g);
    put_str(g, "kicks");
    yajl_gen_map_open(g);
    put_num(g, "sent", s->kicks_sent);
    put_num(g, "received", s->kicks_received);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

static int gen_take(yajl_gen g, char **json)
{
    const unsigned char *buf;
    size_t len;

    yajl_gen_get_buf(g, &buf, &len);
    *json = strndup((const char *)buf, len);
    yajl_gen_free(g);
    return *json ? 0 : -ENOMEM;
}

int vmsg_control_status_json(uint32_t backend_id, long pid, const struct vmsg_back_stats *s,
                             unsigned n, char **json)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (!g)
        return -ENOMEM;
    yajl_gen_map_open(g);
    put_num(g, "backend_id", backend_id);
    put_num(g, "pid", (uint64_t)pid);
    put_str(g, "instances");
    yajl_gen_array_open(g);
    for (unsigned i = 0; i < n; i++)
        put_instance(g, &s[i]);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return gen_take(g, json);
}

static int unknown_request_json(const char *req, char **json)
{
    char msg[VMSG_CONTROL_REQUEST_MAX + 64];
    yajl_gen g = yajl_gen_alloc(NULL);

    if (!g)
        return -ENOMEM;
    snprintf(msg, sizeof(msg), "unknown request '%s'", req);
    yajl_gen_map_open(g);
    put_str(g, "error");
    put_str(g, msg);
    yajl_gen_map_close(g);
    return gen_take(g, json);
}

/* Another process answers on `path`: connect() succeeds. */
static bool answered(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool yes;

    if (fd < 0)
        return false;
    yes = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(fd);
    return yes;
}

/* Create the socket's directory (one level, like systemd's
 * RuntimeDirectory=) when it is missing. */
static int make_parent(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int vmsg_control_open(struct vmsg_control **out, const char *path, uint32_t backend_id,
                      vmsg_control_collect_fn *collect, void *opaque)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct vmsg_control *ctl;
    mode_t old_mask;
    int rc;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        return -ENOMEM;
    snprintf(ctl->path, sizeof(ctl->path), "%s", path);
    ctl->backend_id = backend_id;
    ctl->collect = collect;
    ctl->opaque = opaque;
    if ((rc = make_parent(path)))
        goto err_free;
    ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ctl->fd < 0) {
        rc = -errno;
        goto err_free;
    }
    /* A socket nobody answers on is what a killed daemon left: replace it. */
    if (answered(&sa)) {
        rc = -EADDRINUSE;
        goto err_close;
    }
    unlink(path);
    /* Created 0600 from the start, not chmod-ed after: no window in which
     * another user could connect. */
    old_mask = umask(0177);
    rc = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
    umask(old_mask);
    if (rc)
        goto err_close;
    if (listen(ctl->fd, 8) < 0) {
        rc = -errno;
        unlink(path);
        goto err_close;
    }
    *out = ctl;
    return 0;

err_close:
    close(ctl->fd);
err_free:
    free(ctl);
    return rc;
}

void vmsg_control_close(struct vmsg_control *ctl)
{
    if (!ctl)
        return;
    close(ctl->fd);
    unlink(ctl->path);
    free(ctl);
}

int vmsg_control_fd(const struct vmsg_control *ctl)
{
    return ctl->fd;
}

/* Read one request line within the time limit. Returns its length
 * (newline stripped) or -errno. */
static int read_request(int fd, char *buf, size_t cap)
{
    uint64_t deadline = vmsg_now_ms() + VMSG_CONTROL_IO_TIMEOUT_MS;
    size_t len = 0;

    for (;;) {
        uint64_t now = vmsg_now_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;
        char *nl;

        if (now >= deadline)
            return -ETIMEDOUT;
        if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
            continue;
        n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno;
        len += (size_t)n;
        buf[len] = '\0';
        if ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            return (int)(nl - buf);
        }
        if (n == 0)             /* no newline before EOF: take what came */
            return (int)len;
        if (len == cap - 1)
            return -EMSGSIZE;
    }
}

static int write_all(int fd, const char *buf, size_t len)
{
    uint64_t deadline = vmsg_now_ms() + VMSG_CONTROL_IO_TIMEOUT_MS;

    while (len) {
        uint64_t now = vmsg_now_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        ssize_t n;

        if (now >= deadline)
            return -ETIMEDOUT;
        if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
            continue;
        n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int answer_status(struct vmsg_control *ctl, char **json)
{
    unsigned cap = 16, n;
    struct vmsg_back_stats *s = NULL;
    int rc;

    for (;;) {
        struct vmsg_back_stats *grown = realloc(s, cap * sizeof(*s));
        if (!grown) {
            free(s);
            return -ENOMEM;
        }
        s = grown;
        n = ctl->collect(ctl->opaque, s, cap);
        if (n <= cap || cap >= STATUS_MAX_INSTANCES)
            break;
        cap = n < STATUS_MAX_INSTANCES ? n : STATUS_MAX_INSTANCES;
    }
    rc = vmsg_control_status_json(ctl->backend_id, (long)getpid(), s, n < cap ? n : cap, json);
    free(s);
    return rc;
}

static void serve_client(struct vmsg_control *ctl, int fd)
{
    char req[VMSG_CONTROL_REQUEST_MAX + 1], *json = NULL;
    int len = read_request(fd, req, sizeof(req));
    int rc;

    if (len < 0) {
        vmsg_debug("control %s: request: %s", ctl->path, strerror(-len));
        return;
    }
    if (strcmp(req, "status") == 0)
        rc = answer_status(ctl, &json);
    else
        rc = unknown_request_json(req, &json);
    if (rc == 0)
        rc = write_all(fd, json, strlen(json));
    if (rc == 0)
        rc = write_all(fd, "\n", 1);
    if (rc)
        vmsg_debug("control %s: answer: %s", ctl->path, strerror(-rc));
    free(json);
}

void vmsg_control_serve(struct vmsg_control *ctl)
{
    for (;;) {
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                vmsg_warn("control %s: accept: %s", ctl->path, strerror(errno));
            return;
        }
        serve_client(ctl, fd);
        close(fd);
    }
}
