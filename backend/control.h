/*
 * backend/control.h: the control socket of vmsg-backend, through which
 * `vmsgctl status` asks what each bus instance is doing.
 *
 * Owns: a Unix stream socket (default VMSG_CONTROL_DEFAULT_PATH, mode
 * 0600, in a directory it creates 0700 if missing), replacing a stale
 * socket but never one another daemon answers on, and the protocol: the
 * client sends one request line, the daemon answers one JSON object (yajl)
 * and closes. Requests:
 *
 *   status    {"backend_id": D, "pid": P, "instances": [STATS, ...]}
 *             STATS: see vmsg_control_status_json()
 *   other     {"error": "unknown request 'X'"}
 *
 * Served from the daemon's main thread; a client gets at most
 * VMSG_CONTROL_IO_TIMEOUT_MS for each of its request and our answer, so
 * a stuck client delays the daemon by that much at worst.
 */
#ifndef VMSG_BACKEND_CONTROL_H
#define VMSG_BACKEND_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "back_stats.h"

#define VMSG_CONTROL_DEFAULT_PATH "/run/vmsg-backend/control"
#define VMSG_CONTROL_IO_TIMEOUT_MS 1000
#define VMSG_CONTROL_REQUEST_MAX 64

struct vmsg_control;

/*
 * What `status` reports, collected when a request comes: fill at most
 * `max` entries of out and return how many there are (may exceed max).
 */
typedef unsigned vmsg_control_collect_fn(void *opaque, struct vmsg_back_stats *out,
                                         unsigned max);

/*
 * Listen on `path` (its length must fit a sockaddr_un). Returns 0 and
 * *out, -EADDRINUSE (another process answers there: a second backend),
 * -ENAMETOOLONG, other -errno from mkdir/socket/bind/listen.
 */
int vmsg_control_open(struct vmsg_control **out, const char *path, uint32_t backend_id,
                      vmsg_control_collect_fn *collect, void *opaque);

/* Stop listening and remove the socket. NULL is a no-op. */
void vmsg_control_close(struct vmsg_control *ctl);

/* The listening fd: poll it for POLLIN, then call vmsg_control_serve(). */
int vmsg_control_fd(const struct vmsg_control *ctl);

/* Accept and answer every client waiting (none: returns at once). */
void vmsg_control_serve(struct vmsg_control *ctl);

/*
 * The answer to `status` for n instances, NUL-terminated JSON in *json
 * (free() it). Each instance:
 *   {"frontend_id", "bus", "state", "connected",
 *    "ring": {"to_backend": {"used", "size"}, "to_frontend": {...}},
 *    "messages": {"received", "sent", "dropped_malformed",
 *                 "dropped_unexpected", "held", "lost"},
 *    "kicks": {"sent", "received"}}
 * "ring" is null while not connected. Returns 0 or -ENOMEM.
 */
int vmsg_control_status_json(uint32_t backend_id, long pid, const struct vmsg_back_stats *s,
                             unsigned n, char **json);

#endif
