# backend/devices: the device models the backend daemon serves (rng,
# console, blk) and the registry that creates them by name.
noinst_LIBRARIES += backend/devices/libvmsgdevices.a
backend_devices_libvmsgdevices_a_SOURCES = \
	backend/devices/vmsg_devices.h \
	backend/devices/devices_internal.h \
	backend/devices/registry.c \
	backend/devices/rng.c \
	backend/devices/console.c \
	backend/devices/blk.c \
	backend/devices/blk_io.h \
	backend/devices/blk_io.c \
	backend/devices/blk_io_threads.c \
	backend/devices/blk_io_uring.c
backend_devices_libvmsgdevices_a_CFLAGS = $(AM_CFLAGS) $(LIBURING_CFLAGS)
# Programs that link it add $(VMSG_DEVICES_LIBS).
VMSG_DEVICES_LIBS = backend/devices/libvmsgdevices.a $(LIBURING_LIBS) -lpthread

# End to end through the loopback bus, driven by the userspace drivers.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-devices
TESTS += tests/unit/test-devices
endif
tests_unit_test_devices_SOURCES = tests/unit/test_devices.c tests/unit/vmsg_test.h \
	tests/support/model_pump.c tests/support/model_pump.h \
	tests/unit/virtq_hostile.h
tests_unit_test_devices_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_devices_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_devices_LDADD = frontend-shim/drivers/libvmsgdrivers.a $(VMSG_DEVICES_LIBS) \
	$(UNIT_LDADD)
