# tests/system: real Xen 4.17 under QEMU (TCG), x86_64 and aarch64.
#   make system-check                                  every scenario, both arches
#   make system-check ARCH=x86_64 SCENARIO=platform    one
#   make cross-check-arm64                             unit tests under qemu-aarch64
#   make system-bench [ARCH=x86_64]                    the block benchmark (fio in
#                       the guest, our bus vs blkback; bench.sh, not a test)
# Images are built in ${VMSG_QEMU_CACHE:-~/.cache/vmsg-xen-qemu}; see
# docs/xen-qemu-ci.md. A scenario is a directory under scenarios/.

# Programs the scenarios run inside the guests, on lib/xen/platform.
noinst_LIBRARIES += tests/system/progs/libprobe.a
tests_system_progs_libprobe_a_SOURCES = tests/system/progs/probe.c tests/system/progs/probe.h

noinst_PROGRAMS += tests/system/progs/vmsg-plat-front tests/system/progs/vmsg-plat-back \
	tests/system/progs/vmsg-xs-perms
SYSTEM_PROBE_LIBS = tests/system/progs/libprobe.a $(VMSG_XEN_LIBS)
tests_system_progs_vmsg_plat_front_SOURCES = tests/system/progs/plat_front.c \
	tests/system/progs/plat_probe.h
tests_system_progs_vmsg_plat_front_LDADD = $(SYSTEM_PROBE_LIBS)
tests_system_progs_vmsg_plat_back_SOURCES = tests/system/progs/plat_back.c \
	tests/system/progs/plat_probe.h
tests_system_progs_vmsg_plat_back_LDADD = $(SYSTEM_PROBE_LIBS)
tests_system_progs_vmsg_xs_perms_SOURCES = tests/system/progs/xs_perms.c
tests_system_progs_vmsg_xs_perms_LDADD = $(SYSTEM_PROBE_LIBS)
# A frontend whose channel is Xen's libxenvchan (scenario vchan-compat).
noinst_PROGRAMS += tests/system/progs/vmsg-vchan-front
tests_system_progs_vmsg_vchan_front_SOURCES = tests/system/progs/vchan_front.c
tests_system_progs_vmsg_vchan_front_CPPFLAGS = -iquote $(top_srcdir)/lib \
	-iquote $(top_srcdir)/frontend-shim -I$(top_builddir) $(XENVCHAN_CFLAGS)
tests_system_progs_vmsg_vchan_front_LDADD = tests/system/progs/libprobe.a \
	frontend-shim/drivers/libvmsgdrivers.a $(VMSG_XEN_LIBS) lib/libvmsg.a \
	$(XENVCHAN_LIBS) -lpthread

# What build.sh puts into the guest images (/usr/local/bin): the probes and
# every program the project installs.
SYSTEM_IMAGE_PROGS = tests/system/progs/vmsg-plat-front$(EXEEXT) \
	tests/system/progs/vmsg-plat-back$(EXEEXT) tests/system/progs/vmsg-xs-perms$(EXEEXT) \
	tests/system/progs/vmsg-vchan-front$(EXEEXT) \
	$(bin_PROGRAMS) $(sbin_PROGRAMS)
system-image-progs: $(SYSTEM_IMAGE_PROGS)
print-system-image-progs:
	@echo $(SYSTEM_IMAGE_PROGS)

system-check:
	ARCH="$(ARCH)" SCENARIO="$(SCENARIO)" bash $(srcdir)/tests/system/system-check.sh

cross-check-arm64:
	bash $(srcdir)/tests/system/cross-check-arm64.sh

# One boot, x86_64 unless ARCH says otherwise (one architecture per run).
system-bench:
	ARCH="$(ARCH)" bash $(srcdir)/tests/system/bench.sh

.PHONY: system-check cross-check-arm64 system-bench system-image-progs print-system-image-progs
# Scenarios are whole directories (scripts only); the rest is listed so a
# dist made from an in-tree build carries no objects.
EXTRA_DIST += tests/system/build.sh tests/system/common.sh tests/system/run.sh \
	tests/system/system-check.sh tests/system/cross-check-arm64.sh tests/system/bench.sh \
	tests/system/qemu-aarch64-run.sh tests/system/guest/dom0-init.sh \
	tests/system/guest/domu-init.sh tests/system/guest/functions.sh tests/system/scenarios
