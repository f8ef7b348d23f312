/*
 * tools/vmsgctl_xl.c: the xl config of a domain and its virtio_msg
 * entries attached (see vmsgctl_xl.h).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <xentoollog.h>

#include "tools/vmsgctl_xl.h"
#include "tools/vmsgctl_xs.h"

/* The userdata "xl" of domain domid: 0 and *data (NULL, 0 when absent). */
static int userdata_xl(uint32_t domid, uint8_t **data, int *len, char *err, size_t errlen)
{
    xentoollog_logger_stdiostream *lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    libxl_ctx *ctx = NULL;
    int rc;

    *data = NULL;
    *len = 0;
    if (!lg) {
        snprintf(err, errlen, "libxenlight: cannot create a logger");
        return -ENOMEM;
    }
    if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg)) {
        snprintf(err, errlen, "libxenlight: cannot open a context (not in the toolstack domain?)");
        xtl_logger_destroy((xentoollog_logger *)lg);
        return -EIO;
    }
    rc = libxl_userdata_retrieve(ctx, domid, "xl", data, len);
    if (rc) {
        snprintf(err, errlen, "libxenlight: reading userdata \"xl\" of domain %u failed (%d)",
                 domid, rc);
        rc = -EIO;
    }
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
    return rc;
}

int vmsgctl_xl_domain_config(const struct xs_schema *s, uint32_t domid, const char *name,
                             const char *dir, struct xlcfg *out, char *source,
                             size_t sourcelen, char *err, size_t errlen)
{
    uint8_t *data;
    int len, rc;

    memset(out, 0, sizeof(*out));
    if ((rc = userdata_xl(domid, &data, &len, err, errlen)))
        return rc;
    if (data && len > 0) {
        snprintf(source, sourcelen, "userdata \"xl\" of domain %u", domid);
        rc = xlcfg_read_data(s, source, (const char *)data, (size_t)len, out, err, errlen);
        free(data);
        return rc;
    }
    free(data);
    /* The name becomes a file name under dir: never a path out of it. */
    if (!name[0] || name[0] == '.' || strchr(name, '/')) {
        snprintf(err, errlen, "domain %u: its name '%s' cannot name a file in %s", domid, name,
                 dir);
        return -EINVAL;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(source, sourcelen, "%s/%s%s", dir, name, i ? "" : ".cfg");
        rc = xlcfg_read_file(s, source, NULL, out, err, errlen);
        if (rc == -ENOENT)
            continue;
        if (!rc && (!out->name || strcmp(out->name, name))) {
            snprintf(err, errlen, "%s names the domain '%s', not '%s'", source,
                     out->name ? out->name : "(no name)", name);
            xlcfg_free(out);
            rc = -EINVAL;
        }
        return rc;
    }
    snprintf(err, errlen, "domain %u (%s): no xl config: no userdata \"xl\", no %s/%s.cfg "
             "nor %s/%s", domid, name, dir, name, dir, name);
    return -ENOENT;
}

int vmsgctl_xl_attach_all(struct vmsg_platform *p, uint32_t fe, const char *label,
                          struct xlcfg *c, struct vmsgctl_xl_bus **made, unsigned *nmade,
                          vmsgctl_xl_note_fn *note, void *arg, char *err, size_t errlen)
{
    uint32_t self;
    int rc;

    if ((rc = vmsg_plat_own_domid(p, &self))) {
        snprintf(err, errlen, "own domain id: %s", vmsg_plat_last_error(p));
        return rc;
    }
    for (unsigned i = 0; i < c->count; i++) {
        struct xlcfg_entry *e = &c->entries[i];
        struct vmsgctl_attach_req *r = &e->req;
        char why[512], line[768];

        r->fe = fe;
        r->fe_spec = label;
        r->be = self;
        if ((e->backend && (rc = vmsgctl_domain_resolve(p, e->backend, &r->be, why,
                                                         sizeof(why)))) ||
            (rc = vmsgctl_attach_write(p, r, why, sizeof(why)))) {
            snprintf(err, errlen, "virtio_msg[%d] \"%s\": %s", e->index, e->text, why);
            return rc;
        }
        if (r->bus_created) {
            struct vmsgctl_xl_bus *m = realloc(*made, (*nmade + 1) * sizeof(**made));

            if (!m) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
            }
            *made = m;
            m[(*nmade)++] = (struct vmsgctl_xl_bus){ fe, r->be, r->bus };
        }
        snprintf(line, sizeof(line), "domain %s: virtio_msg[%d] \"%s\": device %u on bus %u, "
                 "backend domain %u", label, e->index, e->text, r->dev, r->bus, r->be);
        note(arg, line);
    }
    return 0;
}

static int rm(struct vmsg_platform *p, const char *path, char *err, size_t errlen)
{
    int rc = vmsg_plat_xs_rm(p, VMSG_XS_TX_NONE, path);

    if (rc == -ENOENT)
        return 0;   /* already gone (its parent too) */
    if (rc)
        snprintf(err, errlen, "removing %s: %s", path, vmsg_plat_last_error(p));
    return rc;
}

int vmsgctl_xl_remove_buses(struct vmsg_platform *p, const struct vmsgctl_xl_bus *made,
                            unsigned n, char *err, size_t errlen)
{
    int first = 0;

    for (unsigned i = 0; i < n; i++) {
        char dir[VMSG_XS_PATH_MAX], parent[VMSG_XS_PATH_MAX];
        char **left = NULL;
        unsigned nleft = 0;
        int rc;

        vmsg_xs_be_dir(dir, sizeof(dir), made[i].be, made[i].fe, made[i].bus);
        if ((rc = rm(p, dir, err, errlen)) && !first)
            first = rc;
        /* .../virtio-msg/FE, then .../virtio-msg itself, once empty. */
        for (int up = 0; up < 2; up++) {
            if (up)
                snprintf(parent, sizeof(parent), "/local/domain/%u/backend/virtio-msg",
                         made[i].be);
            else
                snprintf(parent, sizeof(parent), "/local/domain/%u/backend/virtio-msg/%u",
                         made[i].be, made[i].fe);
            left = NULL;
            nleft = 0;
            if (!vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, parent, &left, &nleft) && !nleft &&
                (rc = rm(p, parent, err, errlen)) && !first)
                first = rc;
            free(left);
        }
        vmsg_xs_fe_dir(dir, sizeof(dir), made[i].fe, made[i].bus);
        if ((rc = rm(p, dir, err, errlen)) && !first)
            first = rc;
    }
    return first;
}

int vmsgctl_xl_has_buses(struct vmsg_platform *p, uint32_t fe)
{
    struct vmsgctl_bus *buses = NULL;
    unsigned n = 0;
    int rc = vmsgctl_bus_list(p, fe, &buses, &n);

    free(buses);
    return rc ? rc : n > 0;
}

long vmsgctl_xl_claimed(const char *name)
{
    char path[512];
    long pid = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", VMSGCTL_XL_CLAIM_DIR, name);
    if (!(f = fopen(path, "r")))
        return 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || (kill((pid_t)pid, 0) && errno == ESRCH))
        pid = 0;    /* a claim left by a create that died: no longer holds */
    fclose(f);
    return pid;
}
