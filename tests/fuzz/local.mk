# libFuzzer targets, built with clang by "make fuzz" (not part of "make all"
# because they need clang's fuzzer runtime). FUZZ_SECONDS bounds "make fuzz-run".
FUZZ_SECONDS ?= 60
FUZZ_TARGETS =
