// SPDX-License-Identifier: GPL-2.0
/*
 * Whole messages through the channel page. See vmsg_chan.h.
 *
 * Barriers follow docs/protocol.md 4.2 and 4.5 (and libxenvchan's io.c):
 * virt_* because the peer is another domain, not another CPU of ours.
 */
#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/barrier.h>

#include "vmsg_chan.h"
#include "vmsg_wire.h"

#define LEFT_SIZE	BIT(VMSG_CHAN_LEFT_ORDER)
#define RIGHT_SIZE	BIT(VMSG_CHAN_RIGHT_ORDER)

int vmsg_chan_alloc(struct vmsg_chan *c)
{
	void *page = (void *)get_zeroed_page(GFP_KERNEL);

	if (!page)
		return -ENOMEM;
	c->shr = page;
	/* An order-n ring sits at page offset 2^n (protocol.md 4.1). */
	c->left = (u8 *)page + LEFT_SIZE;
	c->right = (u8 *)page + RIGHT_SIZE;
	return 0;
}

void vmsg_chan_free(struct vmsg_chan *c)
{
	free_page((unsigned long)c->shr);
	c->shr = NULL;
}

void vmsg_chan_reset(struct vmsg_chan *c, u32 max_msg_size)
{
	memset(c->shr, 0, 4096);
	c->shr->left_order = cpu_to_le16(VMSG_CHAN_LEFT_ORDER);
	c->shr->right_order = cpu_to_le16(VMSG_CHAN_RIGHT_ORDER);
	c->shr->cli_live = VMSG_CHAN_LIVE_WAITING;
	c->shr->srv_live = 1;
	c->shr->cli_notify = VMSG_CHAN_NOTIFY_WRITE;
	c->left_cons = 0;
	c->right_prod = 0;
	c->max_msg_size = min_t(u32, max_msg_size, LEFT_SIZE);
}

/* Atomic byte operations on the notify bytes, which both sides change. */
static void notify_set(u8 *byte, u8 bit)
{
	u8 old = READ_ONCE(*byte);

	for (;;) {
		u8 seen = cmpxchg(byte, old, old | bit);

		if (seen == old)
			return;
		old = seen;
	}
}

static bool notify_test_and_clear(u8 *byte, u8 bit)
{
	u8 old = READ_ONCE(*byte);

	for (;;) {
		u8 seen;

		if (!(old & bit))
			return false;
		seen = cmpxchg(byte, old, old & ~bit);
		if (seen == old)
			return true;
		old = seen;
	}
}

static void ring_copy_in(u8 *ring, u32 size, u32 idx, const void *src, size_t len)
{
	u32 off = idx & (size - 1);
	size_t first = min_t(size_t, len, size - off);

	memcpy(ring + off, src, first);
	memcpy(ring, src + first, len - first);
}

static void ring_copy_out(const u8 *ring, u32 size, u32 idx, void *dst, size_t len)
{
	u32 off = idx & (size - 1);
	size_t first = min_t(size_t, len, size - off);

	memcpy(dst, ring + off, first);
	memcpy(dst + first, ring, len - first);
}

int vmsg_chan_send(struct vmsg_chan *c, const void *msg, size_t len, bool *kick)
{
	u32 cons, used;

	*kick = false;
	cons = le32_to_cpu(READ_ONCE(c->shr->right_cons));
	used = c->right_prod - cons;
	if (used > RIGHT_SIZE)
		return -EPROTO;
	if (RIGHT_SIZE - used < len) {
		/* Full: ask for a kick when it reads, then look once more. */
		notify_set(&c->shr->cli_notify, VMSG_CHAN_NOTIFY_READ);
		/* The request is visible before we look at cons again. */
		virt_mb();
		cons = le32_to_cpu(READ_ONCE(c->shr->right_cons));
		used = c->right_prod - cons;
		if (used > RIGHT_SIZE)
			return -EPROTO;
		if (RIGHT_SIZE - used < len)
			return -EAGAIN;
	}
	/* The peer's consumption is seen before we overwrite what it read. */
	virt_mb();
	ring_copy_in(c->right, RIGHT_SIZE, c->right_prod, msg, len);
	/* The bytes before the index that publishes them. */
	virt_wmb();
	c->right_prod += len;
	WRITE_ONCE(c->shr->right_prod, cpu_to_le32(c->right_prod));
	/* The index before the look at the notify byte. */
	virt_mb();
	*kick = notify_test_and_clear(&c->shr->srv_notify, VMSG_CHAN_NOTIFY_WRITE);
	return 0;
}

static int chan_recv_once(struct vmsg_chan *c, void *buf)
{
	struct vmsg_hdr *hdr = buf;
	u32 prod, avail, size;

	prod = le32_to_cpu(READ_ONCE(c->shr->left_prod));
	avail = prod - c->left_cons;
	if (avail > LEFT_SIZE)
		return -EPROTO;
	if (avail < VMSG_HEADER_SIZE)
		return 0;
	/* The index before the bytes it covers. */
	virt_rmb();
	ring_copy_out(c->left, LEFT_SIZE, c->left_cons, hdr, VMSG_HEADER_SIZE);
	/* Our copy's msg_size is the one checked and the one used. */
	size = le16_to_cpu(hdr->msg_size);
	if (size < VMSG_HEADER_SIZE || size > c->max_msg_size)
		return -EPROTO;
	if (avail < size)
		return 0;	/* a peer may publish a message in pieces */
	ring_copy_out(c->left, LEFT_SIZE, c->left_cons + VMSG_HEADER_SIZE,
		      (u8 *)buf + VMSG_HEADER_SIZE, size - VMSG_HEADER_SIZE);
	return size;
}

int vmsg_chan_recv(struct vmsg_chan *c, void *buf, bool *kick)
{
	int len;

	*kick = false;
	len = chan_recv_once(c, buf);
	if (len == 0) {
		/* Empty: ask for a kick on the next write, then look again. */
		notify_set(&c->shr->cli_notify, VMSG_CHAN_NOTIFY_WRITE);
		/* The request is visible before we look at prod again. */
		virt_mb();
		len = chan_recv_once(c, buf);
	}
	if (len <= 0)
		return len;
	/* Our copy is done before the peer may reuse the bytes. */
	virt_mb();
	c->left_cons += len;
	WRITE_ONCE(c->shr->left_cons, cpu_to_le32(c->left_cons));
	/* The index before the look at the notify byte. */
	virt_mb();
	*kick = notify_test_and_clear(&c->shr->srv_notify, VMSG_CHAN_NOTIFY_READ);
	return len;
}

u8 vmsg_chan_peer_live(struct vmsg_chan *c)
{
	return READ_ONCE(c->shr->cli_live);
}

void vmsg_chan_leave(struct vmsg_chan *c)
{
	WRITE_ONCE(c->shr->srv_live, 0);
	/* Seen before the kick and the unsharing that follow. */
	virt_wmb();
}
