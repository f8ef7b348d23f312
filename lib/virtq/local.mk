# lib/virtq: split virtqueues, device side and driver side (Xen-free, so it
# lives in the shared library).
lib_libvmsg_a_SOURCES += \
	lib/virtq/vmsg_virtq.h \
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
