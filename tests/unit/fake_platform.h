/*
 * tests/unit/fake_platform.h: an in-process fake of lib/xen/platform for
 * unit tests (never linked into a shipped binary).
 *
 * One struct fake_xen is a whole machine: domains, their event channels,
 * grant tables and one xenstore. Each fake_platform_open() is one process of
 * one domain, with the same semantics as the real platform on Xen:
 * - event channels: per-domain ports; a fired port is masked until unmasked
 *   and kicks meanwhile are latched; the fd is a real pipe, so poll() works;
 *   binding an interdomain port fires it once (Xen does, in case a kick was
 *   lost); closing one end leaves the other unbound (kicks are dropped).
 * - grants: shared pages are memfd pages mapped a second time (at another
 *   address) by the mapper; unmap notifications clear the byte and kick the
 *   port when the sharer unshares or the mapper unmaps, and when either
 *   process closes its handle.
 * - xenstore: Xen's permission rules (owner, n/r/w/b per domain, dom0 may do
 *   anything, new nodes inherit the parent's list and an unprivileged creator
 *   becomes the owner, errors from missing nodes are EACCES when the caller
 *   may not see the parent); watches fire on the node and below, once on
 *   registration, only for readers; transactions fail with EAGAIN when a
 *   node they touched changed meanwhile.
 * A destroyed domain (fake_xen_destroy_domain) behaves as after `xl
 * destroy`: no notification from its side (its kernel is gone), its ports
 * close, its grants stay valid while others map them, its xenstore home goes
 * and @releaseDomain fires.
 */
#ifndef VMSG_FAKE_PLATFORM_H
#define VMSG_FAKE_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "xen/platform.h"

struct fake_xen;

/* A machine with dom0 running and a xenstore with / , /local/domain/0. */
struct fake_xen *fake_xen_new(void);

/* Free the machine. Every platform opened on it must be closed first. */
void fake_xen_free(struct fake_xen *fx);

/*
 * Create domain `domid` as libxl does: /local/domain/<id> ("n0 r<id>") with
 * domid and name, and device/ and data/ owned by the domain. -EEXIST if it
 * exists.
 */
int fake_xen_add_domain(struct fake_xen *fx, uint32_t domid, const char *name);

/* `xl destroy`: see above. -ESRCH if there is no such live domain. */
int fake_xen_destroy_domain(struct fake_xen *fx, uint32_t domid);

/*
 * Whether a destroyed domain is fully released by Xen: true once no other
 * domain maps any of its grants (before that it is a "zombie").
 */
bool fake_xen_domain_released(struct fake_xen *fx, uint32_t domid);

/* How many grant-mapped pages domain `domid` holds, and how many it shares. */
unsigned fake_xen_mapped_pages(struct fake_xen *fx, uint32_t domid);
unsigned fake_xen_shared_pages(struct fake_xen *fx, uint32_t domid);

/* Open a platform handle as a process in live domain `domid`. 0 or -errno. */
int fake_platform_open(struct fake_xen *fx, uint32_t domid, struct vmsg_platform **out);

#endif
