/*
 * tools/vmsgctl_xl.h: what `vmsgctl create`, `apply` and `watch` share:
 * finding the xl config of a running domain, attaching every virtio_msg
 * entry of a config to a domain, and removing the bus instances that did.
 * xl-virtio-msg(5) describes the three ways.
 */
#ifndef VMSG_TOOLS_VMSGCTL_XL_H
#define VMSG_TOOLS_VMSGCTL_XL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/xlcfg.h"

struct vmsg_platform;

/* Where xl keeps domain configs (xl's XEN_CONFIG_DIR). */
#define VMSGCTL_XL_CONFIG_DIR "/etc/xen"

/*
 * While `vmsgctl create` makes domain NAME, the file CLAIM_DIR/NAME holds
 * its pid: `vmsgctl watch` leaves that domain to it (the watch sees the
 * domain appear before create has attached anything).
 */
#define VMSGCTL_XL_CLAIM_DIR "/run/vmsgctl/creating"

/* A bus instance an attach created (to remove it again). */
struct vmsgctl_xl_bus {
    uint32_t fe, be, bus;
};

/*
 * The xl config of running domain `domid` called `name`, parsed: the one
 * xl stored as the domain's userdata "xl" (`xl config-update` stores it;
 * xl 4.17's `xl create` does not), else DIR/NAME.cfg, else DIR/NAME, whose
 * `name` must be NAME. *source says which ("userdata xl" or the path).
 * 0; -ENOENT none of them exists (err says where it looked); -EINVAL a
 * config with a bad entry or another name (err says why); other -errno.
 */
int vmsgctl_xl_domain_config(const struct xs_schema *s, uint32_t domid, const char *name,
                             const char *dir, struct xlcfg *out, char *source,
                             size_t sourcelen, char *err, size_t errlen);

/* Print one line about an attached device (to a stream or syslog). */
typedef void vmsgctl_xl_note_fn(void *arg, const char *line);

/*
 * Attach every entry of c to domain fe (label names it in messages), in
 * order, each backend resolved first. Bus instances created are appended
 * to *made (realloc()ed, *nmade counts). On failure, stops: -errno with
 * "virtio_msg[I] \"TEXT\": why" in err; what the entries before wrote
 * stays, listed in *made.
 */
int vmsgctl_xl_attach_all(struct vmsg_platform *p, uint32_t fe, const char *label,
                          struct xlcfg *c, struct vmsgctl_xl_bus **made, unsigned *nmade,
                          vmsgctl_xl_note_fn *note, void *arg, char *err, size_t errlen);

/*
 * Remove bus instances made[0..n): each B and F, and B's parents
 * /local/domain/BE/backend/virtio-msg/FE and .../virtio-msg once empty. Missing nodes are
 * fine (vmsg-backend or libxl may have removed them). 0 or the first
 * -errno, with the path in err.
 */
int vmsgctl_xl_remove_buses(struct vmsg_platform *p, const struct vmsgctl_xl_bus *made,
                            unsigned n, char *err, size_t errlen);

/* Whether domain fe has a virtio-msg bus instance already. -errno on failure. */
int vmsgctl_xl_has_buses(struct vmsg_platform *p, uint32_t fe);

/* The pid of a live `vmsgctl create` claiming NAME, or 0. */
long vmsgctl_xl_claimed(const char *name);

#endif
