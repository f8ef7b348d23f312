/*
 * tests/unit/test_proto.c: lib/proto against golden byte vectors written
 * out by hand from the v1 layouts (spec digest sections 1-3), and every
 * refusal the validator knows.
 */
#include <errno.h>
#include <string.h>

#include "proto/vmsg_proto.h"
#include "tests/unit/vmsg_test.h"
#include "tests/unit/test_util.h"

static const struct vmsg_wire wire264 = { .layout = VMSG_LAYOUT_V1, .max_msg_size = 264 };

static const uint8_t cfg_abcd[] = { 0xab, 0xcd };
static const uint8_t byte_ff[] = { 0xff };
static const uint8_t feat_bit0_bit32[] = { 1, 0, 0, 0, 1, 0, 0, 0 };
static const uint8_t bitmap_0_2_5[] = { 0x25, 0x00 };
static const uint8_t cfg_0102[] = { 0x01, 0x02 };

struct golden {
    const char *name;
    struct vmsg_msg msg;
    const char *hex;
};

#define HDR(dev, tok) .hdr = { .dev_num = dev, .token = tok }

static const struct golden goldens[] = {
    { "GET_DEVICE_INFO request", { .kind = VMSG_K_GET_DEVICE_INFO_REQ, HDR(1, 0x1234) },
      "00 02 0100 3412 0800" },
    { "GET_DEVICE_INFO response", { .kind = VMSG_K_GET_DEVICE_INFO_RESP, HDR(1, 0x1234),
        .u.get_device_info_resp = { 4, 0x584e4558, 64, 0, 1, 0, 0 } },
      "01 02 0100 3412 2000 04000000 58454e58 40000000 00000000 01000000 0000 0000" },
    { "GET_DEVICE_FEATURES request", { .kind = VMSG_K_GET_DEVICE_FEATURES_REQ, HDR(2, 7),
        .u.get_device_features_req = { 0, 2, NULL } },
      "00 03 0200 0700 1000 00000000 02000000" },
    { "GET_DEVICE_FEATURES response", { .kind = VMSG_K_GET_DEVICE_FEATURES_RESP, HDR(2, 7),
        .u.get_device_features_resp = { 0, 2, feat_bit0_bit32 } },
      "01 03 0200 0700 1800 00000000 02000000 01000000 01000000" },
    { "SET_DRIVER_FEATURES request", { .kind = VMSG_K_SET_DRIVER_FEATURES_REQ, HDR(2, 8),
        .u.set_driver_features_req = { 0, 2, feat_bit0_bit32 } },
      "00 04 0200 0800 1800 00000000 02000000 01000000 01000000" },
    { "SET_DRIVER_FEATURES response", { .kind = VMSG_K_SET_DRIVER_FEATURES_RESP, HDR(2, 8) },
      "01 04 0200 0800 0800" },
    { "GET_CONFIG request", { .kind = VMSG_K_GET_CONFIG_REQ, HDR(2, 9),
        .u.get_config_req = { 4, 2 } },
      "00 05 0200 0900 1000 04000000 02000000" },
    { "GET_CONFIG response", { .kind = VMSG_K_GET_CONFIG_RESP, HDR(2, 9), .tail_len = 2,
        .u.get_config_resp = { 3, 4, 2, cfg_abcd } },
      "01 05 0200 0900 1600 03000000 04000000 02000000 abcd" },
    { "GET_CONFIG response, zero length", { .kind = VMSG_K_GET_CONFIG_RESP, HDR(2, 9),
        .u.get_config_resp = { 3, 0, 0, NULL } },
      "01 05 0200 0900 1400 03000000 00000000 00000000" },
    { "SET_CONFIG request", { .kind = VMSG_K_SET_CONFIG_REQ, HDR(2, 9), .tail_len = 1,
        .u.set_config_req = { 3, 0, 1, byte_ff } },
      "00 06 0200 0900 1500 03000000 00000000 01000000 ff" },
    { "SET_CONFIG response, echo", { .kind = VMSG_K_SET_CONFIG_RESP, HDR(2, 9), .tail_len = 1,
        .u.set_config_resp = { 3, 0, 1, byte_ff } },
      "01 06 0200 0900 1500 03000000 00000000 01000000 ff" },
    { "SET_CONFIG response, rejected", { .kind = VMSG_K_SET_CONFIG_RESP, HDR(2, 9),
        .u.set_config_resp = { 4, 0, 0, NULL } },
      "01 06 0200 0900 1400 04000000 00000000 00000000" },
    { "GET_DEVICE_STATUS request", { .kind = VMSG_K_GET_DEVICE_STATUS_REQ, HDR(2, 9) },
      "00 07 0200 0900 0800" },
    { "GET_DEVICE_STATUS response", { .kind = VMSG_K_GET_DEVICE_STATUS_RESP, HDR(2, 9),
        .u.get_device_status_resp = { 0x0f } },
      "01 07 0200 0900 0c00 0f000000" },
    { "SET_DEVICE_STATUS request", { .kind = VMSG_K_SET_DEVICE_STATUS_REQ, HDR(2, 9),
        .u.set_device_status_req = { 3 } },
      "00 08 0200 0900 0c00 03000000" },
    { "SET_DEVICE_STATUS response", { .kind = VMSG_K_SET_DEVICE_STATUS_RESP, HDR(2, 9),
        .u.set_device_status_resp = { 3 } },
      "01 08 0200 0900 0c00 03000000" },
    { "GET_VQUEUE request", { .kind = VMSG_K_GET_VQUEUE_REQ, HDR(2, 9),
        .u.get_vqueue_req = { 1 } },
      "00 09 0200 0900 0c00 01000000" },
    { "GET_VQUEUE response", { .kind = VMSG_K_GET_VQUEUE_RESP, HDR(2, 9),
        .u.get_vqueue_resp = { 1, 256, 128, 0, 0x1000, 0x2000, 0x123456789a } },
      "01 09 0200 0900 3000 01000000 00010000 80000000 00000000"
      " 0010000000000000 0020000000000000 9a78563412000000" },
    { "SET_VQUEUE request", { .kind = VMSG_K_SET_VQUEUE_REQ, HDR(2, 9),
        .u.set_vqueue_req = { 1, 0, 128, 0, 0x1000, 0x2000, 0x123456789a } },
      "00 0a 0200 0900 3000 01000000 00000000 80000000 00000000"
      " 0010000000000000 0020000000000000 9a78563412000000" },
    { "SET_VQUEUE response", { .kind = VMSG_K_SET_VQUEUE_RESP, HDR(2, 9) },
      "01 0a 0200 0900 0800" },
    { "RESET_VQUEUE request", { .kind = VMSG_K_RESET_VQUEUE_REQ, HDR(2, 9),
        .u.reset_vqueue_req = { 1 } },
      "00 0b 0200 0900 0c00 01000000" },
    { "RESET_VQUEUE response", { .kind = VMSG_K_RESET_VQUEUE_RESP, HDR(2, 9) },
      "01 0b 0200 0900 0800" },
    { "GET_SHM request", { .kind = VMSG_K_GET_SHM_REQ, HDR(2, 9), .u.get_shm_req = { 0 } },
      "00 0c 0200 0900 0c00 00000000" },
    { "GET_SHM response", { .kind = VMSG_K_GET_SHM_RESP, HDR(2, 9),
        .u.get_shm_resp = { 0, 0x1000, 0x8000 } },
      "01 0c 0200 0900 1400 00000000 00100000 00800000" },
    { "EVENT_CONFIG, no data", { .kind = VMSG_K_EVENT_CONFIG, HDR(2, 0),
        .u.event_config = { 0x4f, 5, 0, 0, NULL } },
      "00 40 0200 0000 1800 4f000000 05000000 00000000 00000000" },
    { "EVENT_CONFIG, with data", { .kind = VMSG_K_EVENT_CONFIG, HDR(2, 0), .tail_len = 2,
        .u.event_config = { 0x0f, 6, 2, 2, cfg_0102 } },
      "00 40 0200 0000 1a00 0f000000 06000000 02000000 02000000 0102" },
    { "EVENT_AVAIL", { .kind = VMSG_K_EVENT_AVAIL, HDR(2, 0), .u.event_avail = { 1, 0x80000005 } },
      "00 41 0200 0000 1000 01000000 05000080" },
    { "EVENT_USED", { .kind = VMSG_K_EVENT_USED, HDR(2, 0), .u.event_used = { 1 } },
      "00 42 0200 0000 0c00 01000000" },
    { "bus GET_DEVICES request", { .kind = VMSG_K_BUS_GET_DEVICES_REQ, HDR(0, 5),
        .u.get_devices_req = { 0, 16 } },
      "02 02 0000 0500 0c00 0000 1000" },
    /* The spec's own example: devices 0, 2 and 5 in window 0..15. */
    { "bus GET_DEVICES response", { .kind = VMSG_K_BUS_GET_DEVICES_RESP, HDR(0, 5),
        .u.get_devices_resp = { 0, 16, 16, bitmap_0_2_5 } },
      "03 02 0000 0500 1000 0000 1000 1000 2500" },
    { "bus PING request", { .kind = VMSG_K_BUS_PING_REQ, HDR(0, 5), .u.ping_req = { 0xdeadbeef } },
      "02 03 0000 0500 0c00 efbeadde" },
    { "bus PING response", { .kind = VMSG_K_BUS_PING_RESP, HDR(0, 5), .u.ping_resp = { 0xdeadbeef } },
      "03 03 0000 0500 0c00 efbeadde" },
    { "bus EVENT_DEVICE", { .kind = VMSG_K_BUS_EVENT_DEVICE, HDR(0, 0),
        .u.event_device = { 5, VMSG_DEVICE_BUS_STATE_READY } },
      "02 40 0000 0000 0c00 0500 0100" },
};

/* Every kind has at least one golden vector. */
static void test_goldens_cover_every_kind(void)
{
    bool seen[VMSG_KIND_COUNT] = { false };
    for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++)
        seen[goldens[i].msg.kind] = true;
    for (unsigned k = 0; k < VMSG_KIND_COUNT; k++) {
        if (!seen[k])
            fprintf(stderr, "no golden vector for %s %s\n", vmsg_kind_name(k), vmsg_kind_role(k));
        CU_ASSERT(seen[k]);
    }
}

static void test_encode_matches_golden_bytes(void)
{
    for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        uint8_t want[300], got[300];
        size_t n = hex_decode(goldens[i].hex, want, sizeof(want));
        /* Pre-fill with 0xAA so any byte the encoder forgot shows up. */
        memset(got, 0xaa, sizeof(got));
        int len = vmsg_encode(&wire264, &goldens[i].msg, got, sizeof(got));
        if (len != (int)n || memcmp(want, got, n))
            fprintf(stderr, "encode mismatch: %s (len %d, want %zu)\n", goldens[i].name, len, n);
        CU_ASSERT_EQUAL(len, (int)n);
        CU_ASSERT(memcmp(want, got, n) == 0);
    }
}

static void test_decode_golden_bytes_roundtrip(void)
{
    for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        uint8_t wirebuf[300], again[300];
        struct vmsg_msg m;
        struct vmsg_problem why;
        size_t n = hex_decode(goldens[i].hex, wirebuf, sizeof(wirebuf));
        enum vmsg_verdict v = vmsg_decode(&wire264, wirebuf, n, VMSG_DECODE_STRICT, &m, &why);
        if (v != VMSG_OK)
            fprintf(stderr, "decode refused %s: %s\n", goldens[i].name, why.reason);
        CU_ASSERT_EQUAL_FATAL(v, VMSG_OK);
        CU_ASSERT_EQUAL(m.kind, goldens[i].msg.kind);
        CU_ASSERT_EQUAL(m.hdr.dev_num, goldens[i].msg.hdr.dev_num);
        CU_ASSERT_EQUAL(m.hdr.token, goldens[i].msg.hdr.token);
        CU_ASSERT_EQUAL(m.hdr.msg_size, n);
        /* Every fixed field equals what the golden struct holds. */
        struct vmsg_field_view got, want;
        for (unsigned f = 0; vmsg_layout_field(&wire264, &m, f, &got); f++) {
            CU_ASSERT_FATAL(vmsg_layout_field(&wire264, &goldens[i].msg, f, &want));
            CU_ASSERT_EQUAL(got.value, want.value);
        }
        struct vmsg_tail_view tail_got, tail_want;
        vmsg_layout_tail(&wire264, &m, &tail_got);
        vmsg_layout_tail(&wire264, &goldens[i].msg, &tail_want);
        if (tail_got.len) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(tail_want.bytes);
            CU_ASSERT(memcmp(tail_got.bytes, tail_want.bytes, tail_got.len) == 0);
        }
        CU_ASSERT_EQUAL(vmsg_encode(&wire264, &m, again, sizeof(again)), (int)n);
        CU_ASSERT(memcmp(again, wirebuf, n) == 0);
    }
}

static void test_typed_fields_land_where_the_spec_says(void)
{
    uint8_t b[64];
    struct vmsg_msg m;
    size_t n = hex_decode("01 09 0200 0900 3000 01000000 00010000 80000000 00000000"
                          " 0010000000000000 0020000000000000 9a78563412000000", b, sizeof(b));
    CU_ASSERT_EQUAL_FATAL(vmsg_decode(&wire264, b, n, 0, &m, NULL), VMSG_OK);
    CU_ASSERT_EQUAL(m.u.get_vqueue_resp.max_size, 256);
    CU_ASSERT_EQUAL(m.u.get_vqueue_resp.cur_size, 128);
    CU_ASSERT_EQUAL(m.u.get_vqueue_resp.device_addr, 0x123456789aull);
    n = hex_decode("03 02 0000 0500 1000 0000 1000 1000 2500", b, sizeof(b));
    CU_ASSERT_EQUAL_FATAL(vmsg_decode(&wire264, b, n, 0, &m, NULL), VMSG_OK);
    CU_ASSERT_EQUAL(m.u.get_devices_resp.next_offset, 16);
    CU_ASSERT_EQUAL(m.u.get_devices_resp.bitmap[0], 0x25);
}

struct malformed {
    const char *name;
    const char *hex;
    unsigned flags;
    enum vmsg_verdict want;
};

static const struct malformed malformed_cases[] = {
    { "7 bytes: shorter than the header", "00 02 0000 0000 07", 0, VMSG_E_SHORT },
    { "msg_size 7 < header", "00 02 0000 0000 0700", 0, VMSG_E_SIZE_UNDER_HEADER },
    { "msg_size 9, 8 bytes received", "00 02 0000 0000 0900", 0, VMSG_E_SIZE_MISMATCH },
    { "msg_size 8, 12 bytes received", "00 02 0000 0000 0800 00000000", 0, VMSG_E_SIZE_MISMATCH },
    { "unknown transport id 0x20", "00 20 0000 0000 0800", 0, VMSG_E_UNKNOWN_ID },
    { "unknown transport event 0x43", "00 43 0000 0000 0800", 0, VMSG_E_UNKNOWN_ID },
    { "implementation event 0xc5", "00 c5 0000 0000 0800", 0, VMSG_E_UNKNOWN_ID },
    { "reserved id 0x00", "00 00 0000 0000 0800", 0, VMSG_E_UNKNOWN_ID },
    { "reserved id 0x01", "00 01 0000 0000 0800", 0, VMSG_E_UNKNOWN_ID },
    { "unknown bus id 0x05", "02 05 0000 0000 0800", 0, VMSG_E_UNKNOWN_ID },
    { "EVENT_USED with the response bit", "01 42 0000 0000 0c00 00000000", 0, VMSG_E_EVENT_RESPONSE },
    { "EVENT_DEVICE with the response bit", "03 40 0000 0000 0c00 0500 0100", 0, VMSG_E_EVENT_RESPONSE },
    { "GET_DEVICE_INFO request with a payload", "00 02 0000 0000 0c00 00000000", 0, VMSG_E_PAYLOAD_SIZE },
    { "GET_DEVICE_INFO response 4 bytes short",
      "01 02 0000 0000 1c00 04000000 00000000 40000000 00000000 01000000", 0, VMSG_E_PAYLOAD_SIZE },
    { "GET_VQUEUE response truncated to 36 bytes",
      "01 09 0000 0000 2c00 01000000 00010000 80000000 00000000 0010000000000000 0020000000000000 00000000",
      0, VMSG_E_PAYLOAD_SIZE },
    { "SET_VQUEUE request with one byte extra",
      "00 0a 0000 0000 3100 01000000 00000000 80000000 00000000 0010000000000000 0020000000000000"
      " 0000000000000000 00", 0, VMSG_E_PAYLOAD_SIZE },
    { "EVENT_AVAIL without next_offset", "00 41 0000 0000 0c00 01000000", 0, VMSG_E_PAYLOAD_SIZE },
    { "GET_DEVICE_FEATURES response: 2 blocks announced, 1 sent",
      "01 03 0000 0000 1400 00000000 02000000 01000000", 0, VMSG_E_TAIL_SIZE },
    { "SET_DRIVER_FEATURES: num_blocks 0xffffffff cannot wrap",
      "00 04 0000 0000 1400 00000000 ffffffff 01000000", 0, VMSG_E_TAIL_SIZE },
    { "GET_CONFIG response: length 5, 2 bytes", "01 05 0000 0000 1600 00000000 00000000 05000000 abcd",
      0, VMSG_E_TAIL_SIZE },
    { "SET_CONFIG request: length 1, no data", "00 06 0000 0000 1400 00000000 00000000 01000000",
      0, VMSG_E_TAIL_SIZE },
    { "SET_CONFIG response: length 2, 1 byte echoed", "01 06 0000 0000 1500 00000000 00000000 02000000 ff",
      0, VMSG_E_TAIL_SIZE },
    { "EVENT_CONFIG: length 4, 2 bytes", "00 40 0000 0000 1a00 00000000 00000000 00000000 04000000 0102",
      0, VMSG_E_TAIL_SIZE },
    { "GET_DEVICES response: count 16, 1 bitmap byte", "03 02 0000 0000 0f00 0000 1000 0000 25",
      0, VMSG_E_TAIL_SIZE },
    { "GET_DEVICES request: offset 4 not a multiple of 8", "02 02 0000 0000 0c00 0400 0800",
      0, VMSG_E_FIELD_RANGE },
    { "GET_DEVICES request: count 12 not a multiple of 8", "02 02 0000 0000 0c00 0000 0c00",
      0, VMSG_E_FIELD_RANGE },
    { "GET_DEVICES response: next_offset inside the window", "03 02 0000 0000 1000 0000 1000 0800 0000",
      0, VMSG_E_FIELD_RANGE },
    { "EVENT_DEVICE: reserved state 3", "02 40 0000 0000 0c00 0500 0300", 0, VMSG_E_FIELD_RANGE },
    { "EVENT_DEVICE: state 0", "02 40 0000 0000 0c00 0500 0000", 0, VMSG_E_FIELD_RANGE },
    { "GET_DEVICE_INFO: 40 feature bits", "01 02 0000 0000 2000 04000000 00000000 28000000 00000000"
      " 01000000 0000 0000", 0, VMSG_E_FIELD_RANGE },
    { "strict: type reserved bit 7", "80 02 0000 0000 0800", VMSG_DECODE_STRICT, VMSG_E_RESERVED },
    { "strict: SET_VQUEUE reserved0 = 1",
      "00 0a 0000 0000 3000 01000000 01000000 80000000 00000000 0010000000000000 0020000000000000"
      " 0000000000000000", VMSG_DECODE_STRICT, VMSG_E_RESERVED },
    { "strict: GET_VQUEUE response reserved = 1",
      "01 09 0000 0000 3000 01000000 00010000 80000000 01000000 0010000000000000 0020000000000000"
      " 0000000000000000", VMSG_DECODE_STRICT, VMSG_E_RESERVED },
    { "strict: bus message with dev_num 3", "02 03 0300 0000 0c00 00000000", VMSG_DECODE_STRICT,
      VMSG_E_RESERVED },
};

static void test_validator_refuses_each_malformed_case(void)
{
    for (size_t i = 0; i < sizeof(malformed_cases) / sizeof(malformed_cases[0]); i++) {
        uint8_t b[300];
        struct vmsg_msg m;
        struct vmsg_problem why;
        size_t n = hex_decode(malformed_cases[i].hex, b, sizeof(b));
        enum vmsg_verdict v = vmsg_decode(&wire264, b, n, malformed_cases[i].flags, &m, &why);
        if (v != malformed_cases[i].want)
            fprintf(stderr, "%s: got %s (%s), want %s\n", malformed_cases[i].name, vmsg_verdict_name(v),
                    why.reason, vmsg_verdict_name(malformed_cases[i].want));
        CU_ASSERT_EQUAL(v, malformed_cases[i].want);
        CU_ASSERT(why.reason[0] != '\0');
        CU_ASSERT_EQUAL(why.verdict, v);
    }
}

static void test_validator_refuses_msg_size_over_bus_max(void)
{
    uint8_t b[300] = { 0x01, VMSG_GET_CONFIG };
    struct vmsg_problem why;
    struct vmsg_msg m;
    b[6] = 44;  /* msg_size 300 = 0x012c */
    b[7] = 1;
    CU_ASSERT_EQUAL(vmsg_decode(&wire264, b, 300, 0, &m, &why), VMSG_E_SIZE_OVER_MAX);
    CU_ASSERT(strstr(why.reason, "264") != NULL);
}

/* Spec: type bits 2..7, reserved fields and a bus message's dev_num are
 * sent as 0 and ignored on receive. */
static void test_reserved_bits_ignored_on_receive(void)
{
    uint8_t b[64];
    struct vmsg_msg m;
    struct vmsg_problem why;
    size_t n = hex_decode("fc 02 0000 0000 0800", b, sizeof(b));
    CU_ASSERT_EQUAL(vmsg_decode(&wire264, b, n, 0, &m, &why), VMSG_OK);
    CU_ASSERT_EQUAL(m.kind, VMSG_K_GET_DEVICE_INFO_REQ);
    CU_ASSERT(strstr(why.ignored, "reserved") != NULL);
    n = hex_decode("00 0a 0000 0000 3000 01000000 ffffffff 80000000 01000000 0010000000000000"
                   " 0020000000000000 0000000000000000", b, sizeof(b));
    CU_ASSERT_EQUAL(vmsg_decode(&wire264, b, n, 0, &m, &why), VMSG_OK);
    CU_ASSERT_EQUAL(m.u.set_vqueue_req.size, 128);
    n = hex_decode("02 03 0700 0000 0c00 01000000", b, sizeof(b));
    CU_ASSERT_EQUAL(vmsg_decode(&wire264, b, n, 0, &m, &why), VMSG_OK);
}

static void test_encode_writes_reserved_as_zero(void)
{
    struct vmsg_msg m = { .kind = VMSG_K_SET_VQUEUE_REQ, .hdr.dev_num = 1 };
    m.u.set_vqueue_req = (struct vmsg_vqueue_setup){ 0, 0xdead, 64, 0xbeef, 0x1000, 0x2000, 0x3000 };
    uint8_t b[64];
    memset(b, 0xaa, sizeof(b));
    CU_ASSERT_EQUAL_FATAL(vmsg_encode(&wire264, &m, b, sizeof(b)), 48);
    CU_ASSERT_EQUAL(b[0] & VMSG_TYPE_RESERVED_MASK, 0);
    CU_ASSERT(memcmp(b + 8 + 4, "\0\0\0\0", 4) == 0);
    CU_ASSERT(memcmp(b + 8 + 12, "\0\0\0\0", 4) == 0);
    /* A bus message always carries dev_num 0. */
    struct vmsg_msg ping = { .kind = VMSG_K_BUS_PING_REQ, .hdr.dev_num = 9 };
    CU_ASSERT_EQUAL_FATAL(vmsg_encode(&wire264, &ping, b, sizeof(b)), 12);
    CU_ASSERT(b[2] == 0 && b[3] == 0);
}

static void test_encode_refuses_what_does_not_fit(void)
{
    uint8_t data[300] = { 0 }, b[400];
    struct vmsg_msg m = { .kind = VMSG_K_GET_CONFIG_RESP, .tail_len = 257 };
    m.u.get_config_resp = (struct vmsg_config_data){ 0, 0, 257, data };
    CU_ASSERT_EQUAL(vmsg_encode(&wire264, &m, b, sizeof(b)), -EMSGSIZE);
    m.u.get_config_resp.length = 244;   /* exactly 264 bytes */
    CU_ASSERT_EQUAL(vmsg_encode(&wire264, &m, b, sizeof(b)), 264);
    CU_ASSERT_EQUAL(vmsg_encode(&wire264, &m, b, 100), -ENOSPC);
    m.u.get_config_resp.data = NULL;
    CU_ASSERT_EQUAL(vmsg_encode(&wire264, &m, b, sizeof(b)), -EINVAL);
    struct vmsg_msg echo = { .kind = VMSG_K_SET_CONFIG_RESP, .tail_len = 1 };
    echo.u.set_config_resp = (struct vmsg_config_data){ 0, 0, 2, data };
    CU_ASSERT_EQUAL(vmsg_encode(&wire264, &echo, b, sizeof(b)), -EINVAL);
    struct vmsg_msg bad = { .kind = VMSG_KIND_COUNT };
    CU_ASSERT_EQUAL(vmsg_encode(&wire264, &bad, b, sizeof(b)), -EINVAL);
}

static void test_capacity_formulas_match_the_digest(void)
{
    /* Spec digest: blocks = (max - 16) / 4; config = max - 20; event = max - 24. */
    CU_ASSERT_EQUAL(vmsg_max_feature_blocks(264), 62);
    CU_ASSERT_EQUAL(vmsg_max_config_chunk(264), 244);
    CU_ASSERT_EQUAL(vmsg_max_event_config_data(264), 240);
    CU_ASSERT_EQUAL(vmsg_max_config_chunk(48), 28);
}

static void test_names_for_logs(void)
{
    CU_ASSERT_STRING_EQUAL(vmsg_id_name(false, 0x05), "GET_CONFIG");
    CU_ASSERT_STRING_EQUAL(vmsg_id_name(true, 0x03), "PING");
    CU_ASSERT_STRING_EQUAL(vmsg_id_name(false, 0x7f), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(vmsg_kind_role(VMSG_K_EVENT_USED), "event");
    CU_ASSERT_STRING_EQUAL(vmsg_verdict_name(VMSG_E_TAIL_SIZE), "tail-size");
    CU_ASSERT_STRING_EQUAL(vmsg_status_bit_name(VMSG_STATUS_DRIVER_OK), "DRIVER_OK");
    CU_ASSERT_EQUAL(vmsg_response_kind(VMSG_K_GET_CONFIG_REQ), VMSG_K_GET_CONFIG_RESP);
    CU_ASSERT_EQUAL(vmsg_response_kind(VMSG_K_BUS_PING_REQ), VMSG_K_BUS_PING_RESP);
    CU_ASSERT_EQUAL(vmsg_response_kind(VMSG_K_EVENT_AVAIL), VMSG_KIND_COUNT);
}

static void register_suites(void)
{
    VMSG_SUITE("proto", NULL, NULL);
    VMSG_TEST(test_goldens_cover_every_kind);
    VMSG_TEST(test_encode_matches_golden_bytes);
    VMSG_TEST(test_decode_golden_bytes_roundtrip);
    VMSG_TEST(test_typed_fields_land_where_the_spec_says);
    VMSG_TEST(test_validator_refuses_each_malformed_case);
    VMSG_TEST(test_validator_refuses_msg_size_over_bus_max);
    VMSG_TEST(test_reserved_bits_ignored_on_receive);
    VMSG_TEST(test_encode_writes_reserved_as_zero);
    VMSG_TEST(test_encode_refuses_what_does_not_fit);
    VMSG_TEST(test_capacity_formulas_match_the_digest);
    VMSG_TEST(test_names_for_logs);
}

static const struct vmsg_conformance conformance[] = {
    { "test_encode_matches_golden_bytes", "Message format and limits",
      "D/V: encode every header and payload field little-endian" },
    { "test_decode_golden_bytes_roundtrip", "Message format and limits",
      "D/V: decode every header and payload field little-endian" },
    { "test_encode_writes_reserved_as_zero", "Message format and limits",
      "Any sender: reserved bits and padding sent as 0; bus messages carry dev_num 0" },
    { "test_reserved_bits_ignored_on_receive", "Message format and limits",
      "Any receiver: reserved header bits and fields ignored" },
    { "test_validator_refuses_msg_size_over_bus_max", "Message format and limits",
      "B: msg_size above the bus maximum is invalid" },
    { "test_validator_refuses_each_malformed_case", "Errors and ordering",
      "B/V: malformed headers, unknown msg_id, wrong sizes are invalid" },
    { NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
    return vmsg_test_main_report(argc, argv, register_suites, conformance);
}
