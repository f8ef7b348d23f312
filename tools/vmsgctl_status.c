/*
 * tools/vmsgctl_status.c: `vmsgctl status`: every virtio-msg bus instance
 * with the state of both ends, its devices, the peer domains, the effective
 * maximum message size (docs/protocol.md 2.4), the pool size and the
 * backend's error node, as a table or as JSON.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "tools/vmsgctl.h"
#include "tools/vmsgctl_xs.h"

static void status_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl status [--json]\n"
        "\n"
        "Show every virtio-msg bus instance: frontend and backend domains and\n"
        "their XenbusStates, device count, effective maximum message size, pool\n"
        "pages and the backend's error node. '-' means not published (yet).\n"
        "\n"
        "  -j, --json   one JSON array of objects instead of a table\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 shown, 1 failed, 2 usage.\n");
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

static void status_json(yajl_gen g, struct vmsg_platform *p, const struct vmsgctl_bus *b,
                        const struct bus_status *st)
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
    yajl_gen_map_close(g);
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

static int status_run(struct vmsg_platform *p, const struct vmsgctl_env *env, bool json)
{
    struct vmsgctl_bus *buses = NULL;
    unsigned n = 0;
    yajl_gen g = NULL;

    if (vmsgctl_bus_list(p, VMSG_DOMID_INVALID, &buses, &n)) {
        fprintf(env->err, "vmsgctl status: listing bus instances: %s\n",
                vmsg_plat_last_error(p));
        return 1;
    }
    if (json) {
        if (!(g = yajl_gen_alloc(NULL))) {
            fprintf(env->err, "vmsgctl status: out of memory\n");
            free(buses);
            return 1;
        }
        yajl_gen_array_open(g);
    } else {
        fprintf(env->out, "%-20s %3s %-20s %-13s %-13s %7s %7s %7s %s\n", "FRONTEND", "BUS",
                "BACKEND", "FE-STATE", "BE-STATE", "DEVICES", "MAX-MSG", "POOL", "ERROR");
    }
    for (unsigned i = 0; i < n; i++) {
        struct bus_status st;

        status_read(p, &buses[i], &st);
        if (g)
            status_json(g, p, &buses[i], &st);
        else
            status_row(env->out, p, &buses[i], &st);
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
    free(buses);
    return 0;
}

int vmsgctl_status(const struct vmsgctl_env *env, int argc, char **argv)
{
    struct vmsg_platform *p = NULL;
    bool json;
    char err[256];
    int status = vmsgctl_view_opts(env, "status", argc, argv, 0, status_usage, &json);

    if (status >= 0)
        return status;
    if (env->open(&p, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl status: %s\n", err);
        return 1;
    }
    status = status_run(p, env, json);
    vmsg_plat_close(p);
    return status;
}
