/*
 * lib/virtio/virtio_blk.h: the virtio-blk wire format (virtio 1.x section
 * 5.2): feature bits, request types, status values and config-space
 * offsets, shared by the device model (backend/devices/blk.c) and the
 * userspace driver (frontend-shim/drivers/drv_blk.c) so the two cannot
 * drift apart.
 */
#ifndef VMSG_VIRTIO_BLK_H
#define VMSG_VIRTIO_BLK_H

#define VIRTIO_ID_BLOCK             2

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_TOPOLOGY       10
#define VIRTIO_BLK_F_MQ             12
#define VIRTIO_BLK_F_DISCARD        13
#define VIRTIO_BLK_F_WRITE_ZEROES   14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_DISCARD        11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_S_OK             0
#define VIRTIO_BLK_S_IOERR          1
#define VIRTIO_BLK_S_UNSUPP         2

#define VIRTIO_BLK_ID_BYTES         20
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u
#define VIRTIO_BLK_SECTOR_SIZE      512u
#define VIRTIO_BLK_HDR_SIZE         16u     /* type, reserved, sector */
#define VIRTIO_BLK_SEG_SIZE         16u     /* discard / write zeroes segment */

/* Config space offsets (5.2.4, struct virtio_blk_config). */
#define VIRTIO_BLK_CFG_CAPACITY             0
#define VIRTIO_BLK_CFG_SEG_MAX              12
#define VIRTIO_BLK_CFG_BLK_SIZE             20
#define VIRTIO_BLK_CFG_PHYS_BLOCK_EXP       24
#define VIRTIO_BLK_CFG_MIN_IO_SIZE          26
#define VIRTIO_BLK_CFG_NUM_QUEUES           34
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS  36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG      40
#define VIRTIO_BLK_CFG_DISCARD_ALIGNMENT    44
#define VIRTIO_BLK_CFG_MAX_WZ_SECTORS       48
#define VIRTIO_BLK_CFG_MAX_WZ_SEG           52
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP         56
#define VIRTIO_BLK_CONFIG_SIZE              60u

#endif
