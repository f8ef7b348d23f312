# tests/unit: one CUnit program per module of lib/proto and lib/transport.
# Other modules register their own test programs in their own local.mk.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/test-proto tests/unit/test-transport
TESTS += tests/unit/test-proto tests/unit/test-transport
endif

UNIT_LDADD = lib/libvmsg.a $(CUNIT_LIBS) -lpthread
UNIT_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
UNIT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)

tests_unit_test_proto_SOURCES = tests/unit/test_proto.c tests/unit/vmsg_test.h tests/unit/test_util.h
tests_unit_test_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_proto_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_proto_LDADD = $(UNIT_LDADD)

tests_unit_test_transport_SOURCES = tests/unit/test_transport.c tests/unit/vmsg_test.h \
	tests/unit/test_util.h
tests_unit_test_transport_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_transport_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_transport_LDADD = $(UNIT_LDADD)

# Print the spec conformance bullets each test program checks, with results.
conformance-report: $(check_PROGRAMS)
	@for t in tests/unit/test-proto tests/unit/test-transport; do \
	  ./$$t --conformance-report | sed -n '/^result /,$$p' || exit 1; done
.PHONY: conformance-report
