/*
 * tools/vmsgctl.c: the toolstack-side command line: dispatches to one
 * subcommand per file.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tools/vmsgctl.h"

static const struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommands[] = {
    { "decode", vmsgctl_decode, "print virtio-msg messages (hex or binary) as JSON lines" },
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
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vmsgctl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
