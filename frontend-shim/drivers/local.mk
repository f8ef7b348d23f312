# frontend-shim/drivers: userspace virtio drivers (rng, console, blk) on the
# driver-side transport and lib/virtq, for vmsg-front and the tests.
noinst_LIBRARIES += frontend-shim/drivers/libvmsgdrivers.a
frontend_shim_drivers_libvmsgdrivers_a_SOURCES = \
	frontend-shim/drivers/vmsg_drivers.h \
	frontend-shim/drivers/drv_common.h \
	frontend-shim/drivers/drv_common.c \
	frontend-shim/drivers/drv_rng.c \
	frontend-shim/drivers/drv_console.c \
	frontend-shim/drivers/drv_blk.c
