# bench: benchmark programs. EXTRA_PROGRAMS so that neither "make all" nor
# "make check" builds them: "make bench" builds, "make bench-run" runs them
# timed and "make bench-callgrind" counts instructions (bench/README.md).
BENCH_PROGS = bench/bench-proto bench/bench-transport bench/bench-virtq bench/bench-blk
EXTRA_PROGRAMS = $(BENCH_PROGS)
EXTRA_DIST += bench/README.md bench/RESULTS.md bench/RESULTS-xen.md bench/callgrind.sh

BENCH_COMMON = bench/bench.h bench/bench.c
BENCH_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
BENCH_LDADD = lib/libvmsg.a -lpthread

bench_bench_proto_SOURCES = bench/bench_proto.c $(BENCH_COMMON)
bench_bench_proto_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_bench_proto_LDADD = $(BENCH_LDADD)

bench_bench_transport_SOURCES = bench/bench_transport.c $(BENCH_COMMON)
bench_bench_transport_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_bench_transport_LDADD = $(BENCH_LDADD)

bench_bench_virtq_SOURCES = bench/bench_virtq.c $(BENCH_COMMON)
bench_bench_virtq_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_bench_virtq_LDADD = $(BENCH_LDADD)

bench_bench_blk_SOURCES = bench/bench_blk.c $(BENCH_COMMON) tests/support/model_pump.c \
	tests/support/model_pump.h
bench_bench_blk_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_bench_blk_LDADD = frontend-shim/drivers/libvmsgdrivers.a $(VMSG_DEVICES_LIBS) $(BENCH_LDADD)

# BENCH_ARGS are passed to every program, e.g. BENCH_ARGS="--seconds 1".
bench: $(BENCH_PROGS)

bench-run: bench
	@set -e; for b in $(BENCH_PROGS); do \
	  echo "== $$b $(BENCH_ARGS)"; ./$$b $(BENCH_ARGS); echo; done

# Instructions per operation under callgrind; BENCH_ITERATIONS ops per case.
BENCH_ITERATIONS = 20000
bench-callgrind: bench
	$(SHELL) $(top_srcdir)/bench/callgrind.sh $(BENCH_ITERATIONS) \
	  bench/bench-proto bench/bench-transport bench/bench-virtq

.PHONY: bench bench-run bench-callgrind
