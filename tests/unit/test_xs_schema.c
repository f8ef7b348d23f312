/*
 * tests/unit/test_xs_schema.c: the xenstore schema (loading, patterns,
 * value types) and `vmsgctl check` on live trees in the fake platform:
 * a correct connected bus instance passes, and each kind of violation
 * (bad value, missing node, wrong permissions, F/B disagreeing, unknown
 * nodes and keys) is found and named.
 */
#include "config.h"

#include "test_vmsgctl_env.h"
#include "tools/xs_schema.h"
#include "tools/xs_schema_check.h"
#include "vmsg_test.h"

static struct xs_schema *schema(void)
{
    struct xs_schema *s = NULL;
    char err[256];

    if (xs_schema_parse(xs_schema_builtin_json, &s, err, sizeof(err)))
        fprintf(stderr, "built-in schema: %s\n", err);
    return s;
}

/* ---- the schema itself ---------------------------------------------------------- */

static void builtin_schema_describes_both_directories(void)
{
    struct xs_schema *s = schema();
    const struct xs_dir_rule *f, *b;

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->name, "virtio-msg-xen-bus");
    CU_ASSERT_EQUAL(s->version, 1);
    f = xs_schema_dir(s, "frontend");
    b = xs_schema_dir(s, "backend");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(f->perms, "n<FE> r<BE>");
    CU_ASSERT_STRING_EQUAL(b->perms, "n<BE> r<FE>");
    CU_ASSERT_PTR_NOT_NULL(xs_dev_type_param(xs_schema_dev_type(s, "blk"), "target"));
    CU_ASSERT_TRUE(xs_dev_type_param(xs_schema_dev_type(s, "blk"), "target")->required);
    CU_ASSERT_PTR_NULL(xs_dev_type_param(xs_schema_dev_type(s, "rng"), "target"));
    xs_schema_free(s);
}

static void malformed_schemas_are_rejected_with_their_location(void)
{
    static const struct {
        const char *json, *where;
    } cases[] = {
        { "{", "JSON" },
        { "{\"version\": 1}", "'schema' is missing" },
        { "{\"schema\": \"x\", \"placeholders\": {}, \"directories\": [{\"name\": \"f\", "
          "\"path\": \"/a/<N>\", \"permissions\": \"n0\", \"nodes\": [{\"path\": \"x\", "
          "\"value\": {\"type\": \"decmial\"}}]}]}",
          "directories[0].nodes[0].value: unknown type 'decmial'" },
        { "{\"schema\": \"x\", \"placeholders\": {}, \"directories\": [{\"name\": \"f\", "
          "\"path\": \"/a/<N>\", \"permissions\": \"n0\", \"nodes\": [{\"path\": \"x\", "
          "\"required\": \"state=>3\", \"value\": {\"type\": \"text\"}}]}]}",
          "cannot parse 'state=>3'" },
        { "{\"schema\": \"x\", \"placeholders\": {}, \"directories\": [{\"name\": \"f\", "
          "\"path\": \"/a/b\", \"permissions\": \"n0\", \"nodes\": []}]}",
          "must be absolute and contain a placeholder" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xs_schema *s = NULL;
        char err[256] = "";

        CU_ASSERT_EQUAL(xs_schema_parse(cases[i].json, &s, err, sizeof(err)), -EINVAL);
        CU_ASSERT_PTR_NULL(s);
        if (!strstr(err, cases[i].where))
            fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, err, cases[i].where);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].where));
    }
}

static void patterns_match_bind_and_substitute(void)
{
    struct xs_schema *s = schema();
    struct xs_bindings b = { 0 };
    char out[128];

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(xs_pattern_match(s, "/local/domain/<BE>/backend/virtio-msg/<FE>/<N>",
                                    "/local/domain/1/backend/virtio-msg/3/0", &b));
    CU_ASSERT_STRING_EQUAL(xs_bind_get(&b, "BE"), "1");
    CU_ASSERT_STRING_EQUAL(xs_bind_get(&b, "FE"), "3");
    CU_ASSERT_EQUAL(xs_pattern_subst("/local/domain/<FE>/device/virtio-msg/<N>", &b, out,
                                     sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "/local/domain/3/device/virtio-msg/0");
    /* Bus indices are 0..255 and decimals are strict. */
    CU_ASSERT_FALSE(xs_pattern_match(s, "<N>", "256", NULL));
    CU_ASSERT_FALSE(xs_pattern_match(s, "<N>", "01", NULL));
    CU_ASSERT_FALSE(xs_pattern_match(s, "devices/<D>/type", "devices/0/state", NULL));
    CU_ASSERT_TRUE(xs_pattern_match(s, "devices/<D>/params/<key>", "devices/9/params/ro", &b));
    CU_ASSERT_STRING_EQUAL(xs_bind_get(&b, "key"), "ro");
    CU_ASSERT_EQUAL(xs_pattern_subst("<XX>", &b, out, sizeof(out)), -ENOENT);
    xs_schema_free(s);
}

static void values_are_checked_strictly(void)
{
    struct xs_schema *s = schema();
    const struct xs_dir_rule *f;
    const struct xs_value dec = { .type = XS_V_DECIMAL, .min = 48, .max = 65535 };
    const struct xs_value list = { .type = XS_V_DECIMAL_LIST, .max = UINT32_MAX };
    const struct xs_value state = { .type = XS_V_XENBUS_STATE };
    const struct xs_value type = { .type = XS_V_DEVICE_TYPE };
    struct xs_value_ctx tight = { .has_max = true, .max = 264 };
    struct xs_value_ctx two = { .has_count = true, .count = 2 };
    char exp[256];

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(xs_value_check(s, &dec, NULL, "264", exp, sizeof(exp)), 0);
    CU_ASSERT_EQUAL(xs_value_check(s, &dec, NULL, "0264", exp, sizeof(exp)), -EINVAL);
    CU_ASSERT_EQUAL(xs_value_check(s, &dec, NULL, "47", exp, sizeof(exp)), -EINVAL);
    CU_ASSERT_STRING_EQUAL(exp, "a decimal 48..65535");
    CU_ASSERT_EQUAL(xs_value_check(s, &dec, &tight, "300", exp, sizeof(exp)), -EINVAL);
    CU_ASSERT_STRING_EQUAL(exp, "a decimal 48..264");
    CU_ASSERT_EQUAL(xs_value_check(s, &list, &two, "8 9", exp, sizeof(exp)), 0);
    CU_ASSERT_EQUAL(xs_value_check(s, &list, &two, "8", exp, sizeof(exp)), -EINVAL);
    CU_ASSERT_EQUAL(xs_value_check(s, &list, &two, "8  9", exp, sizeof(exp)), -EINVAL);
    CU_ASSERT_EQUAL(xs_value_check(s, &state, NULL, "6", exp, sizeof(exp)), 0);
    CU_ASSERT_EQUAL(xs_value_check(s, &state, NULL, "7", exp, sizeof(exp)), -EINVAL);
    CU_ASSERT_EQUAL(xs_value_check(s, &type, NULL, "console", exp, sizeof(exp)), 0);
    CU_ASSERT_EQUAL(xs_value_check(s, &type, NULL, "26", exp, sizeof(exp)), 0);
    CU_ASSERT_EQUAL(xs_value_check(s, &type, NULL, "net", exp, sizeof(exp)), -EINVAL);
    /* console output: the enum's "<path>" entries take absolute paths only. */
    {
        const struct xs_param_rule *out =
            xs_dev_type_param(xs_schema_dev_type(s, "console"), "output");

        CU_ASSERT_EQUAL(xs_value_check(s, &out->value, NULL, "file:/var/log/c", exp,
                                       sizeof(exp)), 0);
        CU_ASSERT_EQUAL(xs_value_check(s, &out->value, NULL, "file:", exp, sizeof(exp)),
                        -EINVAL);
        CU_ASSERT_EQUAL(xs_value_check(s, &out->value, NULL, "pty ", exp, sizeof(exp)),
                        -EINVAL);
    }
    f = xs_schema_dir(s, "frontend");
    CU_ASSERT_EQUAL(f->nodes[3].required.kind, XS_REQ_WHEN);   /* ring-ref */
    CU_ASSERT_EQUAL(f->nodes[3].required.nconds, 2);
    xs_schema_free(s);
}

/* ---- check on live trees ---------------------------------------------------------- */

/* Violations collected as "PATH: WHAT (EXPECTED)" lines. */
struct found {
    char text[8192];
    unsigned n;
};

static void collect(void *arg, const char *path, const char *what, const char *expected)
{
    struct found *f = arg;
    size_t o = strlen(f->text);

    f->n++;
    snprintf(f->text + o, sizeof(f->text) - o, "%s: %s (%s)\n", path, what, expected);
}

static int check(struct found *f)
{
    struct xs_schema *s = schema();
    struct vmsg_platform *p;
    int rc;

    memset(f, 0, sizeof(*f));
    if (!s || fake_platform_open(t_fx, 0, &p)) {
        xs_schema_free(s);
        return -1;
    }
    rc = xs_check_tree(p, s, collect, f, NULL);
    vmsg_plat_close(p);
    xs_schema_free(s);
    if (f->n)
        fprintf(stderr, "%s", f->text);
    return rc;
}

static bool found(const struct found *f, const char *path, const char *what)
{
    for (const char *line = f->text; *line; line = strchr(line, '\n') + 1)
        if (!strncmp(line, path, strlen(path)) && line[strlen(path)] == ':' &&
            strstr(line, what) && strstr(line, what) < strchr(line, '\n'))
            return true;
    fprintf(stderr, "not found: %s: ...%s...\n", path, what);
    return false;
}

/* A connected bus instance with a blk and an rng device, as the ends leave it. */
static void seed_connected(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=blk", "backend=driver",
                               "target=/img", NULL);
    struct t_run b = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", "backend=driver",
                               NULL);

    t_run_free(&a);
    t_run_free(&b);
    t_put(T_B "/max-msg-size", "264");
    t_put(T_B "/versions", "1");
    t_put(T_B "/features", "0");
    t_put(T_B "/max-pool-pages", "16384");
    t_put(T_B "/state", "4");
    t_put(T_B "/devices/0/state", "4");
    t_put(T_B "/devices/1/state", "4");
    t_put(T_F "/ring-ref", "8");
    t_put(T_F "/event-channel", "17");
    t_put(T_F "/version", "1");
    t_put(T_F "/pool-pages", "2048");
    t_put(T_F "/pool-dir-ref", "9 10");
    t_put(T_F "/state", "4");
}

static void check_passes_a_fresh_and_a_connected_tree(void)
{
    struct t_run a = t_vmsgctl(vmsgctl_attach, "attach", "guest", "type=rng", NULL);
    struct found f;

    /* Right after attach, with dom0 as the backend. */
    CU_ASSERT_EQUAL(check(&f), 0);
    t_run_free(&a);
    t_teardown();
    CU_ASSERT_EQUAL_FATAL(t_setup(), 0);
    seed_connected();
    CU_ASSERT_EQUAL(check(&f), 0);
}

static void check_finds_bad_values(void)
{
    struct found f;

    seed_connected();
    t_put(T_B "/max-msg-size", "0x108");
    t_put(T_F "/event-channel", "-1");
    t_put(T_F "/pool-dir-ref", "9");            /* 2048 pages need two */
    t_put(T_B "/devices/0/params/ro", "yes");
    t_put(T_B "/devices/1/state", "9");
    CU_ASSERT_EQUAL(check(&f), 5);
    CU_ASSERT(found(&f, T_B "/max-msg-size", "value '0x108' is not valid (a decimal 48..65535)"));
    CU_ASSERT(found(&f, T_F "/event-channel", "value '-1'"));
    CU_ASSERT(found(&f, T_F "/pool-dir-ref", "(2 decimals"));
    CU_ASSERT(found(&f, T_B "/devices/0/params/ro", "a decimal 0..1"));
    CU_ASSERT(found(&f, T_B "/devices/1/state", "XenbusState"));
}

static void check_limits_frontend_values_by_the_backend_offer(void)
{
    struct found f;

    seed_connected();
    t_put(T_B "/max-pool-pages", "1024");
    t_put(T_F "/max-msg-size", "300");
    CU_ASSERT_EQUAL(check(&f), 2);
    CU_ASSERT(found(&f, T_F "/pool-pages", "a decimal 1..1024"));
    CU_ASSERT(found(&f, T_F "/max-msg-size", "a decimal 48..264"));
}

static void check_finds_missing_nodes_for_the_state(void)
{
    struct found f;

    seed_connected();
    t_rm(T_F "/ring-ref");
    t_rm(T_B "/versions");
    t_rm(T_B "/devices/1/type");
    t_rm(T_B "/devices/0/params/target");
    t_rm(T_B "/online");
    CU_ASSERT_EQUAL(check(&f), 5);
    CU_ASSERT(found(&f, T_F "/ring-ref", "missing (written by frontend) (required when "
                                         "state>=3 && state<=4 (state is 4, state is 4))"));
    CU_ASSERT(found(&f, T_B "/versions", "missing"));
    CU_ASSERT(found(&f, T_B "/devices/1/type", "missing"));
    CU_ASSERT(found(&f, T_B "/devices/0/params/target", "required for type blk"));
    CU_ASSERT(found(&f, T_B "/online", "missing"));
    /* Before Initialised the ring nodes are not required. */
    t_put(T_F "/state", "1");
    CU_ASSERT_EQUAL(check(&f), 4);
}

static void check_finds_wrong_permissions(void)
{
    const struct vmsg_xs_perm guest_only[] = { { T_FE, VMSG_XS_PERM_NONE } };
    const struct vmsg_xs_perm swapped[] = { { T_FE, VMSG_XS_PERM_NONE },
                                            { T_BE, VMSG_XS_PERM_READ } };
    struct vmsg_platform *p;
    struct found f;

    seed_connected();
    CU_ASSERT_EQUAL_FATAL(fake_platform_open(t_fx, 0, &p), 0);
    /* The backend could not read the ring reference; the guest owns a B node. */
    CU_ASSERT_EQUAL(vmsg_plat_xs_set_perms(p, VMSG_XS_TX_NONE, T_F "/ring-ref", guest_only, 1),
                    0);
    CU_ASSERT_EQUAL(vmsg_plat_xs_set_perms(p, VMSG_XS_TX_NONE, T_B "/devices/0/type", swapped,
                                           2), 0);
    vmsg_plat_close(p);
    CU_ASSERT_EQUAL(check(&f), 2);
    CU_ASSERT(found(&f, T_F "/ring-ref", "permissions are 'n3' ('n3 r1'"));
    CU_ASSERT(found(&f, T_B "/devices/0/type", "permissions are 'n3 r1' ('n1 r3'"));
}

static void check_finds_frontend_and_backend_disagreeing(void)
{
    struct found f;

    seed_connected();
    t_put(T_B "/frontend-id", "4");
    CU_ASSERT_EQUAL(check(&f), 1);
    CU_ASSERT(found(&f, T_B "/frontend-id", "value '4' does not match ('3')"));
    t_put(T_B "/frontend-id", "3");
    /* F names a backend directory that does not exist. */
    t_put(T_F "/backend-id", "0");
    t_put(T_F "/backend", "/local/domain/0/backend/virtio-msg/3/0");
    CU_ASSERT(check(&f) >= 2);
    CU_ASSERT(found(&f, T_F "/backend", "which has no 'frontend' node"));
    /* B names back to F, but F names another B: the backend side reports it. */
    CU_ASSERT(found(&f, T_B "/frontend", "whose 'backend' is '/local/domain/0/backend"));
}

static void check_finds_unknown_nodes_keys_and_names(void)
{
    struct found f;

    seed_connected();
    t_put(T_F "/ring-refs", "8");
    t_put(T_B "/devices/0/params/readonly", "1");
    t_put(T_B "/devices/x/type", "rng");
    t_put("/local/domain/3/device/virtio-msg/bus0/state", "1");
    CU_ASSERT_EQUAL(check(&f), 4);
    CU_ASSERT(found(&f, T_F "/ring-refs", "not in the frontend directory schema"));
    CU_ASSERT(found(&f, T_B "/devices/0/params/readonly", "unknown parameter 'readonly' for "
                                                          "type blk"));
    CU_ASSERT(found(&f, T_B "/devices/x", "not in the backend directory schema"));
    CU_ASSERT(found(&f, "/local/domain/3/device/virtio-msg/bus0", "unexpected node 'bus0'"));
}

static void check_reads_a_schema_file(void)
{
    struct xs_schema *s = NULL;
    char err[256], path[512];
    const char *top = getenv("top_srcdir");

    snprintf(path, sizeof(path), "%s/xenstore-schema/virtio-msg-v1.json", top ? top : ".");
    CU_ASSERT_EQUAL(xs_schema_load_file(path, &s, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(s);
    xs_schema_free(s);
    CU_ASSERT_EQUAL(xs_schema_load_file("/nonexistent/schema.json", &s, err, sizeof(err)),
                    -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/schema.json"));
}

static void check_command_prints_violations_and_exits_1(void)
{
    struct t_run ok, bad;

    seed_connected();
    ok = t_vmsgctl(vmsgctl_check, "check", NULL);
    CU_ASSERT_EQUAL(ok.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(ok.out, "0 violations in 2 bus directories"));
    t_put(T_B "/features", "1");
    bad = t_vmsgctl(vmsgctl_check, "check", "--quiet", NULL);
    CU_ASSERT_EQUAL(bad.status, 1);
    CU_ASSERT_STRING_EQUAL(bad.out, T_B "/features: value '1' is not valid (expected: a "
                                        "decimal 0..0)\n");
    t_run_free(&ok);
    t_run_free(&bad);
}

static void register_suites(void)
{
    {
        VMSG_SUITE("xs_schema", NULL, NULL);
        VMSG_TEST(builtin_schema_describes_both_directories);
        VMSG_TEST(malformed_schemas_are_rejected_with_their_location);
        VMSG_TEST(patterns_match_bind_and_substitute);
        VMSG_TEST(values_are_checked_strictly);
        VMSG_TEST(check_reads_a_schema_file);
    }
    /* A fresh machine per test: one suite each (init and cleanup run per suite). */
#define ONE(fn) \
    { \
        VMSG_SUITE(#fn, t_setup, t_teardown); \
        VMSG_TEST(fn); \
    }
    ONE(check_passes_a_fresh_and_a_connected_tree)
    ONE(check_finds_bad_values)
    ONE(check_limits_frontend_values_by_the_backend_offer)
    ONE(check_finds_missing_nodes_for_the_state)
    ONE(check_finds_wrong_permissions)
    ONE(check_finds_frontend_and_backend_disagreeing)
    ONE(check_finds_unknown_nodes_keys_and_names)
    ONE(check_command_prints_violations_and_exits_1)
#undef ONE
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
