# libFuzzer targets, built with clang by "make fuzz" (not part of "make all":
# they need clang's fuzzer runtime). "make fuzz-run FUZZ_SECONDS=N" runs each
# for N seconds from a seed corpus and fails on any crash or invariant abort.
# Other modules add their targets with "FUZZ_TARGETS += tests/fuzz/fuzz-NAME"
# and a rule of the same form.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I$(top_srcdir)/lib -I$(top_builddir) -I$(top_srcdir)
FUZZ_PROTO_FILES = $(top_srcdir)/lib/proto/vmsg_codec.c \
	$(top_srcdir)/lib/proto/vmsg_layout_v1.c $(top_srcdir)/lib/proto/vmsg_names.c
FUZZ_TARGETS = tests/fuzz/fuzz-decode
CLEANFILES += $(FUZZ_TARGETS)
EXTRA_DIST += tests/fuzz/fuzz_decode.c

tests/fuzz/fuzz-decode: $(top_srcdir)/tests/fuzz/fuzz_decode.c $(FUZZ_PROTO_FILES) \
		$(top_srcdir)/lib/trace/vmsg_json.c
	@mkdir -p tests/fuzz
	$(CLANG) $(FUZZ_FLAGS) $(YAJL_CFLAGS) -o $@ $^ $(YAJL_LIBS)

fuzz:
	@test -n "$(CLANG)" || { echo "make fuzz needs clang: apt-get install clang" >&2; exit 1; }
	$(MAKE) $(AM_MAKEFLAGS) $(FUZZ_TARGETS)

# Seeds: one file per line of tests/data/v1-messages.hex, prefixed with the
# selector byte 3 (bus maximum 264, lenient).
fuzz-run: fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
	  name=$$(basename $$t); corpus=tests/fuzz/corpus-$$name; mkdir -p $$corpus; \
	  if [ "$$name" = fuzz-decode ]; then i=0; grep -v '^#' $(top_srcdir)/tests/data/v1-messages.hex | \
	    while read -r line; do i=$$((i+1)); { printf '\003'; echo "$$line" | tr -d ' ' | xxd -r -p; } \
	      > $$corpus/seed-$$i; done; fi; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS) s"; \
	  rc=0; ./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=tests/fuzz/$$name- $$corpus > tests/fuzz/$$name.log 2>&1 || rc=$$?; \
	  tail -n 12 tests/fuzz/$$name.log; \
	  if [ $$rc -ne 0 ]; then echo "$$name FAILED (exit $$rc): see tests/fuzz/$$name.log" >&2; exit 1; fi; \
	done
.PHONY: fuzz fuzz-run
