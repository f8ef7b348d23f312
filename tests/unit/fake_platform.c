/*
 * tests/unit/fake_platform.c: the in-process fake of lib/xen/platform.
 * Semantics are documented in fake_platform.h; each rule below says which
 * Xen behaviour it copies.
 */
#include "config.h"

#include "fake_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FX_MAX_DOMS 64
#define FX_MAX_PORTS 128
#define FX_MAX_GREFS 256
#define FX_RING 256
#define PAGE VMSG_XEN_PAGE_SIZE
#define PERM_OWNER 0x8u

/* ---- data ---------------------------------------------------------------- */

struct xs_node {
    char *name;
    char *value;
    size_t len;
    struct vmsg_xs_perm *perms;
    unsigned nperms;
    unsigned long long gen;
    struct xs_node *parent, *child, *next;
};

struct fx_handle;

struct fx_port {
    bool used, interdomain, masked, pending;
    uint32_t remote_dom, remote_port;
    struct fx_handle *h;          /* the process that bound it */
};

struct fx_grant {
    bool used, ended, writable;
    uint32_t to_dom;
    int memfd;                    /* shared by the pages of one share */
    off_t off;
    unsigned maps;
};

struct fx_dom {
    bool exists, dead;
    struct fx_port ports[FX_MAX_PORTS];
    struct fx_grant grants[FX_MAX_GREFS];
};

struct fx_area {                  /* a share (gntshr) or a mapping (gnttab) */
    struct fx_area *next;
    char *addr;
    unsigned count;
    uint32_t peer;
    uint32_t *refs;
    long noff, nport;
    int memfd;                    /* shares only */
};

struct fx_watch {
    struct fx_watch *next;
    char *path, *abs, *token;
};

struct fx_event {
    struct fx_event *next;
    char *path, *token;
};

struct fx_touch {
    struct fx_touch *next;
    char *path;
    bool existed;
    unsigned long long gen;
};

struct fx_tx {
    struct fx_tx *next;
    uint32_t id;
    struct xs_node *root;         /* private snapshot the transaction works on */
    struct fx_touch *touched;
};

struct fx_handle {
    struct vmsg_platform plat;    /* first: plat.ctx points back here */
    struct fx_handle *next;
    struct fake_xen *fx;
    uint32_t domid;
    int evpipe[2], wpipe[2];
    uint32_t ring[FX_RING];
    unsigned ring_head, ring_len;
    struct fx_event *events, **events_tail;
    struct fx_watch *watches;
    struct fx_area *shares, *maps;
    struct fx_tx *txs;
};

struct fake_xen {
    struct fx_dom doms[FX_MAX_DOMS];
    struct xs_node *root;
    unsigned long long gen;
    uint32_t next_tx;
    struct fx_handle *handles;
};

static struct fx_handle *H(struct vmsg_platform *p)
{
    return p->ctx;
}

/* ---- xenstore tree ------------------------------------------------------- */

static struct xs_node *node_new(struct xs_node *parent, const char *name,
                                const struct vmsg_xs_perm *perms, unsigned nperms)
{
    struct xs_node *n = calloc(1, sizeof(*n));

    if (!n)
        abort();
    n->name = strdup(name);
    n->value = strdup("");
    n->perms = malloc(nperms * sizeof(*perms));
    if (!n->name || !n->value || !n->perms)
        abort();
    memcpy(n->perms, perms, nperms * sizeof(*perms));
    n->nperms = nperms;
    n->parent = parent;
    if (parent) {
        struct xs_node **pp = &parent->child;
        while (*pp)
            pp = &(*pp)->next;
        *pp = n;
    }
    return n;
}

static void node_free(struct xs_node *n)
{
    while (n) {
        struct xs_node *next = n->next;
        node_free(n->child);
        free(n->name);
        free(n->value);
        free(n->perms);
        free(n);
        n = next;
    }
}

static void node_unlink(struct xs_node *n)
{
    struct xs_node **pp = &n->parent->child;

    while (*pp != n)
        pp = &(*pp)->next;
    *pp = n->next;
    n->next = NULL;
    node_free(n);
}

static struct xs_node *node_clone(const struct xs_node *n, struct xs_node *parent)
{
    struct xs_node *c = node_new(parent, n->name, n->perms, n->nperms);

    free(c->value);
    c->value = malloc(n->len + 1);
    if (!c->value)
        abort();
    memcpy(c->value, n->value, n->len + 1);
    c->len = n->len;
    c->gen = n->gen;
    for (const struct xs_node *k = n->child; k; k = k->next)
        node_clone(k, c);
    return c;
}

static void node_set_value(struct xs_node *n, const void *v, size_t len)
{
    char *nv = malloc(len + 1);

    if (!nv)
        abort();
    memcpy(nv, v, len);
    nv[len] = '\0';
    free(n->value);
    n->value = nv;
    n->len = len;
}

static void node_set_perms(struct xs_node *n, const struct vmsg_xs_perm *perms, unsigned count)
{
    struct vmsg_xs_perm *np = malloc(count * sizeof(*np));

    if (!np)
        abort();
    memcpy(np, perms, count * sizeof(*np));
    free(n->perms);
    n->perms = np;
    n->nperms = count;
}

/* Walk an absolute path; "/" is the root. */
static struct xs_node *node_find(struct xs_node *root, const char *abs)
{
    struct xs_node *n = root;
    const char *s = abs + 1;

    while (*s && n) {
        size_t l = strcspn(s, "/");
        struct xs_node *k;

        for (k = n->child; k; k = k->next)
            if (strlen(k->name) == l && !memcmp(k->name, s, l))
                break;
        n = k;
        s += l;
        if (*s == '/')
            s++;
    }
    return n;
}

/* The deepest existing node on the way to abs (at least the root). */
static struct xs_node *node_nearest(struct xs_node *root, const char *abs)
{
    char buf[512];
    struct xs_node *n;

    snprintf(buf, sizeof(buf), "%s", abs);
    for (;;) {
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            return root;
        *slash = '\0';
        n = node_find(root, buf);
        if (n)
            return n;
    }
}

/* xenstored's perm_for_conn(): dom0 and the owner may do everything. */
static unsigned perm_for(uint32_t dom, const struct vmsg_xs_perm *perms, unsigned n)
{
    if (dom == 0 || perms[0].domid == dom)
        return VMSG_XS_PERM_BOTH | PERM_OWNER;
    for (unsigned i = 1; i < n; i++)
        if (perms[i].domid == dom)
            return perms[i].perms;
    return perms[0].perms;
}

/*
 * xenstored's get_node() + errno_from_parents(): a missing node is ENOENT
 * only to a caller with `need` on its nearest existing ancestor, otherwise
 * EACCES, so nodes a domain may not see do not leak through error codes.
 */
static int get_node(uint32_t dom, struct xs_node *root, const char *abs, unsigned need,
                    struct xs_node **out)
{
    struct xs_node *n = node_find(root, abs);

    *out = n;
    if (n)
        return (perm_for(dom, n->perms, n->nperms) & need) == need ? 0 : -EACCES;
    n = node_nearest(root, abs);
    return (perm_for(dom, n->perms, n->nperms) & need) ? -ENOENT : -EACCES;
}

/* ---- paths --------------------------------------------------------------- */

static bool valid_path(const char *p)
{
    if (!*p)
        return false;
    if (p[0] == '@')
        return true;
    for (const char *s = p; *s; s++) {
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
              ('0' <= *s && *s <= '9') || strchr("-/_@", *s)))
            return false;
        if (*s == '/' && s[1] == '/')
            return false;
    }
    return !(strlen(p) > 1 && p[strlen(p) - 1] == '/');
}

/* Relative paths are relative to the domain's home, as in xenstored. */
static int resolve(struct fx_handle *h, const char *path, char *abs, size_t len)
{
    int n;

    if (!valid_path(path) || path[0] == '@')
        return -EINVAL;
    if (path[0] == '/')
        n = snprintf(abs, len, "%s", path);
    else
        n = snprintf(abs, len, "/local/domain/%u/%s", h->domid, path);
    return (n < 0 || (size_t)n >= len) ? -E2BIG : 0;
}

static bool path_under(const char *path, const char *top)
{
    size_t l = strlen(top);

    if (!strcmp(top, "/"))
        return path[0] == '/';
    return !strncmp(path, top, l) && (path[l] == '\0' || path[l] == '/');
}

/* ---- watches ------------------------------------------------------------- */

static void queue_event(struct fx_handle *h, const struct fx_watch *w, const char *abs)
{
    struct fx_event *e = calloc(1, sizeof(*e));
    const char *shown = abs;
    char home[48];

    if (!e)
        abort();
    /* A relative watch reports relative paths, as xenstored does. */
    snprintf(home, sizeof(home), "/local/domain/%u/", h->domid);
    if (w->path[0] != '/' && w->path[0] != '@' && !strncmp(abs, home, strlen(home)))
        shown = abs + strlen(home);
    e->path = strdup(shown);
    e->token = strdup(w->token);
    if (!e->path || !e->token)
        abort();
    *h->events_tail = e;
    h->events_tail = &e->next;
    if (write(h->wpipe[1], "w", 1) != 1)
        abort();
}

/*
 * A change to `abs` fires every watch on it or above it, and, when the node
 * went away (`removed`), every watch below it (reported with the watch's own
 * path). Only readers of the node hear about it: `perms` are the node's
 * permissions (before removal).
 */
static void fire(struct fake_xen *fx, const char *abs, const struct vmsg_xs_perm *perms,
                 unsigned nperms, bool removed)
{
    for (struct fx_handle *h = fx->handles; h; h = h->next) {
        if (fx->doms[h->domid].dead)
            continue;
        if (!(perm_for(h->domid, perms, nperms) & VMSG_XS_PERM_READ))
            continue;
        for (struct fx_watch *w = h->watches; w; w = w->next) {
            if (w->abs[0] == '@')
                continue;
            if (path_under(abs, w->abs))
                queue_event(h, w, abs);
            else if (removed && path_under(w->abs, abs))
                queue_event(h, w, w->abs);
        }
    }
}

/* Special watches (@releaseDomain, @introduceDomain) reach dom0 only. */
static void fire_special(struct fake_xen *fx, const char *special)
{
    for (struct fx_handle *h = fx->handles; h; h = h->next)
        if (h->domid == 0)
            for (struct fx_watch *w = h->watches; w; w = w->next)
                if (!strcmp(w->abs, special))
                    queue_event(h, w, special);
}

/* ---- store operations (on the live tree or a transaction's snapshot) ----- */

static struct fx_tx *find_tx(struct fx_handle *h, uint32_t tx)
{
    for (struct fx_tx *t = h->txs; t; t = t->next)
        if (t->id == tx)
            return t;
    return NULL;
}

/* Remember what a transaction touched and its generation at first touch. */
static void touch(struct fx_tx *t, const char *abs)
{
    struct fx_touch *x;
    struct xs_node *n;

    if (!t)
        return;
    for (x = t->touched; x; x = x->next)
        if (!strcmp(x->path, abs))
            return;
    x = calloc(1, sizeof(*x));
    if (!x || !(x->path = strdup(abs)))
        abort();
    n = node_find(t->root, abs);
    x->existed = n != NULL;
    x->gen = n ? n->gen : 0;
    x->next = t->touched;
    t->touched = x;
}

static void touch_tree(struct fx_tx *t, struct xs_node *n, const char *abs)
{
    char buf[512];

    touch(t, abs);
    for (struct xs_node *k = n->child; k; k = k->next) {
        snprintf(buf, sizeof(buf), "%s%s%s", strcmp(abs, "/") ? abs : "", "/", k->name);
        touch_tree(t, k, buf);
    }
}

/* Where an operation works: the live store or its transaction's snapshot. */
static int store_for(struct fx_handle *h, uint32_t tx, struct xs_node **root, struct fx_tx **t)
{
    *t = NULL;
    if (h->fx->doms[h->domid].dead)
        return -ESRCH;
    if (tx == VMSG_XS_TX_NONE) {
        *root = h->fx->root;
        return 0;
    }
    *t = find_tx(h, tx);
    if (!*t)
        return -ENOENT;
    *root = (*t)->root;
    return 0;
}

static int xs_prepare(struct vmsg_platform *p, uint32_t tx, const char *path, char *abs,
                      size_t len, struct xs_node **root, struct fx_tx **t, const char *what)
{
    int rc = store_for(H(p), tx, root, t);

    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore %s %s", what, path);
    rc = resolve(H(p), path, abs, len);
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore %s %s", what, path);
    return 0;
}

static int fx_xs_read(struct vmsg_platform *p, uint32_t tx, const char *path, char **value,
                      size_t *len)
{
    char abs[512];
    struct xs_node *root, *n;
    struct fx_tx *t;
    int rc = xs_prepare(p, tx, path, abs, sizeof(abs), &root, &t, "read");

    if (rc)
        return rc;
    touch(t, abs);
    rc = get_node(H(p)->domid, root, abs, VMSG_XS_PERM_READ, &n);
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore read %s", path);
    *value = malloc(n->len + 1);
    if (!*value)
        return vmsg_plat_fail(p, -ENOMEM, "xenstore read %s", path);
    memcpy(*value, n->value, n->len + 1);
    *len = n->len;
    return 0;
}

/*
 * Create abs and missing parents: xenstored's construct_node(). The caller
 * needs write permission on the nearest existing ancestor; every new node
 * copies its parent's permissions and an unprivileged creator becomes owner.
 */
static int create(struct fx_handle *h, struct xs_node *root, struct fx_tx *t, const char *abs,
                  struct xs_node **out)
{
    struct xs_node *n = node_nearest(root, abs);
    const char *s;
    char sofar[512];

    if (!(perm_for(h->domid, n->perms, n->nperms) & VMSG_XS_PERM_WRITE))
        return -EACCES;
    s = abs + 1;
    snprintf(sofar, sizeof(sofar), "%s", "");
    while (*s) {
        size_t l = strcspn(s, "/");
        char name[256];
        struct xs_node *k;

        snprintf(name, sizeof(name), "%.*s", (int)l, s);
        snprintf(sofar + strlen(sofar), sizeof(sofar) - strlen(sofar), "/%s", name);
        k = node_find(root, sofar);
        if (!k) {
            /* Record it as absent before creating it in the snapshot:
             * recorded afterwards, the commit would see "existed, now
             * gone" and fail the transaction with EAGAIN every time. */
            touch(t, sofar);
            k = node_new(n, name, n->perms, n->nperms);
            if (h->domid != 0)
                k->perms[0].domid = h->domid;
            k->gen = ++h->fx->gen;
        }
        n = k;
        s += l;
        if (*s == '/')
            s++;
    }
    *out = n;
    return 0;
}

static int fx_xs_write(struct vmsg_platform *p, uint32_t tx, const char *path,
                       const void *value, size_t len)
{
    char abs[512];
    struct xs_node *root, *n;
    struct fx_tx *t;
    int rc = xs_prepare(p, tx, path, abs, sizeof(abs), &root, &t, "write");

    if (rc)
        return rc;
    touch(t, abs);
    rc = get_node(H(p)->domid, root, abs, VMSG_XS_PERM_WRITE, &n);
    if (rc == -ENOENT)
        rc = create(H(p), root, t, abs, &n);
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore write %s", path);
    node_set_value(n, value, len);
    n->gen = ++H(p)->fx->gen;
    if (!t)
        fire(H(p)->fx, abs, n->perms, n->nperms, false);
    return 0;
}

static int fx_xs_mkdir(struct vmsg_platform *p, uint32_t tx, const char *path)
{
    char abs[512];
    struct xs_node *root, *n;
    struct fx_tx *t;
    int rc = xs_prepare(p, tx, path, abs, sizeof(abs), &root, &t, "mkdir");

    if (rc)
        return rc;
    touch(t, abs);
    rc = get_node(H(p)->domid, root, abs, VMSG_XS_PERM_WRITE, &n);
    if (rc == 0)
        return 0;           /* exists and writable: nothing to do */
    if (rc == -ENOENT)
        rc = create(H(p), root, t, abs, &n);
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore mkdir %s", path);
    if (!t)
        fire(H(p)->fx, abs, n->perms, n->nperms, false);
    return 0;
}

static int fx_xs_rm(struct vmsg_platform *p, uint32_t tx, const char *path)
{
    char abs[512];
    struct xs_node *root, *n;
    struct vmsg_xs_perm *perms;
    unsigned nperms;
    struct fx_tx *t;
    int rc = xs_prepare(p, tx, path, abs, sizeof(abs), &root, &t, "rm");

    if (rc)
        return rc;
    if (!strcmp(abs, "/"))
        return vmsg_plat_fail(p, -EINVAL, "xenstore rm /");
    rc = get_node(H(p)->domid, root, abs, VMSG_XS_PERM_WRITE, &n);
    if (rc == -ENOENT) {
        /* xenstored: removing a missing node is fine if its parent exists. */
        char parent[512];
        snprintf(parent, sizeof(parent), "%s", abs);
        *strrchr(parent, '/') = '\0';
        if (node_find(root, parent[0] ? parent : "/"))
            return 0;
    }
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore rm %s", path);
    touch_tree(t, n, abs);
    nperms = n->nperms;
    perms = malloc(nperms * sizeof(*perms));
    if (!perms)
        abort();
    memcpy(perms, n->perms, nperms * sizeof(*perms));
    n->parent->gen = ++H(p)->fx->gen;
    node_unlink(n);
    if (!t)
        fire(H(p)->fx, abs, perms, nperms, true);
    free(perms);
    return 0;
}

static int fx_xs_directory(struct vmsg_platform *p, uint32_t tx, const char *path,
                           char ***names, unsigned *count)
{
    char abs[512], **v, *s;
    struct xs_node *root, *n, *k;
    struct fx_tx *t;
    size_t bytes = 0;
    unsigned c = 0;
    int rc = xs_prepare(p, tx, path, abs, sizeof(abs), &root, &t, "directory");

    if (rc)
        return rc;
    touch(t, abs);
    rc = get_node(H(p)->domid, root, abs, VMSG_XS_PERM_READ, &n);
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore directory %s", path);
    for (k = n->child; k; k = k->next, c++)
        bytes += strlen(k->name) + 1;
    /* One block like libxenstore's: the array, then the strings. */
    v = malloc((c + 1) * sizeof(*v) + bytes);
    if (!v)
        return vmsg_plat_fail(p, -ENOMEM, "xenstore directory %s", path);
    s = (char *)(v + c + 1);
    c = 0;
    for (k = n->child; k; k = k->next) {
        v[c++] = s;
        strcpy(s, k->name);
        s += strlen(k->name) + 1;
    }
    v[c] = NULL;
    *names = v;
    *count = c;
    return 0;
}

static int fx_xs_set_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                           const struct vmsg_xs_perm *perms, unsigned count)
{
    char abs[512];
    struct xs_node *root, *n;
    struct fx_tx *t;
    int rc = xs_prepare(p, tx, path, abs, sizeof(abs), &root, &t, "set_perms");

    if (rc)
        return rc;
    touch(t, abs);
    /* xenstored: write + owner rights needed; only dom0 may give a node away. */
    rc = get_node(H(p)->domid, root, abs, VMSG_XS_PERM_WRITE | PERM_OWNER, &n);
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore set_perms %s", path);
    if (H(p)->domid != 0 && perms[0].domid != n->perms[0].domid)
        return vmsg_plat_fail(p, -EPERM, "xenstore set_perms %s: change owner", path);
    node_set_perms(n, perms, count);
    n->gen = ++H(p)->fx->gen;
    if (!t)
        fire(H(p)->fx, abs, n->perms, n->nperms, false);
    return 0;
}

static int fx_xs_get_perms(struct vmsg_platform *p, uint32_t tx, const char *path,
                           struct vmsg_xs_perm **perms, unsigned *count)
{
    char abs[512];
    struct xs_node *root, *n;
    struct fx_tx *t;
    int rc = xs_prepare(p, tx, path, abs, sizeof(abs), &root, &t, "get_perms");

    if (rc)
        return rc;
    touch(t, abs);
    rc = get_node(H(p)->domid, root, abs, VMSG_XS_PERM_READ, &n);
    if (rc)
        return vmsg_plat_fail(p, rc, "xenstore get_perms %s", path);
    *perms = malloc(n->nperms * sizeof(**perms));
    if (!*perms)
        return vmsg_plat_fail(p, -ENOMEM, "xenstore get_perms %s", path);
    memcpy(*perms, n->perms, n->nperms * sizeof(**perms));
    *count = n->nperms;
    return 0;
}

static int fx_xs_watch_fd(struct vmsg_platform *p)
{
    return H(p)->wpipe[0];
}

static int fx_xs_watch(struct vmsg_platform *p, const char *path, const char *token)
{
    struct fx_handle *h = H(p);
    struct fx_watch *w;
    char abs[512];
    int rc;

    if (h->fx->doms[h->domid].dead)
        return vmsg_plat_fail(p, -ESRCH, "xenstore watch %s", path);
    if (path[0] == '@') {
        if (!valid_path(path))
            return vmsg_plat_fail(p, -EINVAL, "xenstore watch %s", path);
        snprintf(abs, sizeof(abs), "%s", path);
    } else {
        rc = resolve(h, path, abs, sizeof(abs));
        if (rc)
            return vmsg_plat_fail(p, rc, "xenstore watch %s", path);
    }
    for (w = h->watches; w; w = w->next)
        if (!strcmp(w->abs, abs) && !strcmp(w->token, token))
            return vmsg_plat_fail(p, -EEXIST, "xenstore watch %s", path);
    w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path)) || !(w->abs = strdup(abs)) ||
        !(w->token = strdup(token)))
        abort();
    w->next = h->watches;
    h->watches = w;
    /* xenstored fires every new watch once, whether the node exists or not. */
    queue_event(h, w, abs);
    return 0;
}

static int fx_xs_unwatch(struct vmsg_platform *p, const char *path, const char *token)
{
    struct fx_handle *h = H(p);
    char abs[512];

    if (path[0] == '@')
        snprintf(abs, sizeof(abs), "%s", path);
    else if (resolve(h, path, abs, sizeof(abs)))
        return vmsg_plat_fail(p, -EINVAL, "xenstore unwatch %s", path);
    for (struct fx_watch **pw = &h->watches; *pw; pw = &(*pw)->next) {
        struct fx_watch *w = *pw;
        if (!strcmp(w->abs, abs) && !strcmp(w->token, token)) {
            *pw = w->next;
            free(w->path);
            free(w->abs);
            free(w->token);
            free(w);
            return 0;
        }
    }
    return vmsg_plat_fail(p, -ENOENT, "xenstore unwatch %s", path);
}

static int fx_xs_read_watch(struct vmsg_platform *p, char **path, char **token)
{
    struct fx_handle *h = H(p);
    struct fx_event *e = h->events;
    char c;

    if (!e)
        return -EAGAIN;
    if (read(h->wpipe[0], &c, 1) != 1)
        abort();
    h->events = e->next;
    if (!h->events)
        h->events_tail = &h->events;
    *path = e->path;
    *token = e->token;
    free(e);
    return 0;
}

static int fx_xs_tx_start(struct vmsg_platform *p, uint32_t *tx)
{
    struct fx_handle *h = H(p);
    struct fx_tx *t;

    if (h->fx->doms[h->domid].dead)
        return vmsg_plat_fail(p, -ESRCH, "xenstore transaction start");
    t = calloc(1, sizeof(*t));
    if (!t)
        return vmsg_plat_fail(p, -ENOMEM, "xenstore transaction start");
    t->id = ++h->fx->next_tx;
    t->root = node_clone(h->fx->root, NULL);
    t->next = h->txs;
    h->txs = t;
    *tx = t->id;
    return 0;
}

static void tx_free(struct fx_tx *t)
{
    while (t->touched) {
        struct fx_touch *x = t->touched;
        t->touched = x->next;
        free(x->path);
        free(x);
    }
    node_free(t->root);
    free(t);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Commit: xenstored (4.17) fails a transaction with EAGAIN when any node it
 * read or wrote has changed since; otherwise the snapshot's state of those
 * nodes becomes live, parents before children, and watches fire.
 */
static int fx_xs_tx_end(struct vmsg_platform *p, uint32_t tx, bool abort_tx)
{
    struct fx_handle *h = H(p);
    struct fake_xen *fx = h->fx;
    struct fx_tx **pt, *t;
    struct fx_touch *x;
    unsigned n = 0, i;
    char **paths;
    int rc = 0;

    for (pt = &h->txs; *pt && (*pt)->id != tx; pt = &(*pt)->next)
        ;
    if (!*pt)
        return vmsg_plat_fail(p, -ENOENT, "xenstore transaction %u end", tx);
    t = *pt;
    *pt = t->next;
    if (abort_tx || fx->doms[h->domid].dead)
        goto out;
    for (x = t->touched; x; x = x->next, n++) {
        struct xs_node *live = node_find(fx->root, x->path);
        if ((live != NULL) != x->existed || (live && live->gen != x->gen)) {
            rc = -EAGAIN;
            goto out;
        }
    }
    paths = calloc(n ? n : 1, sizeof(*paths));
    if (!paths)
        abort();
    for (i = 0, x = t->touched; x; x = x->next)
        paths[i++] = x->path;
    qsort(paths, n, sizeof(*paths), cmp_str);
    for (i = 0; i < n; i++) {
        struct xs_node *mine = node_find(t->root, paths[i]);
        struct xs_node *live = node_find(fx->root, paths[i]);

        if (mine) {
            if (!live) {
                char parent[512];
                struct xs_node *pn;
                snprintf(parent, sizeof(parent), "%s", paths[i]);
                *strrchr(parent, '/') = '\0';
                pn = node_find(fx->root, parent[0] ? parent : "/");
                if (!pn)
                    continue;
                live = node_new(pn, strrchr(paths[i], '/') + 1, mine->perms, mine->nperms);
            } else if (live->gen == mine->gen) {
                continue;    /* only read */
            }
            node_set_value(live, mine->value, mine->len);
            node_set_perms(live, mine->perms, mine->nperms);
            live->gen = ++fx->gen;
            fire(fx, paths[i], live->perms, live->nperms, false);
        } else if (live) {
            struct vmsg_xs_perm *perms = malloc(live->nperms * sizeof(*perms));
            unsigned np = live->nperms;
            if (!perms)
                abort();
            memcpy(perms, live->perms, np * sizeof(*perms));
            node_unlink(live);
            fire(fx, paths[i], perms, np, true);
            free(perms);
        }
    }
    free(paths);
out:
    tx_free(t);
    return rc;
}

/* ---- event channels ------------------------------------------------------ */

static struct fx_port *port_of(struct fx_handle *h, uint32_t port)
{
    struct fx_port *pt;

    if (port == 0 || port >= FX_MAX_PORTS)
        return NULL;
    pt = &h->fx->doms[h->domid].ports[port];
    return (pt->used && pt->h == h) ? pt : NULL;
}

/*
 * An event reaches a port: like Linux's evtchn device, the port is masked
 * when it fires and later kicks are latched until it is unmasked.
 */
static void deliver(struct fake_xen *fx, uint32_t dom, uint32_t port)
{
    struct fx_port *pt = &fx->doms[dom].ports[port];
    struct fx_handle *h = pt->h;

    if (!pt->used || !h || fx->doms[dom].dead)
        return;
    if (pt->masked || h->ring_len == FX_RING) {
        pt->pending = true;
        return;
    }
    pt->masked = true;
    h->ring[(h->ring_head + h->ring_len++) % FX_RING] = port;
    if (write(h->evpipe[1], "e", 1) != 1)
        abort();
}

/* Xen's evtchn_send(): an unbound port swallows the kick. */
static void send_from(struct fake_xen *fx, uint32_t dom, uint32_t port)
{
    struct fx_port *pt;

    if (port == 0 || port >= FX_MAX_PORTS)
        return;
    pt = &fx->doms[dom].ports[port];
    if (pt->used && pt->interdomain)
        deliver(fx, pt->remote_dom, pt->remote_port);
}

static int alloc_port(struct fx_handle *h, uint32_t *port)
{
    struct fx_dom *d = &h->fx->doms[h->domid];

    for (uint32_t i = 1; i < FX_MAX_PORTS; i++) {
        if (!d->ports[i].used) {
            memset(&d->ports[i], 0, sizeof(d->ports[i]));
            d->ports[i].used = true;
            d->ports[i].h = h;
            *port = i;
            return 0;
        }
    }
    return -ENOSPC;
}

/* Xen's evtchn_close(): the peer of an interdomain port becomes unbound. */
static void close_port(struct fake_xen *fx, uint32_t dom, uint32_t port)
{
    struct fx_port *pt = &fx->doms[dom].ports[port];

    if (pt->interdomain && pt->remote_dom < FX_MAX_DOMS) {
        struct fx_port *peer = &fx->doms[pt->remote_dom].ports[pt->remote_port];
        if (peer->used && peer->interdomain && peer->remote_dom == dom &&
            peer->remote_port == port) {
            peer->interdomain = false;
            peer->remote_dom = dom;
            peer->remote_port = 0;
        }
    }
    memset(pt, 0, sizeof(*pt));
}

static int dead_check(struct vmsg_platform *p, const char *what)
{
    return H(p)->fx->doms[H(p)->domid].dead ? vmsg_plat_fail(p, -ESRCH, "%s: domain destroyed", what) : 0;
}

static int fx_evtchn_fd(struct vmsg_platform *p)
{
    return H(p)->evpipe[0];
}

static int fx_evtchn_bind_unbound(struct vmsg_platform *p, uint32_t remote, uint32_t *port)
{
    int rc = dead_check(p, "evtchn bind_unbound");

    if (rc)
        return rc;
    rc = alloc_port(H(p), port);
    if (rc)
        return vmsg_plat_fail(p, rc, "evtchn bind unbound port for dom %u", remote);
    H(p)->fx->doms[H(p)->domid].ports[*port].remote_dom = remote;
    return 0;
}

static int fx_evtchn_bind_interdomain(struct vmsg_platform *p, uint32_t remote, uint32_t rport,
                                      uint32_t *lport)
{
    struct fx_handle *h = H(p);
    struct fake_xen *fx = h->fx;
    struct fx_port *rp, *lp;
    int rc = dead_check(p, "evtchn bind_interdomain");

    if (rc)
        return rc;
    if (remote >= FX_MAX_DOMS || !fx->doms[remote].exists || fx->doms[remote].dead)
        return vmsg_plat_fail(p, -ESRCH, "evtchn bind to dom %u port %u", remote, rport);
    if (rport == 0 || rport >= FX_MAX_PORTS)
        return vmsg_plat_fail(p, -EINVAL, "evtchn bind to dom %u port %u", remote, rport);
    rp = &fx->doms[remote].ports[rport];
    /* Xen: the remote port must be unbound and reserved for our domain. */
    if (!rp->used || rp->interdomain || rp->remote_dom != h->domid)
        return vmsg_plat_fail(p, -EINVAL, "evtchn bind to dom %u port %u", remote, rport);
    rc = alloc_port(h, lport);
    if (rc)
        return vmsg_plat_fail(p, rc, "evtchn bind to dom %u port %u", remote, rport);
    lp = &fx->doms[h->domid].ports[*lport];
    lp->interdomain = true;
    lp->remote_dom = remote;
    lp->remote_port = rport;
    rp->interdomain = true;
    rp->remote_dom = h->domid;
    rp->remote_port = *lport;
    /* Xen sets a freshly bound port pending, in case a kick was lost. */
    deliver(fx, h->domid, *lport);
    return 0;
}

static int fx_evtchn_unbind(struct vmsg_platform *p, uint32_t port)
{
    if (!port_of(H(p), port))
        return vmsg_plat_fail(p, -EINVAL, "evtchn unbind port %u: not ours", port);
    close_port(H(p)->fx, H(p)->domid, port);
    return 0;
}

static int fx_evtchn_notify(struct vmsg_platform *p, uint32_t port)
{
    int rc = dead_check(p, "evtchn notify");

    if (rc)
        return rc;
    if (!port_of(H(p), port))
        return vmsg_plat_fail(p, -EINVAL, "evtchn notify port %u: not ours", port);
    send_from(H(p)->fx, H(p)->domid, port);
    return 0;
}

static int fx_evtchn_pending(struct vmsg_platform *p, uint32_t *port)
{
    struct fx_handle *h = H(p);
    char c;

    if (!h->ring_len)
        return -EAGAIN;
    if (read(h->evpipe[0], &c, 1) != 1)
        abort();
    *port = h->ring[h->ring_head];
    h->ring_head = (h->ring_head + 1) % FX_RING;
    h->ring_len--;
    return 0;
}

static int fx_evtchn_unmask(struct vmsg_platform *p, uint32_t port)
{
    struct fx_port *pt = port_of(H(p), port);

    if (!pt)
        return vmsg_plat_fail(p, -EINVAL, "evtchn unmask port %u: not ours", port);
    pt->masked = false;
    if (pt->pending) {
        pt->pending = false;
        deliver(H(p)->fx, H(p)->domid, port);
    }
    return 0;
}

/* ---- grants -------------------------------------------------------------- */

/*
 * An unmap notification (Linux gntalloc/gntdev): clear the byte, kick the
 * port. It runs in the process's domain, so it needs the domain alive.
 */
static void unmap_notify(struct fx_handle *h, struct fx_area *a)
{
    if (h->fx->doms[h->domid].dead)
        return;     /* a destroyed domain's kernel notifies nobody */
    if (a->noff != VMSG_NOTIFY_NONE)
        a->addr[a->noff] = 0;
    if (a->nport != VMSG_NOTIFY_NONE)
        send_from(h->fx, h->domid, (uint32_t)a->nport);
}

static void area_free(struct fx_area *a)
{
    free(a->refs);
    free(a);
}

static int fx_gntshr_share(struct vmsg_platform *p, uint32_t domid, unsigned count,
                           bool writable, long noff, long nport, uint32_t *refs, void **addr)
{
    struct fx_handle *h = H(p);
    struct fx_dom *d = &h->fx->doms[h->domid];
    struct fx_area *a;
    unsigned i, found = 0;
    int rc = dead_check(p, "gntshr share");

    if (rc)
        return rc;
    if (nport != VMSG_NOTIFY_NONE && !port_of(h, (uint32_t)nport))
        return vmsg_plat_fail(p, -EINVAL, "gntshr share: notify port %ld not ours", nport);
    a = calloc(1, sizeof(*a));
    if (!a || !(a->refs = calloc(count, sizeof(*a->refs))))
        abort();
    for (i = 1; i < FX_MAX_GREFS && found < count; i++)
        if (!d->grants[i].used)
            a->refs[found++] = i;
    if (found < count) {
        area_free(a);
        return vmsg_plat_fail(p, -ENOSPC, "gntshr share %u pages: grant table full", count);
    }
    a->memfd = memfd_create("fake-grant", MFD_CLOEXEC);
    if (a->memfd < 0 || ftruncate(a->memfd, (off_t)count * PAGE) < 0) {
        rc = -errno;
        goto out_free;
    }
    a->addr = mmap(NULL, (size_t)count * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, a->memfd, 0);
    if (a->addr == MAP_FAILED) {
        rc = -errno;
        goto out_free;
    }
    for (i = 0; i < count; i++) {
        struct fx_grant *g = &d->grants[a->refs[i]];
        memset(g, 0, sizeof(*g));
        g->used = true;
        g->writable = writable;
        g->to_dom = domid;
        g->memfd = a->memfd;
        g->off = (off_t)i * PAGE;
        refs[i] = a->refs[i];
    }
    a->count = count;
    a->peer = domid;
    a->noff = noff;
    a->nport = nport;
    a->next = h->shares;
    h->shares = a;
    *addr = a->addr;
    return 0;
out_free:
    if (a->memfd >= 0)
        close(a->memfd);
    area_free(a);
    return vmsg_plat_fail(p, rc, "gntshr share %u pages", count);
}

/*
 * A grant whose sharer is done and that nobody maps any more is free again.
 * Its memfd was closed by the share; mappings keep their own reference.
 */
static void grant_release(struct fx_grant *g)
{
    if (g->ended && g->maps == 0)
        memset(g, 0, sizeof(*g));
}

static void unshare(struct fx_handle *h, struct fx_area *a)
{
    struct fx_dom *d = &h->fx->doms[h->domid];

    unmap_notify(h, a);
    munmap(a->addr, (size_t)a->count * PAGE);
    for (unsigned i = 0; i < a->count; i++) {
        d->grants[a->refs[i]].ended = true;
        grant_release(&d->grants[a->refs[i]]);
    }
    close(a->memfd);
    area_free(a);
}

static int fx_gntshr_unshare(struct vmsg_platform *p, void *addr, unsigned count)
{
    struct fx_handle *h = H(p);

    for (struct fx_area **pa = &h->shares; *pa; pa = &(*pa)->next) {
        struct fx_area *a = *pa;
        if (a->addr == addr && a->count == count) {
            *pa = a->next;
            unshare(h, a);
            return 0;
        }
    }
    return vmsg_plat_fail(p, -EINVAL, "gntshr unshare %p (%u pages): not a shared area", addr,
                          count);
}

static int fx_gnttab_map(struct vmsg_platform *p, uint32_t domid, unsigned count,
                         const uint32_t *refs, bool writable, long noff, long nport,
                         void **addr)
{
    struct fx_handle *h = H(p);
    struct fake_xen *fx = h->fx;
    struct fx_area *a;
    char *area;
    unsigned i;
    int rc = dead_check(p, "gnttab map");

    if (rc)
        return rc;
    if (domid >= FX_MAX_DOMS || !fx->doms[domid].exists)
        return vmsg_plat_fail(p, -ESRCH, "gnttab map: no dom %u", domid);
    if (nport != VMSG_NOTIFY_NONE && !port_of(h, (uint32_t)nport))
        return vmsg_plat_fail(p, -EINVAL, "gnttab map: notify port %ld not ours", nport);
    /* gntdev refuses to clear a byte in a read-only mapping. */
    if (!writable && noff != VMSG_NOTIFY_NONE)
        return vmsg_plat_fail(p, -EINVAL, "gnttab map: clear-byte notify on read-only map");
    for (i = 0; i < count; i++) {
        struct fx_grant *g = refs[i] < FX_MAX_GREFS ? &fx->doms[domid].grants[refs[i]] : NULL;
        /* Xen refuses new mappings of a dying domain's grants. */
        if (!g || !g->used || g->ended || g->to_dom != h->domid || fx->doms[domid].dead)
            return vmsg_plat_fail(p, -EINVAL, "gnttab map dom %u ref %u: not granted to dom %u",
                                  domid, refs[i], h->domid);
        if (writable && !g->writable)
            return vmsg_plat_fail(p, -EACCES, "gnttab map dom %u ref %u: read-only grant",
                                  domid, refs[i]);
    }
    area = mmap(NULL, (size_t)count * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        return vmsg_plat_fail(p, -errno, "gnttab map: reserve %u pages", count);
    for (i = 0; i < count; i++) {
        struct fx_grant *g = &fx->doms[domid].grants[refs[i]];
        if (mmap(area + (size_t)i * PAGE, PAGE, PROT_READ | (writable ? PROT_WRITE : 0),
                 MAP_SHARED | MAP_FIXED, g->memfd, g->off) == MAP_FAILED) {
            rc = -errno;
            munmap(area, (size_t)count * PAGE);
            return vmsg_plat_fail(p, rc, "gnttab map: page %u", i);
        }
    }
    a = calloc(1, sizeof(*a));
    if (!a || !(a->refs = malloc(count * sizeof(*refs))))
        abort();
    memcpy(a->refs, refs, count * sizeof(*refs));
    for (i = 0; i < count; i++)
        fx->doms[domid].grants[refs[i]].maps++;
    a->addr = area;
    a->count = count;
    a->peer = domid;
    a->noff = noff;
    a->nport = nport;
    a->memfd = -1;
    a->next = h->maps;
    h->maps = a;
    *addr = area;
    return 0;
}

static void unmap(struct fx_handle *h, struct fx_area *a)
{
    struct fx_dom *d = &h->fx->doms[a->peer];

    unmap_notify(h, a);
    munmap(a->addr, (size_t)a->count * PAGE);
    for (unsigned i = 0; i < a->count; i++) {
        d->grants[a->refs[i]].maps--;
        grant_release(&d->grants[a->refs[i]]);
    }
    area_free(a);
}

static int fx_gnttab_unmap(struct vmsg_platform *p, void *addr, unsigned count)
{
    struct fx_handle *h = H(p);

    for (struct fx_area **pa = &h->maps; *pa; pa = &(*pa)->next) {
        struct fx_area *a = *pa;
        if (a->addr == addr && a->count == count) {
            *pa = a->next;
            unmap(h, a);
            return 0;
        }
    }
    return vmsg_plat_fail(p, -EINVAL, "gnttab unmap %p (%u pages): not a mapped area", addr,
                          count);
}

/* ---- identity ------------------------------------------------------------ */

static int fx_own_domid(struct vmsg_platform *p, uint32_t *domid)
{
    int rc = dead_check(p, "own domid");

    if (rc)
        return rc;
    *domid = H(p)->domid;
    return 0;
}

/* Only dom0 may ask the hypervisor; a domU gets -ENOSYS like the real one. */
static int fx_domain_alive(struct vmsg_platform *p, uint32_t domid)
{
    struct fake_xen *fx = H(p)->fx;

    if (H(p)->domid != 0)
        return vmsg_plat_fail(p, -ENOSYS, "domain_alive(%u): not privileged", domid);
    if (domid >= FX_MAX_DOMS)
        return 0;
    return fx->doms[domid].exists && !fx->doms[domid].dead;
}

/* ---- handles ------------------------------------------------------------- */

/* Process exit: mappings and shares go (notifying), then ports and watches. */
static void fx_close(struct vmsg_platform *p)
{
    struct fx_handle *h = H(p);
    struct fake_xen *fx = h->fx;

    while (h->maps) {
        struct fx_area *a = h->maps;
        h->maps = a->next;
        unmap(h, a);
    }
    while (h->shares) {
        struct fx_area *a = h->shares;
        h->shares = a->next;
        unshare(h, a);
    }
    for (uint32_t i = 1; i < FX_MAX_PORTS; i++)
        if (fx->doms[h->domid].ports[i].used && fx->doms[h->domid].ports[i].h == h)
            close_port(fx, h->domid, i);
    while (h->watches) {
        struct fx_watch *w = h->watches;
        h->watches = w->next;
        free(w->path);
        free(w->abs);
        free(w->token);
        free(w);
    }
    while (h->events) {
        struct fx_event *e = h->events;
        h->events = e->next;
        free(e->path);
        free(e->token);
        free(e);
    }
    while (h->txs) {
        struct fx_tx *t = h->txs;
        h->txs = t->next;
        tx_free(t);
    }
    for (struct fx_handle **ph = &fx->handles; *ph; ph = &(*ph)->next) {
        if (*ph == h) {
            *ph = h->next;
            break;
        }
    }
    close(h->evpipe[0]);
    close(h->evpipe[1]);
    close(h->wpipe[0]);
    close(h->wpipe[1]);
    free(h);
}

static const struct vmsg_platform_ops fx_ops = {
    .name = "fake",
    .close = fx_close,
    .own_domid = fx_own_domid,
    .domain_alive = fx_domain_alive,
    .evtchn_fd = fx_evtchn_fd,
    .evtchn_bind_unbound = fx_evtchn_bind_unbound,
    .evtchn_bind_interdomain = fx_evtchn_bind_interdomain,
    .evtchn_unbind = fx_evtchn_unbind,
    .evtchn_notify = fx_evtchn_notify,
    .evtchn_pending = fx_evtchn_pending,
    .evtchn_unmask = fx_evtchn_unmask,
    .gntshr_share = fx_gntshr_share,
    .gntshr_unshare = fx_gntshr_unshare,
    .gnttab_map = fx_gnttab_map,
    .gnttab_unmap = fx_gnttab_unmap,
    .xs_read = fx_xs_read,
    .xs_write = fx_xs_write,
    .xs_mkdir = fx_xs_mkdir,
    .xs_rm = fx_xs_rm,
    .xs_directory = fx_xs_directory,
    .xs_set_perms = fx_xs_set_perms,
    .xs_get_perms = fx_xs_get_perms,
    .xs_watch_fd = fx_xs_watch_fd,
    .xs_watch = fx_xs_watch,
    .xs_unwatch = fx_xs_unwatch,
    .xs_read_watch = fx_xs_read_watch,
    .xs_tx_start = fx_xs_tx_start,
    .xs_tx_end = fx_xs_tx_end,
};

int fake_platform_open(struct fake_xen *fx, uint32_t domid, struct vmsg_platform **out)
{
    struct fx_handle *h;

    if (domid >= FX_MAX_DOMS || !fx->doms[domid].exists || fx->doms[domid].dead)
        return -ESRCH;
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    if (pipe2(h->evpipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        free(h);
        return -errno;
    }
    if (pipe2(h->wpipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        int rc = -errno;
        close(h->evpipe[0]);
        close(h->evpipe[1]);
        free(h);
        return rc;
    }
    h->plat.ops = &fx_ops;
    h->plat.ctx = h;
    h->fx = fx;
    h->domid = domid;
    h->events_tail = &h->events;
    h->next = fx->handles;
    fx->handles = h;
    *out = &h->plat;
    return 0;
}

/* ---- the machine --------------------------------------------------------- */

/* Toolstack writes, as dom0, without permission checks or watches. */
static struct xs_node *tool_mk(struct fake_xen *fx, const char *abs, const char *value,
                               const char *perms)
{
    struct vmsg_xs_perm p[8];
    struct xs_node *n = fx->root;
    const char *s = abs + 1;
    int np = vmsg_xs_perms_parse(perms, p, 8);

    if (np < 0)
        abort();
    while (*s) {
        size_t l = strcspn(s, "/");
        char name[128];
        struct xs_node *k;

        snprintf(name, sizeof(name), "%.*s", (int)l, s);
        for (k = n->child; k && strcmp(k->name, name); k = k->next)
            ;
        if (!k)
            k = node_new(n, name, n->perms, n->nperms);
        n = k;
        s += l;
        if (*s == '/')
            s++;
    }
    node_set_perms(n, p, (unsigned)np);
    if (value)
        node_set_value(n, value, strlen(value));
    n->gen = ++fx->gen;
    return n;
}

struct fake_xen *fake_xen_new(void)
{
    struct fake_xen *fx = calloc(1, sizeof(*fx));
    struct vmsg_xs_perm root_perm = { 0, VMSG_XS_PERM_NONE };

    if (!fx)
        return NULL;
    fx->root = node_new(NULL, "", &root_perm, 1);
    tool_mk(fx, "/local", NULL, "n0");
    tool_mk(fx, "/local/domain", NULL, "n0");
    tool_mk(fx, "/local/domain/0", NULL, "n0");
    tool_mk(fx, "/local/domain/0/domid", "0", "n0");
    tool_mk(fx, "/local/domain/0/name", "Domain-0", "n0");
    tool_mk(fx, "/local/domain/0/backend", NULL, "n0");
    tool_mk(fx, "/local/domain/0/data", NULL, "n0");
    fx->doms[0].exists = true;
    return fx;
}

void fake_xen_free(struct fake_xen *fx)
{
    if (!fx)
        return;
    while (fx->handles)
        fx_close(&fx->handles->plat);
    node_free(fx->root);
    free(fx);
}

int fake_xen_add_domain(struct fake_xen *fx, uint32_t domid, const char *name)
{
    char path[64], perm[32], own[32], id[16];

    if (domid == 0 || domid >= FX_MAX_DOMS)
        return -EINVAL;
    if (fx->doms[domid].exists)
        return -EEXIST;
    memset(&fx->doms[domid], 0, sizeof(fx->doms[domid]));
    fx->doms[domid].exists = true;
    /* libxl__domain_make(): home read-only to the guest, some dirs its own. */
    snprintf(perm, sizeof(perm), "n0 r%u", domid);
    snprintf(own, sizeof(own), "n%u", domid);
    snprintf(id, sizeof(id), "%u", domid);
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    tool_mk(fx, path, NULL, perm);
    snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
    tool_mk(fx, path, id, perm);
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    tool_mk(fx, path, name ? name : "domu", perm);
    snprintf(path, sizeof(path), "/local/domain/%u/device", domid);
    tool_mk(fx, path, NULL, own);
    snprintf(path, sizeof(path), "/local/domain/%u/data", domid);
    tool_mk(fx, path, NULL, own);
    fire_special(fx, "@introduceDomain");
    return 0;
}

int fake_xen_destroy_domain(struct fake_xen *fx, uint32_t domid)
{
    struct fx_dom *d;
    struct xs_node *home;
    char path[64];

    if (domid == 0 || domid >= FX_MAX_DOMS || !fx->doms[domid].exists || fx->doms[domid].dead)
        return -ESRCH;
    d = &fx->doms[domid];
    d->dead = true;
    /* Xen closes the dead domain's ports; peers become unbound. */
    for (uint32_t i = 1; i < FX_MAX_PORTS; i++)
        if (d->ports[i].used)
            close_port(fx, domid, i);
    /* Its mappings of others' grants go, silently (no kernel to notify). */
    for (struct fx_handle *h = fx->handles; h; h = h->next) {
        if (h->domid != domid)
            continue;
        while (h->maps) {
            struct fx_area *a = h->maps;
            h->maps = a->next;
            unmap(h, a);
        }
    }
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    home = node_find(fx->root, path);
    if (home) {
        struct vmsg_xs_perm perms[8];
        unsigned np = home->nperms < 8 ? home->nperms : 8;
        memcpy(perms, home->perms, np * sizeof(*perms));
        node_unlink(home);
        fire(fx, path, perms, np, true);
    }
    fire_special(fx, "@releaseDomain");
    return 0;
}

bool fake_xen_domain_released(struct fake_xen *fx, uint32_t domid)
{
    if (domid >= FX_MAX_DOMS || !fx->doms[domid].exists)
        return true;
    if (!fx->doms[domid].dead)
        return false;
    for (unsigned i = 0; i < FX_MAX_GREFS; i++)
        if (fx->doms[domid].grants[i].used && fx->doms[domid].grants[i].maps)
            return false;
    return true;
}

unsigned fake_xen_mapped_pages(struct fake_xen *fx, uint32_t domid)
{
    unsigned n = 0;

    for (struct fx_handle *h = fx->handles; h; h = h->next)
        if (h->domid == domid)
            for (struct fx_area *a = h->maps; a; a = a->next)
                n += a->count;
    return n;
}

unsigned fake_xen_shared_pages(struct fake_xen *fx, uint32_t domid)
{
    unsigned n = 0;

    if (domid >= FX_MAX_DOMS)
        return 0;
    for (unsigned i = 0; i < FX_MAX_GREFS; i++)
        if (fx->doms[domid].grants[i].used && !fx->doms[domid].grants[i].ended)
            n++;
    return n;
}
