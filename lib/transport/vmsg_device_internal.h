/*
 * lib/transport/vmsg_device_internal.h: what vmsg_device.c and
 * vmsg_devbus.c share and nobody else calls.
 */
#ifndef VMSG_DEVICE_INTERNAL_H
#define VMSG_DEVICE_INTERNAL_H

#include "transport/vmsg_device.h"

/* Answer one validated transport message addressed to dev. Returns true
 * and fills *resp (its pointers may reference scratch, which holds at least
 * max_msg_size bytes) when a response must be sent. */
bool vmsg_device_handle(struct vmsg_device *dev, const struct vmsg_msg *req,
                        struct vmsg_msg *resp, uint8_t *scratch);

/* Status 0: the model drops queue work and every queue stops. */
void vmsg_device_reset(struct vmsg_device *dev);

/* Encode and send on the devbus's bus, counting it. */
int vmsg_devbus_send(struct vmsg_devbus *db, const struct vmsg_msg *m);

#endif
