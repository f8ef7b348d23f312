/*
 * backend/back_stats.h: what one bus instance of vmsg-backend reports
 * about itself (vmsgctl status, through the control socket).
 *
 * The instance's thread fills a struct vmsg_back_stats after each turn of
 * its loop and publishes the copy (bus_instance.h); the daemon's thread
 * only ever reads published copies, never the instance's shared pages.
 */
#ifndef VMSG_BACKEND_BACK_STATS_H
#define VMSG_BACKEND_BACK_STATS_H

#include <stdbool.h>
#include <stdint.h>

struct vmsg_back_stats {
    uint32_t fe_domid;
    unsigned index;
    unsigned state;                 /* B/state as the instance last wrote it */
    bool connected;                 /* channel mapped: the ring fields hold */
    /* Bytes waiting in each ring of the channel / its size. */
    uint32_t to_backend_used, to_backend_size;
    uint32_t to_frontend_used, to_frontend_size;
    /* Since the instance started: the devbus's counters, and the event
     * channel kicks of every connection (a reconnect within one turn of
     * the loop may lose the last few of the old connection). */
    uint64_t received, sent, dropped_malformed, dropped_unexpected;
    /* Messages that had to wait for room in the left ring (back-pressure,
     * docs/protocol.md section 4.7), and those never sent (the frontend
     * went, or the outbox was full). */
    uint64_t held, lost;
    uint64_t kicks_sent, kicks_received;
};

#endif
