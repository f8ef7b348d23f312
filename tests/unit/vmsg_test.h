/*
 * tests/unit/vmsg_test.h: the one main() every CUnit test program shares.
 *
 * Each module has its own test program (test-proto, test-transport, ...), so
 * modules add suites without touching a shared list. vmsg_test_main() runs
 * every registered suite verbosely, prints CUnit's summary and returns
 * non-zero when any assertion failed: CU_get_error() alone would return 0
 * after failed asserts.
 */
#ifndef VMSG_TEST_H
#define VMSG_TEST_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

static inline int vmsg_test_main(void (*register_suites)(void))
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    register_suites();
    if (CU_get_error() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: registering suites failed: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned suites_failed = CU_get_number_of_suites_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return (failed || suites_failed) ? 1 : 0;
}

/* Add a suite, or a test to the last suite, and fail loudly on error. */
#define VMSG_SUITE(name, init, clean) \
    CU_pSuite vmsg_suite__ = CU_add_suite((name), (init), (clean)); \
    if (!vmsg_suite__) return
#define VMSG_TEST(fn) \
    do { if (!CU_add_test(vmsg_suite__, #fn, fn)) return; } while (0)

#endif
