/*
 * tools/vmsgctl_create.c: `vmsgctl create CFG` (xl create -p, attach every
 * virtio_msg entry, xl unpause) and `vmsgctl apply DOMAIN [CFG]` (attach
 * the entries to a running domain). xl-virtio-msg(5).
 *
 * create checks every entry before xl runs, so a bad config creates
 * nothing; once the domain exists, any failure destroys it and removes
 * the nodes create wrote.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/vmsgctl.h"
#include "tools/vmsgctl_xl.h"
#include "tools/vmsgctl_xs.h"

static void create_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl create CFG [XL-CREATE-OPTION...] [KEY=VALUE...]\n"
        "\n"
        "Create the domain of the xl config file CFG with its virtio-msg devices:\n"
        "check every virtio_msg entry (xl-virtio-msg(5)), run `xl create -p CFG\n"
        "[OPTION...]`, attach each entry to the new domain (found by the config's\n"
        "name), then `xl unpause` it, so the guest finds its devices at boot.\n"
        "KEY=VALUE arguments are added to the config as xl create adds them.\n"
        "On any failure the domain is destroyed and the nodes written are removed.\n"
        "\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 created and running, 1 failed (nothing left), 2 usage.\n");
}

static void apply_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl apply [--config-dir DIR] DOMAIN [CFG]\n"
        "\n"
        "Attach the virtio_msg entries of an xl config (xl-virtio-msg(5)) to the\n"
        "running DOMAIN (a name or an id). Without CFG, the config xl stored for\n"
        "the domain (userdata \"xl\", written by `xl config-update`), else\n"
        "DIR/NAME.cfg, else DIR/NAME (DIR: " VMSGCTL_XL_CONFIG_DIR "). Every entry is\n"
        "checked first; a domain that has virtio-msg devices already is refused.\n"
        "\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 attached, 1 failed, 2 usage.\n");
}

static void note_stream(void *arg, const char *line)
{
    fprintf(arg, "%s\n", line);
}

/* Run argv (xl ...) and wait: 0 when it exited 0, else -1 with why in err. */
static int run(char *const *argv, char *err, size_t errlen)
{
    int status;
    pid_t pid = fork();

    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "vmsgctl: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "waiting for %s: %s", argv[0], strerror(errno));
            return -1;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(err, errlen, "`%s %s` exited with status %d", argv[0], argv[1],
                 WEXITSTATUS(status));
    else
        snprintf(err, errlen, "`%s %s` was killed by signal %d", argv[0], argv[1],
                 WTERMSIG(status));
    return -1;
}

/* The claim `vmsgctl watch` respects (vmsgctl_xl.h); false with err. */
static bool claim(const char *name, char *path, size_t len, char *err, size_t errlen)
{
    char pid[32];
    int fd, n;

    if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
        snprintf(err, errlen, "name '%s': not usable as a domain name", name);
        return false;
    }
    mkdir("/run/vmsgctl", 0755);
    mkdir(VMSGCTL_XL_CLAIM_DIR, 0755);
    snprintf(path, len, "%s/%s", VMSGCTL_XL_CLAIM_DIR, name);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (write(fd, pid, (size_t)n) != n) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return false;
    }
    close(fd);
    return true;
}

int vmsgctl_create(const struct vmsgctl_env *env, int argc, char **argv)
{
    struct xs_schema *schema = NULL;
    struct vmsg_platform *p = NULL;
    struct vmsgctl_xl_bus *made = NULL;
    unsigned nmade = 0;
    struct xlcfg cfg = { 0 };
    char err[1024], why[1024], claim_path[512] = "", label[300], num[16];
    char *extra = NULL, **xl = NULL;
    size_t extra_len = 0;
    FILE *ex = NULL;
    uint32_t domid = 0;
    bool created = false;
    int status = 1, rc, nx = 0;

    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            create_usage(env->out);
            return 0;
        }
        fprintf(env->err, "vmsgctl create: CFG is missing\n");
        create_usage(env->err);
        return 2;
    }
    /* The KEY=VALUE arguments xl appends to the config: the same here. */
    if (!(ex = open_memstream(&extra, &extra_len)) || !(xl = calloc((size_t)argc + 4, sizeof(*xl)))) {
        fprintf(env->err, "vmsgctl create: out of memory\n");
        goto out;
    }
    xl[nx++] = "xl";
    xl[nx++] = "create";
    xl[nx++] = "-p";
    xl[nx++] = argv[1];
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] != '-' && strchr(argv[i], '='))
            fprintf(ex, "%s\n", argv[i]);
        xl[nx++] = argv[i];
    }
    fclose(ex);
    ex = NULL;
    if ((rc = xs_schema_parse(xs_schema_builtin_json, &schema, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl create: built-in schema: %s\n", err);
        goto out;
    }
    if (xlcfg_read_file(schema, argv[1], extra_len ? extra : NULL, &cfg, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl create: %s (no domain created)\n", err);
        goto out;
    }
    if (!cfg.name) {
        fprintf(env->err, "vmsgctl create: %s has no name = \"...\": vmsgctl finds the new "
                "domain by its name (no domain created)\n", argv[1]);
        goto out;
    }
    if ((rc = env->open(&p, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl create: %s\n", err);
        goto out;
    }
    /* Every backend must exist before anything is made. */
    for (unsigned i = 0; i < cfg.count; i++) {
        struct xlcfg_entry *e = &cfg.entries[i];

        if (e->backend && vmsgctl_domain_resolve(p, e->backend, &e->req.be, why, sizeof(why))) {
            fprintf(env->err, "vmsgctl create: %s: virtio_msg[%d] \"%s\": key backend: %s "
                    "(no domain created)\n", argv[1], e->index, e->text, why);
            goto out;
        }
    }
    if (!vmsgctl_domain_resolve(p, cfg.name, &domid, why, sizeof(why))) {
        fprintf(env->err, "vmsgctl create: a domain named '%s' exists already (domain %u)\n",
                cfg.name, domid);
        goto out;
    }
    if (!claim(cfg.name, claim_path, sizeof(claim_path), err, sizeof(err))) {
        claim_path[0] = '\0';
        fprintf(env->err, "vmsgctl create: %s\n", err);
        goto out;
    }
    fflush(env->out);
    fflush(env->err);
    if (run(xl, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl create: %s (see its messages above)\n", err);
        goto out;
    }
    if ((rc = vmsgctl_domain_resolve(p, cfg.name, &domid, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl create: after xl create: %s\n", err);
        goto out;
    }
    created = true;
    snprintf(label, sizeof(label), "%s(%u)", cfg.name, domid);
    if ((rc = vmsgctl_xl_attach_all(p, domid, label, &cfg, &made, &nmade, note_stream,
                                    env->out, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl create: domain %s: %s\n", label, err);
        goto out;
    }
    snprintf(num, sizeof(num), "%u", domid);
    {
        char *unpause[] = { "xl", "unpause", num, NULL };

        if (run(unpause, err, sizeof(err))) {
            fprintf(env->err, "vmsgctl create: domain %s: %s\n", label, err);
            goto out;
        }
    }
    fprintf(env->out, "domain %s created with %u virtio-msg device(s) and unpaused\n", label,
            cfg.count);
    status = 0;
out:
    if (status && created) {
        char *destroy[] = { "xl", "destroy", num, NULL };

        snprintf(num, sizeof(num), "%u", domid);
        if (vmsgctl_xl_remove_buses(p, made, nmade, err, sizeof(err)))
            fprintf(env->err, "vmsgctl create: cleaning up: %s\n", err);
        if (run(destroy, err, sizeof(err)))
            fprintf(env->err, "vmsgctl create: cleaning up: %s\n", err);
        else
            fprintf(env->err, "vmsgctl create: domain %s destroyed, its virtio-msg nodes "
                    "removed\n", label);
    }
    if (claim_path[0])
        unlink(claim_path);
    if (ex)
        fclose(ex);
    free(extra);
    free(xl);
    free(made);
    xlcfg_free(&cfg);
    if (p)
        vmsg_plat_close(p);
    xs_schema_free(schema);
    return status;
}

int vmsgctl_apply(const struct vmsgctl_env *env, int argc, char **argv)
{
    const char *dir = VMSGCTL_XL_CONFIG_DIR, *spec, *file;
    struct xs_schema *schema = NULL;
    struct vmsg_platform *p = NULL;
    struct vmsgctl_xl_bus *made = NULL;
    unsigned nmade = 0;
    struct xlcfg cfg = { 0 };
    char err[1024], source[600], name[256], label[300];
    uint32_t domid;
    int i = 1, status = 1, rc;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            apply_usage(env->out);
            return 0;
        }
        if (!strcmp(argv[i], "--config-dir") && i + 1 < argc) {
            dir = argv[++i];
            continue;
        }
        fprintf(env->err, "vmsgctl apply: unknown option '%s'\n", argv[i]);
        apply_usage(env->err);
        return 2;
    }
    if (i >= argc || argc - i > 2) {
        fprintf(env->err, "vmsgctl apply: %s\n", i >= argc ? "DOMAIN is missing"
                                                         : "too many arguments");
        apply_usage(env->err);
        return 2;
    }
    spec = argv[i];
    file = i + 1 < argc ? argv[i + 1] : NULL;
    if ((rc = xs_schema_parse(xs_schema_builtin_json, &schema, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl apply: built-in schema: %s\n", err);
        goto out;
    }
    if (file && xlcfg_read_file(schema, file, NULL, &cfg, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl apply: %s (nothing attached)\n", err);
        goto out;
    }
    if ((rc = env->open(&p, err, sizeof(err))) ||
        vmsgctl_domain_resolve(p, spec, &domid, err, sizeof(err))) {
        fprintf(env->err, "vmsgctl apply: %s\n", err);
        goto out;
    }
    vmsgctl_domain_name(p, domid, name, sizeof(name));
    snprintf(label, sizeof(label), "%s(%u)", name, domid);
    if (!file && vmsgctl_xl_domain_config(schema, domid, name, dir, &cfg, source,
                                          sizeof(source), err, sizeof(err))) {
        fprintf(env->err, "vmsgctl apply: %s (nothing attached)\n", err);
        goto out;
    }
    if ((rc = vmsgctl_xl_has_buses(p, domid)) != 0) {
        if (rc > 0)
            fprintf(env->err, "vmsgctl apply: domain %s has virtio-msg devices already "
                    "(vmsgctl list %u); nothing attached\n", label, domid);
        else
            fprintf(env->err, "vmsgctl apply: domain %s: listing its bus instances: %s\n",
                    label, vmsg_plat_last_error(p));
        goto out;
    }
    if ((rc = vmsgctl_xl_attach_all(p, domid, label, &cfg, &made, &nmade, note_stream,
                                    env->out, err, sizeof(err)))) {
        fprintf(env->err, "vmsgctl apply: domain %s: %s\n", label, err);
        /* Leave a running guest as it was: the new bus instances go again. */
        if (vmsgctl_xl_remove_buses(p, made, nmade, err, sizeof(err)))
            fprintf(env->err, "vmsgctl apply: cleaning up: %s\n", err);
        goto out;
    }
    fprintf(env->out, "domain %s: %u virtio-msg device(s) attached\n", label, cfg.count);
    status = 0;
out:
    free(made);
    xlcfg_free(&cfg);
    if (p)
        vmsg_plat_close(p);
    xs_schema_free(schema);
    return status;
}
