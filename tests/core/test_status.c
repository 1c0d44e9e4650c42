#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "suites.h"
#include "test_support.h"

START_TEST(version_matches_macros)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SELFSUP_VERSION_MAJOR,
             SELFSUP_VERSION_MINOR, SELFSUP_VERSION_PATCH);
    ck_assert_str_eq(selfsup_version_string(), want);
    ck_assert_int_eq(selfsup_version_number(), SELFSUP_VERSION_NUMBER);
    ck_assert_int_eq(SELFSUP_VERSION_NUMBER, 0x000100);
}
END_TEST

START_TEST(status_strings_are_distinct)
{
    const selfsup_status all[] = {
        SELFSUP_OK,           SELFSUP_ERR_INVALID_ARGUMENT,
        SELFSUP_ERR_SHAPE,    SELFSUP_ERR_OUT_OF_MEMORY,
        SELFSUP_ERR_IO,       SELFSUP_ERR_CORRUPT,
        SELFSUP_ERR_VERSION,  SELFSUP_ERR_NUMERIC,
        SELFSUP_ERR_UNSUPPORTED, SELFSUP_ERR_BACKEND,
        SELFSUP_ERR_STATE};
    const int n = sizeof all / sizeof all[0];
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(all[i], -i); /* the contract's values */
        const char *a = selfsup_status_string(all[i]);
        ck_assert_ptr_nonnull(a);
        ck_assert_int_gt(strlen(a), 1);
        ck_assert_str_ne(a, "unknown status");
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(a, selfsup_status_string(all[j]));
    }
    ck_assert_str_eq(selfsup_status_string((selfsup_status)-99),
                     "unknown status");
    ck_assert_str_eq(selfsup_status_string((selfsup_status)7),
                     "unknown status");
}
END_TEST

START_TEST(last_error_names_function_and_value)
{
    ck_assert_str_eq(selfsup_last_error(), "");
    selfsup_tensor *t = NULL;
    const int64_t dims[2] = {4, -3};
    ss_assert_fails(selfsup_tensor_create(&t, 2, dims),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dims[1] = -3");
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(selfsup_last_error(), "selfsup_tensor_create"));
    /* Success does not clear the message; clear_error does. */
    const int64_t good[1] = {2};
    ss_assert_ok(selfsup_tensor_create(&t, 1, good));
    ck_assert_ptr_nonnull(strstr(selfsup_last_error(), "dims[1]"));
    selfsup_clear_error();
    ck_assert_str_eq(selfsup_last_error(), "");
    selfsup_tensor_destroy(t);
}
END_TEST

static void *fail_in_thread(void *arg)
{
    (void)arg;
    selfsup__fail(SELFSUP_ERR_IO, "worker", "message of another thread");
    return (void *)selfsup_last_error();
}

START_TEST(last_error_is_per_thread)
{
    selfsup__fail(SELFSUP_ERR_SHAPE, "main", "mine");
    pthread_t th;
    void *theirs;
    ck_assert_int_eq(pthread_create(&th, NULL, fail_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(th, &theirs), 0);
    ck_assert_str_eq(selfsup_last_error(), "main: mine");
}
END_TEST

START_TEST(long_messages_are_truncated_safely)
{
    char big[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    selfsup__fail(SELFSUP_ERR_IO, "where", "%s", big);
    ck_assert_int_lt(strlen(selfsup_last_error()), 1024);
    ck_assert_int_gt(strlen(selfsup_last_error()), 1000);
}
END_TEST

TCase *status_tcase(void)
{
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, version_matches_macros);
    tcase_add_test(tc, status_strings_are_distinct);
    tcase_add_test(tc, last_error_names_function_and_value);
    tcase_add_test(tc, last_error_is_per_thread);
    tcase_add_test(tc, long_messages_are_truncated_safely);
    return tc;
}
