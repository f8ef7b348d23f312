/*
 * tools/vmsgctl.c: the toolstack-side command line: dispatches to one
 * subcommand per file.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tools/vmsgctl.h"
#include "xen/platform.h"

/* The toolstack subcommands run on the real platform (libxen*). */
static int open_xen(struct vmsg_platform **p, char *err, size_t errlen)
{
    return vmsg_plat_xen_open(p, err, errlen);
}

/* Exactly one of run and run_xen is set. */
static const struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    int (*run_xen)(const struct vmsgctl_env *env, int argc, char **argv);
    const char *summary;
} subcommands[] = {
    { "decode", vmsgctl_decode, NULL, "print virtio-msg messages (hex or binary) as JSON lines" },
    { "attach", NULL, vmsgctl_attach, "give a domain a virtio-msg device" },
    { "detach", NULL, vmsgctl_detach, "remove a virtio-msg device from a domain" },
    { "list", NULL, vmsgctl_list, "list the virtio-msg devices (table or JSON)" },
    { "status", NULL, vmsgctl_status, "show every bus instance and its state" },
    { "check", NULL, vmsgctl_check, "validate the live xenstore tree against the schema" },
    { "create", NULL, vmsgctl_create, "xl create a guest with its config's virtio_msg devices" },
    { "apply", NULL, vmsgctl_apply, "attach an xl config's virtio_msg entries to a guest" },
    { "watch", NULL, vmsgctl_watch, "dom0 service: attach virtio_msg entries of new guests" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vmsgctl COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "\n'vmsgctl COMMAND --help' describes a command. vmsgctl %s\n", PACKAGE_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vmsgctl %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        struct vmsgctl_env env = { open_xen, stdout, stderr };

        if (strcmp(argv[1], subcommands[i].name))
            continue;
        if (subcommands[i].run)
            return subcommands[i].run(argc - 1, argv + 1);
        return subcommands[i].run_xen(&env, argc - 1, argv + 1);
    }
    fprintf(stderr, "vmsgctl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
