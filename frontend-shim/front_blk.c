/*
 * frontend-shim/front_blk.c: `vmsg-front blk DEV read|write|verify|flush|
 * discard`, sector I/O through the userspace virtio-blk driver.
 *
 * read SECTOR COUNT            COUNT sectors to stdout, raw
 * write SECTOR [FILE]          FILE (default stdin) from SECTOR on; a last
 *                              partial sector is padded with zeros
 * verify SECTOR COUNT [SHA256] hash the range with SHA-256 and print it;
 *                              with a digest, exit 1 unless it matches
 * flush                        VIRTIO_BLK_T_FLUSH
 * discard SECTOR COUNT         VIRTIO_BLK_T_DISCARD
 *
 * Sectors are 512 bytes, as in virtio-blk. With --reconnect the disk rides
 * out a backend restart (the driver sets it up again and resubmits), and
 * write prints its progress each MiB.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "drivers/vmsg_drivers.h"
#include "front_cli.h"
#include "sha256.h"

#define SECTOR 512u

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Fill buf from fd up to len bytes; returns the count (short at EOF). */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static bool range_ok(struct vmsg_blk *b, uint64_t sector, uint64_t count)
{
    uint64_t cap = vmsg_blk_capacity(b);

    if (sector > cap || count > cap - sector) {
        fprintf(stderr, "vmsg-front: sectors %llu..+%llu are beyond the disk (%llu sectors)\n",
                (unsigned long long)sector, (unsigned long long)count, (unsigned long long)cap);
        return false;
    }
    return true;
}

/* Read [sector, sector+count) chunk by chunk: to stdout, or into a hash. */
static int blk_read_range(struct vmsg_blk *b, uint64_t sector, uint64_t count,
                          struct vmsg_sha256 *hash)
{
    size_t chunk = vmsg_blk_max_transfer(b) / SECTOR;
    uint8_t *buf = malloc(chunk * SECTOR);
    int rc = 0;

    if (!buf)
        return -ENOMEM;
    while (count && rc == 0) {
        uint32_t n = (uint32_t)(count < chunk ? count : chunk);
        rc = vmsg_blk_read(b, 0, sector, buf, n);
        if (rc == 0) {
            if (hash)
                vmsg_sha256_update(hash, buf, (size_t)n * SECTOR);
            else
                rc = write_all(STDOUT_FILENO, buf, (size_t)n * SECTOR);
        }
        sector += n;
        count -= n;
    }
    free(buf);
    return rc;
}

#define PROGRESS_EVERY (1u << 20)

static int blk_write_from(struct vmsg_blk *b, uint64_t sector, int fd, bool progress,
                          uint64_t *written)
{
    size_t chunk = vmsg_blk_max_transfer(b) / SECTOR;
    uint8_t *buf = malloc(chunk * SECTOR);
    uint64_t cap = vmsg_blk_capacity(b);
    int rc = 0;

    *written = 0;
    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t got = read_full(fd, buf, chunk * SECTOR);
        uint32_t n;

        if (got < 0) {
            rc = (int)got;
            break;
        }
        if (got == 0)
            break;
        n = (uint32_t)(((size_t)got + SECTOR - 1) / SECTOR);
        memset(buf + got, 0, (size_t)n * SECTOR - (size_t)got);
        if (sector + n > cap) {
            rc = -ERANGE;
            break;
        }
        if ((rc = vmsg_blk_write(b, 0, sector, buf, n)))
            break;
        sector += n;
        if (progress && (*written + (uint64_t)got) / PROGRESS_EVERY > *written / PROGRESS_EVERY)
            fprintf(stderr, "vmsg-front: %llu bytes written\n",
                    (unsigned long long)(*written + (uint64_t)got));
        *written += (uint64_t)got;
        if ((size_t)got < chunk * SECTOR)
            break;
    }
    free(buf);
    return rc;
}

static int reconnect_bus(void *opaque, uint32_t since)
{
    struct front_cli *c = opaque;
    int rc = vmsg_front_reconnect(c->f, since);

    if (rc == 0)
        fprintf(stderr, "vmsg-front: bus %u: connected again (connection %u): resuming\n",
                c->bus, vmsg_front_connection(c->f));
    else if (rc != -EALREADY)
        fprintf(stderr, "vmsg-front: bus %u: the backend did not come back: %s\n", c->bus,
                strerror(-rc));
    return rc;
}

static uint32_t bus_connection(void *opaque)
{
    return vmsg_front_connection(((struct front_cli *)opaque)->f);
}

static int usage(void)
{
    fprintf(stderr, "usage: vmsg-front blk DEV read SECTOR COUNT\n"
                    "       vmsg-front blk DEV write SECTOR [FILE]\n"
                    "       vmsg-front blk DEV verify SECTOR COUNT [SHA256]\n"
                    "       vmsg-front blk DEV flush\n"
                    "       vmsg-front blk DEV discard SECTOR COUNT\n");
    return 2;
}

int cmd_blk(struct front_cli *c, int argc, char **argv)
{
    uint64_t sector = 0, count = 0, written;
    struct vmsg_blk *b;
    const char *op;
    uint16_t num;
    int rc, status = 1;

    if (argc < 2)
        return usage();
    op = argv[1];
    if (!cli_device(c, argv[0], &num))
        return 1;
    if ((!strcmp(op, "read") || !strcmp(op, "discard")) && argc != 4)
        return usage();
    if (!strcmp(op, "verify") && argc != 4 && argc != 5)
        return usage();
    if (!strcmp(op, "write") && argc != 3 && argc != 4)
        return usage();
    if (!strcmp(op, "flush") && argc != 2)
        return usage();
    if (argc >= 3 && !cli_number("sector", argv[2], UINT64_MAX, &sector))
        return 2;
    if (argc >= 4 && strcmp(op, "write") && !cli_number("count", argv[3], UINT64_MAX, &count))
        return 2;

    rc = vmsg_blk_open(vmsg_front_drvbus(c->f), num, 1, &b);
    if (rc) {
        fprintf(stderr, "vmsg-front: blk device %u: %s\n", num, strerror(-rc));
        return 1;
    }
    if (c->reconnect)
        vmsg_blk_set_reconnect(b, &(struct vmsg_drv_reconnect){ .reconnect = reconnect_bus,
                                                               .connection = bus_connection,
                                                               .opaque = c });
    if (!strcmp(op, "read")) {
        if (range_ok(b, sector, count) && (rc = blk_read_range(b, sector, count, NULL)) == 0)
            status = 0;
    } else if (!strcmp(op, "verify")) {
        struct vmsg_sha256 h;
        char hex[65];

        vmsg_sha256_init(&h);
        if (range_ok(b, sector, count) && (rc = blk_read_range(b, sector, count, &h)) == 0) {
            vmsg_sha256_hex(&h, hex);
            if (argc == 5 && strcasecmp(hex, argv[4])) {
                printf("MISMATCH %s (expected %s)\n", hex, argv[4]);
            } else {
                printf("%s%s\n", argc == 5 ? "OK " : "", hex);
                status = 0;
            }
        }
    } else if (!strcmp(op, "write")) {
        int fd = argc == 4 ? open(argv[3], O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
        if (fd < 0) {
            fprintf(stderr, "vmsg-front: %s: %s\n", argv[3], strerror(errno));
        } else {
            rc = blk_write_from(b, sector, fd, c->reconnect, &written);
            if (rc == 0) {
                fprintf(stderr, "vmsg-front: wrote %llu bytes at sector %llu\n",
                        (unsigned long long)written, (unsigned long long)sector);
                status = 0;
            }
            if (fd != STDIN_FILENO)
                close(fd);
        }
    } else if (!strcmp(op, "flush")) {
        if ((rc = vmsg_blk_flush(b, 0)) == 0)
            status = 0;
    } else if (!strcmp(op, "discard")) {
        if (range_ok(b, sector, count) && count <= UINT32_MAX &&
            (rc = vmsg_blk_discard(b, 0, sector, (uint32_t)count)) == 0)
            status = 0;
    } else {
        vmsg_blk_close(b);
        return usage();
    }
    if (rc)
        fprintf(stderr, "vmsg-front: blk device %u %s: %s\n", num, op, strerror(-rc));
    vmsg_blk_close(b);
    return status;
}
