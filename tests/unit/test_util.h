/*
 * tests/unit/test_util.h: small helpers the unit tests share.
 */
#ifndef VMSG_TEST_UTIL_H
#define VMSG_TEST_UTIL_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>

/* Hex digits with any spacing to bytes; returns the byte count. */
static inline size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex && n < cap; hex++) {
        if (isspace((unsigned char)*hex))
            continue;
        int v = isdigit((unsigned char)*hex) ? *hex - '0' : tolower((unsigned char)*hex) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

#endif
