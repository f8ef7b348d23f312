# systemd: the units that start the daemons on a Xen host, ordered after
# xenstored like Xen's own xenconsoled.service. They are generated here,
# not by configure, so ExecStart= carries the sbindir of `make install`
# even when it is overridden on the make command line.
VMSG_UNITS = systemd/vmsg-backend.service systemd/vmsgctl-watch.service
if HAVE_SYSTEMD_UNITS
systemdsystemunit_DATA = $(VMSG_UNITS)
endif
EXTRA_DIST += systemd/vmsg-backend.service.in systemd/vmsgctl-watch.service.in
CLEANFILES += $(VMSG_UNITS)

VMSG_UNIT_GEN = $(AM_V_GEN)$(MKDIR_P) $(@D) && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/$@.in > $@.tmp && mv $@.tmp $@
systemd/vmsg-backend.service: $(srcdir)/systemd/vmsg-backend.service.in Makefile
	$(VMSG_UNIT_GEN)
systemd/vmsgctl-watch.service: $(srcdir)/systemd/vmsgctl-watch.service.in Makefile
	$(VMSG_UNIT_GEN)

# distcheck installs under a scratch prefix, the units too.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$$(prefix)/lib/systemd/system'
