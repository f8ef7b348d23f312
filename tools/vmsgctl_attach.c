/*
 * tools/vmsgctl_attach.c: `vmsgctl attach`: give a domain a virtio-msg
 * device (docs/protocol.md sections 2 and 6).
 *
 * In one xenstore transaction: the bus instance's directories F and B with
 * libxl's permission rules and the toolstack's nodes, when the instance
 * does not exist yet, then the device's devices/<D>/ (type, params, state = 1).
 * The type and parameters are validated first, against the same schema
 * `vmsgctl check` uses (section 7), so nothing is written for a typo.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/vmsgctl.h"
#include "tools/vmsgctl_attach.h"
#include "tools/vmsgctl_xs.h"
#include "tools/xs_schema.h"

/* A request and why the transaction body failed. */
struct attach {
    struct vmsgctl_attach_req *r;
    char err[384];
};

static void attach_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl attach DOMAIN type=TYPE [backend=DOMAIN] [bus=N] [devnum=D]\n"
        "                      [KEY=VALUE ...]\n"
        "\n"
        "Give DOMAIN (a name or a domain id) a virtio-msg device served by the\n"
        "backend domain (default: this domain). Creates the bus instance N when\n"
        "it does not exist (default: the instance DOMAIN already has with that\n"
        "backend, else the lowest free index) and the device D (default: the\n"
        "lowest free number) in one xenstore transaction, then prints D.\n"
        "\n"
        "TYPE and KEYs (docs/protocol.md section 7):\n"
        "  rng       source=/PATH (default: getrandom)\n"
        "  console   output=pty|file:/PATH|socket:/PATH  rows=N  cols=N\n"
        "  blk       target=/PATH (required)  ro=0|1  discard=0|1  serial=TEXT\n"
        "            (<= 20 bytes)  num-queues=1..16\n"
        "  a virtio device id in decimal, no parameters\n"
        "An unknown key is an error.\n"
        "\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 attached, 1 failed (nothing written), 2 usage.\n");
}

bool vmsgctl_attach_validate(const struct xs_schema *s, const struct vmsgctl_attach_req *a,
                             const char **bad_key, char *err, size_t len)
{
    const struct xs_value type_value = { .type = XS_V_DEVICE_TYPE };
    const struct xs_dev_type *t;
    char expected[256];
    const char *unused;

    if (!bad_key)
        bad_key = &unused;
    *bad_key = "type";
    if (!a->type) {
        snprintf(err, len, "type=TYPE is required");
        return false;
    }
    if (xs_value_check(s, &type_value, NULL, a->type, expected, sizeof(expected))) {
        snprintf(err, len, "type '%s': expected %s", a->type, expected);
        return false;
    }
    t = xs_schema_dev_type(s, a->type);
    for (unsigned i = 0; i < a->nparams; i++) {
        const struct xs_param_rule *pr = xs_dev_type_param(t, a->keys[i]);
        const struct xs_value param = { .type = XS_V_DEVICE_PARAM };
        struct xs_value_ctx ctx = { .dev_type = t, .key = a->keys[i] };

        *bad_key = a->keys[i];
        for (unsigned k = 0; k < i; k++)
            if (!strcmp(a->keys[k], a->keys[i])) {
                snprintf(err, len, "parameter '%s' given twice", a->keys[i]);
                return false;
            }
        if (!pr) {
            xs_value_describe(s, &param, &ctx, expected, sizeof(expected));
            snprintf(err, len, "unknown parameter '%s' for type %s (expected %s)", a->keys[i],
                     a->type, expected);
            return false;
        }
        if (xs_value_check(s, &pr->value, NULL, a->vals[i], expected, sizeof(expected))) {
            snprintf(err, len, "parameter %s='%s' for type %s: expected %s", a->keys[i],
                     a->vals[i], a->type, expected);
            return false;
        }
    }
    for (unsigned k = 0; t && k < t->nparams; k++) {
        bool given = false;

        for (unsigned i = 0; i < a->nparams && !given; i++)
            given = !strcmp(a->keys[i], t->params[k].key);
        if (t->params[k].required && !given) {
            *bad_key = t->params[k].key;
            snprintf(err, len, "type %s needs parameter %s", t->name, t->params[k].key);
            return false;
        }
    }
    return true;
}

/* ---- the transaction -------------------------------------------------------------- */

static bool exists(struct vmsg_platform *p, uint32_t tx, const char *path)
{
    char *v = vmsgctl_xs_get(p, tx, "%s", path);

    free(v);
    return v != NULL;
}

/* Which bus instance: sets a->r->bus and *create. 0 or -errno with a->err. */
static int attach_pick_bus(struct vmsg_platform *p, uint32_t tx, struct attach *a, bool *create)
{
    char fdir[VMSG_XS_PATH_MAX], bdir[VMSG_XS_PATH_MAX];
    bool used[VMSG_XEN_BUS_INDEX_MAX + 1] = { false };
    uint32_t first = a->r->bus_given ? a->r->bus : 0;
    uint32_t last = a->r->bus_given ? a->r->bus : VMSG_XEN_BUS_INDEX_MAX;

    for (uint32_t n = first; n <= last; n++) {
        char *id;
        uint32_t be;

        vmsg_xs_fe_dir(fdir, sizeof(fdir), a->r->fe, n);
        vmsg_xs_be_dir(bdir, sizeof(bdir), a->r->be, a->r->fe, n);
        if (!(used[n] = exists(p, tx, fdir))) {
            if (a->r->bus_given && exists(p, tx, bdir)) {
                snprintf(a->err, sizeof(a->err), "%s exists without %s: a broken bus "
                         "instance (see vmsgctl check)", bdir, fdir);
                return -EEXIST;
            }
            continue;
        }
        id = vmsgctl_xs_get(p, tx, "%s/backend-id", fdir);
        if (!id || vmsg_xs_parse_u32(id, 0, VMSG_XEN_DOMID_MAX, &be) || be != a->r->be) {
            if (a->r->bus_given) {
                snprintf(a->err, sizeof(a->err), "bus %u of domain %s is served by backend "
                         "domain %s (%s/backend-id), not %u", n, a->r->fe_spec, id ? id : "?",
                         fdir, a->r->be);
                free(id);
                return -EEXIST;
            }
            free(id);
            continue;
        }
        free(id);
        if (!exists(p, tx, bdir)) {
            snprintf(a->err, sizeof(a->err), "%s exists without %s: a broken bus instance "
                     "(see vmsgctl check)", fdir, bdir);
            return -EEXIST;
        }
        a->r->bus = n;
        *create = false;
        return 0;
    }
    for (uint32_t n = first; n <= last; n++)
        if (!used[n]) {
            a->r->bus = n;
            *create = true;
            return 0;
        }
    snprintf(a->err, sizeof(a->err), "domain %s has no free bus index (0..%u)", a->r->fe_spec,
             VMSG_XEN_BUS_INDEX_MAX);
    return -ENOSPC;
}

static int put(struct vmsg_platform *p, uint32_t tx, const char *dir, const char *node,
               const char *value)
{
    char path[VMSG_XS_PATH_MAX + 96];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, node);

    if (n < 0 || (size_t)n >= sizeof(path))
        return vmsg_plat_fail(p, -ENAMETOOLONG, "xenstore path %s/%s", dir, node);
    return vmsg_plat_xs_write(p, tx, path, value, strlen(value));
}

/* F and B with their permissions and the toolstack's nodes (2.1-2.3). */
static int attach_create_bus(struct vmsg_platform *p, uint32_t tx, struct attach *a,
                             const char *fdir, const char *bdir)
{
    const struct vmsg_xs_perm fperms[] = { { a->r->fe, VMSG_XS_PERM_NONE },
                                           { a->r->be, VMSG_XS_PERM_READ } };
    const struct vmsg_xs_perm bperms[] = { { a->r->be, VMSG_XS_PERM_NONE },
                                           { a->r->fe, VMSG_XS_PERM_READ } };
    char fhome[32], bhome[32], rel[64], num[16];
    int rc;

    snprintf(fhome, sizeof(fhome), "/local/domain/%u", a->r->fe);
    snprintf(bhome, sizeof(bhome), "/local/domain/%u", a->r->be);
    if (!exists(p, tx, bhome)) {
        snprintf(a->err, sizeof(a->err), "backend domain %u: no such domain (%s is missing)",
                 a->r->be, bhome);
        return -ENOENT;
    }
    snprintf(rel, sizeof(rel), "device/virtio-msg/%u", a->r->bus);
    if ((rc = vmsgctl_xs_mkdirs(p, tx, fhome, rel)) ||
        (rc = vmsg_plat_xs_set_perms(p, tx, fdir, fperms, 2)))
        goto fail;
    snprintf(rel, sizeof(rel), "backend/virtio-msg/%u/%u", a->r->fe, a->r->bus);
    if ((rc = vmsgctl_xs_mkdirs(p, tx, bhome, rel)) ||
        (rc = vmsg_plat_xs_set_perms(p, tx, bdir, bperms, 2)))
        goto fail;
    /* Every node below inherits its directory's permissions. */
    snprintf(num, sizeof(num), "%u", a->r->be);
    if ((rc = put(p, tx, fdir, "backend", bdir)) || (rc = put(p, tx, fdir, "backend-id", num)) ||
        (rc = put(p, tx, fdir, "state", "1")))
        goto fail;
    snprintf(num, sizeof(num), "%u", a->r->fe);
    if ((rc = put(p, tx, bdir, "frontend", fdir)) ||
        (rc = put(p, tx, bdir, "frontend-id", num)) || (rc = put(p, tx, bdir, "online", "1")) ||
        (rc = put(p, tx, bdir, "state", "1")))
        goto fail;
    return 0;
fail:
    snprintf(a->err, sizeof(a->err), "creating bus %u (%s, %s): %s", a->r->bus, fdir, bdir,
             vmsg_plat_last_error(p));
    return rc;
}

/* Which device number: the given one if free, else the lowest free one. */
static int attach_pick_dev(struct vmsg_platform *p, uint32_t tx, struct attach *a,
                           const char *bdir)
{
    uint16_t *nums = NULL;
    unsigned n = 0;
    int rc = vmsgctl_dev_nums(p, tx, bdir, &nums, &n);

    if (rc) {
        snprintf(a->err, sizeof(a->err), "listing %s/devices: %s", bdir,
                 vmsg_plat_last_error(p));
        return rc;
    }
    if (a->r->dev_given) {
        for (unsigned i = 0; i < n; i++)
            if (nums[i] == a->r->dev) {
                snprintf(a->err, sizeof(a->err), "device %u already exists on bus %u of "
                         "domain %s (%s/devices/%u)", a->r->dev, a->r->bus, a->r->fe_spec, bdir, a->r->dev);
                rc = -EEXIST;
            }
    } else {
        a->r->dev = 0;
        for (unsigned i = 0; i < n && nums[i] == a->r->dev; i++)
            a->r->dev++;   /* nums is ascending: the first gap is the lowest free number */
        if (a->r->dev > VMSG_XEN_DEV_NUM_MAX) {
            snprintf(a->err, sizeof(a->err), "bus %u of domain %s has no free device number",
                     a->r->bus, a->r->fe_spec);
            rc = -ENOSPC;
        }
    }
    free(nums);
    return rc;
}

static int attach_tx(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    struct attach *a = arg;
    char fdir[VMSG_XS_PATH_MAX], bdir[VMSG_XS_PATH_MAX], ddir[VMSG_XS_PATH_MAX + 32];
    char rel[32];
    bool create = false;
    int rc;

    a->err[0] = '\0';
    a->r->bus_created = false;
    if ((rc = attach_pick_bus(p, tx, a, &create)))
        return rc;
    vmsg_xs_fe_dir(fdir, sizeof(fdir), a->r->fe, a->r->bus);
    vmsg_xs_be_dir(bdir, sizeof(bdir), a->r->be, a->r->fe, a->r->bus);
    if (create && (rc = attach_create_bus(p, tx, a, fdir, bdir)))
        return rc;
    a->r->bus_created = create;
    if ((rc = attach_pick_dev(p, tx, a, bdir)))
        return rc;
    snprintf(rel, sizeof(rel), "devices/%u%s", a->r->dev, a->r->nparams ? "/params" : "");
    snprintf(ddir, sizeof(ddir), "%s/devices/%u", bdir, a->r->dev);
    if ((rc = vmsgctl_xs_mkdirs(p, tx, bdir, rel)) || (rc = put(p, tx, ddir, "type", a->r->type)))
        goto fail;
    for (unsigned i = 0; i < a->r->nparams; i++) {
        char node[96];

        snprintf(node, sizeof(node), "params/%s", a->r->keys[i]);
        if ((rc = put(p, tx, ddir, node, a->r->vals[i])))
            goto fail;
    }
    if ((rc = put(p, tx, ddir, "state", "1")))
        goto fail;
    return 0;
fail:
    snprintf(a->err, sizeof(a->err), "writing %s: %s", ddir, vmsg_plat_last_error(p));
    return rc;
}

int vmsgctl_attach_write(struct vmsg_platform *p, struct vmsgctl_attach_req *r, char *err,
                         size_t len)
{
    struct attach a = { .r = r };
    int rc = vmsg_plat_xs_transaction(p, 0, attach_tx, &a);

    if (rc)
        snprintf(err, len, "%s", a.err[0] ? a.err : rc == -EAGAIN
                                                ? "xenstore kept reporting conflicts"
                                                : vmsg_plat_last_error(p));
    return rc;
}

/* ---- the command ------------------------------------------------------------------ */

/* KEY=VALUE arguments into a; false with a message in err. */
static bool attach_parse_kv(struct vmsgctl_attach_req *a, int argc, char **argv, const char **be_spec,
                            char *err, size_t len)
{
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        const char *v;

        if (!eq || eq == argv[i]) {
            snprintf(err, len, "'%s': expected KEY=VALUE", argv[i]);
            return false;
        }
        *eq = '\0';
        v = eq + 1;
        if (!strcmp(argv[i], "type")) {
            a->type = v;
        } else if (!strcmp(argv[i], "backend")) {
            *be_spec = v;
        } else if (!strcmp(argv[i], "bus")) {
            if (!vmsgctl_parse_num("bus", v, 0, VMSG_XEN_BUS_INDEX_MAX, &a->bus, err, len))
                return false;
            a->bus_given = true;
        } else if (!strcmp(argv[i], "devnum")) {
            if (!vmsgctl_parse_num("devnum", v, 0, VMSG_XEN_DEV_NUM_MAX, &a->dev, err, len))
                return false;
            a->dev_given = true;
        } else if (a->nparams == VMSGCTL_ATTACH_MAX_PARAMS) {
            snprintf(err, len, "more than %u parameters", VMSGCTL_ATTACH_MAX_PARAMS);
            return false;
        } else {
            a->keys[a->nparams] = argv[i];
            a->vals[a->nparams++] = v;
        }
    }
    return true;
}

int vmsgctl_attach(const struct vmsgctl_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct vmsgctl_attach_req a = { 0 };
    struct xs_schema *schema = NULL;
    struct vmsg_platform *p = NULL;
    const char *be_spec = NULL;
    char err[512];
    int c, rc, status = 1;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            attach_usage(env->out);
            return 0;
        }
        fprintf(env->err, "vmsgctl attach: unknown option '%s'\n", argv[optind - 1]);
        attach_usage(env->err);
        return 2;
    }
    if (optind >= argc) {
        fprintf(env->err, "vmsgctl attach: DOMAIN is missing\n");
        attach_usage(env->err);
        return 2;
    }
    a.fe_spec = argv[optind];
    if (!attach_parse_kv(&a, argc - optind - 1, argv + optind + 1, &be_spec, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl attach: %s\n", err);
        return 2;
    }
    if ((rc = xs_schema_parse(xs_schema_builtin_json, &schema, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl attach: built-in schema: %s\n", err);
        return 1;
    }
    if (!vmsgctl_attach_validate(schema, &a, NULL, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl attach: %s\n", err);
        status = 2;
        goto out;
    }
    if ((rc = env->open(&p, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl attach: %s\n", err);
        goto out;
    }
    if (vmsgctl_domain_resolve(p, a.fe_spec, &a.fe, err, sizeof(err)) ||
        (be_spec && vmsgctl_domain_resolve(p, be_spec, &a.be, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl attach: %s\n", err);
        goto out;
    }
    if (!be_spec && (rc = vmsg_plat_own_domid(p, &a.be))) {
        fprintf(env->err, "vmsgctl attach: own domain id: %s\n", vmsg_plat_last_error(p));
        goto out;
    }
    if ((rc = vmsgctl_attach_write(p, &a, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl attach: domain %s: %s\n", a.fe_spec, err);
        goto out;
    }
    fprintf(env->out, "%u\n", a.dev);
    status = 0;
out:
    if (p)
        vmsg_plat_close(p);
    xs_schema_free(schema);
    return status;
}
