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

#endif
