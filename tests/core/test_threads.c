#include <omp.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/dnnl_ctx.h"
#include "core/threads.h"
#include "suites.h"
#include "test_support.h"

START_TEST(thread_count_round_trip)
{
    ss_assert_ok(selfsup_set_num_threads(1));
    ck_assert_int_eq(selfsup_get_num_threads(), 1);
    ck_assert_int_eq(omp_get_max_threads(), 1);
    ss_assert_ok(selfsup_set_num_threads(3));
    ck_assert_int_eq(selfsup_get_num_threads(), 3);
    ss_assert_fails(selfsup_set_num_threads(-2), SELFSUP_ERR_INVALID_ARGUMENT,
                    "n = -2");
    ck_assert_int_eq(selfsup_get_num_threads(), 3);
    ss_assert_ok(selfsup_set_num_threads(0));
    /* The default is what OpenMP said before the library changed it: the
     * suites run with OMP_NUM_THREADS=1. */
    const char *env = getenv("OMP_NUM_THREADS");
    ck_assert_int_eq(selfsup_get_num_threads(),
                     env ? atoi(env) : omp_get_num_procs());
}
END_TEST

static void *apply_in_thread(void *arg)
{
    (void)arg;
    selfsup__threads_apply();
    return (void *)(intptr_t)omp_get_max_threads();
}

START_TEST(setting_reaches_other_host_threads)
{
    ss_assert_ok(selfsup_set_num_threads(1));
    pthread_t th;
    void *seen;
    ck_assert_int_eq(pthread_create(&th, NULL, apply_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(th, &seen), 0);
    ck_assert_int_eq((intptr_t)seen, 1);
}
END_TEST

static void *stream_of_thread(void *arg)
{
    dnnl_stream_t *out = arg;
    return (void *)(intptr_t)selfsup__dnnl_stream(out);
}

START_TEST(engine_is_shared_streams_are_per_thread)
{
    dnnl_engine_t e1, e2;
    ss_assert_ok(selfsup__dnnl_engine(&e1));
    ss_assert_ok(selfsup__dnnl_engine(&e2));
    ck_assert_ptr_eq(e1, e2);
    dnnl_stream_t s1, s2, other;
    ss_assert_ok(selfsup__dnnl_stream(&s1));
    ss_assert_ok(selfsup__dnnl_stream(&s2));
    ck_assert_ptr_eq(s1, s2);
    pthread_t th;
    void *status;
    ck_assert_int_eq(pthread_create(&th, NULL, stream_of_thread, &other), 0);
    ck_assert_int_eq(pthread_join(th, &status), 0);
    ck_assert_int_eq((intptr_t)status, SELFSUP_OK);
    ck_assert_ptr_ne(other, s1);
}
END_TEST

START_TEST(backend_errors_are_mapped)
{
    ss_assert_ok(selfsup__dnnl_check(dnnl_success, "w", "x"));
    ss_assert_fails(selfsup__dnnl_check(dnnl_out_of_memory, "w", "matmul"),
                    SELFSUP_ERR_OUT_OF_MEMORY, "oneDNN matmul failed");
    ss_assert_fails(selfsup__dnnl_check(dnnl_unimplemented, "w", "conv"),
                    SELFSUP_ERR_UNSUPPORTED, "unimplemented");
    ss_assert_fails(selfsup__dnnl_check(dnnl_invalid_arguments, "w", "conv"),
                    SELFSUP_ERR_BACKEND, "invalid arguments");
}
END_TEST

TCase *threads_tcase(void)
{
    TCase *tc = tcase_create("threads");
    tcase_add_test(tc, thread_count_round_trip);
    tcase_add_test(tc, setting_reaches_other_host_threads);
    tcase_add_test(tc, engine_is_shared_streams_are_per_thread);
    tcase_add_test(tc, backend_errors_are_mapped);
    return tc;
}

#include "core/gemm.h"

/* C = alpha op(A) op(B) + beta C against a double-precision loop, for every
 * combination of transposes and with padded leading dimensions. */
START_TEST(sgemm_matches_naive_product)
{
    enum { M = 13, N = 7, K = 19, PAD = 3 };
    static float a[K * (M + PAD)], b[K * (N + PAD)], c[M * (N + PAD)];
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int lda = (ta ? M : K) + PAD, ldb = (tb ? K : N) + PAD;
            int ldc = N + PAD;
            for (int i = 0; i < K * (M + PAD); i++)
                a[i] = (float)((i * 37 % 23) - 11) / 7.0f;
            for (int i = 0; i < K * (N + PAD); i++)
                b[i] = (float)((i * 53 % 29) - 14) / 9.0f;
            for (int i = 0; i < M * (N + PAD); i++)
                c[i] = (float)(i % 5);
            static float expect[M * N];
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int p = 0; p < K; p++) {
                        double x = ta ? a[p * lda + i] : a[i * lda + p];
                        double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                        s += x * y;
                    }
                    expect[i * N + j] = (float)(0.5 * s + 2.0 * c[i * ldc + j]);
                }
            ss_assert_ok(selfsup__sgemm(ta, tb, M, N, K, 0.5f, a, lda, b, ldb,
                                        2.0f, c, ldc));
            for (int i = 0; i < M; i++)
                ss_assert_all_close(c + i * ldc, expect + i * N, N, 1e-4,
                                    1e-5);
        }
}
END_TEST

TCase *gemm_tcase(void)
{
    TCase *tc = tcase_create("gemm");
    tcase_add_test(tc, sgemm_matches_naive_product);
    return tc;
}
