/*
 * tests/unit/test_xlcfg.c: the virtio_msg entries of an xl config
 * (tools/xlcfg.c): good entries become the attach requests `vmsgctl
 * attach` would make; every kind of mistake is refused with a message
 * naming the entry (index and text) and the key.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tools/xlcfg.h"
#include "vmsg_test.h"

static struct xs_schema *schema;

static int suite_init(void)
{
    char err[256];

    return xs_schema_parse(xs_schema_builtin_json, &schema, err, sizeof(err)) ? -1 : 0;
}

static int suite_clean(void)
{
    xs_schema_free(schema);
    return 0;
}

/* The value of parameter key in the request, or NULL. */
static const char *param(const struct vmsgctl_attach_req *r, const char *key)
{
    for (unsigned i = 0; i < r->nparams; i++)
        if (!strcmp(r->keys[i], key))
            return r->vals[i];
    return NULL;
}

static void test_good_entries(void)
{
    struct xlcfg_entry e;
    char err[512];

    CU_ASSERT_EQUAL_FATAL(xlcfg_parse_entry(schema, 0, "type=rng", &e, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(e.req.type, "rng");
    CU_ASSERT_EQUAL(e.req.nparams, 0);
    CU_ASSERT_PTR_NULL(e.backend);
    CU_ASSERT_FALSE(e.req.bus_given || e.req.dev_given);
    xlcfg_entry_free(&e);

    CU_ASSERT_EQUAL_FATAL(xlcfg_parse_entry(schema, 3,
        " type = blk ,target=/srv/data.img, ro, backend=storagedom,, bus=2, devnum=7 ",
        &e, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(e.req.type, "blk");
    CU_ASSERT_STRING_EQUAL(param(&e.req, "target"), "/srv/data.img");
    CU_ASSERT_STRING_EQUAL(param(&e.req, "ro"), "1");
    CU_ASSERT_PTR_NULL(param(&e.req, "discard"));   /* the model's default */
    CU_ASSERT_STRING_EQUAL(e.backend, "storagedom");
    CU_ASSERT_TRUE(e.req.bus_given && e.req.bus == 2);
    CU_ASSERT_TRUE(e.req.dev_given && e.req.dev == 7);
    CU_ASSERT_EQUAL(e.index, 3);
    xlcfg_entry_free(&e);

    CU_ASSERT_EQUAL_FATAL(xlcfg_parse_entry(schema, 0,
        "type=blk, target=/a, rw, no-discard, serial=disk-1", &e, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(param(&e.req, "ro"), "0");
    CU_ASSERT_STRING_EQUAL(param(&e.req, "discard"), "0");
    CU_ASSERT_STRING_EQUAL(param(&e.req, "serial"), "disk-1");
    xlcfg_entry_free(&e);

    CU_ASSERT_EQUAL_FATAL(xlcfg_parse_entry(schema, 0, "type=blk, target=/a, ro=1, discard",
                                            &e, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(param(&e.req, "ro"), "1");
    CU_ASSERT_STRING_EQUAL(param(&e.req, "discard"), "1");
    xlcfg_entry_free(&e);

    CU_ASSERT_EQUAL_FATAL(xlcfg_parse_entry(schema, 1,
        "type=console, output=file:/var/log/g.log, rows=25, cols=80", &e, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(param(&e.req, "output"), "file:/var/log/g.log");
    CU_ASSERT_STRING_EQUAL(param(&e.req, "rows"), "25");
    xlcfg_entry_free(&e);

    CU_ASSERT_EQUAL_FATAL(xlcfg_parse_entry(schema, 0, "type=rng, source=/dev/hwrng", &e, err,
                                            sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(param(&e.req, "source"), "/dev/hwrng");
    xlcfg_entry_free(&e);

    CU_ASSERT_EQUAL_FATAL(xlcfg_parse_entry(schema, 0, "type=26", &e, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(e.req.type, "26");
    xlcfg_entry_free(&e);
}

/* Entry `text` is refused; the message names entry index 5, its text and `key`. */
static void refused(const char *text, const char *key, const char *also)
{
    struct xlcfg_entry e;
    char err[512], want[600];

    CU_ASSERT_EQUAL(xlcfg_parse_entry(schema, 5, text, &e, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "virtio_msg[5] \"%s\": key %s: ", text, key);
    if (strncmp(err, want, strlen(want)) || (also && !strstr(err, also))) {
        fprintf(stderr, "\n  entry '%s': got '%s', want '%s...%s'", text, err, want,
                also ? also : "");
        CU_FAIL("message does not name the entry and the key");
    }
    CU_ASSERT_PTR_NULL(e.text);     /* nothing to free after a refusal */
}

static void test_errors_name_entry_and_key(void)
{
    refused("type=blk, target=/a, colour=red", "colour", "unknown parameter");
    refused("type=rng, target=/a", "target", "unknown parameter");
    refused("type=blk, target=/a, ro=2", "ro", "expected");
    refused("type=blk, target=relative.img", "target", "expected");
    refused("type=blk, ro", "target", "needs parameter target");
    refused("type=gpu", "type", "expected");
    refused("target=/a", "type", "missing");
    refused("type=blk, target=/a, target=/b", "target", "given twice");
    refused("type=blk, target=/a, ro, rw", "rw", "given twice");
    refused("type=rng, type=rng", "type", "given twice");
    refused("type=blk, target=/a, bus=256", "bus", "bus");
    refused("type=blk, target=/a, devnum=x", "devnum", "devnum");
    refused("type=console, ro", "ro", "bare word");
    refused("type=blk, target=/a, fast", "fast", "bare word");
    refused("type=blk, target=/a, rw=1", "rw", "a word, not a key");
    refused("type=console, output=", "output", "empty value");
    refused("type=console, output=tty", "output", "expected");
    refused("type=rng, source=dev/hwrng", "source", "expected");
    refused("type=blk, target=/a, serial=123456789012345678901", "serial", "expected");
    refused("type=blk, target=/a, =x", "''", "without a key");
}

static void test_read_config(void)
{
    static const char cfg[] =
        "# a guest\n"
        "name = \"guest1\"\n"
        "memory = 128\n"
        "virtio_msg = [ \"type=blk, target=/srv/guest.img\",\n"
        "               'type=console, output=pty',\n"
        "               \"type=rng\" ]\n";
    struct xlcfg c;
    char err[512];

    CU_ASSERT_EQUAL_FATAL(xlcfg_read_data(schema, "guest1.cfg", cfg, sizeof(cfg) - 1, &c, err,
                                          sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(c.name, "guest1");
    CU_ASSERT_EQUAL_FATAL(c.count, 3);
    CU_ASSERT_STRING_EQUAL(c.entries[0].req.type, "blk");
    CU_ASSERT_STRING_EQUAL(c.entries[1].text, "type=console, output=pty");
    CU_ASSERT_EQUAL(c.entries[2].index, 2);
    xlcfg_free(&c);

    /* No virtio_msg at all is not an error: nothing to attach. */
    CU_ASSERT_EQUAL(xlcfg_read_data(schema, "x", "name='a'\n", 9, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.count, 0);
    xlcfg_free(&c);
}

static void test_read_config_errors(void)
{
    static const char bad_entry[] =
        "name = \"g\"\nvirtio_msg = [ \"type=rng\", \"type=blk, target=/a, speed=9\" ]\n";
    static const char not_list[] = "name = \"g\"\nvirtio_msg = \"type=rng\"\n";
    static const char syntax[] = "name = \"g\"\nvirtio_msg = [ \"type=rng\"\n";
    struct xlcfg c;
    char err[512];

    CU_ASSERT_EQUAL(xlcfg_read_data(schema, "g.cfg", bad_entry, sizeof(bad_entry) - 1, &c, err,
                                    sizeof(err)), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "g.cfg: virtio_msg[1] \"type=blk, target=/a, speed=9\": "
                                       "key speed: "));
    CU_ASSERT_EQUAL(c.count, 0);
    CU_ASSERT_EQUAL(xlcfg_read_data(schema, "g.cfg", not_list, sizeof(not_list) - 1, &c, err,
                                    sizeof(err)), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "virtio_msg: expected a list"));
    CU_ASSERT_EQUAL(xlcfg_read_data(schema, "g.cfg", syntax, sizeof(syntax) - 1, &c, err,
                                    sizeof(err)), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "g.cfg: not a valid xl config"));
}

/* KEY=VALUE arguments after the file, as `xl create CFG KEY=VALUE` adds them. */
static void test_read_file_with_extra(void)
{
    char path[64], err[512];
    struct xlcfg c;
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/vmsg-test-xlcfg-%d.cfg", (int)getpid());
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("name = \"a\"\nvirtio_msg = [ \"type=rng\" ]\n", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(xlcfg_read_file(schema, path, "name=\"b\"\n", &c, err, sizeof(err)),
                          0);
    CU_ASSERT_STRING_EQUAL(c.name, "b");
    CU_ASSERT_EQUAL(c.count, 1);
    xlcfg_free(&c);
    unlink(path);
    CU_ASSERT_EQUAL(xlcfg_read_file(schema, path, NULL, &c, err, sizeof(err)), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
}

static void register_suites(void)
{
    VMSG_SUITE("xlcfg", suite_init, suite_clean);
    VMSG_TEST(test_good_entries);
    VMSG_TEST(test_errors_name_entry_and_key);
    VMSG_TEST(test_read_config);
    VMSG_TEST(test_read_config_errors);
    VMSG_TEST(test_read_file_with_extra);
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
