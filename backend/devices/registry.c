/*
 * backend/devices/registry.c: create device models by name, parse their
 * parameters strictly, and the queue plumbing they share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices_internal.h"
#include "util/vmsg_log.h"

/* The registry wraps each device so it can find the model type again. */
struct model_dev {
    struct vmsg_device dev;
    const struct vmsg_model_type *type;
};

static const struct vmsg_model_type *const types[] = {
    &vmsg_model_rng,
    &vmsg_model_console,
    &vmsg_model_blk,
};

int vmsg_device_model_create(const char *type, const struct vmsg_param *params, unsigned n,
                             struct vmsg_device **out)
{
    const struct vmsg_model_type *t = NULL;
    struct model_dev *md;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i]->name, type) == 0)
            t = types[i];
    if (!t) {
        char et[VMSG_LOG_ESCAPED_SIZE(32)];

        vmsg_err("device model '%s' does not exist (rng, console, blk)",
                 vmsg_log_escape(et, sizeof(et), type));
        return -EINVAL;
    }
    md = calloc(1, sizeof(*md));
    if (!md)
        return -ENOMEM;
    md->type = t;
    rc = t->create(&md->dev, params, n);
    if (rc < 0) {
        free(md);
        return rc;
    }
    *out = &md->dev;
    return 0;
}

void vmsg_device_model_destroy(struct vmsg_device *dev)
{
    if (!dev)
        return;
    vmsg_device_destroy(dev);
    free(container_of(dev, struct model_dev, dev));
}

const struct vmsg_model_type *vmsg_model_type_of(struct vmsg_device *dev)
{
    return container_of(dev, struct model_dev, dev)->type;
}

int vmsg_device_model_fds(struct vmsg_device *dev, int *fds, int max)
{
    const struct vmsg_model_type *t = vmsg_model_type_of(dev);
    return t->fds ? t->fds(dev, fds, max) : 0;
}

void vmsg_device_model_fd_ready(struct vmsg_device *dev, int fd)
{
    const struct vmsg_model_type *t = vmsg_model_type_of(dev);
    if (t->fd_ready)
        t->fd_ready(dev, fd);
}

/* ---- parameters ------------------------------------------------------------ */
int vmsg_params_check(const char *model, const struct vmsg_param *p, unsigned n,
                      const char *const *known)
{
    for (unsigned i = 0; i < n; i++) {
        const char *const *k = known;
        char ek[VMSG_LOG_ESCAPED_SIZE(32)];

        while (*k && strcmp(*k, p[i].key) != 0)
            k++;
        if (!*k) {
            vmsg_err("%s: unknown parameter '%s'", model,
                     vmsg_log_escape(ek, sizeof(ek), p[i].key));
            return -EINVAL;
        }
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(p[j].key, p[i].key) == 0) {
                vmsg_err("%s: parameter '%s' given twice", model, p[i].key);
                return -EINVAL;
            }
        }
    }
    return 0;
}

const char *vmsg_param_str(const struct vmsg_param *p, unsigned n, const char *key)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(p[i].key, key) == 0)
            return p[i].value ? p[i].value : "";
    return NULL;
}

int vmsg_param_u64(const char *model, const struct vmsg_param *p, unsigned n, const char *key,
                   uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *s = vmsg_param_str(p, n, key);
    char *end;
    unsigned long long v;

    if (!s) {
        *out = def;
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < min || v > max) {
        char es[VMSG_LOG_ESCAPED_SIZE(32)];

        vmsg_err("%s: parameter %s='%s' is not a number in %llu..%llu", model, key,
                 vmsg_log_escape(es, sizeof(es), s), (unsigned long long)min,
                 (unsigned long long)max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int vmsg_param_bool(const char *model, const struct vmsg_param *p, unsigned n, const char *key,
                    bool def, bool *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off" };
    const char *s = vmsg_param_str(p, n, key);

    if (!s) {
        *out = def;
        return 0;
    }
    if (!*s) {      /* a bare "ro" means ro=1 */
        *out = true;
        return 0;
    }
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    char es[VMSG_LOG_ESCAPED_SIZE(32)];

    vmsg_err("%s: parameter %s='%s' is not a boolean", model, key,
             vmsg_log_escape(es, sizeof(es), s));
    return -EINVAL;
}

int vmsg_model_vq_init(struct vmsg_device *dev, uint32_t index, struct vmsg_vq_dev *vq)
{
    const struct vmsg_vq_state *s = vmsg_device_vq(dev, index);
    struct vmsg_bus *bus = vmsg_device_bus(dev);
    int rc;

    if (!s || !bus)
        return -EINVAL;
    rc = vmsg_vq_dev_init(vq, bus, dev, index, s->size, s->desc_addr, s->driver_addr,
                          s->device_addr, dev->negotiated);
    if (rc < 0)
        vmsg_warn("%s: device %u (%s): queue %u cannot be mapped: %s", bus->name, dev->dev_num,
                  dev->desc.name, index, strerror(-rc));
    return rc;
}

void vmsg_model_pop_failed(struct vmsg_device *dev, uint32_t index, struct vmsg_vq_dev *vq, int rc)
{
    static struct vmsg_ratelimit rl = VMSG_RATELIMIT_INIT;
    struct vmsg_bus *bus = vmsg_device_bus(dev);

    if (rc == -EIO)
        return;     /* broken: the device already needs a reset */
    vmsg_log_ratelimited(&rl, VMSG_LOG_INFO, "%s: device %u (%s): queue %u: %s; trying again",
                         bus ? bus->name : "-", dev->dev_num, dev->desc.name, index,
                         strerror(-rc));
    /* The chain is still in the ring. Ask for the driver's kicks again (a
     * disabled notification would make it wait for us) and look again
     * shortly ourselves, since the driver may already have kicked for it. */
    vmsg_vq_enable_notify(vq);
    vmsg_device_retry_queue(dev, index);
}
