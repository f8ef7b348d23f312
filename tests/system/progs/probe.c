/*
 * tests/system/progs/probe.c: bounded waits and step logging for the
 * system-test programs.
 */
#include "config.h"

#include "probe.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdbool.h>

const char *probe_name = "probe";

void probe_log(const char *fmt, ...)
{
    va_list ap;

    printf("%s: ", probe_name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

int probe_fail(struct vmsg_platform *p, const char *fmt, ...)
{
    va_list ap;

    printf("%s: FAIL ", probe_name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (p && vmsg_plat_last_error(p)[0])
        printf(" (%s)", vmsg_plat_last_error(p));
    printf("\n");
    fflush(stdout);
    return 1;
}

long long probe_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, long long deadline)
{
    for (;;) {
        long long left = deadline - probe_now_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int rc;

        if (left <= 0)
            return -ETIMEDOUT;
        rc = poll(&pfd, 1, (int)left);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -errno;
    }
}

unsigned probe_events;

int probe_wait_until(struct vmsg_platform *p, int ms, bool (*done)(void *arg), void *arg)
{
    long long deadline = probe_now_ms() + ms;
    int fd = vmsg_plat_evtchn_fd(p);

    if (fd < 0)
        return fd;
    for (;;) {
        uint32_t got;
        int rc;

        /* Drain first so a kick that races with the check is not lost. */
        while ((rc = vmsg_plat_evtchn_pending(p, &got)) == 0) {
            probe_events++;
            vmsg_plat_evtchn_unmask(p, got);
        }
        if (rc != -EAGAIN)
            return rc;
        if (done(arg))
            return 0;
        rc = wait_fd(fd, deadline);
        if (rc)
            return rc;
    }
}

int probe_wait_watch(struct vmsg_platform *p, int ms)
{
    long long deadline = probe_now_ms() + ms;
    int fd = vmsg_plat_xs_watch_fd(p);

    if (fd < 0)
        return fd;
    for (;;) {
        char *path, *token;
        int rc = vmsg_plat_xs_read_watch(p, &path, &token);

        if (rc == 0) {
            free(path);
            free(token);
            return 0;
        }
        if (rc != -EAGAIN)
            return rc;
        rc = wait_fd(fd, deadline);
        if (rc)
            return rc;
    }
}

int probe_parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}
