/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver side of the virtio-msg v1 transport, bus
 * agnostic (the "common level" of the virtio-msg Linux series).
 *
 * Owns: one struct virtio_device per bus device and its virtio_config_ops
 * as messages; the one synchronous request of a bus at a time (token
 * matched, bounded timeout, every response field checked before use);
 * EVENT_USED -> vring_interrupt(), EVENT_CONFIG -> virtio_config_changed(),
 * EVENT_DEVICE -> register/unregister; notifications (EVENT_AVAIL) that
 * wait for ring space without sleeping; enumeration with GET_DEVICES; the
 * re-setup of every device after the bus reconnected.
 *
 * A bus driver (vmsg_xen_bus.c) fills struct vmsg_kbus, calls
 * vmsg_kbus_init(), then reports what happens to it: every whole message
 * received (vmsg_kbus_receive(), from its interrupt path with interrupts
 * off), space freed in its send ring (vmsg_kbus_space()), and
 * connected/disconnected. The bus's messages and memory are untrusted: a
 * driver domain serving the bus may be compromised.
 */
#ifndef VMSG_TRANSPORT_H
#define VMSG_TRANSPORT_H

#include <linux/completion.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "vmsg_wire.h"

/* The largest message this driver sends or takes (the v1 left ring). */
#define VMSG_KBUS_MSG_MAX	1024
#define VMSG_REQUEST_TIMEOUT_MS	5000

struct vmsg_kbus;

struct vmsg_kbus_ops {
	/*
	 * Queue one whole message for the device side without sleeping.
	 * 0 sent; -EAGAIN no room now (the bus will call vmsg_kbus_space()
	 * once there is); -ENOTCONN not connected; -EPIPE broken.
	 */
	int (*send)(struct vmsg_kbus *bus, const void *msg, size_t len);
};

struct vmsg_kbus {
	/* Set by the bus driver before vmsg_kbus_init(). */
	/* Parent of the virtio devices: its DMA ops give every bus address. */
	struct device *parent;
	const struct vmsg_kbus_ops *ops;
	u32 max_msg_size;		/* effective maximum, set at connect */

	/* Owned by the transport. */
	struct mutex request_lock;	/* one request in flight per bus */
	spinlock_t lock;		/* pending response, notify list, state */
	struct completion done;
	wait_queue_head_t space_wq;	/* send ring space, connection changes */
	bool connected;
	bool waiting;			/* a request awaits its response */
	u8 want_type, want_id;
	u16 want_dev, want_token;
	u16 next_token;
	int result;			/* of the pending request */
	u8 *resp_buf;			/* VMSG_KBUS_MSG_MAX bytes */
	size_t resp_len;
	struct list_head notify_pending;	/* struct vmsg_vq, ring was full */

	struct xarray devices;		/* dev_num -> struct vmsg_vdev */
	struct mutex devices_lock;	/* register/unregister/re-setup */
	struct work_struct scan_work;	/* enumerate or re-setup after connect */
	struct work_struct restore_work;	/* set devices up again after a reconnect */
	bool dying;			/* no new devices, no more work */
	bool closed;			/* no next connection: requests fail at once */

	u64 dropped;			/* malformed or unexpected messages */
	u64 timeouts;
};

int vmsg_kbus_init(struct vmsg_kbus *bus);
/* Unregister every device (their drivers reset them) and stop the work. */
void vmsg_kbus_remove_devices(struct vmsg_kbus *bus);
void vmsg_kbus_destroy(struct vmsg_kbus *bus);

/* The bus is connected: enumerate, or set up again the devices we have. */
void vmsg_kbus_connected(struct vmsg_kbus *bus, u32 max_msg_size);
/*
 * The bus went away: fail the pending request. Devices are kept for the
 * next connection; until then requests wait for it (at most the request
 * timeout), unless for_good says there will be none.
 */
void vmsg_kbus_disconnected(struct vmsg_kbus *bus, bool for_good);
/* One whole message from the device side, msg_size already checked
 * against len. Interrupt context or interrupts off.
 */
void vmsg_kbus_receive(struct vmsg_kbus *bus, const void *msg, size_t len);
/* Room was freed in the send ring: retry held notifications, wake senders. */
void vmsg_kbus_space(struct vmsg_kbus *bus);

/* PING round trip (debug and liveness): 0, or -errno. */
int vmsg_kbus_ping(struct vmsg_kbus *bus, u32 data);

#endif
