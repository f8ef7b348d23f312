/*
 * lib/xen/xen_schema.c: xenstore nodes of the Xen bus (see xen_schema.h).
 */
#include "config.h"

#include "xen/xen_schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/vmsg_log.h"

const char *vmsg_xb_state_name(unsigned state)
{
    static const char *const names[] = {
        "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
        "Closing", "Closed", "Reconfiguring", "Reconfigured",
    };
    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "Invalid";
}

/* ---- paths ---------------------------------------------------------------- */

static int path_fmt(char *buf, size_t len, int n)
{
    return (n < 0 || (size_t)n >= len) ? -EINVAL : 0;
}

int vmsg_xs_fe_dir(char *buf, size_t len, uint32_t fe_domid, unsigned bus)
{
    if (bus > VMSG_XEN_BUS_INDEX_MAX || len < VMSG_XS_PATH_MAX)
        return -EINVAL;
    return path_fmt(buf, len,
                    snprintf(buf, len, "/local/domain/%u/device/virtio-msg/%u", fe_domid, bus));
}

int vmsg_xs_be_dir(char *buf, size_t len, uint32_t be_domid, uint32_t fe_domid, unsigned bus)
{
    if (bus > VMSG_XEN_BUS_INDEX_MAX || len < VMSG_XS_PATH_MAX)
        return -EINVAL;
    return path_fmt(buf, len, snprintf(buf, len, "/local/domain/%u/backend/virtio-msg/%u/%u",
                                       be_domid, fe_domid, bus));
}

/* ---- strict parsing --------------------------------------------------------- */

/*
 * Parse one decimal starting at *sp and stop at the first non-digit, which
 * the caller checks. strtoul() is not used: it accepts signs, white space
 * and "0x", all of which section 2.4 forbids.
 */
static int parse_one(const char **sp, uint32_t min, uint32_t max, uint32_t *out)
{
    const char *s = *sp;
    uint64_t v = 0;
    bool overflow = false;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        if (!overflow) {
            v = v * 10 + (uint64_t)(s[n] - '0');
            overflow = v > UINT32_MAX;
        }
        n++;
    }
    if (n == 0 || (n > 1 && s[0] == '0'))
        return -EINVAL;
    *sp = s + n;
    if (overflow || v < min || v > max)
        return -ERANGE;
    *out = (uint32_t)v;
    return 0;
}

int vmsg_xs_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint32_t v;
    int rc;

    if (!s)
        return -EINVAL;
    rc = parse_one(&s, min, max, &v);
    if (rc == -EINVAL || *s != '\0')
        return -EINVAL;     /* syntax beats range: "-1" and "1 " are not decimals */
    if (rc)
        return rc;
    *out = v;
    return 0;
}

int vmsg_xs_parse_u32_list(const char *s, uint32_t min, uint32_t max, uint32_t *out,
                           unsigned count)
{
    int range = 0;

    if (!s || count == 0)
        return -EINVAL;
    for (unsigned i = 0; i < count; i++) {
        int rc;

        if (i > 0 && *s++ != ' ')
            return -EINVAL;
        rc = parse_one(&s, min, max, &out[i]);
        if (rc == -EINVAL)
            return rc;
        if (rc)
            range = rc;     /* keep checking the syntax of the rest */
    }
    if (*s != '\0')
        return -EINVAL;
    return range;
}

int vmsg_xs_versions_has(const char *s, uint32_t version)
{
    int found = 0;

    if (!s)
        return -EINVAL;
    for (;;) {
        uint32_t v;
        int rc = parse_one(&s, 1, UINT32_MAX, &v);

        if (rc)
            return rc;
        if (v == version)
            found = 1;
        if (*s == '\0')
            return found;
        if (*s++ != ' ')
            return -EINVAL;
    }
}

static const char *parse_err_name(int rc)
{
    return rc == -ERANGE ? "out of range" : "not a decimal";
}

/* Read dir/node into a malloc()ed string. */
static int xs_get(struct vmsg_platform *p, uint32_t tx, const char *dir, const char *node,
                  char **value)
{
    char path[VMSG_XS_PATH_MAX + 64];

    if (snprintf(path, sizeof(path), "%s/%s", dir, node) >= (int)sizeof(path))
        return -EINVAL;
    return vmsg_plat_xs_read(p, tx, path, value, NULL);
}

static int xs_put(struct vmsg_platform *p, uint32_t tx, const char *dir, const char *node,
                  const char *value)
{
    char path[VMSG_XS_PATH_MAX + 64];

    if (snprintf(path, sizeof(path), "%s/%s", dir, node) >= (int)sizeof(path))
        return -EINVAL;
    return vmsg_plat_xs_write(p, tx, path, value, strlen(value));
}

int vmsg_xs_read_u32(struct vmsg_platform *p, uint32_t tx, const char *dir, const char *node,
                     uint32_t min, uint32_t max, uint32_t *out)
{
    char *v = NULL, ev[VMSG_LOG_ESCAPED_SIZE(64)];
    int rc = xs_get(p, tx, dir, node, &v);

    if (rc)
        return rc;
    rc = vmsg_xs_parse_u32(v, min, max, out);
    if (rc)
        vmsg_warn("%s/%s: '%s' is %s (%u..%u)", dir, node, vmsg_log_escape(ev, sizeof(ev), v),
                  parse_err_name(rc), min, max);
    free(v);
    return rc;
}

/* ---- XenbusState -------------------------------------------------------- */

int vmsg_xs_read_state(struct vmsg_platform *p, uint32_t tx, const char *dir, unsigned *state)
{
    uint32_t v;
    int rc = vmsg_xs_read_u32(p, tx, dir, "state", 0, VMSG_XB_STATE_MAX, &v);

    if (rc == 0)
        *state = v;
    return rc;
}

int vmsg_xs_write_state(struct vmsg_platform *p, uint32_t tx, const char *dir, const char *who,
                        unsigned from, unsigned to)
{
    char v[4];
    int rc;

    snprintf(v, sizeof(v), "%u", to);
    rc = xs_put(p, tx, dir, "state", v);
    if (rc) {
        vmsg_err("%s %s: state %s -> %s failed: %s", who, dir, vmsg_xb_state_name(from),
                 vmsg_xb_state_name(to), vmsg_plat_last_error(p));
        return rc;
    }
    vmsg_info("%s %s: %s -> %s", who, dir, vmsg_xb_state_name(from), vmsg_xb_state_name(to));
    return 0;
}

unsigned vmsg_xs_watch_drain(struct vmsg_platform *p)
{
    char *path, *token, epath[VMSG_LOG_ESCAPED_SIZE(128)], etoken[VMSG_LOG_ESCAPED_SIZE(32)];
    unsigned n = 0;

    while (vmsg_plat_xs_read_watch(p, &path, &token) == 0) {
        /* The path may be one a guest created below its own directory. */
        if (vmsg_log_enabled(VMSG_LOG_DEBUG))
            vmsg_debug("xenstore watch %s fired on %s",
                       vmsg_log_escape(etoken, sizeof(etoken), token),
                       vmsg_log_escape(epath, sizeof(epath), path));
        free(path);
        free(token);
        n++;
    }
    return n;
}

/* ---- toolstack nodes -------------------------------------------------------- */

static int read_path_node(struct vmsg_platform *p, const char *dir, const char *node,
                          const char *want)
{
    char *v = NULL, ev[VMSG_LOG_ESCAPED_SIZE(128)];
    int rc = xs_get(p, VMSG_XS_TX_NONE, dir, node, &v);

    if (rc)
        return rc;
    rc = strcmp(v, want) ? -EINVAL : 0;
    if (rc)
        vmsg_warn("%s/%s: '%s', expected '%s'", dir, node, vmsg_log_escape(ev, sizeof(ev), v),
                  want);
    free(v);
    return rc;
}

int vmsg_xs_back_read_toolstack(struct vmsg_platform *p, const char *bdir, uint32_t fe_domid,
                                unsigned bus, char *fdir)
{
    uint32_t id;
    int rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, bdir, "frontend-id", 0, VMSG_XEN_DOMID_MAX, &id);

    if (rc)
        return rc;
    if (id != fe_domid) {
        vmsg_warn("%s/frontend-id: %u, expected %u", bdir, id, fe_domid);
        return -EINVAL;
    }
    rc = vmsg_xs_fe_dir(fdir, VMSG_XS_PATH_MAX, fe_domid, bus);
    return rc ? rc : read_path_node(p, bdir, "frontend", fdir);
}

int vmsg_xs_front_read_toolstack(struct vmsg_platform *p, const char *fdir, uint32_t fe_domid,
                                 unsigned bus, uint32_t *be_domid, char *bdir)
{
    int rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, fdir, "backend-id", 0, VMSG_XEN_DOMID_MAX,
                              be_domid);

    if (rc)
        return rc;
    rc = vmsg_xs_be_dir(bdir, VMSG_XS_PATH_MAX, *be_domid, fe_domid, bus);
    return rc ? rc : read_path_node(p, fdir, "backend", bdir);
}

int vmsg_xs_read_online(struct vmsg_platform *p, const char *bdir, bool *online)
{
    uint32_t v;
    int rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, bdir, "online", 0, 1, &v);

    if (rc == -ENOENT) {
        *online = true;
        return 0;
    }
    if (rc == 0)
        *online = v == 1;
    return rc;
}

/* ---- bus parameters -------------------------------------------------------- */

int vmsg_xen_back_params_check(struct vmsg_xen_back_params *params)
{
    if (params->max_msg_size == 0)
        params->max_msg_size = 264;
    if (params->max_pool_pages == 0)
        params->max_pool_pages = VMSG_XEN_DEFAULT_MAX_POOL_PAGES;
    if (params->max_msg_size < 48 || params->max_msg_size > 65535 ||
        params->max_pool_pages > VMSG_XEN_POOL_PAGES_LIMIT)
        return -EINVAL;
    return 0;
}

struct back_publish {
    const char *bdir;
    const struct vmsg_xen_back_params *params;
};

static int back_publish_tx(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    const struct back_publish *a = arg;
    char v[16];
    int rc;

    snprintf(v, sizeof(v), "%u", a->params->max_msg_size);
    if ((rc = xs_put(p, tx, a->bdir, "max-msg-size", v)))
        return rc;
    if ((rc = xs_put(p, tx, a->bdir, "versions", "1")))
        return rc;
    if ((rc = xs_put(p, tx, a->bdir, "features", "0")))
        return rc;
    snprintf(v, sizeof(v), "%u", a->params->max_pool_pages);
    if ((rc = xs_put(p, tx, a->bdir, "max-pool-pages", v)))
        return rc;
    return xs_put(p, tx, a->bdir, "state", "2");
}

int vmsg_xs_back_publish(struct vmsg_platform *p, const char *bdir,
                         const struct vmsg_xen_back_params *params, unsigned from)
{
    struct back_publish a = { bdir, params };
    int rc = vmsg_plat_xs_transaction(p, 0, back_publish_tx, &a);

    if (rc) {
        vmsg_err("backend %s: publishing parameters and %s -> InitWait failed: %s", bdir,
                 vmsg_xb_state_name(from), vmsg_plat_last_error(p));
        return rc;
    }
    vmsg_info("backend %s: %s -> InitWait (max-msg-size %u, max-pool-pages %u)", bdir,
              vmsg_xb_state_name(from), params->max_msg_size, params->max_pool_pages);
    return 0;
}

int vmsg_xs_front_read_backend(struct vmsg_platform *p, const char *bdir,
                               struct vmsg_xs_back_info *out)
{
    char *v = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, bdir, "max-msg-size", 48, 65535,
                               &out->max_msg_size)))
        return rc;
    if ((rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, bdir, "max-pool-pages", 1,
                               VMSG_XEN_POOL_PAGES_LIMIT, &out->max_pool_pages)))
        return rc;
    if ((rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, bdir, "features", 0, UINT32_MAX,
                               &out->features)))
        return rc;
    if ((rc = xs_get(p, VMSG_XS_TX_NONE, bdir, "versions", &v)))
        return rc;
    rc = vmsg_xs_versions_has(v, VMSG_XEN_BUS_VERSION);
    if (rc <= 0) {
        char ev[VMSG_LOG_ESCAPED_SIZE(64)];

        vmsg_warn("%s/versions: '%s' %s", bdir, vmsg_log_escape(ev, sizeof(ev), v),
                  rc < 0 ? "is not a list of decimals" : "does not offer version 1");
    }
    free(v);
    return rc < 0 ? rc : rc == 0 ? -EPROTONOSUPPORT : 0;
}

struct front_publish {
    const char *fdir;
    const struct vmsg_xs_front_info *info;
};

static int front_publish_tx(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    const struct front_publish *a = arg;
    const struct vmsg_xs_front_info *in = a->info;
    /* ndir <= 1024 refs of at most 10 digits and a space each */
    char *refs = malloc((size_t)in->ndir * 11 + 1);
    char v[16];
    size_t off = 0;
    int rc;

    if (!refs)
        return -ENOMEM;
    for (unsigned i = 0; i < in->ndir; i++)
        off += (size_t)sprintf(refs + off, i ? " %u" : "%u", in->pool_dir_refs[i]);
    refs[off] = '\0';
    if (!in->channel_nodes_written) {
        snprintf(v, sizeof(v), "%u", in->ring_ref);
        if ((rc = xs_put(p, tx, a->fdir, "ring-ref", v)))
            goto out;
        snprintf(v, sizeof(v), "%u", in->event_channel);
        if ((rc = xs_put(p, tx, a->fdir, "event-channel", v)))
            goto out;
    }
    snprintf(v, sizeof(v), "%u", in->version);
    if ((rc = xs_put(p, tx, a->fdir, "version", v)))
        goto out;
    if (in->max_msg_size) {
        snprintf(v, sizeof(v), "%u", in->max_msg_size);
        rc = xs_put(p, tx, a->fdir, "max-msg-size", v);
    } else {
        /* A value left from an earlier connection would still be read. */
        char path[VMSG_XS_PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/max-msg-size", a->fdir);
        rc = vmsg_plat_xs_rm(p, tx, path);
    }
    if (rc)
        goto out;
    snprintf(v, sizeof(v), "%u", in->pool_pages);
    if ((rc = xs_put(p, tx, a->fdir, "pool-pages", v)))
        goto out;
    if ((rc = xs_put(p, tx, a->fdir, "pool-dir-ref", refs)))
        goto out;
    rc = xs_put(p, tx, a->fdir, "state", "3");
out:
    free(refs);
    return rc;
}

int vmsg_xs_front_publish(struct vmsg_platform *p, const char *fdir,
                          const struct vmsg_xs_front_info *info, unsigned from)
{
    struct front_publish a = { fdir, info };
    int rc;

    if (info->ndir == 0 || info->ndir > VMSG_XEN_MAX_DIR_PAGES ||
        info->ndir != (info->pool_pages + VMSG_XEN_REFS_PER_DIR_PAGE - 1) /
                          VMSG_XEN_REFS_PER_DIR_PAGE)
        return -EINVAL;
    rc = vmsg_plat_xs_transaction(p, 0, front_publish_tx, &a);
    if (rc) {
        vmsg_err("frontend %s: publishing the channel and pool and %s -> Initialised failed: %s",
                 fdir, vmsg_xb_state_name(from), vmsg_plat_last_error(p));
        return rc;
    }
    vmsg_info("frontend %s: %s -> Initialised (ring-ref %u, event-channel %u, pool %u pages)",
              fdir, vmsg_xb_state_name(from), info->ring_ref, info->event_channel,
              info->pool_pages);
    return 0;
}

/*
 * One required decimal of F for the backend: on failure, log and put the
 * B/error line in why.
 */
static int fe_u32(struct vmsg_platform *p, const char *fdir, const char *node, uint32_t min,
                  uint32_t max, uint32_t *out, char *why, size_t whylen)
{
    int rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, fdir, node, min, max, out);

    if (rc == -ENOENT)
        snprintf(why, whylen, "%s: missing", node);
    else if (rc == -EINVAL || rc == -ERANGE)
        snprintf(why, whylen, "%s: %s (%u..%u)", node, parse_err_name(rc), min, max);
    else if (rc)
        snprintf(why, whylen, "%s: cannot read: %s", node, strerror(-rc));
    return rc;
}

int vmsg_xs_back_read_frontend(struct vmsg_platform *p, const char *fdir,
                               const struct vmsg_xen_back_params *offered,
                               struct vmsg_xs_front_info *out, char *why, size_t whylen)
{
    uint32_t fe_max;
    char *v = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(why, whylen, "ok");
    if ((rc = fe_u32(p, fdir, "version", 0, UINT32_MAX, &out->version, why, whylen)))
        return rc;
    if (out->version != VMSG_XEN_BUS_VERSION) {
        snprintf(why, whylen, "version: %u is not spoken here (versions: 1)", out->version);
        vmsg_warn("%s/version: %u is not spoken here", fdir, out->version);
        return -EPROTONOSUPPORT;
    }
    if ((rc = fe_u32(p, fdir, "ring-ref", 0, UINT32_MAX, &out->ring_ref, why, whylen)))
        return rc;
    if ((rc = fe_u32(p, fdir, "event-channel", 1, UINT32_MAX, &out->event_channel, why,
                     whylen)))
        return rc;
    out->max_msg_size = offered->max_msg_size;
    rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, fdir, "max-msg-size", 48, offered->max_msg_size,
                          &fe_max);
    if (rc == 0) {
        out->max_msg_size = fe_max;
    } else if (rc != -ENOENT) {     /* optional, but strict when present */
        fe_u32(p, fdir, "max-msg-size", 48, offered->max_msg_size, &fe_max, why, whylen);
        return rc;
    }
    if ((rc = fe_u32(p, fdir, "pool-pages", 1, offered->max_pool_pages, &out->pool_pages, why,
                     whylen)))
        return rc;
    out->ndir = (out->pool_pages + VMSG_XEN_REFS_PER_DIR_PAGE - 1) / VMSG_XEN_REFS_PER_DIR_PAGE;
    if ((rc = xs_get(p, VMSG_XS_TX_NONE, fdir, "pool-dir-ref", &v))) {
        snprintf(why, whylen, "pool-dir-ref: %s", rc == -ENOENT ? "missing" : strerror(-rc));
        return rc;
    }
    rc = vmsg_xs_parse_u32_list(v, 0, UINT32_MAX, out->pool_dir_refs, out->ndir);
    if (rc) {
        char ev[VMSG_LOG_ESCAPED_SIZE(64)];

        vmsg_warn("%s/pool-dir-ref: '%s' is not %u decimal grant references", fdir,
                  vmsg_log_escape(ev, sizeof(ev), v), out->ndir);
        snprintf(why, whylen, "pool-dir-ref: not %u decimal grant references", out->ndir);
    }
    free(v);
    return rc;
}

int vmsg_xs_back_set_error(struct vmsg_platform *p, const char *bdir, const char *why)
{
    vmsg_err("backend %s: error: %s", bdir, why);
    return xs_put(p, VMSG_XS_TX_NONE, bdir, "error", why);
}

int vmsg_xs_back_clear_error(struct vmsg_platform *p, const char *bdir)
{
    char path[VMSG_XS_PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/error", bdir);
    return vmsg_plat_xs_rm(p, VMSG_XS_TX_NONE, path);
}

/* ---- devices ---------------------------------------------------------------- */

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int vmsg_xs_dev_list(struct vmsg_platform *p, const char *bdir, uint16_t **nums,
                     unsigned *count)
{
    char path[VMSG_XS_PATH_MAX + 16];
    char **names = NULL;
    unsigned n = 0, k = 0;
    int rc;

    *nums = NULL;
    *count = 0;
    snprintf(path, sizeof(path), "%s/devices", bdir);
    rc = vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, path, &names, &n);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if (n) {
        *nums = malloc(n * sizeof(**nums));
        if (!*nums) {
            free(names);
            return -ENOMEM;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t v;
        if (vmsg_xs_parse_u32(names[i], 0, VMSG_XEN_DEV_NUM_MAX, &v)) {
            char en[VMSG_LOG_ESCAPED_SIZE(32)];

            vmsg_warn("%s/%s: not a device number (0..65535), ignored", path,
                      vmsg_log_escape(en, sizeof(en), names[i]));
            continue;
        }
        (*nums)[k++] = (uint16_t)v;
    }
    free(names);
    qsort(*nums, k, sizeof(**nums), cmp_u16);
    if (k == 0) {
        free(*nums);
        *nums = NULL;
    }
    *count = k;
    return 0;
}

const char *vmsg_xs_dev_param(const struct vmsg_xs_device *dev, const char *key)
{
    for (unsigned i = 0; i < dev->nparams; i++)
        if (!strcmp(dev->params[i].key, key))
            return dev->params[i].value;
    return NULL;
}

void vmsg_xs_dev_free(struct vmsg_xs_device *dev)
{
    for (unsigned i = 0; i < dev->nparams; i++) {
        free(dev->params[i].key);
        free(dev->params[i].value);
    }
    dev->nparams = 0;
}

/* A file:PATH or socket:PATH needs a non-empty absolute path. */
static bool console_output_ok(const char *v)
{
    const char *path = NULL;

    if (!strcmp(v, "pty"))
        return true;
    if (!strncmp(v, "file:", 5))
        path = v + 5;
    else if (!strncmp(v, "socket:", 7))
        path = v + 7;
    return path && path[0] == '/';
}

/* Check one key against the table of section 7; NULL if fine, else why. */
static const char *param_problem(enum vmsg_xs_dev_type type, const char *key, const char *v)
{
    uint32_t n;

    switch (type) {
    case VMSG_XS_DEV_CONSOLE:
        if (!strcmp(key, "output"))
            return console_output_ok(v) ? NULL : "not pty, file:/PATH or socket:/PATH";
        if (!strcmp(key, "rows") || !strcmp(key, "cols"))
            return vmsg_xs_parse_u32(v, 1, 65535, &n) ? "not a decimal 1..65535" : NULL;
        break;
    case VMSG_XS_DEV_BLK:
        if (!strcmp(key, "target"))
            return v[0] == '/' ? NULL : "not an absolute path";
        if (!strcmp(key, "ro") || !strcmp(key, "discard"))
            return vmsg_xs_parse_u32(v, 0, 1, &n) ? "not 0 or 1" : NULL;
        if (!strcmp(key, "serial"))
            return strlen(v) <= 20 ? NULL : "longer than 20 bytes";
        if (!strcmp(key, "num-queues"))
            return vmsg_xs_parse_u32(v, 1, 16, &n) ? "not a decimal 1..16" : NULL;
        break;
    case VMSG_XS_DEV_RNG:
        if (!strcmp(key, "source"))
            return v[0] == '/' ? NULL : "not an absolute path";
        break;
    case VMSG_XS_DEV_VIRTIO_ID:
        break;
    }
    return "unknown key";
}

static int dev_read_type(struct vmsg_platform *p, const char *ddir, struct vmsg_xs_device *out,
                         char *why, size_t whylen)
{
    char *v = NULL;
    int rc = xs_get(p, VMSG_XS_TX_NONE, ddir, "type", &v);

    if (rc) {
        snprintf(why, whylen, "type: %s", rc == -ENOENT ? "missing" : strerror(-rc));
        return rc;
    }
    if (!strcmp(v, "rng")) {
        out->type = VMSG_XS_DEV_RNG;
        out->virtio_id = 4;
    } else if (!strcmp(v, "console")) {
        out->type = VMSG_XS_DEV_CONSOLE;
        out->virtio_id = 3;
    } else if (!strcmp(v, "blk")) {
        out->type = VMSG_XS_DEV_BLK;
        out->virtio_id = 2;
    } else if (vmsg_xs_parse_u32(v, 1, UINT32_MAX, &out->virtio_id) == 0) {
        out->type = VMSG_XS_DEV_VIRTIO_ID;
    } else {
        char ev[VMSG_LOG_ESCAPED_SIZE(32)];

        snprintf(why, whylen, "type: '%s' is not rng, console, blk or a virtio device id",
                 vmsg_log_escape(ev, sizeof(ev), v));
        rc = -EINVAL;
    }
    free(v);
    return rc;
}

static int dev_read_params(struct vmsg_platform *p, const char *ddir,
                           struct vmsg_xs_device *out, char *why, size_t whylen)
{
    char pdir[VMSG_XS_PATH_MAX + 64];
    char **keys = NULL;
    unsigned n = 0;
    int rc;

    snprintf(pdir, sizeof(pdir), "%s/params", ddir);
    rc = vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, pdir, &keys, &n);
    if (rc == -ENOENT)
        rc = 0;     /* no parameters at all: still check the required ones */
    if (rc) {
        snprintf(why, whylen, "params: %s", strerror(-rc));
        return rc;
    }
    if (n > VMSG_XS_DEV_MAX_PARAMS) {
        snprintf(why, whylen, "params: %u keys, at most %u", n, VMSG_XS_DEV_MAX_PARAMS);
        rc = -EINVAL;
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        struct vmsg_xs_param *kv = &out->params[out->nparams];
        char ek[VMSG_LOG_ESCAPED_SIZE(16)], ev[VMSG_LOG_ESCAPED_SIZE(16)];
        const char *problem;

        if ((rc = xs_get(p, VMSG_XS_TX_NONE, pdir, keys[i], &kv->value))) {
            snprintf(why, whylen, "params/%s: %s", vmsg_log_escape(ek, sizeof(ek), keys[i]),
                     strerror(-rc));
            goto out;
        }
        if (!(kv->key = strdup(keys[i]))) {
            free(kv->value);
            rc = -ENOMEM;
            goto out;
        }
        out->nparams++;
        if ((problem = param_problem(out->type, kv->key, kv->value))) {
            /* why goes to the log and to xenstore: both escaped, and short
             * enough that the problem always fits. */
            snprintf(why, whylen, "params/%s: '%s': %s", vmsg_log_escape(ek, sizeof(ek), kv->key),
                     vmsg_log_escape(ev, sizeof(ev), kv->value), problem);
            rc = -EINVAL;
            goto out;
        }
    }
    if (out->type == VMSG_XS_DEV_BLK && !vmsg_xs_dev_param(out, "target")) {
        snprintf(why, whylen, "params/target: missing (required for blk)");
        rc = -EINVAL;
    }
out:
    free(keys);
    return rc;
}

int vmsg_xs_dev_read(struct vmsg_platform *p, const char *bdir, uint16_t num,
                     struct vmsg_xs_device *out, char *why, size_t whylen)
{
    char ddir[VMSG_XS_PATH_MAX + 32];
    uint32_t st;
    int rc;

    memset(out, 0, sizeof(*out));
    out->num = num;
    snprintf(why, whylen, "ok");
    snprintf(ddir, sizeof(ddir), "%s/devices/%u", bdir, num);
    if ((rc = dev_read_type(p, ddir, out, why, whylen)))
        goto fail;
    if ((rc = dev_read_params(p, ddir, out, why, whylen)))
        goto fail;
    rc = vmsg_xs_read_u32(p, VMSG_XS_TX_NONE, ddir, "state", 0, VMSG_XB_STATE_MAX, &st);
    if (rc) {
        snprintf(why, whylen, "state: %s",
                 rc == -ENOENT ? "missing" : rc == -EINVAL || rc == -ERANGE ? "not a XenbusState"
                                                                          : strerror(-rc));
        goto fail;
    }
    out->state = st;
    return 0;
fail:
    vmsg_warn("%s: %s", ddir, why);
    vmsg_xs_dev_free(out);
    return rc;
}

int vmsg_xs_dev_set_state(struct vmsg_platform *p, const char *bdir, uint16_t num,
                          unsigned from, unsigned to)
{
    char ddir[VMSG_XS_PATH_MAX + 32];

    snprintf(ddir, sizeof(ddir), "%s/devices/%u", bdir, num);
    return vmsg_xs_write_state(p, VMSG_XS_TX_NONE, ddir, "backend", from, to);
}

struct dev_error {
    const char *ddir;
    const char *why;
};

static int dev_error_tx(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    const struct dev_error *a = arg;
    int rc = xs_put(p, tx, a->ddir, "error", a->why);

    return rc ? rc : xs_put(p, tx, a->ddir, "state", "6");
}

int vmsg_xs_dev_set_error(struct vmsg_platform *p, const char *bdir, uint16_t num,
                          const char *why)
{
    char ddir[VMSG_XS_PATH_MAX + 32];
    struct dev_error a = { ddir, why };

    snprintf(ddir, sizeof(ddir), "%s/devices/%u", bdir, num);
    vmsg_err("backend %s: refused: %s; -> Closed", ddir, why);
    return vmsg_plat_xs_transaction(p, 0, dev_error_tx, &a);
}
