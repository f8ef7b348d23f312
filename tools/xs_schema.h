/*
 * tools/xs_schema.h: the machine-readable xenstore schema of the Xen bus
 * (xenstore-schema/virtio-msg-v1.json, described in xenstore-schema/README.md).
 *
 * Owns: loading the JSON (yajl's tree API) into the rule structs below, the
 * path patterns with placeholders (<FE>, <BE>, <N>, <D>, <key>): matching a
 * concrete path against one and substituting bindings into one, and the
 * check of one value against a value type. It reads no xenstore: the live
 * tree checker (xs_schema_check.h) and `vmsgctl attach` (parameter
 * validation) both use it, so the toolstack validates with one set of rules.
 *
 * Strings in the structs point into the parsed JSON tree that the schema
 * keeps until xs_schema_free().
 */
#ifndef VMSG_TOOLS_XS_SCHEMA_H
#define VMSG_TOOLS_XS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The schema compiled into vmsgctl (generated from the JSON at build time). */
extern const char xs_schema_builtin_json[];

enum xs_vtype {
    XS_V_DIRECTORY,     /* a node that only holds children */
    XS_V_DECIMAL,       /* docs/protocol.md "decimal", in [min, max] */
    XS_V_DECIMAL_LIST,  /* decimals separated by one space */
    XS_V_XENBUS_STATE,  /* a XenbusState the bus uses, 1..6 */
    XS_V_PATH,          /* an absolute xenstore or file path */
    XS_V_ENUM,          /* one of values[]; "file:<path>" = that prefix + a path */
    XS_V_TEXT,          /* one line of at most max_len bytes */
    XS_V_DEVICE_TYPE,   /* a device_types name or a bare virtio id */
    XS_V_DEVICE_PARAM,  /* a key of the device's type, with that key's value type */
};

/* A value type, as in the JSON "value" objects. */
struct xs_value {
    enum xs_vtype type;
    uint32_t min, max;              /* decimal, decimal-list */
    const char *max_node;           /* "peer:node" or "node": a tighter max, if valid */
    const char *equals;             /* decimal, path: pattern the value must equal */
    const char *refers_back;        /* path: the target's node that must name us */
    const char *count_node;         /* decimal-list: count = ceil(node / divisor) */
    uint32_t count_divisor;
    const char *const *values;      /* enum */
    unsigned nvalues;
    uint32_t max_len;               /* text */
    const char *device_type_node;   /* device-param: where the device's type is */
};

enum xs_cmp { XS_CMP_EQ, XS_CMP_NE, XS_CMP_LT, XS_CMP_LE, XS_CMP_GT, XS_CMP_GE };

#define XS_COND_MAX 4u

/* "state>=3 && state<=4": every term must hold; a missing or non-decimal
 * node makes the term false. */
struct xs_cond {
    char node[64];
    enum xs_cmp cmp;
    uint32_t value;
};

enum xs_req_kind { XS_REQ_NEVER, XS_REQ_ALWAYS, XS_REQ_WHEN };

struct xs_required {
    enum xs_req_kind kind;
    unsigned nconds;
    struct xs_cond conds[XS_COND_MAX];
    const char *text;               /* as written in the schema, for messages */
};

/* One node of a directory; path is relative to the directory. */
struct xs_node_rule {
    const char *path;
    const char *writer;
    const char *binds;              /* placeholder name this node's value defines */
    struct xs_required required;
    struct xs_value value;
};

/* A bus directory (F or B): its path pattern, permissions and nodes. */
struct xs_dir_rule {
    const char *name;               /* "frontend", "backend" */
    const char *path;
    const char *perms;              /* "n<FE> r<BE>" */
    const char *peer;               /* name of the other directory */
    struct xs_node_rule *nodes;
    unsigned nnodes;
};

struct xs_param_rule {
    const char *key;
    bool required;
    struct xs_value value;
};

struct xs_dev_type {
    const char *name;
    uint32_t virtio_id;
    struct xs_param_rule *params;
    unsigned nparams;
};

struct xs_placeholder {
    const char *name;               /* without the angle brackets */
    bool any_name;                  /* "key": any node name matches */
    uint32_t min, max;
};

struct xs_schema {
    void *tree;                     /* the yajl tree the strings live in */
    const char *name;
    unsigned version;
    struct xs_placeholder *placeholders;
    unsigned nplaceholders;
    struct xs_dir_rule *dirs;
    unsigned ndirs;
    struct xs_dev_type *types;
    unsigned ntypes;
    struct xs_value type_ids;       /* the range of a bare virtio id */
};

/*
 * Parse a schema from JSON text. On failure `err` says where ("directories[1]
 * .nodes[3].value.type: unknown type 'decmial'"). Returns 0 and *out (free
 * with xs_schema_free()), -EINVAL for a malformed schema, -ENOMEM.
 */
int xs_schema_parse(const char *json, struct xs_schema **out, char *err, size_t errlen);

/* Read and parse a schema file. 0, -errno from open/read, or as parse. */
int xs_schema_load_file(const char *file, struct xs_schema **out, char *err, size_t errlen);

void xs_schema_free(struct xs_schema *s);

/* The directory rule called `name`, or NULL. */
const struct xs_dir_rule *xs_schema_dir(const struct xs_schema *s, const char *name);

/* The device type called `name`, or NULL. */
const struct xs_dev_type *xs_schema_dev_type(const struct xs_schema *s, const char *name);

/* The rule of `key` in device type t, or NULL (an unknown key). */
const struct xs_param_rule *xs_dev_type_param(const struct xs_dev_type *t, const char *key);

/* ---- patterns ---------------------------------------------------------------- */

#define XS_BIND_MAX 8u

/* Placeholder values found so far: name (no brackets) -> value. */
struct xs_bindings {
    unsigned n;
    struct {
        char name[16];
        char value[64];
    } b[XS_BIND_MAX];
};

/* The value bound to `name`, or NULL. */
const char *xs_bind_get(const struct xs_bindings *b, const char *name);

/* Bind name = value (replaces an earlier value). 0 or -ENOSPC. */
int xs_bind_set(struct xs_bindings *b, const char *name, const char *value);

/*
 * Whether one path component `name` matches placeholder `ph` ("<N>") or
 * literal. Returns 1 match, 0 no match.
 */
int xs_component_match(const struct xs_schema *s, const char *pattern_component,
                       const char *name);

/*
 * Match a relative or absolute `path` against `pattern` component by
 * component, adding the placeholder values to *b (when b is not NULL).
 * Returns 1 match, 0 no match.
 */
int xs_pattern_match(const struct xs_schema *s, const char *pattern, const char *path,
                     struct xs_bindings *b);

/*
 * Write `pattern` with every <X> replaced by its binding into out.
 * Returns 0, -ENOENT (a placeholder is unbound), -ENOSPC.
 */
int xs_pattern_subst(const char *pattern, const struct xs_bindings *b, char *out, size_t len);

/* ---- values ------------------------------------------------------------------ */

/*
 * Where a value check gets what the value type leaves to context. Fields
 * that do not apply are ignored.
 */
struct xs_value_ctx {
    bool has_max;                   /* max_node was readable: tighter maximum */
    uint32_t max;
    bool has_count;                 /* count_node was readable: exact count */
    unsigned count;
    const struct xs_dev_type *dev_type; /* device-param: the device's type */
    const char *key;                /* device-param: the key */
};

/*
 * Check `value` against value type v. On a mismatch `expected` describes
 * what was wanted ("a decimal 48..264", "one of pty, file:<path>, ...").
 * Returns 0 valid, -EINVAL invalid, -ENOENT (device-param only) the key is
 * unknown for the device's type.
 */
int xs_value_check(const struct xs_schema *s, const struct xs_value *v,
                   const struct xs_value_ctx *ctx, const char *value, char *expected,
                   size_t explen);

/* Describe value type v (as for `expected` above) into buf. */
void xs_value_describe(const struct xs_schema *s, const struct xs_value *v,
                       const struct xs_value_ctx *ctx, char *buf, size_t len);

#endif
