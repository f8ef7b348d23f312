/*
 * tests/unit/test_virtq.c: lib/virtq on its own, both sides of one queue
 * over a tiny test bus (one memory region, a bump allocator for the driver
 * side and a bounds-checked map for the device side).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "tests/unit/virtq_hostile.h"
#include "tests/unit/vmsg_test.h"
#include "virtq/vmsg_virtq.h"

#define MEM_SIZE (64 * 1024)

struct test_bus {
    struct vmsg_bus bus;
    uint8_t *mem;
    size_t next;            /* bump allocator */
    int maps_live;
};

static struct test_bus tb;

static int tb_map(struct vmsg_bus *bus, uint64_t addr, uint64_t len, bool writable,
                  struct vmsg_mapping *out)
{
    struct test_bus *t = container_of(bus, struct test_bus, bus);
    (void)writable;
    if (addr > MEM_SIZE || len > MEM_SIZE - addr)
        return -EFAULT;
    out->ptr = t->mem + addr;
    out->len = (size_t)len;
    out->cookie = NULL;
    t->maps_live++;
    return 0;
}

static void tb_unmap(struct vmsg_bus *bus, struct vmsg_mapping *m)
{
    struct test_bus *t = container_of(bus, struct test_bus, bus);
    if (m->ptr)
        t->maps_live--;
    m->ptr = NULL;
}

static int tb_alloc(struct vmsg_bus *bus, size_t len, size_t align, uint64_t *addr, void **ptr)
{
    struct test_bus *t = container_of(bus, struct test_bus, bus);
    size_t at = (t->next + align - 1) & ~(align - 1);
    if (at + len > MEM_SIZE)
        return -ENOMEM;
    t->next = at + len;
    *addr = at;
    *ptr = t->mem + at;
    return 0;
}

static const struct vmsg_bus_ops tb_ops = {
    .map = tb_map, .unmap = tb_unmap, .alloc = tb_alloc,
};

static struct vmsg_vq_drv drv;
static struct vmsg_vq_dev dev;

static void setup(uint32_t size, uint64_t features)
{
    memset(tb.mem, 0, MEM_SIZE);
    tb.next = 0;
    tb.maps_live = 0;
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_drv_init(&drv, &tb.bus, 0, size, features), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_dev_init(&dev, &tb.bus, NULL, 0, size, drv.desc_addr,
                                           drv.avail_addr, drv.used_addr, features), 0);
}

static void teardown(void)
{
    vmsg_vq_dev_destroy(&dev);
    vmsg_vq_drv_destroy(&drv);
    CU_ASSERT_EQUAL(tb.maps_live, 0);
}

static int suite_init(void)
{
    tb.bus.ops = &tb_ops;
    tb.mem = aligned_alloc(4096, MEM_SIZE);
    return tb.mem ? 0 : -1;
}

static int suite_clean(void)
{
    free(tb.mem);
    return 0;
}

/* A buffer in the upper half of memory, away from the rings. */
#define BUF(n) ((uint64_t)MEM_SIZE / 2 + (uint64_t)(n) * 4096)

static void test_chain_round_trip(void)
{
    struct vmsg_vq_elem *e;
    void *token;
    uint32_t len;
    struct vmsg_vq_buf bufs[] = {
        { BUF(0), 10, false }, { BUF(1), 6, false }, { BUF(2), 100, true }, { BUF(3), 28, true },
    };
    uint8_t out[16];

    setup(64, VMSG_VIRTQ_DRIVER_FEATURES);
    memcpy(tb.mem + BUF(0), "0123456789", 10);
    memcpy(tb.mem + BUF(1), "abcdef", 6);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, bufs, 4, &drv), 0);
    CU_ASSERT_EQUAL(vmsg_vq_drv_num_free(&drv), 60);

    CU_ASSERT_EQUAL_FATAL(vmsg_vq_pop(&dev, 0, &e), 1);
    CU_ASSERT_EQUAL(e->nread, 2);
    CU_ASSERT_EQUAL(e->nwrite, 2);
    CU_ASSERT_EQUAL(e->read_len, 16);
    CU_ASSERT_EQUAL(e->write_len, 128);
    CU_ASSERT_EQUAL(vmsg_vq_elem_read(e, 0, out, sizeof(out)), 16);
    CU_ASSERT_EQUAL(memcmp(out, "0123456789abcdef", 16), 0);
    CU_ASSERT_EQUAL(vmsg_vq_elem_read(e, 8, out, sizeof(out)), 8);
    CU_ASSERT_EQUAL(vmsg_vq_elem_write(e, 95, "XYZWV-12", 8), 8);
    struct vmsg_vq_elem *none;
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &none), 0);
    vmsg_vq_push(&dev, e, 103);
    CU_ASSERT_TRUE(vmsg_vq_should_notify(&dev));

    CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), 1);
    CU_ASSERT_PTR_EQUAL(token, &drv);
    CU_ASSERT_EQUAL(len, 103);
    CU_ASSERT_EQUAL(memcmp(tb.mem + BUF(2) + 95, "XYZWV", 5), 0);
    CU_ASSERT_EQUAL(memcmp(tb.mem + BUF(3), "-12", 3), 0);
    CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), 0);
    CU_ASSERT_EQUAL(vmsg_vq_drv_num_free(&drv), 64);
    teardown();
}

/* The driver reuses descriptors many times round the 16-bit indices. */
static void test_wraps_indices(void)
{
    struct vmsg_vq_elem *e;
    void *token;
    uint32_t len;
    static int tokens[4];

    setup(4, VMSG_VIRTQ_DRIVER_FEATURES);
    for (unsigned round = 0; round < 70000; round += 3) {
        for (unsigned k = 0; k < 3; k++) {
            struct vmsg_vq_buf b = { BUF(k), 8, true };
            CU_ASSERT_EQUAL_FATAL(vmsg_vq_drv_add(&drv, &b, 1, &tokens[k]), 0);
        }
        for (unsigned k = 0; k < 3; k++) {
            CU_ASSERT_EQUAL_FATAL(vmsg_vq_pop(&dev, 0, &e), 1);
            vmsg_vq_push(&dev, e, k);
        }
        for (unsigned k = 0; k < 3; k++) {
            CU_ASSERT_EQUAL_FATAL(vmsg_vq_drv_get_used(&drv, &token, &len), 1);
            CU_ASSERT_PTR_EQUAL(token, &tokens[k]);
            CU_ASSERT_EQUAL(len, k);
        }
    }
    teardown();
}

static void test_full_queue(void)
{
    struct vmsg_vq_buf b[3] = { { BUF(0), 8, false }, { BUF(1), 8, false }, { BUF(2), 8, true } };
    setup(4, VMSG_VIRTQ_DRIVER_FEATURES);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, b, 3, &drv), 0);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, b, 3, &drv), -ENOSPC);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, b, 0, &drv), -EINVAL);
    struct vmsg_vq_buf bad[2] = { { BUF(0), 8, true }, { BUF(1), 8, false } };
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, bad, 2, &drv), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_vq_drv_init(&(struct vmsg_vq_drv){ 0 }, &tb.bus, 1, 512, 0), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_vq_drv_init(&(struct vmsg_vq_drv){ 0 }, &tb.bus, 1, 48, 0), -EINVAL);
    struct vmsg_vq_elem *e;
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_drop(&dev, e);
    teardown();
}

/* A 256-entry queue (the driver maximum) keeps each ring part in a page. */
static void test_ring_parts_fit_pages(void)
{
    setup(VIRTQ_DRIVER_MAX_SIZE, VMSG_VIRTQ_DRIVER_FEATURES);
    CU_ASSERT_TRUE(virtq_used_bytes(VIRTQ_DRIVER_MAX_SIZE) <= 4096);
    CU_ASSERT_EQUAL(drv.desc_addr / 4096, (drv.desc_addr + virtq_desc_bytes(256) - 1) / 4096);
    teardown();
}

static void test_event_idx_device_to_driver(void)
{
    struct vmsg_vq_elem *e;
    struct vmsg_vq_buf b = { BUF(0), 8, true };
    void *token;
    uint32_t len;

    setup(8, VMSG_VIRTQ_DRIVER_FEATURES);
    for (int k = 0; k < 4; k++)
        CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    /* The driver wants an event when the first buffer is used. */
    vmsg_vq_drv_enable_cb(&drv);
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_push(&dev, e, 1);
    CU_ASSERT_TRUE(vmsg_vq_should_notify(&dev));
    /* used_event still 0: the driver has not asked again, no event. */
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_push(&dev, e, 1);
    CU_ASSERT_FALSE(vmsg_vq_should_notify(&dev));
    /* The driver consumed both and re-armed at 2: the next push notifies. */
    CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), 1);
    CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), 1);
    vmsg_vq_drv_enable_cb(&drv);
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_push(&dev, e, 1);
    CU_ASSERT_TRUE(vmsg_vq_should_notify(&dev));
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_drop(&dev, e);
    teardown();
}

static void test_event_idx_driver_to_device(void)
{
    struct vmsg_vq_elem *e;
    struct vmsg_vq_buf b = { BUF(0), 8, true };

    setup(8, VMSG_VIRTQ_DRIVER_FEATURES);
    /* avail_event 0 from the zeroed ring: the first add kicks. */
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    CU_ASSERT_TRUE(vmsg_vq_drv_kick_prepare(&drv));
    /* The device is busy draining: no kick for the next adds. */
    vmsg_vq_disable_notify(&dev);
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_drop(&dev, e);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    CU_ASSERT_FALSE(vmsg_vq_drv_kick_prepare(&drv));
    /* Re-enabling notices the buffer that came without a kick. */
    CU_ASSERT_TRUE(vmsg_vq_enable_notify(&dev));
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_drop(&dev, e);
    CU_ASSERT_FALSE(vmsg_vq_enable_notify(&dev));
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    CU_ASSERT_TRUE(vmsg_vq_drv_kick_prepare(&drv));
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_drop(&dev, e);
    teardown();
}

static void test_flags_without_event_idx(void)
{
    struct vmsg_vq_elem *e;
    struct vmsg_vq_buf b = { BUF(0), 8, true };
    uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1);

    setup(8, f);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    CU_ASSERT_TRUE(vmsg_vq_drv_kick_prepare(&drv));
    vmsg_vq_disable_notify(&dev);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    CU_ASSERT_FALSE(vmsg_vq_drv_kick_prepare(&drv));
    CU_ASSERT_TRUE(vmsg_vq_enable_notify(&dev));
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_push(&dev, e, 0);
    CU_ASSERT_TRUE(vmsg_vq_should_notify(&dev));
    /* VRING_AVAIL_F_NO_INTERRUPT: the driver does not want EVENT_USED. */
    vmsg_put_le16(drv.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_push(&dev, e, 0);
    CU_ASSERT_FALSE(vmsg_vq_should_notify(&dev));
    teardown();
}

static void test_indirect_chain(void)
{
    struct vmsg_vq_elem *e;
    uint64_t f = VMSG_VIRTQ_DRIVER_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);

    setup(8, f);
    uint8_t *ind = tb.mem + BUF(4);
    hostile_desc(ind, 0, BUF(0), 16, VIRTQ_DESC_F_NEXT, 2);
    hostile_desc(ind, 2, BUF(1), 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    hostile_desc(ind, 1, BUF(2), 512, VIRTQ_DESC_F_WRITE, 0);
    hostile_desc(drv.desc, 5, BUF(4), 48, VIRTQ_DESC_F_INDIRECT, 0);
    vmsg_put_le16(drv.avail + 4, 5);
    vmsg_put_le16(drv.avail + 2, 1);
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_pop(&dev, 0, &e), 1);
    CU_ASSERT_EQUAL(e->head, 5);
    CU_ASSERT_EQUAL(e->nread, 1);
    CU_ASSERT_EQUAL(e->nwrite, 1);     /* the empty descriptor is dropped */
    CU_ASSERT_EQUAL(e->write_len, 512);
    vmsg_vq_drop(&dev, e);
    teardown();
}

/* Each hostile ring breaks the queue; nothing is mapped afterwards and the
 * queue stays broken (no more pops, pushes leave the used ring alone). */
static void test_hostile_rings(void)
{
    uint64_t f = VMSG_VIRTQ_DRIVER_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);

    for (size_t c = 0; c < HOSTILE_NCASES; c++) {
        struct vmsg_vq_elem *e = (void *)1;
        setup(8, f);
        struct hostile_ring r = {
            .desc = drv.desc, .avail = drv.avail, .size = 8,
            .buf_addr = BUF(0), .ind = tb.mem + BUF(4), .ind_addr = BUF(4), .mem_size = MEM_SIZE,
        };
        hostile_publish(&r, &hostile_cases[c], 0);
        int rc = vmsg_vq_pop(&dev, 0, &e);
        if (rc != -EIO)
            fprintf(stderr, "case '%s': pop returned %d\n", hostile_cases[c].name, rc);
        CU_ASSERT_EQUAL(rc, -EIO);
        CU_ASSERT_PTR_NULL(e);
        CU_ASSERT_TRUE(vmsg_vq_broken(&dev));
        CU_ASSERT_EQUAL(tb.maps_live, 3);          /* the rings only */
        CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), -EIO);
        CU_ASSERT_FALSE(vmsg_vq_should_notify(&dev));
        teardown();
    }
}

static void test_indirect_needs_feature(void)
{
    struct vmsg_vq_elem *e;
    setup(8, VMSG_VIRTQ_DRIVER_FEATURES);
    hostile_desc(tb.mem + BUF(4), 0, BUF(0), 16, VIRTQ_DESC_F_WRITE, 0);
    hostile_desc(drv.desc, 0, BUF(4), 16, VIRTQ_DESC_F_INDIRECT, 0);
    vmsg_put_le16(drv.avail + 2, 1);
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), -EIO);
    teardown();
}

/* A chain above the model's segment limit is a violation too. */
static void test_chain_longer_than_model_limit(void)
{
    struct vmsg_vq_elem *e;
    struct vmsg_vq_buf b[3] = { { BUF(0), 8, false }, { BUF(1), 8, true }, { BUF(2), 8, true } };
    setup(8, VMSG_VIRTQ_DRIVER_FEATURES);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, b, 3, &drv), 0);
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 2, &e), -EIO);
    teardown();
}

/*
 * A backend restart: the driver keeps its ring, with three chains
 * published and one completed by the old device; the new device is set up
 * on the same ring and must serve the two that were not completed, not
 * the ring from slot 0 (docs/protocol.md 3).
 */
static void test_setup_again_resumes_at_used_idx(void)
{
    struct vmsg_vq_buf bufs[] = { { BUF(0), 4, false } };
    struct vmsg_vq_elem *e;
    void *token;
    uint32_t len;
    int i;

    setup(8, VMSG_VIRTQ_DRIVER_FEATURES);
    for (i = 0; i < 3; i++)
        CU_ASSERT_EQUAL_FATAL(vmsg_vq_drv_add(&drv, bufs, 1, (void *)(uintptr_t)(i + 1)), 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_pop(&dev, 0, &e), 1);
    vmsg_vq_push(&dev, e, 0);
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_pop(&dev, 0, &e), 1);    /* in flight when it dies */
    vmsg_vq_drop(&dev, e);      /* what a killed process's mappings amount to */
    vmsg_vq_dev_destroy(&dev);

    CU_ASSERT_EQUAL_FATAL(vmsg_vq_dev_init(&dev, &tb.bus, NULL, 0, 8, drv.desc_addr,
                                           drv.avail_addr, drv.used_addr,
                                           VMSG_VIRTQ_DRIVER_FEATURES), 0);
    for (i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(vmsg_vq_pop(&dev, 0, &e), 1);
        vmsg_vq_push(&dev, e, 0);
    }
    CU_ASSERT_EQUAL(vmsg_vq_pop(&dev, 0, &e), 0);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(vmsg_vq_drv_get_used(&drv, &token, &len), 1);
        CU_ASSERT_PTR_EQUAL(token, (void *)(uintptr_t)(i + 1));
    }
    CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), 0);
    teardown();
}

/* A driver that republishes a head while its earlier pops are still in
 * flight could make the device hold more chains than the queue has
 * entries (each with its mappings). The chain past the queue size breaks
 * the queue, as QEMU's "virtqueue size exceeded" does. */
static void test_inflight_never_above_queue_size(void)
{
    struct vmsg_vq_elem *e[5];
    struct vmsg_vq_buf b = { BUF(0), 8, true };
    uint16_t idx;

    setup(4, VMSG_VIRTQ_DRIVER_FEATURES);
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    idx = vmsg_get_le16(drv.avail + 2);
    CU_ASSERT_EQUAL_FATAL(vmsg_vq_pop(&dev, 0, &e[0]), 1);
    /* Head 0 again and again, each time one more past what was popped. */
    for (unsigned k = 1; k < 5; k++) {
        vmsg_put_le16(drv.avail + 4 + 2 * (idx & 3), vmsg_get_le16(drv.avail + 4));
        vmsg_put_le16(drv.avail + 2, ++idx);
        int rc = vmsg_vq_pop(&dev, 0, &e[k]);
        if (k < 4) {
            CU_ASSERT_EQUAL(rc, 1);
        } else {
            CU_ASSERT_EQUAL(rc, -EIO);
            CU_ASSERT_TRUE(vmsg_vq_broken(&dev));
            if (rc == 1)
                vmsg_vq_drop(&dev, e[k]);
        }
    }
    CU_ASSERT_EQUAL(dev.inflight, 4);
    for (unsigned k = 0; k < 4; k++)
        vmsg_vq_drop(&dev, e[k]);
    teardown();
}

static void test_init_rejects_bad_rings(void)
{
    struct vmsg_vq_dev d;
    CU_ASSERT_EQUAL(vmsg_vq_dev_init(&d, &tb.bus, NULL, 0, 6, 0, 4096, 8192, 0), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_vq_dev_init(&d, &tb.bus, NULL, 0, 8, 8, 4096, 8192, 0), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_vq_dev_init(&d, &tb.bus, NULL, 0, 8, 0, 4097, 8192, 0), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_vq_dev_init(&d, &tb.bus, NULL, 0, 8, 0, 4096, 8194, 0), -EINVAL);
    CU_ASSERT_EQUAL(vmsg_vq_dev_init(&d, &tb.bus, NULL, 0, 8, 0, 4096, MEM_SIZE - 32, 0), -EFAULT);
    CU_ASSERT_EQUAL(vmsg_vq_dev_init(&d, &tb.bus, NULL, 0, 65536, 0, 4096, 8192, 0), -EINVAL);
    CU_ASSERT_EQUAL(tb.maps_live, 0);
}

/* ---- a rogue device, seen from the driver ------------------------------- */
static void rogue_used(uint16_t slot, uint32_t id, uint32_t len, uint16_t idx)
{
    vmsg_put_le32(drv.used + 4 + 8 * slot, id);
    vmsg_put_le32(drv.used + 8 + 8 * slot, len);
    vmsg_put_le16(drv.used + 2, idx);
}

static void test_rogue_device(void)
{
    struct vmsg_vq_buf b = { BUF(0), 64, true };
    void *token;
    uint32_t len;
    struct { uint32_t id, len; uint16_t idx; const char *what; } cases[] = {
        { 0, 8, 5, "used index runs ahead" },
        { 8, 8, 1, "id out of range" },
        { 3, 8, 1, "id not in flight" },
        { 0, 65, 1, "length above the buffer" },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        setup(8, VMSG_VIRTQ_DRIVER_FEATURES);
        CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
        rogue_used(0, cases[c].id, cases[c].len, cases[c].idx);
        CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), -EIO);
        CU_ASSERT_TRUE(drv.broken);
        CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), -EIO);
        teardown();
    }
    /* The same id used twice: the second is not in flight any more. */
    setup(8, VMSG_VIRTQ_DRIVER_FEATURES);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    CU_ASSERT_EQUAL(vmsg_vq_drv_add(&drv, &b, 1, &drv), 0);
    rogue_used(0, 0, 8, 1);
    rogue_used(1, 0, 8, 2);
    CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), 1);
    CU_ASSERT_EQUAL(vmsg_vq_drv_get_used(&drv, &token, &len), -EIO);
    teardown();
}

static void register_suites(void)
{
    VMSG_SUITE("virtq", suite_init, suite_clean);
    VMSG_TEST(test_chain_round_trip);
    VMSG_TEST(test_wraps_indices);
    VMSG_TEST(test_full_queue);
    VMSG_TEST(test_ring_parts_fit_pages);
    VMSG_TEST(test_event_idx_device_to_driver);
    VMSG_TEST(test_event_idx_driver_to_device);
    VMSG_TEST(test_flags_without_event_idx);
    VMSG_TEST(test_indirect_chain);
    VMSG_TEST(test_hostile_rings);
    VMSG_TEST(test_indirect_needs_feature);
    VMSG_TEST(test_chain_longer_than_model_limit);
    VMSG_TEST(test_setup_again_resumes_at_used_idx);
    VMSG_TEST(test_init_rejects_bad_rings);
    VMSG_TEST(test_inflight_never_above_queue_size);
    VMSG_TEST(test_rogue_device);
}

int main(void)
{
    return vmsg_test_main(register_suites);
}
