/*
 * tools/vmsgctl.h: the subcommands of vmsgctl, each in its own file.
 * Each returns the process exit status: 0 success, 1 failure (or a
 * malformed message for decode), 2 usage error.
 */
#ifndef VMSGCTL_H
#define VMSGCTL_H

int vmsgctl_decode(int argc, char **argv);

#endif
