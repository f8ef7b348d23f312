/*
 * backend/vmsg-backend.c: the virtio-msg Xen bus backend daemon.
 *
 * Owns: the command line, logging set-up, daemonizing, signals, and the
 * set of bus instances: it watches /local/domain/<self>/backend/virtio-msg
 * and starts one instance (bus_instance.h: its own thread and platform
 * handle) for every <FE>/<N> the toolstack creates there, reaps instances
 * that end, and on SIGTERM/SIGINT closes them all (each tells its guest
 * Closing, resets its devices, unmaps and writes Closed) before exiting.
 *
 * It needs only grant mapping, event channels and its own xenstore
 * directory, so it runs in dom0 or in a driver domain. Its control socket
 * (control.h) answers `vmsgctl status` from the statistics each instance
 * publishes.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bus_instance.h"
#include "control.h"
#include "daemon.h"
#include "util/vmsg_log.h"
#include "xen/platform.h"
#include "xen/xen_schema.h"

#define WATCH_TOKEN "vmsg-backend"

struct entry {
    struct entry *next;
    uint32_t fe_domid;
    unsigned index;
    struct vmsg_back_instance *inst;    /* NULL once reaped: a tombstone */
    bool seen;                          /* listed by the current scan */
};

struct daemon {
    struct vmsg_platform *plat;
    char root[64];                      /* /local/domain/<self>/backend/virtio-msg */
    int done_fd;
    struct entry *entries;
    struct vmsg_control *control;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: vmsg-backend [OPTIONS]\n"
            "Serve the virtio-msg Xen bus instances the toolstack creates under\n"
            "/local/domain/<self>/backend/virtio-msg (rng, console and blk devices).\n"
            "\n"
            "  -f, --foreground     stay in the foreground (log to stderr unless --syslog)\n"
            "  -p, --pidfile FILE   write the daemon's pid to FILE (removed on exit)\n"
            "  -v, --verbose        more log output (twice: trace)\n"
            "  -s, --syslog         log to syslog (the default when daemonized)\n"
            "  -c, --control PATH   control socket for vmsgctl status\n"
            "                       (default " VMSG_CONTROL_DEFAULT_PATH ")\n"
            "  -t, --trace          log every message each bus instance sends and\n"
            "                       receives, as vmsgctl decode's JSON\n"
            "  -h, --help           this text\n"
            "\n"
            "SIGTERM or SIGINT closes every bus instance (Closing, devices reset,\n"
            "grants unmapped, Closed) and exits 0.\n");
}

/* The control socket's view: what every live instance last published. */
static unsigned collect_stats(void *opaque, struct vmsg_back_stats *out, unsigned max)
{
    struct daemon *d = opaque;
    unsigned n = 0;

    for (struct entry *e = d->entries; e; e = e->next) {
        if (!e->inst)
            continue;
        if (n < max)
            vmsg_back_instance_stats(e->inst, &out[n]);
        n++;
    }
    return n;
}

static struct entry *find(struct daemon *d, uint32_t fe, unsigned index)
{
    for (struct entry *e = d->entries; e; e = e->next)
        if (e->fe_domid == fe && e->index == index)
            return e;
    return NULL;
}

/* A bus instance the toolstack has turned off stays off: starting it would
 * only publish InitWait over its online = 0 and close again. */
static bool offline(struct daemon *d, const char *bdir)
{
    char path[VMSG_XS_PATH_MAX + 16], *val = NULL;
    bool off;

    snprintf(path, sizeof(path), "%s/online", bdir);
    if (vmsg_plat_xs_read(d->plat, VMSG_XS_TX_NONE, path, &val, NULL))
        return false;
    off = strcmp(val, "0") == 0;
    free(val);
    return off;
}

/*
 * Serve <fe>/<index> unless it is served already. An instance that ended
 * (online 0, or it could not take the bus on) stays as a tombstone and is
 * only tried again after a xenstore change (`retry`), never straight from
 * reaping it: a bus instance that fails at once would otherwise spin.
 */
static void consider(struct daemon *d, uint32_t fe, unsigned index, bool retry)
{
    struct entry *e = find(d, fe, index);
    char bdir[VMSG_XS_PATH_MAX];
    int rc;

    if (e)
        e->seen = true;
    if (e && (e->inst || !retry))
        return;
    snprintf(bdir, sizeof(bdir), "%s/%u/%u", d->root, fe, index);
    if (offline(d, bdir))
        return;
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e) {
            vmsg_err("dom%u/bus%u: out of memory", fe, index);
            return;
        }
        e->fe_domid = fe;
        e->index = index;
        e->seen = true;
        e->next = d->entries;
        d->entries = e;
    }
    rc = vmsg_back_instance_start(&e->inst, fe, index, d->done_fd);
    if (rc) {
        vmsg_err("dom%u/bus%u: cannot start an instance: %s", fe, index, strerror(-rc));
        e->inst = NULL;
    }
}

/* The names under `path` that are decimals in [0, max] (others are logged). */
static int list_numbers(struct daemon *d, const char *path, uint32_t max, uint32_t **out,
                        unsigned *count)
{
    char **names = NULL;
    unsigned n = 0, k = 0;
    int rc;

    *out = NULL;
    *count = 0;
    rc = vmsg_plat_xs_directory(d->plat, VMSG_XS_TX_NONE, path, &names, &n);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    *out = calloc(n ? n : 1, sizeof(**out));
    if (!*out) {
        free(names);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < n; i++) {
        char en[VMSG_LOG_ESCAPED_SIZE(32)];
        uint32_t v;
        if (vmsg_xs_parse_u32(names[i], 0, max, &v) == 0)
            (*out)[k++] = v;
        else
            vmsg_warn("%s/%s: not a number in 0..%u: ignored", path,
                      vmsg_log_escape(en, sizeof(en), names[i]), max);
    }
    free(names);
    *count = k;
    return 0;
}

/* Start an instance for every <FE>/<N> not served yet (tombstones too
 * when `retry`); forget tombstones whose directory is gone. */
static void scan(struct daemon *d, bool retry)
{
    uint32_t *fes, *idx;
    unsigned nfe, nidx;
    char path[VMSG_XS_PATH_MAX];
    int rc;

    for (struct entry *e = d->entries; e; e = e->next)
        e->seen = false;
    rc = list_numbers(d, d->root, VMSG_XEN_DOMID_MAX, &fes, &nfe);
    if (rc) {
        vmsg_warn("%s: cannot list: %s", d->root, strerror(-rc));
        return;
    }
    for (unsigned i = 0; i < nfe; i++) {
        snprintf(path, sizeof(path), "%s/%u", d->root, fes[i]);
        if (list_numbers(d, path, VMSG_XEN_BUS_INDEX_MAX, &idx, &nidx))
            continue;
        for (unsigned j = 0; j < nidx; j++)
            consider(d, fes[i], idx[j], retry);
        free(idx);
    }
    free(fes);
    for (struct entry **pe = &d->entries; *pe;) {
        struct entry *e = *pe;
        if (!e->inst && !e->seen) {
            *pe = e->next;
            free(e);
        } else {
            pe = &e->next;
        }
    }
}

static void reap(struct daemon *d)
{
    uint64_t n;

    if (read(d->done_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        vmsg_warn("done eventfd: %s", strerror(errno));
    for (struct entry *e = d->entries; e; e = e->next) {
        if (e->inst && vmsg_back_instance_ended(e->inst)) {
            vmsg_back_instance_join(e->inst);
            e->inst = NULL;
        }
    }
}

static void stop_all(struct daemon *d)
{
    /* Ask every instance first so they close in parallel, then wait. */
    for (struct entry *e = d->entries; e; e = e->next)
        if (e->inst)
            vmsg_back_instance_stop(e->inst);
    while (d->entries) {
        struct entry *e = d->entries;
        d->entries = e->next;
        if (e->inst)
            vmsg_back_instance_join(e->inst);
        free(e);
    }
}

static int serve(struct daemon *d, int sig_fd)
{
    struct pollfd pfd[4];
    char *path, *token;

    for (;;) {
        bool changed = false;

        pfd[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = vmsg_plat_xs_watch_fd(d->plat), .events = POLLIN };
        pfd[2] = (struct pollfd){ .fd = d->done_fd, .events = POLLIN };
        pfd[3] = (struct pollfd){ .fd = vmsg_control_fd(d->control), .events = POLLIN };
        if (poll(pfd, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            vmsg_err("poll: %s", strerror(errno));
            return -errno;
        }
        if (pfd[0].revents) {
            struct signalfd_siginfo si;
            if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
                vmsg_info("signal %u: closing every bus instance", si.ssi_signo);
            return 0;
        }
        if (pfd[2].revents)
            reap(d);
        if (pfd[3].revents)
            vmsg_control_serve(d->control);
        while (vmsg_plat_xs_read_watch(d->plat, &path, &token) == 0) {
            changed = true;
            free(path);
            free(token);
        }
        scan(d, changed);
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "foreground", no_argument, NULL, 'f' },
        { "pidfile", required_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "syslog", no_argument, NULL, 's' },
        { "control", required_argument, NULL, 'c' },
        { "trace", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct daemon d = { .done_fd = -1 };
    enum vmsg_log_level level = VMSG_LOG_INFO;
    bool foreground = false, use_syslog = false;
    const char *pidfile = NULL, *control = VMSG_CONTROL_DEFAULT_PATH;
    uint32_t self;
    char err[256];
    sigset_t sigs;
    int c, rc, sig_fd, status = 1;

    while ((c = getopt_long(argc, argv, "fp:vsc:th", opts, NULL)) != -1) {
        switch (c) {
        case 'f': foreground = true; break;
        case 'p': pidfile = optarg; break;
        case 'v': if (level < VMSG_LOG_TRACE) level++; break;
        case 's': use_syslog = true; break;
        case 'c': control = optarg; break;
        case 't': vmsg_back_instance_trace_all(true); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vmsg-backend: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    vmsg_log_init("vmsg-backend", use_syslog || !foreground, level);
    if (!foreground && (rc = vmsg_daemonize())) {
        vmsg_err("cannot daemonize: %s", strerror(-rc));
        return 1;
    }

    /* Signals arrive through a signalfd in this thread only: block them
     * before any instance thread inherits the mask. SIGPIPE: a console
     * client that went away must not kill the daemon. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (sig_fd < 0) {
        vmsg_err("signalfd: %s", strerror(errno));
        return 1;
    }
    if (pidfile && (rc = vmsg_pidfile_write(pidfile))) {
        vmsg_err("pid file %s: %s", pidfile, strerror(-rc));
        goto out_sig;
    }
    rc = vmsg_plat_xen_open(&d.plat, err, sizeof(err));
    if (rc) {
        vmsg_err("cannot open Xen: %s", err);
        goto out_pid;
    }
    if ((rc = vmsg_plat_own_domid(d.plat, &self))) {
        vmsg_err("own domain id: %s", vmsg_plat_last_error(d.plat));
        goto out_plat;
    }
    snprintf(d.root, sizeof(d.root), "/local/domain/%u/backend/virtio-msg", self);
    if ((rc = vmsg_control_open(&d.control, control, self, collect_stats, &d))) {
        vmsg_err("control socket %s: %s", control,
                 rc == -EADDRINUSE ? "another vmsg-backend answers there" : strerror(-rc));
        goto out_plat;
    }
    d.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d.done_fd < 0) {
        vmsg_err("eventfd: %s", strerror(errno));
        goto out_control;
    }
    /* The watch fires once at once, so instances that exist already are
     * served from the first scan. */
    if ((rc = vmsg_plat_xs_watch(d.plat, d.root, WATCH_TOKEN))) {
        vmsg_err("watch %s: %s", d.root, vmsg_plat_last_error(d.plat));
        goto out_done;
    }
    vmsg_info("dom%u: serving %s", self, d.root);
    vmsg_daemon_ready();
    status = serve(&d, sig_fd) ? 1 : 0;
    stop_all(&d);
    vmsg_plat_xs_unwatch(d.plat, d.root, WATCH_TOKEN);
    vmsg_info("exiting: every bus instance closed");
out_done:
    close(d.done_fd);
out_control:
    vmsg_control_close(d.control);
out_plat:
    vmsg_plat_close(d.plat);
out_pid:
    if (pidfile)
        unlink(pidfile);
out_sig:
    close(sig_fd);
    return status;
}
