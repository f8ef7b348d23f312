/*
 * lib/xen/xen_schema.h: the xenstore side of the Xen bus (docs/protocol.md
 * sections 2, 3, 6 and 7), read and written in this one module.
 *
 * Owns: the paths F and B, the strict decimal parser every value read from
 * the other side goes through, the backend's parameters, what the frontend
 * publishes, the one-time read of the frontend directory at connect into a
 * private struct, XenbusState reads and logged writes, the `error` node, and
 * the `devices/<D>/` nodes (type, params, state) the backend serves.
 *
 * It does not own any grant, port or state machine decision: the bus ends
 * (xen_bus_back.h, xen_bus_front.h) call it. Every function takes the
 * platform the caller uses for this bus instance and is not thread-safe.
 *
 * Return values: 0 on success or a negative errno. Values the peer wrote
 * that are not what protocol.md allows give -EINVAL (syntax) or -ERANGE
 * (a decimal outside its range), and the node and value are logged.
 */
#ifndef VMSG_XEN_SCHEMA_H
#define VMSG_XEN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen/platform.h"

/* XenbusState (xen/io/xenbus.h); only 1..6 are used by this bus. */
enum vmsg_xb_state {
    VMSG_XB_UNKNOWN = 0,
    VMSG_XB_INITIALISING = 1,
    VMSG_XB_INITWAIT = 2,
    VMSG_XB_INITIALISED = 3,
    VMSG_XB_CONNECTED = 4,
    VMSG_XB_CLOSING = 5,
    VMSG_XB_CLOSED = 6,
};

/* Largest XenbusState value a reader accepts (Reconfigured). */
#define VMSG_XB_STATE_MAX 8u

#define VMSG_XS_PATH_MAX 128u          /* every path this module builds fits */
#define VMSG_XEN_BUS_INDEX_MAX 255u
#define VMSG_XEN_DEV_NUM_MAX 65535u
#define VMSG_XEN_POOL_PAGES_LIMIT 1048576u
#define VMSG_XEN_REFS_PER_DIR_PAGE 1024u /* le32 grant refs per directory page */
#define VMSG_XEN_MAX_DIR_PAGES (VMSG_XEN_POOL_PAGES_LIMIT / VMSG_XEN_REFS_PER_DIR_PAGE)
#define VMSG_XEN_BUS_VERSION 1u
#define VMSG_XEN_DOMID_MAX 0x7fefu     /* DOMID_FIRST_RESERVED - 1 */

/* "Initialised" etc. for log lines; "Unknown(<n>)"-free: never NULL. */
const char *vmsg_xb_state_name(unsigned state);

/* ---- paths ---------------------------------------------------------------- */

/* F = /local/domain/<fe>/device/virtio-msg/<bus>. 0 or -EINVAL (bus > 255,
 * buffer shorter than VMSG_XS_PATH_MAX). */
int vmsg_xs_fe_dir(char *buf, size_t len, uint32_t fe_domid, unsigned bus);

/* B = /local/domain/<be>/backend/virtio-msg/<fe>/<bus>. 0 or -EINVAL. */
int vmsg_xs_be_dir(char *buf, size_t len, uint32_t be_domid, uint32_t fe_domid, unsigned bus);

/* ---- strict parsing (section 2.4) ----------------------------------------- */

/*
 * Parse one decimal: ASCII digits only, no sign, no leading zero (except
 * "0"), no white space, nothing after it, within [min, max].
 * Returns 0 and *out, -EINVAL for anything that is not such a decimal
 * (including the empty string and NULL), -ERANGE for a decimal outside
 * [min, max] (also for one that overflows 32 bits).
 */
int vmsg_xs_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/*
 * Parse exactly `count` decimals in [min, max], separated by exactly one
 * space, with no leading or trailing space. Returns 0 and out[0..count),
 * -EINVAL (syntax, too few or too many values), -ERANGE (a value out of range).
 */
int vmsg_xs_parse_u32_list(const char *s, uint32_t min, uint32_t max, uint32_t *out,
                           unsigned count);

/*
 * Whether a `versions` list (decimals >= 1 separated by one space) names
 * `version`. Returns 1 yes, 0 no, -EINVAL / -ERANGE for a malformed list.
 */
int vmsg_xs_versions_has(const char *s, uint32_t version);

/*
 * Read node `dir`/`node` and parse it with vmsg_xs_parse_u32(). A parse
 * failure is logged with the path and the value. Returns 0, -ENOENT when
 * the node is missing, -EINVAL/-ERANGE, or another -errno from xenstore.
 */
int vmsg_xs_read_u32(struct vmsg_platform *p, uint32_t tx, const char *dir, const char *node,
                     uint32_t min, uint32_t max, uint32_t *out);

/* ---- XenbusState ------------------------------------------------------------ */

/*
 * Read `dir`/state (0..VMSG_XB_STATE_MAX). Returns 0 and *state, -ENOENT if
 * the node (or the whole directory) is gone, -EACCES if it is not readable
 * (a directory that was removed together with its parent reads like that),
 * -EINVAL/-ERANGE if the value is malformed.
 */
int vmsg_xs_read_state(struct vmsg_platform *p, uint32_t tx, const char *dir, unsigned *state);

/*
 * Write `dir`/state = `to` and log "<who> <dir>: <from> -> <to>". `who` is
 * "backend" or "frontend" (the side that makes the transition). Returns 0
 * or -errno (-EACCES: not our directory).
 */
int vmsg_xs_write_state(struct vmsg_platform *p, uint32_t tx, const char *dir, const char *who,
                        unsigned from, unsigned to);

/*
 * Take every queued watch event of the platform handle without blocking:
 * the bus ends re-read the nodes they care about after any event, so the
 * events themselves carry no information. Returns how many were taken.
 */
unsigned vmsg_xs_watch_drain(struct vmsg_platform *p);

/* ---- toolstack nodes ---------------------------------------------------- */

/*
 * Backend: check B/frontend-id == fe_domid and B/frontend == the canonical
 * F path for (fe_domid, bus), and return F in fdir (VMSG_XS_PATH_MAX bytes).
 * Returns 0, -ENOENT (B missing or incomplete), -EINVAL (values disagree).
 */
int vmsg_xs_back_read_toolstack(struct vmsg_platform *p, const char *bdir, uint32_t fe_domid,
                                unsigned bus, char *fdir);

/*
 * Frontend: read F/backend-id and check F/backend is the canonical B path
 * for (backend-id, fe_domid, bus). Returns 0 with *be_domid and bdir
 * (VMSG_XS_PATH_MAX bytes), -ENOENT, -EINVAL.
 */
int vmsg_xs_front_read_toolstack(struct vmsg_platform *p, const char *fdir, uint32_t fe_domid,
                                 unsigned bus, uint32_t *be_domid, char *bdir);

/* B/online: 1 (or missing: toolstacks that do not write it) -> *online =
 * true, 0 -> false. Returns 0 or -EINVAL/-ERANGE/-errno. */
int vmsg_xs_read_online(struct vmsg_platform *p, const char *bdir, bool *online);

/* ---- bus parameters (sections 2.2, 2.3) ------------------------------------ */

/* What the backend offers in B. */
struct vmsg_xen_back_params {
    uint32_t max_msg_size;      /* 48..65535; 0 means 264 */
    uint32_t max_pool_pages;    /* 1..1048576; 0 means 16384 */
};

#define VMSG_XEN_DEFAULT_MAX_POOL_PAGES 16384u

/*
 * Fill the zeros of *params with the defaults and check the ranges.
 * Returns 0 or -EINVAL.
 */
int vmsg_xen_back_params_check(struct vmsg_xen_back_params *params);

/*
 * Backend: write max-msg-size, versions ("1"), features ("0") and
 * max-pool-pages, then state = InitWait, in one transaction so a frontend
 * never sees InitWait before the parameters. `from` is the state being left
 * (for the log line). Returns 0 or -errno.
 */
int vmsg_xs_back_publish(struct vmsg_platform *p, const char *bdir,
                         const struct vmsg_xen_back_params *params, unsigned from);

/* What the frontend learns from B, parsed strictly. */
struct vmsg_xs_back_info {
    uint32_t max_msg_size;
    uint32_t max_pool_pages;
    uint32_t features;
};

/*
 * Frontend: read B's parameters. Returns 0, -ENOENT (a node missing),
 * -EINVAL/-ERANGE (malformed, logged), -EPROTONOSUPPORT (`versions` lacks 1).
 */
int vmsg_xs_front_read_backend(struct vmsg_platform *p, const char *bdir,
                               struct vmsg_xs_back_info *out);

/* What the frontend publishes in F (and the backend reads back once). */
struct vmsg_xs_front_info {
    uint32_t ring_ref;
    uint32_t event_channel;
    uint32_t version;
    uint32_t max_msg_size;      /* frontend: 0 = do not publish; backend:
                                 * the effective maximum (section 2.4) */
    uint32_t pool_pages;
    unsigned ndir;              /* ceil(pool_pages / 1024) */
    uint32_t pool_dir_refs[VMSG_XEN_MAX_DIR_PAGES];
    bool channel_nodes_written; /* frontend: a libxenvchan server already
                                 * wrote ring-ref and event-channel */
};

/*
 * Frontend: write ring-ref and event-channel (unless channel_nodes_written),
 * version, max-msg-size (if not 0), pool-pages and pool-dir-ref, then
 * state = Initialised (from `from`), in one transaction. Returns 0 or
 * -errno (-EINVAL: ndir does not match pool_pages).
 */
int vmsg_xs_front_publish(struct vmsg_platform *p, const char *fdir,
                          const struct vmsg_xs_front_info *info, unsigned from);

/*
 * Backend: read F once (at F/state = 3), strictly, against what this
 * backend offered, into the private *out. On a protocol error `why` gets
 * the one line for B/error ("pool-pages: '0' is not a decimal in
 * 1..16384"). Returns 0, -ENOENT (a required node missing), -EINVAL,
 * -ERANGE, -EPROTONOSUPPORT (a version we do not speak), other -errno.
 */
int vmsg_xs_back_read_frontend(struct vmsg_platform *p, const char *fdir,
                               const struct vmsg_xen_back_params *offered,
                               struct vmsg_xs_front_info *out, char *why, size_t whylen);

/* Backend: write B/error (one line). 0 or -errno. */
int vmsg_xs_back_set_error(struct vmsg_platform *p, const char *bdir, const char *why);

/* Backend: remove B/error (after a successful connect). 0 or -errno. */
int vmsg_xs_back_clear_error(struct vmsg_platform *p, const char *bdir);

/* ---- devices (sections 6, 7) ------------------------------------------------ */

enum vmsg_xs_dev_type {
    VMSG_XS_DEV_RNG,
    VMSG_XS_DEV_CONSOLE,
    VMSG_XS_DEV_BLK,
    VMSG_XS_DEV_VIRTIO_ID,      /* a bare virtio device id; no keys defined */
};

#define VMSG_XS_DEV_MAX_PARAMS 16u

struct vmsg_xs_param {
    char *key;
    char *value;
};

/* One device's nodes, parsed and validated. Free with vmsg_xs_dev_free(). */
struct vmsg_xs_device {
    uint16_t num;
    enum vmsg_xs_dev_type type;
    uint32_t virtio_id;         /* 4 rng, 3 console, 2 blk, or the number */
    unsigned state;
    unsigned nparams;
    struct vmsg_xs_param params[VMSG_XS_DEV_MAX_PARAMS];
};

/*
 * List B/devices/ as device numbers, ascending. Names that are not a
 * decimal 0..65535 are logged and skipped (the toolstack wrote garbage).
 * *nums is malloc()ed (NULL when *count is 0). Returns 0 (also when
 * devices/ does not exist) or -errno.
 */
int vmsg_xs_dev_list(struct vmsg_platform *p, const char *bdir, uint16_t **nums,
                     unsigned *count);

/*
 * Read and validate devices/<num>/: type, every params/<key> against the
 * table of section 7 (unknown keys, bad values and a missing blk `target`
 * are errors), and state. On -EINVAL `why` says what is wrong (for the
 * device's `error` node). Returns 0, -ENOENT (no such device or no type),
 * -EINVAL, -ENOMEM, other -errno.
 */
int vmsg_xs_dev_read(struct vmsg_platform *p, const char *bdir, uint16_t num,
                     struct vmsg_xs_device *out, char *why, size_t whylen);

/* The value of `key` in a device read by vmsg_xs_dev_read(), or NULL. */
const char *vmsg_xs_dev_param(const struct vmsg_xs_device *dev, const char *key);

void vmsg_xs_dev_free(struct vmsg_xs_device *dev);

/* Write devices/<num>/state = to (logged with from). 0 or -errno. */
int vmsg_xs_dev_set_state(struct vmsg_platform *p, const char *bdir, uint16_t num,
                          unsigned from, unsigned to);

/* Refuse a device: write devices/<num>/error = why and state = Closed in
 * one transaction. 0 or -errno. */
int vmsg_xs_dev_set_error(struct vmsg_platform *p, const char *bdir, uint16_t num,
                          const char *why);

#endif
