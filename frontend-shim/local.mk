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
