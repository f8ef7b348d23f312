/*
 * lib/proto/vmsg_codec.c: decode, validate and encode messages by walking
 * the layout table of the bus's layout version.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/vmsg_layout.h"
#include "proto/vmsg_le.h"

static enum vmsg_verdict refuse(struct vmsg_problem *why, enum vmsg_verdict v,
                                const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum vmsg_verdict refuse(struct vmsg_problem *why, enum vmsg_verdict v,
                                const char *fmt, ...)
{
    if (why) {
        va_list ap;
        why->verdict = v;
        va_start(ap, fmt);
        vsnprintf(why->reason, sizeof(why->reason), fmt, ap);
        va_end(ap);
    }
    return v;
}

static void note_ignored(struct vmsg_problem *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note_ignored(struct vmsg_problem *why, const char *fmt, ...)
{
    if (!why || why->ignored[0])
        return;         /* the first one is enough for a log line */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->ignored, sizeof(why->ignored), fmt, ap);
    va_end(ap);
}

bool vmsg_peek_header(const void *buf, size_t len, struct vmsg_header *out)
{
    const uint8_t *p = buf;
    if (len < VMSG_HEADER_SIZE)
        return false;
    out->type = p[0];
    out->msg_id = p[1];
    out->dev_num = vmsg_get_le16(p + 2);
    out->token = vmsg_get_le16(p + 4);
    out->msg_size = vmsg_get_le16(p + 6);
    return true;
}

/*
 * (namespace, response bit, msg_id) -> kind + 1 (0: none), built once from
 * the layout table so that decoding does not scan the table: the scan made
 * a message's cost depend on its position in it (bench/RESULTS.md).
 */
static uint8_t v1_index[2][2][256];
static pthread_once_t v1_index_once = PTHREAD_ONCE_INIT;

static void build_v1_index(void)
{
    const struct vmsg_layout *t = vmsg_layout_table(VMSG_LAYOUT_V1);
    for (unsigned k = 0; k < VMSG_KIND_COUNT; k++)
        v1_index[t[k].bus][t[k].response][t[k].msg_id] = (uint8_t)(k + 1);
}

static const struct vmsg_layout *find_layout(const struct vmsg_layout *table,
                                             bool bus, bool response, uint8_t id)
{
    pthread_once(&v1_index_once, build_v1_index);
    unsigned k = v1_index[bus][response][id];
    return k ? &table[k - 1] : NULL;
}

static uint64_t field_load(const struct vmsg_msg *m, const struct vmsg_field_layout *f)
{
    const char *base = (const char *)m + f->msg_off;
    switch (f->size) {
    case 2: { uint16_t v; memcpy(&v, base, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, base, 4); return v; }
    default: { uint64_t v; memcpy(&v, base, 8); return v; }
    }
}

static void field_store(struct vmsg_msg *m, const struct vmsg_field_layout *f, uint64_t v)
{
    char *base = (char *)m + f->msg_off;
    switch (f->size) {
    case 2: { uint16_t x = (uint16_t)v; memcpy(base, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(base, &x, 4); break; }
    default: memcpy(base, &v, 8); break;
    }
}

static uint64_t wire_load(const uint8_t *p, uint8_t size)
{
    return size == 2 ? vmsg_get_le16(p) : size == 4 ? vmsg_get_le32(p) : vmsg_get_le64(p);
}

static void wire_store(uint8_t *p, uint8_t size, uint64_t v)
{
    if (size == 2)
        vmsg_put_le16(p, (uint16_t)v);
    else if (size == 4)
        vmsg_put_le32(p, (uint32_t)v);
    else
        vmsg_put_le64(p, v);
}

/* Bytes the variable part must have given its count field; for the
 * optional-echo rule, the non-empty length. 64-bit so that a hostile
 * count cannot wrap. */
static uint64_t tail_expected(const struct vmsg_layout *l, uint64_t count)
{
    switch (l->tail) {
    case VMSG_TAIL_LE32_X_COUNT: return count * 4;
    case VMSG_TAIL_BYTES_X_COUNT:
    case VMSG_TAIL_BYTES_OR_EMPTY: return count;
    case VMSG_TAIL_BITMAP_COUNT: return count / 8;
    case VMSG_TAIL_NONE: break;
    }
    return 0;
}

static const uint8_t **tail_slot(struct vmsg_msg *m, const struct vmsg_layout *l)
{
    return (const uint8_t **)(void *)((char *)m + l->tail_msg_off);
}

static enum vmsg_verdict check_field(const struct vmsg_layout *l,
                                     const struct vmsg_field_layout *f,
                                     uint64_t v, unsigned flags,
                                     struct vmsg_problem *why)
{
    switch (f->rule) {
    case VMSG_FR_ANY:
        break;
    case VMSG_FR_RESERVED:
        if (v == 0)
            break;
        if (flags & VMSG_DECODE_STRICT)
            return refuse(why, VMSG_E_RESERVED, "%s: reserved field %s is 0x%" PRIx64 ", must be 0",
                          l->name, f->name, v);
        note_ignored(why, "%s: reserved field %s = 0x%" PRIx64 " ignored", l->name, f->name, v);
        break;
    case VMSG_FR_MULTIPLE_OF_8:
        if (v % 8)
            return refuse(why, VMSG_E_FIELD_RANGE, "%s: %s = %" PRIu64 " is not a multiple of 8",
                          l->name, f->name, v);
        break;
    case VMSG_FR_MULTIPLE_OF_32:
        if (v % 32)
            return refuse(why, VMSG_E_FIELD_RANGE, "%s: %s = %" PRIu64 " is not a multiple of 32",
                          l->name, f->name, v);
        break;
    case VMSG_FR_DEVICE_BUS_STATE:
        if (v != VMSG_DEVICE_BUS_STATE_READY && v != VMSG_DEVICE_BUS_STATE_REMOVED && v < 0x8000)
            return refuse(why, VMSG_E_FIELD_RANGE,
                          "%s: %s = 0x%04" PRIx64 " is reserved (READY 1, REMOVED 2, bus-defined 0x8000+)",
                          l->name, f->name, v);
        break;
    }
    return VMSG_OK;
}

/* Rules that relate two fields of one message. */
static enum vmsg_verdict check_cross_fields(const struct vmsg_msg *m, struct vmsg_problem *why)
{
    if (m->kind == VMSG_K_BUS_GET_DEVICES_RESP) {
        const struct vmsg_get_devices_resp *r = &m->u.get_devices_resp;
        uint32_t end = (uint32_t)r->offset + r->count;
        if (r->next_offset != 0 && r->next_offset < end)
            return refuse(why, VMSG_E_FIELD_RANGE,
                          "GET_DEVICES: next_offset %u is below offset + count = %u",
                          r->next_offset, end);
    }
    return VMSG_OK;
}

enum vmsg_verdict vmsg_decode(const struct vmsg_wire *wire, const void *buf,
                              size_t len, unsigned flags, struct vmsg_msg *out,
                              struct vmsg_problem *why)
{
    const struct vmsg_layout *table = vmsg_layout_table(wire->layout);
    const uint8_t *p = buf;
    struct vmsg_header h;

    if (why)
        memset(why, 0, sizeof(*why));
    memset(out, 0, sizeof(*out));
    if (!table)
        return refuse(why, VMSG_E_UNKNOWN_ID, "no layout table for version %d", wire->layout);
    if (!vmsg_peek_header(buf, len, &h))
        return refuse(why, VMSG_E_SHORT, "%zu bytes is shorter than the 8-byte header", len);
    if (h.msg_size < VMSG_HEADER_SIZE)
        return refuse(why, VMSG_E_SIZE_UNDER_HEADER, "msg_size %u is smaller than the 8-byte header",
                      h.msg_size);
    if (h.msg_size != len)
        return refuse(why, VMSG_E_SIZE_MISMATCH, "msg_size %u but %zu bytes received", h.msg_size, len);
    if (h.msg_size > wire->max_msg_size)
        return refuse(why, VMSG_E_SIZE_OVER_MAX, "msg_size %u exceeds the bus maximum %u",
                      h.msg_size, wire->max_msg_size);

    bool bus = h.type & VMSG_TYPE_BUS;
    bool response = h.type & VMSG_TYPE_RESPONSE;
    if (h.type & VMSG_TYPE_RESERVED_MASK) {
        if (flags & VMSG_DECODE_STRICT)
            return refuse(why, VMSG_E_RESERVED, "type 0x%02x has reserved bits 2..7 set", h.type);
        note_ignored(why, "type reserved bits 0x%02x ignored", h.type & VMSG_TYPE_RESERVED_MASK);
    }
    if (response && (h.msg_id & VMSG_ID_EVENT_BIT))
        return refuse(why, VMSG_E_EVENT_RESPONSE, "%s msg_id 0x%02x is an event but the response bit is set",
                      bus ? "bus" : "transport", h.msg_id);
    const struct vmsg_layout *l = find_layout(table, bus, response, h.msg_id);
    if (!l)
        return refuse(why, VMSG_E_UNKNOWN_ID, "unknown %s %s msg_id 0x%02x",
                      bus ? "bus" : "transport", response ? "response" : "request/event", h.msg_id);
    if (bus && h.dev_num != 0) {
        if (flags & VMSG_DECODE_STRICT)
            return refuse(why, VMSG_E_RESERVED, "%s: bus message with dev_num %u, must be 0", l->name, h.dev_num);
        note_ignored(why, "%s: dev_num %u of a bus message ignored", l->name, h.dev_num);
    }

    size_t payload = len - VMSG_HEADER_SIZE;
    if (payload < l->fixed_size || (l->tail == VMSG_TAIL_NONE && payload != l->fixed_size))
        return refuse(why, VMSG_E_PAYLOAD_SIZE, "%s %s: payload is %zu bytes, expected %s%u",
                      l->name, response ? "response" : l->event ? "event" : "request", payload,
                      l->tail == VMSG_TAIL_NONE ? "" : "at least ", l->fixed_size);

    out->kind = l->kind;
    out->hdr = h;
    for (unsigned i = 0; i < l->nfields; i++) {
        const struct vmsg_field_layout *f = &l->fields[i];
        uint64_t v = wire_load(p + VMSG_HEADER_SIZE + f->wire_off, f->size);
        enum vmsg_verdict verdict = check_field(l, f, v, flags, why);
        if (verdict != VMSG_OK)
            return verdict;
        field_store(out, f, v);
    }

    if (l->tail != VMSG_TAIL_NONE) {
        const struct vmsg_field_layout *cf = &l->fields[l->tail_count_field];
        uint64_t count = field_load(out, cf);
        uint64_t want = tail_expected(l, count);
        size_t have = payload - l->fixed_size;
        bool ok = have == want || (l->tail == VMSG_TAIL_BYTES_OR_EMPTY && have == 0);
        if (!ok)
            return refuse(why, VMSG_E_TAIL_SIZE, "%s: %s = %" PRIu64 " needs %" PRIu64
                          " bytes of %s, message has %zu",
                          l->name, cf->name, count, want, l->tail_name, have);
        out->tail_len = (uint32_t)have;
        *tail_slot(out, l) = have ? p + VMSG_HEADER_SIZE + l->fixed_size : NULL;
    }
    return check_cross_fields(out, why);
}

int vmsg_encode(const struct vmsg_wire *wire, const struct vmsg_msg *m, void *buf, size_t cap)
{
    const struct vmsg_layout *table = vmsg_layout_table(wire->layout);
    if (!table || (unsigned)m->kind >= VMSG_KIND_COUNT)
        return -EINVAL;
    const struct vmsg_layout *l = &table[m->kind];

    uint64_t tail = 0;
    const uint8_t *tail_src = NULL;
    if (l->tail != VMSG_TAIL_NONE) {
        tail = tail_expected(l, field_load(m, &l->fields[l->tail_count_field]));
        if (l->tail == VMSG_TAIL_BYTES_OR_EMPTY) {
            if (m->tail_len != 0 && m->tail_len != tail)
                return -EINVAL;
            tail = m->tail_len;
        }
        tail_src = *tail_slot((struct vmsg_msg *)m, l);
        if (tail && !tail_src)
            return -EINVAL;
    }
    uint64_t total = VMSG_HEADER_SIZE + l->fixed_size + tail;
    if (total > wire->max_msg_size || total > VMSG_LIMIT_MAX_MSG_SIZE)
        return -EMSGSIZE;
    if (total > cap)
        return -ENOSPC;

    uint8_t *p = buf;
    memset(p, 0, VMSG_HEADER_SIZE + l->fixed_size);
    p[0] = (uint8_t)((l->bus ? VMSG_TYPE_BUS : 0) | (l->response ? VMSG_TYPE_RESPONSE : 0));
    p[1] = l->msg_id;
    vmsg_put_le16(p + 2, l->bus ? 0 : m->hdr.dev_num);
    vmsg_put_le16(p + 4, m->hdr.token);
    vmsg_put_le16(p + 6, (uint16_t)total);
    for (unsigned i = 0; i < l->nfields; i++) {
        const struct vmsg_field_layout *f = &l->fields[i];
        /* Reserved fields are always sent as zero, whatever the caller left. */
        uint64_t v = f->rule == VMSG_FR_RESERVED ? 0 : field_load(m, f);
        wire_store(p + VMSG_HEADER_SIZE + f->wire_off, f->size, v);
    }
    if (tail)
        memcpy(p + VMSG_HEADER_SIZE + l->fixed_size, tail_src, (size_t)tail);
    return (int)total;
}

bool vmsg_layout_field(const struct vmsg_wire *wire, const struct vmsg_msg *m,
                       unsigned i, struct vmsg_field_view *out)
{
    const struct vmsg_layout *table = vmsg_layout_table(wire->layout);
    if (!table || (unsigned)m->kind >= VMSG_KIND_COUNT || i >= table[m->kind].nfields)
        return false;
    const struct vmsg_field_layout *f = &table[m->kind].fields[i];
    out->name = f->name;
    out->wire_size = f->size;
    out->reserved = f->rule == VMSG_FR_RESERVED;
    out->value = field_load(m, f);
    return true;
}

void vmsg_layout_tail(const struct vmsg_wire *wire, const struct vmsg_msg *m,
                      struct vmsg_tail_view *out)
{
    const struct vmsg_layout *table = vmsg_layout_table(wire->layout);
    memset(out, 0, sizeof(*out));
    if (!table || (unsigned)m->kind >= VMSG_KIND_COUNT)
        return;
    const struct vmsg_layout *l = &table[m->kind];
    if (l->tail == VMSG_TAIL_NONE)
        return;
    out->name = l->tail_name;
    out->elem_size = l->tail == VMSG_TAIL_LE32_X_COUNT ? 4 : 1;
    out->bytes = *tail_slot((struct vmsg_msg *)m, l);
    out->len = m->tail_len;
}

enum vmsg_kind vmsg_response_kind(enum vmsg_kind request)
{
    const struct vmsg_layout *t = vmsg_layout_table(VMSG_LAYOUT_V1);
    if ((unsigned)request >= VMSG_KIND_COUNT || t[request].response || t[request].event)
        return VMSG_KIND_COUNT;
    return find_layout(t, t[request].bus, true, t[request].msg_id)->kind;
}

bool vmsg_kind_is_bus(enum vmsg_kind kind)
{
    return (unsigned)kind < VMSG_KIND_COUNT && vmsg_layout_table(VMSG_LAYOUT_V1)[kind].bus;
}
