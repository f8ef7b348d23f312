/*
 * backend/bus_devices.h: the devices of one bus instance, kept in step with
 * the toolstack's B/devices/<D>/ nodes (docs/protocol.md sections 6 and 7).
 *
 * Owns: turning a device's xenstore nodes (type, params/<key>) into a
 * device model (backend/devices), putting it on the instance's vmsg_devbus,
 * the backend's writes of devices/<D>/state (4 served, 6 detached or
 * refused) and devices/<D>/error, the EVENT_DEVICE announcements that
 * follow those writes when the instance is Connected, and the detach's
 * wait for the driver's reset (at most 5 s), which never blocks the loop.
 *
 * It does not own the bus instance (bus_instance.h) or the XenbusState of
 * B. Everything runs on the instance's thread.
 */
#ifndef VMSG_BACKEND_BUS_DEVICES_H
#define VMSG_BACKEND_BUS_DEVICES_H

#include "transport/vmsg_device.h"
#include "xen/xen_bus_back.h"

/*
 * Bring the devbus in line with B/devices/ now: create and add every device
 * in state 1 (and, after a backend restart, every device already in state
 * 4), start the detach of every device in state 5 (EVENT_DEVICE REMOVED;
 * vmsg_back_devices_reap() finishes it), and drop served devices whose
 * nodes the toolstack removed. A device that cannot be served gets state 6
 * and an `error` node; it never reaches the bus. Call after every watch
 * event; now_ms is the caller's monotonic clock (vmsg_now_ms()), which
 * the detach deadlines are on. Returns 0, or a negative errno when
 * xenstore itself failed (try again on the next event).
 */
int vmsg_back_devices_sync(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint64_t now_ms);

/*
 * Finish the detaches that are due (section 6): every leaving device whose
 * driver reset it, or whose 5 s are over at now_ms, is destroyed and its
 * state set to 6. Call after every turn of the loop, and no later than
 * vmsg_devbus_next_deadline(db). Returns 0 or the last xenstore error.
 */
int vmsg_back_devices_reap(struct vmsg_xen_back *xb, struct vmsg_devbus *db, uint64_t now_ms);

/*
 * Fill fds[] with the descriptors every served device wants polled (up to
 * max), recording which device owns each in owners[]. Returns the count.
 */
unsigned vmsg_back_devices_fds(struct vmsg_devbus *db, int *fds, struct vmsg_device **owners,
                               unsigned max);

#endif
