/*
 * tools/vmsgctl_check.c: `vmsgctl check`: validate the live xenstore tree
 * of every virtio-msg bus instance against the xenstore schema
 * (xenstore-schema/virtio-msg-v1.json; the copy built into vmsgctl unless
 * --schema names another file) and print each violation.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/vmsgctl.h"
#include "tools/xs_schema_check.h"

static void check_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl check [--schema FILE] [--quiet]\n"
        "\n"
        "Check every /local/domain/*/device/virtio-msg/N and\n"
        "/local/domain/*/backend/virtio-msg/FE/N directory against the xenstore\n"
        "schema: value formats and ranges, nodes required in the current state,\n"
        "permissions (owner and readers), unknown nodes, and that the frontend\n"
        "and backend directories name each other. Prints one line per violation:\n"
        "  PATH: WHAT (expected: EXPECTED)\n"
        "\n"
        "  -s, --schema FILE   the schema to check against (default: the\n"
        "                      virtio-msg-v1.json built into vmsgctl)\n"
        "  -q, --quiet         no summary line\n"
        "  -h, --help          this text\n"
        "\n"
        "Exit status: 0 no violation, 1 violations found or the check failed,\n"
        "2 usage or an unreadable schema.\n");
}

static void print_violation(void *arg, const char *path, const char *what,
                            const char *expected)
{
    fprintf(arg, "%s: %s (expected: %s)\n", path, what, expected);
}

int vmsgctl_check(const struct vmsgctl_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "schema", required_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xs_check_stats st = { 0 };
    struct xs_schema *schema = NULL;
    struct vmsg_platform *p = NULL;
    const char *file = NULL;
    bool quiet = false;
    char err[512];
    int c, rc, status = 1;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:qh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            file = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            check_usage(env->out);
            return 0;
        default:
            fprintf(env->err, "vmsgctl check: unknown option or missing argument '%s'\n",
                    argv[optind - 1]);
            check_usage(env->err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(env->err, "vmsgctl check: unexpected argument '%s'\n", argv[optind]);
        check_usage(env->err);
        return 2;
    }
    rc = file ? xs_schema_load_file(file, &schema, err, sizeof(err))
              : xs_schema_parse(xs_schema_builtin_json, &schema, err, sizeof(err));
    if (rc) {
        fprintf(env->err, "vmsgctl check: schema %s: %s\n", file ? file : "(built in)", err);
        return 2;
    }
    if (env->open(&p, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl check: %s\n", err);
        goto out;
    }
    rc = xs_check_tree(p, schema, print_violation, env->out, &st);
    if (rc < 0) {
        fprintf(env->err, "vmsgctl check: reading xenstore: %s\n", vmsg_plat_last_error(p));
        goto out;
    }
    if (!quiet)
        fprintf(env->out, "%u violation%s in %u bus director%s (%u nodes), schema %s v%u\n",
                st.violations, st.violations == 1 ? "" : "s", st.dirs,
                st.dirs == 1 ? "y" : "ies", st.nodes, schema->name, schema->version);
    status = rc ? 1 : 0;
out:
    if (p)
        vmsg_plat_close(p);
    xs_schema_free(schema);
    return status;
}
