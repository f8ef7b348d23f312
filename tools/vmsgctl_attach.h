/*
 * tools/vmsgctl_attach.h: one attach request (a device for a domain) and
 * the two steps of `vmsgctl attach`, callable by the other subcommands
 * (create, apply, watch build their requests from xl config entries,
 * tools/xlcfg.h): validate against the xenstore schema, then write the
 * bus instance and device in one transaction (docs/protocol.md 2, 6, 7).
 */
#ifndef VMSG_TOOLS_VMSGCTL_ATTACH_H
#define VMSG_TOOLS_VMSGCTL_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/xs_schema.h"

struct vmsg_platform;

#define VMSGCTL_ATTACH_MAX_PARAMS 16u

struct vmsgctl_attach_req {
    const char *type;               /* rng, console, blk or a virtio id */
    unsigned nparams;               /* devices/<D>/params/<key> = value */
    const char *keys[VMSGCTL_ATTACH_MAX_PARAMS], *vals[VMSGCTL_ATTACH_MAX_PARAMS];
    bool bus_given, dev_given;
    uint32_t bus, dev;              /* in: when given; out: what was used */
    uint32_t fe, be;                /* resolved domain ids */
    const char *fe_spec;            /* the frontend as the user named it, for messages */
    bool bus_created;               /* out: the transaction created the bus instance */
};

/*
 * Type and parameters against the schema: an unknown type or key, a bad
 * value, a key given twice, a required key missing. True if fine; else
 * false with the reason in err and, in *bad_key (may be NULL), the key at
 * fault ("type" for the type, the parameter's key otherwise).
 */
bool vmsgctl_attach_validate(const struct xs_schema *s, const struct vmsgctl_attach_req *a,
                             const char **bad_key, char *err, size_t len);

/*
 * Write the request in one transaction: the bus instance when it does not
 * exist yet (F and B with their permissions), then devices/<D>. Sets
 * a->bus, a->dev and a->bus_created. 0, or -errno with the reason in err
 * (nothing written).
 */
int vmsgctl_attach_write(struct vmsg_platform *p, struct vmsgctl_attach_req *a, char *err,
                         size_t len);

#endif
