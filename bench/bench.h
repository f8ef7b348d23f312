/*
 * bench/bench.h: what the benchmark programs share: options, the clock,
 * interleaved timing of several cases and the callgrind phase markers.
 *
 * Two modes. Timed (default): the cases of a program take turns in short
 * slices until --seconds is spent, so a burst of load from the other
 * engineers' builds on this shared machine lands on every case alike and
 * the ratios between cases stay meaningful. Counted (--iterations N): each
 * case runs exactly N operations once, with nothing timed, for
 * `valgrind --tool=callgrind`; each case's cost is dumped as its own
 * callgrind part named "<case> n=<N>", which bench/callgrind.sh divides.
 */
#ifndef VMSG_BENCH_H
#define VMSG_BENCH_H

#include <stdbool.h>
#include <stdint.h>

struct bench_opts {
    double seconds;             /* timed mode: budget for the whole program */
    uint64_t iterations;        /* >0: counted mode, this many ops per case */
    const char *only;           /* run only cases whose name contains this */
};

/*
 * Parse --seconds S, --iterations N, --only SUBSTR and --help; `usage_extra`
 * is printed after the common options by --help. Exits on a bad option.
 * `extra` (may be NULL) is offered every option first and returns how many
 * argv entries it consumed (0: not its option).
 */
void bench_parse(int argc, char **argv, double default_seconds, const char *usage_extra,
                 int (*extra)(int argc, char **argv, int i), struct bench_opts *o);

uint64_t bench_now_ns(void);

/* Print "# <program>: <nproc> cpus, <kernel>, load <1m 5m 15m>". */
void bench_print_machine(const char *program);

/* One thing to measure: `run` performs n operations and returns 0 or a
 * negative errno (which aborts the program: a benchmark that silently
 * measures failures is worse than none). */
struct bench_case {
    char name[64];
    int (*run)(void *ctx, uint64_t n);
    void *ctx;
    /* Filled by bench_run(). */
    uint64_t ops;
    uint64_t ns;
};

/* Run the cases in the selected mode; returns 0 or the first error. */
int bench_run(const struct bench_opts *o, struct bench_case *cases, unsigned ncases);

static inline double bench_ns_per_op(const struct bench_case *c)
{
    return c->ops ? (double)c->ns / (double)c->ops : 0;
}

static inline double bench_ops_per_s(const struct bench_case *c)
{
    return c->ns ? (double)c->ops * 1e9 / (double)c->ns : 0;
}

static inline bool bench_counted(const struct bench_opts *o)
{
    return o->iterations > 0;
}

#endif
