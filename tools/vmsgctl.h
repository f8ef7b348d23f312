/*
 * tools/vmsgctl.h: the subcommands of vmsgctl, each in its own file.
 * Each returns the process exit status: 0 success, 1 failure (or a
 * malformed message for decode), 2 usage error.
 *
 * The toolstack subcommands (attach, detach, list, status, check) take an
 * environment: how to open the platform (the real one on libxen* in
 * vmsgctl, the in-process fake in the unit tests) and where to print. They
 * parse their arguments before opening it, so --help and usage errors need
 * no Xen.
 */
#ifndef VMSGCTL_H
#define VMSGCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct vmsg_platform;

struct vmsgctl_env {
    /* Open a platform handle; 0 or -errno with a message in err. */
    int (*open)(struct vmsg_platform **p, char *err, size_t errlen);
    FILE *out;      /* results */
    FILE *err;      /* error messages, "vmsgctl CMD: ..." */
};

/*
 * The options of the read-only views (list, status): --json and --help,
 * then at most max_operands operands, left at argv[optind...]. Returns -1
 * to go on, or the exit status: 0 after --help, 2 after a usage error
 * (message and usage printed to env->err).
 */
int vmsgctl_view_opts(const struct vmsgctl_env *env, const char *cmd, int argc, char **argv,
                      int max_operands, void (*usage)(FILE *f), bool *json);

int vmsgctl_decode(int argc, char **argv);

int vmsgctl_attach(const struct vmsgctl_env *env, int argc, char **argv);
int vmsgctl_detach(const struct vmsgctl_env *env, int argc, char **argv);
int vmsgctl_list(const struct vmsgctl_env *env, int argc, char **argv);
int vmsgctl_status(const struct vmsgctl_env *env, int argc, char **argv);
int vmsgctl_check(const struct vmsgctl_env *env, int argc, char **argv);

/* The xl config subcommands (xl-virtio-msg(5)), on libxlutil and libxenlight. */
int vmsgctl_create(const struct vmsgctl_env *env, int argc, char **argv);
int vmsgctl_apply(const struct vmsgctl_env *env, int argc, char **argv);
int vmsgctl_watch(const struct vmsgctl_env *env, int argc, char **argv);

#endif
