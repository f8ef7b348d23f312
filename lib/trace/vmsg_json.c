/*
 * lib/trace/vmsg_json.c: render messages as JSON with yajl's generator.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "proto/vmsg_le.h"
#include "trace/vmsg_json.h"

static void put_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void put_key_str(yajl_gen g, const char *k, const char *v)
{
    put_str(g, k);
    put_str(g, v);
}

static void put_key_num(yajl_gen g, const char *k, uint64_t v)
{
    put_str(g, k);
    yajl_gen_integer(g, (long long)v);     /* every field fits: 64-bit ones are addresses */
}

static void put_key_hex(yajl_gen g, const char *k, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char hex[2 * VMSG_LIMIT_MAX_MSG_SIZE + 1];
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    put_str(g, k);
    yajl_gen_string(g, (const unsigned char *)hex, 2 * n);
}

static void render_message(yajl_gen g, const struct vmsg_wire *wire, const struct vmsg_msg *m,
                           const struct vmsg_problem *why)
{
    put_key_str(g, "name", vmsg_kind_name(m->kind));
    put_key_str(g, "kind", vmsg_kind_role(m->kind));
    put_key_str(g, "namespace", vmsg_kind_is_bus(m->kind) ? "bus" : "transport");
    put_key_num(g, "type", m->hdr.type);
    put_key_num(g, "msg_id", m->hdr.msg_id);
    put_key_num(g, "dev_num", m->hdr.dev_num);
    put_key_num(g, "token", m->hdr.token);
    put_key_num(g, "msg_size", m->hdr.msg_size);

    struct vmsg_field_view f;
    for (unsigned i = 0; vmsg_layout_field(wire, m, i, &f); i++)
        put_key_num(g, f.name, f.value);

    struct vmsg_tail_view t;
    vmsg_layout_tail(wire, m, &t);
    if (t.name && t.elem_size == 4) {
        put_str(g, t.name);
        yajl_gen_array_open(g);
        for (uint32_t i = 0; i + 4 <= t.len; i += 4)
            yajl_gen_integer(g, vmsg_get_le32(t.bytes + i));
        yajl_gen_array_close(g);
    } else if (t.name) {
        put_key_hex(g, t.name, t.bytes, t.len);
    }
    if (m->kind == VMSG_K_SET_DEVICE_STATUS_REQ || m->kind == VMSG_K_SET_DEVICE_STATUS_RESP ||
        m->kind == VMSG_K_GET_DEVICE_STATUS_RESP || m->kind == VMSG_K_EVENT_CONFIG) {
        uint32_t s = m->kind == VMSG_K_EVENT_CONFIG ? m->u.event_config.device_status
                                                   : m->u.get_device_status_resp.status;
        put_str(g, "status_bits");
        yajl_gen_array_open(g);
        for (uint32_t bit = 1; bit; bit <<= 1)
            if (s & bit)
                put_str(g, vmsg_status_bit_name(bit));
        yajl_gen_array_close(g);
    }
    if (why->ignored[0])
        put_key_str(g, "ignored", why->ignored);
}

static int render(const struct vmsg_wire *wire, unsigned decode_flags, const void *buf,
                  size_t len, const char *instance, const char *direction, char *out, size_t cap)
{
    struct vmsg_msg m;
    struct vmsg_problem why;
    const unsigned char *text;
    size_t text_len;

    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        return -ENOMEM;
    enum vmsg_verdict v = vmsg_decode(wire, buf, len, decode_flags, &m, &why);
    yajl_gen_map_open(g);
    if (instance)
        put_key_str(g, "instance", instance);
    if (direction)
        put_key_str(g, "direction", direction);
    if (v == VMSG_OK) {
        render_message(g, wire, &m, &why);
    } else {
        put_key_str(g, "error", vmsg_verdict_name(v));
        put_key_str(g, "reason", why.reason);
        put_key_hex(g, "bytes", buf, len < VMSG_LIMIT_MAX_MSG_SIZE ? len : VMSG_LIMIT_MAX_MSG_SIZE);
    }
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &text, &text_len);
    snprintf(out, cap, "%.*s", (int)text_len, (const char *)text);
    yajl_gen_free(g);
    return (int)v;
}

int vmsg_json_render(const struct vmsg_wire *wire, unsigned decode_flags, const void *buf,
                     size_t len, char *out, size_t cap)
{
    return render(wire, decode_flags, buf, len, NULL, NULL, out, cap);
}

int vmsg_json_render_traced(const struct vmsg_wire *wire, unsigned decode_flags, const void *buf,
                            size_t len, const char *instance, const char *direction, char *out,
                            size_t cap)
{
    return render(wire, decode_flags, buf, len, instance, direction, out, cap);
}
