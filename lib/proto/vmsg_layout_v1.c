/*
 * lib/proto/vmsg_layout_v1.c: every v1 message layout (January 2026 PATCH v1,
 * identical on the wire to RFC3), in one table. Offsets are payload offsets
 * (add 8 for the offset in the message). A post-v1 table (UUID in
 * GET_DEVICE_INFO, vqueue flags, 64-bit GET_SHM, reordered GET_DEVICES
 * response) goes into its own file of the same form.
 */
#include <stddef.h>

#include "proto/vmsg_layout.h"

#define F(member, field, off, sz, rule_) \
    { #field, off, sz, offsetof(struct vmsg_msg, u.member.field), VMSG_FR_##rule_ }
#define TAIL(rule_, count_idx, member, field) \
    .tail = VMSG_TAIL_##rule_, .tail_count_field = count_idx, .tail_name = #field, \
    .tail_msg_off = offsetof(struct vmsg_msg, u.member.field)

#define REQ(k, id) .kind = VMSG_K_##k##_REQ, .name = #k, .msg_id = VMSG_##k
#define RESP(k, id) .kind = VMSG_K_##k##_RESP, .name = #k, .msg_id = VMSG_##k, .response = true
#define EVT(k) .kind = VMSG_K_##k, .name = #k, .msg_id = VMSG_##k, .event = true

static const struct vmsg_layout layout_v1[VMSG_KIND_COUNT] = {
    [VMSG_K_GET_DEVICE_INFO_REQ] = { REQ(GET_DEVICE_INFO, 0) },
    [VMSG_K_GET_DEVICE_INFO_RESP] = {
        RESP(GET_DEVICE_INFO, 0), .fixed_size = 24, .nfields = 7, .fields = {
            F(get_device_info_resp, device_id, 0, 4, ANY),
            F(get_device_info_resp, vendor_id, 4, 4, ANY),
            F(get_device_info_resp, num_feature_bits, 8, 4, MULTIPLE_OF_32),
            F(get_device_info_resp, config_size, 12, 4, ANY),
            F(get_device_info_resp, max_virtqueues, 16, 4, ANY),
            F(get_device_info_resp, admin_vq_start, 20, 2, ANY),
            F(get_device_info_resp, admin_vq_count, 22, 2, ANY) } },
    [VMSG_K_GET_DEVICE_FEATURES_REQ] = {
        REQ(GET_DEVICE_FEATURES, 0), .fixed_size = 8, .nfields = 2, .fields = {
            F(get_device_features_req, block_index, 0, 4, ANY),
            F(get_device_features_req, num_blocks, 4, 4, ANY) } },
    [VMSG_K_GET_DEVICE_FEATURES_RESP] = {
        RESP(GET_DEVICE_FEATURES, 0), .fixed_size = 8, .nfields = 2, .fields = {
            F(get_device_features_resp, block_index, 0, 4, ANY),
            F(get_device_features_resp, num_blocks, 4, 4, ANY) },
        TAIL(LE32_X_COUNT, 1, get_device_features_resp, features) },
    [VMSG_K_SET_DRIVER_FEATURES_REQ] = {
        REQ(SET_DRIVER_FEATURES, 0), .fixed_size = 8, .nfields = 2, .fields = {
            F(set_driver_features_req, block_index, 0, 4, ANY),
            F(set_driver_features_req, num_blocks, 4, 4, ANY) },
        TAIL(LE32_X_COUNT, 1, set_driver_features_req, features) },
    [VMSG_K_SET_DRIVER_FEATURES_RESP] = { RESP(SET_DRIVER_FEATURES, 0) },
    [VMSG_K_GET_CONFIG_REQ] = {
        REQ(GET_CONFIG, 0), .fixed_size = 8, .nfields = 2, .fields = {
            F(get_config_req, offset, 0, 4, ANY),
            F(get_config_req, length, 4, 4, ANY) } },
    [VMSG_K_GET_CONFIG_RESP] = {
        RESP(GET_CONFIG, 0), .fixed_size = 12, .nfields = 3, .fields = {
            F(get_config_resp, generation, 0, 4, ANY),
            F(get_config_resp, offset, 4, 4, ANY),
            F(get_config_resp, length, 8, 4, ANY) },
        TAIL(BYTES_X_COUNT, 2, get_config_resp, data) },
    [VMSG_K_SET_CONFIG_REQ] = {
        REQ(SET_CONFIG, 0), .fixed_size = 12, .nfields = 3, .fields = {
            F(set_config_req, generation, 0, 4, ANY),
            F(set_config_req, offset, 4, 4, ANY),
            F(set_config_req, length, 8, 4, ANY) },
        TAIL(BYTES_X_COUNT, 2, set_config_req, data) },
    [VMSG_K_SET_CONFIG_RESP] = {
        RESP(SET_CONFIG, 0), .fixed_size = 12, .nfields = 3, .fields = {
            F(set_config_resp, generation, 0, 4, ANY),
            F(set_config_resp, offset, 4, 4, ANY),
            F(set_config_resp, length, 8, 4, ANY) },
        TAIL(BYTES_OR_EMPTY, 2, set_config_resp, data) },
    [VMSG_K_GET_DEVICE_STATUS_REQ] = { REQ(GET_DEVICE_STATUS, 0) },
    [VMSG_K_GET_DEVICE_STATUS_RESP] = {
        RESP(GET_DEVICE_STATUS, 0), .fixed_size = 4, .nfields = 1, .fields = {
            F(get_device_status_resp, status, 0, 4, ANY) } },
    [VMSG_K_SET_DEVICE_STATUS_REQ] = {
        REQ(SET_DEVICE_STATUS, 0), .fixed_size = 4, .nfields = 1, .fields = {
            F(set_device_status_req, status, 0, 4, ANY) } },
    [VMSG_K_SET_DEVICE_STATUS_RESP] = {
        RESP(SET_DEVICE_STATUS, 0), .fixed_size = 4, .nfields = 1, .fields = {
            F(set_device_status_resp, status, 0, 4, ANY) } },
    [VMSG_K_GET_VQUEUE_REQ] = {
        REQ(GET_VQUEUE, 0), .fixed_size = 4, .nfields = 1, .fields = {
            F(get_vqueue_req, index, 0, 4, ANY) } },
    [VMSG_K_GET_VQUEUE_RESP] = {
        RESP(GET_VQUEUE, 0), .fixed_size = 40, .nfields = 7, .fields = {
            F(get_vqueue_resp, index, 0, 4, ANY),
            F(get_vqueue_resp, max_size, 4, 4, ANY),
            F(get_vqueue_resp, cur_size, 8, 4, ANY),
            F(get_vqueue_resp, reserved, 12, 4, RESERVED),
            F(get_vqueue_resp, desc_addr, 16, 8, ANY),
            F(get_vqueue_resp, driver_addr, 24, 8, ANY),
            F(get_vqueue_resp, device_addr, 32, 8, ANY) } },
    [VMSG_K_SET_VQUEUE_REQ] = {
        REQ(SET_VQUEUE, 0), .fixed_size = 40, .nfields = 7, .fields = {
            F(set_vqueue_req, index, 0, 4, ANY),
            F(set_vqueue_req, reserved0, 4, 4, RESERVED),
            F(set_vqueue_req, size, 8, 4, ANY),
            F(set_vqueue_req, reserved1, 12, 4, RESERVED),
            F(set_vqueue_req, desc_addr, 16, 8, ANY),
            F(set_vqueue_req, driver_addr, 24, 8, ANY),
            F(set_vqueue_req, device_addr, 32, 8, ANY) } },
    [VMSG_K_SET_VQUEUE_RESP] = { RESP(SET_VQUEUE, 0) },
    [VMSG_K_RESET_VQUEUE_REQ] = {
        REQ(RESET_VQUEUE, 0), .fixed_size = 4, .nfields = 1, .fields = {
            F(reset_vqueue_req, index, 0, 4, ANY) } },
    [VMSG_K_RESET_VQUEUE_RESP] = { RESP(RESET_VQUEUE, 0) },
    [VMSG_K_GET_SHM_REQ] = {
        REQ(GET_SHM, 0), .fixed_size = 4, .nfields = 1, .fields = {
            F(get_shm_req, index, 0, 4, ANY) } },
    [VMSG_K_GET_SHM_RESP] = {
        RESP(GET_SHM, 0), .fixed_size = 12, .nfields = 3, .fields = {
            F(get_shm_resp, index, 0, 4, ANY),
            F(get_shm_resp, length, 4, 4, ANY),
            F(get_shm_resp, address, 8, 4, ANY) } },
    [VMSG_K_EVENT_CONFIG] = {
        EVT(EVENT_CONFIG), .fixed_size = 16, .nfields = 4, .fields = {
            F(event_config, device_status, 0, 4, ANY),
            F(event_config, generation, 4, 4, ANY),
            F(event_config, offset, 8, 4, ANY),
            F(event_config, length, 12, 4, ANY) },
        TAIL(BYTES_OR_EMPTY, 3, event_config, data) },
    [VMSG_K_EVENT_AVAIL] = {
        EVT(EVENT_AVAIL), .fixed_size = 8, .nfields = 2, .fields = {
            F(event_avail, vq_index, 0, 4, ANY),
            F(event_avail, next_offset, 4, 4, ANY) } },
    [VMSG_K_EVENT_USED] = {
        EVT(EVENT_USED), .fixed_size = 4, .nfields = 1, .fields = {
            F(event_used, vq_index, 0, 4, ANY) } },
    [VMSG_K_BUS_GET_DEVICES_REQ] = {
        .kind = VMSG_K_BUS_GET_DEVICES_REQ, .name = "GET_DEVICES",
        .msg_id = VMSG_BUS_GET_DEVICES, .bus = true, .fixed_size = 4, .nfields = 2,
        .fields = {
            F(get_devices_req, offset, 0, 2, MULTIPLE_OF_8),
            F(get_devices_req, count, 2, 2, MULTIPLE_OF_8) } },
    [VMSG_K_BUS_GET_DEVICES_RESP] = {
        .kind = VMSG_K_BUS_GET_DEVICES_RESP, .name = "GET_DEVICES",
        .msg_id = VMSG_BUS_GET_DEVICES, .bus = true, .response = true,
        .fixed_size = 6, .nfields = 3, .fields = {
            F(get_devices_resp, offset, 0, 2, MULTIPLE_OF_8),
            F(get_devices_resp, count, 2, 2, MULTIPLE_OF_8),
            F(get_devices_resp, next_offset, 4, 2, MULTIPLE_OF_8) },
        TAIL(BITMAP_COUNT, 1, get_devices_resp, bitmap) },
    [VMSG_K_BUS_PING_REQ] = {
        .kind = VMSG_K_BUS_PING_REQ, .name = "PING", .msg_id = VMSG_BUS_PING,
        .bus = true, .fixed_size = 4, .nfields = 1, .fields = {
            F(ping_req, data, 0, 4, ANY) } },
    [VMSG_K_BUS_PING_RESP] = {
        .kind = VMSG_K_BUS_PING_RESP, .name = "PING", .msg_id = VMSG_BUS_PING,
        .bus = true, .response = true, .fixed_size = 4, .nfields = 1, .fields = {
            F(ping_resp, data, 0, 4, ANY) } },
    [VMSG_K_BUS_EVENT_DEVICE] = {
        .kind = VMSG_K_BUS_EVENT_DEVICE, .name = "EVENT_DEVICE",
        .msg_id = VMSG_BUS_EVENT_DEVICE, .bus = true, .event = true,
        .fixed_size = 4, .nfields = 2, .fields = {
            F(event_device, device_number, 0, 2, ANY),
            F(event_device, device_bus_state, 2, 2, DEVICE_BUS_STATE) } },
};

const struct vmsg_layout *vmsg_layout_table(enum vmsg_layout_version v)
{
    return v == VMSG_LAYOUT_V1 ? layout_v1 : NULL;
}
