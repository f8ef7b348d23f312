/*
 * frontend-shim/drivers/drv_blk.c: virtio-blk driver with one or more
 * request queues. A request is a readable 16-byte header, data in 4 KiB
 * bounce buffers of bus memory, and a writable status byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drv_common.h"
#include "virtio/virtio_blk.h"
#include "proto/vmsg_le.h"

#define CHUNK           4096u
#define QUEUE_SIZE      128u
#define MAX_TRANSFER    (1u << 20)

struct vmsg_blk {
    struct drv_common c;
    struct vmsg_drvbus *db;
    uint16_t dev_num;
    unsigned nq;                /* queues set up, the same on every connection */
    uint64_t capacity;
    uint32_t blk_size;
    uint32_t max_segs;          /* data segments per request */
    struct vmsg_drv_reconnect rec;
    bool can_reconnect;
    uint32_t connection;        /* the one the device is set up on */
    unsigned reconnects;
    int lost;                   /* why outstanding requests cannot complete */
    struct vmsg_blk_req *first, *last;  /* not yet returned, in start order */
};

struct vmsg_blk_req {
    struct drv_chain ch;
    struct vmsg_blk_req *prev, *next;
    bool submitted;             /* on a ring of the current connection */
    /* What the request is, not where it sits: enough to submit it again
     * on a new connection. */
    unsigned q;
    uint32_t type;
    uint64_t sector;
    const void *out;            /* what the device reads after the header */
    uint32_t out_len;
    void *in;                   /* where read data goes */
    uint32_t in_len;
    unsigned nchunks;
    struct drv_buf hdr;         /* header at 0, status byte at 16 */
    unsigned ndata;             /* data buffers allocated */
    struct drv_buf data[];
};

static void req_release_bufs(struct vmsg_blk *b, struct vmsg_blk_req *r)
{
    for (unsigned i = 0; i < r->ndata; i++)
        drv_buf_free(&b->c, &r->data[i]);
    r->ndata = 0;
    drv_buf_free(&b->c, &r->hdr);
    r->submitted = false;
}

static void req_free(struct vmsg_blk *b, struct vmsg_blk_req *r)
{
    req_release_bufs(b, r);
    *(r->prev ? &r->prev->next : &b->first) = r->next;
    *(r->next ? &r->next->prev : &b->last) = r->prev;
    free(r);
}

/* Put r on its queue: bounce buffers in bus memory, the chain, a kick. */
static int req_submit(struct vmsg_blk *b, struct vmsg_blk_req *r)
{
    uint32_t data_len = r->out_len ? r->out_len : r->in_len;
    struct vmsg_vq_buf bufs[2 + MAX_TRANSFER / CHUNK];
    unsigned n = 0;
    int rc;

    if (r->nchunks > b->max_segs)
        return -EINVAL;
    if ((rc = drv_buf_alloc(&b->c, 32, &r->hdr)) < 0)
        goto err;
    vmsg_put_le32(r->hdr.ptr, r->type);
    vmsg_put_le32(r->hdr.ptr + 4, 0);
    vmsg_put_le64(r->hdr.ptr + 8, r->sector);
    r->hdr.ptr[16] = 0xff;      /* not a status the device can mean */
    bufs[n++] = (struct vmsg_vq_buf){ r->hdr.addr, 16, false };
    for (; r->ndata < r->nchunks; r->ndata++) {
        uint32_t off = r->ndata * CHUNK;
        uint32_t len = data_len - off < CHUNK ? data_len - off : CHUNK;
        if ((rc = drv_buf_alloc(&b->c, len, &r->data[r->ndata])) < 0)
            goto err;
        if (r->out_len)
            memcpy(r->data[r->ndata].ptr, (const uint8_t *)r->out + off, len);
        bufs[n++] = (struct vmsg_vq_buf){ r->data[r->ndata].addr, len, r->in_len != 0 };
    }
    bufs[n++] = (struct vmsg_vq_buf){ r->hdr.addr + 16, 1, true };
    if ((rc = drv_submit(&b->c, r->q, bufs, n, &r->ch)) < 0)
        goto err;
    r->submitted = true;
    return 0;
err:
    req_release_bufs(b, r);
    return rc;
}

/* Negotiate, set up b->nq queues and read the geometry. */
static int blk_setup(struct vmsg_blk *b)
{
    const uint64_t wanted = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |
        VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
        VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) | VIRTIO_BIT(VIRTIO_BLK_F_MQ) |
        VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
    uint8_t cfg[36];
    int rc;

    if ((rc = drv_start(&b->c, b->db, b->dev_num, VIRTIO_ID_BLOCK, wanted, b->nq,
                        QUEUE_SIZE)) < 0)
        return rc;
    if ((rc = vmsg_drv_read_config(&b->c.dev, 0, cfg, 24)) < 0)
        goto err_stop;
    b->capacity = vmsg_get_le64(cfg);
    b->blk_size = drv_has(&b->c, VIRTIO_BLK_F_BLK_SIZE) ? vmsg_get_le32(cfg + VIRTIO_BLK_CFG_BLK_SIZE)
                                                       : VIRTIO_BLK_SECTOR_SIZE;
    /* Bounded by our ring (header + status take two descriptors) and by
     * what the device says it takes. */
    b->max_segs = b->c.vqs[0].size - 2;
    if (drv_has(&b->c, VIRTIO_BLK_F_SEG_MAX)) {
        uint32_t seg_max = vmsg_get_le32(cfg + VIRTIO_BLK_CFG_SEG_MAX);
        if (seg_max && seg_max < b->max_segs)
            b->max_segs = seg_max;
    }
    if (b->max_segs > MAX_TRANSFER / CHUNK)
        b->max_segs = MAX_TRANSFER / CHUNK;
    if (b->max_segs == 0) {
        rc = -EIO;
        goto err_stop;
    }
    return 0;
err_stop:
    drv_stop(&b->c);
    return rc;
}

static bool bus_lost_error(int rc)
{
    return rc == -EPIPE || rc == -EPROTO || rc == -ETIMEDOUT;
}

/*
 * A request failed with err. If the bus went away and a new connection is
 * up, set the device up on it and resubmit every outstanding request in
 * start order: 0, wait again. Otherwise the error the request fails with.
 */
static int recover(struct vmsg_blk *b, int err)
{
    uint64_t capacity = b->capacity;
    unsigned count = 0;
    int rc;

    if (!b->can_reconnect || !bus_lost_error(err))
        return err;
    for (;;) {
        rc = b->rec.reconnect(b->rec.opaque, b->connection);
        if (rc == -EALREADY)
            return err;
        if (rc < 0)
            return b->lost = rc;
        drv_abandon(&b->c);
        for (struct vmsg_blk_req *r = b->first; r; r = r->next)
            req_release_bufs(b, r);
        b->connection = b->rec.connection(b->rec.opaque);
        b->lost = -EPIPE;
        rc = blk_setup(b);
        if (rc == 0 && b->capacity != capacity) {
            vmsg_err("blk device %u: %llu sectors before the backend restart, %llu after: "
                     "not the same disk", b->dev_num, (unsigned long long)capacity,
                     (unsigned long long)b->capacity);
            return b->lost = -EIO;
        }
        for (struct vmsg_blk_req *r = b->first; rc == 0 && r; r = r->next, count++)
            rc = req_submit(b, r);
        if (rc == 0)
            break;
        if (!bus_lost_error(rc))
            return b->lost = rc;
        /* Lost again while setting up: ask for the next connection. */
    }
    b->lost = 0;
    b->reconnects++;
    vmsg_info("blk device %u: set up again on connection %u, %u request(s) resubmitted",
              b->dev_num, b->connection, count);
    return 0;
}

/* Build r from its description, remember it and submit it. */
static int req_start(struct vmsg_blk *b, unsigned q, uint32_t type, uint64_t sector,
                     const void *out, uint32_t out_len, void *in, uint32_t in_len,
                     struct vmsg_blk_req **res)
{
    uint32_t data_len = out_len ? out_len : in_len;
    unsigned nchunks = (data_len + CHUNK - 1) / CHUNK;
    struct vmsg_blk_req *r;
    int rc;

    if ((out_len && in_len) || data_len > MAX_TRANSFER || nchunks > b->max_segs)
        return -EINVAL;
    if (q >= b->nq)
        return -EINVAL;
    r = calloc(1, sizeof(*r) + nchunks * sizeof(r->data[0]));
    if (!r)
        return -ENOMEM;
    *r = (struct vmsg_blk_req){ .q = q, .type = type, .sector = sector, .out = out,
                                .out_len = out_len, .in = in, .in_len = in_len,
                                .nchunks = nchunks, .prev = b->last };
    *(b->last ? &b->last->next : &b->first) = r;
    b->last = r;
    rc = b->lost ? b->lost : req_submit(b, r);
    if (rc < 0 && (rc = recover(b, rc)) == 0 && !r->submitted)
        rc = -EIO;
    if (rc < 0) {
        req_free(b, r);
        return rc;
    }
    *res = r;
    return 0;
}

int vmsg_blk_wait(struct vmsg_blk *b, struct vmsg_blk_req *r)
{
    int rc;

    for (;;) {
        rc = r->submitted ? drv_wait(&b->c, &r->ch, VMSG_DRIVERS_TIMEOUT_MS) : b->lost;
        if (rc == 0 || (rc = recover(b, rc)) < 0)
            break;
    }
    if (rc == 0) {
        /* One read of the status: the device could still change it. */
        uint8_t status = __atomic_load_n(&r->hdr.ptr[16], __ATOMIC_RELAXED);
        if (status == VIRTIO_BLK_S_OK) {
            uint32_t got = r->ch.used_len ? r->ch.used_len - 1 : 0;
            if (r->type == VIRTIO_BLK_T_IN && got < r->in_len)
                rc = -EIO;      /* short data with an OK status */
            for (unsigned i = 0; rc == 0 && r->in && i < r->ndata; i++)
                memcpy((uint8_t *)r->in + i * CHUNK, r->data[i].ptr, r->data[i].len);
        } else {
            rc = status == VIRTIO_BLK_S_UNSUPP ? -ENOTSUP : -EIO;
        }
    }
    req_free(b, r);
    return rc;
}

static int req_sync(struct vmsg_blk *b, unsigned q, uint32_t type, uint64_t sector,
                    const void *out, uint32_t out_len, void *in, uint32_t in_len)
{
    struct vmsg_blk_req *r;
    int rc = req_start(b, q, type, sector, out, out_len, in, in_len, &r);
    return rc < 0 ? rc : vmsg_blk_wait(b, r);
}

int vmsg_blk_start(struct vmsg_blk *b, unsigned q, bool write, uint64_t sector, void *buf,
                   uint32_t nsectors, struct vmsg_blk_req **out)
{
    uint64_t len = (uint64_t)nsectors * VIRTIO_BLK_SECTOR_SIZE;
    if (len > vmsg_blk_max_transfer(b))
        return -EINVAL;
    return write ? req_start(b, q, VIRTIO_BLK_T_OUT, sector, buf, (uint32_t)len, NULL, 0, out) :
                   req_start(b, q, VIRTIO_BLK_T_IN, sector, NULL, 0, buf, (uint32_t)len, out);
}

static int check_range(struct vmsg_blk *b, uint64_t sector, uint64_t nsectors)
{
    return sector <= b->capacity && nsectors <= b->capacity - sector ? 0 : -ERANGE;
}

static int rw(struct vmsg_blk *b, unsigned q, bool write, uint64_t sector, uint8_t *buf,
              uint32_t nsectors)
{
    uint32_t per = (uint32_t)(vmsg_blk_max_transfer(b) / VIRTIO_BLK_SECTOR_SIZE);
    int rc;

    if ((rc = check_range(b, sector, nsectors)) < 0)
        return rc;
    if (write && vmsg_blk_read_only(b))
        return -EROFS;
    while (nsectors) {
        uint32_t n = nsectors < per ? nsectors : per;
        struct vmsg_blk_req *r;
        if ((rc = vmsg_blk_start(b, q, write, sector, buf, n, &r)) < 0 ||
            (rc = vmsg_blk_wait(b, r)) < 0)
            return rc;
        sector += n;
        buf += (size_t)n * VIRTIO_BLK_SECTOR_SIZE;
        nsectors -= n;
    }
    return 0;
}

int vmsg_blk_read(struct vmsg_blk *b, unsigned q, uint64_t sector, void *buf, uint32_t nsectors)
{
    return rw(b, q, false, sector, buf, nsectors);
}

int vmsg_blk_write(struct vmsg_blk *b, unsigned q, uint64_t sector, const void *buf,
                   uint32_t nsectors)
{
    /* rw() only reads from buf when writing. */
    return rw(b, q, true, sector, (uint8_t *)(uintptr_t)buf, nsectors);
}

int vmsg_blk_flush(struct vmsg_blk *b, unsigned q)
{
    if (!drv_has(&b->c, VIRTIO_BLK_F_FLUSH))
        return 0;   /* write-through: every write was already on disk */
    return req_sync(b, q, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL, 0);
}

static int range_op(struct vmsg_blk *b, unsigned q, uint32_t type, unsigned feature,
                    uint64_t sector, uint32_t nsectors)
{
    uint8_t seg[16];
    int rc;

    if (!drv_has(&b->c, feature))
        return -ENOTSUP;
    if ((rc = check_range(b, sector, nsectors)) < 0)
        return rc;
    vmsg_put_le64(seg, sector);
    vmsg_put_le32(seg + 8, nsectors);
    vmsg_put_le32(seg + 12, 0);
    return req_sync(b, q, type, 0, seg, sizeof(seg), NULL, 0);
}

int vmsg_blk_discard(struct vmsg_blk *b, unsigned q, uint64_t sector, uint32_t nsectors)
{
    return range_op(b, q, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_F_DISCARD, sector, nsectors);
}

int vmsg_blk_write_zeroes(struct vmsg_blk *b, unsigned q, uint64_t sector, uint32_t nsectors)
{
    return range_op(b, q, VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_F_WRITE_ZEROES, sector, nsectors);
}

int vmsg_blk_get_id(struct vmsg_blk *b, char id[21])
{
    memset(id, 0, 21);
    return req_sync(b, 0, VIRTIO_BLK_T_GET_ID, 0, NULL, 0, id, 20);
}

uint64_t vmsg_blk_capacity(const struct vmsg_blk *b)
{
    return b->capacity;
}

bool vmsg_blk_read_only(const struct vmsg_blk *b)
{
    return drv_has(&b->c, VIRTIO_BLK_F_RO);
}

unsigned vmsg_blk_num_queues(const struct vmsg_blk *b)
{
    return b->c.nvqs;
}

uint32_t vmsg_blk_block_size(const struct vmsg_blk *b)
{
    return b->blk_size;
}

size_t vmsg_blk_max_transfer(const struct vmsg_blk *b)
{
    return (size_t)b->max_segs * CHUNK;
}

void vmsg_blk_set_reconnect(struct vmsg_blk *b, const struct vmsg_drv_reconnect *r)
{
    b->can_reconnect = r != NULL;
    if (r) {
        b->rec = *r;
        b->connection = r->connection(r->opaque);
    }
}

unsigned vmsg_blk_reconnects(const struct vmsg_blk *b)
{
    return b->reconnects;
}

int vmsg_blk_open(struct vmsg_drvbus *db, uint16_t dev_num, unsigned want_queues,
                  struct vmsg_blk **out)
{
    struct vmsg_blk *b;
    int rc;

    if (want_queues == 0)
        return -EINVAL;
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->db = db;
    b->dev_num = dev_num;
    b->nq = 1;
    /* The queue count lives in config, readable only after FEATURES_OK;
     * a first pass learns it, the real start uses it. */
    if (want_queues > 1) {
        struct drv_common tmp;
        uint8_t nq_le[2];
        rc = drv_start(&tmp, db, dev_num, VIRTIO_ID_BLOCK, VIRTIO_BIT(VIRTIO_BLK_F_MQ), 1,
                       QUEUE_SIZE);
        if (rc < 0)
            goto err;
        if (drv_has(&tmp, VIRTIO_BLK_F_MQ) &&
            vmsg_drv_read_config(&tmp.dev, VIRTIO_BLK_CFG_NUM_QUEUES, nq_le, 2) == 0) {
            b->nq = vmsg_get_le16(nq_le);
            if (b->nq == 0)
                b->nq = 1;
            if (b->nq > want_queues)
                b->nq = want_queues;
            if (b->nq > tmp.dev.info.max_virtqueues)
                b->nq = tmp.dev.info.max_virtqueues;
        }
        drv_stop(&tmp);
    }
    if ((rc = blk_setup(b)) < 0)
        goto err;
    *out = b;
    return 0;
err:
    free(b);
    return rc;
}

void vmsg_blk_close(struct vmsg_blk *b)
{
    if (!b)
        return;
    drv_stop(&b->c);
    free(b);
}
