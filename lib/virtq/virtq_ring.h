/*
 * lib/virtq/virtq_ring.h: the split ring's field offsets (virtio 1.x 2.7.6,
 * 2.7.8) and the one-access-each accessors both sides use on it. Private to
 * lib/virtq.
 *
 * Ring fields are naturally aligned (both sides check the ring addresses),
 * so a relaxed atomic access is a single untorn load or store that the
 * compiler can neither repeat nor split: a value read from shared memory is
 * read exactly once.
 */
#ifndef VMSG_VIRTQ_RING_H
#define VMSG_VIRTQ_RING_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>

#define AVAIL_FLAGS     0
#define AVAIL_IDX       2
#define AVAIL_RING(i)   (4 + 2 * (size_t)(i))
#define USED_FLAGS      0
#define USED_IDX        2
#define USED_RING(i)    (4 + 8 * (size_t)(i))

static inline uint16_t shm_load16(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
}

static inline uint32_t shm_load32(const uint8_t *p)
{
    return le32toh(__atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED));
}

static inline void shm_store16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELAXED);
}

static inline void shm_store32(uint8_t *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)(void *)p, htole32(v), __ATOMIC_RELAXED);
}

#endif
