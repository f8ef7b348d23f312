/*
 * vmsg-xs-perms: the domU half of the "xenstore-perms" system scenario.
 *
 * Checks, from an unprivileged domain, the xenstore permission rules the
 * Xen bus relies on (DESIGN.md 3.1): a domU reads and writes its own
 * directory, reads but cannot change a backend directory made readable for
 * it, and cannot write into another domain's directory. dom0 prepares
 * (with libxl's permissions, before unpausing the domU):
 *   /local/domain/0/backend/vmsg-test/<me>/0        "n0 r<me>", state = 1
 *   /local/domain/<me>/device/vmsg-test/0           "n<me> r0"
 *
 * usage: vmsg-xs-perms
 * Prints one "CHECK ok|FAIL" line per rule and PERMS-OK when all hold.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

static int failures;

static void check(bool ok, const char *what, int rc)
{
    if (!ok)
        failures++;
    probe_log("CHECK %s %s (rc %d %s)", ok ? "ok  " : "FAIL", what, rc,
              rc ? strerror(-rc) : "");
}

static bool denied(int rc)
{
    return rc == -EACCES || rc == -EPERM;
}

static int tx_body(struct vmsg_platform *p, uint32_t tx, void *arg)
{
    char *v;
    int rc = vmsg_plat_xs_read(p, tx, arg, &v, NULL);

    if (rc)
        return rc;
    free(v);
    return vmsg_plat_xs_write(p, tx, arg, "3", 1);
}

int main(void)
{
    struct vmsg_platform *p;
    struct vmsg_xs_perm *perms, mine[2];
    char err[256], be[96], fe[96], path[160], *v, **names;
    unsigned n;
    uint32_t me;
    int rc;

    probe_name = "xs-perms";
    rc = vmsg_plat_xen_open(&p, err, sizeof(err));
    if (rc)
        return probe_fail(NULL, "open platform: %s", err);
    rc = vmsg_plat_own_domid(p, &me);
    check(rc == 0 && me != 0, "own domid is a domU id", rc);
    if (rc)
        return probe_fail(p, "own domid");
    snprintf(be, sizeof(be), "/local/domain/0/backend/vmsg-test/%u/0", me);
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vmsg-test/0", me);

    /* Own directory. */
    rc = vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, "name", &v, NULL);
    check(rc == 0, "read own name (relative path)", rc);
    if (!rc) {
        probe_log("own name is '%s'", v);
        free(v);
    }
    /* vmsgctl watch picks /etc/xen/NAME.cfg by this node (tools/vmsgctl_xl.c). */
    rc = vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, "name", "renamed-by-guest", 16);
    check(denied(rc), "rewrite own name is denied", rc);
    rc = vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, "data/perm-test", "hello", 5);
    check(rc == 0, "write own data/perm-test", rc);
    snprintf(path, sizeof(path), "/local/domain/%u/data/perm-test", me);
    rc = vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL);
    check(rc == 0 && !strcmp(v, "hello"), "read it back by absolute path", rc);
    free(v);
    rc = vmsg_plat_xs_directory(p, VMSG_XS_TX_NONE, "data", &names, &n);
    check(rc == 0 && n >= 1, "list own data/", rc);
    free(names);
    rc = vmsg_plat_domain_alive(p, 0);
    check(rc == -ENOSYS, "domain_alive degrades to -ENOSYS in a domU", rc);

    /* Another domain's directory. */
    rc = vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, "/local/domain/0/data/intruder", "x", 1);
    check(denied(rc), "write into dom0's data/ is denied", rc);
    rc = vmsg_plat_xs_mkdir(p, VMSG_XS_TX_NONE, "/local/domain/0/intruder");
    check(denied(rc), "mkdir in dom0's directory is denied", rc);
    rc = vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, "/local/domain/0/name", &v, NULL);
    check(denied(rc), "read dom0's name is denied", rc);
    if (!rc)
        free(v);

    /* The backend directory dom0 made readable for us. */
    snprintf(path, sizeof(path), "%s/state", be);
    rc = vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL);
    check(rc == 0 && !strcmp(v, "1"), "read backend state", rc);
    if (!rc)
        free(v);
    rc = vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, path, "4", 1);
    check(denied(rc), "write backend state is denied", rc);
    snprintf(path, sizeof(path), "%s/intruder", be);
    rc = vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, path, "x", 1);
    check(denied(rc), "create a node in the backend dir is denied", rc);
    snprintf(path, sizeof(path), "%s/state", be);
    rc = vmsg_plat_xs_rm(p, VMSG_XS_TX_NONE, path);
    check(denied(rc), "rm backend state is denied", rc);
    mine[0] = (struct vmsg_xs_perm){ .domid = me, .perms = VMSG_XS_PERM_NONE };
    rc = vmsg_plat_xs_set_perms(p, VMSG_XS_TX_NONE, be, mine, 1);
    check(denied(rc), "take ownership of the backend dir is denied", rc);
    rc = vmsg_plat_xs_get_perms(p, VMSG_XS_TX_NONE, be, &perms, &n);
    check(rc == 0 && n >= 2 && perms[0].domid == 0 && perms[0].perms == VMSG_XS_PERM_NONE,
          "backend dir perms read as owner 0, others none", rc);
    free(perms);

    /* Our frontend directory: writable, children inherit its perms. */
    snprintf(path, sizeof(path), "%s/ring-ref", fe);
    rc = vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, path, "8", 1);
    check(rc == 0, "write frontend ring-ref", rc);
    rc = vmsg_plat_xs_get_perms(p, VMSG_XS_TX_NONE, path, &perms, &n);
    check(rc == 0 && n == 2 && perms[0].domid == me && perms[1].domid == 0 &&
              perms[1].perms == VMSG_XS_PERM_READ,
          "new node inherits n<me> r0", rc);
    if (!rc) {
        char s[64];
        vmsg_xs_perms_format(perms, n, s, sizeof(s));
        probe_log("ring-ref perms '%s'", s);
        free(perms);
    }
    snprintf(path, sizeof(path), "%s/state", fe);
    rc = vmsg_plat_xs_transaction(p, 0, tx_body, path);
    check(rc == 0, "transaction read+write of frontend state", rc);
    rc = vmsg_plat_xs_watch(p, path, "fe-state");
    if (!rc)
        rc = probe_wait_watch(p, 10000);
    check(rc == 0, "watch fires once on registration", rc);

    if (failures)
        return probe_fail(NULL, "%d checks failed", failures);
    vmsg_plat_close(p);
    probe_log("PERMS-OK");
    return 0;
}
