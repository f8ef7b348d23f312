/*
 * tools/xlcfg.c: the virtio_msg entries of an xl config (see xlcfg.h for
 * why the split of one entry is written here).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "tools/vmsgctl_xs.h"
#include "tools/xlcfg.h"

#define XLCFG_MAX_ITEMS 24u

/* One "k=v" or bare "word" of an entry, pointing into the split copy. */
struct item {
    const char *key;
    const char *val;                /* NULL for a bare word */
};

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Split buf in place into items; the count, or -1 when there are too many. */
static int split(char *buf, struct item *items, unsigned max)
{
    unsigned n = 0;
    char *save = NULL;

    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq;

        tok = trim(tok);
        if (!*tok)
            continue;
        if (n == max)
            return -1;
        if ((eq = strchr(tok, '='))) {
            *eq = '\0';
            items[n].key = trim(tok);
            items[n].val = trim(eq + 1);
        } else {
            items[n].key = tok;
            items[n].val = NULL;
        }
        n++;
    }
    return (int)n;
}

/* The key a word or key sets, for "given twice": ro and rw are one key. */
static const char *canonical(const char *key)
{
    if (!strcmp(key, "rw"))
        return "ro";
    if (!strcmp(key, "no-discard"))
        return "discard";
    return key;
}

#define FAIL(key, ...)                                                               \
    do {                                                                             \
        int n_ = snprintf(err, errlen, "virtio_msg[%d] \"%s\": key %s: ", index, text, \
                          key);                                                      \
        if (n_ >= 0 && (size_t)n_ < errlen)                                          \
            snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);                    \
        goto fail;                                                                   \
    } while (0)

static bool add_param(struct vmsgctl_attach_req *r, const char *key, const char *val)
{
    if (r->nparams == VMSGCTL_ATTACH_MAX_PARAMS)
        return false;
    r->keys[r->nparams] = key;
    r->vals[r->nparams++] = val;
    return true;
}

int xlcfg_parse_entry(const struct xs_schema *s, int index, const char *text,
                      struct xlcfg_entry *e, char *err, size_t errlen)
{
    struct item items[XLCFG_MAX_ITEMS];
    struct vmsgctl_attach_req *r = &e->req;
    const char *bad_key = NULL;
    char why[384];
    int n;

    memset(e, 0, sizeof(*e));
    e->index = index;
    if (!(e->text = strdup(text)) || !(e->buf = strdup(text))) {
        snprintf(err, errlen, "out of memory");
        xlcfg_entry_free(e);
        return -ENOMEM;
    }
    if ((n = split(e->buf, items, XLCFG_MAX_ITEMS)) < 0)
        FAIL("-", "more than %u items", XLCFG_MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        if (!*items[i].key)
            FAIL("''", "an item '=%s' without a key (expected KEY=VALUE or a word)",
                 items[i].val);
        for (int k = 0; k < i; k++)
            if (!strcmp(canonical(items[k].key), canonical(items[i].key)))
                FAIL(items[i].key, "given twice (already given as '%s')", items[k].key);
        if (!strcmp(items[i].key, "type") && items[i].val)
            r->type = items[i].val;
    }
    if (!r->type)
        FAIL("type", "missing (expected type=blk, console, rng or a virtio device id)");
    for (int i = 0; i < n; i++) {
        const char *k = items[i].key, *v = items[i].val;
        bool blk = !strcmp(r->type, "blk");

        if (!v) {
            /* The bare words of a blk entry, as xl's disk specs have them. */
            if (blk && !strcmp(k, "ro"))
                v = "1";
            else if (blk && !strcmp(k, "rw"))
                k = "ro", v = "0";
            else if (blk && !strcmp(k, "discard"))
                v = "1";
            else if (blk && !strcmp(k, "no-discard"))
                k = "discard", v = "0";
            else
                FAIL(k, "a bare word %s (expected KEY=VALUE%s)", k,
                     blk ? ", or the words ro, rw, discard, no-discard" : "");
            if (!add_param(r, k, v))
                FAIL(k, "more than %u parameters", VMSGCTL_ATTACH_MAX_PARAMS);
            continue;
        }
        if (!strcmp(k, "type"))
            continue;
        if (!*v)
            FAIL(k, "an empty value");
        if (!strcmp(k, "backend")) {
            e->backend = v;
        } else if (!strcmp(k, "bus")) {
            if (!vmsgctl_parse_num("bus", v, 0, VMSG_XEN_BUS_INDEX_MAX, &r->bus, why,
                                   sizeof(why)))
                FAIL(k, "%s", why);
            r->bus_given = true;
        } else if (!strcmp(k, "devnum")) {
            if (!vmsgctl_parse_num("devnum", v, 0, VMSG_XEN_DEV_NUM_MAX, &r->dev, why,
                                   sizeof(why)))
                FAIL(k, "%s", why);
            r->dev_given = true;
        } else if (!strcmp(k, "rw") || !strcmp(k, "no-discard")) {
            FAIL(k, "a word, not a key: write it alone, as '%s'", k);
        } else if (!add_param(r, k, v)) {
            FAIL(k, "more than %u parameters", VMSGCTL_ATTACH_MAX_PARAMS);
        }
    }
    /* The same rules as `vmsgctl attach` and `vmsgctl check`. */
    if (!vmsgctl_attach_validate(s, r, &bad_key, why, sizeof(why)))
        FAIL(bad_key ? bad_key : "type", "%s", why);
    return 0;
fail:
    xlcfg_entry_free(e);
    return -EINVAL;
}

void xlcfg_entry_free(struct xlcfg_entry *e)
{
    free(e->text);
    free(e->buf);
    memset(e, 0, sizeof(*e));
}

void xlcfg_free(struct xlcfg *c)
{
    for (unsigned i = 0; i < c->count; i++)
        xlcfg_entry_free(&c->entries[i]);
    free(c->entries);
    free(c->name);
    memset(c, 0, sizeof(*c));
}

/* libxlutil's own warning text (it prints to a stream) without its newline. */
static void report_text(char *buf, size_t len, char *dst, size_t dstlen)
{
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    for (char *nl = strchr(buf, '\n'); nl; nl = strchr(nl, '\n'))
        *nl = ' ';
    snprintf(dst, dstlen, "%s", len ? buf : "");
}

int xlcfg_read_data(const struct xs_schema *s, const char *source, const char *data,
                    size_t len, struct xlcfg *out, char *err, size_t errlen)
{
    XLU_Config *cfg = NULL;
    XLU_ConfigList *list = NULL;
    char *report = NULL, said[512];
    size_t report_len = 0;
    FILE *rf;
    const char *name = NULL;
    int count = 0, rc;

    memset(out, 0, sizeof(*out));
    if (len > (size_t)0x7fffffff) {
        snprintf(err, errlen, "%s: too large for an xl config", source);
        return -EINVAL;
    }
    /* libxlutil reports syntax errors to a stream: keep them for err. */
    if (!(rf = open_memstream(&report, &report_len)) || !(cfg = xlu_cfg_init(rf, source))) {
        snprintf(err, errlen, "%s: out of memory", source);
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = xlu_cfg_readdata(cfg, data, (int)len))) {
        fflush(rf);
        report_text(report, report_len, said, sizeof(said));
        snprintf(err, errlen, "%s: not a valid xl config%s%s", source, said[0] ? ": " : "",
                 said);
        rc = -EINVAL;
        goto out;
    }
    if (!xlu_cfg_get_string(cfg, "name", &name, 1) && !(out->name = strdup(name))) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = xlu_cfg_get_list(cfg, "virtio_msg", &list, &count, 1);
    if (rc == ESRCH) {
        rc = 0;         /* a config without virtio_msg: nothing to attach */
        goto out;
    }
    if (rc) {
        snprintf(err, errlen, "%s: virtio_msg: expected a list of strings, "
                 "virtio_msg = [ \"type=...\", ... ]", source);
        rc = -EINVAL;
        goto out;
    }
    if (count > 0 && !(out->entries = calloc((size_t)count, sizeof(*out->entries)))) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < count; i++) {
        const char *item = xlu_cfg_get_listitem(list, i);
        char why[640];

        if (!item) {
            snprintf(err, errlen, "%s: virtio_msg[%d]: not a string (expected \"type=...\")",
                     source, i);
            rc = -EINVAL;
            goto out;
        }
        if ((rc = xlcfg_parse_entry(s, i, item, &out->entries[i], why, sizeof(why)))) {
            snprintf(err, errlen, "%s: %s", source, why);
            goto out;
        }
        out->count++;
    }
out:
    if (cfg)
        xlu_cfg_destroy(cfg);
    if (rf)
        fclose(rf);
    free(report);
    if (rc)
        xlcfg_free(out);
    return rc;
}

int xlcfg_read_file(const struct xs_schema *s, const char *path, const char *extra,
                    struct xlcfg *out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "r"), *m;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "cannot read the config file %s: %s", path, strerror(errno));
        return rc;
    }
    if (!(m = open_memstream(&data, &len))) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int c; (c = getc(f)) != EOF;)
        putc(c, m);
    rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (extra)
        fprintf(m, "\n%s\n", extra);     /* as xl create appends KEY=VALUE arguments */
    fclose(m);
    if (rc)
        snprintf(err, errlen, "reading the config file %s: %s", path, strerror(-rc));
    else
        rc = xlcfg_read_data(s, path, data, len, out, err, errlen);
    free(data);
    return rc;
}
