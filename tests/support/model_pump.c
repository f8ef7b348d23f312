/*
 * tests/support/model_pump.c: see model_pump.h.
 */
#include "tests/support/model_pump.h"

#include <errno.h>
#include <poll.h>

#include "backend/devices/vmsg_devices.h"

#define PUMP_MODEL_FDS 7
#define PUMP_POLL_MS 20     /* how soon a stop request is seen */

static void *pump(void *arg)
{
    struct model_pump *p = arg;
    struct vmsg_bus *bus = p->db->bus;

    while (!p->stop) {
        struct pollfd pfd[1 + PUMP_MODEL_FDS];
        int fds[PUMP_MODEL_FDS];
        int n = vmsg_device_model_fds(p->dev, fds, PUMP_MODEL_FDS);

        if (n < 0)
            n = 0;
        pfd[0] = (struct pollfd){ .fd = bus->ops->fd(bus), .events = POLLIN };
        for (int i = 0; i < n; i++)
            pfd[i + 1] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        uint64_t next = vmsg_devbus_next_deadline(p->db), now = vmsg_now_ms();
        int timeout = PUMP_POLL_MS;

        /* As the daemon's loop: at once when work is left over or due. */
        if (p->db->backlog || next <= now)
            timeout = 0;
        else if (next - now < PUMP_POLL_MS)
            timeout = (int)(next - now);
        if (poll(pfd, (nfds_t)n + 1, timeout) < 0)
            continue;
        if (p->db->backlog)
            pfd[0].revents |= POLLIN;    /* the last turn stopped at its budget */
        if (pfd[0].revents) {
            int rc = vmsg_devbus_poll(p->db, 0);
            if (rc < 0 && rc != -EAGAIN)
                break;
        }
        for (int i = 0; i < n; i++)
            if (pfd[i + 1].revents)
                vmsg_device_model_fd_ready(p->dev, fds[i]);
        vmsg_devbus_retry(p->db, vmsg_now_ms());
        __atomic_add_fetch(&p->turns, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

int model_pump_start(struct model_pump *p, struct vmsg_devbus *db, struct vmsg_device *dev)
{
    p->db = db;
    p->dev = dev;
    p->stop = false;
    return -pthread_create(&p->thread, NULL, pump, p);
}

void model_pump_stop(struct model_pump *p)
{
    p->stop = true;
    pthread_join(p->thread, NULL);
}
