/*
 * lib/proto/vmsg_layout.h: how a layout table describes one message shape.
 * Private to lib/proto: the codec walks these tables; nothing else does.
 */
#ifndef VMSG_LAYOUT_H
#define VMSG_LAYOUT_H

#include "proto/vmsg_proto.h"

enum vmsg_field_rule {
    VMSG_FR_ANY,
    VMSG_FR_RESERVED,           /* must be 0 when sent; ignored on receive */
    VMSG_FR_MULTIPLE_OF_8,
    VMSG_FR_MULTIPLE_OF_32,
    VMSG_FR_DEVICE_BUS_STATE,   /* READY, REMOVED or bus-defined 0x8000+ */
};

enum vmsg_tail_rule {
    VMSG_TAIL_NONE,
    VMSG_TAIL_LE32_X_COUNT,     /* count field * 4 bytes (feature blocks) */
    VMSG_TAIL_BYTES_X_COUNT,    /* exactly count field bytes */
    VMSG_TAIL_BYTES_OR_EMPTY,   /* count field bytes, or none (optional echo) */
    VMSG_TAIL_BITMAP_COUNT,     /* count field / 8 bytes */
};

struct vmsg_field_layout {
    const char *name;
    uint16_t wire_off;          /* payload offset */
    uint8_t size;               /* 2, 4 or 8 */
    uint16_t msg_off;           /* offsetof(struct vmsg_msg, ...) */
    enum vmsg_field_rule rule;
};

#define VMSG_MAX_FIELDS 7

struct vmsg_layout {
    enum vmsg_kind kind;
    const char *name;
    uint8_t msg_id;
    bool bus;
    bool response;
    bool event;
    uint16_t fixed_size;        /* payload bytes before the variable part */
    uint8_t nfields;
    struct vmsg_field_layout fields[VMSG_MAX_FIELDS];
    enum vmsg_tail_rule tail;
    uint8_t tail_count_field;   /* index into fields[] */
    const char *tail_name;
    uint16_t tail_msg_off;      /* offsetof the const uint8_t * in vmsg_msg */
};

/* The table of one layout version, indexed by enum vmsg_kind. */
const struct vmsg_layout *vmsg_layout_table(enum vmsg_layout_version v);

#endif
