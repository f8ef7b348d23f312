/*
 * tools/xs_schema_check.h: validate a live xenstore tree against the schema
 * (xs_schema.h), for `vmsgctl check`.
 *
 * Owns: finding every instance of the schema's directories (walking the
 * path patterns through the store), reading each instance once, and
 * checking its nodes: unknown nodes, value formats and ranges (including
 * ranges that depend on the peer directory), nodes required in the current
 * state, the permission list of every node (owner, default and readers),
 * placeholders that must agree (frontend-id, the F <-> B paths, and that
 * each side's path node names the other back), and the parameters a device
 * type requires.
 *
 * It only reads. It needs a connection that may read both sides of every
 * bus instance: dom0, in practice.
 */
#ifndef VMSG_TOOLS_XS_SCHEMA_CHECK_H
#define VMSG_TOOLS_XS_SCHEMA_CHECK_H

#include "tools/xs_schema.h"
#include "xen/platform.h"

/*
 * Called once per violation: `path` the absolute node path, `what` what is
 * wrong ("value '0x10' is not valid", "missing"), `expected` what the schema
 * wants ("a decimal 48..264").
 */
typedef void (*xs_check_report_fn)(void *arg, const char *path, const char *what,
                                   const char *expected);

struct xs_check_stats {
    unsigned dirs;          /* directory instances checked */
    unsigned nodes;         /* nodes checked in them */
    unsigned violations;
};

/*
 * Check every instance of every directory of schema s in p's xenstore.
 * *st (which may be NULL) is filled in. Returns the number of violations
 * (>= 0), or a negative errno when xenstore could not be read at all
 * (for example -EACCES on /local/domain: not dom0); unreadable nodes
 * further down are reported as violations.
 */
int xs_check_tree(struct vmsg_platform *p, const struct xs_schema *s,
                  xs_check_report_fn report, void *arg, struct xs_check_stats *st);

#endif
