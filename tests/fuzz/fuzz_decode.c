/*
 * tests/fuzz/fuzz_decode.c: libFuzzer target for lib/proto decode+validate
 * and the JSON renderer. The first input byte picks the bus maximum and the
 * strictness; the rest is one message. Invariants checked beyond "no crash,
 * no out-of-bounds read": a message the validator accepts re-encodes to the
 * same bytes (up to the reserved bits the encoder zeroes) and decodes again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_proto.h"
#include "trace/vmsg_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t maxima[] = { 44, 48, 64, 264, 4096, 65535 };
    static char json[4 * 65536 + 4096];
    if (size < 1)
        return 0;
    struct vmsg_wire wire = { VMSG_LAYOUT_V1, maxima[data[0] % 6] };
    unsigned flags = data[0] & 0x80 ? VMSG_DECODE_STRICT : 0;
    /* A private copy of exactly `size - 1` bytes, so ASan sees any overread. */
    size_t len = size - 1;
    uint8_t *msg = malloc(len ? len : 1);
    memcpy(msg, data + 1, len);

    struct vmsg_msg m, again;
    struct vmsg_problem why;
    if (vmsg_decode(&wire, msg, len, flags, &m, &why) == VMSG_OK) {
        uint8_t out[65536];
        int n = vmsg_encode(&wire, &m, out, sizeof(out));
        if (n != (int)len)
            abort();
        /* Encoding zeroes reserved type bits, reserved fields and a bus
         * message's dev_num; with strict decoding they were zero already. */
        if (flags && memcmp(out, msg, len))
            abort();
        if (vmsg_decode(&wire, out, (size_t)n, VMSG_DECODE_STRICT, &again, &why) != VMSG_OK ||
            again.kind != m.kind || again.tail_len != m.tail_len)
            abort();
    }
    vmsg_json_render(&wire, flags, msg, len, json, sizeof(json));
    free(msg);
    return 0;
}
