/*
 * backend/devices/devices_internal.h: what the registry and the models
 * share: the per-type table entry, parameter parsing, and the queue
 * plumbing every model repeats (map a queue when SET_VQUEUE programs it).
 */
#ifndef VMSG_DEVICES_INTERNAL_H
#define VMSG_DEVICES_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vmsg_devices.h"
#include "virtq/vmsg_virtq.h"

struct vmsg_model_type {
    const char *name;
    /* Fill *dev with vmsg_device_init(). 0 or -errno (logged). */
    int (*create)(struct vmsg_device *dev, const struct vmsg_param *p, unsigned n);
    int (*fds)(struct vmsg_device *dev, int *fds, int max);
    void (*fd_ready)(struct vmsg_device *dev, int fd);
};

extern const struct vmsg_model_type vmsg_model_rng;
extern const struct vmsg_model_type vmsg_model_console;
extern const struct vmsg_model_type vmsg_model_blk;

/* The model type a device was created as (NULL if not by the registry). */
const struct vmsg_model_type *vmsg_model_type_of(struct vmsg_device *dev);

/* Parameter access. Every key a model accepts is listed in `known`
 * (NULL-terminated); any other key fails with -EINVAL and a log line. */
int vmsg_params_check(const char *model, const struct vmsg_param *p, unsigned n,
                      const char *const *known);
const char *vmsg_param_str(const struct vmsg_param *p, unsigned n, const char *key);
/* Decimal in [min, max]; `def` if absent. 0 or -EINVAL (logged). */
int vmsg_param_u64(const char *model, const struct vmsg_param *p, unsigned n, const char *key,
                   uint64_t def, uint64_t min, uint64_t max, uint64_t *out);
/* 0/1/yes/no/true/false/on/off; `def` if absent. 0 or -EINVAL. */
int vmsg_param_bool(const char *model, const struct vmsg_param *p, unsigned n, const char *key,
                    bool def, bool *out);

/* Map queue `index` of dev as SET_VQUEUE programmed it. 0 or -errno. */
int vmsg_model_vq_init(struct vmsg_device *dev, uint32_t index, struct vmsg_vq_dev *vq);

/*
 * A model's vmsg_vq_pop() on queue `index` returned rc < 0. -EIO (the
 * queue is broken, the device needs a reset) changes nothing; any other
 * failure (-ENOMEM: memory or mappings ran out, a budget refused the
 * chain) left the chain in the ring, so guest notifications are enabled
 * again and the queue is looked at again shortly
 * (vmsg_device_retry_queue): a refused pop never leaves a queue stuck.
 * The model returns from its queue work after this call.
 */
void vmsg_model_pop_failed(struct vmsg_device *dev, uint32_t index, struct vmsg_vq_dev *vq, int rc);

#endif
