/*
 * tools/vmsgctl_detach.c: `vmsgctl detach`: take a virtio-msg device away
 * from a domain (docs/protocol.md section 6, Detach).
 *
 * The toolstack writes devices/<D>/state = 5 (Closing), waits on a
 * xenstore watch, bounded, for the backend to write 6 (Closed) once it has
 * told the driver, reset and destroyed the device, and then removes
 * devices/<D>. A backend that does not answer in time leaves the device in
 * place unless --force is given, so a live device is never pulled from
 * under a running backend by accident.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/vmsgctl.h"
#include "tools/vmsgctl_xs.h"

#define DETACH_DEFAULT_TIMEOUT 10.0     /* the backend may wait 5 s for the driver */
#define DETACH_WATCH_TOKEN "vmsgctl-detach"

static void detach_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl detach DOMAIN DEVNUM [--bus N] [--timeout S] [--force]\n"
        "\n"
        "Remove virtio-msg device DEVNUM from DOMAIN (a name or a domain id): ask\n"
        "the backend to close it (devices/DEVNUM/state = 5), wait until it reports\n"
        "Closed (6), then remove devices/DEVNUM.\n"
        "\n"
        "  -b, --bus N       the bus instance (needed only when DEVNUM exists on\n"
        "                    more than one of DOMAIN's buses)\n"
        "  -t, --timeout S   how long to wait for the backend, in seconds\n"
        "                    (default 10; fractions allowed)\n"
        "  -f, --force       remove the device even when the backend did not answer\n"
        "  -h, --help        this text\n"
        "\n"
        "Exit status: 0 removed, 1 failed or timed out (device left in place\n"
        "without --force), 2 usage.\n");
}

struct detach {
    const char *fe_spec;
    uint32_t fe, dev;
    bool bus_given, force;
    uint32_t bus;
    double timeout;
    char ddir[VMSG_XS_PATH_MAX + 32];
    unsigned before;                /* the device's state when we asked */
};

/* Find the device's directory; 0 or -errno with a message in err. */
static int detach_find(struct vmsg_platform *p, struct detach *d, char *err, size_t len)
{
    struct vmsgctl_bus *buses = NULL;
    unsigned n = 0, found = 0, first = 0;
    int rc = vmsgctl_bus_list(p, d->fe, &buses, &n);

    if (rc) {
        snprintf(err, len, "listing bus instances: %s", vmsg_plat_last_error(p));
        return rc;
    }
    for (unsigned i = 0; i < n; i++) {
        char *v;

        if (!buses[i].has_b || (d->bus_given && buses[i].n != d->bus))
            continue;
        v = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/devices/%u", buses[i].bdir, d->dev);
        if (v && !found++) {
            first = i;
            snprintf(d->ddir, sizeof(d->ddir), "%s/devices/%u", buses[i].bdir, d->dev);
        } else if (v && found == 2) {
            snprintf(err, len, "device %u exists on buses %u and %u of domain %s: say "
                     "which with --bus", d->dev, buses[first].n, buses[i].n, d->fe_spec);
        }
        free(v);
    }
    free(buses);
    if (found == 0) {
        if (d->bus_given)
            snprintf(err, len, "domain %s has no virtio-msg device %u on bus %u", d->fe_spec,
                     d->dev, d->bus);
        else
            snprintf(err, len, "domain %s has no virtio-msg device %u", d->fe_spec, d->dev);
        return -ENOENT;
    }
    return found == 1 ? 0 : -EEXIST;
}

/* The device's state, 0 when it or its state node is gone. */
static unsigned dev_state(struct vmsg_platform *p, uint32_t tx, const char *ddir)
{
    char *v = vmsgctl_xs_get(p, tx, "%s/state", ddir);
    uint32_t s = 0;

    if (v && vmsg_xs_parse_u32(v, 0, VMSG_XB_STATE_MAX, &s))
        s = VMSG_XB_UNKNOWN;    /* garbage: keep waiting for a real Closed */
    free(v);
    return v ? s : 0;
}

/* Read the state and ask for Closing unless the device is already Closed. */
static int detach_close_tx(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    struct detach *d = arg;
    char path[sizeof(d->ddir) + 8];

    d->before = dev_state(p, tx, d->ddir);
    if (d->before == 0)
        return -ENOENT;
    if (d->before == VMSG_XB_CLOSED)
        return 0;
    snprintf(path, sizeof(path), "%s/state", d->ddir);
    return vmsg_plat_xs_write(p, tx, path, "5", 1);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Wait for Closed (or the device gone). Returns 1 closed, 0 timed out,
 * -errno on a watch failure.
 */
static int detach_wait(struct vmsg_platform *p, struct detach *d, unsigned *last)
{
    char path[sizeof(d->ddir) + 8];
    double deadline = now() + d->timeout;
    int fd, rc;

    snprintf(path, sizeof(path), "%s/state", d->ddir);
    if ((rc = vmsg_plat_xs_watch(p, path, DETACH_WATCH_TOKEN)))
        return rc;
    if ((fd = vmsg_plat_xs_watch_fd(p)) < 0) {
        rc = fd;
        goto out;
    }
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        double left;
        char *wpath, *token;

        *last = dev_state(p, VMSG_XS_TX_NONE, d->ddir);
        if (*last == 0 || *last == VMSG_XB_CLOSED) {
            rc = 1;
            break;
        }
        if ((left = deadline - now()) <= 0) {
            rc = 0;
            break;
        }
        if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        /* Any event means "look again"; the state is re-read above. */
        while (vmsg_plat_xs_read_watch(p, &wpath, &token) == 0) {
            free(wpath);
            free(token);
        }
    }
out:
    vmsg_plat_xs_unwatch(p, path, DETACH_WATCH_TOKEN);
    return rc;
}

static int detach_run(struct vmsg_platform *p, const struct vmsgctl_env *env, struct detach *d)
{
    char err[512];
    unsigned last = 0;
    int rc;

    if (vmsgctl_domain_resolve(p, d->fe_spec, &d->fe, err, sizeof(err)) ||
        detach_find(p, d, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl detach: %s\n", err);
        return 1;
    }
    rc = vmsg_plat_xs_transaction(p, 0, detach_close_tx, d);
    if (rc == -ENOENT)
        return 0;   /* removed by someone else meanwhile: what we wanted */
    if (rc) {
        fprintf(env->err, "vmsgctl detach: domain %s: writing %s/state = 5: %s\n", d->fe_spec,
                d->ddir, vmsg_plat_last_error(p));
        return 1;
    }
    rc = detach_wait(p, d, &last);
    if (rc < 0) {
        fprintf(env->err, "vmsgctl detach: domain %s: watching %s/state: %s\n", d->fe_spec,
                d->ddir, vmsg_plat_last_error(p));
        if (!d->force)
            return 1;
    } else if (rc == 0) {
        fprintf(env->err, "vmsgctl detach: domain %s: timed out after %g s waiting for the "
                "backend to close device %u (%s/state is %u, %s)%s\n", d->fe_spec, d->timeout,
                d->dev, d->ddir, last, vmsg_xb_state_name(last),
                d->force ? "; removing it anyway (--force)"
                         : "; device left in place, use --force to remove it anyway");
        if (!d->force)
            return 1;
    }
    if ((rc = vmsg_plat_xs_rm(p, VMSG_XS_TX_NONE, d->ddir))) {
        fprintf(env->err, "vmsgctl detach: domain %s: removing %s: %s\n", d->fe_spec, d->ddir,
                vmsg_plat_last_error(p));
        return 1;
    }
    return 0;
}

int vmsgctl_detach(const struct vmsgctl_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "bus", required_argument, NULL, 'b' },
        { "timeout", required_argument, NULL, 't' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct detach d = { .timeout = DETACH_DEFAULT_TIMEOUT };
    struct vmsg_platform *p = NULL;
    char err[512];
    int c, status;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "b:t:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!vmsgctl_parse_num("--bus", optarg, 0, VMSG_XEN_BUS_INDEX_MAX, &d.bus, err,
                                   sizeof(err)))
                goto usage_msg;
            d.bus_given = true;
            break;
        case 't':
            if (!vmsgctl_parse_seconds("--timeout", optarg, &d.timeout, err, sizeof(err)))
                goto usage_msg;
            break;
        case 'f':
            d.force = true;
            break;
        case 'h':
            detach_usage(env->out);
            return 0;
        default:
            snprintf(err, sizeof(err), "unknown option or missing argument '%s'",
                     argv[optind - 1]);
            goto usage_msg;
        }
    }
    if (argc - optind != 2) {
        snprintf(err, sizeof(err), "expected DOMAIN DEVNUM");
        goto usage_msg;
    }
    d.fe_spec = argv[optind];
    if (!vmsgctl_parse_num("DEVNUM", argv[optind + 1], 0, VMSG_XEN_DEV_NUM_MAX, &d.dev, err,
                           sizeof(err)))
        goto usage_msg;
    if (env->open(&p, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl detach: %s\n", err);
        return 1;
    }
    status = detach_run(p, env, &d);
    vmsg_plat_close(p);
    return status;
usage_msg:
    fprintf(env->err, "vmsgctl detach: %s\n", err);
    detach_usage(env->err);
    return 2;
}
