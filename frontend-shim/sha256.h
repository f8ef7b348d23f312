/*
 * frontend-shim/sha256.h: SHA-256 (FIPS 180-4), for `vmsg-front blk
 * verify`, so a guest image needs no crypto library.
 */
#ifndef VMSG_FRONT_SHA256_H
#define VMSG_FRONT_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct vmsg_sha256 {
    uint32_t h[8];
    uint64_t len;           /* bytes hashed so far */
    uint8_t buf[64];
    size_t fill;
};

void vmsg_sha256_init(struct vmsg_sha256 *s);
void vmsg_sha256_update(struct vmsg_sha256 *s, const void *data, size_t len);
/* The digest as 64 lowercase hex digits and a NUL. */
void vmsg_sha256_hex(struct vmsg_sha256 *s, char hex[65]);

#endif
