/*
 * tests/system/progs/plat_probe.h: what the "platform" scenario's two
 * programs agree on: where the frontend publishes its grants and port, and
 * the layout of the two shared pages.
 */
#ifndef VMSG_PLAT_PROBE_H
#define VMSG_PLAT_PROBE_H

/* Under the frontend's home, /local/domain/<fe>/ (writable by the domU). */
#define PLAT_XS_DIR "data/vmsg-probe"

#define PLAT_PAGES 2u
/* Page 0: frontend -> backend text. Page 1: backend -> frontend text. */
#define PLAT_MSG_FRONT 0u
#define PLAT_MSG_BACK VMSG_XEN_PAGE_SIZE
/* Live bytes, cleared by the unmap notifications of either side. */
#define PLAT_FRONT_LIVE (VMSG_XEN_PAGE_SIZE - 1)          /* gntshr side */
#define PLAT_BACK_LIVE (2 * VMSG_XEN_PAGE_SIZE - 1)       /* gnttab side */

#endif
