# frontend-shim: libvmsg-front (the driver side of the Xen bus for guest
# programs) and vmsg-front, its command line. The userspace drivers are
# frontend-shim/drivers.
noinst_LIBRARIES += frontend-shim/libvmsg-front.a
frontend_shim_libvmsg_front_a_SOURCES = \
	frontend-shim/vmsg_front.h \
	frontend-shim/vmsg_front.c
# -iquote for lib/: see lib/xen/local.mk (Xen's own <xen/platform.h>).
frontend_shim_libvmsg_front_a_CPPFLAGS = -iquote $(top_srcdir)/lib -I$(top_builddir)

bin_PROGRAMS += frontend-shim/vmsg-front
frontend_shim_vmsg_front_SOURCES = \
	frontend-shim/vmsg-front.c \
	frontend-shim/front_cli.h \
	frontend-shim/front_blk.c \
	frontend-shim/front_selftest.c \
	frontend-shim/sha256.h \
	frontend-shim/sha256.c
frontend_shim_vmsg_front_CPPFLAGS = -iquote $(top_srcdir)/lib \
	-iquote $(top_srcdir)/frontend-shim -I$(top_builddir)
frontend_shim_vmsg_front_LDADD = frontend-shim/libvmsg-front.a \
	frontend-shim/drivers/libvmsgdrivers.a $(VMSG_XEN_LIBS) lib/libvmsg.a -lpthread
dist_man_MANS += frontend-shim/vmsg-front.1

# libvmsg-front and the blk driver riding out a backend restart, against the
# fake platform with a real blk model behind it.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-front-restart
TESTS += tests/unit/test-front-restart
endif
tests_unit_test_front_restart_SOURCES = tests/unit/test_front_restart.c tests/unit/test_xen_env.h \
	tests/unit/fake_platform.c tests/unit/fake_platform.h tests/unit/vmsg_test.h
tests_unit_test_front_restart_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_front_restart_CPPFLAGS = -iquote $(top_srcdir)/lib \
	-iquote $(top_srcdir)/frontend-shim -I$(top_builddir) -I$(top_srcdir)
tests_unit_test_front_restart_LDADD = frontend-shim/libvmsg-front.a \
	frontend-shim/drivers/libvmsgdrivers.a $(VMSG_DEVICES_LIBS) lib/xen/libvmsgxen.a \
	$(VMSG_XEN_LIBS) lib/libvmsg.a $(CUNIT_LIBS) -lpthread
