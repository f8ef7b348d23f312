/*
 * tools/xs_schema.c: loading the xenstore schema and checking values
 * against it (see xs_schema.h).
 */
#include "config.h"

#include "tools/xs_schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "xen/xen_schema.h"

/* ---- JSON access -------------------------------------------------------------- */

/* Where the parser is, for error messages, and the error itself. */
struct parse {
    char *err;
    size_t errlen;
};

static int bad(struct parse *ps, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct parse *ps, const char *where, const char *fmt, ...)
{
    char what[192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s: %s", where, what);
    return -EINVAL;
}

static yajl_val get(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };
    return YAJL_IS_OBJECT(obj) ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

/* An optional string member: 0 (NULL if absent) or -EINVAL if not a string. */
static int get_str(struct parse *ps, const char *where, yajl_val obj, const char *key,
                   const char **out)
{
    yajl_val v = get(obj, key);

    *out = NULL;
    if (!v)
        return 0;
    if (!YAJL_IS_STRING(v))
        return bad(ps, where, "'%s' must be a string", key);
    *out = YAJL_GET_STRING(v);
    return 0;
}

static int need_str(struct parse *ps, const char *where, yajl_val obj, const char *key,
                    const char **out)
{
    int rc = get_str(ps, where, obj, key, out);

    if (!rc && !*out)
        return bad(ps, where, "'%s' is missing", key);
    return rc;
}

/* An optional unsigned 32-bit member (default `dflt`). */
static int get_u32(struct parse *ps, const char *where, yajl_val obj, const char *key,
                   uint32_t dflt, uint32_t *out)
{
    yajl_val v = get(obj, key);

    *out = dflt;
    if (!v)
        return 0;
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > UINT32_MAX)
        return bad(ps, where, "'%s' must be an integer 0..4294967295", key);
    *out = (uint32_t)YAJL_GET_INTEGER(v);
    return 0;
}

/* ---- value types -------------------------------------------------------------- */

static const struct {
    const char *name;
    enum xs_vtype type;
} vtypes[] = {
    { "directory", XS_V_DIRECTORY },       { "decimal", XS_V_DECIMAL },
    { "decimal-list", XS_V_DECIMAL_LIST }, { "xenbus-state", XS_V_XENBUS_STATE },
    { "path", XS_V_PATH },                 { "enum", XS_V_ENUM },
    { "text", XS_V_TEXT },                 { "device-type", XS_V_DEVICE_TYPE },
    { "device-param", XS_V_DEVICE_PARAM },
};

static int parse_value(struct parse *ps, const char *where, yajl_val obj, struct xs_value *v)
{
    const char *type;
    yajl_val vals, cnt;
    bool known = false;
    int rc;

    if (!YAJL_IS_OBJECT(obj))
        return bad(ps, where, "must be an object");
    if ((rc = need_str(ps, where, obj, "type", &type)))
        return rc;
    for (size_t i = 0; i < sizeof(vtypes) / sizeof(vtypes[0]) && !known; i++)
        if ((known = !strcmp(type, vtypes[i].name)))
            v->type = vtypes[i].type;
    if (!known)
        return bad(ps, where, "unknown type '%s'", type);
    if ((rc = get_u32(ps, where, obj, "min", 0, &v->min)) ||
        (rc = get_u32(ps, where, obj, "max", UINT32_MAX, &v->max)) ||
        (rc = get_u32(ps, where, obj, "max_len", 4096, &v->max_len)) ||
        (rc = get_str(ps, where, obj, "max_node", &v->max_node)) ||
        (rc = get_str(ps, where, obj, "equals", &v->equals)) ||
        (rc = get_str(ps, where, obj, "refers_back", &v->refers_back)) ||
        (rc = get_str(ps, where, obj, "device_type_node", &v->device_type_node)))
        return rc;
    if (v->min > v->max)
        return bad(ps, where, "min %u > max %u", v->min, v->max);
    if ((cnt = get(obj, "count_ceil_div"))) {
        if ((rc = need_str(ps, where, cnt, "node", &v->count_node)) ||
            (rc = get_u32(ps, where, cnt, "divisor", 1, &v->count_divisor)))
            return rc;
        if (v->count_divisor == 0)
            return bad(ps, where, "count_ceil_div.divisor must not be 0");
    }
    if (v->type == XS_V_ENUM) {
        vals = get(obj, "values");
        if (!YAJL_IS_ARRAY(vals) || vals->u.array.len == 0)
            return bad(ps, where, "an enum needs a non-empty 'values' array");
        v->values = calloc(vals->u.array.len, sizeof(*v->values));
        if (!v->values)
            return -ENOMEM;
        for (size_t i = 0; i < vals->u.array.len; i++) {
            if (!YAJL_IS_STRING(vals->u.array.values[i]))
                return bad(ps, where, "values[%zu] must be a string", i);
            ((const char **)v->values)[i] = YAJL_GET_STRING(vals->u.array.values[i]);
        }
        v->nvalues = (unsigned)vals->u.array.len;
    }
    return 0;
}

/* ---- required-when ------------------------------------------------------------- */

static int parse_term(const char *t, size_t len, struct xs_cond *c)
{
    static const struct {
        const char *op;
        enum xs_cmp cmp;
    } ops[] = { { ">=", XS_CMP_GE }, { "<=", XS_CMP_LE }, { "==", XS_CMP_EQ },
                { "!=", XS_CMP_NE }, { ">", XS_CMP_GT },  { "<", XS_CMP_LT } };
    char buf[96];
    size_t n;

    while (len && *t == ' ')
        t++, len--;
    while (len && t[len - 1] == ' ')
        len--;
    if (len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, t, len);
    buf[len] = '\0';
    n = strcspn(buf, "<>=!");
    if (n == 0 || n >= sizeof(c->node) || buf[n] == '\0')
        return -EINVAL;
    memcpy(c->node, buf, n);
    c->node[n] = '\0';
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t ol = strlen(ops[i].op);

        if (!strncmp(buf + n, ops[i].op, ol)) {
            c->cmp = ops[i].cmp;
            return vmsg_xs_parse_u32(buf + n + ol, 0, UINT32_MAX, &c->value) ? -EINVAL : 0;
        }
    }
    return -EINVAL;
}

static int parse_required(struct parse *ps, const char *where, const char *text,
                          struct xs_required *r)
{
    r->text = text;
    if (!text || !strcmp(text, "never")) {
        r->kind = XS_REQ_NEVER;
        r->text = "never";
        return 0;
    }
    if (!strcmp(text, "always")) {
        r->kind = XS_REQ_ALWAYS;
        return 0;
    }
    r->kind = XS_REQ_WHEN;
    for (const char *t = text;;) {
        const char *and = strstr(t, "&&");
        size_t len = and ? (size_t)(and - t) : strlen(t);

        if (r->nconds == XS_COND_MAX || parse_term(t, len, &r->conds[r->nconds]))
            return bad(ps, where, "'required': cannot parse '%s' (want always, never or "
                       "NODE>=DECIMAL joined by &&, at most %u terms)", text, XS_COND_MAX);
        r->nconds++;
        if (!and)
            return 0;
        t = and + 2;
    }
}

/* ---- sections ---------------------------------------------------------------- */

static int parse_placeholders(struct parse *ps, yajl_val obj, struct xs_schema *s)
{
    if (!YAJL_IS_OBJECT(obj))
        return bad(ps, "placeholders", "must be an object");
    s->placeholders = calloc(obj->u.object.len ? obj->u.object.len : 1,
                             sizeof(*s->placeholders));
    if (!s->placeholders)
        return -ENOMEM;
    for (size_t i = 0; i < obj->u.object.len; i++) {
        struct xs_placeholder *ph = &s->placeholders[i];
        yajl_val v = obj->u.object.values[i];
        const char *type;
        char where[64];
        int rc;

        snprintf(where, sizeof(where), "placeholders.%.32s", obj->u.object.keys[i]);
        ph->name = obj->u.object.keys[i];
        if ((rc = need_str(ps, where, v, "type", &type)) ||
            (rc = get_u32(ps, where, v, "min", 0, &ph->min)) ||
            (rc = get_u32(ps, where, v, "max", UINT32_MAX, &ph->max)))
            return rc;
        if (!strcmp(type, "device-param"))
            ph->any_name = true;    /* the key's own rule decides */
        else if (strcmp(type, "decimal"))
            return bad(ps, where, "type must be decimal or device-param");
        s->nplaceholders++;
    }
    return 0;
}

static int parse_dir(struct parse *ps, const char *where0, yajl_val obj, struct xs_dir_rule *d)
{
    yajl_val nodes = get(obj, "nodes");
    char where[160];
    int rc;

    if ((rc = need_str(ps, where0, obj, "name", &d->name)) ||
        (rc = need_str(ps, where0, obj, "path", &d->path)) ||
        (rc = need_str(ps, where0, obj, "permissions", &d->perms)) ||
        (rc = get_str(ps, where0, obj, "peer", &d->peer)))
        return rc;
    if (d->path[0] != '/' || !strstr(d->path, "/<"))
        return bad(ps, where0, "path must be absolute and contain a placeholder");
    if (!YAJL_IS_ARRAY(nodes))
        return bad(ps, where0, "'nodes' must be an array");
    d->nodes = calloc(nodes->u.array.len ? nodes->u.array.len : 1, sizeof(*d->nodes));
    if (!d->nodes)
        return -ENOMEM;
    for (size_t i = 0; i < nodes->u.array.len; i++) {
        struct xs_node_rule *n = &d->nodes[i];
        yajl_val o = nodes->u.array.values[i];
        const char *req;

        snprintf(where, sizeof(where), "%s.nodes[%zu]", where0, i);
        d->nnodes++;
        if ((rc = need_str(ps, where, o, "path", &n->path)) ||
            (rc = get_str(ps, where, o, "writer", &n->writer)) ||
            (rc = get_str(ps, where, o, "binds", &n->binds)) ||
            (rc = get_str(ps, where, o, "required", &req)) ||
            (rc = parse_required(ps, where, req, &n->required)))
            return rc;
        snprintf(where, sizeof(where), "%s.nodes[%zu].value", where0, i);
        if ((rc = parse_value(ps, where, get(o, "value"), &n->value)))
            return rc;
    }
    return 0;
}

static int parse_types(struct parse *ps, yajl_val obj, struct xs_schema *s)
{
    char where[96];
    int rc;

    if (!YAJL_IS_OBJECT(obj))
        return bad(ps, "device_types", "must be an object");
    s->types = calloc(obj->u.object.len ? obj->u.object.len : 1, sizeof(*s->types));
    if (!s->types)
        return -ENOMEM;
    for (size_t i = 0; i < obj->u.object.len; i++) {
        struct xs_dev_type *t = &s->types[i];
        yajl_val params = get(obj->u.object.values[i], "params");

        snprintf(where, sizeof(where), "device_types.%.32s", obj->u.object.keys[i]);
        t->name = obj->u.object.keys[i];
        s->ntypes++;
        if ((rc = get_u32(ps, where, obj->u.object.values[i], "virtio_id", 0, &t->virtio_id)))
            return rc;
        if (!YAJL_IS_OBJECT(params))
            return bad(ps, where, "'params' must be an object");
        t->params = calloc(params->u.object.len ? params->u.object.len : 1, sizeof(*t->params));
        if (!t->params)
            return -ENOMEM;
        for (size_t k = 0; k < params->u.object.len; k++) {
            struct xs_param_rule *pr = &t->params[k];
            yajl_val pv = params->u.object.values[k];
            yajl_val req = get(pv, "required");

            snprintf(where, sizeof(where), "device_types.%.32s.params.%.32s",
                     obj->u.object.keys[i], params->u.object.keys[k]);
            pr->key = params->u.object.keys[k];
            t->nparams++;
            if (req && !YAJL_IS_TRUE(req) && !YAJL_IS_FALSE(req))
                return bad(ps, where, "'required' must be true or false");
            pr->required = req && YAJL_IS_TRUE(req);
            if ((rc = parse_value(ps, where, get(pv, "value"), &pr->value)))
                return rc;
        }
    }
    return 0;
}

int xs_schema_parse(const char *json, struct xs_schema **out, char *err, size_t errlen)
{
    struct parse ps = { err, errlen };
    struct xs_schema *s = calloc(1, sizeof(*s));
    yajl_val root, dirs;
    char ebuf[256] = "";
    uint32_t version;
    int rc;

    if (!s)
        return -ENOMEM;
    root = yajl_tree_parse(json, ebuf, sizeof(ebuf));
    if (!root) {
        rc = bad(&ps, "JSON", "%s", ebuf[0] ? strtok(ebuf, "\n") : "cannot parse");
        goto fail;
    }
    s->tree = root;
    if ((rc = need_str(&ps, "schema", root, "schema", &s->name)) ||
        (rc = get_u32(&ps, "schema", root, "version", 0, &version)))
        goto fail;
    s->version = version;
    if ((rc = parse_placeholders(&ps, get(root, "placeholders"), s)))
        goto fail;
    dirs = get(root, "directories");
    if (!YAJL_IS_ARRAY(dirs) || dirs->u.array.len == 0) {
        rc = bad(&ps, "directories", "must be a non-empty array");
        goto fail;
    }
    s->dirs = calloc(dirs->u.array.len, sizeof(*s->dirs));
    if (!s->dirs) {
        rc = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < dirs->u.array.len; i++) {
        char where[48];

        snprintf(where, sizeof(where), "directories[%zu]", i);
        s->ndirs++;
        if ((rc = parse_dir(&ps, where, dirs->u.array.values[i], &s->dirs[i])))
            goto fail;
    }
    if ((rc = parse_types(&ps, get(root, "device_types"), s)))
        goto fail;
    if ((rc = parse_value(&ps, "device_type_ids", get(root, "device_type_ids"), &s->type_ids)))
        goto fail;
    *out = s;
    return 0;
fail:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    xs_schema_free(s);
    return rc;
}

int xs_schema_load_file(const char *file, struct xs_schema **out, char *err, size_t errlen)
{
    FILE *f = fopen(file, "r");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return rc;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *t = realloc(text, cap = 2 * cap + 8192);
            if (!t) {
                rc = -ENOMEM;
                snprintf(err, errlen, "%s: out of memory", file);
                goto out;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, 4096, f);
        len += n;
        if (n < 4096)
            break;
    }
    if (ferror(f)) {
        rc = -EIO;
        snprintf(err, errlen, "%s: read error", file);
        goto out;
    }
    text[len] = '\0';
    rc = xs_schema_parse(text, out, err, errlen);
out:
    free(text);
    fclose(f);
    return rc;
}

void xs_schema_free(struct xs_schema *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->ndirs; i++) {
        for (unsigned k = 0; k < s->dirs[i].nnodes; k++)
            free((void *)s->dirs[i].nodes[k].value.values);
        free(s->dirs[i].nodes);
    }
    for (unsigned i = 0; i < s->ntypes; i++) {
        for (unsigned k = 0; k < s->types[i].nparams; k++)
            free((void *)s->types[i].params[k].value.values);
        free(s->types[i].params);
    }
    free((void *)s->type_ids.values);
    free(s->dirs);
    free(s->types);
    free(s->placeholders);
    yajl_tree_free(s->tree);
    free(s);
}

const struct xs_dir_rule *xs_schema_dir(const struct xs_schema *s, const char *name)
{
    for (unsigned i = 0; name && i < s->ndirs; i++)
        if (!strcmp(s->dirs[i].name, name))
            return &s->dirs[i];
    return NULL;
}

const struct xs_dev_type *xs_schema_dev_type(const struct xs_schema *s, const char *name)
{
    for (unsigned i = 0; i < s->ntypes; i++)
        if (!strcmp(s->types[i].name, name))
            return &s->types[i];
    return NULL;
}

const struct xs_param_rule *xs_dev_type_param(const struct xs_dev_type *t, const char *key)
{
    for (unsigned i = 0; t && i < t->nparams; i++)
        if (!strcmp(t->params[i].key, key))
            return &t->params[i];
    return NULL;
}

/* ---- patterns ---------------------------------------------------------------- */

const char *xs_bind_get(const struct xs_bindings *b, const char *name)
{
    for (unsigned i = 0; i < b->n; i++)
        if (!strcmp(b->b[i].name, name))
            return b->b[i].value;
    return NULL;
}

int xs_bind_set(struct xs_bindings *b, const char *name, const char *value)
{
    unsigned i;

    if (strlen(name) >= sizeof(b->b[0].name) || strlen(value) >= sizeof(b->b[0].value))
        return -ENOSPC;
    for (i = 0; i < b->n && strcmp(b->b[i].name, name); i++)
        ;
    if (i == XS_BIND_MAX)
        return -ENOSPC;
    snprintf(b->b[i].name, sizeof(b->b[i].name), "%s", name);
    snprintf(b->b[i].value, sizeof(b->b[i].value), "%s", value);
    if (i == b->n)
        b->n++;
    return 0;
}

static const struct xs_placeholder *placeholder(const struct xs_schema *s, const char *comp,
                                                size_t len)
{
    if (len < 3 || comp[0] != '<' || comp[len - 1] != '>')
        return NULL;
    for (unsigned i = 0; i < s->nplaceholders; i++)
        if (strlen(s->placeholders[i].name) == len - 2 &&
            !strncmp(s->placeholders[i].name, comp + 1, len - 2))
            return &s->placeholders[i];
    return NULL;
}

/* Component matching with explicit lengths (neither side is NUL-terminated). */
static int comp_match(const struct xs_schema *s, const char *pc, size_t pl, const char *name,
                      size_t nl, struct xs_bindings *b)
{
    const struct xs_placeholder *ph = placeholder(s, pc, pl);
    char val[64];
    uint32_t n;

    if (!ph)
        return pl == nl && !strncmp(pc, name, nl);
    if (nl == 0 || nl >= sizeof(val))
        return 0;
    memcpy(val, name, nl);
    val[nl] = '\0';
    if (!ph->any_name && vmsg_xs_parse_u32(val, ph->min, ph->max, &n))
        return 0;
    return b ? xs_bind_set(b, ph->name, val) == 0 : 1;
}

int xs_component_match(const struct xs_schema *s, const char *pattern_component,
                       const char *name)
{
    return comp_match(s, pattern_component, strlen(pattern_component), name, strlen(name),
                      NULL);
}

int xs_pattern_match(const struct xs_schema *s, const char *pattern, const char *path,
                     struct xs_bindings *b)
{
    const char *p = pattern, *q = path;

    if ((*p == '/') != (*q == '/'))
        return 0;
    for (;;) {
        size_t pl, ql;

        p += *p == '/';
        q += *q == '/';
        pl = strcspn(p, "/");
        ql = strcspn(q, "/");
        if (!comp_match(s, p, pl, q, ql, b))
            return 0;
        p += pl;
        q += ql;
        if (!*p || !*q)
            return !*p && !*q;
    }
}

int xs_pattern_subst(const char *pattern, const struct xs_bindings *b, char *out, size_t len)
{
    size_t o = 0;

    for (const char *p = pattern; *p;) {
        const char *val = NULL, *close;
        size_t vl;

        if (*p == '<' && (close = strchr(p, '>'))) {
            char name[16];

            if ((size_t)(close - p - 1) >= sizeof(name))
                return -ENOENT;
            memcpy(name, p + 1, (size_t)(close - p - 1));
            name[close - p - 1] = '\0';
            if (!(val = xs_bind_get(b, name)))
                return -ENOENT;
            vl = strlen(val);
            p = close + 1;
        } else {
            val = p++;
            vl = 1;
        }
        if (o + vl >= len)
            return -ENOSPC;
        memcpy(out + o, val, vl);
        o += vl;
    }
    if (o >= len)
        return -ENOSPC;
    out[o] = '\0';
    return 0;
}

/* ---- values ------------------------------------------------------------------ */

static uint32_t eff_max(const struct xs_value *v, const struct xs_value_ctx *ctx)
{
    return ctx && ctx->has_max && ctx->max < v->max ? ctx->max : v->max;
}

/* "file:<path>": the literal prefix before "<path>", or NULL for a plain literal. */
static size_t path_prefix_len(const char *entry)
{
    const char *ph = strstr(entry, "<path>");

    return ph && ph[6] == '\0' ? (size_t)(ph - entry) : (size_t)-1;
}

void xs_value_describe(const struct xs_schema *s, const struct xs_value *v,
                       const struct xs_value_ctx *ctx, char *buf, size_t len)
{
    size_t o;

    switch (v->type) {
    case XS_V_DIRECTORY:
        snprintf(buf, len, "a directory");
        break;
    case XS_V_DECIMAL:
        snprintf(buf, len, "a decimal %u..%u", v->min, eff_max(v, ctx));
        break;
    case XS_V_DECIMAL_LIST:
        if (ctx && ctx->has_count)
            snprintf(buf, len, "%u decimal%s %u..%u separated by one space", ctx->count,
                     ctx->count == 1 ? "" : "s", v->min, eff_max(v, ctx));
        else
            snprintf(buf, len, "decimals %u..%u separated by one space", v->min,
                     eff_max(v, ctx));
        break;
    case XS_V_XENBUS_STATE:
        snprintf(buf, len, "a XenbusState 1..6 (Initialising..Closed)");
        break;
    case XS_V_PATH:
        snprintf(buf, len, "an absolute path");
        break;
    case XS_V_TEXT:
        snprintf(buf, len, "one line of at most %u bytes", v->max_len);
        break;
    case XS_V_ENUM:
    case XS_V_DEVICE_TYPE:
        o = (size_t)snprintf(buf, len, "one of ");
        if (v->type == XS_V_ENUM)
            for (unsigned i = 0; i < v->nvalues && o < len; i++)
                o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", v->values[i]);
        else
            for (unsigned i = 0; i < s->ntypes && o < len; i++)
                o += (size_t)snprintf(buf + o, len - o, "%s, ", s->types[i].name);
        if (v->type == XS_V_DEVICE_TYPE && o < len)
            snprintf(buf + o, len - o, "or a virtio device id %u..%u", s->type_ids.min,
                     s->type_ids.max);
        break;
    case XS_V_DEVICE_PARAM:
        o = (size_t)snprintf(buf, len, "a key of type %s: ",
                             ctx && ctx->dev_type ? ctx->dev_type->name : "(unknown)");
        if (!ctx || !ctx->dev_type || ctx->dev_type->nparams == 0) {
            if (o < len)
                snprintf(buf + o, len - o, "none defined");
            break;
        }
        for (unsigned i = 0; i < ctx->dev_type->nparams && o < len; i++)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
                                  ctx->dev_type->params[i].key);
        break;
    }
}

static bool one_line(const char *value)
{
    return !strpbrk(value, "\n\r");
}

int xs_value_check(const struct xs_schema *s, const struct xs_value *v,
                   const struct xs_value_ctx *ctx, const char *value, char *expected,
                   size_t explen)
{
    const struct xs_param_rule *pr;
    struct xs_value_ctx sub = { 0 };
    bool ok = false;
    uint32_t n, list[64];
    unsigned count;

    switch (v->type) {
    case XS_V_DIRECTORY:
        ok = true;      /* a directory's own value is not part of the protocol */
        break;
    case XS_V_DECIMAL:
        ok = !vmsg_xs_parse_u32(value, v->min, eff_max(v, ctx), &n);
        break;
    case XS_V_DECIMAL_LIST:
        /* Count the values first: the strict list parser wants the count. */
        count = 1;
        for (const char *c = value; *c; c++)
            count += *c == ' ';
        ok = count <= sizeof(list) / sizeof(list[0]) && (!ctx || !ctx->has_count ||
                                                          ctx->count == count) &&
             !vmsg_xs_parse_u32_list(value, v->min, eff_max(v, ctx), list, count);
        break;
    case XS_V_XENBUS_STATE:
        ok = !vmsg_xs_parse_u32(value, VMSG_XB_INITIALISING, VMSG_XB_CLOSED, &n);
        break;
    case XS_V_PATH:
        ok = value[0] == '/' && one_line(value);
        break;
    case XS_V_TEXT:
        ok = strlen(value) <= v->max_len && one_line(value);
        break;
    case XS_V_ENUM:
        for (unsigned i = 0; i < v->nvalues && !ok; i++) {
            size_t pl = path_prefix_len(v->values[i]);

            if (pl == (size_t)-1)
                ok = !strcmp(value, v->values[i]);
            else
                ok = !strncmp(value, v->values[i], pl) && value[pl] == '/' &&
                     one_line(value);
        }
        break;
    case XS_V_DEVICE_TYPE:
        ok = xs_schema_dev_type(s, value) ||
             !vmsg_xs_parse_u32(value, s->type_ids.min, s->type_ids.max, &n);
        break;
    case XS_V_DEVICE_PARAM:
        if (!ctx || !ctx->key || !(pr = xs_dev_type_param(ctx->dev_type, ctx->key))) {
            xs_value_describe(s, v, ctx, expected, explen);
            return -ENOENT;
        }
        return xs_value_check(s, &pr->value, &sub, value, expected, explen);
    }
    if (ok)
        return 0;
    xs_value_describe(s, v, ctx, expected, explen);
    return -EINVAL;
}
