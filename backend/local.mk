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
	backend/bus_devices.c
# -iquote for lib/: see lib/xen/local.mk (Xen's own <xen/platform.h>).
backend_vmsg_backend_CPPFLAGS = -iquote $(top_srcdir)/lib -iquote $(top_srcdir)/backend \
	-I$(top_builddir)
backend_vmsg_backend_LDADD = $(VMSG_DEVICES_LIBS) $(VMSG_XEN_LIBS) lib/libvmsg.a -lpthread
dist_man_MANS += backend/vmsg-backend.8
