/*
 * frontend-shim/drivers/drv_console.c: virtio-console driver, one port.
 * Receive buffers stay posted on receiveq 0 so host input is never held
 * up; transmit waits for each chunk on transmitq 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drv_common.h"
#include "proto/vmsg_le.h"
#include "util/vmsg_log.h"

#define VIRTIO_ID_CONSOLE       3
#define VIRTIO_CONSOLE_F_SIZE   0
#define RXQ                     0
#define TXQ                     1
#define RX_BUFS                 4
#define BUF_SIZE                1024u

struct rx_slot {
    struct drv_chain ch;        /* first: the token */
    struct drv_buf buf;
    uint32_t off;               /* bytes already handed to the reader */
    bool posted;
};

struct vmsg_console {
    struct drv_common c;
    struct drv_buf tx;
    struct rx_slot rx[RX_BUFS];
    unsigned next_rx;           /* the device uses receive buffers in order */
};

static int post_rx(struct vmsg_console *con, struct rx_slot *s)
{
    struct vmsg_vq_buf b = { s->buf.addr, s->buf.len, true };
    int rc = drv_submit(&con->c, RXQ, &b, 1, &s->ch);
    s->posted = rc == 0;
    s->off = 0;
    return rc;
}

void vmsg_console_close(struct vmsg_console *con)
{
    if (!con)
        return;
    drv_stop(&con->c);
    for (unsigned i = 0; i < RX_BUFS; i++)
        drv_buf_free(&con->c, &con->rx[i].buf);
    drv_buf_free(&con->c, &con->tx);
    free(con);
}

int vmsg_console_open(struct vmsg_drvbus *db, uint16_t dev_num, struct vmsg_console **out)
{
    struct vmsg_console *con = calloc(1, sizeof(*con));
    int rc;

    if (!con)
        return -ENOMEM;
    rc = drv_start(&con->c, db, dev_num, VIRTIO_ID_CONSOLE,
                   VIRTIO_BIT(VIRTIO_CONSOLE_F_SIZE), 2, 64);
    if (rc < 0) {
        free(con);
        return rc;
    }
    if ((rc = drv_buf_alloc(&con->c, BUF_SIZE, &con->tx)) < 0)
        goto err;
    for (unsigned i = 0; i < RX_BUFS; i++) {
        if ((rc = drv_buf_alloc(&con->c, BUF_SIZE, &con->rx[i].buf)) < 0 ||
            (rc = post_rx(con, &con->rx[i])) < 0)
            goto err;
    }
    *out = con;
    return 0;
err:
    vmsg_console_close(con);
    return rc;
}

ssize_t vmsg_console_write(struct vmsg_console *con, const void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        uint32_t n = len - done < BUF_SIZE ? (uint32_t)(len - done) : BUF_SIZE;
        struct vmsg_vq_buf b = { con->tx.addr, n, false };
        struct drv_chain ch;
        memcpy(con->tx.ptr, (const uint8_t *)buf + done, n);
        int rc = drv_submit(&con->c, TXQ, &b, 1, &ch);
        if (rc == 0)
            rc = drv_wait(&con->c, &ch, VMSG_DRIVERS_TIMEOUT_MS);
        if (rc < 0)
            return rc;
        done += n;
    }
    return (ssize_t)done;
}

ssize_t vmsg_console_read(struct vmsg_console *con, void *buf, size_t len, int timeout_ms)
{
    uint64_t deadline = vmsg_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    size_t got = 0;
    int rc;

    for (;;) {
        if ((rc = drv_reap(&con->c)) < 0)
            return rc;
        /* Hand out used buffers in ring order, re-posting each emptied one. */
        while (got < len) {
            struct rx_slot *s = &con->rx[con->next_rx];
            if (!s->posted || !s->ch.done)
                break;
            uint32_t n = s->ch.used_len - s->off;
            if (n > len - got)
                n = (uint32_t)(len - got);
            memcpy((uint8_t *)buf + got, s->buf.ptr + s->off, n);
            got += n;
            s->off += n;
            if (s->off < s->ch.used_len)
                break;
            if ((rc = post_rx(con, s)) < 0)
                return got ? (ssize_t)got : rc;
            con->next_rx = (con->next_rx + 1) % RX_BUFS;
        }
        if (got)
            return (ssize_t)got;
        uint64_t now = vmsg_now_ms();
        if (now >= deadline)
            return 0;
        rc = vmsg_drvbus_poll(con->c.dev.db, (int)(deadline - now));
        if (rc < 0 && rc != -EINTR)
            return rc;
    }
}

int vmsg_console_size(struct vmsg_console *con, uint16_t *rows, uint16_t *cols)
{
    uint8_t cfg[4];
    int rc;

    if (!drv_has(&con->c, VIRTIO_CONSOLE_F_SIZE))
        return -ENOTSUP;
    if ((rc = vmsg_drv_read_config(&con->c.dev, 0, cfg, sizeof(cfg))) < 0)
        return rc;
    *cols = vmsg_get_le16(cfg);
    *rows = vmsg_get_le16(cfg + 2);
    return 0;
}
