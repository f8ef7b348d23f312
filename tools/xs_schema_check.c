/*
 * tools/xs_schema_check.c: the live xenstore tree against the schema (see
 * xs_schema_check.h).
 */
#include "config.h"

#include "tools/xs_schema_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/xen_schema.h"

#define PATH_LEN 3200u     /* xenstore paths are at most 3072 bytes */
#define DEPTH_MAX 8u        /* the schema's deepest node is 4 below a directory */

/* One node of a directory instance, read once. */
struct node {
    char *rel;                      /* path below the directory; "" for itself */
    char *value;                    /* NULL when unreadable */
    char perms[128];                /* formatted, "" when unreadable */
    const struct xs_node_rule *rule;
    struct xs_bindings b;           /* the directory's bindings plus the rule's */
};

struct check {
    struct vmsg_platform *p;
    const struct xs_schema *s;
    xs_check_report_fn report;
    void *arg;
    struct xs_check_stats st;
    /* The directory instance being checked. */
    const struct xs_dir_rule *dir;
    char path[PATH_LEN];
    struct xs_bindings b;
    struct node *nodes;
    unsigned nnodes, cap;
};

static void violation(struct check *c, const char *path, const char *expected,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void violation(struct check *c, const char *path, const char *expected,
                      const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    c->st.violations++;
    c->report(c->arg, path, what, expected);
}

/* The absolute path of a node of the current instance. */
static void abs_path(const struct check *c, const char *rel, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s%s", c->path, rel[0] ? "/" : "", rel);

    if (n < 0 || (size_t)n >= len)
        snprintf(out, len, "%.64s/...", c->path);   /* longer than xenstore allows */
}

/* ---- reading an instance ------------------------------------------------------- */

static int add_node(struct check *c, const char *rel)
{
    struct vmsg_xs_perm *perms = NULL;
    char path[PATH_LEN];
    struct node *n;
    unsigned np = 0;
    int rc;

    if (c->nnodes == c->cap) {
        struct node *t = realloc(c->nodes, (c->cap = 2 * c->cap + 32) * sizeof(*t));
        if (!t)
            return -ENOMEM;
        c->nodes = t;
    }
    n = &c->nodes[c->nnodes];
    memset(n, 0, sizeof(*n));
    if (!(n->rel = strdup(rel)))
        return -ENOMEM;
    c->nnodes++;
    abs_path(c, rel, path, sizeof(path));
    if ((rc = vmsg_plat_xs_read(c->p, VMSG_XS_TX_NONE, path, &n->value, NULL)))
        violation(c, path, "a node this connection can read", "cannot be read: %s",
                  strerror(-rc));
    rc = vmsg_plat_xs_get_perms(c->p, VMSG_XS_TX_NONE, path, &perms, &np);
    if (rc == 0 && vmsg_xs_perms_format(perms, np, n->perms, sizeof(n->perms)))
        snprintf(n->perms, sizeof(n->perms), "(%u entries)", np);
    free(perms);
    return 0;
}

/* Read the instance and everything below it, depth first. */
static int collect(struct check *c, const char *rel, unsigned depth)
{
    char path[PATH_LEN], child[PATH_LEN];
    char **names = NULL;
    unsigned count = 0;
    int rc;

    if ((rc = add_node(c, rel)))
        return rc;
    abs_path(c, rel, path, sizeof(path));
    if (depth == DEPTH_MAX) {
        violation(c, path, "at most 8 levels below the bus directory",
                  "nodes nested too deep");
        return 0;
    }
    rc = vmsg_plat_xs_directory(c->p, VMSG_XS_TX_NONE, path, &names, &count);
    if (rc)
        return rc == -ENOMEM ? rc : 0;  /* unreadable: add_node reported it */
    for (unsigned i = 0; i < count && !rc; i++) {
        snprintf(child, sizeof(child), "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        rc = collect(c, child, depth + 1);
    }
    free(names);
    return rc;
}

static int cmp_rel(const void *a, const void *b)
{
    return strcmp(((const struct node *)a)->rel, ((const struct node *)b)->rel);
}

static struct node *find(struct check *c, const char *rel)
{
    struct node key = { .rel = (char *)rel };

    return bsearch(&key, c->nodes, c->nnodes, sizeof(key), cmp_rel);
}

/* A node's value parsed as any decimal; false if missing or malformed. */
static bool node_u32(struct check *c, const char *rel, uint32_t *v)
{
    struct node *n = find(c, rel);

    return n && n->value && !vmsg_xs_parse_u32(n->value, 0, UINT32_MAX, v);
}

static void free_nodes(struct check *c)
{
    for (unsigned i = 0; i < c->nnodes; i++) {
        free(c->nodes[i].rel);
        free(c->nodes[i].value);
    }
    c->nnodes = 0;
}

/* ---- the checks ---------------------------------------------------------------- */

static bool cond_holds(struct check *c, const struct xs_required *r, char *why, size_t len)
{
    size_t o = 0;

    for (unsigned i = 0; i < r->nconds; i++) {
        const struct xs_cond *t = &r->conds[i];
        uint32_t v;
        bool ok;

        if (!node_u32(c, t->node, &v))
            return false;
        switch (t->cmp) {
        case XS_CMP_EQ: ok = v == t->value; break;
        case XS_CMP_NE: ok = v != t->value; break;
        case XS_CMP_LT: ok = v < t->value; break;
        case XS_CMP_LE: ok = v <= t->value; break;
        case XS_CMP_GT: ok = v > t->value; break;
        case XS_CMP_GE: ok = v >= t->value; break;
        default: ok = false; break;
        }
        if (!ok)
            return false;
        if (o < len)
            o += (size_t)snprintf(why + o, len - o, "%s%s is %u", i ? ", " : "", t->node, v);
    }
    return true;
}

/* Match every node to its rule; report the ones the schema does not know. */
static void match_rules(struct check *c)
{
    const char *unknown = NULL;     /* the last unknown node: its children are not news */
    char path[PATH_LEN];

    for (unsigned i = 0; i < c->nnodes; i++) {
        struct node *n = &c->nodes[i];

        n->b = c->b;
        if (!n->rel[0])
            continue;
        for (unsigned r = 0; r < c->dir->nnodes && !n->rule; r++)
            if (xs_pattern_match(c->s, c->dir->nodes[r].path, n->rel, &n->b))
                n->rule = &c->dir->nodes[r];
        /* Sorted by path, so a node's children follow it. */
        if (!n->rule && unknown && !strncmp(n->rel, unknown, strlen(unknown)) &&
            n->rel[strlen(unknown)] == '/')
            continue;
        if (!n->rule) {
            unknown = n->rel;
            abs_path(c, n->rel, path, sizeof(path));
            violation(c, path, "only the nodes of docs/protocol.md section 2",
                      "not in the %s directory schema", c->dir->name);
        }
    }
}

/* Placeholders defined by node values (backend-id -> BE), before any use. */
static void bind_values(struct check *c)
{
    char expected[256];

    for (unsigned i = 0; i < c->nnodes; i++) {
        struct node *n = &c->nodes[i];

        if (n->rule && n->rule->binds && n->value &&
            !xs_value_check(c->s, &n->rule->value, NULL, n->value, expected, sizeof(expected)))
            xs_bind_set(&c->b, n->rule->binds, n->value);
    }
    for (unsigned i = 0; i < c->nnodes; i++)
        for (unsigned k = 0; k < c->b.n; k++)
            if (!xs_bind_get(&c->nodes[i].b, c->b.b[k].name))
                xs_bind_set(&c->nodes[i].b, c->b.b[k].name, c->b.b[k].value);
}

static bool same_perms(const char *got, const char *want)
{
    struct vmsg_xs_perm g[16], w[16];
    int ng = vmsg_xs_perms_parse(got, g, 16), nw = vmsg_xs_perms_parse(want, w, 16);

    if (ng < 1 || ng != nw || g[0].domid != w[0].domid || g[0].perms != w[0].perms)
        return false;
    /* After the owner, xenstore keeps entries in the order they were set. */
    for (int i = 1; i < nw; i++) {
        bool found = false;

        for (int k = 1; k < ng && !found; k++)
            found = g[k].domid == w[i].domid && g[k].perms == w[i].perms;
        if (!found)
            return false;
    }
    return true;
}

static void check_perms(struct check *c, const struct node *n)
{
    char want[128], expected[192], path[PATH_LEN];

    if (!n->perms[0] || xs_pattern_subst(c->dir->perms, &c->b, want, sizeof(want)))
        return;     /* unreadable (reported) or a peer id that is itself wrong */
    if (same_perms(n->perms, want))
        return;
    abs_path(c, n->rel, path, sizeof(path));
    snprintf(expected, sizeof(expected), "'%s' (owner first, docs/protocol.md 2.1)", want);
    violation(c, path, expected, "permissions are '%s'", n->perms);
}

/* The path of the peer directory of the current instance, or false. */
static bool peer_path(struct check *c, const char *peer, char *out, size_t len)
{
    const struct xs_dir_rule *d = xs_schema_dir(c->s, peer);

    return d && !xs_pattern_subst(d->path, &c->b, out, len);
}

/* A tighter maximum from another node ("backend:max-msg-size" or "node"). */
static void ctx_max(struct check *c, const struct xs_value *v, struct xs_value_ctx *ctx)
{
    const char *colon = strchr(v->max_node, ':');
    char dir[64], path[PATH_LEN], *val = NULL;

    if (!colon) {
        ctx->has_max = node_u32(c, v->max_node, &ctx->max);
        return;
    }
    snprintf(dir, sizeof(dir), "%.*s", (int)(colon - v->max_node), v->max_node);
    if (!peer_path(c, dir, path, sizeof(path)))
        return;
    snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", colon + 1);
    if (vmsg_plat_xs_read(c->p, VMSG_XS_TX_NONE, path, &val, NULL) == 0)
        ctx->has_max = !vmsg_xs_parse_u32(val, 0, UINT32_MAX, &ctx->max);
    free(val);
}

/* Fill what the value type leaves to context; false: cannot check now. */
static bool value_ctx(struct check *c, const struct node *n, struct xs_value_ctx *ctx)
{
    const struct xs_value *v = &n->rule->value;
    char rel[PATH_LEN];
    uint32_t x;

    if (v->max_node)
        ctx_max(c, v, ctx);
    if (v->count_node && node_u32(c, v->count_node, &x) && x) {
        ctx->has_count = true;
        ctx->count = (unsigned)((x + v->count_divisor - 1ull) / v->count_divisor);
    }
    if (v->type == XS_V_DEVICE_PARAM) {
        struct node *t;

        if (!v->device_type_node ||
            xs_pattern_subst(v->device_type_node, &n->b, rel, sizeof(rel)) ||
            !(t = find(c, rel)) || !t->value)
            return false;   /* no type node: reported as missing */
        ctx->dev_type = xs_schema_dev_type(c->s, t->value);
        ctx->key = strrchr(n->rel, '/') + 1;
    }
    return true;
}

/* A path node that names the peer: it must exist and name us back. */
static void check_refers_back(struct check *c, const struct node *n, const char *abspath)
{
    char path[PATH_LEN], *val = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", n->value, n->rule->value.refers_back);
    rc = vmsg_plat_xs_read(c->p, VMSG_XS_TX_NONE, path, &val, NULL);
    if (rc == -ENOENT || rc == -EACCES)
        violation(c, abspath, "a directory whose node names this one back",
                  "names '%s', which has no '%s' node", n->value,
                  n->rule->value.refers_back);
    else if (rc)
        violation(c, abspath, "a readable peer directory", "'%s' cannot be read: %s", path,
                  strerror(-rc));
    else if (strcmp(val, c->path))
        violation(c, abspath, c->path, "names '%s', whose '%s' is '%s'", n->value,
                  n->rule->value.refers_back, val);
    free(val);
}

static void check_value(struct check *c, const struct node *n)
{
    struct xs_value_ctx ctx = { 0 };
    char path[PATH_LEN], expected[384], want[PATH_LEN];
    int rc;

    if (!n->rule || !n->value || !value_ctx(c, n, &ctx))
        return;
    abs_path(c, n->rel, path, sizeof(path));
    rc = xs_value_check(c->s, &n->rule->value, &ctx, n->value, expected, sizeof(expected));
    if (rc == -ENOENT) {
        violation(c, path, expected, "unknown parameter '%s' for type %s", ctx.key,
                  ctx.dev_type ? ctx.dev_type->name : "(a bare virtio id)");
        return;
    }
    if (rc) {
        violation(c, path, expected, "value '%.200s' is not valid", n->value);
        return;
    }
    if (n->rule->value.equals &&
        !xs_pattern_subst(n->rule->value.equals, &n->b, want, sizeof(want)) &&
        strcmp(n->value, want)) {
        snprintf(expected, sizeof(expected), "'%.300s'", want);
        violation(c, path, expected, "value '%.200s' does not match", n->value);
        return;
    }
    if (n->rule->value.refers_back)
        check_refers_back(c, n, path);
}

/*
 * Required nodes: a rule whose path has placeholders is required once per
 * existing instance of its last placeholder (devices/<D>/type for every
 * devices/<D>); one without is required once per directory.
 */
static void check_required(struct check *c, const struct xs_node_rule *r)
{
    char prefix[PATH_LEN], rel[PATH_LEN], path[PATH_LEN], expected[256], cond[128] = "";
    const char *last = strrchr(r->path, '>');

    if (r->required.kind == XS_REQ_NEVER)
        return;
    if (r->required.kind == XS_REQ_WHEN && !cond_holds(c, &r->required, cond, sizeof(cond)))
        return;
    if (r->required.kind == XS_REQ_ALWAYS)
        snprintf(expected, sizeof(expected), "required");
    else
        snprintf(expected, sizeof(expected), "required when %s (%s)", r->required.text, cond);
    if (!last) {
        if (!find(c, r->path)) {
            abs_path(c, r->path, path, sizeof(path));
            violation(c, path, expected, "missing (written by %s)",
                      r->writer ? r->writer : "?");
        }
        return;
    }
    snprintf(prefix, sizeof(prefix), "%.*s", (int)(last - r->path + 1), r->path);
    for (unsigned i = 0; i < c->nnodes; i++) {
        struct xs_bindings b = c->b;

        if (!xs_pattern_match(c->s, prefix, c->nodes[i].rel, &b) ||
            xs_pattern_subst(r->path, &b, rel, sizeof(rel)) || find(c, rel))
            continue;
        abs_path(c, rel, path, sizeof(path));
        violation(c, path, expected, "missing (written by %s)", r->writer ? r->writer : "?");
    }
}

/* The parameters a device's type requires (blk: target). */
static void check_required_params(struct check *c, const struct node *n)
{
    const struct xs_dev_type *t;
    char rel[PATH_LEN], path[PATH_LEN], expected[128];

    if (!n->rule || n->rule->value.type != XS_V_DEVICE_TYPE || !n->value ||
        !(t = xs_schema_dev_type(c->s, n->value)))
        return;
    for (unsigned r = 0; r < c->dir->nnodes; r++) {
        const struct xs_node_rule *pr = &c->dir->nodes[r];

        if (pr->value.type != XS_V_DEVICE_PARAM || !pr->value.device_type_node ||
            strcmp(pr->value.device_type_node, n->rule->path))
            continue;
        for (unsigned k = 0; k < t->nparams; k++) {
            struct xs_bindings b = n->b;

            if (!t->params[k].required || xs_bind_set(&b, "key", t->params[k].key) ||
                xs_pattern_subst(pr->path, &b, rel, sizeof(rel)) || find(c, rel))
                continue;
            abs_path(c, rel, path, sizeof(path));
            snprintf(expected, sizeof(expected), "required for type %s", t->name);
            violation(c, path, expected, "missing (written by %s)",
                      pr->writer ? pr->writer : "?");
        }
    }
}

static int check_instance(struct check *c)
{
    int rc;

    c->st.dirs++;
    if ((rc = collect(c, "", 0)))
        goto out;
    qsort(c->nodes, c->nnodes, sizeof(*c->nodes), cmp_rel);
    c->st.nodes += c->nnodes;
    match_rules(c);
    bind_values(c);
    for (unsigned i = 0; i < c->nnodes; i++) {
        check_perms(c, &c->nodes[i]);
        check_value(c, &c->nodes[i]);
        check_required_params(c, &c->nodes[i]);
    }
    for (unsigned r = 0; r < c->dir->nnodes; r++)
        check_required(c, &c->dir->nodes[r]);
out:
    free_nodes(c);
    return rc;
}

/* ---- finding the instances ----------------------------------------------------- */

/*
 * Walk the directory pattern from `at` (an absolute path) with its
 * remaining components `rest`: literals are followed when present, each
 * placeholder is every child whose name it accepts.
 */
static int walk(struct check *c, const char *at, const char *rest, struct xs_bindings *b)
{
    char comp[64], next[PATH_LEN], expected[128];
    char **names = NULL;
    unsigned count = 0;
    size_t len;
    int rc;

    if (!*rest) {
        snprintf(c->path, sizeof(c->path), "%s", at);
        c->b = *b;
        return check_instance(c);
    }
    len = strcspn(rest, "/");
    if (len >= sizeof(comp))
        return -EINVAL;
    memcpy(comp, rest, len);
    comp[len] = '\0';
    rest += len + (rest[len] == '/');
    rc = vmsg_plat_xs_directory(c->p, VMSG_XS_TX_NONE, at, &names, &count);
    if (rc == -ENOENT)
        return 0;       /* nothing of this bus here */
    if (rc == -EACCES && strcmp(at, "/local/domain"))
        return 0;       /* only a privileged connection sees every domain */
    if (rc)
        return rc;
    for (unsigned i = 0; i < count && rc >= 0; i++) {
        struct xs_bindings nb = *b;

        snprintf(next, sizeof(next), "%s/%s", at, names[i]);
        if (comp[0] != '<') {
            if (!strcmp(names[i], comp))
                rc = walk(c, next, rest, &nb);
            continue;
        }
        if (xs_pattern_match(c->s, comp, names[i], &nb)) {
            rc = walk(c, next, rest, &nb);
            continue;
        }
        snprintf(expected, sizeof(expected), "a name that matches %s", comp);
        violation(c, next, expected, "unexpected node '%s'", names[i]);
    }
    free(names);
    return rc;
}

int xs_check_tree(struct vmsg_platform *p, const struct xs_schema *s,
                  xs_check_report_fn report, void *arg, struct xs_check_stats *st)
{
    struct check c = { .p = p, .s = s, .report = report, .arg = arg };
    int rc = 0;

    for (unsigned i = 0; i < s->ndirs && rc >= 0; i++) {
        const char *pat = s->dirs[i].path;
        const char *second = strchr(pat + 1, '<');
        char at[PATH_LEN];
        struct xs_bindings b = { 0 };

        /* Start at the literal prefix before the first placeholder (the
         * schema parser made sure there is one). */
        c.dir = &s->dirs[i];
        snprintf(at, sizeof(at), "%.*s", (int)(second - pat - 1), pat);
        rc = walk(&c, at, second, &b);
    }
    free(c.nodes);
    if (st)
        *st = c.st;
    return rc < 0 ? rc : (int)c.st.violations;
}
