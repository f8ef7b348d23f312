/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-msg v1 messages the driver side sends and
 * receives, as packed little-endian structures (docs/protocol.md names the
 * layout; lib/proto/vmsg_layout_v1.c is the same table for userspace).
 *
 * Owns: header and payload layouts, message IDs, the fixed payload size of
 * every response the driver accepts. No code: the transport validates.
 */
#ifndef VMSG_WIRE_H
#define VMSG_WIRE_H

#include <linux/types.h>

#define VMSG_HEADER_SIZE		8
#define VMSG_MIN_MAX_MSG_SIZE		48
#define VMSG_RECOMMENDED_MAX_MSG_SIZE	264

#define VMSG_TYPE_RESPONSE		0x01
#define VMSG_TYPE_BUS			0x02

#define VMSG_ID_EVENT_BIT		0x40

/* Transport messages. */
#define VMSG_GET_DEVICE_INFO		0x02
#define VMSG_GET_DEVICE_FEATURES	0x03
#define VMSG_SET_DRIVER_FEATURES	0x04
#define VMSG_GET_CONFIG			0x05
#define VMSG_SET_CONFIG			0x06
#define VMSG_GET_DEVICE_STATUS		0x07
#define VMSG_SET_DEVICE_STATUS		0x08
#define VMSG_GET_VQUEUE			0x09
#define VMSG_SET_VQUEUE			0x0a
#define VMSG_RESET_VQUEUE		0x0b
#define VMSG_EVENT_CONFIG		0x40
#define VMSG_EVENT_AVAIL		0x41
#define VMSG_EVENT_USED			0x42

/* Bus messages (dev_num 0). */
#define VMSG_BUS_GET_DEVICES		0x02
#define VMSG_BUS_PING			0x03
#define VMSG_BUS_EVENT_DEVICE		0x40

#define VMSG_DEVICE_BUS_STATE_READY	0x0001
#define VMSG_DEVICE_BUS_STATE_REMOVED	0x0002

struct vmsg_hdr {
	u8 type;
	u8 msg_id;
	__le16 dev_num;
	__le16 token;
	__le16 msg_size;
} __packed;

struct vmsg_device_info_resp {
	__le32 device_id;
	__le32 vendor_id;
	__le32 num_feature_bits;
	__le32 config_size;
	__le32 max_virtqueues;
	__le16 admin_vq_start;
	__le16 admin_vq_count;
} __packed;

struct vmsg_features {		/* GET_DEVICE_FEATURES (req: no tail), SET_DRIVER_FEATURES */
	__le32 block_index;
	__le32 num_blocks;
	__le32 features[];
} __packed;

struct vmsg_config_req {	/* GET_CONFIG request */
	__le32 offset;
	__le32 length;
} __packed;

struct vmsg_config_data {	/* GET_CONFIG response, SET_CONFIG request and response */
	__le32 generation;
	__le32 offset;
	__le32 length;
	u8 data[];
} __packed;

struct vmsg_status {
	__le32 status;
} __packed;

struct vmsg_vqueue_index {	/* GET_VQUEUE, RESET_VQUEUE requests */
	__le32 index;
} __packed;

struct vmsg_vqueue_info {	/* GET_VQUEUE response */
	__le32 index;
	__le32 max_size;
	__le32 cur_size;
	__le32 reserved;
	__le64 desc_addr;
	__le64 driver_addr;
	__le64 device_addr;
} __packed;

struct vmsg_vqueue_setup {	/* SET_VQUEUE request */
	__le32 index;
	__le32 reserved0;
	__le32 size;
	__le32 reserved1;
	__le64 desc_addr;
	__le64 driver_addr;
	__le64 device_addr;
} __packed;

struct vmsg_event_config {
	__le32 device_status;
	__le32 generation;
	__le32 offset;
	__le32 length;
	u8 data[];
} __packed;

struct vmsg_event_avail {
	__le32 vq_index;
	__le32 next_offset;
} __packed;

struct vmsg_event_used {
	__le32 vq_index;
} __packed;

struct vmsg_get_devices_req {
	__le16 offset;
	__le16 count;
} __packed;

struct vmsg_get_devices_resp {
	__le16 offset;
	__le16 count;
	__le16 next_offset;
	u8 bitmap[];
} __packed;

struct vmsg_event_device {
	__le16 device_number;
	__le16 device_bus_state;
} __packed;

#endif
