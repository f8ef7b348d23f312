# frontend-shim/linux: the kernel frontend, an out-of-tree Linux module built
# by the kernel's own build system (Kbuild) against the kernel build tree
# configure found (--with-linux-headers=DIR, default the running kernel's).
#   make modules          build it in $(builddir)/frontend-shim/linux
#   make modules-check    a fresh build with sparse (C=1) and W=1; any
#                         warning fails
#   make install-dkms     sources and dkms.conf into
#                         $(DKMS_SRCDIR)/virtio-msg-xen-$(VERSION), then
#                         dkms add, build and install (when dkms exists)
#   make uninstall-dkms   dkms remove, and the sources go
# None of these is part of "make all" or "make check".

# Every file of the module's source tree (Kbuild, .c, .h), relative to the
# top source directory, no wildcards: it is what is copied to the build
# directory, shipped in the release tarball and installed for DKMS.
LINUX_MODULE_FILES = \
	frontend-shim/linux/Kbuild \
	frontend-shim/linux/vmsg_chan.c \
	frontend-shim/linux/vmsg_chan.h \
	frontend-shim/linux/vmsg_compat.h \
	frontend-shim/linux/vmsg_pool.c \
	frontend-shim/linux/vmsg_pool.h \
	frontend-shim/linux/vmsg_transport.c \
	frontend-shim/linux/vmsg_transport.h \
	frontend-shim/linux/vmsg_wire.h \
	frontend-shim/linux/vmsg_xen_bus.c

EXTRA_DIST += $(LINUX_MODULE_FILES) frontend-shim/linux/dkms.conf

LINUX_MODULE_DIR = $(abs_top_builddir)/frontend-shim/linux
LINUX_CHECK_DIR = $(abs_top_builddir)/frontend-shim/linux-check
LINUX_KMAKE = $(MAKE) -C $(LINUX_HEADERS) $(LINUX_MAKE_FLAGS)

# linux_module_copy (with dir=DIR): the sources into DIR (the build directory in a
# VPATH build: Kbuild writes its objects next to them, and the source
# directory may be read-only, as in make distcheck). A file is copied only
# when it changed, so Kbuild rebuilds only what changed.
linux_module_copy = for f in $(LINUX_MODULE_FILES); do \
	  d="$$dir/$$(echo "$$f" | sed 's|^frontend-shim/linux/||')"; \
	  $(MKDIR_P) "$$(dirname "$$d")" || exit 1; \
	  if test "$$(cd "$(srcdir)" && pwd -P)/$$f" != "$$(cd "$$(dirname "$$d")" && pwd -P)/$$(basename "$$d")"; then \
	    cmp -s "$(srcdir)/$$f" "$$d" || cp "$(srcdir)/$$f" "$$d" || exit 1; \
	  fi; \
	done

if HAVE_LINUX_HEADERS
modules:
	@dir=$(LINUX_MODULE_DIR); $(linux_module_copy)
	$(LINUX_KMAKE) M=$(LINUX_MODULE_DIR) modules

# sparse runs on what is compiled (C=1), so the check builds afresh in a
# directory of its own, leaving "make modules"'s objects alone. Sparse's
# warnings and modpost's "WARNING:" lines do not fail a build: the log is
# searched for them.
modules-check:
	@test -n "$(SPARSE)" || { echo "make modules-check: sparse was not found by configure (apt-get install sparse, then ./configure again)" >&2; exit 1; }
	@rm -rf $(LINUX_CHECK_DIR)
	@dir=$(LINUX_CHECK_DIR); $(linux_module_copy)
	@$(LINUX_KMAKE) M=$(LINUX_CHECK_DIR) C=1 CHECK="$(SPARSE)" W=1 modules > $(LINUX_CHECK_DIR)/check.log 2>&1; \
	rc=$$?; cat $(LINUX_CHECK_DIR)/check.log; \
	if test $$rc -ne 0; then echo "make modules-check: the build failed" >&2; exit 1; fi; \
	if grep -i -E -q '(warning|error):' $(LINUX_CHECK_DIR)/check.log; then \
	  echo "make modules-check: warnings (above) from the compiler (W=1) or sparse" >&2; exit 1; fi; \
	echo "make modules-check: clean (sparse, W=1) against $(LINUX_KERNELRELEASE)"

linux-module-clean:
	-test ! -d $(LINUX_MODULE_DIR) || $(LINUX_KMAKE) M=$(LINUX_MODULE_DIR) clean >/dev/null 2>&1
	rm -rf $(LINUX_CHECK_DIR)
else
modules modules-check:
	@echo "make $@: no kernel build tree: configure found no headers (apt-get install linux-headers-\$$(uname -r), or ./configure --with-linux-headers=DIR)" >&2; exit 1

linux-module-clean:
	rm -rf $(LINUX_CHECK_DIR)
endif

# DKMS: the sources, as they are, under /usr/src/PACKAGE-VERSION, where dkms
# looks. install-dkms builds and installs the module for the kernel of the
# headers configure found (the running one by default); dkms then rebuilds
# it for each kernel installed later (AUTOINSTALL). With DESTDIR
# (packaging), only the files are installed.
DKMS_SRCDIR = /usr/src
DKMS_MODULE = $(PACKAGE)/$(VERSION)
DKMS_DEST = $(DESTDIR)$(DKMS_SRCDIR)/$(PACKAGE)-$(VERSION)
install-dkms:
	@dir=$(DKMS_DEST); $(linux_module_copy)
	sed -e 's|__PACKAGE_NAME__|$(PACKAGE)|g' -e 's|__PACKAGE_VERSION__|$(VERSION)|g' \
	  $(srcdir)/frontend-shim/linux/dkms.conf > $(DKMS_DEST)/dkms.conf
	@if test -n "$(DESTDIR)"; then \
	  echo "installed the module sources in $(DKMS_DEST) (DESTDIR set: dkms not run)"; \
	elif command -v dkms >/dev/null 2>&1; then \
	  if ! dkms status -m $(PACKAGE) -v $(VERSION) | grep -q .; then \
	    echo "dkms add -m $(PACKAGE) -v $(VERSION)"; dkms add -m $(PACKAGE) -v $(VERSION) || exit 1; fi; \
	  k="$(LINUX_KERNELRELEASE)"; \
	  echo "dkms build $(DKMS_MODULE) $${k:+-k $$k}"; dkms build $(DKMS_MODULE) $${k:+-k $$k} || exit 1; \
	  echo "dkms install $(DKMS_MODULE) $${k:+-k $$k}"; dkms install $(DKMS_MODULE) $${k:+-k $$k} || exit 1; \
	else \
	  echo "installed the module sources in $(DKMS_DEST), but dkms is not installed: apt-get install dkms, then dkms install $(DKMS_MODULE)"; \
	fi

uninstall-dkms:
	@if test -z "$(DESTDIR)" && command -v dkms >/dev/null 2>&1 && \
	    dkms status -m $(PACKAGE) -v $(VERSION) | grep -q .; then \
	  echo "dkms remove $(DKMS_MODULE) --all"; dkms remove $(DKMS_MODULE) --all || exit 1; \
	fi
	rm -rf $(DKMS_DEST)

# A VPATH build's copies of the sources go with distclean.
clean-local: linux-module-clean
distclean-local:
	if test "$$(cd $(srcdir) && pwd -P)" != "$$(pwd -P)"; then \
	  for f in $(LINUX_MODULE_FILES); do rm -f "$$f"; done; \
	  rmdir frontend-shim/linux 2>/dev/null || true; \
	fi

.PHONY: modules modules-check linux-module-clean install-dkms uninstall-dkms
