/*
 * tests/support/model_pump.h: the device end of a loopback rig, served in a
 * thread shaped like vmsg-backend's loop (backend/bus_instance.c): one
 * poll() over the bus fd and the device model's own fds. Shared by the
 * device-model tests (tests/unit/test_devices.c) and the blk benchmark
 * (bench/bench_blk.c), so both measure and test the same serving loop.
 */
#ifndef VMSG_TESTS_MODEL_PUMP_H
#define VMSG_TESTS_MODEL_PUMP_H

#include <pthread.h>
#include <stdbool.h>

#include "transport/vmsg_device.h"

struct vmsg_device;

struct model_pump {
    struct vmsg_devbus *db;         /* the device side the bus fd wakes */
    struct vmsg_device *dev;        /* the one model whose fds are polled */
    pthread_t thread;
    volatile bool stop;
    unsigned long turns;            /* loop turns so far (atomic) */
};

/* Serve `dev` on `db` until model_pump_stop(). 0 or -errno. */
int model_pump_start(struct model_pump *p, struct vmsg_devbus *db, struct vmsg_device *dev);

/* Stop the thread and wait for it (within one poll round, 20 ms). */
void model_pump_stop(struct model_pump *p);

#endif
