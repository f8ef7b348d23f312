/*
 * tests/system/progs/probe.h: helpers shared by the system-test programs
 * that run inside the Xen-under-QEMU guests (see docs/xen-qemu-ci.md).
 *
 * They print one line per step so a failing step can be found in the serial
 * log, and bound every wait: a guest program must fail, never hang.
 */
#ifndef VMSG_PROBE_H
#define VMSG_PROBE_H

#include <stdint.h>

#include "xen/platform.h"

/* Every wait in the guests is bounded by this (TCG is slow, be generous). */
#define PROBE_TIMEOUT_MS 60000

/* Print "<prog>: <message>" to stdout and flush (serial logs interleave). */
void probe_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "<prog>: FAIL <message>: <platform error>" and return 1. */
int probe_fail(struct vmsg_platform *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Program name for log lines; set once from main(). */
extern const char *probe_name;

/*
 * Wait (within ms) until done(arg) is true, re-checking after every event
 * channel event. Events are only hints: Xen also fires a port when it is
 * bound, and a peer may kick more than once. Returns 0, -ETIMEDOUT or a
 * negative errno. Every event taken is counted in probe_events.
 */
int probe_wait_until(struct vmsg_platform *p, int ms, bool (*done)(void *arg), void *arg);
extern unsigned probe_events;

/*
 * Wait for the next xenstore watch event (within ms). Frees the event.
 * Returns 0, -ETIMEDOUT or a negative errno.
 */
int probe_wait_watch(struct vmsg_platform *p, int ms);

/* Parse a decimal uint32 from a xenstore value; -EINVAL if it is not one. */
int probe_parse_u32(const char *s, uint32_t *out);

/* Milliseconds on the monotonic clock. */
long long probe_now_ms(void);

#endif
