# lib/util + lib/transport: logging, the abstract bus, the device- and
# driver-side transports, the pool allocator and the loopback bus.
lib_libvmsg_a_SOURCES += \
	lib/util/vmsg_log.h \
	lib/util/vmsg_log.c \
	lib/transport/vmsg_bus.h \
	lib/transport/vmsg_device.h \
	lib/transport/vmsg_driver.h \
	lib/transport/vmsg_pool.h \
	lib/transport/vmsg_loopback.h \
	lib/transport/vmsg_device_internal.h \
	lib/transport/vmsg_device.c \
	lib/transport/vmsg_devbus.c \
	lib/transport/vmsg_driver.c \
	lib/transport/vmsg_pool.c \
	lib/transport/vmsg_loopback.c
