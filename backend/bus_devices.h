/*
 * backend/bus_devices.h: the devices of one bus instance, kept in step with
 * the toolstack's B/devices/<D>/ nodes (docs/protocol.md sections 6 and 7).
 *
 * Owns: turning a device's xenstore nodes (type, params/<key>) into a
 * device model (backend/devices), putting it on the instance's vmsg_devbus,
 * the backend's writes of devices/<D>/state (4 served, 6 detached or
 * refused) and devices/<D>/error, and the EVENT_DEVICE announcements that
 * follow those writes when the instance is Connected.
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
 * 4), detach every device in state 5, and drop served devices whose nodes
 * the toolstack removed. A device that cannot be served gets state 6 and an
 * `error` node; it never reaches the bus. Call after every watch event.
 * Returns 0, or a negative errno when xenstore itself failed (try again on
 * the next event).
 */
int vmsg_back_devices_sync(struct vmsg_xen_back *xb, struct vmsg_devbus *db);

/*
 * Fill fds[] with the descriptors every served device wants polled (up to
 * max), recording which device owns each in owners[]. Returns the count.
 */
unsigned vmsg_back_devices_fds(struct vmsg_devbus *db, int *fds, struct vmsg_device **owners,
                               unsigned max);

#endif
