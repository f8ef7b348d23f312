/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel API differences between Linux 6.1 (Debian 12's
 * kernel, what the system images boot) and 6.12 (Debian 12's newer
 * kernel), absorbed here so the rest of the module has no version tests.
 *
 * 6.11 replaced find_vqs()'s callbacks[]/names[]/ctx[] arrays with one
 * struct virtqueue_info[]: VMSG_FIND_VQS_ARGS and vmsg_vq_info_at() give
 * the transport one way to read either.
 */
#ifndef VMSG_COMPAT_H
#define VMSG_COMPAT_H

#include <linux/version.h>
#include <linux/virtio_config.h>

struct vmsg_vq_request {
	vq_callback_t *callback;
	const char *name;
	bool ctx;
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define VMSG_FIND_VQS_PARAMS \
	struct virtio_device *vdev, unsigned int nvqs, struct virtqueue *vqs[], \
	struct virtqueue_info vqs_info[], struct irq_affinity *desc
#define VMSG_FIND_VQS_ARGS vqs_info

static inline struct vmsg_vq_request
vmsg_vq_request_at(struct virtqueue_info *vqs_info, unsigned int i)
{
	return (struct vmsg_vq_request){
		.callback = vqs_info[i].callback,
		.name = vqs_info[i].name,
		.ctx = vqs_info[i].ctx,
	};
}
#else
struct vmsg_vq_arrays {
	vq_callback_t **callbacks;
	const char * const *names;
	const bool *ctx;
};

#define VMSG_FIND_VQS_PARAMS \
	struct virtio_device *vdev, unsigned int nvqs, struct virtqueue *vqs[], \
	vq_callback_t *callbacks[], const char * const names[], \
	const bool *ctx, struct irq_affinity *desc
#define VMSG_FIND_VQS_ARGS (&(struct vmsg_vq_arrays){ callbacks, names, ctx })

static inline struct vmsg_vq_request
vmsg_vq_request_at(const struct vmsg_vq_arrays *a, unsigned int i)
{
	return (struct vmsg_vq_request){
		.callback = a->callbacks[i],
		.name = a->names[i],
		.ctx = a->ctx ? a->ctx[i] : false,
	};
}
#endif

#endif
