/*
 * lib/util/vmsg_log.c: stderr or syslog sink, levels, rate limiting.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util/vmsg_log.h"

static const char *log_ident = "vmsg";
static bool log_syslog;
static enum vmsg_log_level log_max = VMSG_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warning", "info", "debug", "trace" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG };

void vmsg_log_init(const char *ident, bool use_syslog, enum vmsg_log_level max)
{
    log_ident = ident;
    log_syslog = use_syslog;
    log_max = max;
    if (use_syslog)
        openlog(ident, LOG_PID, LOG_DAEMON);
}

void vmsg_log_set_level(enum vmsg_log_level max)
{
    log_max = max;
}

bool vmsg_log_enabled(enum vmsg_log_level level)
{
    return level <= log_max;
}

uint64_t vmsg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool printable(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '\\';
}

/* The length vmsg_log_escape() renders p to, without the NUL. */
static size_t escaped_len(const unsigned char *p)
{
    size_t n = 0;

    for (; *p; p++)
        n += printable(*p) ? 1 : *p == '\\' ? 2 : 4;
    return n;
}

const char *vmsg_log_escape(char *out, size_t cap, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(in ? in : "(null)");
    size_t o = 0;
    bool whole;

    if (cap < 4) {
        if (cap)
            out[0] = '\0';
        return out;
    }
    /* Whole when it fits; else cut with o + 4 <= cap kept as we go, so
     * there is always room for "..." and the NUL. */
    whole = escaped_len(p) < cap;

    for (; *p; p++) {
        char piece[4];
        size_t n;

        if (*p == '\\') {
            piece[0] = piece[1] = '\\';
            n = 2;
        } else if (printable(*p)) {
            piece[0] = (char)*p;
            n = 1;
        } else {
            piece[0] = '\\';
            piece[1] = 'x';
            piece[2] = hex[*p >> 4];
            piece[3] = hex[*p & 15];
            n = 4;
        }
        if (!whole && o + n + 4 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, piece, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}

static void log_va(enum vmsg_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void log_va(enum vmsg_log_level level, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    if (log_syslog) {
        syslog(syslog_prio[level], "%s", line);
        return;
    }
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level], line);
    pthread_mutex_unlock(&log_lock);
}

void vmsg_log(enum vmsg_log_level level, const char *fmt, ...)
{
    if (!vmsg_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_va(level, fmt, ap);
    va_end(ap);
}

void vmsg_log_ratelimited(struct vmsg_ratelimit *rl, enum vmsg_log_level level,
                          const char *fmt, ...)
{
    if (!vmsg_log_enabled(level))
        return;
    uint64_t now = vmsg_now_ms();
    pthread_mutex_lock(&log_lock);
    if (now - rl->window_start_ms >= (uint64_t)rl->interval_s * 1000) {
        rl->window_start_ms = now;
        rl->printed = 0;
    }
    bool print = rl->printed < rl->burst;
    uint32_t suppressed = 0;
    if (print) {
        rl->printed++;
        suppressed = rl->suppressed;
        rl->suppressed = 0;
    } else {
        rl->suppressed++;
    }
    pthread_mutex_unlock(&log_lock);
    if (!print)
        return;
    if (suppressed)
        vmsg_log(level, "(%u similar lines suppressed)", suppressed);
    va_list ap;
    va_start(ap, fmt);
    log_va(level, fmt, ap);
    va_end(ap);
}
