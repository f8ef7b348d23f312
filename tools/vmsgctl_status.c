/*
 * tools/vmsgctl_status.c: `vmsgctl status`: every virtio-msg bus instance
 * with the state of both ends, its devices, the peer domains, the effective
 * maximum message size (docs/protocol.md 2.4), the pool size and the
 * backend's error node, as a table or as JSON; merged with what the
 * vmsg-backend of this domain reports through its control socket (ring
 * fill, messages, kicks, drops: vmsgctl_backend.h).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "tools/vmsgctl.h"
#include "tools/vmsgctl_backend.h"
#include "tools/vmsgctl_xs.h"

static void status_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl status [--json] [--control PATH]\n"
        "\n"
        "Show every virtio-msg bus instance: frontend and backend domains and\n"
        "their XenbusStates, device count, effective maximum message size, pool\n"
        "pages and the backend's error node. '-' means not published (yet).\n"
        "For the instances the vmsg-backend of this domain serves, also what it\n"
        "reports: ring fill (bytes used/size each way), messages received and\n"
        "sent, kicks sent and received, messages dropped.\n"
        "\n"
        "  -j, --json           one JSON array of objects instead of a table\n"
        "  -c, --control PATH   the backend's control socket\n"
        "                       (default " VMSGCTL_CONTROL_DEFAULT ")\n"
        "  -h, --help           this text\n"
        "\n"
        "Exit status: 0 shown (also when no backend answers), 1 failed, 2 usage.\n");
}

/* What `status` shows of one bus instance; numbers are -1 when unknown. */
struct bus_status {
    long fe_state, be_state;
    long max_msg, pool_pages;
    unsigned devices;
    char *error;
};

static long node_num(struct vmsg_platform *p, const char *dir, const char *node, uint32_t max)
{
    char *v = dir[0] ? vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/%s", dir, node) : NULL;
    uint32_t n;
    long out = v && !vmsg_xs_parse_u32(v, 0, max, &n) ? (long)n : -1;

    free(v);
    return out;
}

static void status_read(struct vmsg_platform *p, const struct vmsgctl_bus *b,
                        struct bus_status *st)
{
    const char *fdir = b->has_f ? b->fdir : "", *bdir = b->has_b ? b->bdir : "";
    long fmax = node_num(p, fdir, "max-msg-size", 65535);
    uint16_t *devs = NULL;

    st->fe_state = node_num(p, fdir, "state", VMSG_XB_STATE_MAX);
    st->be_state = node_num(p, bdir, "state", VMSG_XB_STATE_MAX);
    st->max_msg = node_num(p, bdir, "max-msg-size", 65535);
    /* Section 2.4: the frontend's value counts when present and smaller. */
    if (st->max_msg >= 0 && fmax >= 0 && fmax < st->max_msg)
        st->max_msg = fmax;
    st->pool_pages = node_num(p, fdir, "pool-pages", UINT32_MAX);
    st->devices = 0;
    if (b->has_b && vmsgctl_dev_nums(p, VMSG_XS_TX_NONE, bdir, &devs, &st->devices))
        st->devices = 0;
    free(devs);
    st->error = b->has_b ? vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/error", bdir) : NULL;
}

static const char *state_text(long s)
{
    return s < 0 ? "-" : vmsg_xb_state_name((unsigned)s);
}

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* A number, or null when unknown. */
static void gen_num(yajl_gen g, const char *k, long v)
{
    gen_str(g, k);
    if (v < 0)
        yajl_gen_null(g);
    else
        yajl_gen_integer(g, v);
}

static void gen_u64(yajl_gen g, const char *k, uint64_t v)
{
    gen_str(g, k);
    yajl_gen_integer(g, (long long)v);
}

static void gen_ring(yajl_gen g, const char *k, uint32_t used, uint32_t size)
{
    gen_str(g, k);
    yajl_gen_map_open(g);
    gen_u64(g, "used", used);
    gen_u64(g, "size", size);
    yajl_gen_map_close(g);
}

/* The backend's view of the instance, or null when it has none. */
static void backend_json(yajl_gen g, const struct vmsgctl_backend_bus *bb)
{
    gen_str(g, "backend_stats");
    if (!bb) {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_map_open(g);
    gen_str(g, "connected");
    yajl_gen_bool(g, bb->connected);
    gen_str(g, "ring");
    if (bb->connected) {
        yajl_gen_map_open(g);
        gen_ring(g, "to_backend", bb->to_backend_used, bb->to_backend_size);
        gen_ring(g, "to_frontend", bb->to_frontend_used, bb->to_frontend_size);
        yajl_gen_map_close(g);
    } else {
        yajl_gen_null(g);
    }
    gen_str(g, "messages");
    yajl_gen_map_open(g);
    gen_u64(g, "received", bb->received);
    gen_u64(g, "sent", bb->sent);
    gen_u64(g, "dropped_malformed", bb->dropped_malformed);
    gen_u64(g, "dropped_unexpected", bb->dropped_unexpected);
    yajl_gen_map_close(g);
    gen_str(g, "kicks");
    yajl_gen_map_open(g);
    gen_u64(g, "sent", bb->kicks_sent);
    gen_u64(g, "received", bb->kicks_received);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

static void status_json(yajl_gen g, struct vmsg_platform *p, const struct vmsgctl_bus *b,
                        const struct bus_status *st, const struct vmsgctl_backend_bus *bb)
{
    char name[64];

    yajl_gen_map_open(g);
    vmsgctl_domain_name(p, b->fe, name, sizeof(name));
    gen_str(g, "frontend");
    gen_str(g, name);
    gen_num(g, "frontend_id", b->fe);
    gen_num(g, "bus", b->n);
    vmsgctl_domain_name(p, b->be, name, sizeof(name));
    gen_str(g, "backend");
    gen_str(g, b->be == VMSG_DOMID_INVALID ? "" : name);
    gen_num(g, "backend_id", b->be == VMSG_DOMID_INVALID ? -1 : (long)b->be);
    gen_num(g, "frontend_state", st->fe_state);
    gen_str(g, "frontend_state_name");
    gen_str(g, state_text(st->fe_state));
    gen_num(g, "backend_state", st->be_state);
    gen_str(g, "backend_state_name");
    gen_str(g, state_text(st->be_state));
    gen_num(g, "devices", st->devices);
    gen_num(g, "max_msg_size", st->max_msg);
    gen_num(g, "pool_pages", st->pool_pages);
    gen_str(g, "frontend_dir");
    gen_str(g, b->has_f ? b->fdir : "");
    gen_str(g, "backend_dir");
    gen_str(g, b->has_b ? b->bdir : "");
    if (st->error) {
        gen_str(g, "error");
        gen_str(g, st->error);
    }
    backend_json(g, bb);
    yajl_gen_map_close(g);
}

/* The backend's line under the instance's row. */
static void backend_row(FILE *out, const struct vmsgctl_backend_bus *bb)
{
    if (bb->connected)
        fprintf(out, "    ring: to-backend %" PRIu32 "/%" PRIu32 " to-frontend %" PRIu32
                "/%" PRIu32 " bytes;",
                bb->to_backend_used, bb->to_backend_size, bb->to_frontend_used,
                bb->to_frontend_size);
    else
        fprintf(out, "    ring: not connected;");
    fprintf(out, " messages: received %" PRIu64 " sent %" PRIu64 " dropped %" PRIu64
            " malformed %" PRIu64 " unexpected; kicks: received %" PRIu64 " sent %" PRIu64 "\n",
            bb->received, bb->sent, bb->dropped_malformed, bb->dropped_unexpected,
            bb->kicks_received, bb->kicks_sent);
}

static void status_row(FILE *out, struct vmsg_platform *p, const struct vmsgctl_bus *b,
                       const struct bus_status *st)
{
    char fe[96], be[96], max[24] = "-", pool[24] = "-";

    vmsgctl_domain_label(p, b->fe, fe, sizeof(fe));
    vmsgctl_domain_label(p, b->be, be, sizeof(be));
    if (st->max_msg >= 0)
        snprintf(max, sizeof(max), "%ld", st->max_msg);
    if (st->pool_pages >= 0)
        snprintf(pool, sizeof(pool), "%ld", st->pool_pages);
    fprintf(out, "%-20s %3u %-20s %-13s %-13s %7u %7s %7s %s%s%s\n", fe, b->n, be,
            b->has_f ? state_text(st->fe_state) : "(no F)",
            b->has_b ? state_text(st->be_state) : "(no B)", st->devices, max, pool,
            st->error ? "error: " : "", st->error ? st->error : "",
            !b->has_f || !b->has_b ? (st->error ? "; half a bus instance" : "half a bus instance")
                                   : "");
}

static int status_run(struct vmsg_platform *p, const struct vmsgctl_env *env, bool json,
                      const char *control)
{
    struct vmsgctl_bus *buses = NULL;
    struct vmsgctl_backend backend;
    unsigned n = 0;
    yajl_gen g = NULL;
    char why[256];
    bool reachable = vmsgctl_backend_query(control, &backend, why, sizeof(why)) == 0;

    if (vmsgctl_bus_list(p, VMSG_DOMID_INVALID, &buses, &n)) {
        fprintf(env->err, "vmsgctl status: listing bus instances: %s\n",
                vmsg_plat_last_error(p));
        vmsgctl_backend_free(&backend);
        return 1;
    }
    if (json) {
        if (!(g = yajl_gen_alloc(NULL))) {
            fprintf(env->err, "vmsgctl status: out of memory\n");
            free(buses);
            vmsgctl_backend_free(&backend);
            return 1;
        }
        yajl_gen_array_open(g);
    } else {
        fprintf(env->out, "%-20s %3s %-20s %-13s %-13s %7s %7s %7s %s\n", "FRONTEND", "BUS",
                "BACKEND", "FE-STATE", "BE-STATE", "DEVICES", "MAX-MSG", "POOL", "ERROR");
    }
    for (unsigned i = 0; i < n; i++) {
        /* Only the instances this backend's domain serves are its to report. */
        const struct vmsgctl_backend_bus *bb =
            reachable && buses[i].be == backend.backend_id
                ? vmsgctl_backend_find(&backend, buses[i].fe, buses[i].n) : NULL;
        struct bus_status st;

        status_read(p, &buses[i], &st);
        if (g) {
            status_json(g, p, &buses[i], &st, bb);
        } else {
            status_row(env->out, p, &buses[i], &st);
            if (bb)
                backend_row(env->out, bb);
            else if (reachable && buses[i].be == backend.backend_id && buses[i].has_b)
                fprintf(env->out, "    backend: not serving this instance (yet)\n");
        }
        free(st.error);
    }
    if (g) {
        const unsigned char *buf;
        size_t len;

        yajl_gen_array_close(g);
        yajl_gen_get_buf(g, &buf, &len);
        fprintf(env->out, "%.*s\n", (int)len, (const char *)buf);
        yajl_gen_free(g);
    }
    if (!reachable)
        fprintf(env->err, "vmsgctl status: backend not reachable (is vmsg-backend running here? "
                "driver-domain backends are not reachable from dom0): %s\n", why);
    free(buses);
    vmsgctl_backend_free(&backend);
    return 0;
}

/* --json, --control PATH, --help; no operands. -1 to go on, else the
 * exit status. */
static int status_opts(const struct vmsgctl_env *env, int argc, char **argv, bool *json,
                       const char **control)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "control", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *json = false;
    *control = VMSGCTL_CONTROL_DEFAULT;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jc:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            *json = true;
            break;
        case 'c':
            *control = optarg;
            break;
        case 'h':
            status_usage(env->out);
            return 0;
        case ':':
            fprintf(env->err, "vmsgctl status: option '%s' needs an argument\n",
                    argv[optind - 1]);
            status_usage(env->err);
            return 2;
        default:
            fprintf(env->err, "vmsgctl status: unknown option '%s'\n", argv[optind - 1]);
            status_usage(env->err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(env->err, "vmsgctl status: unexpected argument '%s'\n", argv[optind]);
        status_usage(env->err);
        return 2;
    }
    return -1;
}

int vmsgctl_status(const struct vmsgctl_env *env, int argc, char **argv)
{
    struct vmsg_platform *p = NULL;
    const char *control;
    bool json;
    char err[256];
    int status = status_opts(env, argc, argv, &json, &control);

    if (status >= 0)
        return status;
    if (env->open(&p, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl status: %s\n", err);
        return 1;
    }
    status = status_run(p, env, json, control);
    vmsg_plat_close(p);
    return status;
}
