/*
 * bench/bench_proto.c: vmsg_decode (with validation, as the bus ends call
 * it: a struct vmsg_problem to fill) and vmsg_encode of one sample message
 * of every kind, per message. The decode and encode of a kind are separate
 * cases that take turns (bench.h), so their ratio is measured side by side.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "proto/vmsg_proto.h"

static const struct vmsg_wire wire = { VMSG_LAYOUT_V1, VMSG_RECOMMENDED_MAX_MSG_SIZE };

/* Variable parts: config bytes, two feature blocks, a 256-device bitmap. */
static uint8_t tail_bytes[256];

struct kind_ctx {
    struct vmsg_msg msg;                /* what encode encodes */
    uint8_t wire_buf[VMSG_RECOMMENDED_MAX_MSG_SIZE];    /* what decode decodes */
    size_t len;
};

static struct kind_ctx kinds[VMSG_KIND_COUNT];

/* A valid message of kind k with typical sizes: GET_CONFIG carries the
 * largest chunk a 264-byte bus allows (244 bytes), SET_CONFIG 8 bytes. */
static void sample(enum vmsg_kind k, struct vmsg_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->kind = k;
    m->hdr.dev_num = 1;
    m->hdr.token = 7;
    switch (k) {
    case VMSG_K_GET_DEVICE_INFO_RESP:
        m->u.get_device_info_resp = (struct vmsg_device_info){ 2, 0x584e4558, 64, 60, 4, 0, 0 };
        break;
    case VMSG_K_GET_DEVICE_FEATURES_REQ:
        m->u.get_device_features_req = (struct vmsg_feature_blocks){ 0, 2, NULL };
        break;
    case VMSG_K_GET_DEVICE_FEATURES_RESP:
    case VMSG_K_SET_DRIVER_FEATURES_REQ:
        m->u.get_device_features_resp = (struct vmsg_feature_blocks){ 0, 2, tail_bytes };
        break;
    case VMSG_K_GET_CONFIG_REQ:
        m->u.get_config_req = (struct vmsg_config_range){ 0, 244 };
        break;
    case VMSG_K_GET_CONFIG_RESP:
        m->u.get_config_resp = (struct vmsg_config_data){ 1, 0, 244, tail_bytes };
        break;
    case VMSG_K_SET_CONFIG_REQ:
    case VMSG_K_SET_CONFIG_RESP:
        m->u.set_config_req = (struct vmsg_config_data){ 1, 0, 8, tail_bytes };
        m->tail_len = 8;
        break;
    case VMSG_K_GET_DEVICE_STATUS_RESP:
    case VMSG_K_SET_DEVICE_STATUS_REQ:
    case VMSG_K_SET_DEVICE_STATUS_RESP:
        m->u.set_device_status_req.status = 0x0f;
        break;
    case VMSG_K_GET_VQUEUE_RESP:
        m->u.get_vqueue_resp = (struct vmsg_vqueue_info){ 0, 256, 256, 0, 0x1000, 0x2000, 0x3000 };
        break;
    case VMSG_K_SET_VQUEUE_REQ:
        m->u.set_vqueue_req = (struct vmsg_vqueue_setup){ 0, 0, 256, 0, 0x1000, 0x2000, 0x3000 };
        break;
    case VMSG_K_GET_SHM_RESP:
        m->u.get_shm_resp = (struct vmsg_shm_info){ 0, 4096, 0x10000 };
        break;
    case VMSG_K_EVENT_CONFIG:
        m->u.event_config = (struct vmsg_event_config){ 0x0f, 2, 0, 8, tail_bytes };
        m->tail_len = 8;
        break;
    case VMSG_K_EVENT_AVAIL:
        m->u.event_avail = (struct vmsg_event_avail){ 0, 5 };
        break;
    case VMSG_K_BUS_GET_DEVICES_REQ:
        m->u.get_devices_req = (struct vmsg_get_devices_req){ 0, 256 };
        break;
    case VMSG_K_BUS_GET_DEVICES_RESP:
        m->u.get_devices_resp = (struct vmsg_get_devices_resp){ 0, 256, 0, tail_bytes };
        break;
    case VMSG_K_BUS_PING_REQ:
    case VMSG_K_BUS_PING_RESP:
        m->u.ping_req.data = 0x12345678;
        break;
    case VMSG_K_BUS_EVENT_DEVICE:
        m->u.event_device = (struct vmsg_event_device){ 1, VMSG_DEVICE_BUS_STATE_READY };
        break;
    default:        /* the rest have only indices left at 0, or no payload */
        break;
    }
}

static int run_decode(void *ctx, uint64_t n)
{
    struct kind_ctx *k = ctx;
    struct vmsg_msg out;
    struct vmsg_problem why;
    for (uint64_t i = 0; i < n; i++)
        if (vmsg_decode(&wire, k->wire_buf, k->len, 0, &out, &why) != VMSG_OK)
            return -EBADMSG;
    return 0;
}

static int run_encode(void *ctx, uint64_t n)
{
    struct kind_ctx *k = ctx;
    uint8_t buf[VMSG_RECOMMENDED_MAX_MSG_SIZE];
    for (uint64_t i = 0; i < n; i++) {
        int rc = vmsg_encode(&wire, &k->msg, buf, sizeof(buf));
        if (rc < 0)
            return rc;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    struct bench_case cases[2 * VMSG_KIND_COUNT];

    bench_parse(argc, argv, 3.0, NULL, NULL, &o);
    for (size_t i = 0; i < sizeof(tail_bytes); i++)
        tail_bytes[i] = (uint8_t)i;
    for (unsigned k = 0; k < VMSG_KIND_COUNT; k++) {
        struct kind_ctx *c = &kinds[k];
        sample((enum vmsg_kind)k, &c->msg);
        int len = vmsg_encode(&wire, &c->msg, c->wire_buf, sizeof(c->wire_buf));
        if (len < 0) {
            fprintf(stderr, "bench-proto: cannot encode the %s sample: %s\n",
                    vmsg_kind_name((enum vmsg_kind)k), strerror(-len));
            return 1;
        }
        c->len = (size_t)len;
        const char *name = vmsg_kind_name((enum vmsg_kind)k), *role = vmsg_kind_role((enum vmsg_kind)k);
        cases[2 * k] = (struct bench_case){ .run = run_decode, .ctx = c };
        snprintf(cases[2 * k].name, sizeof(cases[0].name), "decode %s.%s", name, role);
        cases[2 * k + 1] = (struct bench_case){ .run = run_encode, .ctx = c };
        snprintf(cases[2 * k + 1].name, sizeof(cases[0].name), "encode %s.%s", name, role);
    }

    bench_print_machine("bench-proto");
    int rc = bench_run(&o, cases, 2 * VMSG_KIND_COUNT);
    if (rc < 0) {
        fprintf(stderr, "bench-proto: %s\n", strerror(-rc));
        return 1;
    }
    if (bench_counted(&o))
        printf("# counted mode: %llu messages per case; per-case Ir from bench/callgrind.sh\n",
               (unsigned long long)o.iterations);
    else
        printf("# timed mode: %.1f s in all, decode and encode cases interleaved\n", o.seconds);
    printf("%-30s %5s %12s %12s %9s\n", "message", "bytes", "decode ns", "encode ns", "dec/enc");
    double sum_dec = 0, sum_enc = 0;
    unsigned nboth = 0;
    for (unsigned k = 0; k < VMSG_KIND_COUNT; k++) {
        const struct bench_case *d = &cases[2 * k], *e = &cases[2 * k + 1];
        if (!d->ops && !e->ops)
            continue;
        char label[48];
        snprintf(label, sizeof(label), "%s.%s", vmsg_kind_name((enum vmsg_kind)k),
                 vmsg_kind_role((enum vmsg_kind)k));
        printf("%-30s %5zu %12.1f %12.1f", label, kinds[k].len, bench_ns_per_op(d), bench_ns_per_op(e));
        if (d->ops && e->ops) {
            printf(" %9.2f", bench_ns_per_op(d) / bench_ns_per_op(e));
            sum_dec += bench_ns_per_op(d);
            sum_enc += bench_ns_per_op(e);
            nboth++;
        }
        putchar('\n');
    }
    if (nboth)
        printf("%-30s %5s %12.1f %12.1f %9.2f\n", "mean over kinds", "", sum_dec / nboth,
               sum_enc / nboth, sum_dec / sum_enc);
    return 0;
}
