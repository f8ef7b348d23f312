/*
 * tools/vmsgctl_backend.h: asking the vmsg-backend of this domain what its
 * bus instances are doing, through its control socket (the protocol is
 * backend/control.h: "status\n" -> one JSON object).
 *
 * Owns: the client side of that socket (connect, one request, the answer
 * read within a time limit) and the parsing of the answer (yajl) into
 * plain structs `vmsgctl status` merges with what xenstore says.
 */
#ifndef VMSGCTL_BACKEND_H
#define VMSGCTL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* vmsg-backend's default --control. */
#define VMSGCTL_CONTROL_DEFAULT "/run/vmsg-backend/control"
#define VMSGCTL_CONTROL_TIMEOUT_MS 2000
#define VMSGCTL_CONTROL_ANSWER_MAX (1u << 20)

/* One bus instance as the backend sees it. */
struct vmsgctl_backend_bus {
    uint32_t fe;
    unsigned bus;
    long state;
    bool connected;                 /* the ring fields hold */
    uint32_t to_backend_used, to_backend_size;
    uint32_t to_frontend_used, to_frontend_size;
    uint64_t received, sent, dropped_malformed, dropped_unexpected;
    uint64_t kicks_sent, kicks_received;
};

struct vmsgctl_backend {
    uint32_t backend_id;            /* the domain the backend serves from */
    long pid;
    struct vmsgctl_backend_bus *buses;
    unsigned n;
};

/*
 * Ask the backend at `path`. Returns 0 and *out (free with
 * vmsgctl_backend_free), or -errno with the reason in err: the socket's
 * (-ENOENT, -ECONNREFUSED: no backend there), -ETIMEDOUT, -EPROTO (an
 * answer that is not the status object).
 */
int vmsgctl_backend_query(const char *path, struct vmsgctl_backend *out, char *err,
                          size_t errlen);

/* Parse a status answer. 0, or -EPROTO with the reason in err. */
int vmsgctl_backend_parse(const char *json, struct vmsgctl_backend *out, char *err,
                          size_t errlen);

void vmsgctl_backend_free(struct vmsgctl_backend *b);

/* The backend's entry for bus `bus` of frontend `fe`, or NULL. */
const struct vmsgctl_backend_bus *vmsgctl_backend_find(const struct vmsgctl_backend *b,
                                                       uint32_t fe, unsigned bus);

#endif
