/*
 * lib/trace/vmsg_json.h: one virtio-msg message as one line of JSON.
 *
 * Owns the JSON form users and tests read traffic in: `vmsgctl decode`
 * prints it, and a daemon's trace log uses the same lines. Field names are
 * the spec's. Built on yajl, as libxl's JSON is.
 */
#ifndef VMSG_JSON_H
#define VMSG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "proto/vmsg_proto.h"

/*
 * Render the `len` bytes at `buf` as one JSON object (no newline) into
 * out (capacity cap, always NUL-terminated). A message the validator
 * refuses becomes {"error": verdict, "reason": ..., "bytes": hex}.
 * Returns the verdict (VMSG_OK for a valid message), or -ENOMEM.
 */
int vmsg_json_render(const struct vmsg_wire *wire, unsigned decode_flags, const void *buf,
                     size_t len, char *out, size_t cap);

/*
 * The same object for a trace log, led by "instance" (the bus instance,
 * "dom3/bus0") and "direction" ("sent" or "received"). Same returns.
 */
int vmsg_json_render_traced(const struct vmsg_wire *wire, unsigned decode_flags, const void *buf,
                            size_t len, const char *instance, const char *direction, char *out,
                            size_t cap);

#endif
