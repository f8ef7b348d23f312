# tools: vmsgctl, the toolstack-side command line.
sbin_PROGRAMS += tools/vmsgctl
tools_vmsgctl_SOURCES = tools/vmsgctl.c tools/vmsgctl.h tools/vmsgctl_decode.c
tools_vmsgctl_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tools_vmsgctl_LDADD = lib/libvmsgtrace.a lib/libvmsg.a $(YAJL_LIBS) -lpthread

TESTS += tests/tools/test-vmsgctl-decode.sh
EXTRA_DIST += tests/tools/test-vmsgctl-decode.sh tests/data/v1-messages.hex
AM_TESTS_ENVIRONMENT = top_srcdir='$(top_srcdir)'; export top_srcdir;

# The main job until the Xen system test runs it under real Xen (README).
bin_PROGRAMS += tools/vmsg-loopback-demo
tools_vmsg_loopback_demo_SOURCES = tools/vmsg_loopback_demo.c
tools_vmsg_loopback_demo_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tools_vmsg_loopback_demo_LDADD = frontend-shim/drivers/libvmsgdrivers.a $(VMSG_DEVICES_LIBS) \
	lib/libvmsgtrace.a lib/libvmsg.a $(YAJL_LIBS) -lpthread
