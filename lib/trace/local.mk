# lib/trace: messages as JSON lines (vmsgctl decode, daemon trace logs).
noinst_LIBRARIES += lib/libvmsgtrace.a
lib_libvmsgtrace_a_SOURCES = lib/trace/vmsg_json.h lib/trace/vmsg_json.c
lib_libvmsgtrace_a_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
