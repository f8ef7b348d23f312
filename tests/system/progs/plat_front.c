/*
 * vmsg-plat-front: the domU half of the "platform" system scenario.
 *
 * Shares two pages with the backend domain (gntshr, with an unmap
 * notification), allocates an unbound event channel for it, publishes both
 * in xenstore in one transaction, then exchanges text both ways and finally
 * unshares, which must reach the backend as an unmap notification.
 *
 * usage: vmsg-plat-front <backend-domid>
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plat_probe.h"
#include "probe.h"

struct publish {
    uint32_t refs[PLAT_PAGES];
    uint32_t port;
};

static int publish_body(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    const struct publish *pub = arg;
    int rc;

    rc = vmsg_plat_xs_printf(p, tx, PLAT_XS_DIR "/grefs", "%u %u", pub->refs[0], pub->refs[1]);
    if (rc)
        return rc;
    return vmsg_plat_xs_printf(p, tx, PLAT_XS_DIR "/port", "%u", pub->port);
}

static const char *back_msg;

static bool back_says(void *page)
{
    return !strcmp((char *)page + PLAT_MSG_BACK, back_msg);
}

int main(int argc, char **argv)
{
    struct vmsg_platform *p;
    struct publish pub;
    char err[256], *page;
    void *area;
    uint32_t be, me;
    int rc;

    probe_name = "plat-front";
    if (argc != 2 || probe_parse_u32(argv[1], &be))
        return fprintf(stderr, "usage: vmsg-plat-front <backend-domid>\n"), 2;
    rc = vmsg_plat_xen_open(&p, err, sizeof(err));
    if (rc)
        return probe_fail(NULL, "open platform: %s", err);
    if (vmsg_plat_own_domid(p, &me))
        return probe_fail(p, "own domid");
    probe_log("I am dom%u, backend dom%u", me, be);

    if (vmsg_plat_evtchn_bind_unbound(p, be, &pub.port))
        return probe_fail(p, "bind unbound port");
    if (vmsg_plat_gntshr_share(p, be, PLAT_PAGES, true, PLAT_FRONT_LIVE, pub.port, pub.refs,
                               &area))
        return probe_fail(p, "share %u pages", PLAT_PAGES);
    page = area;
    page[PLAT_FRONT_LIVE] = 1;
    page[PLAT_BACK_LIVE] = 1;
    snprintf(page + PLAT_MSG_FRONT, 64, "PING from dom%u", me);
    rc = vmsg_plat_xs_transaction(p, 0, publish_body, &pub);
    if (rc)
        return probe_fail(p, "publish in xenstore");
    probe_log("STEP shared grefs %u %u, port %u, published", pub.refs[0], pub.refs[1], pub.port);

    back_msg = "PONG from dom0";
    rc = probe_wait_until(p, PROBE_TIMEOUT_MS, back_says, page);
    if (rc)
        return probe_fail(p, "wait for PONG: %s (page says '%.32s')", strerror(-rc),
                          page + PLAT_MSG_BACK);
    probe_log("STEP got '%s' (backend->frontend via grant + evtchn)", page + PLAT_MSG_BACK);

    snprintf(page + PLAT_MSG_FRONT, 64, "DONE from dom%u", me);
    if (vmsg_plat_evtchn_notify(p, pub.port))
        return probe_fail(p, "notify DONE");
    back_msg = "BYE from dom0";
    rc = probe_wait_until(p, PROBE_TIMEOUT_MS, back_says, page);
    if (rc)
        return probe_fail(p, "wait for BYE: %s (page says '%.32s')", strerror(-rc),
                          page + PLAT_MSG_BACK);
    probe_log("STEP got '%s'", page + PLAT_MSG_BACK);

    /* The backend expects this to clear the live byte and kick it. */
    if (vmsg_plat_gntshr_unshare(p, area, PLAT_PAGES))
        return probe_fail(p, "unshare");
    probe_log("FRONT-OK exchanged both ways, unshared");
    vmsg_plat_close(p);
    return 0;
}
