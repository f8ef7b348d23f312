# tools: vmsgctl, the toolstack-side command line.
sbin_PROGRAMS += tools/vmsgctl
tools_vmsgctl_SOURCES = tools/vmsgctl.c tools/vmsgctl.h tools/vmsgctl_decode.c \
	tools/vmsgctl_xl.h tools/vmsgctl_xl.c tools/vmsgctl_create.c tools/vmsgctl_watch.c
# -iquote for lib/: see lib/xen/local.mk (Xen's own <xen/platform.h>).
tools_vmsgctl_CPPFLAGS = -iquote $(top_srcdir)/lib -iquote $(top_srcdir) -I$(top_builddir)
tools_vmsgctl_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(XLUTIL_CFLAGS) $(XENLIGHT_CFLAGS) \
	$(XENTOOLLOG_CFLAGS)
tools_vmsgctl_LDADD = tools/libvmsgctl.a lib/libvmsgtrace.a $(VMSG_XEN_LIBS) lib/libvmsg.a \
	$(XLUTIL_LIBS) $(XENLIGHT_LIBS) $(XENTOOLLOG_LIBS) $(YAJL_LIBS) -lpthread -lm

TESTS += tests/tools/test-vmsgctl-decode.sh
EXTRA_DIST += tests/tools/test-vmsgctl-decode.sh tests/data/v1-messages.hex
AM_TESTS_ENVIRONMENT = top_srcdir='$(top_srcdir)'; export top_srcdir;

# make install into a scratch DESTDIR, and a program built on what it put there.
TESTS += tests/tools/test-install.sh
EXTRA_DIST += tests/tools/test-install.sh
AM_TESTS_ENVIRONMENT += MAKE='$(MAKE)' CC='$(CC)' LDFLAGS='$(LDFLAGS)' PKG_CONFIG='$(PKG_CONFIG)' \
	bindir='$(bindir)' sbindir='$(sbindir)' libdir='$(libdir)' includedir='$(includedir)' \
	mandir='$(mandir)' systemdsystemunitdir='$(systemdsystemunitdir)'; \
	export MAKE CC LDFLAGS PKG_CONFIG bindir sbindir libdir includedir mandir systemdsystemunitdir;

# The toolstack subcommands and the xenstore schema checker, on the platform
# interface only (no libxen*), so the unit tests run them on the fake.
noinst_LIBRARIES += tools/libvmsgctl.a
tools_libvmsgctl_a_SOURCES = \
	tools/vmsgctl_xs.h tools/vmsgctl_xs.c \
	tools/vmsgctl_attach.h tools/vmsgctl_attach.c tools/xlcfg.h tools/xlcfg.c \
	tools/vmsgctl_detach.c tools/vmsgctl_list.c \
	tools/vmsgctl_status.c tools/vmsgctl_check.c tools/vmsgctl_opts.c \
	tools/vmsgctl_backend.h tools/vmsgctl_backend.c \
	tools/xs_schema.h tools/xs_schema.c \
	tools/xs_schema_check.h tools/xs_schema_check.c
nodist_tools_libvmsgctl_a_SOURCES = tools/xs_schema_builtin.c
tools_libvmsgctl_a_CPPFLAGS = $(tools_vmsgctl_CPPFLAGS)
tools_libvmsgctl_a_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(XLUTIL_CFLAGS)

# The schema is data (installed for other tools) and is compiled into
# vmsgctl, so `attach` and `check` always have the rules they were built with.
dist_pkgdata_DATA = xenstore-schema/virtio-msg-v1.json
EXTRA_DIST += xenstore-schema/README.md
CLEANFILES += tools/xs_schema_builtin.c
tools/xs_schema_builtin.c: $(srcdir)/xenstore-schema/virtio-msg-v1.json
	$(AM_V_GEN)$(MKDIR_P) $(@D) && { \
	  echo '/* Generated from xenstore-schema/virtio-msg-v1.json: do not edit. */'; \
	  echo '#include "tools/xs_schema.h"'; \
	  echo 'const char xs_schema_builtin_json[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' \
	    $(srcdir)/xenstore-schema/virtio-msg-v1.json; \
	  echo ';'; \
	} > $@.tmp && mv $@.tmp $@

dist_man_MANS += tools/vmsgctl.8 tools/xl-virtio-msg.5

# Unit tests of the toolstack, against the fake platform.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-vmsgctl tests/unit/test-xs-schema
TESTS += tests/unit/test-vmsgctl tests/unit/test-xs-schema
endif
VMSGCTL_UNIT_LDADD = tools/libvmsgctl.a lib/xen/libvmsgxen.a lib/libvmsg.a $(XLUTIL_LIBS) $(YAJL_LIBS) \
	$(CUNIT_LIBS) -lpthread -lm
tests_unit_test_vmsgctl_SOURCES = tests/unit/test_vmsgctl.c tests/unit/test_vmsgctl_env.h \
	tests/unit/fake_platform.c tests/unit/fake_platform.h
tests_unit_test_vmsgctl_CPPFLAGS = $(tools_vmsgctl_CPPFLAGS)
tests_unit_test_vmsgctl_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_vmsgctl_LDADD = $(VMSGCTL_UNIT_LDADD)
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-xlcfg
TESTS += tests/unit/test-xlcfg
endif
tests_unit_test_xlcfg_SOURCES = tests/unit/test_xlcfg.c
tests_unit_test_xlcfg_CPPFLAGS = $(tools_vmsgctl_CPPFLAGS)
tests_unit_test_xlcfg_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(XLUTIL_CFLAGS)
tests_unit_test_xlcfg_LDADD = $(VMSGCTL_UNIT_LDADD)
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-vmsgctl-status
TESTS += tests/unit/test-vmsgctl-status
endif
tests_unit_test_vmsgctl_status_SOURCES = tests/unit/test_vmsgctl_status.c \
	tests/unit/test_vmsgctl_env.h tests/unit/fake_platform.c tests/unit/fake_platform.h
tests_unit_test_vmsgctl_status_CPPFLAGS = $(tools_vmsgctl_CPPFLAGS)
tests_unit_test_vmsgctl_status_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_vmsgctl_status_LDADD = $(VMSGCTL_UNIT_LDADD)
tests_unit_test_xs_schema_SOURCES = tests/unit/test_xs_schema.c tests/unit/test_vmsgctl_env.h \
	tests/unit/fake_platform.c tests/unit/fake_platform.h
tests_unit_test_xs_schema_CPPFLAGS = $(tools_vmsgctl_CPPFLAGS)
tests_unit_test_xs_schema_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_xs_schema_LDADD = $(VMSGCTL_UNIT_LDADD)

# The main job until the Xen system test runs it under real Xen (README).
bin_PROGRAMS += tools/vmsg-loopback-demo
tools_vmsg_loopback_demo_SOURCES = tools/vmsg_loopback_demo.c
tools_vmsg_loopback_demo_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tools_vmsg_loopback_demo_LDADD = frontend-shim/drivers/libvmsgdrivers.a $(VMSG_DEVICES_LIBS) \
	lib/libvmsgtrace.a lib/libvmsg.a $(YAJL_LIBS) -lpthread
