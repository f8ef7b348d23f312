/*
 * tools/vmsgctl_opts.c: option parsing shared by the read-only views
 * (vmsgctl list, vmsgctl status).
 */
#include "config.h"

#include <getopt.h>

#include "tools/vmsgctl.h"

int vmsgctl_view_opts(const struct vmsgctl_env *env, const char *cmd, int argc, char **argv,
                      int max_operands, void (*usage)(FILE *f), bool *json)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *json = false;
    optind = 0;     /* getopt state is global: start afresh for each command */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j') {
            *json = true;
        } else if (c == 'h') {
            usage(env->out);
            return 0;
        } else {
            fprintf(env->err, "vmsgctl %s: unknown option '%s'\n", cmd, argv[optind - 1]);
            usage(env->err);
            return 2;
        }
    }
    if (argc - optind > max_operands) {
        fprintf(env->err, "vmsgctl %s: unexpected argument '%s'\n", cmd, argv[optind + max_operands]);
        usage(env->err);
        return 2;
    }
    return -1;
}
