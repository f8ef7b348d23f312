/*
 * tools/vmsgctl_list.c: `vmsgctl list`: the virtio-msg devices of every
 * domain (or of one), as a table or as JSON.
 *
 * Devices are read from the backend directories B (docs/protocol.md 2.2):
 * those are what the toolstack wrote and the backend serves; a frontend
 * directory cannot list devices.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "tools/vmsgctl.h"
#include "tools/vmsgctl_xs.h"

static void list_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl list [DOMAIN] [--json]\n"
        "\n"
        "List the virtio-msg devices of DOMAIN (a name or a domain id), or of\n"
        "every domain: domain, bus, device number, type, device state, backend\n"
        "domain and parameters.\n"
        "\n"
        "  -j, --json   one JSON array of objects instead of a table\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 listed, 1 failed, 2 usage.\n");
}

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
    gen_str(g, k);
    gen_str(g, v);
}

static void gen_kn(yajl_gen g, const char *k, long long v)
{
    gen_str(g, k);
    yajl_gen_integer(g, v);
}

/* One device, as a table row or a JSON object. */
static int list_device(struct vmsg_platform *p, const struct vmsgctl_bus *b, uint16_t dev,
                       yajl_gen g, FILE *out)
{
    char fe[96], be[96], fename[64], bename[64], params[512] = "", pdir[VMSG_XS_PATH_MAX + 48];
    char *type = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/devices/%u/type", b->bdir, dev);
    char *state = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/devices/%u/state", b->bdir, dev);
    char *error = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/devices/%u/error", b->bdir, dev);
    char **keys = NULL;
    unsigned nkeys = 0;
    uint32_t st = 0;
    bool st_ok = state && !vmsg_xs_parse_u32(state, 0, VMSG_XB_STATE_MAX, &st);
    size_t o = 0;

    snprintf(pdir, sizeof(pdir), "%s/devices/%u/params", b->bdir, dev);
    if (vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, pdir, &keys, &nkeys))
        nkeys = 0;
    vmsgctl_domain_label(p, b->fe, fe, sizeof(fe));
    vmsgctl_domain_label(p, b->be, be, sizeof(be));
    vmsgctl_domain_name(p, b->fe, fename, sizeof(fename));
    vmsgctl_domain_name(p, b->be, bename, sizeof(bename));
    if (g) {
        yajl_gen_map_open(g);
        gen_kv(g, "domain", fename);
        gen_kn(g, "domid", b->fe);
        gen_kn(g, "bus", b->n);
        gen_kn(g, "devnum", dev);
        gen_kv(g, "type", type ? type : "");
        gen_str(g, "state");
        if (st_ok)
            yajl_gen_integer(g, st);
        else
            yajl_gen_null(g);
        gen_kv(g, "state_name", st_ok ? vmsg_xb_state_name(st) : "Invalid");
        gen_kv(g, "backend", bename);
        gen_kn(g, "backend_id", b->be);
        gen_str(g, "params");
        yajl_gen_map_open(g);
    }
    for (unsigned i = 0; i < nkeys; i++) {
        char *v = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/%s", pdir, keys[i]);

        if (g)
            gen_kv(g, keys[i], v ? v : "");
        else if (o < sizeof(params))
            o += (size_t)snprintf(params + o, sizeof(params) - o, "%s%s=%s", i ? "," : "",
                                  keys[i], v ? v : "?");
        free(v);
    }
    if (g) {
        yajl_gen_map_close(g);
        if (error)
            gen_kv(g, "error", error);
        yajl_gen_map_close(g);
    } else {
        fprintf(out, "%-20s %3u %5u %-8s %-13s %-20s %s%s%s\n", fe, b->n, dev,
                type ? type : "?", st_ok ? vmsg_xb_state_name(st) : "?", be,
                params[0] ? params : "-", error ? "  error: " : "", error ? error : "");
    }
    free(keys);
    free(type);
    free(state);
    free(error);
    return 0;
}

static int list_run(struct vmsg_platform *p, const struct vmsgctl_env *env, const char *spec,
                    bool json)
{
    struct vmsgctl_bus *buses = NULL;
    uint32_t fe = VMSG_DOMID_INVALID;
    unsigned n = 0;
    yajl_gen g = NULL;
    char err[384];
    int rc, status = 1;

    if (spec && vmsgctl_domain_resolve(p, spec, &fe, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl list: %s\n", err);
        return 1;
    }
    if ((rc = vmsgctl_bus_list(p, fe, &buses, &n))) {
        fprintf(env->err, "vmsgctl list: listing bus instances: %s\n", vmsg_plat_last_error(p));
        return 1;
    }
    if (json) {
        if (!(g = yajl_gen_alloc(NULL))) {
            fprintf(env->err, "vmsgctl list: out of memory\n");
            goto out;
        }
        yajl_gen_array_open(g);
    } else {
        fprintf(env->out, "%-20s %3s %5s %-8s %-13s %-20s %s\n", "DOMAIN", "BUS", "DEV", "TYPE",
                "STATE", "BACKEND", "PARAMS");
    }
    for (unsigned i = 0; i < n; i++) {
        uint16_t *devs = NULL;
        unsigned nd = 0;

        if (!buses[i].has_b)
            continue;   /* no B, no devices: `vmsgctl status` shows the instance */
        if (vmsgctl_dev_nums(p, VMSG_XS_TX_NONE, buses[i].bdir, &devs, &nd)) {
            fprintf(env->err, "vmsgctl list: listing %s/devices: %s\n", buses[i].bdir,
                    vmsg_plat_last_error(p));
            goto out;
        }
        for (unsigned k = 0; k < nd; k++)
            list_device(p, &buses[i], devs[k], g, env->out);
        free(devs);
    }
    if (g) {
        const unsigned char *buf;
        size_t len;

        yajl_gen_array_close(g);
        yajl_gen_get_buf(g, &buf, &len);
        fprintf(env->out, "%.*s\n", (int)len, (const char *)buf);
    }
    status = 0;
out:
    if (g)
        yajl_gen_free(g);
    free(buses);
    return status;
}

int vmsgctl_list(const struct vmsgctl_env *env, int argc, char **argv)
{
    struct vmsg_platform *p = NULL;
    bool json;
    char err[256];
    int status = vmsgctl_view_opts(env, "list", argc, argv, 1, list_usage, &json);

    if (status >= 0)
        return status;
    if (env->open(&p, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl list: %s\n", err);
        return 1;
    }
    status = list_run(p, env, optind < argc ? argv[optind] : NULL, json);
    vmsg_plat_close(p);
    return status;
}
