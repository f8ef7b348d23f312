/*
 * tools/vmsgctl_watch.c: `vmsgctl watch`, the dom0 service that gives
 * guests made by a plain `xl create` their virtio_msg devices
 * (xl-virtio-msg(5)).
 *
 * On @introduceDomain it lists /local/domain; each domain not seen before
 * (other than this one) is handled once: left alone while `vmsgctl
 * create` claims it or when it has a virtio-msg bus instance already;
 * otherwise its xl config (vmsgctl_xl_domain_config) is read and every
 * entry attached, all checked first. The config may appear after the
 * domain does (`xl config-update`): a domain without one is asked again
 * every half second, VMSGCTL_WATCH_TRIES times. A paused domain (`xl
 * create -p`) is handled like any other: its devices wait for the boot.
 * On @releaseDomain the bus instances it made for domains now gone are
 * removed. SIGTERM and SIGINT end it after the current step.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "tools/vmsgctl.h"
#include "tools/vmsgctl_xl.h"
#include "tools/vmsgctl_xs.h"

#define VMSGCTL_WATCH_TRIES 20
#define VMSGCTL_WATCH_RETRY_MS 500

struct watched {
    uint32_t domid;
    int tries_left;         /* > 0: waiting for its config */
    bool done;
};

struct watch {
    struct vmsg_platform *p;
    struct xs_schema *schema;
    const char *dir;
    uint32_t self;
    bool use_syslog;
    struct watched *doms;
    unsigned ndoms;
    struct vmsgctl_xl_bus *made;
    unsigned nmade;
};

static bool g_syslog;

static void say(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int prio, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (g_syslog) {
        vsyslog(prio, fmt, ap);
    } else {
        fprintf(stderr, "vmsgctl watch: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

static void note_log(void *arg, const char *line)
{
    say(LOG_INFO, "attached: %s", line);
}

static void watch_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl watch [--syslog] [--config-dir DIR]\n"
        "\n"
        "The dom0 service for guests made by a plain `xl create`: for each new\n"
        "domain, read its xl config (userdata \"xl\", else DIR/NAME.cfg, else\n"
        "DIR/NAME; DIR: " VMSGCTL_XL_CONFIG_DIR ") and attach its virtio_msg entries\n"
        "(xl-virtio-msg(5)); a domain being made by `vmsgctl create`, or that has\n"
        "virtio-msg devices already, is left alone. When a domain is gone, remove\n"
        "the bus instances made for it. Logs every action to stderr, or with\n"
        "--syslog to syslog. Runs until SIGTERM or SIGINT.\n"
        "\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 stopped by a signal, 1 failed, 2 usage.\n");
}

static struct watched *find(struct watch *w, uint32_t domid)
{
    for (unsigned i = 0; i < w->ndoms; i++)
        if (w->doms[i].domid == domid)
            return &w->doms[i];
    return NULL;
}

/* One attempt at a new domain; sets d->done or counts a try. */
static void handle(struct watch *w, struct watched *d)
{
    char name[256], label[300], source[600], err[1024];
    struct xlcfg cfg = { 0 };
    unsigned before = w->nmade;
    long pid;
    int rc;

    vmsgctl_domain_name(w->p, d->domid, name, sizeof(name));
    snprintf(label, sizeof(label), "%s(%u)", name, d->domid);
    d->done = true;
    if (!name[0]) {
        if (--d->tries_left > 0)
            d->done = false;    /* libxl writes the name soon after */
        else
            say(LOG_WARNING, "domain %u has no name node: left alone", d->domid);
        return;
    }
    if ((pid = vmsgctl_xl_claimed(name))) {
        say(LOG_INFO, "domain %s: being made by vmsgctl create (pid %ld): left alone", label,
            pid);
        return;
    }
    if ((rc = vmsgctl_xl_has_buses(w->p, d->domid)) != 0) {
        if (rc > 0)
            say(LOG_INFO, "domain %s has virtio-msg devices already: left alone", label);
        else
            say(LOG_ERR, "domain %s: listing its bus instances: %s", label,
                vmsg_plat_last_error(w->p));
        return;
    }
    rc = vmsgctl_xl_domain_config(w->schema, d->domid, name, w->dir, &cfg, source,
                                  sizeof(source), err, sizeof(err));
    if (rc == -ENOENT && --d->tries_left > 0) {
        d->done = false;
        return;
    }
    if (rc) {
        say(rc == -ENOENT ? LOG_INFO : LOG_ERR, "domain %s: %s; nothing attached", label, err);
        return;
    }
    if (!cfg.count) {
        say(LOG_INFO, "domain %s: %s has no virtio_msg entries", label, source);
        xlcfg_free(&cfg);
        return;
    }
    say(LOG_INFO, "domain %s: attaching %u virtio_msg entries from %s", label, cfg.count,
        source);
    rc = vmsgctl_xl_attach_all(w->p, d->domid, label, &cfg, &w->made, &w->nmade, note_log,
                               NULL, err, sizeof(err));
    if (rc) {
        say(LOG_ERR, "domain %s: %s: %s; removing what was attached", label, source, err);
        if (vmsgctl_xl_remove_buses(w->p, w->made + before, w->nmade - before, err,
                                    sizeof(err)))
            say(LOG_ERR, "domain %s: %s", label, err);
        w->nmade = before;
    }
    xlcfg_free(&cfg);
}

/* @introduceDomain: note the domains not seen before and try each. */
static void introduced(struct watch *w)
{
    char **names = NULL;
    unsigned n = 0;

    if (vmsg_plat_xs_directory(w->p, VMSG_XS_TX_NONE, "/local/domain", &names, &n)) {
        say(LOG_ERR, "listing /local/domain: %s", vmsg_plat_last_error(w->p));
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t id;
        struct watched *d;

        if (vmsg_xs_parse_u32(names[i], 0, VMSG_XEN_DOMID_MAX, &id) || id == w->self ||
            find(w, id))
            continue;
        d = realloc(w->doms, (w->ndoms + 1) * sizeof(*w->doms));
        if (!d) {
            say(LOG_ERR, "out of memory");
            break;
        }
        w->doms = d;
        d = &w->doms[w->ndoms++];
        *d = (struct watched){ .domid = id, .tries_left = VMSGCTL_WATCH_TRIES };
        say(LOG_INFO, "domain %u appeared", id);
        handle(w, d);
    }
    free(names);
}

/* @releaseDomain: forget gone domains; remove the bus instances made for them. */
static void released(struct watch *w)
{
    unsigned keep = 0;

    for (unsigned i = 0; i < w->ndoms; i++) {
        int alive = vmsg_plat_domain_alive(w->p, w->doms[i].domid);

        if (alive != 0)
            w->doms[keep++] = w->doms[i];   /* alive, or unknown: ask again later */
        else
            say(LOG_INFO, "domain %u is gone", w->doms[i].domid);
    }
    w->ndoms = keep;
    keep = 0;
    for (unsigned i = 0; i < w->nmade; i++) {
        const struct vmsgctl_xl_bus *m = &w->made[i];
        char err[600];

        if (vmsg_plat_domain_alive(w->p, m->fe) != 0) {
            w->made[keep++] = *m;
            continue;
        }
        if (vmsgctl_xl_remove_buses(w->p, m, 1, err, sizeof(err)))
            say(LOG_ERR, "domain %u is gone: %s", m->fe, err);
        else
            say(LOG_INFO, "domain %u is gone: removed bus %u of backend domain %u "
                "(/local/domain/%u/backend/virtio-msg/%u/%u)", m->fe, m->bus, m->be, m->be,
                m->fe, m->bus);
    }
    w->nmade = keep;
}

static int watch_loop(struct watch *w, int sigfd)
{
    int xfd = vmsg_plat_xs_watch_fd(w->p);

    if (xfd < 0 || vmsg_plat_xs_watch(w->p, "@introduceDomain", "introduce") ||
        vmsg_plat_xs_watch(w->p, "@releaseDomain", "release")) {
        say(LOG_ERR, "watching @introduceDomain and @releaseDomain: %s",
            vmsg_plat_last_error(w->p));
        return 1;
    }
    say(LOG_INFO, "watching for domains (configs in %s)", w->dir);
    for (;;) {
        struct pollfd fds[2] = { { xfd, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
        bool waiting = false;
        int n;

        for (unsigned i = 0; i < w->ndoms; i++)
            waiting |= !w->doms[i].done;
        n = poll(fds, 2, waiting ? VMSGCTL_WATCH_RETRY_MS : -1);
        if (n < 0 && errno != EINTR) {
            say(LOG_ERR, "poll: %s", strerror(errno));
            return 1;
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo si;

            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                say(LOG_INFO, "signal %u: stopping", si.ssi_signo);
            return 0;
        }
        if (fds[0].revents & POLLIN) {
            char *path = NULL, *token = NULL;

            if (vmsg_plat_xs_read_watch(w->p, &path, &token)) {
                say(LOG_ERR, "reading a watch event: %s", vmsg_plat_last_error(w->p));
                return 1;
            }
            if (token && !strcmp(token, "introduce"))
                introduced(w);
            else if (token && !strcmp(token, "release"))
                released(w);
            free(path);
            free(token);
        }
        for (unsigned i = 0; i < w->ndoms; i++)
            if (!w->doms[i].done && n == 0)
                handle(w, &w->doms[i]);
    }
}

int vmsgctl_watch(const struct vmsgctl_env *env, int argc, char **argv)
{
    struct watch w = { .dir = VMSGCTL_XL_CONFIG_DIR };
    char err[512];
    sigset_t set;
    int sigfd = -1, status = 1;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            watch_usage(env->out);
            return 0;
        } else if (!strcmp(argv[i], "--syslog")) {
            w.use_syslog = true;
        } else if (!strcmp(argv[i], "--config-dir") && i + 1 < argc) {
            w.dir = argv[++i];
        } else {
            fprintf(env->err, "vmsgctl watch: unknown argument '%s'\n", argv[i]);
            watch_usage(env->err);
            return 2;
        }
    }
    g_syslog = w.use_syslog;
    if (g_syslog)
        openlog("vmsgctl-watch", LOG_PID, LOG_DAEMON);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) || (sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
        say(LOG_ERR, "signalfd: %s", strerror(errno));
        goto out;
    }
    if (xs_schema_parse(xs_schema_builtin_json, &w.schema, err, sizeof(err))) {
        say(LOG_ERR, "built-in schema: %s", err);
        goto out;
    }
    if (env->open(&w.p, err, sizeof(err))) {
        say(LOG_ERR, "%s", err);
        goto out;
    }
    if (vmsg_plat_own_domid(w.p, &w.self)) {
        say(LOG_ERR, "own domain id: %s", vmsg_plat_last_error(w.p));
        goto out;
    }
    status = watch_loop(&w, sigfd);
out:
    if (w.p)
        vmsg_plat_close(w.p);
    xs_schema_free(w.schema);
    free(w.doms);
    free(w.made);
    if (sigfd >= 0)
        close(sigfd);
    if (g_syslog)
        closelog();
    return status;
}
