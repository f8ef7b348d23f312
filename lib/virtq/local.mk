# lib/virtq: split virtqueues, device side and driver side (Xen-free, so it
# lives in the shared library).
lib_libvmsg_a_SOURCES += \
	lib/virtq/vmsg_virtq.h \
	lib/virtq/virtq_ring.h \
	lib/virtio/virtio_blk.h \
	lib/virtq/virtq_device.c \
	lib/virtq/virtq_driver.c

if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-virtq
TESTS += tests/unit/test-virtq
endif
tests_unit_test_virtq_SOURCES = tests/unit/test_virtq.c tests/unit/vmsg_test.h \
	tests/unit/virtq_hostile.h
tests_unit_test_virtq_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_virtq_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_virtq_LDADD = $(UNIT_LDADD)

# libFuzzer target for the device-side chain walker ("make fuzz"); the
# walker's only outside calls are the log and vmsg_device_needs_reset,
# which the target stubs.
FUZZ_TARGETS += tests/fuzz/fuzz-virtq-chain
EXTRA_DIST += tests/fuzz/fuzz_virtq_chain.c
tests/fuzz/fuzz-virtq-chain: $(top_srcdir)/tests/fuzz/fuzz_virtq_chain.c \
		$(top_srcdir)/lib/virtq/virtq_device.c $(top_srcdir)/lib/util/vmsg_log.c
	@mkdir -p tests/fuzz
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^
