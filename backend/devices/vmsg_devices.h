/*
 * backend/devices/vmsg_devices.h: the device models the backend serves and
 * the registry that creates them by name.
 *
 * Owns: creating a device (struct vmsg_device, ready for vmsg_devbus_add)
 * from a type name ("rng", "console", "blk") and key=value parameters (as
 * the toolstack writes them under devices/<n>/params/ in xenstore), the
 * file descriptors a model needs polled for host-side events, and tearing
 * a device down.
 *
 * Threading: everything but the completion paths runs on the bus
 * instance's thread. fd_ready() must be called on that thread too (the
 * daemon's event loop calls both). virtio-blk completes requests on its own
 * I/O threads, which only push used buffers and call
 * vmsg_device_notify_used().
 */
#ifndef VMSG_DEVICES_H
#define VMSG_DEVICES_H

#include "transport/vmsg_device.h"

/* virtio device types served here. */
#define VIRTIO_ID_BLOCK     2
#define VIRTIO_ID_CONSOLE   3
#define VIRTIO_ID_RNG       4

/*
 * Per-chain byte limits (docs/protocol.md section 8): one chain may
 * describe the same page many times over, up to 4 GiB, so a model takes at
 * most this much from any one chain. The console writes at most
 * VMSG_CONSOLE_CHAIN_MAX_BYTES of a transmit chain to its host end (the
 * rest is dropped and counted); rng fills at most VMSG_RNG_CHAIN_MAX_BYTES
 * of a request (a short buffer, which virtio-rng allows).
 */
#define VMSG_CONSOLE_CHAIN_MAX_BYTES (64u * 1024u)
#define VMSG_RNG_CHAIN_MAX_BYTES     (64u * 1024u)

struct vmsg_param {
    const char *key;
    const char *value;
};

/*
 * Create a device of `type` with `n` parameters. Unknown keys are an error
 * (a typo must not silently give a different device). Parameters:
 *   rng:      none
 *   console:  pty (default; the path is logged), socket=PATH (listen on a
 *             UNIX socket, one client at a time), log=PATH (output appended,
 *             no input); rows=N cols=N (VIRTIO_CONSOLE_F_SIZE, default 25x80)
 *   blk:      path=FILE (raw image or block device, required), ro=0|1,
 *             num-queues=N (1..16, MQ), queue-size=N (power of two <= 1024),
 *             blk-size=N (logical block size, 512..4096, power of two),
 *             phys-block-size=N, serial=STR (GET_ID, <= 20 bytes),
 *             io=auto|uring|threads (default auto: io_uring when the kernel
 *             allows it, else a thread pool; the log says which)
 * Returns 0 and *out; -EINVAL (unknown type, bad or unknown parameter),
 * -ENOENT/-EACCES/... (the backing file), -ENOMEM. The failure is logged
 * with its context.
 */
int vmsg_device_model_create(const char *type, const struct vmsg_param *params, unsigned n,
                             struct vmsg_device **out);

/* Destroy a device made by vmsg_device_model_create (off its bus, or
 * never added): stops its I/O, closes its files, frees it. */
void vmsg_device_model_destroy(struct vmsg_device *dev);

/*
 * The descriptors the daemon should poll for readability on this device's
 * behalf: fills up to `max` and returns how many (0 for models with none).
 * The set can change after any call into the device, so query it again
 * before every poll().
 */
int vmsg_device_model_fds(struct vmsg_device *dev, int *fds, int max);

/* `fd` (one of the above) is readable (or hung up): let the model act. */
void vmsg_device_model_fd_ready(struct vmsg_device *dev, int fd);

/* For a console: the pty or socket path of its host end, else NULL. */
const char *vmsg_console_host_path(struct vmsg_device *dev);

/* For a blk device: "io_uring" or "threads", else NULL. */
const char *vmsg_blk_io_engine(struct vmsg_device *dev);

#endif
