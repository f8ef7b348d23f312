/*
 * frontend-shim/front_cli.h: what the parts of the vmsg-front command line
 * share: the open bus, argument parsing helpers and the commands.
 *
 * Every command returns the process exit status: 0 success, 1 failure
 * (reported on stderr), 2 usage error.
 */
#ifndef VMSG_FRONT_CLI_H
#define VMSG_FRONT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmsg_front.h"

struct front_cli {
    struct vmsg_front *f;
    unsigned bus;
    bool reconnect;             /* --reconnect: blk rides out backend restarts */
};

/* Parse a decimal (or 0x hex) in [0, max]; false and a message if not. */
bool cli_number(const char *what, const char *s, uint64_t max, uint64_t *out);
/* Parse a device number that the bus lists (both views). */
bool cli_device(struct front_cli *c, const char *s, uint16_t *num);
/* virtio device id -> "rng", "console", "blk" or "id N". */
const char *cli_id_name(uint32_t device_id, char *buf, unsigned len);

int cmd_blk(struct front_cli *c, int argc, char **argv);
int cmd_selftest(struct front_cli *c, int argc, char **argv);
int cmd_wait_device(struct front_cli *c, int argc, char **argv);
int cmd_monitor(struct front_cli *c, int argc, char **argv);

#endif
