/*
 * vmsg-plat-back: the dom0 half of the "platform" system scenario.
 *
 * Finds the frontend's grants and port through a xenstore watch, maps both
 * pages in one batch (with its own unmap notification) plus page 1 a second
 * time as an observer, and exchanges text both ways. Then it checks the
 * frontend's unshare arrived as an unmap notification (event + live byte),
 * waits until the frontend domain is destroyed, unmaps, and proves through
 * the observer that its own notification cleared the byte and through
 * /proc/self/maps that nothing stays mapped.
 *
 * usage: vmsg-plat-back <frontend-domid> [<go-file>]
 * Prints BACK-EXCHANGED when the scenario may destroy the domU, BACK-SAW-GONE
 * once it has seen the domain die (then, given a go-file, it keeps its
 * mappings until that file exists, so the scenario can see Xen keep the
 * dead domain around), and BACK-OK at the end.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plat_probe.h"
#include "probe.h"

static int read_u32(struct vmsg_platform *p, const char *path, uint32_t *out)
{
    char *v;
    int rc = vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL);

    if (rc)
        return rc;
    rc = probe_parse_u32(v, out);
    free(v);
    return rc;
}

/* Wait for the frontend's port node, using the watch's fd. */
static int wait_published(struct vmsg_platform *p, const char *dir, uint32_t *port)
{
    long long deadline = probe_now_ms() + PROBE_TIMEOUT_MS;
    char path[128];
    int rc;

    snprintf(path, sizeof(path), "%s/port", dir);
    rc = vmsg_plat_xs_watch(p, path, "port");
    if (rc)
        return rc;
    for (;;) {
        rc = read_u32(p, path, port);
        if (rc != -ENOENT)
            break;
        if (probe_now_ms() >= deadline)
            return -ETIMEDOUT;
        rc = probe_wait_watch(p, (int)(deadline - probe_now_ms()));
        if (rc && rc != -ETIMEDOUT)
            break;
    }
    vmsg_plat_xs_unwatch(p, path, "port");
    return rc;
}

static int count_gntdev_maps(void)
{
    char line[512];
    int n = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "gntdev"))
            n++;
    fclose(f);
    return n;
}

static char front_msg[32];

static bool front_says(void *page)
{
    return !strcmp((char *)page + PLAT_MSG_FRONT, front_msg);
}

/* The sharer's unmap notification: its live byte cleared and a kick. */
static unsigned events_before;

static bool front_unshared(void *page)
{
    return ((char *)page)[PLAT_FRONT_LIVE] == 0 && probe_events > events_before;
}

int main(int argc, char **argv)
{
    struct vmsg_platform *p;
    uint32_t fe, rport, lport, refs[PLAT_PAGES];
    char err[256], dir[96], path[128], *v, *page, *observer;
    void *area, *obs;
    long long deadline;
    int rc, alive;

    probe_name = "plat-back";
    if (argc < 2 || argc > 3 || probe_parse_u32(argv[1], &fe))
        return fprintf(stderr, "usage: vmsg-plat-back <frontend-domid> [<go-file>]\n"), 2;
    rc = vmsg_plat_xen_open(&p, err, sizeof(err));
    if (rc)
        return probe_fail(NULL, "open platform: %s", err);
    alive = vmsg_plat_domain_alive(p, fe);
    if (alive != 1)
        return probe_fail(p, "domain_alive(%u) = %d before the test", fe, alive);

    snprintf(dir, sizeof(dir), "/local/domain/%u/" PLAT_XS_DIR, fe);
    rc = wait_published(p, dir, &rport);
    if (rc)
        return probe_fail(p, "wait for %s/port: %s", dir, strerror(-rc));
    snprintf(path, sizeof(path), "%s/grefs", dir);
    if (vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL))
        return probe_fail(p, "read grefs");
    if (sscanf(v, "%u %u", &refs[0], &refs[1]) != 2)
        return probe_fail(NULL, "grefs '%s' malformed", v);
    free(v);
    probe_log("STEP found grefs %u %u port %u of dom%u", refs[0], refs[1], rport, fe);

    if (vmsg_plat_evtchn_bind_interdomain(p, fe, rport, &lport))
        return probe_fail(p, "bind interdomain");
    if (vmsg_plat_gnttab_map(p, fe, PLAT_PAGES, refs, true, PLAT_BACK_LIVE, lport, &area))
        return probe_fail(p, "map %u grants", PLAT_PAGES);
    if (vmsg_plat_gnttab_map(p, fe, 1, &refs[1], false, VMSG_NOTIFY_NONE, VMSG_NOTIFY_NONE,
                             &obs))
        return probe_fail(p, "map observer");
    page = area;
    observer = obs;
    probe_log("STEP mapped, %d gntdev mappings", count_gntdev_maps());

    snprintf(path, sizeof(path), "PING from dom%u", fe);
    if (strcmp(page + PLAT_MSG_FRONT, path) || page[PLAT_FRONT_LIVE] != 1 ||
        page[PLAT_BACK_LIVE] != 1)
        return probe_fail(NULL, "page 0 says '%.32s', live %d/%d", page + PLAT_MSG_FRONT,
                          page[PLAT_FRONT_LIVE], page[PLAT_BACK_LIVE]);
    probe_log("STEP got '%s' (frontend->backend via grant)", page + PLAT_MSG_FRONT);
    strcpy(page + PLAT_MSG_BACK, "PONG from dom0");
    if (vmsg_plat_evtchn_notify(p, lport))
        return probe_fail(p, "notify PONG");

    snprintf(front_msg, sizeof(front_msg), "DONE from dom%u", fe);
    rc = probe_wait_until(p, PROBE_TIMEOUT_MS, front_says, page);
    if (rc)
        return probe_fail(p, "wait for DONE: %s (page says '%.32s')", strerror(-rc),
                          page + PLAT_MSG_FRONT);
    probe_log("STEP got '%s' (frontend->backend via evtchn)", page + PLAT_MSG_FRONT);
    /* The frontend unshares after BYE: its gntalloc notification must come. */
    events_before = probe_events;
    strcpy(page + PLAT_MSG_BACK, "BYE from dom0");
    if (vmsg_plat_evtchn_notify(p, lport))
        return probe_fail(p, "notify BYE");
    rc = probe_wait_until(p, PROBE_TIMEOUT_MS, front_unshared, page);
    if (rc)
        return probe_fail(p, "wait for the frontend's unmap notification: %s (live byte %d, "
                          "%u events)", strerror(-rc), page[PLAT_FRONT_LIVE],
                          probe_events - events_before);
    probe_log("STEP sharer unmap notification fired: event on port %u, live byte cleared",
              lport);
    probe_log("BACK-EXCHANGED");

    /* The scenario destroys the domU now; we only learn it from xenstore/Xen. */
    if (vmsg_plat_xs_watch(p, "@releaseDomain", "release"))
        return probe_fail(p, "watch @releaseDomain");
    deadline = probe_now_ms() + PROBE_TIMEOUT_MS;
    while ((alive = vmsg_plat_domain_alive(p, fe)) == 1 && probe_now_ms() < deadline)
        probe_wait_watch(p, 1000);
    if (alive != 0)
        return probe_fail(p, "dom%u still alive (%d) after the destroy", fe, alive);
    probe_log("STEP dom%u is gone (domain_alive = 0)", fe);
    probe_log("BACK-SAW-GONE");
    if (argc == 3) {
        deadline = probe_now_ms() + PROBE_TIMEOUT_MS;
        while (access(argv[2], F_OK) != 0 && probe_now_ms() < deadline)
            usleep(100 * 1000);
    }
    probe_log("STEP unmapping");

    if (vmsg_plat_gnttab_unmap(p, area, PLAT_PAGES))
        return probe_fail(p, "unmap");
    if (observer[VMSG_XEN_PAGE_SIZE - 1] != 0)
        return probe_fail(NULL, "our unmap notification did not clear the live byte (%d)",
                          observer[VMSG_XEN_PAGE_SIZE - 1]);
    probe_log("STEP mapper unmap notification fired: live byte cleared (seen via observer)");
    if (vmsg_plat_gnttab_unmap(p, obs, 1))
        return probe_fail(p, "unmap observer");
    vmsg_plat_evtchn_unbind(p, lport);
    rc = count_gntdev_maps();
    if (rc != 0)
        return probe_fail(NULL, "%d gntdev mappings left in /proc/self/maps", rc);
    probe_log("STEP no gntdev mapping left");
    vmsg_plat_close(p);
    probe_log("BACK-OK");
    return 0;
}
