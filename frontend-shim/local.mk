# frontend-shim: libvmsg-front (the driver side of the Xen bus for guest
# programs) and vmsg-front, its command line. The userspace drivers are
# frontend-shim/drivers.
lib_LIBRARIES = frontend-shim/libvmsg-front.a
frontend_shim_libvmsg_front_a_SOURCES = \
	frontend-shim/vmsg_front.h \
	frontend-shim/vmsg_front.c
# -iquote for lib/: see lib/xen/local.mk (Xen's own <xen/platform.h>).
frontend_shim_libvmsg_front_a_CPPFLAGS = -iquote $(top_srcdir)/lib -I$(top_builddir)
# Installed, the archive must stand alone: it carries the objects of the
# Xen bus and of the transport it is built on (compiled once, for their
# own libraries); only libxen* and pthread come from outside (the .pc).
frontend_shim_libvmsg_front_a_LIBADD = $(lib_xen_libvmsgxen_a_OBJECTS) $(lib_libvmsg_a_OBJECTS)
# Automake does not derive dependencies from variables in LIBADD: without
# this, a fresh build (make distcheck) may archive objects not built yet.
frontend_shim_libvmsg_front_a_DEPENDENCIES = $(frontend_shim_libvmsg_front_a_LIBADD)

# Its public header and the ones it includes, under one directory so their
# "transport/...", "proto/...", "util/..." includes resolve from there.
vmsgfrontincdir = $(includedir)/virtio-msg-xen
vmsgfrontinc_HEADERS = frontend-shim/vmsg_front.h
vmsgfronttransportdir = $(vmsgfrontincdir)/transport
vmsgfronttransport_HEADERS = lib/transport/vmsg_driver.h lib/transport/vmsg_bus.h
vmsgfrontprotodir = $(vmsgfrontincdir)/proto
vmsgfrontproto_HEADERS = lib/proto/vmsg_proto.h
vmsgfrontutildir = $(vmsgfrontincdir)/util
vmsgfrontutil_HEADERS = lib/util/vmsg_log.h

pkgconfig_DATA = frontend-shim/virtio-msg-xen-front.pc
EXTRA_DIST += frontend-shim/virtio-msg-xen-front.pc.in
CLEANFILES += frontend-shim/virtio-msg-xen-front.pc
frontend-shim/virtio-msg-xen-front.pc: $(srcdir)/frontend-shim/virtio-msg-xen-front.pc.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && sed \
	  -e 's|@prefix[@]|$(prefix)|g' -e 's|@exec_prefix[@]|$(exec_prefix)|g' \
	  -e 's|@libdir[@]|$(libdir)|g' -e 's|@includedir[@]|$(includedir)|g' \
	  -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	  $(srcdir)/frontend-shim/virtio-msg-xen-front.pc.in > $@.tmp && mv $@.tmp $@

bin_PROGRAMS += frontend-shim/vmsg-front
frontend_shim_vmsg_front_SOURCES = \
	frontend-shim/vmsg-front.c \
	frontend-shim/front_cli.h \
	frontend-shim/front_blk.c \
	frontend-shim/front_selftest.c \
	frontend-shim/front_follow.c \
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
