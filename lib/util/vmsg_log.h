/*
 * lib/util/vmsg_log.h: the one logging path of every program.
 *
 * Owns: log levels, the sink (stderr with a program prefix, or syslog),
 * rate limiting for lines a peer can provoke (a guest sending garbage must
 * not be able to flood dom0's log), and the escaping of strings a peer
 * chose before they go into a line. Thread-safe.
 */
#ifndef VMSG_LOG_H
#define VMSG_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum vmsg_log_level {
    VMSG_LOG_ERR,
    VMSG_LOG_WARN,
    VMSG_LOG_INFO,
    VMSG_LOG_DEBUG,
    VMSG_LOG_TRACE,
};

/* Name the program, choose the sink and the most verbose level printed. */
void vmsg_log_init(const char *ident, bool use_syslog, enum vmsg_log_level max);
void vmsg_log_set_level(enum vmsg_log_level max);
bool vmsg_log_enabled(enum vmsg_log_level level);

void vmsg_log(enum vmsg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A line provoked by a peer: at most `burst` lines per `interval_s`; the
 * number suppressed is reported with the next line that gets through.
 * One struct per call site (static) or per bus instance.
 */
struct vmsg_ratelimit {
    uint32_t interval_s;
    uint32_t burst;
    uint64_t window_start_ms;
    uint32_t printed;
    uint32_t suppressed;
};
#define VMSG_RATELIMIT_INIT { .interval_s = 5, .burst = 10 }

void vmsg_log_ratelimited(struct vmsg_ratelimit *rl, enum vmsg_log_level level,
                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A string a peer chose (a xenstore value a frontend wrote, a device name,
 * anything from a message), made safe for a log line: printable ASCII
 * stays as it is, a backslash becomes "\\" and every other byte (newline,
 * escape codes, bytes above 0x7e) "\xNN", so it can neither fake a log
 * line nor drive a terminal. Renders into out (cap >= 4 bytes, always
 * NUL-terminated); a string that does not fit ends in "...".
 * VMSG_LOG_ESCAPED_SIZE(n) bytes hold any n-byte string whole. Returns out;
 * NULL is rendered as "(null)". Every log line that carries such a
 * string goes through this.
 */
#define VMSG_LOG_ESCAPED_SIZE(n) (4 * (size_t)(n) + 4)
const char *vmsg_log_escape(char *out, size_t cap, const char *in);

/* Monotonic milliseconds, for timeouts and rate limits. */
uint64_t vmsg_now_ms(void);

#define vmsg_err(...)   vmsg_log(VMSG_LOG_ERR, __VA_ARGS__)
#define vmsg_warn(...)  vmsg_log(VMSG_LOG_WARN, __VA_ARGS__)
#define vmsg_info(...)  vmsg_log(VMSG_LOG_INFO, __VA_ARGS__)
#define vmsg_debug(...) vmsg_log(VMSG_LOG_DEBUG, __VA_ARGS__)

#endif
