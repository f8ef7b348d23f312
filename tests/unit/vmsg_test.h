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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A spec conformance bullet (virtio-msg digest section 5) and the test that
 * checks it. A program that passes a table to vmsg_test_main_report() prints
 * it with each test's result when run with --conformance-report.
 */
struct vmsg_conformance {
    const char *test;       /* the CUnit test function's name */
    const char *section;    /* "Message format and limits" */
    const char *bullet;     /* the requirement, paraphrased */
};

static inline bool vmsg_test_failed(const char *name)
{
    for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext)
        if (f->pTest && strcmp(f->pTest->pName, name) == 0)
            return true;
    return false;
}

static inline void vmsg_print_conformance(const struct vmsg_conformance *t)
{
    printf("\n%-8s %-34s %-46s %s\n", "result", "section", "test", "requirement");
    for (; t && t->test; t++)
        printf("%-8s %-34s %-46s %s\n", vmsg_test_failed(t->test) ? "FAIL" : "pass", t->section,
               t->test, t->bullet);
}

static inline int vmsg_test_main_report(int argc, char **argv, void (*register_suites)(void),
                                        const struct vmsg_conformance *table);

static inline int vmsg_test_main(void (*register_suites)(void))
{
    return vmsg_test_main_report(0, NULL, register_suites, NULL);
}

static inline int vmsg_test_main_report(int argc, char **argv, void (*register_suites)(void),
                                        const struct vmsg_conformance *table)
{
    bool report = argc > 1 && strcmp(argv[1], "--conformance-report") == 0;
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
    if (report)
        vmsg_print_conformance(table);
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
