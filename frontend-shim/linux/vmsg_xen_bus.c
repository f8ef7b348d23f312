// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-msg Xen bus, frontend side: a xenbus driver
 * for device type "virtio-msg" (docs/protocol.md sections 2 to 5).
 *
 * Owns: one bus instance per xenbus device: its XenbusState machine
 * (handshake, refusal, close, reconnect after a backend restart), the
 * channel page and its grant, the event channel and its interrupt, and the
 * pool (vmsg_pool.c) whose DMA ops the xenbus device carries. What the
 * messages mean is vmsg_transport.c's.
 *
 * Threads: every state change runs in one work item (state_work) under
 * state_lock, from what xenstore says now (level-triggered), so a missed
 * watch costs nothing and the xenwatch thread never waits for a backend.
 * The left ring is read only from the interrupt handler, or from
 * drain_work when one interrupt's budget ran out; the event channel is
 * EOI'd late (after the work), so a backend that floods it gets one
 * handler at a time and spurious events are throttled by Xen's lateeoi
 * logic (XSA-332).
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "vmsg_chan.h"
#include "vmsg_pool.h"
#include "vmsg_transport.h"

#define VMSG_XEN_BUS_VERSION		1
#define VMSG_XEN_CLOSE_WAIT_MS		5000	/* protocol.md 8 */
#define VMSG_XEN_UNMAP_WAIT_MS		5000
#define VMSG_XEN_RX_BUDGET		256	/* messages per interrupt */

static unsigned int pool_pages = 2048;
module_param(pool_pages, uint, 0444);
MODULE_PARM_DESC(pool_pages,
		 "4 KiB pages of the pool shared with each backend (rings and bounce buffers; default 2048 = 8 MiB)");

static unsigned int zero_copy_bytes;
module_param(zero_copy_bytes, uint, 0444);
MODULE_PARM_DESC(zero_copy_bytes,
		 "buffers of at least this many bytes are granted to the backend instead of copied through the pool (protocol.md 5.2); 0 (default): never");

struct vmsg_xen_info {
	struct vmsg_pool pool;		/* first: the DMA ops find it in drvdata */
	struct xenbus_device *xbdev;
	struct vmsg_kbus kbus;

	struct mutex state_lock;	/* the state machine; below up to tx_lock */
	struct work_struct state_work;
	struct delayed_work close_timer;
	unsigned long close_deadline;
	bool removing;
	bool failed;			/* stay Closed until the backend moves */
	bool error_changed;		/* the B/error watch fired */
	bool broken;			/* framing error: we close the instance */
	char *error_at_publish;
	struct xenbus_watch error_watch;
	bool error_watched;

	struct vmsg_chan chan;
	spinlock_t tx_lock;		/* the right ring; chan_up */
	bool chan_up;			/* Connected: messages may be written */
	grant_ref_t chan_ref;
	bool chan_granted;
	int irq;
	struct work_struct drain_work;
	u8 rx_buf[VMSG_KBUS_MSG_MAX];	/* one message, reader only */
	u32 be_max_msg_size;
	u64 framing_errors;
};

/* ---- xenstore values, parsed strictly (protocol.md 2.4) ------------------ */

static int parse_decimal(const char *s, u32 min, u32 max, u32 *out)
{
	u64 v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -ERANGE;
	}
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

static int read_decimal(struct xenbus_device *dev, const char *dir, const char *node,
			u32 min, u32 max, u32 *out)
{
	char *s = xenbus_read(XBT_NIL, dir, node, NULL);
	int rc;

	if (IS_ERR(s)) {
		dev_err(&dev->dev, "%s/%s: cannot read it (%ld)\n", dir, node, PTR_ERR(s));
		return PTR_ERR(s);
	}
	rc = parse_decimal(s, min, max, out);
	if (rc)
		dev_err(&dev->dev, "%s/%s: \"%.32s\" is not a decimal in %u..%u\n",
			dir, node, s, min, max);
	kfree(s);
	return rc;
}

static int backend_speaks_v1(struct xenbus_device *dev)
{
	char *s = xenbus_read(XBT_NIL, dev->otherend, "versions", NULL), *p, *word;
	bool found = false;
	int rc = 0;
	u32 v;

	if (IS_ERR(s))
		return PTR_ERR(s);
	for (p = s; !rc && (word = strsep(&p, " ")) != NULL;) {
		rc = parse_decimal(word, 1, U32_MAX, &v);
		found |= !rc && v == VMSG_XEN_BUS_VERSION;
	}
	if (rc)
		dev_err(&dev->dev, "%s/versions: not space-separated decimals\n", dev->otherend);
	else if (!found)
		dev_err(&dev->dev, "%s/versions: no version %u\n", dev->otherend,
			VMSG_XEN_BUS_VERSION);
	kfree(s);
	return rc ?: (found ? 0 : -EPROTONOSUPPORT);
}

/* F/backend must name the canonical B of this bus instance. */
static int check_backend_path(struct xenbus_device *dev)
{
	const char *index = strrchr(dev->nodename, '/');
	char *want;
	u32 self, n;
	int rc;

	rc = read_decimal(dev, "domid", "", 0, 0x7fef, &self);
	if (rc)
		return rc;
	if (!index || parse_decimal(index + 1, 0, 255, &n))
		return -EINVAL;
	want = kasprintf(GFP_KERNEL, "/local/domain/%d/backend/virtio-msg/%u/%u",
			 dev->otherend_id, self, n);
	if (!want)
		return -ENOMEM;
	rc = strcmp(want, dev->otherend) ? -EPROTO : 0;
	if (rc)
		dev_err(&dev->dev, "backend path %s is not %s\n", dev->otherend, want);
	kfree(want);
	return rc;
}

/* ---- the event channel ------------------------------------------------------ */

static int vmsg_xen_send(struct vmsg_kbus *kbus, const void *msg, size_t len)
{
	struct vmsg_xen_info *info = container_of(kbus, struct vmsg_xen_info, kbus);
	unsigned long flags;
	bool kick = false;
	int rc;

	spin_lock_irqsave(&info->tx_lock, flags);
	if (!info->chan_up) {
		rc = -ENOTCONN;
	} else {
		rc = vmsg_chan_send(&info->chan, msg, len, &kick);
		if (rc == -EPROTO) {
			/* right.cons impossible: the backend broke the channel. */
			info->broken = true;
			info->chan_up = false;
			schedule_work(&info->state_work);
			rc = -ENOTCONN;
		}
	}
	if (kick)
		notify_remote_via_irq(info->irq);
	spin_unlock_irqrestore(&info->tx_lock, flags);
	return rc;
}

static const struct vmsg_kbus_ops vmsg_xen_kbus_ops = {
	.send = vmsg_xen_send,
};

/* Read up to a budget of messages; true if the ring may hold more. */
static bool vmsg_xen_drain(struct vmsg_xen_info *info, bool *got_any)
{
	unsigned int budget = VMSG_XEN_RX_BUDGET;
	bool kick = false, more = true;

	while (budget--) {
		bool k;
		int len = vmsg_chan_recv(&info->chan, info->rx_buf, &k);

		kick |= k;
		if (len < 0) {
			info->framing_errors++;
			dev_err_ratelimited(&info->xbdev->dev,
					    "framing error in the left ring: closing the bus\n");
			info->broken = true;
			schedule_work(&info->state_work);
			more = false;
			break;
		}
		if (len == 0) {
			more = false;
			break;
		}
		*got_any = true;
		vmsg_kbus_receive(&info->kbus, info->rx_buf, len);
	}
	if (kick)
		notify_remote_via_irq(info->irq);
	/* A kick may mean the backend read: room in the right ring. */
	vmsg_kbus_space(&info->kbus);
	if (vmsg_chan_peer_live(&info->chan) == VMSG_CHAN_LIVE_GONE)
		schedule_work(&info->state_work);
	return more && !info->broken;
}

static irqreturn_t vmsg_xen_interrupt(int irq, void *data)
{
	struct vmsg_xen_info *info = data;
	bool got_any = false;

	if (vmsg_xen_drain(info, &got_any)) {
		/* Budget spent: go on in process context, EOI there. */
		queue_work(system_highpri_wq, &info->drain_work);
		return IRQ_HANDLED;
	}
	xen_irq_lateeoi(irq, got_any ? 0 : XEN_EOI_FLAG_SPURIOUS);
	return IRQ_HANDLED;
}

static void vmsg_xen_drain_work(struct work_struct *work)
{
	struct vmsg_xen_info *info = container_of(work, struct vmsg_xen_info, drain_work);
	bool got_any = false, more;

	do {
		/* As in the handler: drivers' callbacks expect interrupts off. */
		local_irq_disable();
		more = vmsg_xen_drain(info, &got_any);
		local_irq_enable();
		cond_resched();
	} while (more);
	xen_irq_lateeoi(info->irq, 0);
}

/* ---- sharing: channel, pool, event channel -------------------------------- */

static void vmsg_xen_unshare(struct vmsg_xen_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	unsigned long flags;

	spin_lock_irqsave(&info->tx_lock, flags);
	info->chan_up = false;
	spin_unlock_irqrestore(&info->tx_lock, flags);
	if (info->irq >= 0) {
		vmsg_chan_leave(&info->chan);
		notify_remote_via_irq(info->irq);
		disable_irq(info->irq);
		cancel_work_sync(&info->drain_work);
		/* Also closes the port. */
		unbind_from_irqhandler(info->irq, info);
		info->irq = -1;
	}
	if (info->chan_granted) {
		if (!vmsg_end_grant(info->chan_ref, VMSG_XEN_UNMAP_WAIT_MS)) {
			dev_warn(&dev->dev, "the backend still maps the channel page: leaking it\n");
			gnttab_end_foreign_access(info->chan_ref, NULL);
			info->chan.shr = NULL;	/* a new page next time */
		}
		info->chan_granted = false;
	}
	if (vmsg_pool_ungrant(&info->pool, VMSG_XEN_UNMAP_WAIT_MS))
		dev_warn(&dev->dev, "the backend still maps pool pages: they stay allocated\n");
	kfree(info->error_at_publish);
	info->error_at_publish = NULL;
}

static int vmsg_xen_write_nodes(struct vmsg_xen_info *info, evtchn_port_t port)
{
	struct xenbus_device *dev = info->xbdev;
	struct xenbus_transaction xbt;
	char *dirs;
	u32 i;
	int rc;

	dirs = kzalloc(info->pool.ndir * 11 + 1, GFP_KERNEL);
	if (!dirs)
		return -ENOMEM;
	for (i = 0; i < info->pool.ndir; i++)
		sprintf(dirs + strlen(dirs), "%s%u", i ? " " : "", info->pool.dir_refs[i]);
again:
	rc = xenbus_transaction_start(&xbt);
	if (rc)
		goto out;
	rc = xenbus_printf(xbt, dev->nodename, "ring-ref", "%u", info->chan_ref) ?:
	     xenbus_printf(xbt, dev->nodename, "event-channel", "%u", port) ?:
	     xenbus_printf(xbt, dev->nodename, "version", "%u", VMSG_XEN_BUS_VERSION) ?:
	     xenbus_printf(xbt, dev->nodename, "pool-pages", "%u", info->pool.pages) ?:
	     xenbus_write(xbt, dev->nodename, "pool-dir-ref", dirs);
	if (rc) {
		xenbus_transaction_end(xbt, 1);
		goto out;
	}
	rc = xenbus_transaction_end(xbt, 0);
	if (rc == -EAGAIN)
		goto again;
out:
	kfree(dirs);
	return rc;
}

/* B is InitWait: read its parameters, share, publish (protocol.md 3). */
static int vmsg_xen_publish(struct vmsg_xen_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	u32 max_pool, features, pages;
	evtchn_port_t port;
	char *err;
	int rc, ref;

	rc = check_backend_path(dev) ?: backend_speaks_v1(dev) ?:
	     read_decimal(dev, dev->otherend, "max-msg-size", VMSG_MIN_MAX_MSG_SIZE, 65535,
			  &info->be_max_msg_size) ?:
	     read_decimal(dev, dev->otherend, "features", 0, U32_MAX, &features) ?:
	     read_decimal(dev, dev->otherend, "max-pool-pages", 1, VMSG_POOL_MAX_PAGES, &max_pool);
	if (rc)
		return rc;
	pages = min(pool_pages, max_pool);
	if (!info->pool.base) {
		rc = vmsg_pool_create(&info->pool, pages, zero_copy_bytes);
		if (rc)
			return rc;
	} else if (info->pool.pages > max_pool) {
		/* The rings live in the pool we have: it cannot shrink. */
		dev_err(&dev->dev, "the backend now allows %u pool pages, we use %u\n",
			max_pool, info->pool.pages);
		return -E2BIG;
	}
	if (!info->chan.shr) {
		rc = vmsg_chan_alloc(&info->chan);
		if (rc)
			return rc;
	}
	vmsg_chan_reset(&info->chan, info->be_max_msg_size);

	ref = gnttab_grant_foreign_access(dev->otherend_id, virt_to_gfn(info->chan.shr), 0);
	if (ref < 0)
		return ref;
	info->chan_ref = ref;
	info->chan_granted = true;
	rc = vmsg_pool_grant(&info->pool, dev->otherend_id);
	if (rc)
		goto err;
	rc = xenbus_alloc_evtchn(dev, &port);
	if (rc)
		goto err;
	rc = bind_evtchn_to_irqhandler_lateeoi(port, vmsg_xen_interrupt, 0, dev->devicetype,
					       info);
	if (rc < 0) {
		xenbus_free_evtchn(dev, port);
		goto err;
	}
	info->irq = rc;

	/* A refusal is a B/error that appears or changes after this. */
	err = xenbus_read(XBT_NIL, dev->otherend, "error", NULL);
	info->error_at_publish = IS_ERR(err) ? NULL : err;
	info->error_changed = false;
	info->broken = false;
	rc = vmsg_xen_write_nodes(info, port);
	if (rc)
		goto err;
	dev_info(&dev->dev, "published: channel ref %u, port %u, pool of %u pages\n",
		 info->chan_ref, port, info->pool.pages);
	return 0;
err:
	vmsg_xen_unshare(info);
	return rc;
}

/* Compared in the state work, under state_lock, with what we saw when we
 * published: the watch fires in the xenwatch thread, which must not wait.
 */
static void vmsg_xen_error_changed(struct xenbus_watch *watch, const char *path,
				   const char *token)
{
	struct vmsg_xen_info *info = container_of(watch, struct vmsg_xen_info, error_watch);

	info->error_changed = true;
	schedule_work(&info->state_work);
}

/* A B/error that appeared or changed after we published is a refusal. */
static bool vmsg_xen_refused(struct vmsg_xen_info *info)
{
	char *err;
	bool refused;

	if (!info->error_changed)
		return false;
	info->error_changed = false;
	err = xenbus_read(XBT_NIL, info->xbdev->otherend, "error", NULL);
	if (IS_ERR(err))
		return false;
	refused = !info->error_at_publish || strcmp(err, info->error_at_publish);
	if (refused)
		dev_err(&info->xbdev->dev, "backend error: %.200s\n", err);
	kfree(err);
	return refused;
}

/* ---- the state machine ---------------------------------------------------- */

static void vmsg_xen_set_state(struct vmsg_xen_info *info, enum xenbus_state state)
{
	struct xenbus_device *dev = info->xbdev;

	dev_info(&dev->dev, "state %s -> %s (backend %s)\n", xenbus_strstate(dev->state),
		 xenbus_strstate(state),
		 xenbus_strstate(xenbus_read_driver_state(dev->otherend)));
	xenbus_switch_state(dev, state);
}

static void vmsg_xen_go_closed(struct vmsg_xen_info *info)
{
	vmsg_kbus_disconnected(&info->kbus, info->removing);
	vmsg_xen_unshare(info);
	vmsg_xen_set_state(info, XenbusStateClosed);
}

/* One pass over what xenstore says now; true if it should look again. */
static bool vmsg_xen_step_once(struct vmsg_xen_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	enum xenbus_state be = xenbus_read_driver_state(dev->otherend);
	unsigned long flags;
	bool gone;
	int rc;

	switch (dev->state) {
	case XenbusStateInitialising:
		if (info->removing || be != XenbusStateInitWait)
			return false;
		rc = vmsg_xen_publish(info);
		if (rc) {
			dev_err(&dev->dev, "cannot connect: %d\n", rc);
			info->failed = true;
			vmsg_xen_set_state(info, XenbusStateClosed);
			return false;
		}
		vmsg_xen_set_state(info, XenbusStateInitialised);
		return true;
	case XenbusStateInitialised:
		if (vmsg_xen_refused(info)) {
			dev_err(&dev->dev, "the backend refused the connection (see %s/error)\n",
				dev->otherend);
			info->failed = true;
			vmsg_xen_go_closed(info);
			return false;
		}
		if (be == XenbusStateConnected) {
			spin_lock_irqsave(&info->tx_lock, flags);
			info->chan_up = true;
			spin_unlock_irqrestore(&info->tx_lock, flags);
			vmsg_xen_set_state(info, XenbusStateConnected);
			vmsg_kbus_connected(&info->kbus, info->chan.max_msg_size);
			return false;
		}
		if (be == XenbusStateClosing || be == XenbusStateClosed ||
		    be == XenbusStateUnknown) {
			vmsg_xen_go_closed(info);
			return true;
		}
		return false;
	case XenbusStateConnected:
		gone = vmsg_chan_peer_live(&info->chan) == VMSG_CHAN_LIVE_GONE;
		if (be == XenbusStateConnected && !gone && !info->broken)
			return false;
		if (info->broken && be == XenbusStateConnected && !gone) {
			/* We close: the backend follows, then we unshare. */
			spin_lock_irqsave(&info->tx_lock, flags);
			info->chan_up = false;
			spin_unlock_irqrestore(&info->tx_lock, flags);
			vmsg_kbus_disconnected(&info->kbus, false);
			vmsg_xen_set_state(info, XenbusStateClosing);
			info->close_deadline = jiffies + msecs_to_jiffies(VMSG_XEN_CLOSE_WAIT_MS);
			schedule_delayed_work(&info->close_timer,
					      msecs_to_jiffies(VMSG_XEN_CLOSE_WAIT_MS));
			return false;
		}
		/* The backend closed, died or was replaced (B back in InitWait). */
		dev_info(&dev->dev, "backend gone (state %s%s): holding the devices\n",
			 xenbus_strstate(be), gone ? ", cli_live 0" : "");
		vmsg_xen_go_closed(info);
		return true;
	case XenbusStateClosing:
		if (be == XenbusStateClosed || be == XenbusStateInitWait ||
		    be == XenbusStateUnknown || time_after_eq(jiffies, info->close_deadline)) {
			vmsg_xen_go_closed(info);
			return true;
		}
		return false;
	case XenbusStateClosed:
		/* After a failure, only a backend that starts over is retried. */
		if (be != XenbusStateInitWait)
			info->failed = false;
		if (info->removing || info->failed || be != XenbusStateInitWait)
			return false;
		/* The backend waits for a new connection: start again. */
		vmsg_xen_set_state(info, XenbusStateInitialising);
		return true;
	default:
		return false;
	}
}

static void vmsg_xen_state_work(struct work_struct *work)
{
	struct vmsg_xen_info *info = container_of(work, struct vmsg_xen_info, state_work);
	int passes = 4;

	mutex_lock(&info->state_lock);
	while (passes-- && vmsg_xen_step_once(info))
		;
	mutex_unlock(&info->state_lock);
}

static void vmsg_xen_close_timer(struct work_struct *work)
{
	struct vmsg_xen_info *info = container_of(to_delayed_work(work), struct vmsg_xen_info,
						  close_timer);

	schedule_work(&info->state_work);
}

static void vmsg_xen_backend_changed(struct xenbus_device *dev, enum xenbus_state be)
{
	struct vmsg_xen_info *info = dev_get_drvdata(&dev->dev);

	schedule_work(&info->state_work);
}

/* ---- the xenbus driver ---------------------------------------------------- */

static int vmsg_xen_probe(struct xenbus_device *dev, const struct xenbus_device_id *id)
{
	struct vmsg_xen_info *info;
	int rc;

	BUILD_BUG_ON(offsetof(struct vmsg_xen_info, pool) != 0);
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	info->xbdev = dev;
	info->irq = -1;
	mutex_init(&info->state_lock);
	spin_lock_init(&info->tx_lock);
	INIT_WORK(&info->state_work, vmsg_xen_state_work);
	INIT_WORK(&info->drain_work, vmsg_xen_drain_work);
	INIT_DELAYED_WORK(&info->close_timer, vmsg_xen_close_timer);
	info->kbus.parent = &dev->dev;
	info->kbus.ops = &vmsg_xen_kbus_ops;
	rc = vmsg_kbus_init(&info->kbus);
	if (rc)
		goto err_free;
	dev_set_drvdata(&dev->dev, info);

	/* Every bus address the virtio core makes comes from the pool. */
	dev->dev.coherent_dma_mask = DMA_BIT_MASK(63);
	dev->dev.dma_mask = &dev->dev.coherent_dma_mask;
	set_dma_ops(&dev->dev, &vmsg_pool_dma_ops);

	rc = xenbus_watch_pathfmt(dev, &info->error_watch, NULL, vmsg_xen_error_changed,
				  "%s/error", dev->otherend);
	if (rc)
		goto err_kbus;
	info->error_watched = true;
	if (dev->state != XenbusStateInitialising)
		xenbus_switch_state(dev, XenbusStateInitialising);
	schedule_work(&info->state_work);
	return 0;

err_kbus:
	set_dma_ops(&dev->dev, NULL);
	dev_set_drvdata(&dev->dev, NULL);
	vmsg_kbus_destroy(&info->kbus);
err_free:
	kfree(info);
	return rc;
}

static void vmsg_xen_remove(struct xenbus_device *dev)
{
	struct vmsg_xen_info *info = dev_get_drvdata(&dev->dev);
	unsigned long deadline;
	enum xenbus_state be;

	mutex_lock(&info->state_lock);
	info->removing = true;
	/* Not connected: the drivers' last requests fail at once, not in 5 s. */
	if (dev->state != XenbusStateConnected)
		vmsg_kbus_disconnected(&info->kbus, true);
	mutex_unlock(&info->state_lock);
	/* The drivers let go first, while the backend still answers. */
	vmsg_kbus_remove_devices(&info->kbus);

	mutex_lock(&info->state_lock);
	if (dev->state == XenbusStateConnected || dev->state == XenbusStateInitialised) {
		vmsg_xen_set_state(info, XenbusStateClosing);
		deadline = jiffies + msecs_to_jiffies(VMSG_XEN_CLOSE_WAIT_MS);
		do {
			be = xenbus_read_driver_state(dev->otherend);
			if (be == XenbusStateClosed || be == XenbusStateInitWait ||
			    be == XenbusStateUnknown)
				break;
			msleep(20);
		} while (time_before(jiffies, deadline));
	}
	if (dev->state != XenbusStateClosed)
		vmsg_xen_go_closed(info);
	else
		vmsg_kbus_disconnected(&info->kbus, true);
	/*
	 * Back to Initialising, so the instance can be bound again (xenbus
	 * creates a frontend device only for a node in that state): by this
	 * module loaded again, or by the userspace frontend.
	 */
	if (system_state == SYSTEM_RUNNING)
		vmsg_xen_set_state(info, XenbusStateInitialising);
	mutex_unlock(&info->state_lock);

	if (info->error_watched)
		unregister_xenbus_watch(&info->error_watch);
	kfree(info->error_watch.node);
	cancel_delayed_work_sync(&info->close_timer);
	cancel_work_sync(&info->state_work);

	set_dma_ops(&dev->dev, NULL);
	vmsg_pool_destroy(&info->pool);
	if (info->chan.shr)
		vmsg_chan_free(&info->chan);
	vmsg_kbus_destroy(&info->kbus);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(info);
}

static const struct xenbus_device_id vmsg_xen_ids[] = {
	{ "virtio-msg" },
	{ "" }
};

static struct xenbus_driver vmsg_xen_driver = {
	.ids = vmsg_xen_ids,
	.probe = vmsg_xen_probe,
	.remove = vmsg_xen_remove,
	.otherend_changed = vmsg_xen_backend_changed,
	.allow_rebind = true,	/* remove() leaves the node in Initialising */
	.not_essential = true,
};

static int __init vmsg_xen_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	if (!pool_pages || pool_pages > VMSG_POOL_MAX_PAGES) {
		pr_err("virtio_msg_xen: pool_pages must be 1..%u\n", VMSG_POOL_MAX_PAGES);
		return -EINVAL;
	}
	return xenbus_register_frontend(&vmsg_xen_driver);
}

static void __exit vmsg_xen_exit(void)
{
	xenbus_unregister_driver(&vmsg_xen_driver);
}

module_init(vmsg_xen_init);
module_exit(vmsg_xen_exit);

MODULE_DESCRIPTION("virtio-msg transport over the Xen bus (frontend)");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:virtio-msg");
