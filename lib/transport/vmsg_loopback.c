/*
 * lib/transport/vmsg_loopback.c: the in-process bus.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "proto/vmsg_le.h"
#include "transport/vmsg_loopback.h"

#define LB_QUEUE_BYTES (64u * 1024u)

static int queue_init(struct vmsg_lb_queue *q)
{
    memset(q, 0, sizeof(*q));
    q->buf = malloc(LB_QUEUE_BYTES);
    if (!q->buf)
        return -ENOMEM;
    q->size = LB_QUEUE_BYTES;
    q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->efd < 0) {
        int err = -errno;
        free(q->buf);
        return err;
    }
    pthread_mutex_init(&q->lock, NULL);
    return 0;
}

static void queue_destroy(struct vmsg_lb_queue *q)
{
    if (!q->buf)
        return;
    close(q->efd);
    free(q->buf);
    pthread_mutex_destroy(&q->lock);
    q->buf = NULL;
}

/* At most two copies: up to the end of the buffer, then from its start. */
static void ring_copy_in(struct vmsg_lb_queue *q, const uint8_t *src, size_t n)
{
    size_t at = q->head % q->size, first = n < q->size - at ? n : q->size - at;
    memcpy(q->buf + at, src, first);
    memcpy(q->buf, src + first, n - first);
    q->head += n;
}

static void ring_copy_out(struct vmsg_lb_queue *q, uint8_t *dst, size_t n)
{
    size_t at = q->tail % q->size, first = n < q->size - at ? n : q->size - at;
    memcpy(dst, q->buf + at, first);
    memcpy(dst + first, q->buf, n - first);
    q->tail += n;
}

static void efd_signal(int efd)
{
    uint64_t one = 1;
    ssize_t r = write(efd, &one, sizeof(one));
    (void)r;    /* an eventfd counter cannot overflow here: it is cleared on drain */
}

static void efd_clear(int efd)
{
    uint64_t v;
    ssize_t r = read(efd, &v, sizeof(v));
    (void)r;    /* EAGAIN just means it was already clear */
}

/* 0 queued, -EAGAIN full, -EPIPE closed. */
static int queue_push(struct vmsg_lb_queue *q, const uint8_t *msg, size_t len)
{
    uint8_t lenbuf[2];
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->closed) {
        rc = -EPIPE;
    } else if (q->size - (q->head - q->tail) < len + 2) {
        rc = -EAGAIN;
    } else {
        bool was_empty = q->head == q->tail;
        vmsg_put_le16(lenbuf, (uint16_t)len);
        ring_copy_in(q, lenbuf, 2);
        ring_copy_in(q, msg, len);
        if (was_empty)
            efd_signal(q->efd);
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int queue_pop(struct vmsg_lb_queue *q, uint8_t *buf, size_t cap)
{
    uint8_t lenbuf[2];
    int rc;
    pthread_mutex_lock(&q->lock);
    if (q->head == q->tail) {
        rc = q->closed ? -EPIPE : 0;
    } else {
        ring_copy_out(q, lenbuf, 2);
        size_t len = vmsg_get_le16(lenbuf);
        if (len > cap) {
            q->tail += len;     /* cannot hand it out whole: drop it */
            rc = -EMSGSIZE;
        } else {
            ring_copy_out(q, buf, len);
            rc = (int)len;
        }
        if (q->head == q->tail)
            efd_clear(q->efd);
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static struct vmsg_lb_end *end_of(struct vmsg_bus *bus)
{
    return container_of(bus, struct vmsg_lb_end, bus);
}

static int lb_send(struct vmsg_bus *bus, const void *msg, size_t len, int timeout_ms)
{
    struct vmsg_lb_end *e = end_of(bus);
    if (len > bus->wire.max_msg_size || len > UINT16_MAX)
        return -EMSGSIZE;
    uint8_t copy[UINT16_MAX];
    memcpy(copy, msg, len);
    if (e->lb->filter && !e->lb->filter(e->driver_side, copy, len, e->lb->filter_opaque))
        return 0;   /* the test dropped it "in flight" */
    uint64_t deadline = vmsg_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        int rc = queue_push(e->out, copy, len);
        if (rc != -EAGAIN)
            return rc;
        if (timeout_ms >= 0 && vmsg_now_ms() >= deadline)
            return -ETIMEDOUT;
        usleep(1000);
    }
}

static int lb_recv(struct vmsg_bus *bus, void *buf, size_t cap)
{
    return queue_pop(end_of(bus)->in, buf, cap);
}

static int lb_wait(struct vmsg_bus *bus, int timeout_ms)
{
    struct pollfd pfd = { .fd = end_of(bus)->in->efd, .events = POLLIN };
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0) {
        /* A closed, drained queue never signals: report it so callers stop. */
        struct vmsg_lb_queue *q = end_of(bus)->in;
        pthread_mutex_lock(&q->lock);
        bool closed = q->closed;
        pthread_mutex_unlock(&q->lock);
        return closed ? 1 : 0;
    }
    return 1;
}

static int lb_fd(struct vmsg_bus *bus)
{
    return end_of(bus)->in->efd;
}

static int lb_map(struct vmsg_bus *bus, uint64_t addr, uint64_t len, bool writable,
                  struct vmsg_mapping *out)
{
    struct vmsg_loopback *lb = end_of(bus)->lb;
    unsigned failing = __atomic_load_n(&lb->fail_maps, __ATOMIC_RELAXED);

    (void)writable;
    if (lb->on_device_map)
        lb->on_device_map(lb->on_device_map_opaque);
    if (addr > lb->mem_size || len > lb->mem_size - addr)
        return -EFAULT;
    /* The test hook: take one failure, if any is left. */
    while (failing && !__atomic_compare_exchange_n(&lb->fail_maps, &failing, failing - 1, false,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    if (failing)
        return -ENOMEM;
    out->ptr = lb->mem + addr;
    out->len = (size_t)len;
    out->cookie = NULL;
    __atomic_add_fetch(&lb->maps_live, 1, __ATOMIC_RELAXED);
    return 0;
}

static void lb_unmap(struct vmsg_bus *bus, struct vmsg_mapping *m)
{
    struct vmsg_loopback *lb = end_of(bus)->lb;
    if (m->ptr)
        __atomic_sub_fetch(&lb->maps_live, 1, __ATOMIC_RELAXED);
    m->ptr = NULL;
}

static int lb_alloc(struct vmsg_bus *bus, size_t len, size_t align, uint64_t *addr, void **ptr)
{
    return vmsg_pool_alloc(&end_of(bus)->lb->pool, len, align, addr, ptr);
}

static void lb_free(struct vmsg_bus *bus, uint64_t addr, size_t len)
{
    vmsg_pool_free(&end_of(bus)->lb->pool, addr, len);
}

static const struct vmsg_bus_ops lb_driver_ops = {
    .send = lb_send, .recv = lb_recv, .wait = lb_wait, .fd = lb_fd,
    .alloc = lb_alloc, .free = lb_free,
};

static const struct vmsg_bus_ops lb_device_ops = {
    .send = lb_send, .recv = lb_recv, .wait = lb_wait, .fd = lb_fd,
    .map = lb_map, .unmap = lb_unmap,
};

static void end_init(struct vmsg_loopback *lb, struct vmsg_lb_end *e, bool driver_side,
                     uint32_t max_msg_size)
{
    e->lb = lb;
    e->driver_side = driver_side;
    e->bus.ops = driver_side ? &lb_driver_ops : &lb_device_ops;
    e->bus.wire.layout = VMSG_LAYOUT_V1;
    e->bus.wire.max_msg_size = max_msg_size;
    e->bus.revision = 1;
    e->bus.transport_features = 0;
    strcpy(e->bus.name, driver_side ? "loopback/driver" : "loopback/device");
    e->in = driver_side ? &lb->to_driver : &lb->to_device;
    e->out = driver_side ? &lb->to_device : &lb->to_driver;
}

int vmsg_loopback_init(struct vmsg_loopback *lb, uint32_t max_msg_size, size_t mem_size)
{
    int rc;
    memset(lb, 0, sizeof(*lb));
    if (max_msg_size < VMSG_V1_USABLE_MIN_MSG_SIZE || max_msg_size > VMSG_LIMIT_MAX_MSG_SIZE ||
        mem_size == 0 || mem_size % VMSG_POOL_PAGE)
        return -EINVAL;
    if ((rc = queue_init(&lb->to_device)) < 0)
        return rc;
    if ((rc = queue_init(&lb->to_driver)) < 0)
        goto err_to_device;
    if (posix_memalign((void **)&lb->mem, VMSG_POOL_PAGE, mem_size)) {
        rc = -ENOMEM;
        goto err_to_driver;
    }
    memset(lb->mem, 0, mem_size);
    lb->mem_size = mem_size;
    if ((rc = vmsg_pool_init(&lb->pool, lb->mem, 0, mem_size)) < 0)
        goto err_mem;
    end_init(lb, &lb->driver, true, max_msg_size);
    end_init(lb, &lb->device, false, max_msg_size);
    return 0;

err_mem:
    free(lb->mem);
err_to_driver:
    queue_destroy(&lb->to_driver);
err_to_device:
    queue_destroy(&lb->to_device);
    return rc;
}

void vmsg_loopback_destroy(struct vmsg_loopback *lb)
{
    vmsg_loopback_stop_device(lb);
    vmsg_pool_destroy(&lb->pool);
    free(lb->mem);
    queue_destroy(&lb->to_driver);
    queue_destroy(&lb->to_device);
}

static void *device_thread(void *arg)
{
    struct vmsg_loopback *lb = arg;
    while (!__atomic_load_n(&lb->stop, __ATOMIC_ACQUIRE)) {
        int rc = vmsg_devbus_poll(lb->devbus, 20);
        if (rc == -EPIPE)
            break;
        vmsg_devbus_retry(lb->devbus, vmsg_now_ms());
    }
    return NULL;
}

int vmsg_loopback_start_device(struct vmsg_loopback *lb, struct vmsg_devbus *db)
{
    lb->devbus = db;
    __atomic_store_n(&lb->stop, false, __ATOMIC_RELEASE);
    int rc = pthread_create(&lb->device_thread, NULL, device_thread, lb);
    if (rc)
        return -rc;
    lb->device_thread_running = true;
    return 0;
}

void vmsg_loopback_stop_device(struct vmsg_loopback *lb)
{
    if (!lb->device_thread_running)
        return;
    __atomic_store_n(&lb->stop, true, __ATOMIC_RELEASE);
    pthread_join(lb->device_thread, NULL);
    lb->device_thread_running = false;
}

void vmsg_loopback_close(struct vmsg_loopback *lb)
{
    struct vmsg_lb_queue *qs[] = { &lb->to_device, &lb->to_driver };
    for (unsigned i = 0; i < 2; i++) {
        pthread_mutex_lock(&qs[i]->lock);
        qs[i]->closed = true;
        efd_signal(qs[i]->efd);     /* wake waiters so they see -EPIPE */
        pthread_mutex_unlock(&qs[i]->lock);
    }
}
