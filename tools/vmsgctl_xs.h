/*
 * tools/vmsgctl_xs.h: xenstore helpers the toolstack subcommands share.
 *
 * Owns: domain names <-> ids (/local/domain/<id>/name), reading one node
 * by printf-style path, creating a directory chain level by level inside
 * a transaction, the list of bus instances found in the store (from the
 * backend directories B, plus frontend directories F whose B is missing),
 * the device numbers of a B, and the small argument parsers (decimals,
 * seconds) with messages that name what was wrong.
 *
 * The paths and permissions themselves are those of docs/protocol.md
 * section 2; lib/xen/xen_schema.h builds F and B.
 */
#ifndef VMSG_TOOLS_VMSGCTL_XS_H
#define VMSG_TOOLS_VMSGCTL_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen/platform.h"
#include "xen/xen_schema.h"

/*
 * DOMAIN as given on the command line: a domain id in decimal, or a name
 * matched against /local/domain/<id>/name. Returns 0 and *domid, -ENOENT
 * (no such domain; err says so), -EEXIST (the name is not unique), or
 * another -errno from xenstore.
 */
int vmsgctl_domain_resolve(struct vmsg_platform *p, const char *spec, uint32_t *domid,
                           char *err, size_t errlen);

/* "name(id)" or "id" when the domain has no name node, into buf. */
void vmsgctl_domain_label(struct vmsg_platform *p, uint32_t domid, char *buf, size_t len);

/* The domain's name, or "" (never NULL) into buf. */
void vmsgctl_domain_name(struct vmsg_platform *p, uint32_t domid, char *buf, size_t len);

/* Read one node (printf-style path) in tx: malloc()ed value or NULL. */
char *vmsgctl_xs_get(struct vmsg_platform *p, uint32_t tx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Create `base`/`rel` one level at a time: every new node is touched by the
 * transaction before it exists, as a create of a missing parent would not
 * be, and inherits its parent's permissions. 0 or -errno.
 */
int vmsgctl_xs_mkdirs(struct vmsg_platform *p, uint32_t tx, const char *base, const char *rel);

/* One bus instance found in xenstore. */
struct vmsgctl_bus {
    uint32_t fe;
    uint32_t be;                    /* VMSG_DOMID_INVALID: F without a B */
    unsigned n;
    bool has_f, has_b;
    char fdir[VMSG_XS_PATH_MAX];
    char bdir[VMSG_XS_PATH_MAX];
};

/*
 * Every bus instance in the store (all of them when fe is
 * VMSG_DOMID_INVALID, else those of frontend domain fe), sorted by
 * (fe, n, be). *out is malloc()ed (NULL when *count is 0). 0 or -errno
 * (-EACCES: this connection may not list /local/domain).
 */
int vmsgctl_bus_list(struct vmsg_platform *p, uint32_t fe, struct vmsgctl_bus **out,
                     unsigned *count);

/*
 * The device numbers under bdir/devices, ascending; names that are not a
 * device number are skipped (`vmsgctl check` reports them). *nums is
 * malloc()ed (NULL when *count is 0). 0 (also without devices/) or -errno.
 */
int vmsgctl_dev_nums(struct vmsg_platform *p, uint32_t tx, const char *bdir, uint16_t **nums,
                     unsigned *count);

/* A decimal argument in [min, max]; false with a message in err if not. */
bool vmsgctl_parse_num(const char *what, const char *s, uint32_t min, uint32_t max,
                       uint32_t *out, char *err, size_t errlen);

/* Seconds, decimal with an optional fraction, 0 < s <= 3600; as above. */
bool vmsgctl_parse_seconds(const char *what, const char *s, double *out, char *err,
                           size_t errlen);

#endif
