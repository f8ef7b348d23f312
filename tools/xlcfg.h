/*
 * tools/xlcfg.h: the virtio_msg entries of an xl domain config file
 * (xl-virtio-msg(5)), as attach requests (tools/vmsgctl_attach.h).
 *
 *   virtio_msg = [ "type=blk, target=/srv/guest.img, ro",
 *                  "type=console, output=pty", "type=rng" ]
 *
 * The file, its `name` and the list are read by Xen's own config parser,
 * libxlutil (xlu_cfg_*), so quoting, comments and continuation lines are
 * exactly xl's. One entry's "k=v, k=v, word" is split here, because
 * libxlutil does not export the splitter xl uses for its vif and channel
 * specs (xl_parse.c: split at ',' into items, an item at its first '='
 * into key and value, whitespace around both trimmed, empty items
 * skipped as strtok() does for vif). A value therefore cannot hold a ','.
 *
 * Every entry is checked completely before anything is attached: an
 * unknown key or word, a bad value, a missing blk target, a key given
 * twice is an error "virtio_msg[I] \"TEXT\": key K: WHY".
 */
#ifndef VMSG_TOOLS_XLCFG_H
#define VMSG_TOOLS_XLCFG_H

#include <stddef.h>

#include "tools/vmsgctl_attach.h"
#include "tools/xs_schema.h"

/* One entry: the request (fe/be are left for the caller to resolve). */
struct xlcfg_entry {
    int index;                      /* position in the list */
    char *text;                     /* the entry as written */
    char *buf;                      /* the split copy the request points into */
    const char *backend;            /* backend=DOMAIN, or NULL: this domain */
    struct vmsgctl_attach_req req;
};

struct xlcfg {
    char *name;                     /* the config's `name`, or NULL */
    unsigned count;
    struct xlcfg_entry *entries;
};

/*
 * Parse and validate one entry against the schema. 0, or -EINVAL with
 * the message above in err (and *e left empty). Free with
 * xlcfg_entry_free().
 */
int xlcfg_parse_entry(const struct xs_schema *s, int index, const char *text,
                      struct xlcfg_entry *e, char *err, size_t errlen);
void xlcfg_entry_free(struct xlcfg_entry *e);

/*
 * A whole config from memory (`source` names it in messages): its name
 * and every virtio_msg entry, all validated. A config without virtio_msg
 * has count 0. 0, or -EINVAL (syntax, a bad entry) / -ENOMEM with the
 * message in err; nothing to free then.
 */
int xlcfg_read_data(const struct xs_schema *s, const char *source, const char *data,
                    size_t len, struct xlcfg *out, char *err, size_t errlen);

/*
 * The config file `path` followed by `extra` (NULL, or "KEY=VALUE" lines
 * appended the way `xl create CFG KEY=VALUE...` appends them). As above;
 * -errno when the file cannot be read.
 */
int xlcfg_read_file(const struct xs_schema *s, const char *path, const char *extra,
                    struct xlcfg *out, char *err, size_t errlen);

void xlcfg_free(struct xlcfg *c);

#endif
