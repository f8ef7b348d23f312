# lib/proto: wire formats (no I/O, no allocation).
lib_libvmsg_a_SOURCES += \
	lib/proto/vmsg_le.h \
	lib/proto/vmsg_proto.h \
	lib/proto/vmsg_layout.h \
	lib/proto/vmsg_layout_v1.c \
	lib/proto/vmsg_codec.c \
	lib/proto/vmsg_names.c
