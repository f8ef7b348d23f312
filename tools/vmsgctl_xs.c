/*
 * tools/vmsgctl_xs.c: xenstore helpers of the toolstack (see vmsgctl_xs.h).
 */
#include "config.h"

#include "tools/vmsgctl_xs.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vmsgctl_domain_resolve(struct vmsg_platform *p, const char *spec, uint32_t *domid,
                           char *err, size_t errlen)
{
    char **names = NULL;
    unsigned count = 0, found = 0;
    uint32_t id;
    int rc;

    if (vmsg_xs_parse_u32(spec, 0, VMSG_XEN_DOMID_MAX, &id) == 0) {
        char path[64], *v = NULL;

        snprintf(path, sizeof(path), "/local/domain/%u", id);
        rc = vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL);
        free(v);
        if (rc == -ENOENT || rc == -EACCES) {
            snprintf(err, errlen, "domain %u: no such domain (%s is missing)", id, path);
            return -ENOENT;
        }
        if (rc) {
            snprintf(err, errlen, "domain %u: reading %s: %s", id, path,
                     vmsg_plat_last_error(p));
            return rc;
        }
        *domid = id;
        return 0;
    }
    rc = vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, "/local/domain", &names, &count);
    if (rc) {
        snprintf(err, errlen, "domain '%s': listing /local/domain: %s", spec,
                 vmsg_plat_last_error(p));
        return rc;
    }
    for (unsigned i = 0; i < count; i++) {
        char *name;

        if (vmsg_xs_parse_u32(names[i], 0, VMSG_XEN_DOMID_MAX, &id))
            continue;
        name = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "/local/domain/%s/name", names[i]);
        if (name && !strcmp(name, spec)) {
            if (found++)
                snprintf(err, errlen, "domain '%s': the name is used by domains %u and %s",
                         spec, *domid, names[i]);
            else
                *domid = id;
        }
        free(name);
    }
    free(names);
    if (found == 0) {
        snprintf(err, errlen, "domain '%s': no domain has that name or id", spec);
        return -ENOENT;
    }
    return found == 1 ? 0 : -EEXIST;
}

void vmsgctl_domain_name(struct vmsg_platform *p, uint32_t domid, char *buf, size_t len)
{
    char *name = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "/local/domain/%u/name", domid);

    snprintf(buf, len, "%s", name ? name : "");
    free(name);
}

void vmsgctl_domain_label(struct vmsg_platform *p, uint32_t domid, char *buf, size_t len)
{
    char name[64];

    if (domid == VMSG_DOMID_INVALID) {
        snprintf(buf, len, "?");
        return;
    }
    vmsgctl_domain_name(p, domid, name, sizeof(name));
    if (name[0])
        snprintf(buf, len, "%s(%u)", name, domid);
    else
        snprintf(buf, len, "%u", domid);
}

char *vmsgctl_xs_get(struct vmsg_platform *p, uint32_t tx, const char *fmt, ...)
{
    char path[256], *v = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(path))
        return NULL;
    return vmsg_plat_xs_read(p, tx, path, &v, NULL) ? NULL : v;
}

int vmsgctl_xs_mkdirs(struct vmsg_platform *p, uint32_t tx, const char *base, const char *rel)
{
    char path[256];
    size_t o = (size_t)snprintf(path, sizeof(path), "%s", base);
    int rc;

    while (*rel) {
        size_t l = strcspn(rel, "/");

        if (o + 1 + l >= sizeof(path))
            return -ENAMETOOLONG;
        path[o++] = '/';
        memcpy(path + o, rel, l);
        o += l;
        path[o] = '\0';
        if ((rc = vmsg_plat_xs_mkdir(p, tx, path)))
            return rc;
        rel += l + (rel[l] == '/');
    }
    return 0;
}

/* ---- bus instances --------------------------------------------------------------- */

struct bus_vec {
    struct vmsgctl_bus *v;
    unsigned n, cap;
};

static int bus_add(struct bus_vec *bv, const struct vmsgctl_bus *b)
{
    if (bv->n == bv->cap) {
        struct vmsgctl_bus *t = realloc(bv->v, (bv->cap = 2 * bv->cap + 8) * sizeof(*t));
        if (!t)
            return -ENOMEM;
        bv->v = t;
    }
    bv->v[bv->n++] = *b;
    return 0;
}

/* List `path` as decimals in [0, max]; a missing node is an empty list. */
static int list_nums(struct vmsg_platform *p, uint32_t tx, const char *path, uint32_t max,
                     uint32_t **nums, unsigned *count)
{
    char **names = NULL;
    unsigned n = 0;
    int rc = vmsg_plat_xs_directory(p, tx, path, &names, &n);

    *nums = NULL;
    *count = 0;
    if (rc == -ENOENT || (rc == -EACCES && strcmp(path, "/local/domain")))
        return 0;   /* EACCES: a directory some domain keeps to itself */
    if (rc)
        return rc;
    if (n && !(*nums = malloc(n * sizeof(**nums)))) {
        free(names);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < n; i++)
        if (vmsg_xs_parse_u32(names[i], 0, max, &(*nums)[*count]) == 0)
            (*count)++;
    free(names);
    return 0;
}

static int cmp_bus(const void *a, const void *b)
{
    const struct vmsgctl_bus *x = a, *y = b;

    if (x->fe != y->fe)
        return x->fe < y->fe ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return x->be < y->be ? -1 : x->be > y->be;
}

/* Frontend directories of domain d whose backend directory is missing. */
static int add_orphan_fronts(struct vmsg_platform *p, struct bus_vec *bv, uint32_t d)
{
    uint32_t *ns = NULL;
    unsigned nn = 0;
    char path[96];
    int rc;

    snprintf(path, sizeof(path), "/local/domain/%u/device/virtio-msg", d);
    if ((rc = list_nums(p, VMSG_XS_TX_NONE, path, VMSG_XEN_BUS_INDEX_MAX, &ns, &nn)))
        return rc;
    for (unsigned i = 0; i < nn && !rc; i++) {
        struct vmsgctl_bus b = { .fe = d, .n = ns[i], .be = VMSG_DOMID_INVALID, .has_f = true };
        bool known = false;
        char *be;

        for (unsigned k = 0; k < bv->n && !known; k++)
            known = bv->v[k].fe == d && bv->v[k].n == ns[i];
        if (known)
            continue;
        vmsg_xs_fe_dir(b.fdir, sizeof(b.fdir), d, ns[i]);
        be = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s/backend-id", b.fdir);
        if (be && vmsg_xs_parse_u32(be, 0, VMSG_XEN_DOMID_MAX, &b.be) == 0)
            vmsg_xs_be_dir(b.bdir, sizeof(b.bdir), b.be, d, ns[i]);
        free(be);
        rc = bus_add(bv, &b);
    }
    free(ns);
    return rc;
}

int vmsgctl_bus_list(struct vmsg_platform *p, uint32_t fe, struct vmsgctl_bus **out,
                     unsigned *count)
{
    struct bus_vec bv = { 0 };
    uint32_t *doms = NULL;
    unsigned ndoms = 0;
    char path[128];
    int rc;

    if ((rc = list_nums(p, VMSG_XS_TX_NONE, "/local/domain", VMSG_XEN_DOMID_MAX, &doms,
                        &ndoms)))
        return rc;
    for (unsigned i = 0; i < ndoms && !rc; i++) {
        uint32_t *fes = NULL;
        unsigned nfe = 0;

        snprintf(path, sizeof(path), "/local/domain/%u/backend/virtio-msg", doms[i]);
        if ((rc = list_nums(p, VMSG_XS_TX_NONE, path, VMSG_XEN_DOMID_MAX, &fes, &nfe)))
            break;
        for (unsigned f = 0; f < nfe && !rc; f++) {
            uint32_t *ns = NULL;
            unsigned nn = 0;

            if (fe != VMSG_DOMID_INVALID && fes[f] != fe)
                continue;
            snprintf(path, sizeof(path), "/local/domain/%u/backend/virtio-msg/%u", doms[i],
                     fes[f]);
            if ((rc = list_nums(p, VMSG_XS_TX_NONE, path, VMSG_XEN_BUS_INDEX_MAX, &ns, &nn)))
                break;
            for (unsigned k = 0; k < nn && !rc; k++) {
                struct vmsgctl_bus b = { .fe = fes[f], .be = doms[i], .n = ns[k], .has_b = true };
                char *v;

                vmsg_xs_fe_dir(b.fdir, sizeof(b.fdir), b.fe, b.n);
                vmsg_xs_be_dir(b.bdir, sizeof(b.bdir), b.be, b.fe, b.n);
                v = vmsgctl_xs_get(p, VMSG_XS_TX_NONE, "%s", b.fdir);
                b.has_f = v != NULL;
                free(v);
                rc = bus_add(&bv, &b);
            }
            free(ns);
        }
        free(fes);
    }
    for (unsigned i = 0; i < ndoms && !rc; i++)
        if (fe == VMSG_DOMID_INVALID || doms[i] == fe)
            rc = add_orphan_fronts(p, &bv, doms[i]);
    free(doms);
    if (rc) {
        free(bv.v);
        return rc;
    }
    if (bv.n)
        qsort(bv.v, bv.n, sizeof(*bv.v), cmp_bus);
    *out = bv.v;
    *count = bv.n;
    return 0;
}

int vmsgctl_dev_nums(struct vmsg_platform *p, uint32_t tx, const char *bdir, uint16_t **nums,
                     unsigned *count)
{
    char path[VMSG_XS_PATH_MAX + 16];
    uint32_t *v = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/devices", bdir);
    *nums = NULL;
    if ((rc = list_nums(p, tx, path, VMSG_XEN_DEV_NUM_MAX, &v, count)) || *count == 0) {
        free(v);
        return rc;
    }
    if (!(*nums = malloc(*count * sizeof(**nums)))) {
        free(v);
        return -ENOMEM;
    }
    /* Insertion sort: a bus instance holds few devices in practice. */
    for (unsigned i = 0; i < *count; i++) {
        unsigned k = i;

        for (; k > 0 && (*nums)[k - 1] > v[i]; k--)
            (*nums)[k] = (*nums)[k - 1];
        (*nums)[k] = (uint16_t)v[i];
    }
    free(v);
    return 0;
}

bool vmsgctl_parse_num(const char *what, const char *s, uint32_t min, uint32_t max,
                       uint32_t *out, char *err, size_t errlen)
{
    if (vmsg_xs_parse_u32(s, min, max, out) == 0)
        return true;
    snprintf(err, errlen, "%s '%s': expected a decimal %u..%u", what, s, min, max);
    return false;
}

bool vmsgctl_parse_seconds(const char *what, const char *s, double *out, char *err,
                           size_t errlen)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 3600 ||
        strspn(s, "0123456789.") != strlen(s)) {
        snprintf(err, errlen, "%s '%s': expected seconds, more than 0 and at most 3600",
                 what, s);
        return false;
    }
    *out = v;
    return true;
}
