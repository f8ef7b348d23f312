/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The channel page of a bus instance, frontend side
 * (docs/protocol.md 4: the libxenvchan layout, this side the server).
 *
 * Owns: the page, its layout, our private copies of the ring sizes and of
 * the indices we write (left.cons, right.prod), whole-message writes into
 * the right ring and whole-message reads out of the left ring, and the
 * notify bytes. It does not know what the messages say, nor how the peer
 * is kicked: each call says whether a kick is owed.
 *
 * The peer writes left.prod, right.cons, cli_live and srv_notify at any
 * time: each is read once per use, checked, and only then used. A
 * message is copied out of the ring before anything in it is looked at.
 * Locking: one sender at a time (the caller's lock), one reader at a time.
 */
#ifndef VMSG_CHAN_H
#define VMSG_CHAN_H

#include <linux/bits.h>
#include <linux/types.h>

#define VMSG_CHAN_LEFT_ORDER	10	/* backend -> frontend */
#define VMSG_CHAN_RIGHT_ORDER	11	/* frontend -> backend */
#define VMSG_CHAN_NOTIFY_WRITE	BIT(0)
#define VMSG_CHAN_NOTIFY_READ	BIT(1)

/* cli_live: the backend's liveness byte. */
#define VMSG_CHAN_LIVE_GONE	0
#define VMSG_CHAN_LIVE_UP	1
#define VMSG_CHAN_LIVE_WAITING	2

struct vmsg_chan_shared {
	__le32 left_cons;
	__le32 left_prod;
	__le32 right_cons;
	__le32 right_prod;
	__le16 left_order;
	__le16 right_order;
	u8 cli_live;
	u8 srv_live;
	u8 cli_notify;
	u8 srv_notify;
} __packed;

struct vmsg_chan {
	struct vmsg_chan_shared *shr;	/* the first 4 KiB of a kernel page */
	u8 *left, *right;		/* ring bases in the page */
	u32 left_cons;			/* private copies: the peer cannot move them */
	u32 right_prod;
	u32 max_msg_size;		/* effective maximum (protocol.md 2.4) */
};

/* Allocate a zeroed page for the channel; 0 or -ENOMEM. */
int vmsg_chan_alloc(struct vmsg_chan *c);
void vmsg_chan_free(struct vmsg_chan *c);
/* Lay the page out for a new connection (indices 0, orders, live bytes). */
void vmsg_chan_reset(struct vmsg_chan *c, u32 max_msg_size);

/*
 * Write one whole message. 0 written (*kick: the peer asked to be told);
 * -EAGAIN no room (NOTIFY_READ is set: the peer kicks us when it has read);
 * -EPROTO the peer's right.cons is impossible (the channel is broken).
 */
int vmsg_chan_send(struct vmsg_chan *c, const void *msg, size_t len, bool *kick);

/*
 * Read one whole message into buf (VMSG_KBUS_MSG_MAX bytes). Returns its
 * length; 0 if none is complete (NOTIFY_WRITE is then set, and the ring
 * re-checked, so a message written meanwhile is not missed); -EPROTO on a
 * framing error (impossible left.prod, msg_size below 8 or above the
 * maximum): nothing later in the ring can be trusted. *kick as for send.
 */
int vmsg_chan_recv(struct vmsg_chan *c, void *buf, bool *kick);

/* The backend's liveness byte, read once. */
u8 vmsg_chan_peer_live(struct vmsg_chan *c);
/* Say we are gone (srv_live 0) before unsharing the page. */
void vmsg_chan_leave(struct vmsg_chan *c);

#endif
