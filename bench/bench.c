/*
 * bench/bench.c: options, clock and the two ways of running cases (see
 * bench.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

/* The valgrind package ships this header; without it the markers are no-ops
 * and bench/callgrind.sh can only report whole-run totals. */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS do { } while (0)
#define CALLGRIND_DUMP_STATS_AT(label) do { (void)(label); } while (0)
#endif

/* Each case gets its budget in this many slices, taken in turn. */
#define ROUNDS 10

static void usage(const char *prog, double default_seconds, const char *usage_extra)
{
    printf("usage: %s [--seconds S] [--iterations N] [--only SUBSTR]%s\n"
           "  --seconds S     timed mode: spend about S seconds in all (default %g)\n"
           "  --iterations N  counted mode for callgrind: N operations per case, untimed\n"
           "  --only SUBSTR   run only the cases whose name contains SUBSTR\n",
           prog, usage_extra ? " [...]" : "", default_seconds);
    if (usage_extra)
        fputs(usage_extra, stdout);
}

void bench_parse(int argc, char **argv, double default_seconds, const char *usage_extra,
                 int (*extra)(int argc, char **argv, int i), struct bench_opts *o)
{
    *o = (struct bench_opts){ .seconds = default_seconds };
    for (int i = 1; i < argc; i++) {
        int used = extra ? extra(argc, argv, i) : 0;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        bool has_value = i + 1 < argc;
        if (strcmp(argv[i], "--seconds") == 0 && has_value) {
            o->seconds = strtod(argv[++i], NULL);
            if (!(o->seconds > 0))
                goto bad;
        } else if (strcmp(argv[i], "--iterations") == 0 && has_value) {
            o->iterations = strtoull(argv[++i], NULL, 10);
            if (o->iterations == 0)
                goto bad;
        } else if (strcmp(argv[i], "--only") == 0 && has_value) {
            o->only = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(argv[0], default_seconds, usage_extra);
            exit(0);
        } else {
            goto bad;
        }
    }
    return;
bad:
    usage(argv[0], default_seconds, usage_extra);
    exit(2);
}

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_print_machine(const char *program)
{
    struct utsname u;
    double load[3] = { 0, 0, 0 };
    if (uname(&u) < 0)
        strcpy(u.release, "?");
    if (getloadavg(load, 3) < 0)
        load[0] = load[1] = load[2] = -1;
    printf("# %s: %ld cpus, Linux %s, load %.2f %.2f %.2f\n", program,
           sysconf(_SC_NPROCESSORS_ONLN), u.release, load[0], load[1], load[2]);
}

static bool selected(const struct bench_opts *o, const struct bench_case *c)
{
    return !o->only || strstr(c->name, o->only);
}

static int run_counted(const struct bench_opts *o, struct bench_case *c)
{
    char label[96];
    int rc;
    /* One untimed operation first, so lazy symbol binding and first-touch
     * set-up are not charged to the case. */
    if ((rc = c->run(c->ctx, 1)) < 0)
        return rc;
    snprintf(label, sizeof(label), "%s n=%llu", c->name, (unsigned long long)o->iterations);
    uint64_t t0 = bench_now_ns();
    CALLGRIND_ZERO_STATS;
    rc = c->run(c->ctx, o->iterations);
    CALLGRIND_DUMP_STATS_AT(label);
    c->ns = bench_now_ns() - t0;
    c->ops = o->iterations;
    return rc;
}

/* Find a batch size that runs for about target_ns, so the clock is read
 * rarely enough not to matter. The calibration runs are not counted. */
static int calibrate(struct bench_case *c, uint64_t target_ns, uint64_t *batch)
{
    uint64_t n = 1;
    for (;;) {
        uint64_t t0 = bench_now_ns();
        int rc = c->run(c->ctx, n);
        if (rc < 0)
            return rc;
        uint64_t dt = bench_now_ns() - t0;
        if (dt >= target_ns || n >= (1ull << 30)) {
            *batch = n;
            return 0;
        }
        /* Aim straight at the target once the batch is long enough to
         * time; doubling otherwise. */
        n = dt > 10000 ? n * target_ns / dt + 1 : n * 2;
    }
}

int bench_run(const struct bench_opts *o, struct bench_case *cases, unsigned ncases)
{
    unsigned nsel = 0;
    int rc;

    for (unsigned i = 0; i < ncases; i++) {
        cases[i].ops = cases[i].ns = 0;
        nsel += selected(o, &cases[i]);
    }
    if (nsel == 0) {
        fprintf(stderr, "no case name contains '%s'; the cases are:\n", o->only);
        for (unsigned i = 0; i < ncases; i++)
            fprintf(stderr, "  %s\n", cases[i].name);
        return -ENOENT;
    }
    if (bench_counted(o)) {
        for (unsigned i = 0; i < ncases; i++)
            if (selected(o, &cases[i]) && (rc = run_counted(o, &cases[i])) < 0)
                return rc;
        return 0;
    }

    uint64_t slice = (uint64_t)(o->seconds * 1e9 / ROUNDS / nsel);
    uint64_t *batch = calloc(ncases, sizeof(*batch));
    if (!batch)
        return -ENOMEM;
    for (unsigned i = 0; i < ncases; i++)
        if (selected(o, &cases[i]) && (rc = calibrate(&cases[i], slice / 8, &batch[i])) < 0)
            goto out;
    for (unsigned r = 0; r < ROUNDS; r++) {
        for (unsigned i = 0; i < ncases; i++) {
            struct bench_case *c = &cases[i];
            if (!selected(o, c))
                continue;
            uint64_t start = bench_now_ns(), now = start;
            while (now - start < slice) {
                if ((rc = c->run(c->ctx, batch[i])) < 0)
                    goto out;
                c->ops += batch[i];
                now = bench_now_ns();
            }
            c->ns += now - start;
        }
    }
    rc = 0;
out:
    free(batch);
    return rc;
}
