/*
 * frontend-shim/drivers/drv_rng.c: virtio-rng driver: one writable buffer
 * per request, copied out when the device has filled it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drv_common.h"

#define VIRTIO_ID_RNG 4
#define RNG_CHUNK 4096u

struct vmsg_rng {
    struct drv_common c;
    struct drv_buf buf;
};

int vmsg_rng_open(struct vmsg_drvbus *db, uint16_t dev_num, struct vmsg_rng **out)
{
    struct vmsg_rng *r = calloc(1, sizeof(*r));
    int rc;

    if (!r)
        return -ENOMEM;
    if ((rc = drv_start(&r->c, db, dev_num, VIRTIO_ID_RNG, 0, 1, 64)) < 0)
        goto err;
    if ((rc = drv_buf_alloc(&r->c, RNG_CHUNK, &r->buf)) < 0) {
        drv_stop(&r->c);
        goto err;
    }
    *out = r;
    return 0;
err:
    free(r);
    return rc;
}

ssize_t vmsg_rng_read(struct vmsg_rng *r, void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        uint32_t want = len - done < RNG_CHUNK ? (uint32_t)(len - done) : RNG_CHUNK;
        struct vmsg_vq_buf b = { r->buf.addr, want, true };
        struct drv_chain ch;
        int rc = drv_submit(&r->c, 0, &b, 1, &ch);
        if (rc == 0)
            rc = drv_wait(&r->c, &ch, VMSG_DRIVERS_TIMEOUT_MS);
        if (rc < 0)
            return rc;
        /* used_len was checked against `want` by the virtq driver side. */
        memcpy((uint8_t *)buf + done, r->buf.ptr, ch.used_len);
        done += ch.used_len;
        /* A device that gives nothing would spin us: return what came (a
         * short read), or -EIO when nothing did. */
        if (ch.used_len == 0)
            return done ? (ssize_t)done : -EIO;
    }
    return (ssize_t)done;
}

void vmsg_rng_close(struct vmsg_rng *r)
{
    if (!r)
        return;
    drv_stop(&r->c);
    drv_buf_free(&r->c, &r->buf);
    free(r);
}
