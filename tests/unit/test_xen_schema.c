/*
 * tests/unit/test_xen_schema.c: the xenstore schema of the Xen bus
 * (lib/xen/xen_schema.h, docs/protocol.md sections 2, 6, 7): the strict
 * parser, paths, what each side may write (the fake enforces libxl's
 * permissions, so these fail if the rules were wrong), the one-time read
 * of F with every bad value, and the device nodes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_xen_env.h"
#include "vmsg_test.h"
#include "util/vmsg_log.h"
#include "xen/xen_schema.h"

#define F_DIR "/local/domain/3/device/virtio-msg/0"
#define B_DIR "/local/domain/1/backend/virtio-msg/3/0"

/* ---- parser --------------------------------------------------------------------- */

static void parse_accepts_plain_decimals(void)
{
    uint32_t v = 7;

    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("0", 0, 10, &v), 0);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("264", 48, 65535, &v), 0);
    CU_ASSERT_EQUAL(v, 264);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, UINT32_MAX);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("48", 48, 48, &v), 0);
}

static void parse_rejects_every_bad_syntax(void)
{
    static const char *const bad[] = {
        "", "+1", "-1", "-0", " 1", "1 ", "\t1", "1\n", "01", "00", "007", "0x10", "1a",
        "1.0", "1e3", "1,0", "one", " ", "1 2",
    };
    uint32_t v = 12345;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = vmsg_xs_parse_u32(bad[i], 0, UINT32_MAX, &v);
        if (rc != -EINVAL)
            fprintf(stderr, "accepted or misjudged '%s': %d\n", bad[i], rc);
        CU_ASSERT_EQUAL(rc, -EINVAL);
    }
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32(NULL, 0, 1, &v), -EINVAL);
    CU_ASSERT_EQUAL(v, 12345);  /* never written on failure */
}

static void parse_rejects_out_of_range_and_overflow(void)
{
    uint32_t v = 1;

    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("47", 48, 65535, &v), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("65536", 48, 65535, &v), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("0", 1, 10, &v), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("4294967296", 0, UINT32_MAX, &v), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("18446744073709551617", 0, UINT32_MAX, &v), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32("99999999999999999999999999999", 0, UINT32_MAX, &v),
                    -ERANGE);
    CU_ASSERT_EQUAL(v, 1);
}

static void parse_list_needs_exactly_one_space_between(void)
{
    uint32_t r[3] = { 0 };

    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5 6", 0, UINT32_MAX, r, 2), 0);
    CU_ASSERT(r[0] == 5 && r[1] == 6);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("7", 0, UINT32_MAX, r, 1), 0);
    CU_ASSERT_EQUAL(r[0], 7);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5  6", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list(" 5 6", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5 6 ", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5 6 7", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5,6", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("05 6", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5\t6", 0, UINT32_MAX, r, 2), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("", 0, UINT32_MAX, r, 1), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("5 4294967296", 0, UINT32_MAX, r, 2), -ERANGE);
    /* A range error does not hide a later syntax error. */
    CU_ASSERT_EQUAL(vmsg_xs_parse_u32_list("4294967296 x", 0, UINT32_MAX, r, 2), -EINVAL);
}

static void versions_list_is_parsed_strictly(void)
{
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("1", 1), 1);
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("2 1", 1), 1);
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("2 3", 1), 0);
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("1 ", 1), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("", 1), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("1  2", 1), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("0", 1), -ERANGE);
    CU_ASSERT_EQUAL(vmsg_xs_versions_has("01", 1), -EINVAL);
}

static void paths_follow_the_pv_layout(void)
{
    char p[VMSG_XS_PATH_MAX];

    CU_ASSERT_EQUAL(vmsg_xs_fe_dir(p, sizeof(p), 3, 0), 0);
    CU_ASSERT_STRING_EQUAL(p, F_DIR);
    CU_ASSERT_EQUAL(vmsg_xs_be_dir(p, sizeof(p), 1, 3, 255), 0);
    CU_ASSERT_STRING_EQUAL(p, "/local/domain/1/backend/virtio-msg/3/255");
    CU_ASSERT_EQUAL(vmsg_xs_fe_dir(p, sizeof(p), 3, 256), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_xs_be_dir(p, 16, 1, 3, 0), -EINVAL);
    CU_ASSERT_STRING_EQUAL(vmsg_xb_state_name(VMSG_XB_INITWAIT), "InitWait");
    CU_ASSERT_STRING_EQUAL(vmsg_xb_state_name(99), "Invalid");
}

/* ---- xenstore fixture -------------------------------------------------------------- */

static struct fake_xen *fx;
static struct vmsg_platform *tool, *be, *fe;

static void up(void)
{
    fx = fake_xen_new();
    CU_ASSERT_FATAL(fx != NULL);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_BE, "driver") == 0);
    CU_ASSERT_FATAL(fake_xen_add_domain(fx, ENV_FE, "guest") == 0);
    CU_ASSERT_FATAL(fake_platform_open(fx, 0, &tool) == 0);
    CU_ASSERT_FATAL(fake_platform_open(fx, ENV_BE, &be) == 0);
    CU_ASSERT_FATAL(fake_platform_open(fx, ENV_FE, &fe) == 0);
    CU_ASSERT_FATAL(env_toolstack_create(tool, ENV_BE, ENV_FE, 0) == 0);
}

static void down(void)
{
    vmsg_plat_close(fe);
    vmsg_plat_close(be);
    vmsg_plat_close(tool);
    fake_xen_free(fx);
}

static void put(struct vmsg_platform *p, const char *dir, const char *node, const char *v)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    CU_ASSERT_EQUAL_FATAL(vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, path, v, strlen(v)), 0);
}

static void del(struct vmsg_platform *p, const char *dir, const char *node)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    CU_ASSERT_EQUAL_FATAL(vmsg_plat_xs_rm(p, VMSG_XS_TX_NONE, path), 0);
}

static void each_side_writes_only_its_own_directory(void)
{
    struct vmsg_xen_back_params params = { 0 };

    up();
    CU_ASSERT_EQUAL(vmsg_xen_back_params_check(&params), 0);
    /* The backend publishes into B; the frontend may not. */
    CU_ASSERT_EQUAL(vmsg_xs_back_publish(be, B_DIR, &params, 1), 0);
    CU_ASSERT_EQUAL(vmsg_xs_back_publish(fe, B_DIR, &params, 1), -EACCES);
    CU_ASSERT_EQUAL(vmsg_xs_write_state(fe, VMSG_XS_TX_NONE, B_DIR, "frontend", 2, 6), -EACCES);
    CU_ASSERT_EQUAL(vmsg_xs_back_set_error(fe, B_DIR, "forged"), -EACCES);
    /* The frontend publishes into F; the backend may not. */
    struct vmsg_xs_front_info info = { .ring_ref = 8, .event_channel = 5, .version = 1,
                                       .pool_pages = 1, .ndir = 1, .pool_dir_refs = { 9 } };
    CU_ASSERT_EQUAL(vmsg_xs_front_publish(be, F_DIR, &info, 1), -EACCES);
    CU_ASSERT_EQUAL(vmsg_xs_write_state(be, VMSG_XS_TX_NONE, F_DIR, "backend", 1, 3), -EACCES);
    CU_ASSERT_EQUAL(vmsg_xs_front_publish(fe, F_DIR, &info, 1), 0);
    /* Each reads the other's. */
    unsigned st = 0;
    CU_ASSERT_EQUAL(vmsg_xs_read_state(be, VMSG_XS_TX_NONE, F_DIR, &st), 0);
    CU_ASSERT_EQUAL(st, VMSG_XB_INITIALISED);
    CU_ASSERT_EQUAL(vmsg_xs_read_state(fe, VMSG_XS_TX_NONE, B_DIR, &st), 0);
    CU_ASSERT_EQUAL(st, VMSG_XB_INITWAIT);
    /* Published nodes inherited the directory's rules. */
    struct vmsg_xs_perm *perms = NULL;
    unsigned n = 0;
    CU_ASSERT_EQUAL(vmsg_plat_xs_get_perms(be, VMSG_XS_TX_NONE, F_DIR "/ring-ref", &perms, &n), 0);
    CU_ASSERT(n == 2 && perms[0].domid == ENV_FE && perms[1].domid == ENV_BE &&
              perms[1].perms == VMSG_XS_PERM_READ);
    free(perms);
    CU_ASSERT_EQUAL(vmsg_plat_xs_get_perms(fe, VMSG_XS_TX_NONE, B_DIR "/max-pool-pages", &perms,
                                           &n), 0);
    CU_ASSERT(n == 2 && perms[0].domid == ENV_BE && perms[1].domid == ENV_FE);
    free(perms);
    down();
}

static void backend_publishes_parameters_with_initwait(void)
{
    struct vmsg_xen_back_params params = { .max_msg_size = 512, .max_pool_pages = 100 };
    struct vmsg_xs_back_info info;

    up();
    CU_ASSERT_EQUAL(vmsg_xen_back_params_check(&params), 0);
    CU_ASSERT_EQUAL(vmsg_xs_back_publish(be, B_DIR, &params, 1), 0);
    CU_ASSERT(env_is(fe, B_DIR "/versions", "1"));
    CU_ASSERT(env_is(fe, B_DIR "/features", "0"));
    CU_ASSERT(env_is(fe, B_DIR "/state", "2"));
    CU_ASSERT_EQUAL(vmsg_xs_front_read_backend(fe, B_DIR, &info), 0);
    CU_ASSERT_EQUAL(info.max_msg_size, 512);
    CU_ASSERT_EQUAL(info.max_pool_pages, 100);
    /* A frontend refuses what a rogue or newer backend offers. */
    put(be, B_DIR, "versions", "2 3");
    CU_ASSERT_EQUAL(vmsg_xs_front_read_backend(fe, B_DIR, &info), -EPROTONOSUPPORT);
    put(be, B_DIR, "versions", "1");
    put(be, B_DIR, "max-msg-size", "47");
    CU_ASSERT_EQUAL(vmsg_xs_front_read_backend(fe, B_DIR, &info), -ERANGE);
    put(be, B_DIR, "max-msg-size", "264");
    put(be, B_DIR, "max-pool-pages", "0");
    CU_ASSERT_EQUAL(vmsg_xs_front_read_backend(fe, B_DIR, &info), -ERANGE);
    put(be, B_DIR, "max-pool-pages", " 5");
    CU_ASSERT_EQUAL(vmsg_xs_front_read_backend(fe, B_DIR, &info), -EINVAL);
    /* Defaults and limits of the parameters themselves. */
    struct vmsg_xen_back_params d = { 0 }, bad = { .max_msg_size = 47 };
    CU_ASSERT_EQUAL(vmsg_xen_back_params_check(&d), 0);
    CU_ASSERT(d.max_msg_size == 264 && d.max_pool_pages == 16384);
    CU_ASSERT_EQUAL(vmsg_xen_back_params_check(&bad), -EINVAL);
    down();
}

static void toolstack_nodes_must_name_this_instance(void)
{
    char other[VMSG_XS_PATH_MAX];
    uint32_t be_id = 0;

    up();
    CU_ASSERT_EQUAL(vmsg_xs_back_read_toolstack(be, B_DIR, ENV_FE, 0, other), 0);
    CU_ASSERT_STRING_EQUAL(other, F_DIR);
    CU_ASSERT_EQUAL(vmsg_xs_front_read_toolstack(fe, F_DIR, ENV_FE, 0, &be_id, other), 0);
    CU_ASSERT_EQUAL(be_id, ENV_BE);
    CU_ASSERT_STRING_EQUAL(other, B_DIR);
    /* The wrong frontend id, or a path elsewhere: refused. */
    CU_ASSERT_EQUAL(vmsg_xs_back_read_toolstack(be, B_DIR, 4, 0, other), -EINVAL);
    put(tool, B_DIR, "frontend", "/local/domain/3/device/virtio-msg/1");
    CU_ASSERT_EQUAL(vmsg_xs_back_read_toolstack(be, B_DIR, ENV_FE, 0, other), -EINVAL);
    put(tool, F_DIR, "backend-id", "01");
    CU_ASSERT_EQUAL(vmsg_xs_front_read_toolstack(fe, F_DIR, ENV_FE, 0, &be_id, other), -EINVAL);
    /* online: 1, 0, missing (= 1), garbage. */
    bool on = false;
    CU_ASSERT(vmsg_xs_read_online(be, B_DIR, &on) == 0 && on);
    put(tool, B_DIR, "online", "0");
    CU_ASSERT(vmsg_xs_read_online(be, B_DIR, &on) == 0 && !on);
    put(tool, B_DIR, "online", "2");
    CU_ASSERT_EQUAL(vmsg_xs_read_online(be, B_DIR, &on), -ERANGE);
    del(tool, B_DIR, "online");
    CU_ASSERT(vmsg_xs_read_online(be, B_DIR, &on) == 0 && on);
    down();
}

/* ---- F read once, every bad value ------------------------------------------------ */

static void publish_good_frontend(uint32_t pool_pages, const char *dir_refs)
{
    put(fe, F_DIR, "ring-ref", "8");
    put(fe, F_DIR, "event-channel", "5");
    put(fe, F_DIR, "version", "1");
    char v[16];
    snprintf(v, sizeof(v), "%u", pool_pages);
    put(fe, F_DIR, "pool-pages", v);
    put(fe, F_DIR, "pool-dir-ref", dir_refs);
}

struct bad_fe {
    const char *node;
    const char *value;      /* NULL: remove the node */
    int rc;
};

static void backend_reads_frontend_strictly(void)
{
    static const struct bad_fe cases[] = {
        { "version", NULL, -ENOENT },
        { "version", "2", -EPROTONOSUPPORT },
        { "version", "01", -EINVAL },
        { "ring-ref", NULL, -ENOENT },
        { "ring-ref", "-1", -EINVAL },
        { "ring-ref", "4294967296", -ERANGE },
        { "ring-ref", "8 ", -EINVAL },
        { "event-channel", "0", -ERANGE },
        { "event-channel", "", -EINVAL },
        { "max-msg-size", "47", -ERANGE },
        { "max-msg-size", "265", -ERANGE },     /* above what B offered */
        { "max-msg-size", "0264", -EINVAL },
        { "pool-pages", NULL, -ENOENT },
        { "pool-pages", "0", -ERANGE },
        { "pool-pages", "16385", -ERANGE },     /* above max-pool-pages */
        { "pool-pages", "0x10", -EINVAL },
        { "pool-dir-ref", NULL, -ENOENT },
        { "pool-dir-ref", "9 10", -EINVAL },    /* 2 refs for 1 page */
        { "pool-dir-ref", "9 ", -EINVAL },
        { "pool-dir-ref", "", -EINVAL },
        { "pool-dir-ref", "+9", -EINVAL },
    };
    struct vmsg_xen_back_params params = { 0 };
    struct vmsg_xs_front_info *info = malloc(sizeof(*info));
    char why[192];

    CU_ASSERT_FATAL(info != NULL);
    CU_ASSERT_EQUAL(vmsg_xen_back_params_check(&params), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        up();
        publish_good_frontend(1, "9");
        if (cases[i].value)
            put(fe, F_DIR, cases[i].node, cases[i].value);
        else
            del(fe, F_DIR, cases[i].node);
        int rc = vmsg_xs_back_read_frontend(be, F_DIR, &params, info, why, sizeof(why));
        if (rc != cases[i].rc)
            fprintf(stderr, "%s='%s': %d, expected %d\n", cases[i].node,
                    cases[i].value ? cases[i].value : "(none)", rc, cases[i].rc);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        /* The error line for B names the node. */
        CU_ASSERT(strstr(why, cases[i].node) != NULL);
        down();
    }
    free(info);
}

/* The one escaping helper: printable ASCII as it is, backslash doubled,
 * every other byte \xNN, and a string that does not fit cut with "...". */
static void log_escape_renders_peer_strings_safely(void)
{
    static const struct {
        const char *in;
        size_t cap;
        const char *out;
    } cases[] = {
        { "plain 123", 64, "plain 123" },
        { "a\nb", 64, "a\\x0ab" },
        { "\x1b[31mred", 64, "\\x1b[31mred" },
        { "back\\slash", 64, "back\\\\slash" },
        { "\x7f\x80\xff\t\r", 64, "\\x7f\\x80\\xff\\x09\\x0d" },
        { "", 64, "" },
        { NULL, 64, "(null)" },
        { "abcdefgh", 8, "abcd..." },       /* cut: room for "..." kept */
        { "abcdefg", 8, "abcdefg" },        /* fits exactly: no cut */
        { "\n\n\n", 8, "\\x0a..." },
        { "xyz", 4, "xyz" },
        { "xyzw", 4, "..." },
    };
    char out[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_PTR_EQUAL(vmsg_log_escape(out, cases[i].cap, cases[i].in), out);
        CU_ASSERT_STRING_EQUAL(out, cases[i].out);
        CU_ASSERT(strlen(out) < cases[i].cap);
    }
    /* The size macro holds any string of that length whole. */
    char big[VMSG_LOG_ESCAPED_SIZE(5)];
    CU_ASSERT_STRING_EQUAL(vmsg_log_escape(big, sizeof(big), "\x01\x02\x03\x04\x05"),
                           "\\x01\\x02\\x03\\x04\\x05");
}

/* Run fn with the log at WARN and its lines captured (stderr sink). */
static void capture_log(void (*fn)(void), char *out, size_t cap)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    CU_ASSERT_FATAL(tmp != NULL && saved >= 0);
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    vmsg_log_set_level(VMSG_LOG_WARN);
    fn();
    vmsg_log_set_level(VMSG_LOG_ERR);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

static void read_hostile_frontend(void)
{
    struct vmsg_xen_back_params params = { 0 };
    struct vmsg_xs_front_info *info = malloc(sizeof(*info));
    char why[192];

    CU_ASSERT_FATAL(info != NULL);
    CU_ASSERT_EQUAL(vmsg_xen_back_params_check(&params), 0);
    publish_good_frontend(1, "9");
    /* A value that would start a forged line and clear the screen. */
    put(fe, F_DIR, "ring-ref", "8\ntest-xen-schema: error: forged\x1b[2J");
    CU_ASSERT_EQUAL(vmsg_xs_back_read_frontend(be, F_DIR, &params, info, why, sizeof(why)),
                    -EINVAL);
    put(fe, F_DIR, "ring-ref", "8");
    put(fe, F_DIR, "pool-dir-ref", "9\r\x7f\xff");
    CU_ASSERT_EQUAL(vmsg_xs_back_read_frontend(be, F_DIR, &params, info, why, sizeof(why)),
                    -EINVAL);
    free(info);
}

/* What a guest writes into F reaches the log escaped: one line per
 * message, no control bytes, the bytes shown as \xNN. */
static void frontend_values_are_logged_escaped(void)
{
    char log[4096];
    unsigned lines = 0;

    up();
    capture_log(read_hostile_frontend, log, sizeof(log));
    down();
    for (const char *c = log; *c; c++) {
        unsigned char b = (unsigned char)*c;

        lines += b == '\n';
        CU_ASSERT_FALSE(b != '\n' && (b < 0x20 || b >= 0x7f));
    }
    CU_ASSERT_EQUAL(lines, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "8\\x0atest-xen-schema: error: forged\\x1b[2J"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "9\\x0d\\x7f\\xff"));
}

static void frontend_info_is_copied_with_the_effective_maximum(void)
{
    struct vmsg_xen_back_params params = { 0 };
    struct vmsg_xs_front_info *info = malloc(sizeof(*info));
    char why[192];

    CU_ASSERT_FATAL(info != NULL);
    CU_ASSERT_EQUAL(vmsg_xen_back_params_check(&params), 0);
    up();
    publish_good_frontend(1025, "9 10");
    CU_ASSERT_EQUAL(vmsg_xs_back_read_frontend(be, F_DIR, &params, info, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(info->max_msg_size, 264);   /* B's: F did not ask for less */
    CU_ASSERT_EQUAL(info->ndir, 2);
    CU_ASSERT(info->pool_dir_refs[0] == 9 && info->pool_dir_refs[1] == 10);
    CU_ASSERT(info->ring_ref == 8 && info->event_channel == 5 && info->pool_pages == 1025);
    put(fe, F_DIR, "max-msg-size", "100");
    CU_ASSERT_EQUAL(vmsg_xs_back_read_frontend(be, F_DIR, &params, info, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(info->max_msg_size, 100);
    /* 1024 pages still need one directory page, 1025 two. */
    put(fe, F_DIR, "pool-pages", "1024");
    CU_ASSERT_EQUAL(vmsg_xs_back_read_frontend(be, F_DIR, &params, info, why, sizeof(why)),
                    -EINVAL);
    put(fe, F_DIR, "pool-dir-ref", "9");
    CU_ASSERT_EQUAL(vmsg_xs_back_read_frontend(be, F_DIR, &params, info, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(info->ndir, 1);
    down();
    free(info);
}

static void frontend_publish_writes_every_node_and_state_last(void)
{
    struct vmsg_xs_front_info info = { .ring_ref = 8, .event_channel = 5, .version = 1,
                                       .max_msg_size = 100, .pool_pages = 1025, .ndir = 2,
                                       .pool_dir_refs = { 11, 12 } };

    up();
    CU_ASSERT_EQUAL(vmsg_xs_front_publish(fe, F_DIR, &info, 1), 0);
    CU_ASSERT(env_is(be, F_DIR "/ring-ref", "8"));
    CU_ASSERT(env_is(be, F_DIR "/event-channel", "5"));
    CU_ASSERT(env_is(be, F_DIR "/version", "1"));
    CU_ASSERT(env_is(be, F_DIR "/max-msg-size", "100"));
    CU_ASSERT(env_is(be, F_DIR "/pool-pages", "1025"));
    CU_ASSERT(env_is(be, F_DIR "/pool-dir-ref", "11 12"));
    CU_ASSERT(env_is(be, F_DIR "/state", "3"));
    /* No preference this time: the old max-msg-size must not linger. */
    info.max_msg_size = 0;
    CU_ASSERT_EQUAL(vmsg_xs_front_publish(fe, F_DIR, &info, 6), 0);
    char *v = env_get(be, F_DIR "/max-msg-size");
    CU_ASSERT_PTR_NULL(v);
    free(v);
    info.ndir = 1;      /* does not match 1025 pages */
    CU_ASSERT_EQUAL(vmsg_xs_front_publish(fe, F_DIR, &info, 1), -EINVAL);
    down();
}

/* A libxenvchan server wrote ring-ref and event-channel into F itself. */
static void frontend_publish_keeps_the_nodes_libxenvchan_wrote(void)
{
    struct vmsg_xs_front_info info = { .ring_ref = 99, .event_channel = 98, .version = 1,
                                       .pool_pages = 1, .ndir = 1, .pool_dir_refs = { 9 },
                                       .channel_nodes_written = true };

    up();
    put(fe, F_DIR, "ring-ref", "8");
    put(fe, F_DIR, "event-channel", "5");
    CU_ASSERT_EQUAL(vmsg_xs_front_publish(fe, F_DIR, &info, 1), 0);
    CU_ASSERT(env_is(be, F_DIR "/ring-ref", "8"));
    CU_ASSERT(env_is(be, F_DIR "/event-channel", "5"));
    CU_ASSERT(env_is(be, F_DIR "/version", "1"));
    CU_ASSERT(env_is(be, F_DIR "/pool-pages", "1"));
    CU_ASSERT(env_is(be, F_DIR "/pool-dir-ref", "9"));
    CU_ASSERT(env_is(be, F_DIR "/state", "3"));
    down();
}

static void state_values_are_checked(void)
{
    unsigned st = 0;

    up();
    CU_ASSERT_EQUAL(vmsg_xs_read_state(be, VMSG_XS_TX_NONE, F_DIR, &st), 0);
    CU_ASSERT_EQUAL(st, 1);
    put(fe, F_DIR, "state", "9");
    CU_ASSERT_EQUAL(vmsg_xs_read_state(be, VMSG_XS_TX_NONE, F_DIR, &st), -ERANGE);
    put(fe, F_DIR, "state", "04");
    CU_ASSERT_EQUAL(vmsg_xs_read_state(be, VMSG_XS_TX_NONE, F_DIR, &st), -EINVAL);
    del(fe, F_DIR, "state");
    CU_ASSERT_EQUAL(vmsg_xs_read_state(be, VMSG_XS_TX_NONE, F_DIR, &st), -ENOENT);
    CU_ASSERT_EQUAL(vmsg_xs_write_state(fe, VMSG_XS_TX_NONE, F_DIR, "frontend", 0, 6), 0);
    CU_ASSERT(env_is(be, F_DIR "/state", "6"));
    down();
}

/* ---- devices ------------------------------------------------------------------ */

static void dev_put(unsigned num, const char *node, const char *v)
{
    char path[256];

    snprintf(path, sizeof(path), B_DIR "/devices/%u/%s", num, node);
    CU_ASSERT_EQUAL_FATAL(vmsg_plat_xs_write(tool, VMSG_XS_TX_NONE, path, v, strlen(v)), 0);
}

static void device_nodes_are_listed_and_parsed(void)
{
    struct vmsg_xs_device dev;
    uint16_t *nums = NULL;
    unsigned n = 0;
    char why[160];

    up();
    CU_ASSERT_EQUAL(vmsg_xs_dev_list(be, B_DIR, &nums, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    dev_put(7, "type", "rng");
    dev_put(7, "state", "1");
    dev_put(0, "type", "console");
    dev_put(0, "params/output", "file:/tmp/console.log");
    dev_put(0, "params/rows", "25");
    dev_put(0, "params/cols", "80");
    dev_put(0, "state", "1");
    dev_put(65535, "type", "blk");
    dev_put(65535, "params/target", "/dev/vg/guest");
    dev_put(65535, "params/ro", "1");
    dev_put(65535, "params/serial", "01234567890123456789");
    dev_put(65535, "params/num-queues", "16");
    dev_put(65535, "state", "4");
    dev_put(12, "type", "26");
    dev_put(12, "state", "1");
    dev_put(65536, "type", "rng");   /* not a device number */
    CU_ASSERT_EQUAL(vmsg_xs_dev_list(be, B_DIR, &nums, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT(nums[0] == 0 && nums[1] == 7 && nums[2] == 12 && nums[3] == 65535);
    free(nums);

    CU_ASSERT_EQUAL(vmsg_xs_dev_read(be, B_DIR, 7, &dev, why, sizeof(why)), 0);
    CU_ASSERT(dev.type == VMSG_XS_DEV_RNG && dev.virtio_id == 4 && dev.state == 1);
    vmsg_xs_dev_free(&dev);
    CU_ASSERT_EQUAL(vmsg_xs_dev_read(be, B_DIR, 0, &dev, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(dev.type, VMSG_XS_DEV_CONSOLE);
    CU_ASSERT_STRING_EQUAL(vmsg_xs_dev_param(&dev, "rows"), "25");
    CU_ASSERT_STRING_EQUAL(vmsg_xs_dev_param(&dev, "output"), "file:/tmp/console.log");
    CU_ASSERT_PTR_NULL(vmsg_xs_dev_param(&dev, "target"));
    vmsg_xs_dev_free(&dev);
    CU_ASSERT_EQUAL(vmsg_xs_dev_read(be, B_DIR, 65535, &dev, why, sizeof(why)), 0);
    CU_ASSERT(dev.type == VMSG_XS_DEV_BLK && dev.state == 4 && dev.nparams == 4);
    vmsg_xs_dev_free(&dev);
    CU_ASSERT_EQUAL(vmsg_xs_dev_read(be, B_DIR, 12, &dev, why, sizeof(why)), 0);
    CU_ASSERT(dev.type == VMSG_XS_DEV_VIRTIO_ID && dev.virtio_id == 26);
    vmsg_xs_dev_free(&dev);
    CU_ASSERT_EQUAL(vmsg_xs_dev_read(be, B_DIR, 99, &dev, why, sizeof(why)), -ENOENT);
    down();
}

struct bad_dev {
    const char *type;
    const char *key;        /* NULL: no parameter */
    const char *value;
    const char *why;        /* expected in the error line */
};

static void device_parameters_refuse_typos_and_bad_values(void)
{
    static const struct bad_dev cases[] = {
        { "gpu", NULL, NULL, "type" },
        { "0", NULL, NULL, "type" },
        { "rng", "output", "pty", "unknown key" },
        { "console", "ouput", "pty", "unknown key" },
        { "console", "output", "tty", "output" },
        { "console", "output", "file:relative", "output" },
        { "console", "rows", "0", "rows" },
        { "console", "cols", "80x", "cols" },
        { "blk", NULL, NULL, "target" },
        { "blk", "ro", "2", "ro" },
        { "blk", "serial", "012345678901234567890", "serial" },
        { "blk", "num-queues", "17", "num-queues" },
        { "blk", "num-queues", "0", "num-queues" },
        { "26", "ro", "1", "unknown key" },
    };
    struct vmsg_xs_device dev;
    char why[160];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        up();
        dev_put(1, "type", cases[i].type);
        dev_put(1, "state", "1");
        if (!strcmp(cases[i].type, "blk") && cases[i].key)
            dev_put(1, "params/target", "/img");    /* only the tested key is wrong */
        if (cases[i].key) {
            char k[64];
            snprintf(k, sizeof(k), "params/%s", cases[i].key);
            dev_put(1, k, cases[i].value);
        }
        CU_ASSERT_EQUAL(vmsg_xs_dev_read(be, B_DIR, 1, &dev, why, sizeof(why)), -EINVAL);
        if (!strstr(why, cases[i].why))
            fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, why, cases[i].why);
        CU_ASSERT(strstr(why, cases[i].why) != NULL);
        /* The backend marks the device refused; the guest never sees it. */
        CU_ASSERT_EQUAL(vmsg_xs_dev_set_error(be, B_DIR, 1, why), 0);
        CU_ASSERT(env_is(fe, B_DIR "/devices/1/state", "6"));
        CU_ASSERT(env_is(fe, B_DIR "/devices/1/error", why));
        down();
    }
}

static void device_state_is_written_by_the_backend_only(void)
{
    up();
    dev_put(2, "type", "rng");
    dev_put(2, "state", "1");
    CU_ASSERT_EQUAL(vmsg_xs_dev_set_state(be, B_DIR, 2, 1, 4), 0);
    CU_ASSERT(env_is(fe, B_DIR "/devices/2/state", "4"));
    CU_ASSERT_EQUAL(vmsg_xs_dev_set_state(fe, B_DIR, 2, 4, 6), -EACCES);
    down();
}

static void register_suites(void)
{
    vmsg_log_init("test-xen-schema", false, VMSG_LOG_ERR);
    {
        VMSG_SUITE("xen_schema_parse", NULL, NULL);
        VMSG_TEST(parse_accepts_plain_decimals);
        VMSG_TEST(parse_rejects_every_bad_syntax);
        VMSG_TEST(parse_rejects_out_of_range_and_overflow);
        VMSG_TEST(parse_list_needs_exactly_one_space_between);
        VMSG_TEST(versions_list_is_parsed_strictly);
        VMSG_TEST(paths_follow_the_pv_layout);
    }
    {
        VMSG_SUITE("xen_schema_nodes", NULL, NULL);
        VMSG_TEST(each_side_writes_only_its_own_directory);
        VMSG_TEST(backend_publishes_parameters_with_initwait);
        VMSG_TEST(toolstack_nodes_must_name_this_instance);
        VMSG_TEST(backend_reads_frontend_strictly);
        VMSG_TEST(frontend_values_are_logged_escaped);
        VMSG_TEST(log_escape_renders_peer_strings_safely);
        VMSG_TEST(frontend_info_is_copied_with_the_effective_maximum);
        VMSG_TEST(frontend_publish_writes_every_node_and_state_last);
        VMSG_TEST(frontend_publish_keeps_the_nodes_libxenvchan_wrote);
        VMSG_TEST(state_values_are_checked);
    }
    {
        VMSG_SUITE("xen_schema_devices", NULL, NULL);
        VMSG_TEST(device_nodes_are_listed_and_parsed);
        VMSG_TEST(device_parameters_refuse_typos_and_bad_values);
        VMSG_TEST(device_state_is_written_by_the_backend_only);
    }
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
