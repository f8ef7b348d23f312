# lib/xen: the Xen bus. platform.{h,c} is the interface every Xen call goes
# through; platform_xen.c is its only real implementation on libxen*.
noinst_LIBRARIES += lib/xen/libvmsgxen.a
lib_xen_libvmsgxen_a_SOURCES = \
	lib/xen/platform.h \
	lib/xen/platform.c \
	lib/xen/platform_xen.c
# -iquote instead of -I for lib/: xenctrl.h includes Xen's <xen/platform.h>,
# which must not resolve to ours.
lib_xen_libvmsgxen_a_CPPFLAGS = -iquote $(top_srcdir)/lib -I$(top_builddir) \
	$(XENEVTCHN_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENSTORE_CFLAGS) $(XENCTRL_CFLAGS)

# What a program linking libvmsgxen.a needs after it. platform_xen.c also
# calls libxentoollog (quiet logger), which comes with the same libxen-dev.
VMSG_XEN_LIBS = lib/xen/libvmsgxen.a $(XENCTRL_LIBS) $(XENSTORE_LIBS) \
	$(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS) -lxentoollog

# Unit tests of the platform semantics, against the in-process fake.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-platform
TESTS += tests/unit/test-platform
tests_unit_test_platform_SOURCES = \
	tests/unit/test_platform.c \
	tests/unit/fake_platform.c \
	tests/unit/fake_platform.h
tests_unit_test_platform_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_platform_LDADD = lib/xen/libvmsgxen.a $(CUNIT_LIBS)
endif

# The Xen bus on top of the platform (docs/protocol.md): xenstore schema,
# the vchan-layout message channel, pool and grant addresses, and the two
# bus ends (backend = device side, frontend = driver side).
lib_xen_libvmsgxen_a_SOURCES += \
	lib/xen/xen_schema.h \
	lib/xen/xen_schema.c \
	lib/xen/xen_channel.h \
	lib/xen/xen_channel.c \
	lib/xen/xen_memory.h \
	lib/xen/xen_memory.c \
	lib/xen/xen_bus_back.h \
	lib/xen/xen_bus_back.c \
	lib/xen/xen_bus_front.h \
	lib/xen/xen_bus_front.c

# Unit tests of the Xen bus, against the fake platform.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-xen-schema
TESTS += tests/unit/test-xen-schema
endif
XEN_UNIT_LDADD = lib/xen/libvmsgxen.a lib/libvmsg.a $(CUNIT_LIBS) -lpthread
tests_unit_test_xen_schema_SOURCES = tests/unit/test_xen_schema.c tests/unit/test_xen_env.h \
	tests/unit/fake_platform.c tests/unit/fake_platform.h
tests_unit_test_xen_schema_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_xen_schema_LDADD = $(XEN_UNIT_LDADD)
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-xen-channel
TESTS += tests/unit/test-xen-channel
endif
tests_unit_test_xen_channel_SOURCES = tests/unit/test_xen_channel.c tests/unit/test_xen_env.h \
	tests/unit/fake_platform.c tests/unit/fake_platform.h
tests_unit_test_xen_channel_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_xen_channel_LDADD = $(XEN_UNIT_LDADD)
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-xen-bus
TESTS += tests/unit/test-xen-bus
endif
tests_unit_test_xen_bus_SOURCES = tests/unit/test_xen_bus.c tests/unit/test_xen_env.h \
	tests/unit/fake_platform.c tests/unit/fake_platform.h
tests_unit_test_xen_bus_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_xen_bus_LDADD = $(XEN_UNIT_LDADD)
