/*
 * frontend-shim/vmsg-front.c: the vmsg-front command line: a guest's view
 * of its virtio-msg Xen bus, through libvmsg-front and the userspace
 * drivers.
 *
 * Owns: global options, opening the bus, and the commands list, info, rng
 * and console; blk is front_blk.c, selftest front_selftest.c, wait-device
 * and monitor front_follow.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/vmsg_drivers.h"
#include "front_cli.h"
#include "util/vmsg_log.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmsg-front [OPTIONS] COMMAND [ARGS]\n"
            "The guest side of the virtio-msg Xen bus: connects to bus instance N under\n"
            "device/virtio-msg, lists and drives its devices, then disconnects.\n"
            "\n"
            "Commands:\n"
            "  buses                         the bus instances of this domain\n"
            "  list                          devices (both enumeration views)\n"
            "  info DEV                      what GET_DEVICE_INFO and the driver report\n"
            "  rng DEV [--bytes N] [--raw]   N random bytes (default 32), hex or raw\n"
            "  console DEV                   stdin to the console, console to stdout,\n"
            "                                until stdin ends and the console is quiet\n"
            "  blk DEV read SECTOR COUNT     raw sectors (512 bytes) to stdout\n"
            "  blk DEV write SECTOR [FILE]   FILE or stdin to the disk\n"
            "  blk DEV verify SECTOR COUNT [SHA256]\n"
            "                                SHA-256 of the range; exit 1 if not SHA256\n"
            "  blk DEV flush | discard SECTOR COUNT\n"
            "  selftest                      exercise every device: PASS/FAIL per device\n"
            "  wait-device DEV present|absent [--timeout S] [--hold]\n"
            "                                wait (default 30 s) until DEV is in / out of\n"
            "                                the list, following EVENT_DEVICE; --hold: hold\n"
            "                                DEV as a driver while it goes; exit 1 on timeout\n"
            "  monitor [--count N] [--timeout S]\n"
            "                                one line per EVENT_DEVICE: READY D TYPE, REMOVED D\n"
            "\n"
            "Options:\n"
            "  -b, --bus N          bus instance (default: the lowest one)\n"
            "  -t, --timeout MS     connect and request timeout (default %d)\n"
            "  -P, --pool-pages N   pages granted as the pool (default %u)\n"
            "  -r, --reconnect S    blk: if the backend goes away (restarted), wait up to\n"
            "                       S seconds for it, then set the disk up again and go on\n"
            "                       with the requests not yet done; print progress\n"
            "  -v, --verbose        more log output\n"
            "  -h, --help           this text\n",
            VMSG_FRONT_DEFAULT_TIMEOUT_MS, VMSG_FRONT_DEFAULT_POOL_PAGES);
}

bool cli_number(const char *what, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (!*s || *end || errno || s[0] == '-' || v > max) {
        fprintf(stderr, "vmsg-front: %s '%s' is not a number in 0..%" PRIu64 "\n", what, s, max);
        return false;
    }
    *out = v;
    return true;
}

bool cli_device(struct front_cli *c, const char *s, uint16_t *num)
{
    uint64_t v;

    if (!cli_number("device", s, UINT16_MAX, &v))
        return false;
    if (!vmsg_front_device(c->f, (uint16_t)v)) {
        fprintf(stderr, "vmsg-front: bus %u has no device %" PRIu64 " (see vmsg-front list)\n",
                c->bus, v);
        return false;
    }
    *num = (uint16_t)v;
    return true;
}

const char *cli_id_name(uint32_t device_id, char *buf, unsigned len)
{
    switch (device_id) {
    case 2: return "blk";
    case 3: return "console";
    case 4: return "rng";
    }
    snprintf(buf, len, "id %u", device_id);
    return buf;
}

static int cmd_buses(void)
{
    unsigned idx[256];
    int n = vmsg_front_buses(idx, 256);

    if (n < 0)
        return 1;
    for (int i = 0; i < n && i < 256; i++)
        printf("%u\n", idx[i]);
    return 0;
}

static int cmd_list(struct front_cli *c)
{
    const struct vmsg_front_dev *devs;
    unsigned n = vmsg_front_devices(c->f, &devs);

    printf("bus %u, backend dom%u: %u device(s)%s\n", c->bus, vmsg_front_backend_domid(c->f), n,
           vmsg_front_views_agree(c->f) ? "" : " (views DISAGREE)");
    printf("%-6s %-10s %-10s %-9s %s\n", "DEV", "TYPE", "DEVICE", "XENSTORE", "GET_DEVICES");
    for (unsigned i = 0; i < n; i++) {
        struct vmsg_driver_dev dev;
        char name[16] = "-";
        const char *what = name;

        if (vmsg_front_probe(c->f, devs[i].num, &dev) == 0) {
            what = cli_id_name(dev.info.device_id, name, sizeof(name));
            vmsg_drv_release(&dev);
        }
        printf("%-6u %-10s %-10s %-9s %s\n", devs[i].num, devs[i].type[0] ? devs[i].type : "-",
               what, devs[i].in_xenstore ? "yes" : "no", devs[i].in_get_devices ? "yes" : "no");
    }
    return vmsg_front_views_agree(c->f) ? 0 : 1;
}

static void info_type(struct front_cli *c, uint16_t num, uint32_t id)
{
    struct vmsg_drvbus *db = vmsg_front_drvbus(c->f);

    if (id == 2) {
        struct vmsg_blk *b;
        char serial[21] = "";
        if (vmsg_blk_open(db, num, 16, &b))
            return;
        vmsg_blk_get_id(b, serial);
        printf("capacity: %" PRIu64 " sectors (%" PRIu64 " MiB)\nread-only: %s\n"
               "block size: %u\nqueues: %u\nmax transfer: %zu bytes\nserial: %s\n",
               vmsg_blk_capacity(b), vmsg_blk_capacity(b) / 2048,
               vmsg_blk_read_only(b) ? "yes" : "no", vmsg_blk_block_size(b),
               vmsg_blk_num_queues(b), vmsg_blk_max_transfer(b), serial);
        vmsg_blk_close(b);
    } else if (id == 3) {
        struct vmsg_console *con;
        uint16_t rows, cols;
        if (vmsg_console_open(db, num, &con))
            return;
        if (vmsg_console_size(con, &rows, &cols) == 0)
            printf("size: %u cols x %u rows\n", cols, rows);
        vmsg_console_close(con);
    }
}

static int cmd_info(struct front_cli *c, int argc, char **argv)
{
    struct vmsg_driver_dev dev;
    const struct vmsg_front_dev *d;
    uint64_t offered = 0;
    char name[16];
    uint16_t num;
    int rc;

    if (argc != 1) {
        fprintf(stderr, "usage: vmsg-front info DEV\n");
        return 2;
    }
    if (!cli_device(c, argv[0], &num))
        return 1;
    d = vmsg_front_device(c->f, num);
    if ((rc = vmsg_front_probe(c->f, num, &dev))) {
        fprintf(stderr, "vmsg-front: device %u: %s\n", num, strerror(-rc));
        return 1;
    }
    rc = vmsg_drv_get_features(&dev, &offered);
    printf("bus: %u\ndevice: %u\nxenstore type: %s\ndevice id: %u (%s)\nvendor id: 0x%08x\n"
           "feature bits: %u\noffered features: 0x%016" PRIx64 "%s\nconfig size: %u\n"
           "virtqueues: %u\n",
           c->bus, num, d->type, dev.info.device_id,
           cli_id_name(dev.info.device_id, name, sizeof(name)), dev.info.vendor_id,
           dev.info.num_feature_bits, offered, rc ? " (unreadable)" : "", dev.info.config_size,
           dev.info.max_virtqueues);
    vmsg_drv_release(&dev);
    info_type(c, num, dev.info.device_id);
    return 0;
}

static int cmd_rng(struct front_cli *c, int argc, char **argv)
{
    uint64_t bytes = 32;
    bool raw = false;
    struct vmsg_rng *r;
    uint8_t buf[4096];
    uint16_t num;
    int rc = 0;

    if (argc < 1)
        goto usage;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--raw"))
            raw = true;
        else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
            if (!cli_number("--bytes", argv[++i], UINT32_MAX, &bytes))
                return 2;
        } else
            goto usage;
    }
    if (!cli_device(c, argv[0], &num))
        return 1;
    if ((rc = vmsg_rng_open(vmsg_front_drvbus(c->f), num, &r))) {
        fprintf(stderr, "vmsg-front: rng device %u: %s\n", num, strerror(-rc));
        return 1;
    }
    while (bytes && rc == 0) {
        size_t want = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);
        ssize_t n = vmsg_rng_read(r, buf, want);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (raw) {
            if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
                rc = -EIO;
        } else {
            for (ssize_t i = 0; i < n; i++)
                printf("%02x", buf[i]);
        }
        bytes -= (uint64_t)n;
    }
    if (!raw)
        printf("\n");
    vmsg_rng_close(r);
    if (rc)
        fprintf(stderr, "vmsg-front: rng device %u: %s\n", num, strerror(-rc));
    return rc ? 1 : 0;
usage:
    fprintf(stderr, "usage: vmsg-front rng DEV [--bytes N] [--raw]\n");
    return 2;
}

/* After stdin ends, wait this long for the host end's last output. */
#define CONSOLE_DRAIN_MS 500

static int cmd_console(struct front_cli *c, int argc, char **argv)
{
    struct vmsg_console *con;
    bool in_open = true;
    char buf[1024];
    uint16_t num;
    int rc;

    if (argc != 1) {
        fprintf(stderr, "usage: vmsg-front console DEV\n");
        return 2;
    }
    if (!cli_device(c, argv[0], &num))
        return 1;
    if ((rc = vmsg_console_open(vmsg_front_drvbus(c->f), num, &con))) {
        fprintf(stderr, "vmsg-front: console device %u: %s\n", num, strerror(-rc));
        return 1;
    }
    for (;;) {
        /* One thread drives the bus: alternate between a short look at
         * stdin and a short wait for console input. */
        struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
        ssize_t n;

        if (in_open && poll(&pfd, 1, 0) > 0) {
            n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0) {
                in_open = false;
            } else if ((n = vmsg_console_write(con, buf, (size_t)n)) < 0) {
                rc = (int)n;
                break;
            }
        }
        n = vmsg_console_read(con, buf, sizeof(buf), in_open ? 50 : CONSOLE_DRAIN_MS);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n > 0) {
            fwrite(buf, 1, (size_t)n, stdout);
            fflush(stdout);
        } else if (!in_open) {
            break;
        }
    }
    vmsg_console_close(con);
    if (rc)
        fprintf(stderr, "vmsg-front: console device %u: %s\n", num, strerror(-rc));
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "bus", required_argument, NULL, 'b' },
        { "timeout", required_argument, NULL, 't' },
        { "pool-pages", required_argument, NULL, 'P' },
        { "reconnect", required_argument, NULL, 'r' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct vmsg_front_opts fo = { 0 };
    struct front_cli c = { 0 };
    enum vmsg_log_level level = VMSG_LOG_WARN;
    bool bus_given = false;
    const char *cmd;
    uint64_t v;
    int opt, rc, status;

    /* "+": options end at the command; its own arguments follow it. */
    while ((opt = getopt_long(argc, argv, "+b:t:P:r:vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            if (!cli_number("--bus", optarg, 255, &v))
                return 2;
            c.bus = (unsigned)v;
            bus_given = true;
            break;
        case 't':
            if (!cli_number("--timeout", optarg, 3600000, &v) || v == 0)
                return 2;
            fo.timeout_ms = (int)v;
            break;
        case 'P':
            if (!cli_number("--pool-pages", optarg, 1048576, &v) || v == 0)
                return 2;
            fo.pool_pages = (uint32_t)v;
            break;
        case 'r':
            if (!cli_number("--reconnect", optarg, 3600, &v))
                return 2;
            if (v == 0) {
                fprintf(stderr, "vmsg-front: --reconnect takes 1..3600 seconds "
                                "(leave it out to fail at once)\n");
                return 2;
            }
            fo.reconnect_ms = (int)v * 1000;
            c.reconnect = true;
            break;
        case 'v':
            if (level < VMSG_LOG_TRACE)
                level++;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    vmsg_log_init("vmsg-front", false, level);
    cmd = argv[optind];
    argc -= optind + 1;
    argv += optind + 1;
    if (!strcmp(cmd, "buses"))
        return cmd_buses();
    if (strcmp(cmd, "list") && strcmp(cmd, "info") && strcmp(cmd, "rng") &&
        strcmp(cmd, "console") && strcmp(cmd, "blk") && strcmp(cmd, "selftest") &&
        strcmp(cmd, "wait-device") && strcmp(cmd, "monitor")) {
        fprintf(stderr, "vmsg-front: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    if (!bus_given) {
        unsigned idx[1];
        rc = vmsg_front_buses(idx, 1);
        if (rc <= 0) {
            fprintf(stderr, "vmsg-front: no bus instance under device/virtio-msg%s\n",
                    rc < 0 ? " (xenstore not reachable)" : "");
            return 1;
        }
        c.bus = idx[0];
    }
    rc = vmsg_front_open(&c.f, c.bus, &fo);
    if (rc) {
        fprintf(stderr, "vmsg-front: bus %u: %s\n", c.bus, strerror(-rc));
        return 1;
    }
    if (!strcmp(cmd, "list"))
        status = argc ? 2 : cmd_list(&c);
    else if (!strcmp(cmd, "info"))
        status = cmd_info(&c, argc, argv);
    else if (!strcmp(cmd, "rng"))
        status = cmd_rng(&c, argc, argv);
    else if (!strcmp(cmd, "console"))
        status = cmd_console(&c, argc, argv);
    else if (!strcmp(cmd, "blk"))
        status = cmd_blk(&c, argc, argv);
    else if (!strcmp(cmd, "wait-device"))
        status = cmd_wait_device(&c, argc, argv);
    else if (!strcmp(cmd, "monitor"))
        status = cmd_monitor(&c, argc, argv);
    else
        status = cmd_selftest(&c, argc, argv);
    fflush(stdout);
    vmsg_front_close(c.f);
    return status;
}
