# backend: vmsg-backend, the daemon serving the Xen bus instances of its
# domain (dom0 or a driver domain). The device models are backend/devices.
sbin_PROGRAMS += backend/vmsg-backend
backend_vmsg_backend_SOURCES = \
	backend/vmsg-backend.c \
	backend/daemon.h \
	backend/daemon.c \
	backend/bus_instance.h \
	backend/bus_instance.c \
	backend/bus_devices.h \
	backend/bus_devices.c \
	backend/back_stats.h \
	backend/control.h \
	backend/control.c
# -iquote for lib/: see lib/xen/local.mk (Xen's own <xen/platform.h>).
backend_vmsg_backend_CPPFLAGS = -iquote $(top_srcdir)/lib -iquote $(top_srcdir)/backend \
	-I$(top_builddir)
backend_vmsg_backend_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
backend_vmsg_backend_LDADD = $(VMSG_DEVICES_LIBS) $(VMSG_XEN_LIBS) lib/libvmsgtrace.a lib/libvmsg.a \
	$(YAJL_LIBS) -lpthread
dist_man_MANS += backend/vmsg-backend.8

# The control socket, on its own: status JSON and the socket's behaviour.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-backend-control
TESTS += tests/unit/test-backend-control
endif
tests_unit_test_backend_control_SOURCES = tests/unit/test_backend_control.c tests/unit/vmsg_test.h \
	backend/control.c backend/control.h backend/back_stats.h
tests_unit_test_backend_control_CPPFLAGS = $(backend_vmsg_backend_CPPFLAGS) -iquote $(top_srcdir)
tests_unit_test_backend_control_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_backend_control_LDADD = lib/libvmsg.a $(YAJL_LIBS) $(CUNIT_LIBS) -lpthread
