/*
 * backend/devices/blk_io_threads.c: the portable engine: a few worker
 * threads taking requests from one FIFO and doing them with blocking
 * syscalls. Used where io_uring is missing or forbidden (old kernels,
 * seccomp, io_uring_disabled sysctl).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "blk_io.h"
#include "util/vmsg_log.h"

#define WORKERS 4

/* A queued request: the link lives outside blk_io_req so callers need not
 * know the engine. */
struct job {
    struct blk_io_req *r;
    struct job *next;
};

struct pool {
    struct blk_io io;
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct job *head, **tail;
    bool stop;
    unsigned nthreads;
    pthread_t threads[WORKERS];
};

static void *worker(void *arg)
{
    struct pool *p = arg;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->head)
            break;      /* stopping, and the queue is drained */
        struct job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = &p->head;
        pthread_mutex_unlock(&p->lock);
        struct blk_io_req *r = j->r;
        free(j);
        r->result = blk_io_execute(p->io.fd, r);
        r->complete(r);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void pool_submit(struct blk_io *io, struct blk_io_req *r)
{
    struct pool *p = (struct pool *)io;
    struct job *j = malloc(sizeof(*j));

    if (!j) {
        r->result = -ENOMEM;
        r->complete(r);
        return;
    }
    j->r = r;
    j->next = NULL;
    pthread_mutex_lock(&p->lock);
    *p->tail = j;
    p->tail = &j->next;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

static void pool_destroy(struct blk_io *io)
{
    struct pool *p = (struct pool *)io;

    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static const struct blk_io_ops pool_ops = {
    .name = "threads",
    .submit = pool_submit,
    .destroy = pool_destroy,
};

int blk_io_threads_create(int fd, struct blk_io **out)
{
    struct pool *p = calloc(1, sizeof(*p));
    int rc;

    if (!p)
        return -ENOMEM;
    p->io.ops = &pool_ops;
    p->io.fd = fd;
    p->tail = &p->head;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    for (; p->nthreads < WORKERS; p->nthreads++) {
        rc = pthread_create(&p->threads[p->nthreads], NULL, worker, p);
        if (rc != 0)
            break;
    }
    if (p->nthreads == 0) {
        pool_destroy(&p->io);
        return -rc;
    }
    *out = &p->io;
    return 0;
}
