/*
 * tests/unit/test_vmsgctl_env.h: what the toolstack tests share: a fake
 * machine with dom0 (the toolstack), a backend driver domain and a guest,
 * vmsgctl subcommands run on it from dom0 with their output captured, and
 * seeding of the nodes the bus ends would write.
 */
#ifndef VMSG_TEST_VMSGCTL_ENV_H
#define VMSG_TEST_VMSGCTL_ENV_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_xen_env.h"
#include "tools/vmsgctl.h"

#define T_BE ENV_BE         /* "driver", a driver domain: permissions really apply */
#define T_FE ENV_FE         /* "guest" */

static struct fake_xen *t_fx;

/* The machine every test starts from. */
static inline int t_setup(void)
{
    t_fx = fake_xen_new();
    if (!t_fx || fake_xen_add_domain(t_fx, T_BE, "driver") ||
        fake_xen_add_domain(t_fx, T_FE, "guest"))
        return 1;
    return 0;
}

static inline int t_teardown(void)
{
    fake_xen_free(t_fx);
    t_fx = NULL;
    return 0;
}

/* vmsgctl in dom0: a locked handle, so a backend thread may run alongside. */
static int t_open_dom0(struct vmsg_platform **p, char *err, size_t errlen)
{
    int rc = env_open(t_fx, 0, p);

    if (rc)
        snprintf(err, errlen, "fake open: %d", rc);
    return rc;
}

/* What one subcommand printed, and its exit status. */
struct t_run {
    int status;
    char *out, *err;
};

static inline void t_run_free(struct t_run *r)
{
    free(r->out);
    free(r->err);
}

/* Run cmd (NULL-terminated arguments, argv[0] the subcommand name). */
static inline struct t_run t_vmsgctl(int (*cmd)(const struct vmsgctl_env *, int, char **), ...)
{
    struct t_run r = { 0 };
    size_t olen, elen;
    struct vmsgctl_env env = { t_open_dom0, open_memstream(&r.out, &olen),
                               open_memstream(&r.err, &elen) };
    char *argv[32];
    int argc = 0;
    va_list ap;

    va_start(ap, cmd);
    while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    /* getopt permutes argv; the strings are literals, so copy them. */
    for (int i = 0; i < argc; i++)
        argv[i] = strdup(argv[i]);
    r.status = cmd(&env, argc, argv);
    fclose(env.out);
    fclose(env.err);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return r;
}

/* Write a node as dom0 (seeding what a bus end would have written). */
static inline void t_put(const char *path, const char *value)
{
    struct vmsg_platform *p;

    if (fake_platform_open(t_fx, 0, &p))
        return;
    vmsg_plat_xs_write(p, VMSG_XS_TX_NONE, path, value, strlen(value));
    vmsg_plat_close(p);
}

static inline void t_rm(const char *path)
{
    struct vmsg_platform *p;

    if (fake_platform_open(t_fx, 0, &p))
        return;
    vmsg_plat_xs_rm(p, VMSG_XS_TX_NONE, path);
    vmsg_plat_close(p);
}

/* A node's value read as dom0, malloc()ed, or NULL. */
static inline char *t_get(const char *path)
{
    struct vmsg_platform *p;
    char *v = NULL;

    if (fake_platform_open(t_fx, 0, &p))
        return NULL;
    if (vmsg_plat_xs_read(p, VMSG_XS_TX_NONE, path, &v, NULL))
        v = NULL;
    vmsg_plat_close(p);
    return v;
}

/* A node's permissions as dom0, formatted ("n3 r1"), or "" if unreadable. */
static inline void t_perms(const char *path, char *buf, size_t len)
{
    struct vmsg_platform *p;
    struct vmsg_xs_perm *perms = NULL;
    unsigned n = 0;

    buf[0] = '\0';
    if (fake_platform_open(t_fx, 0, &p))
        return;
    if (!vmsg_plat_xs_get_perms(p, VMSG_XS_TX_NONE, path, &perms, &n))
        vmsg_xs_perms_format(perms, n, buf, len);
    free(perms);
    vmsg_plat_close(p);
}

#define T_F "/local/domain/3/device/virtio-msg/0"
#define T_B "/local/domain/1/backend/virtio-msg/3/0"

#endif
