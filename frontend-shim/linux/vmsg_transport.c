// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-msg v1 driver side as virtio_config_ops.
 * See vmsg_transport.h for what it owns.
 *
 * The virtio core does the rings, the feature logic and the driver
 * binding; this file only turns each config op into one or more messages,
 * and routes the device's events. Every response is copied out of the bus
 * into a private buffer before it is looked at, and every field is
 * checked against what was asked before it is used.
 */
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "vmsg_compat.h"
#include "vmsg_transport.h"

/* Bounds on what a device may claim: arrays are sized from these. */
#define VMSG_MAX_VQS		1024
#define VMSG_MAX_QUEUE_SIZE	32768
#define VMSG_DEVICE_NUMBERS	65536
#define VMSG_RESET_POLL_MS	5000

struct vmsg_vdev;

struct vmsg_vq {
	struct virtqueue *vq;
	struct vmsg_vdev *vv;
	u32 index;
	bool notify_pending;		/* on bus->notify_pending */
	struct list_head pending_node;
};

struct vmsg_vdev {
	struct virtio_device vdev;
	struct vmsg_kbus *bus;
	u16 dev_num;
	u32 device_id;
	u32 config_size;
	u32 num_vqs;
	u32 generation;			/* last seen */
	u8 status;			/* last written, for a re-setup */
	bool removed;			/* EVENT_DEVICE REMOVED seen */
	spinlock_t vq_lock;		/* vqs[] against the event path */
	struct vmsg_vq **vqs;		/* num_vqs entries */
};

#define to_vmsg_vdev(v) container_of(v, struct vmsg_vdev, vdev)

/* ---- requests ----------------------------------------------------------- */

/*
 * Send one request and wait for its response. The response's payload
 * (header stripped) is copied to resp, at most resp_cap bytes; *resp_len
 * gets the payload's real length, which the caller checks exactly.
 */
static int vmsg_request(struct vmsg_kbus *bus, bool bus_msg, u8 msg_id, u16 dev_num,
			const void *payload, size_t plen,
			void *resp, size_t resp_cap, size_t *resp_len)
{
	u8 msg[VMSG_KBUS_MSG_MAX];
	struct vmsg_hdr *hdr = (struct vmsg_hdr *)msg;
	unsigned long deadline = jiffies + msecs_to_jiffies(VMSG_REQUEST_TIMEOUT_MS);
	unsigned long flags;
	size_t len = VMSG_HEADER_SIZE + plen;
	long left;
	int rc;

	if (len > VMSG_KBUS_MSG_MAX)
		return -EMSGSIZE;
	mutex_lock(&bus->request_lock);
	/* Between two connections a request waits for the next one. */
	left = wait_event_timeout(bus->space_wq, bus->connected || bus->closed,
				  msecs_to_jiffies(VMSG_REQUEST_TIMEOUT_MS));
	if (!bus->connected || !left) {
		rc = -ENOTCONN;
		goto out;
	}
	if (len > bus->max_msg_size) {
		rc = -EMSGSIZE;
		goto out;
	}

	spin_lock_irqsave(&bus->lock, flags);
	if (++bus->next_token == 0)
		bus->next_token = 1;
	hdr->type = bus_msg ? VMSG_TYPE_BUS : 0;
	hdr->msg_id = msg_id;
	hdr->dev_num = cpu_to_le16(dev_num);
	hdr->token = cpu_to_le16(bus->next_token);
	hdr->msg_size = cpu_to_le16(len);
	memcpy(msg + VMSG_HEADER_SIZE, payload, plen);
	bus->want_type = hdr->type | VMSG_TYPE_RESPONSE;
	bus->want_id = msg_id;
	bus->want_dev = dev_num;
	bus->want_token = bus->next_token;
	bus->result = -EINPROGRESS;
	bus->waiting = true;
	reinit_completion(&bus->done);
	spin_unlock_irqrestore(&bus->lock, flags);

	left = wait_event_timeout(bus->space_wq,
				  (rc = bus->ops->send(bus, msg, len)) != -EAGAIN,
				  max_t(long, deadline - jiffies, 1));
	if (!left)
		rc = -ETIMEDOUT;
	if (!rc && !wait_for_completion_timeout(&bus->done,
						max_t(long, deadline - jiffies, 1)))
		rc = -ETIMEDOUT;

	spin_lock_irqsave(&bus->lock, flags);
	if (bus->waiting) {		/* no answer: a late one is dropped */
		bus->waiting = false;
		if (!rc)
			rc = -ETIMEDOUT;
	} else if (!rc) {
		rc = bus->result;
	}
	spin_unlock_irqrestore(&bus->lock, flags);
	if (rc == -ETIMEDOUT) {
		bus->timeouts++;
		dev_warn_ratelimited(bus->parent, "%s 0x%02x to device %u: no response in %u ms\n",
				     bus_msg ? "bus request" : "request", msg_id, dev_num,
				     VMSG_REQUEST_TIMEOUT_MS);
	}
	if (!rc) {
		*resp_len = bus->resp_len - VMSG_HEADER_SIZE;
		memcpy(resp, bus->resp_buf + VMSG_HEADER_SIZE, min(*resp_len, resp_cap));
	}
out:
	mutex_unlock(&bus->request_lock);
	return rc;
}

/* A request whose response has exactly resp_size payload bytes. */
static int vmsg_request_fixed(struct vmsg_kbus *bus, bool bus_msg, u8 msg_id, u16 dev_num,
			      const void *payload, size_t plen, void *resp, size_t resp_size)
{
	size_t got;
	int rc;

	rc = vmsg_request(bus, bus_msg, msg_id, dev_num, payload, plen, resp, resp_size, &got);
	if (rc)
		return rc;
	if (got != resp_size) {
		dev_err_ratelimited(bus->parent,
				    "device %u: response 0x%02x has %zu payload bytes, expected %zu\n",
				    dev_num, msg_id, got, resp_size);
		return -EPROTO;
	}
	return 0;
}

static int vmsg_dev_request(struct vmsg_vdev *vv, u8 msg_id, const void *payload, size_t plen,
			    void *resp, size_t resp_size)
{
	return vmsg_request_fixed(vv->bus, false, msg_id, vv->dev_num, payload, plen,
				  resp, resp_size);
}

int vmsg_kbus_ping(struct vmsg_kbus *bus, u32 data)
{
	__le32 req = cpu_to_le32(data), resp;
	int rc;

	rc = vmsg_request_fixed(bus, true, VMSG_BUS_PING, 0, &req, sizeof(req),
				&resp, sizeof(resp));
	if (!rc && resp != req)
		rc = -EPROTO;
	return rc;
}

/* ---- the device: status, features, config -------------------------------- */

static int vmsg_set_status_checked(struct vmsg_vdev *vv, u32 status, u32 *result)
{
	struct vmsg_status req = { cpu_to_le32(status) }, resp;
	int rc;

	rc = vmsg_dev_request(vv, VMSG_SET_DEVICE_STATUS, &req, sizeof(req), &resp, sizeof(resp));
	if (!rc && result)
		*result = le32_to_cpu(resp.status);
	return rc;
}

static u8 vmsg_get_status(struct virtio_device *vdev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	struct vmsg_status resp;

	if (vmsg_dev_request(vv, VMSG_GET_DEVICE_STATUS, NULL, 0, &resp, sizeof(resp)))
		return vv->status;
	return le32_to_cpu(resp.status) & 0xff;
}

static void vmsg_set_status(struct virtio_device *vdev, u8 status)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	int rc;

	/* The virtio core never writes 0 here: that is reset(). */
	vv->status = status;
	rc = vmsg_set_status_checked(vv, status, NULL);
	if (rc)
		dev_err(&vdev->dev, "SET_DEVICE_STATUS 0x%02x: %d\n", status, rc);
}

static void vmsg_reset(struct virtio_device *vdev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	unsigned long deadline = jiffies + msecs_to_jiffies(VMSG_RESET_POLL_MS);
	u32 status;
	int rc;

	vv->status = 0;
	rc = vmsg_set_status_checked(vv, 0, &status);
	/* A device may finish its reset later; it must not show 0 before. */
	while (!rc && status != 0 && time_before(jiffies, deadline)) {
		usleep_range(1000, 2000);
		status = vmsg_get_status(vdev);
	}
	if (rc || status != 0)
		dev_warn(&vdev->dev, "reset not confirmed (%d, status 0x%x)\n", rc, status);
}

static u64 vmsg_get_features(struct virtio_device *vdev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	struct vmsg_features req = { cpu_to_le32(0), cpu_to_le32(2) };
	struct {
		struct vmsg_features f;
		__le32 blocks[2];
	} __packed resp;
	int rc;

	rc = vmsg_dev_request(vv, VMSG_GET_DEVICE_FEATURES, &req, sizeof(req),
			      &resp, sizeof(resp));
	if (!rc && (resp.f.block_index != req.block_index || resp.f.num_blocks != req.num_blocks))
		rc = -EPROTO;
	if (rc) {
		dev_err(&vdev->dev, "GET_DEVICE_FEATURES: %d\n", rc);
		return 0;
	}
	return le32_to_cpu(resp.blocks[0]) | (u64)le32_to_cpu(resp.blocks[1]) << 32;
}

static int vmsg_write_features(struct vmsg_vdev *vv, u64 features)
{
	struct {
		struct vmsg_features f;
		__le32 blocks[2];
	} __packed req = {
		.f = { cpu_to_le32(0), cpu_to_le32(2) },
		.blocks = { cpu_to_le32(lower_32_bits(features)),
			    cpu_to_le32(upper_32_bits(features)) },
	};

	return vmsg_dev_request(vv, VMSG_SET_DRIVER_FEATURES, &req, sizeof(req), NULL, 0);
}

static int vmsg_finalize_features(struct virtio_device *vdev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);

	vring_transport_features(vdev);
	/* No per-queue reset ops (disable_vq_and_reset) here yet. */
	__virtio_clear_bit(vdev, VIRTIO_F_RING_RESET);
	if (!__virtio_test_bit(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "the device does not offer VIRTIO_F_VERSION_1\n");
		return -EINVAL;
	}
	return vmsg_write_features(vv, vdev->features);
}

static u32 vmsg_config_chunk(struct vmsg_kbus *bus)
{
	return bus->max_msg_size - VMSG_HEADER_SIZE - sizeof(struct vmsg_config_data);
}

static bool vmsg_config_range_ok(struct vmsg_vdev *vv, unsigned int offset, unsigned int len)
{
	if (offset <= vv->config_size && len <= vv->config_size - offset)
		return true;
	dev_warn_ratelimited(&vv->vdev.dev, "config access %u+%u beyond its %u bytes\n",
			     offset, len, vv->config_size);
	return false;
}

static void vmsg_get(struct virtio_device *vdev, unsigned int offset, void *buf, unsigned int len)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	u8 resp[VMSG_KBUS_MSG_MAX];
	struct vmsg_config_data *cd = (struct vmsg_config_data *)resp;
	unsigned int done = 0;

	if (!vmsg_config_range_ok(vv, offset, len))
		goto fail;
	while (done < len) {
		u32 n = min_t(u32, len - done, vmsg_config_chunk(vv->bus));
		struct vmsg_config_req req = { cpu_to_le32(offset + done), cpu_to_le32(n) };

		if (vmsg_dev_request(vv, VMSG_GET_CONFIG, &req, sizeof(req),
				     resp, sizeof(*cd) + n))
			goto fail;
		if (cd->offset != req.offset || cd->length != req.length) {
			dev_err_ratelimited(&vdev->dev, "GET_CONFIG answered %u+%u for %u+%u\n",
					    le32_to_cpu(cd->offset), le32_to_cpu(cd->length),
					    offset + done, n);
			goto fail;
		}
		vv->generation = le32_to_cpu(cd->generation);
		memcpy(buf + done, cd->data, n);
		done += n;
	}
	return;
fail:
	memset(buf + done, 0, len - done);
}

static u32 vmsg_generation(struct virtio_device *vdev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	struct vmsg_config_req req = { 0, 0 };
	struct vmsg_config_data resp;

	if (!vmsg_dev_request(vv, VMSG_GET_CONFIG, &req, sizeof(req), &resp, sizeof(resp)) &&
	    resp.offset == 0 && resp.length == 0)
		vv->generation = le32_to_cpu(resp.generation);
	return vv->generation;
}

static void vmsg_set(struct virtio_device *vdev, unsigned int offset, const void *buf,
		     unsigned int len)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	u8 req[VMSG_KBUS_MSG_MAX];
	struct vmsg_config_data *cd = (struct vmsg_config_data *)req;
	struct vmsg_config_data resp;
	unsigned int done = 0;
	int tries = 0;

	if (!vmsg_config_range_ok(vv, offset, len))
		return;
	while (done < len) {
		u32 n = min_t(u32, len - done, vmsg_config_chunk(vv->bus));
		size_t got;

		cd->generation = cpu_to_le32(vv->generation);
		cd->offset = cpu_to_le32(offset + done);
		cd->length = cpu_to_le32(n);
		memcpy(cd->data, buf + done, n);
		/* The response may echo the data: only its fixed part is read. */
		if (vmsg_request(vv->bus, false, VMSG_SET_CONFIG, vv->dev_num, req,
				 sizeof(*cd) + n, &resp, sizeof(resp), &got) ||
		    got < sizeof(resp) || resp.offset != cd->offset)
			goto fail;
		vv->generation = le32_to_cpu(resp.generation);
		if (le32_to_cpu(resp.length) != n) {
			/* Rejected (stale generation): the device gave the new one. */
			if (resp.length != 0 || ++tries > 2)
				goto fail;
			continue;
		}
		done += n;
	}
	return;
fail:
	dev_err_ratelimited(&vdev->dev, "SET_CONFIG %u+%u failed\n", offset + done, len - done);
}

/* ---- virtqueues --------------------------------------------------------- */

static bool vmsg_notify(struct virtqueue *vq)
{
	struct vmsg_vq *mq = vq->priv;
	struct vmsg_kbus *bus = mq->vv->bus;
	struct {
		struct vmsg_hdr hdr;
		struct vmsg_event_avail ev;
	} __packed msg = {
		.hdr = { .msg_id = VMSG_EVENT_AVAIL, .dev_num = cpu_to_le16(mq->vv->dev_num),
			 .msg_size = cpu_to_le16(sizeof(msg)) },
		.ev = { .vq_index = cpu_to_le32(mq->index) },
	};
	unsigned long flags;
	int rc;

	spin_lock_irqsave(&bus->lock, flags);
	rc = mq->notify_pending ? -EAGAIN : bus->ops->send(bus, &msg, sizeof(msg));
	/*
	 * A full ring (or a bus between two connections) holds the
	 * notification; the driver must not see it fail, or its queue breaks.
	 * vmsg_kbus_space() and the re-setup after a reconnect send it.
	 */
	if ((rc == -EAGAIN || rc == -ENOTCONN) && !mq->notify_pending) {
		mq->notify_pending = true;
		list_add_tail(&mq->pending_node, &bus->notify_pending);
	}
	spin_unlock_irqrestore(&bus->lock, flags);
	return rc != -EPIPE;
}

void vmsg_kbus_space(struct vmsg_kbus *bus)
{
	struct vmsg_vq *mq, *n;
	unsigned long flags;

	spin_lock_irqsave(&bus->lock, flags);
	list_for_each_entry_safe(mq, n, &bus->notify_pending, pending_node) {
		struct {
			struct vmsg_hdr hdr;
			struct vmsg_event_avail ev;
		} __packed msg = {
			.hdr = { .msg_id = VMSG_EVENT_AVAIL,
				 .dev_num = cpu_to_le16(mq->vv->dev_num),
				 .msg_size = cpu_to_le16(sizeof(msg)) },
			.ev = { .vq_index = cpu_to_le32(mq->index) },
		};

		if (bus->ops->send(bus, &msg, sizeof(msg)))
			break;
		list_del(&mq->pending_node);
		mq->notify_pending = false;
	}
	spin_unlock_irqrestore(&bus->lock, flags);
	wake_up_all(&bus->space_wq);
}

static void vmsg_forget_notify(struct vmsg_vq *mq)
{
	struct vmsg_kbus *bus = mq->vv->bus;
	unsigned long flags;

	spin_lock_irqsave(&bus->lock, flags);
	if (mq->notify_pending) {
		list_del(&mq->pending_node);
		mq->notify_pending = false;
	}
	spin_unlock_irqrestore(&bus->lock, flags);
}

static int vmsg_program_vq(struct vmsg_vdev *vv, struct vmsg_vq *mq)
{
	struct vmsg_vqueue_setup set = {
		.index = cpu_to_le32(mq->index),
		.size = cpu_to_le32(virtqueue_get_vring_size(mq->vq)),
		.desc_addr = cpu_to_le64(virtqueue_get_desc_addr(mq->vq)),
		.driver_addr = cpu_to_le64(virtqueue_get_avail_addr(mq->vq)),
		.device_addr = cpu_to_le64(virtqueue_get_used_addr(mq->vq)),
	};
	struct vmsg_vqueue_index get = { set.index };
	struct vmsg_vqueue_info info;
	int rc;

	rc = vmsg_dev_request(vv, VMSG_SET_VQUEUE, &set, sizeof(set), NULL, 0);
	if (rc)
		return rc;
	/* Confirm: a device that did not take the values says so here. */
	rc = vmsg_dev_request(vv, VMSG_GET_VQUEUE, &get, sizeof(get), &info, sizeof(info));
	if (rc)
		return rc;
	if (info.index != set.index || info.cur_size != set.size ||
	    info.desc_addr != set.desc_addr || info.driver_addr != set.driver_addr ||
	    info.device_addr != set.device_addr)
		return -EIO;
	return 0;
}

static struct virtqueue *vmsg_setup_vq(struct vmsg_vdev *vv, u32 index, vq_callback_t *callback,
				       const char *name, bool ctx)
{
	struct vmsg_vqueue_index req = { cpu_to_le32(index) };
	struct vmsg_vqueue_info info;
	struct vmsg_vq *mq;
	u32 max_size;
	unsigned long flags;
	int rc;

	if (index >= vv->num_vqs)
		return ERR_PTR(-ENOENT);
	rc = vmsg_dev_request(vv, VMSG_GET_VQUEUE, &req, sizeof(req), &info, sizeof(info));
	if (rc)
		return ERR_PTR(rc);
	max_size = le32_to_cpu(info.max_size);
	if (info.index != req.index || max_size == 0)
		return ERR_PTR(-ENOENT);
	if (max_size > VMSG_MAX_QUEUE_SIZE || !is_power_of_2(max_size)) {
		dev_err(&vv->vdev.dev, "queue %u: max_size %u is not a power of two <= %u\n",
			index, max_size, VMSG_MAX_QUEUE_SIZE);
		return ERR_PTR(-EPROTO);
	}
	mq = kzalloc(sizeof(*mq), GFP_KERNEL);
	if (!mq)
		return ERR_PTR(-ENOMEM);
	mq->vv = vv;
	mq->index = index;
	/* Rings come from the parent's DMA ops: the bus's shared pool. */
	mq->vq = vring_create_virtqueue(index, max_size, SMP_CACHE_BYTES, &vv->vdev, true, true,
					ctx, vmsg_notify, callback, name);
	if (!mq->vq) {
		rc = -ENOMEM;
		goto err_free;
	}
	mq->vq->priv = mq;
	rc = vmsg_program_vq(vv, mq);
	if (rc) {
		dev_err(&vv->vdev.dev, "queue %u: SET_VQUEUE not taken: %d\n", index, rc);
		goto err_del;
	}
	spin_lock_irqsave(&vv->vq_lock, flags);
	vv->vqs[index] = mq;
	spin_unlock_irqrestore(&vv->vq_lock, flags);
	return mq->vq;

err_del:
	vring_del_virtqueue(mq->vq);
err_free:
	kfree(mq);
	return ERR_PTR(rc);
}

static void vmsg_del_vqs(struct virtio_device *vdev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	struct virtqueue *vq, *n;
	unsigned long flags;

	list_for_each_entry_safe(vq, n, &vdev->vqs, list) {
		struct vmsg_vq *mq = vq->priv;
		struct vmsg_vqueue_index req = { cpu_to_le32(mq->index) };

		/* After this no event reaches the queue (vq_lock). */
		spin_lock_irqsave(&vv->vq_lock, flags);
		vv->vqs[mq->index] = NULL;
		spin_unlock_irqrestore(&vv->vq_lock, flags);
		vmsg_forget_notify(mq);
		if (vv->bus->connected)
			vmsg_dev_request(vv, VMSG_RESET_VQUEUE, &req, sizeof(req), NULL, 0);
		vring_del_virtqueue(vq);
		kfree(mq);
	}
}

static int vmsg_find_vqs(VMSG_FIND_VQS_PARAMS)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);
	unsigned int i, queue_idx = 0;

	for (i = 0; i < nvqs; i++) {
		struct vmsg_vq_request r = vmsg_vq_request_at(VMSG_FIND_VQS_ARGS, i);

		if (!r.name) {
			vqs[i] = NULL;
			continue;
		}
		vqs[i] = vmsg_setup_vq(vv, queue_idx++, r.callback, r.name, r.ctx);
		if (IS_ERR(vqs[i])) {
			int rc = PTR_ERR(vqs[i]);

			vmsg_del_vqs(vdev);
			return rc;
		}
	}
	return 0;
}

static void vmsg_synchronize_cbs(struct virtio_device *vdev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(vdev);

	/* The event path calls vring_interrupt() under vq_lock. */
	spin_lock_irq(&vv->vq_lock);
	spin_unlock_irq(&vv->vq_lock);
}

static const char *vmsg_bus_name(struct virtio_device *vdev)
{
	return dev_name(to_vmsg_vdev(vdev)->bus->parent);
}

static const struct virtio_config_ops vmsg_config_ops = {
	.get = vmsg_get,
	.set = vmsg_set,
	.generation = vmsg_generation,
	.get_status = vmsg_get_status,
	.set_status = vmsg_set_status,
	.reset = vmsg_reset,
	.find_vqs = vmsg_find_vqs,
	.del_vqs = vmsg_del_vqs,
	.synchronize_cbs = vmsg_synchronize_cbs,
	.get_features = vmsg_get_features,
	.finalize_features = vmsg_finalize_features,
	.bus_name = vmsg_bus_name,
};

/* ---- devices ------------------------------------------------------------ */

static void vmsg_vdev_release(struct device *dev)
{
	struct vmsg_vdev *vv = to_vmsg_vdev(dev_to_virtio(dev));

	kfree(vv->vqs);
	kfree(vv);
}

static int vmsg_device_info(struct vmsg_kbus *bus, u16 dev_num,
			    struct vmsg_device_info_resp *info)
{
	u32 bits, nvqs;
	int rc;

	rc = vmsg_request_fixed(bus, false, VMSG_GET_DEVICE_INFO, dev_num, NULL, 0,
				info, sizeof(*info));
	if (rc)
		return rc;
	bits = le32_to_cpu(info->num_feature_bits);
	nvqs = le32_to_cpu(info->max_virtqueues);
	if (info->device_id == 0)
		return -ENODEV;
	if (bits % 32 || bits < 64 || nvqs > VMSG_MAX_VQS) {
		dev_err(bus->parent, "device %u: num_feature_bits %u, max_virtqueues %u refused\n",
			dev_num, bits, nvqs);
		return -EPROTO;
	}
	return 0;
}

static int vmsg_vdev_add(struct vmsg_kbus *bus, u16 dev_num)
{
	struct vmsg_device_info_resp info;
	struct vmsg_vdev *vv;
	int rc;

	rc = vmsg_device_info(bus, dev_num, &info);
	if (rc)
		return rc;
	vv = kzalloc(sizeof(*vv), GFP_KERNEL);
	if (!vv)
		return -ENOMEM;
	vv->bus = bus;
	vv->dev_num = dev_num;
	vv->device_id = le32_to_cpu(info.device_id);
	vv->config_size = le32_to_cpu(info.config_size);
	vv->num_vqs = le32_to_cpu(info.max_virtqueues);
	spin_lock_init(&vv->vq_lock);
	vv->vqs = kcalloc(max(vv->num_vqs, 1U), sizeof(*vv->vqs), GFP_KERNEL);
	if (!vv->vqs) {
		kfree(vv);
		return -ENOMEM;
	}
	vv->vdev.dev.parent = bus->parent;
	vv->vdev.dev.release = vmsg_vdev_release;
	vv->vdev.id.device = vv->device_id;
	vv->vdev.id.vendor = le32_to_cpu(info.vendor_id);
	vv->vdev.config = &vmsg_config_ops;

	rc = xa_insert_irq(&bus->devices, dev_num, vv, GFP_KERNEL);
	if (rc) {
		vmsg_vdev_release(&vv->vdev.dev);
		return rc;
	}
	rc = register_virtio_device(&vv->vdev);
	if (rc) {
		xa_erase_irq(&bus->devices, dev_num);
		synchronize_rcu();
		put_device(&vv->vdev.dev);
		return rc;
	}
	dev_info(bus->parent, "device %u: virtio id %u is %s\n", dev_num, vv->device_id,
		 dev_name(&vv->vdev.dev));
	return 0;
}

static void vmsg_vdev_remove(struct vmsg_kbus *bus, struct vmsg_vdev *vv)
{
	dev_info(bus->parent, "device %u (%s) removed\n", vv->dev_num, dev_name(&vv->vdev.dev));
	/* Ours until the event path can no longer find it. */
	get_device(&vv->vdev.dev);
	/* The driver resets the device and deletes its queues first. */
	unregister_virtio_device(&vv->vdev);
	xa_erase_irq(&bus->devices, vv->dev_num);
	/* The event path looks devices up under RCU. */
	synchronize_rcu();
	put_device(&vv->vdev.dev);
}

/*
 * After a reconnect, a new device side knows nothing: give each device
 * back what its driver negotiated, and its queues where they are, so the
 * driver goes on as if nothing happened (docs/protocol.md 3: a request the
 * old backend did not complete is treated as not done; the backend picks
 * the ring up at its used index). The queues are kicked at the end, and
 * completions the old backend wrote but never announced are collected.
 */
static int vmsg_vdev_restore(struct vmsg_kbus *bus, struct vmsg_vdev *vv)
{
	struct vmsg_device_info_resp info;
	u32 steps[] = { VIRTIO_CONFIG_S_ACKNOWLEDGE,
			VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER };
	u32 status, i;
	unsigned long flags;
	int rc;

	rc = vmsg_device_info(bus, vv->dev_num, &info);
	if (rc)
		return rc;
	if (le32_to_cpu(info.device_id) != vv->device_id ||
	    le32_to_cpu(info.max_virtqueues) != vv->num_vqs ||
	    le32_to_cpu(info.config_size) != vv->config_size)
		return -ENODEV;
	if (!(vv->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return 0;	/* not set up yet: its driver starts from reset */
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		rc = vmsg_set_status_checked(vv, steps[i], NULL);
		if (rc)
			return rc;
	}
	rc = vmsg_write_features(vv, vv->vdev.features);
	if (rc)
		return rc;
	rc = vmsg_set_status_checked(vv, steps[1] | VIRTIO_CONFIG_S_FEATURES_OK, &status);
	if (rc || !(status & VIRTIO_CONFIG_S_FEATURES_OK))
		return rc ?: -ENODEV;
	for (i = 0; i < vv->num_vqs; i++) {
		if (vv->vqs[i]) {
			rc = vmsg_program_vq(vv, vv->vqs[i]);
			if (rc)
				return rc;
		}
	}
	rc = vmsg_set_status_checked(vv, vv->status, NULL);
	if (rc)
		return rc;
	for (i = 0; i < vv->num_vqs; i++) {
		spin_lock_irqsave(&vv->vq_lock, flags);
		if (vv->vqs[i]) {
			vring_interrupt(0, vv->vqs[i]->vq);
			virtqueue_notify(vv->vqs[i]->vq);
		}
		spin_unlock_irqrestore(&vv->vq_lock, flags);
	}
	return 0;
}

/* GET_DEVICES over every window into present (VMSG_DEVICE_NUMBERS bits). */
static int vmsg_get_devices(struct vmsg_kbus *bus, unsigned long *present)
{
	u8 resp[VMSG_KBUS_MSG_MAX];
	struct vmsg_get_devices_resp *r = (struct vmsg_get_devices_resp *)resp;
	u32 cap = (bus->max_msg_size - VMSG_HEADER_SIZE - sizeof(*r)) * 8;
	u32 offset = 0;

	cap = min_t(u32, round_down(cap, 8), 0xfff8);
	while (offset < VMSG_DEVICE_NUMBERS) {
		u32 want = min_t(u32, cap, VMSG_DEVICE_NUMBERS - offset), count, next, i;
		struct vmsg_get_devices_req req = { cpu_to_le16(offset), cpu_to_le16(want) };
		size_t got;
		int rc;

		rc = vmsg_request(bus, true, VMSG_BUS_GET_DEVICES, 0, &req, sizeof(req),
				  resp, sizeof(resp), &got);
		if (rc)
			return rc;
		count = le16_to_cpu(r->count);
		next = le16_to_cpu(r->next_offset);
		if (got < sizeof(*r) || le16_to_cpu(r->offset) != offset || count > want ||
		    count % 8 || got != sizeof(*r) + count / 8 ||
		    (next && (next % 8 || next < offset + count || next <= offset))) {
			dev_err(bus->parent,
				"GET_DEVICES at %u: bad answer (offset %u count %u next %u, %zu bytes)\n",
				offset, le16_to_cpu(r->offset), count, next, got);
			return -EPROTO;
		}
		for (i = 0; i < count; i++)
			if (r->bitmap[i / 8] & BIT(i % 8))
				__set_bit(offset + i, present);
		if (!next)
			break;
		offset = next;
	}
	return 0;
}

static void vmsg_scan_work(struct work_struct *work)
{
	struct vmsg_kbus *bus = container_of(work, struct vmsg_kbus, scan_work);
	unsigned long *present, dev_num;
	struct vmsg_vdev *vv;
	int rc;

	present = bitmap_zalloc(VMSG_DEVICE_NUMBERS, GFP_KERNEL);
	if (!present)
		return;
	mutex_lock(&bus->devices_lock);
	if (bus->dying || !bus->connected)
		goto out;
	rc = vmsg_get_devices(bus, present);
	if (rc) {
		dev_err(bus->parent, "enumeration failed: %d\n", rc);
		goto out;
	}
	xa_for_each(&bus->devices, dev_num, vv) {
		if (vv->removed || !test_bit(dev_num, present))
			vmsg_vdev_remove(bus, vv);
	}
	for_each_set_bit(dev_num, present, VMSG_DEVICE_NUMBERS) {
		if (xa_load(&bus->devices, dev_num))
			continue;
		rc = vmsg_vdev_add(bus, dev_num);
		if (rc && rc != -ENODEV)
			dev_err(bus->parent, "device %lu: not added: %d\n", dev_num, rc);
	}
out:
	mutex_unlock(&bus->devices_lock);
	bitmap_free(present);
}

static void vmsg_restore_work(struct work_struct *work)
{
	struct vmsg_kbus *bus = container_of(work, struct vmsg_kbus, restore_work);
	unsigned long dev_num;
	struct vmsg_vdev *vv;
	int rc;

	mutex_lock(&bus->devices_lock);
	xa_for_each(&bus->devices, dev_num, vv) {
		if (bus->dying || !bus->connected)
			break;
		rc = vmsg_vdev_restore(bus, vv);
		if (rc) {
			dev_warn(bus->parent, "device %u: not set up again (%d): removing it\n",
				 vv->dev_num, rc);
			vmsg_vdev_remove(bus, vv);
		}
	}
	mutex_unlock(&bus->devices_lock);
	/* Then the device list: what was attached or detached meanwhile. */
	vmsg_scan_work(&bus->scan_work);
}

void vmsg_kbus_connected(struct vmsg_kbus *bus, u32 max_msg_size)
{
	unsigned long flags;
	bool restore;

	spin_lock_irqsave(&bus->lock, flags);
	bus->max_msg_size = min_t(u32, max_msg_size, VMSG_KBUS_MSG_MAX);
	bus->connected = true;
	spin_unlock_irqrestore(&bus->lock, flags);
	wake_up_all(&bus->space_wq);
	restore = !xa_empty(&bus->devices);
	schedule_work(restore ? &bus->restore_work : &bus->scan_work);
}

void vmsg_kbus_disconnected(struct vmsg_kbus *bus, bool for_good)
{
	unsigned long flags;

	spin_lock_irqsave(&bus->lock, flags);
	bus->connected = false;
	bus->closed = for_good;
	if (bus->waiting) {
		bus->waiting = false;
		bus->result = -ENOTCONN;
		complete(&bus->done);
	}
	spin_unlock_irqrestore(&bus->lock, flags);
	wake_up_all(&bus->space_wq);
}

/* ---- the event path ----------------------------------------------------- */

static void vmsg_drop(struct vmsg_kbus *bus, const struct vmsg_hdr *hdr, const char *why)
{
	bus->dropped++;
	dev_warn_ratelimited(bus->parent,
			     "dropped message type 0x%x id 0x%02x dev %u size %u: %s\n",
			     hdr->type, hdr->msg_id, le16_to_cpu(hdr->dev_num),
			     le16_to_cpu(hdr->msg_size), why);
}

static void vmsg_event_used(struct vmsg_kbus *bus, struct vmsg_vdev *vv, u32 index)
{
	if (index >= vv->num_vqs)
		return;
	spin_lock(&vv->vq_lock);
	if (vv->vqs[index])
		vring_interrupt(0, vv->vqs[index]->vq);
	spin_unlock(&vv->vq_lock);
}

static void vmsg_event_device(struct vmsg_kbus *bus, const struct vmsg_event_device *ev)
{
	u16 dev_num = le16_to_cpu(ev->device_number);
	struct vmsg_vdev *vv;

	if (le16_to_cpu(ev->device_bus_state) == VMSG_DEVICE_BUS_STATE_REMOVED) {
		rcu_read_lock();
		vv = xa_load(&bus->devices, dev_num);
		if (vv)
			vv->removed = true;
		rcu_read_unlock();
	}
	/* The scan reconciles with GET_DEVICES: duplicates and reordering
	 * of READY/REMOVED do no harm, and nothing is allocated here.
	 */
	if (!bus->dying)
		schedule_work(&bus->scan_work);
}

void vmsg_kbus_receive(struct vmsg_kbus *bus, const void *msg, size_t len)
{
	const struct vmsg_hdr *hdr = msg;
	const void *payload = msg + VMSG_HEADER_SIZE;
	size_t plen = len - VMSG_HEADER_SIZE;
	u8 type = hdr->type & (VMSG_TYPE_RESPONSE | VMSG_TYPE_BUS);	/* bits 2..7 ignored */
	struct vmsg_vdev *vv;

	if (type & VMSG_TYPE_RESPONSE) {
		spin_lock(&bus->lock);
		if (bus->waiting && type == bus->want_type && hdr->msg_id == bus->want_id &&
		    le16_to_cpu(hdr->dev_num) == bus->want_dev &&
		    le16_to_cpu(hdr->token) == bus->want_token) {
			memcpy(bus->resp_buf, msg, len);
			bus->resp_len = len;
			bus->waiting = false;
			bus->result = 0;
			complete(&bus->done);
			spin_unlock(&bus->lock);
			return;
		}
		spin_unlock(&bus->lock);
		vmsg_drop(bus, hdr, "no request waits for this response");
		return;
	}
	if (!(hdr->msg_id & VMSG_ID_EVENT_BIT)) {
		vmsg_drop(bus, hdr, "a request from the device side");
		return;
	}
	if (type & VMSG_TYPE_BUS) {
		if (hdr->msg_id == VMSG_BUS_EVENT_DEVICE &&
		    plen == sizeof(struct vmsg_event_device))
			vmsg_event_device(bus, payload);
		else
			vmsg_drop(bus, hdr, "unknown or malformed bus event");
		return;
	}

	rcu_read_lock();
	vv = xa_load(&bus->devices, le16_to_cpu(hdr->dev_num));
	if (!vv) {
		vmsg_drop(bus, hdr, "event for no device");
	} else if (hdr->msg_id == VMSG_EVENT_USED && plen == sizeof(struct vmsg_event_used)) {
		vmsg_event_used(bus, vv,
				le32_to_cpu(((const struct vmsg_event_used *)payload)->vq_index));
	} else if (hdr->msg_id == VMSG_EVENT_CONFIG && plen >= sizeof(struct vmsg_event_config) &&
		   plen == sizeof(struct vmsg_event_config) +
			   le32_to_cpu(((const struct vmsg_event_config *)payload)->length)) {
		/* The data, if any, is not used: drivers re-read the config. */
		virtio_config_changed(&vv->vdev);
	} else {
		vmsg_drop(bus, hdr, "unknown or malformed event");
	}
	rcu_read_unlock();
}

/* ---- the bus ------------------------------------------------------------ */

int vmsg_kbus_init(struct vmsg_kbus *bus)
{
	bus->resp_buf = kmalloc(VMSG_KBUS_MSG_MAX, GFP_KERNEL);
	if (!bus->resp_buf)
		return -ENOMEM;
	mutex_init(&bus->request_lock);
	mutex_init(&bus->devices_lock);
	spin_lock_init(&bus->lock);
	init_completion(&bus->done);
	init_waitqueue_head(&bus->space_wq);
	INIT_LIST_HEAD(&bus->notify_pending);
	xa_init_flags(&bus->devices, XA_FLAGS_LOCK_IRQ);
	INIT_WORK(&bus->scan_work, vmsg_scan_work);
	INIT_WORK(&bus->restore_work, vmsg_restore_work);
	if (!bus->max_msg_size)
		bus->max_msg_size = VMSG_MIN_MAX_MSG_SIZE;
	return 0;
}

void vmsg_kbus_remove_devices(struct vmsg_kbus *bus)
{
	unsigned long dev_num;
	struct vmsg_vdev *vv;

	mutex_lock(&bus->devices_lock);
	bus->dying = true;	/* no new devices; requests still go out */
	mutex_unlock(&bus->devices_lock);
	cancel_work_sync(&bus->restore_work);
	cancel_work_sync(&bus->scan_work);
	mutex_lock(&bus->devices_lock);
	xa_for_each(&bus->devices, dev_num, vv)
		vmsg_vdev_remove(bus, vv);
	mutex_unlock(&bus->devices_lock);
}

void vmsg_kbus_destroy(struct vmsg_kbus *bus)
{
	xa_destroy(&bus->devices);
	kfree(bus->resp_buf);
	bus->resp_buf = NULL;
}
