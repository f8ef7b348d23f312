/*
 * frontend-shim/front_selftest.c: `vmsg-front selftest`: probe every device
 * of the bus and exercise it through its driver; one PASS or FAIL line per
 * device, and exit status 1 on any failure (including disagreeing
 * enumeration views or a failed PING).
 *
 * rng:     64 bytes that are not all equal
 * console: the size query (if offered) and a line written to the host end
 * blk:     capacity, sector 0 and the last sector read; unless read-only,
 *          the last sector written with a pattern, read back, compared,
 *          restored and flushed
 * other:   GET_DEVICE_INFO and feature negotiation only
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/vmsg_drivers.h"
#include "front_cli.h"

#define SECTOR 512u

static int test_rng(struct vmsg_drvbus *db, uint16_t num, char *detail, size_t len)
{
    uint8_t buf[64];
    struct vmsg_rng *r;
    ssize_t n;
    unsigned same = 0;
    int rc;

    if ((rc = vmsg_rng_open(db, num, &r)))
        return rc;
    n = vmsg_rng_read(r, buf, sizeof(buf));
    vmsg_rng_close(r);
    if (n < 0)
        return (int)n;
    for (unsigned i = 1; i < sizeof(buf); i++)
        same += buf[i] == buf[0];
    if (same == sizeof(buf) - 1) {
        snprintf(detail, len, "64 bytes all 0x%02x", buf[0]);
        return -EIO;
    }
    snprintf(detail, len, "64 random bytes, first %02x%02x%02x%02x", buf[0], buf[1], buf[2],
             buf[3]);
    return 0;
}

static int test_console(struct vmsg_drvbus *db, uint16_t num, char *detail, size_t len)
{
    static const char line[] = "vmsg-front selftest: hello from the guest\n";
    struct vmsg_console *c;
    uint16_t rows = 0, cols = 0;
    ssize_t n;
    int rc;

    if ((rc = vmsg_console_open(db, num, &c)))
        return rc;
    rc = vmsg_console_size(c, &rows, &cols);
    if (rc && rc != -ENOTSUP)
        goto out;
    n = vmsg_console_write(c, line, sizeof(line) - 1);
    rc = n < 0 ? (int)n : n != (ssize_t)(sizeof(line) - 1) ? -EIO : 0;
    if (rc == 0)
        snprintf(detail, len, "size %ux%u, wrote %zu bytes", cols, rows, sizeof(line) - 1);
out:
    vmsg_console_close(c);
    return rc;
}

static int test_blk(struct vmsg_drvbus *db, uint16_t num, char *detail, size_t len)
{
    uint8_t orig[SECTOR], pat[SECTOR], back[SECTOR];
    struct vmsg_blk *b;
    uint64_t cap, last;
    bool ro;
    int rc;

    if ((rc = vmsg_blk_open(db, num, 1, &b)))
        return rc;
    cap = vmsg_blk_capacity(b);
    ro = vmsg_blk_read_only(b);
    if (cap == 0) {
        snprintf(detail, len, "capacity 0");
        rc = -EIO;
        goto out;
    }
    last = cap - 1;
    if ((rc = vmsg_blk_read(b, 0, 0, orig, 1)) || (rc = vmsg_blk_read(b, 0, last, orig, 1))) {
        snprintf(detail, len, "read: %s", strerror(-rc));
        goto out;
    }
    if (!ro) {
        for (unsigned i = 0; i < SECTOR; i++)
            pat[i] = (uint8_t)(i * 7 + num);
        if ((rc = vmsg_blk_write(b, 0, last, pat, 1)) || (rc = vmsg_blk_read(b, 0, last, back, 1))) {
            snprintf(detail, len, "write/read back: %s", strerror(-rc));
            goto out;
        }
        if (memcmp(pat, back, SECTOR)) {
            snprintf(detail, len, "sector %llu read back differs from what was written",
                     (unsigned long long)last);
            rc = -EIO;
            goto out;
        }
        if ((rc = vmsg_blk_write(b, 0, last, orig, 1)) || (rc = vmsg_blk_flush(b, 0))) {
            snprintf(detail, len, "restore/flush: %s", strerror(-rc));
            goto out;
        }
    }
    snprintf(detail, len, "%llu sectors (%llu MiB)%s, %u queue(s), %s", (unsigned long long)cap,
             (unsigned long long)(cap / 2048), ro ? " read-only" : "", vmsg_blk_num_queues(b),
             ro ? "read ok" : "read, write, read back, flush ok");
out:
    vmsg_blk_close(b);
    return rc;
}

static int test_other(struct vmsg_front *f, uint16_t num, char *detail, size_t len)
{
    struct vmsg_driver_dev dev;
    int rc;

    if ((rc = vmsg_front_probe(f, num, &dev)))
        return rc;
    rc = vmsg_drv_negotiate(&dev, 0);
    if (rc == 0)
        rc = vmsg_drv_reset(&dev);
    if (rc == 0)
        snprintf(detail, len, "device id %u: probed, negotiated, reset", dev.info.device_id);
    vmsg_drv_release(&dev);
    return rc;
}

int cmd_selftest(struct front_cli *c, int argc, char **argv)
{
    struct vmsg_drvbus *db = vmsg_front_drvbus(c->f);
    const struct vmsg_front_dev *devs;
    unsigned n = vmsg_front_devices(c->f, &devs), failed = 0;
    int rc;

    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: vmsg-front selftest\n");
        return 2;
    }
    rc = vmsg_drvbus_ping(db, 0x5e1f7e57u);
    printf("%s bus %u: PING%s%s\n", rc ? "FAIL" : "PASS", c->bus, rc ? ": " : "",
           rc ? strerror(-rc) : "");
    failed += rc != 0;
    printf("%s bus %u: %u device(s), xenstore and GET_DEVICES %s\n",
           vmsg_front_views_agree(c->f) ? "PASS" : "FAIL", c->bus, n,
           vmsg_front_views_agree(c->f) ? "agree" : "disagree (see the log above)");
    failed += !vmsg_front_views_agree(c->f);

    for (unsigned i = 0; i < n; i++) {
        struct vmsg_driver_dev dev;
        char detail[160] = "", name[16];
        uint32_t id = 0;

        if (!devs[i].in_get_devices || !devs[i].in_xenstore) {
            printf("FAIL dev %u: not in both views\n", devs[i].num);
            failed++;
            continue;
        }
        /* What the device says it is decides the test, not xenstore. */
        rc = vmsg_front_probe(c->f, devs[i].num, &dev);
        if (rc == 0) {
            id = dev.info.device_id;
            vmsg_drv_release(&dev);
            switch (id) {
            case 4: rc = test_rng(db, devs[i].num, detail, sizeof(detail)); break;
            case 3: rc = test_console(db, devs[i].num, detail, sizeof(detail)); break;
            case 2: rc = test_blk(db, devs[i].num, detail, sizeof(detail)); break;
            default: rc = test_other(c->f, devs[i].num, detail, sizeof(detail)); break;
            }
        }
        if (rc && !detail[0])
            snprintf(detail, sizeof(detail), "%s", strerror(-rc));
        printf("%s dev %u (%s, xenstore type '%s'): %s\n", rc ? "FAIL" : "PASS", devs[i].num,
               cli_id_name(id, name, sizeof(name)), devs[i].type, detail);
        failed += rc != 0;
    }
    printf("selftest bus %u: %s (%u failure(s))\n", c->bus, failed ? "FAIL" : "PASS", failed);
    fflush(stdout);
    return failed ? 1 : 0;
}
