/*
 * lib/proto/vmsg_names.c: names of message kinds, IDs, verdicts and status
 * bits, as the spec spells them, for logs and JSON.
 */
#include "proto/vmsg_layout.h"

const char *vmsg_kind_name(enum vmsg_kind kind)
{
    if ((unsigned)kind >= VMSG_KIND_COUNT)
        return "UNKNOWN";
    return vmsg_layout_table(VMSG_LAYOUT_V1)[kind].name;
}

const char *vmsg_kind_role(enum vmsg_kind kind)
{
    if ((unsigned)kind >= VMSG_KIND_COUNT)
        return "unknown";
    const struct vmsg_layout *l = &vmsg_layout_table(VMSG_LAYOUT_V1)[kind];
    return l->event ? "event" : l->response ? "response" : "request";
}

const char *vmsg_id_name(bool bus, uint8_t msg_id)
{
    const struct vmsg_layout *t = vmsg_layout_table(VMSG_LAYOUT_V1);
    for (unsigned k = 0; k < VMSG_KIND_COUNT; k++)
        if (t[k].bus == bus && t[k].msg_id == msg_id)
            return t[k].name;
    return "UNKNOWN";
}

const char *vmsg_verdict_name(enum vmsg_verdict v)
{
    static const char *const names[VMSG_VERDICT_COUNT] = {
        [VMSG_OK] = "ok",
        [VMSG_E_SHORT] = "short-header",
        [VMSG_E_SIZE_MISMATCH] = "size-mismatch",
        [VMSG_E_SIZE_UNDER_HEADER] = "size-under-header",
        [VMSG_E_SIZE_OVER_MAX] = "size-over-max",
        [VMSG_E_UNKNOWN_ID] = "unknown-id",
        [VMSG_E_EVENT_RESPONSE] = "event-as-response",
        [VMSG_E_PAYLOAD_SIZE] = "payload-size",
        [VMSG_E_TAIL_SIZE] = "tail-size",
        [VMSG_E_RESERVED] = "reserved-nonzero",
        [VMSG_E_FIELD_RANGE] = "field-range",
    };
    return (unsigned)v < VMSG_VERDICT_COUNT ? names[v] : "unknown";
}

const char *vmsg_status_bit_name(uint32_t bit)
{
    switch (bit) {
    case VMSG_STATUS_ACKNOWLEDGE: return "ACKNOWLEDGE";
    case VMSG_STATUS_DRIVER: return "DRIVER";
    case VMSG_STATUS_DRIVER_OK: return "DRIVER_OK";
    case VMSG_STATUS_FEATURES_OK: return "FEATURES_OK";
    case VMSG_STATUS_DEVICE_NEEDS_RESET: return "DEVICE_NEEDS_RESET";
    case VMSG_STATUS_FAILED: return "FAILED";
    default: return "UNKNOWN";
    }
}
