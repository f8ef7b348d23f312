/*
 * backend/bus_instance.h: one bus instance of vmsg-backend, served by its
 * own thread with its own platform handle, so one guest never stalls
 * another (docs/design.md section 2).
 *
 * Owns: the thread, its platform handle, the Xen bus backend end
 * (lib/xen/xen_bus_back.h), the instance's vmsg_devbus with its device
 * models (bus_devices.h), the event loop over the channel's event fd, the
 * xenstore watch fd and the models' fds, the @releaseDomain check of the
 * frontend domain, and the stop request from the daemon.
 *
 * The daemon (vmsg-backend.c) only starts, stops and reaps instances, and
 * reads the statistics each instance publishes (back_stats.h).
 */
#ifndef VMSG_BACKEND_BUS_INSTANCE_H
#define VMSG_BACKEND_BUS_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "back_stats.h"

struct vmsg_back_instance;

/*
 * Start serving bus `index` of frontend domain `fe_domid` on a new thread.
 * `done_fd` (an eventfd of the daemon, or -1) is written to when the
 * instance ends by itself (online 0, frontend domain gone, or a failure),
 * so the daemon can reap it. Returns 0 and *out, or a negative errno
 * (the thread could not be created, out of memory).
 */
int vmsg_back_instance_start(struct vmsg_back_instance **out, uint32_t fe_domid, unsigned index,
                             int done_fd);

/* Whether the instance's thread has finished (reap it with _join). */
bool vmsg_back_instance_ended(struct vmsg_back_instance *inst);

/*
 * Ask the instance to close (Closing, reset devices, unmap, Closed) and
 * return at once; _join waits for it.
 */
void vmsg_back_instance_stop(struct vmsg_back_instance *inst);

/* Wait for the thread and free the instance. */
void vmsg_back_instance_join(struct vmsg_back_instance *inst);

/*
 * The instance's statistics as its thread last published them (after each
 * turn of its loop): safe from any thread while the instance is not yet
 * joined, and never touches the instance's shared pages.
 */
void vmsg_back_instance_stats(struct vmsg_back_instance *inst, struct vmsg_back_stats *out);

/*
 * Log every message each instance started from now on sends and receives,
 * as vmsgctl decode's JSON led by the instance and the direction
 * (vmsg-backend --trace). Call before starting instances.
 */
void vmsg_back_instance_trace_all(bool on);

uint32_t vmsg_back_instance_fe_domid(const struct vmsg_back_instance *inst);
unsigned vmsg_back_instance_index(const struct vmsg_back_instance *inst);

#endif
