/*
 * lib/proto/vmsg_proto.h: the virtio-msg wire formats.
 *
 * Owns: message IDs and names, the decoded C form of every transport and bus
 * message of the January 2026 v1 layout, little-endian encode and decode, and
 * the validator that says exactly why a message is malformed. No I/O and no
 * allocation: a decoded message points into the caller's buffer for its
 * variable part, so that buffer must be a private copy (never shared memory
 * the peer can still write: that would be a double fetch).
 *
 * Every wire layout lives in one table (vmsg_layout_v1.c); a post-v1 table
 * can be added next to it and chosen with struct vmsg_wire.layout.
 */
#ifndef VMSG_PROTO_H
#define VMSG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMSG_HEADER_SIZE 8u

/* Header `type` bits. Bits 2..7 are reserved: sent as 0, ignored on receive. */
#define VMSG_TYPE_RESPONSE      0x01u
#define VMSG_TYPE_BUS           0x02u
#define VMSG_TYPE_RESERVED_MASK 0xfcu

/* msg_id ranges, the same in both namespaces. */
#define VMSG_ID_EVENT_BIT   0x40u /* 0x40-0x7f, 0xc0-0xff: events, no response */
#define VMSG_ID_IMPL_BIT    0x80u /* 0x80-0xff: implementation (bus) defined */

/* Maximum message size (header included) a bus may advertise. v1 allows
 * 44..65536, but msg_size is a le16 and the v1 GET_VQUEUE response and
 * SET_VQUEUE request are 48 bytes, so 48 is the smallest size that carries
 * every v1 message; 264 is the spec's recommended value. */
#define VMSG_V1_MIN_MAX_MSG_SIZE       44u
#define VMSG_V1_USABLE_MIN_MSG_SIZE    48u
#define VMSG_RECOMMENDED_MAX_MSG_SIZE  264u
#define VMSG_LIMIT_MAX_MSG_SIZE        65535u

/* Transport message IDs (type bit1 = 0). */
enum vmsg_transport_id {
    VMSG_GET_DEVICE_INFO     = 0x02,
    VMSG_GET_DEVICE_FEATURES = 0x03,
    VMSG_SET_DRIVER_FEATURES = 0x04,
    VMSG_GET_CONFIG          = 0x05,
    VMSG_SET_CONFIG          = 0x06,
    VMSG_GET_DEVICE_STATUS   = 0x07,
    VMSG_SET_DEVICE_STATUS   = 0x08,
    VMSG_GET_VQUEUE          = 0x09,
    VMSG_SET_VQUEUE          = 0x0a,
    VMSG_RESET_VQUEUE        = 0x0b,
    VMSG_GET_SHM             = 0x0c,
    VMSG_EVENT_CONFIG        = 0x40,
    VMSG_EVENT_AVAIL         = 0x41,
    VMSG_EVENT_USED          = 0x42,
};

/* Bus message IDs (type bit1 = 1, dev_num 0). */
enum vmsg_bus_id {
    VMSG_BUS_GET_DEVICES  = 0x02,
    VMSG_BUS_PING         = 0x03,
    VMSG_BUS_EVENT_DEVICE = 0x40,
};

/* EVENT_DEVICE device_bus_state values (0x8000-0xffff are bus-defined). */
#define VMSG_DEVICE_BUS_STATE_READY   0x0001u
#define VMSG_DEVICE_BUS_STATE_REMOVED 0x0002u

/* virtio device status bits (virtio 1.x, carried as a le32). */
#define VMSG_STATUS_ACKNOWLEDGE        0x01u
#define VMSG_STATUS_DRIVER             0x02u
#define VMSG_STATUS_DRIVER_OK          0x04u
#define VMSG_STATUS_FEATURES_OK        0x08u
#define VMSG_STATUS_DEVICE_NEEDS_RESET 0x40u
#define VMSG_STATUS_FAILED             0x80u

/*
 * Every message shape: one per (namespace, msg_id, request/response/event).
 * The order is the order of the layout table; VMSG_KIND_COUNT ends it.
 */
enum vmsg_kind {
    VMSG_K_GET_DEVICE_INFO_REQ,
    VMSG_K_GET_DEVICE_INFO_RESP,
    VMSG_K_GET_DEVICE_FEATURES_REQ,
    VMSG_K_GET_DEVICE_FEATURES_RESP,
    VMSG_K_SET_DRIVER_FEATURES_REQ,
    VMSG_K_SET_DRIVER_FEATURES_RESP,
    VMSG_K_GET_CONFIG_REQ,
    VMSG_K_GET_CONFIG_RESP,
    VMSG_K_SET_CONFIG_REQ,
    VMSG_K_SET_CONFIG_RESP,
    VMSG_K_GET_DEVICE_STATUS_REQ,
    VMSG_K_GET_DEVICE_STATUS_RESP,
    VMSG_K_SET_DEVICE_STATUS_REQ,
    VMSG_K_SET_DEVICE_STATUS_RESP,
    VMSG_K_GET_VQUEUE_REQ,
    VMSG_K_GET_VQUEUE_RESP,
    VMSG_K_SET_VQUEUE_REQ,
    VMSG_K_SET_VQUEUE_RESP,
    VMSG_K_RESET_VQUEUE_REQ,
    VMSG_K_RESET_VQUEUE_RESP,
    VMSG_K_GET_SHM_REQ,
    VMSG_K_GET_SHM_RESP,
    VMSG_K_EVENT_CONFIG,
    VMSG_K_EVENT_AVAIL,
    VMSG_K_EVENT_USED,
    VMSG_K_BUS_GET_DEVICES_REQ,
    VMSG_K_BUS_GET_DEVICES_RESP,
    VMSG_K_BUS_PING_REQ,
    VMSG_K_BUS_PING_RESP,
    VMSG_K_BUS_EVENT_DEVICE,
    VMSG_KIND_COUNT
};

struct vmsg_header {
    uint8_t type;
    uint8_t msg_id;
    uint16_t dev_num;
    uint16_t token;
    uint16_t msg_size;
};

/*
 * Payloads, field names as in the spec. `features`, `data` and `bitmap`
 * point at the raw little-endian wire bytes of the variable part (for
 * encoding: at bytes the caller prepared in wire order); their length is
 * given by the count or length field, or by vmsg_msg.tail_len for the
 * optional SET_CONFIG response echo.
 */
struct vmsg_device_info {           /* GET_DEVICE_INFO response */
    uint32_t device_id;
    uint32_t vendor_id;
    uint32_t num_feature_bits;
    uint32_t config_size;
    uint32_t max_virtqueues;
    uint16_t admin_vq_start;
    uint16_t admin_vq_count;
};

struct vmsg_feature_blocks {        /* GET_DEVICE_FEATURES, SET_DRIVER_FEATURES */
    uint32_t block_index;
    uint32_t num_blocks;
    const uint8_t *features;        /* num_blocks le32; absent in GET request */
};

struct vmsg_config_range {          /* GET_CONFIG request */
    uint32_t offset;
    uint32_t length;
};

struct vmsg_config_data {           /* GET/SET_CONFIG data-carrying forms */
    uint32_t generation;
    uint32_t offset;
    uint32_t length;
    const uint8_t *data;
};

struct vmsg_status {                /* GET/SET_DEVICE_STATUS */
    uint32_t status;
};

struct vmsg_vqueue_index {          /* GET_VQUEUE, RESET_VQUEUE requests */
    uint32_t index;
};

struct vmsg_vqueue_info {           /* GET_VQUEUE response */
    uint32_t index;
    uint32_t max_size;
    uint32_t cur_size;
    uint32_t reserved;
    uint64_t desc_addr;
    uint64_t driver_addr;
    uint64_t device_addr;
};

struct vmsg_vqueue_setup {          /* SET_VQUEUE request */
    uint32_t index;
    uint32_t reserved0;
    uint32_t size;
    uint32_t reserved1;
    uint64_t desc_addr;
    uint64_t driver_addr;
    uint64_t device_addr;
};

struct vmsg_shm_index {             /* GET_SHM request */
    uint32_t index;
};

struct vmsg_shm_info {              /* GET_SHM response (v1: 32-bit fields) */
    uint32_t index;
    uint32_t length;
    uint32_t address;
};

struct vmsg_event_config {
    uint32_t device_status;
    uint32_t generation;
    uint32_t offset;
    uint32_t length;
    const uint8_t *data;
};

struct vmsg_event_avail {
    uint32_t vq_index;
    uint32_t next_offset;           /* bits 30:0 next_off, bit 31 next_wrap */
};

struct vmsg_event_used {
    uint32_t vq_index;
};

struct vmsg_get_devices_req {
    uint16_t offset;
    uint16_t count;
};

struct vmsg_get_devices_resp {
    uint16_t offset;
    uint16_t count;
    uint16_t next_offset;
    const uint8_t *bitmap;          /* count / 8 bytes, LSB first */
};

struct vmsg_ping {
    uint32_t data;
};

struct vmsg_event_device {
    uint16_t device_number;
    uint16_t device_bus_state;
};

/* A decoded message. `kind` selects the union member named after it. */
struct vmsg_msg {
    enum vmsg_kind kind;
    struct vmsg_header hdr;
    uint32_t tail_len;              /* bytes of the variable part */
    union {
        struct vmsg_device_info get_device_info_resp;
        struct vmsg_feature_blocks get_device_features_req;
        struct vmsg_feature_blocks get_device_features_resp;
        struct vmsg_feature_blocks set_driver_features_req;
        struct vmsg_config_range get_config_req;
        struct vmsg_config_data get_config_resp;
        struct vmsg_config_data set_config_req;
        struct vmsg_config_data set_config_resp;
        struct vmsg_status get_device_status_resp;
        struct vmsg_status set_device_status_req;
        struct vmsg_status set_device_status_resp;
        struct vmsg_vqueue_index get_vqueue_req;
        struct vmsg_vqueue_info get_vqueue_resp;
        struct vmsg_vqueue_setup set_vqueue_req;
        struct vmsg_vqueue_index reset_vqueue_req;
        struct vmsg_shm_index get_shm_req;
        struct vmsg_shm_info get_shm_resp;
        struct vmsg_event_config event_config;
        struct vmsg_event_avail event_avail;
        struct vmsg_event_used event_used;
        struct vmsg_get_devices_req get_devices_req;
        struct vmsg_get_devices_resp get_devices_resp;
        struct vmsg_ping ping_req;
        struct vmsg_ping ping_resp;
        struct vmsg_event_device event_device;
    } u;
};

/* Which layout table and which limits a bus instance uses. */
enum vmsg_layout_version {
    VMSG_LAYOUT_V1 = 1,             /* January 2026 PATCH v1 */
};

struct vmsg_wire {
    enum vmsg_layout_version layout;
    uint32_t max_msg_size;          /* header included, both directions */
};

/* Why a message was refused. VMSG_OK is 0; the others are positive. */
enum vmsg_verdict {
    VMSG_OK = 0,
    VMSG_E_SHORT,           /* fewer bytes than the 8-byte header */
    VMSG_E_SIZE_MISMATCH,   /* msg_size differs from the bytes received */
    VMSG_E_SIZE_UNDER_HEADER, /* msg_size < 8 */
    VMSG_E_SIZE_OVER_MAX,   /* msg_size above the bus maximum */
    VMSG_E_UNKNOWN_ID,      /* no such msg_id in this namespace */
    VMSG_E_EVENT_RESPONSE,  /* an event ID with the response bit set */
    VMSG_E_PAYLOAD_SIZE,    /* payload length wrong for this message */
    VMSG_E_TAIL_SIZE,       /* variable part disagrees with its count field */
    VMSG_E_RESERVED,        /* reserved bits or fields non-zero (strict only) */
    VMSG_E_FIELD_RANGE,     /* a field outside what the spec allows */
    VMSG_VERDICT_COUNT
};

/*
 * Details of a refusal: the verdict plus a human sentence naming the field
 * and values. Reserved bits set by the sender are not an error on receive
 * (the spec says ignore them); they are recorded in `ignored` so logs and
 * `vmsgctl decode` can still show them.
 */
struct vmsg_problem {
    enum vmsg_verdict verdict;
    char reason[160];
    char ignored[160];      /* "" or what was ignored (reserved bits) */
};

/* Flags for vmsg_decode(). */
#define VMSG_DECODE_STRICT 0x1u /* reserved bits/fields non-zero are errors */

/*
 * Decode and validate the `len` bytes at `buf` (one whole message).
 * Returns VMSG_OK and fills *out, or a verdict and fills *why (if non-NULL)
 * with the reason. *out's pointers reference `buf`.
 */
enum vmsg_verdict vmsg_decode(const struct vmsg_wire *wire, const void *buf,
                              size_t len, unsigned flags, struct vmsg_msg *out,
                              struct vmsg_problem *why);

/*
 * Encode *m into buf (capacity cap). The type bits, msg_id and msg_size come
 * from m->kind and the payload; m->hdr.dev_num and m->hdr.token are used as
 * given (bus messages always get dev_num 0). Reserved bits are written as 0.
 * Returns the message length, -ENOSPC if cap is too small, -EMSGSIZE if the
 * message exceeds wire->max_msg_size, -EINVAL if *m is inconsistent (unknown
 * kind, a tail length that disagrees with its count, a missing tail pointer).
 */
int vmsg_encode(const struct vmsg_wire *wire, const struct vmsg_msg *m,
                void *buf, size_t cap);

/* Look at just the header (no validation); false if len < 8. */
bool vmsg_peek_header(const void *buf, size_t len, struct vmsg_header *out);

/* Names for logs and JSON. Never NULL ("UNKNOWN" for unknown values). */
const char *vmsg_kind_name(enum vmsg_kind kind);      /* "GET_CONFIG" */
const char *vmsg_kind_role(enum vmsg_kind kind);      /* request|response|event */
const char *vmsg_id_name(bool bus, uint8_t msg_id);   /* "GET_CONFIG", "PING" */
const char *vmsg_verdict_name(enum vmsg_verdict v);   /* "size-mismatch" */
const char *vmsg_status_bit_name(uint32_t bit);       /* "DRIVER_OK" */
bool vmsg_kind_is_bus(enum vmsg_kind kind);

/* The kind of message a request kind is answered with, or VMSG_KIND_COUNT
 * for events. */
enum vmsg_kind vmsg_response_kind(enum vmsg_kind request);

/*
 * The field table of a message kind, for generic printers (vmsgctl decode):
 * vmsg_layout_field() returns the i-th fixed field or NULL past the end.
 */
struct vmsg_field_view {
    const char *name;
    uint8_t wire_size;      /* 2, 4 or 8 (1 for none yet) */
    bool reserved;
    uint64_t value;
};
struct vmsg_tail_view {
    const char *name;       /* NULL if the message has no variable part */
    uint8_t elem_size;      /* 4 for feature blocks, 1 for bytes */
    const uint8_t *bytes;
    uint32_t len;
};
bool vmsg_layout_field(const struct vmsg_wire *wire, const struct vmsg_msg *m,
                       unsigned i, struct vmsg_field_view *out);
void vmsg_layout_tail(const struct vmsg_wire *wire, const struct vmsg_msg *m,
                      struct vmsg_tail_view *out);

/* Per-message capacity of the variable part under a bus maximum. */
static inline uint32_t vmsg_max_feature_blocks(uint32_t max_msg_size)
{
    return (max_msg_size - VMSG_HEADER_SIZE - 8) / 4;
}
static inline uint32_t vmsg_max_config_chunk(uint32_t max_msg_size)
{
    return max_msg_size - VMSG_HEADER_SIZE - 12;
}
static inline uint32_t vmsg_max_event_config_data(uint32_t max_msg_size)
{
    return max_msg_size - VMSG_HEADER_SIZE - 16;
}

#endif
