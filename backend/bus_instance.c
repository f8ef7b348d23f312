/*
 * backend/bus_instance.c: one bus instance on its own thread (see
 * bus_instance.h).
 */
#include "config.h"

#include "bus_instance.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus_devices.h"
#include "devices/vmsg_devices.h"
#include "transport/vmsg_device.h"
#include "trace/vmsg_json.h"
#include "util/vmsg_log.h"
#include "xen/platform.h"
#include "xen/xen_bus_back.h"

#define MAX_MODEL_FDS 64
/* Events are hints (platform.h): re-check everything at least this often
 * so a lost kick or watch event costs a second, not a hang. */
#define RECHECK_MS 1000

struct vmsg_back_instance {
    pthread_t thread;
    uint32_t fe_domid;
    unsigned index;
    int stop_fd;                /* eventfd: the daemon asks us to close */
    int done_fd;                /* the daemon's eventfd: we ended */
    bool ended;                 /* read and written with __atomic */
    char name[32];              /* "dom3/bus0" for log lines */

    struct vmsg_platform *plat;
    struct vmsg_xen_back *xb;
    struct vmsg_devbus db;
    bool db_live;               /* db initialised and not yet destroyed */
    char token[48];             /* our own watches (devices/, @releaseDomain) */

    pthread_mutex_t stats_lock;
    struct vmsg_back_stats stats;   /* published copy: under stats_lock */
    /* The channel counts kicks per connection; these carry the counts of
     * the connections before the current one, and what the current one
     * showed at the last turn. */
    uint64_t kicks_sent_before, kicks_received_before;
    uint64_t chan_kicks_sent, chan_kicks_received;
    bool fe_dir_stands_for_domain; /* domain_alive() cannot answer here (logged once) */
};

static bool trace_all;

void vmsg_back_instance_trace_all(bool on)
{
    trace_all = on;
}

/* The bus's trace hook: called by every thread that sends, so it only
 * renders into its own buffer and logs (thread-safe). */
static void trace_message(void *opaque, const struct vmsg_bus *bus, enum vmsg_bus_dir dir,
                          const void *msg, size_t len)
{
    struct vmsg_back_instance *inst = opaque;
    /* Hex doubles the bytes; arrays of u32 take at most 11 per 4. */
    size_t cap = 3 * len + 512;
    char *line = malloc(cap);

    if (!line)
        return;
    if (vmsg_json_render_traced(&bus->wire, 0, msg, len, inst->name,
                                dir == VMSG_BUS_SENT ? "sent" : "received", line, cap) != -ENOMEM)
        vmsg_info("trace %s", line);
    free(line);
}

/* Copy what this thread alone may read (the devbus counters, the
 * channel's shared indices) for the daemon's thread. */
static void publish_stats(struct vmsg_back_instance *inst)
{
    struct vmsg_back_stats s = { .fe_domid = inst->fe_domid, .index = inst->index };
    struct vmsg_xen_chan_stats c = { 0 };

    s.state = inst->xb->state;
    s.connected = vmsg_xen_back_connected(inst->xb) && inst->xb->chan.page;
    if (s.connected) {
        /* The backend is the channel's client: it reads the right ring
         * (frontend -> backend) and writes the left one. */
        vmsg_xen_chan_stats(&inst->xb->chan, &c);
        s.to_backend_used = c.rd_used;
        s.to_backend_size = c.rd_size;
        s.to_frontend_used = c.wr_used;
        s.to_frontend_size = c.wr_size;
    }
    /* Fewer kicks than last turn (or none: not connected) means a new
     * channel: bank what the previous one counted. */
    if (c.kicks_sent < inst->chan_kicks_sent || c.kicks_received < inst->chan_kicks_received) {
        inst->kicks_sent_before += inst->chan_kicks_sent;
        inst->kicks_received_before += inst->chan_kicks_received;
    }
    inst->chan_kicks_sent = c.kicks_sent;
    inst->chan_kicks_received = c.kicks_received;
    s.kicks_sent = inst->kicks_sent_before + c.kicks_sent;
    s.kicks_received = inst->kicks_received_before + c.kicks_received;
    pthread_mutex_lock(&inst->db.lock);
    s.received = inst->db.stats.received;
    s.sent = inst->db.stats.sent;
    s.dropped_malformed = inst->db.stats.dropped_malformed;
    s.dropped_unexpected = inst->db.stats.dropped_unexpected;
    s.held = inst->db.stats.held;
    s.lost = inst->db.stats.lost;
    pthread_mutex_unlock(&inst->db.lock);
    pthread_mutex_lock(&inst->stats_lock);
    inst->stats = s;
    pthread_mutex_unlock(&inst->stats_lock);
}

void vmsg_back_instance_stats(struct vmsg_back_instance *inst, struct vmsg_back_stats *out)
{
    pthread_mutex_lock(&inst->stats_lock);
    *out = inst->stats;
    pthread_mutex_unlock(&inst->stats_lock);
}

/* Before the bus end unmaps anything, no model may touch guest memory. */
static void reset_devices(struct vmsg_xen_back *xb, void *opaque)
{
    struct vmsg_back_instance *inst = opaque;

    (void)xb;
    if (inst->db_live)
        vmsg_devbus_reset_all(&inst->db);
}

static int xs_watch(struct vmsg_back_instance *inst, const char *path, bool on)
{
    int rc;

    pthread_mutex_lock(&inst->xb->plat_lock);
    rc = on ? vmsg_plat_xs_watch(inst->plat, path, inst->token)
            : vmsg_plat_xs_unwatch(inst->plat, path, inst->token);
    pthread_mutex_unlock(&inst->xb->plat_lock);
    return rc;
}

/*
 * Whether the instance must be dropped without any handshake: the frontend
 * domain died or the toolstack removed B outright. Returns the reason or
 * NULL.
 *
 * A driver domain may be unable to ask Xen or xenstored whether a domain
 * exists (-ENOSYS): there the frontend directory F stands for the domain.
 * The toolstack removes /local/domain/<FE> when it destroys the domain and
 * creates F together with B, so F unreadable (ENOENT, or EACCES once its
 * parents are gone too) means the domain went. A guest that removes its
 * own F loses its bus instance: that only hurts itself.
 */
static const char *gone_reason(struct vmsg_back_instance *inst)
{
    char path[VMSG_XS_PATH_MAX + 16], *val = NULL;
    const char *why = NULL;
    int alive, rc;

    pthread_mutex_lock(&inst->xb->plat_lock);
    alive = vmsg_plat_domain_alive(inst->plat, inst->fe_domid);
    if (alive == 0) {
        why = "frontend domain destroyed";
        goto out;
    }
    if (alive == -ENOSYS && !inst->fe_dir_stands_for_domain) {
        inst->fe_dir_stands_for_domain = true;
        vmsg_info("backend %s: %s: watching %s for the end of dom%u", inst->name,
                  vmsg_plat_last_error(inst->plat), inst->xb->fdir, inst->fe_domid);
    }
    snprintf(path, sizeof(path), "%s/frontend-id", inst->xb->bdir);
    rc = vmsg_plat_xs_read(inst->plat, VMSG_XS_TX_NONE, path, &val, NULL);
    free(val);
    if (rc == -ENOENT) {
        why = "backend directory removed by the toolstack";
        goto out;
    }
    if (alive == -ENOSYS) {
        rc = vmsg_plat_xs_read(inst->plat, VMSG_XS_TX_NONE, inst->xb->fdir, &val, NULL);
        free(val);
        if (rc == -ENOENT || rc == -EACCES) {
            vmsg_debug("backend %s: %s", inst->name, vmsg_plat_last_error(inst->plat));
            why = "frontend directory removed (its domain was destroyed)";
        }
    }
out:
    pthread_mutex_unlock(&inst->xb->plat_lock);
    return why;
}

/* A watch fired (or the periodic re-check): advance everything. Returns
 * false when the instance is finished. */
static bool on_xenstore(struct vmsg_back_instance *inst)
{
    const char *why = gone_reason(inst);
    int rc;

    if (why) {
        vmsg_info("backend %s: %s: releasing the instance", inst->xb->bdir, why);
        vmsg_xen_back_domain_gone(inst->xb);
        return false;
    }
    rc = vmsg_xen_back_update(inst->xb);
    if (rc < 0)
        vmsg_warn("backend %s: xenstore: %s (retrying on the next event)", inst->xb->bdir,
                  strerror(-rc));
    if (vmsg_xen_back_finished(inst->xb))
        return false;
    rc = vmsg_back_devices_sync(inst->xb, &inst->db, vmsg_now_ms());
    if (rc < 0)
        vmsg_warn("backend %s: devices/: %s (retrying on the next event)", inst->xb->bdir,
                  strerror(-rc));
    return true;
}

/* Serve the channel while Connected. Returns false when the instance is
 * finished. */
static bool on_channel(struct vmsg_back_instance *inst)
{
    int rc;

    if (!vmsg_xen_back_connected(inst->xb))
        return true;
    rc = vmsg_devbus_poll(&inst->db, 0);
    if (rc >= 0)
        return true;
    /* -EPIPE (frontend gone) or -EPROTO (framing broken): the bus end
     * decides what that means for the handshake. */
    vmsg_info("backend %s: channel: %s", inst->xb->bdir, strerror(-rc));
    return on_xenstore(inst);
}

/* How long the loop may sleep: the re-check interval, or less when a
 * detach's wait for the driver ends sooner; not at all while the channel
 * has a backlog (the last turn stopped at its budget). */
static int poll_timeout(struct vmsg_back_instance *inst)
{
    uint64_t next = vmsg_devbus_next_deadline(&inst->db), now = vmsg_now_ms();

    if (inst->db.backlog || next <= now)
        return 0;
    return next - now < RECHECK_MS ? (int)(next - now) : RECHECK_MS;
}

static void loop(struct vmsg_back_instance *inst)
{
    struct vmsg_bus *bus = vmsg_xen_back_bus(inst->xb);
    struct pollfd pfd[3 + MAX_MODEL_FDS];
    struct vmsg_device *owners[MAX_MODEL_FDS];
    int mfds[MAX_MODEL_FDS];

    if (!on_xenstore(inst))
        return;
    publish_stats(inst);
    for (;;) {
        bool connected = vmsg_xen_back_connected(inst->xb);
        unsigned n = vmsg_back_devices_fds(&inst->db, mfds, owners, MAX_MODEL_FDS);
        uint64_t removals = inst->db.removals;
        int rc;

        pfd[0] = (struct pollfd){ .fd = inst->stop_fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = vmsg_xen_back_watch_fd(inst->xb), .events = POLLIN };
        pfd[2] = (struct pollfd){ .fd = connected ? bus->ops->fd(bus) : -1, .events = POLLIN };
        for (unsigned i = 0; i < n; i++)
            pfd[3 + i] = (struct pollfd){ .fd = mfds[i], .events = POLLIN };
        rc = poll(pfd, 3 + n, poll_timeout(inst));
        if (rc < 0 && errno != EINTR) {
            vmsg_err("backend %s: poll: %s", inst->xb->bdir, strerror(errno));
            return;
        }
        if (pfd[0].revents)
            return;
        if ((rc == 0 || pfd[1].revents) && !on_xenstore(inst))
            return;
        /* Whatever woke us, look at the rings: the event channel's fd is
         * only a hint, and a connect may have found messages queued. */
        if (!on_channel(inst))
            return;
        /* Both turns above may have destroyed a device (its nodes removed;
         * on_channel() takes a xenstore turn when the channel breaks), and
         * owners[] may then point at freed memory: the fds are polled again
         * next turn instead. */
        for (unsigned i = 0; i < n && inst->db.removals == removals; i++)
            if (pfd[3 + i].revents)
                vmsg_device_model_fd_ready(owners[i], mfds[i]);
        /* Queues a model could not serve earlier (memory, mappings or a
         * budget ran out) are looked at again when their time comes. */
        vmsg_devbus_retry(&inst->db, vmsg_now_ms());
        /* After the channel: a driver's status 0 that came in this turn
         * ends its device's detach now. */
        rc = vmsg_back_devices_reap(inst->xb, &inst->db, vmsg_now_ms());
        if (rc < 0)
            vmsg_warn("backend %s: devices/: %s (retrying on the next event)", inst->xb->bdir,
                      strerror(-rc));
        publish_stats(inst);
    }
}

static void *instance_main(void *arg)
{
    struct vmsg_back_instance *inst = arg;
    const struct vmsg_xen_back_hooks hooks = { .reset = reset_devices, .opaque = inst };
    char err[256], path[VMSG_XS_PATH_MAX + 16];
    uint64_t one = 1;
    int rc;

    rc = vmsg_plat_xen_open(&inst->plat, err, sizeof(err));
    if (rc) {
        vmsg_err("backend %s: cannot open Xen: %s", inst->name, err);
        goto out;
    }
    rc = vmsg_xen_back_open(&inst->xb, inst->plat, inst->fe_domid, inst->index, NULL, &hooks);
    if (rc) {
        vmsg_err("backend %s: cannot take on the bus instance: %s (%s)", inst->name,
                 strerror(-rc), vmsg_plat_last_error(inst->plat));
        goto out_plat;
    }
    rc = vmsg_devbus_init(&inst->db, vmsg_xen_back_bus(inst->xb));
    if (rc) {
        vmsg_err("backend %s: devbus: %s", inst->name, strerror(-rc));
        goto out_back;
    }
    inst->db.release = vmsg_device_model_destroy;
    inst->db_live = true;
    if (trace_all) {
        struct vmsg_bus *bus = vmsg_xen_back_bus(inst->xb);

        bus->trace_opaque = inst;
        bus->trace = trace_message;
    }
    snprintf(path, sizeof(path), "%s/devices", inst->xb->bdir);
    if ((rc = xs_watch(inst, path, true)) || (rc = xs_watch(inst, "@releaseDomain", true))) {
        vmsg_err("backend %s: cannot watch %s and @releaseDomain: %s", inst->name, path,
                 strerror(-rc));
        goto out_unwatch;
    }

    loop(inst);

out_unwatch:
    xs_watch(inst, path, false);
    xs_watch(inst, "@releaseDomain", false);
    /* The models stop (reset, I/O drained, files closed) before the bus
     * end unmaps what they might touch; the devbus logs through the bus,
     * which close frees, so it goes first. */
    inst->db_live = false;
    vmsg_devbus_destroy(&inst->db);
out_back:
    vmsg_xen_back_close(inst->xb);
out_plat:
    vmsg_plat_close(inst->plat);
out:
    vmsg_info("backend %s: instance ended", inst->name);
    __atomic_store_n(&inst->ended, true, __ATOMIC_RELEASE);
    if (inst->done_fd >= 0 && write(inst->done_fd, &one, sizeof(one)) < 0)
        vmsg_warn("backend %s: cannot wake the daemon: %s", inst->name, strerror(errno));
    return NULL;
}

int vmsg_back_instance_start(struct vmsg_back_instance **out, uint32_t fe_domid, unsigned index,
                             int done_fd)
{
    struct vmsg_back_instance *inst = calloc(1, sizeof(*inst));
    int rc;

    if (!inst)
        return -ENOMEM;
    inst->fe_domid = fe_domid;
    inst->index = index;
    inst->done_fd = done_fd;
    snprintf(inst->name, sizeof(inst->name), "dom%u/bus%u", fe_domid, index);
    snprintf(inst->token, sizeof(inst->token), "vmsg-backend/%u/%u", fe_domid, index);
    inst->stats = (struct vmsg_back_stats){ .fe_domid = fe_domid, .index = index };
    pthread_mutex_init(&inst->stats_lock, NULL);
    inst->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (inst->stop_fd < 0) {
        rc = -errno;
        goto err_free;
    }
    rc = -pthread_create(&inst->thread, NULL, instance_main, inst);
    if (rc)
        goto err_fd;
    vmsg_info("backend %s: instance started", inst->name);
    *out = inst;
    return 0;

err_fd:
    close(inst->stop_fd);
err_free:
    pthread_mutex_destroy(&inst->stats_lock);
    free(inst);
    return rc;
}

bool vmsg_back_instance_ended(struct vmsg_back_instance *inst)
{
    return __atomic_load_n(&inst->ended, __ATOMIC_ACQUIRE);
}

void vmsg_back_instance_stop(struct vmsg_back_instance *inst)
{
    uint64_t one = 1;

    if (write(inst->stop_fd, &one, sizeof(one)) < 0)
        vmsg_warn("backend %s: cannot signal stop: %s", inst->name, strerror(errno));
}

void vmsg_back_instance_join(struct vmsg_back_instance *inst)
{
    pthread_join(inst->thread, NULL);
    close(inst->stop_fd);
    pthread_mutex_destroy(&inst->stats_lock);
    free(inst);
}

uint32_t vmsg_back_instance_fe_domid(const struct vmsg_back_instance *inst)
{
    return inst->fe_domid;
}

unsigned vmsg_back_instance_index(const struct vmsg_back_instance *inst)
{
    return inst->index;
}
