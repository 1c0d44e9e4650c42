#include <math.h>
#include <stdint.h>
#include <string.h>

#include "suites.h"
#include "test_support.h"

static selfsup_tensor *make(int ndim, const int64_t *dims)
{
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, ndim, dims));
    return t;
}

START_TEST(create_is_zero_filled_with_shape)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    selfsup_tensor *t = make(4, dims);
    ck_assert_int_eq(selfsup_tensor_ndim(t), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(selfsup_tensor_dim(t, i), dims[i]);
    ck_assert_int_eq(selfsup_tensor_dim(t, -1), 5);
    ck_assert_int_eq(selfsup_tensor_dim(t, -4), 2);
    ck_assert_int_eq(selfsup_tensor_dim(t, 4), 0);
    ck_assert_int_eq(selfsup_tensor_dim(t, -5), 0);
    ck_assert_int_eq(selfsup_tensor_numel(t), 120);
    const float *d = selfsup_tensor_data(t);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq((uintptr_t)d % 64, 0);
    for (int i = 0; i < 120; i++)
        ck_assert(d[i] == 0.0f);
    selfsup_tensor_destroy(t);
}
END_TEST

START_TEST(create_refuses_bad_arguments)
{
    const int64_t dims[9] = {1, 2, 3, 1, 1, 1, 1, 1, 1};
    selfsup_tensor *sentinel = (selfsup_tensor *)(uintptr_t)0x1234;
    selfsup_tensor *t = sentinel;
    ss_assert_fails(selfsup_tensor_create(NULL, 1, dims),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ss_assert_fails(selfsup_tensor_create(&t, 0, dims),
                    SELFSUP_ERR_INVALID_ARGUMENT, "ndim = 0");
    ss_assert_fails(selfsup_tensor_create(&t, 9, dims),
                    SELFSUP_ERR_INVALID_ARGUMENT, "ndim = 9");
    ss_assert_fails(selfsup_tensor_create(&t, -1, dims),
                    SELFSUP_ERR_INVALID_ARGUMENT, "ndim = -1");
    ss_assert_fails(selfsup_tensor_create(&t, 2, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dims");
    const int64_t zero[2] = {3, 0};
    ss_assert_fails(selfsup_tensor_create(&t, 2, zero),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dims[1] = 0");
    const int64_t huge[3] = {INT64_C(1) << 30, INT64_C(1) << 30, 4};
    ss_assert_fails(selfsup_tensor_create(&t, 3, huge),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dims[1]");
    const int64_t overflow[2] = {INT64_MAX, INT64_MAX};
    ss_assert_fails(selfsup_tensor_create(&t, 2, overflow),
                    SELFSUP_ERR_INVALID_ARGUMENT, NULL);
    ck_assert_ptr_eq(t, sentinel); /* outputs untouched on failure */
}
END_TEST

START_TEST(null_tensor_queries)
{
    ck_assert_int_eq(selfsup_tensor_ndim(NULL), 0);
    ck_assert_int_eq(selfsup_tensor_dim(NULL, 0), 0);
    ck_assert_int_eq(selfsup_tensor_numel(NULL), 0);
    ck_assert_ptr_null(selfsup_tensor_data(NULL));
    selfsup_tensor_destroy(NULL);
    float x[1];
    ss_assert_fails(selfsup_tensor_write(NULL, x, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "t is NULL");
    ss_assert_fails(selfsup_tensor_read(NULL, x, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "t is NULL");
    ss_assert_fails(selfsup_tensor_fill(NULL, 1.0f),
                    SELFSUP_ERR_INVALID_ARGUMENT, "t is NULL");
}
END_TEST

START_TEST(write_read_round_trip)
{
    const int64_t dims[2] = {3, 7};
    selfsup_tensor *t = make(2, dims);
    float src[21], dst[21];
    for (int i = 0; i < 21; i++)
        src[i] = (float)i * 0.5f - 3.0f;
    ss_assert_ok(selfsup_tensor_write(t, src, 21));
    ss_assert_ok(selfsup_tensor_read(t, dst, 21));
    ck_assert_int_eq(memcmp(src, dst, sizeof src), 0);
    ck_assert_int_eq(memcmp(selfsup_tensor_data(t), src, sizeof src), 0);

    /* Count mismatches are shape errors and leave both sides untouched. */
    float keep[21];
    memcpy(keep, dst, sizeof dst);
    ss_assert_fails(selfsup_tensor_read(t, dst, 20), SELFSUP_ERR_SHAPE,
                    "count = 20");
    ss_assert_fails(selfsup_tensor_read(t, dst, 22), SELFSUP_ERR_SHAPE,
                    "21 elements");
    ck_assert_int_eq(memcmp(keep, dst, sizeof dst), 0);
    ss_assert_fails(selfsup_tensor_write(t, src, -1), SELFSUP_ERR_SHAPE,
                    "count = -1");
    ss_assert_fails(selfsup_tensor_write(t, NULL, 21),
                    SELFSUP_ERR_INVALID_ARGUMENT, "src");
    ss_assert_fails(selfsup_tensor_read(t, NULL, 21),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dst");
    ck_assert_int_eq(memcmp(selfsup_tensor_data(t), src, sizeof src), 0);
    selfsup_tensor_destroy(t);
}
END_TEST

START_TEST(fill_sets_every_element)
{
    const int64_t dims[1] = {1000};
    selfsup_tensor *t = make(1, dims);
    ss_assert_ok(selfsup_tensor_fill(t, -2.5f));
    for (int i = 0; i < 1000; i++)
        ck_assert(selfsup_tensor_data(t)[i] == -2.5f);
    selfsup_tensor_destroy(t);
}
END_TEST

/* Mean and variance of a tensor's elements, in double. */
static void moments(const selfsup_tensor *t, double *mean, double *var)
{
    const float *d = selfsup_tensor_data(t);
    int64_t n = selfsup_tensor_numel(t);
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++)
        s += d[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++)
        s2 += (d[i] - *mean) * (d[i] - *mean);
    *var = s2 / (double)(n - 1);
}

START_TEST(fill_uniform_statistics_and_range)
{
    const int64_t dims[1] = {200000};
    selfsup_tensor *t = make(1, dims);
    ss_assert_ok(selfsup_tensor_fill_uniform(t, 42, -1.0f, 3.0f));
    const float *d = selfsup_tensor_data(t);
    for (int i = 0; i < 200000; i++)
        ck_assert(d[i] >= -1.0f && d[i] < 3.0f);
    double mean, var;
    moments(t, &mean, &var);
    /* U[-1, 3): mean 1, variance 16/12; 5 standard errors of slack. */
    ss_assert_close(mean, 1.0, 5 * sqrt(16.0 / 12 / 200000), 0);
    ss_assert_close(var, 16.0 / 12, 5 * 16.0 / sqrt(180.0 * 200000), 0);
    /* Each tenth of the range holds about a tenth of the draws. */
    int bins[10] = {0};
    for (int i = 0; i < 200000; i++)
        bins[(int)((d[i] + 1.0f) / 0.4f)]++;
    double chi2 = 0;
    for (int b = 0; b < 10; b++)
        chi2 += (bins[b] - 20000.0) * (bins[b] - 20000.0) / 20000.0;
    ck_assert_msg(chi2 < 27.9, "chi2 = %g over 9 dof (p < 0.001)", chi2);
    selfsup_tensor_destroy(t);
}
END_TEST

START_TEST(fill_normal_statistics)
{
    const int64_t dims[2] = {400, 500};
    selfsup_tensor *t = make(2, dims);
    ss_assert_ok(selfsup_tensor_fill_normal(t, 7, 0.5f, 2.0f));
    double mean, var;
    moments(t, &mean, &var);
    ss_assert_close(mean, 0.5, 5 * 2.0 / sqrt(200000.0), 0);
    ss_assert_close(var, 4.0, 5 * 4.0 * sqrt(2.0 / 200000), 0);
    /* About 68.27% within one std. */
    const float *d = selfsup_tensor_data(t);
    int inside = 0;
    for (int i = 0; i < 200000; i++)
        inside += fabsf(d[i] - 0.5f) < 2.0f;
    ss_assert_close(inside / 200000.0, 0.682689, 0.005, 0);
    ss_assert_ok(selfsup_tensor_fill_normal(t, 7, 1.0f, 0.0f));
    ck_assert(d[123] == 1.0f);
    selfsup_tensor_destroy(t);
}
END_TEST

START_TEST(fills_depend_only_on_seed_and_index)
{
    const int64_t a_dims[1] = {6000}, b_dims[3] = {10, 20, 30};
    selfsup_tensor *a = make(1, a_dims), *b = make(3, b_dims);
    ss_assert_ok(selfsup_set_num_threads(1));
    ss_assert_ok(selfsup_tensor_fill_normal(a, 99, 0.0f, 1.0f));
    ss_assert_ok(selfsup_set_num_threads(2));
    ss_assert_ok(selfsup_tensor_fill_normal(b, 99, 0.0f, 1.0f));
    ck_assert_int_eq(memcmp(selfsup_tensor_data(a), selfsup_tensor_data(b),
                            6000 * sizeof(float)),
                     0);
    ss_assert_ok(selfsup_tensor_fill_normal(b, 100, 0.0f, 1.0f));
    ck_assert_int_ne(memcmp(selfsup_tensor_data(a), selfsup_tensor_data(b),
                            6000 * sizeof(float)),
                     0);
    ss_assert_ok(selfsup_tensor_fill_uniform(a, 5, 0.0f, 1.0f));
    ss_assert_ok(selfsup_tensor_fill_uniform(b, 5, 0.0f, 1.0f));
    ck_assert_int_eq(memcmp(selfsup_tensor_data(a), selfsup_tensor_data(b),
                            6000 * sizeof(float)),
                     0);
    selfsup_tensor_destroy(a);
    selfsup_tensor_destroy(b);
}
END_TEST

START_TEST(fills_refuse_bad_parameters)
{
    const int64_t dims[1] = {4};
    selfsup_tensor *t = make(1, dims);
    ss_assert_ok(selfsup_tensor_fill(t, 9.0f));
    ss_assert_fails(selfsup_tensor_fill_uniform(t, 1, 1.0f, 1.0f),
                    SELFSUP_ERR_INVALID_ARGUMENT, "[1, 1)");
    ss_assert_fails(selfsup_tensor_fill_uniform(t, 1, 0.0f, NAN),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not finite");
    ss_assert_fails(selfsup_tensor_fill_normal(t, 1, 0.0f, -1.0f),
                    SELFSUP_ERR_INVALID_ARGUMENT, "std = -1");
    ss_assert_fails(selfsup_tensor_fill_normal(t, 1, INFINITY, 1.0f),
                    SELFSUP_ERR_INVALID_ARGUMENT, "mean = inf");
    ss_assert_fails(selfsup_tensor_fill_uniform(NULL, 1, 0.0f, 1.0f),
                    SELFSUP_ERR_INVALID_ARGUMENT, "t is NULL");
    for (int i = 0; i < 4; i++)
        ck_assert(selfsup_tensor_data(t)[i] == 9.0f);
    selfsup_tensor_destroy(t);
}
END_TEST

START_TEST(clone_copy_reshape)
{
    const int64_t dims[2] = {4, 6};
    selfsup_tensor *a = make(2, dims), *b = NULL;
    ss_assert_ok(selfsup_tensor_fill_uniform(a, 3, -1.0f, 1.0f));
    ss_assert_ok(selfsup_tensor_clone(&b, a));
    ck_assert_int_eq(selfsup_tensor_ndim(b), 2);
    ck_assert_int_eq(selfsup_tensor_dim(b, 1), 6);
    ck_assert_ptr_ne(selfsup_tensor_data(a), selfsup_tensor_data(b));
    ck_assert_int_eq(memcmp(selfsup_tensor_data(a), selfsup_tensor_data(b),
                            24 * sizeof(float)),
                     0);

    const int64_t flat[1] = {24}, wrong[2] = {5, 5}, three[3] = {2, 3, 4};
    ss_assert_fails(selfsup_tensor_reshape(b, 2, wrong), SELFSUP_ERR_SHAPE,
                    "25 elements");
    ck_assert_int_eq(selfsup_tensor_dim(b, 0), 4);
    ss_assert_ok(selfsup_tensor_reshape(b, 1, flat));
    ck_assert_int_eq(selfsup_tensor_ndim(b), 1);
    ck_assert_int_eq(selfsup_tensor_dim(b, 0), 24);

    ss_assert_fails(selfsup_tensor_copy(b, a), SELFSUP_ERR_SHAPE,
                    "src has shape (4, 6), not (24)");
    ss_assert_ok(selfsup_tensor_reshape(b, 3, three));
    ss_assert_ok(selfsup_tensor_fill(b, 0.0f));
    ss_assert_ok(selfsup_tensor_reshape(b, 2, dims));
    ss_assert_ok(selfsup_tensor_copy(b, a));
    ck_assert(selfsup_tensor_data(b)[23] == selfsup_tensor_data(a)[23]);
    ss_assert_fails(selfsup_tensor_clone(&b, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "src");
    ss_assert_fails(selfsup_tensor_copy(NULL, a),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dst");
    selfsup_tensor_destroy(a);
    selfsup_tensor_destroy(b);
}
END_TEST

TCase *tensor_tcase(void)
{
    TCase *tc = tcase_create("tensor");
    tcase_add_test(tc, create_is_zero_filled_with_shape);
    tcase_add_test(tc, create_refuses_bad_arguments);
    tcase_add_test(tc, null_tensor_queries);
    tcase_add_test(tc, write_read_round_trip);
    tcase_add_test(tc, fill_sets_every_element);
    tcase_add_test(tc, fill_uniform_statistics_and_range);
    tcase_add_test(tc, fill_normal_statistics);
    tcase_add_test(tc, fills_depend_only_on_seed_and_index);
    tcase_add_test(tc, fills_refuse_bad_parameters);
    tcase_add_test(tc, clone_copy_reshape);
    return tc;
}

/* Allocation failures: every allocation of create and clone may fail, and
 * each failure is reported and leaks nothing. */

static selfsup_status create_and_destroy(void *ctx)
{
    (void)ctx;
    const int64_t dims[3] = {2, 3, 5};
    selfsup_tensor *t = (selfsup_tensor *)(uintptr_t)0x99;
    selfsup_status s = selfsup_tensor_create(&t, 3, dims);
    if (s != SELFSUP_OK) {
        ck_assert_ptr_eq(t, (selfsup_tensor *)(uintptr_t)0x99);
        return s;
    }
    selfsup_tensor_destroy(t);
    return SELFSUP_OK;
}

static selfsup_status clone_and_destroy(void *ctx)
{
    selfsup_tensor *copy = NULL;
    selfsup_status s = selfsup_tensor_clone(&copy, ctx);
    if (s != SELFSUP_OK) {
        ck_assert_ptr_null(copy);
        return s;
    }
    selfsup_tensor_destroy(copy);
    return SELFSUP_OK;
}

START_TEST(allocation_failures_are_clean)
{
    ck_assert_int_eq(ss_sweep_alloc_failures(create_and_destroy, NULL,
                                             SELFSUP_OK),
                     2);
    const int64_t dims[1] = {10};
    selfsup_tensor *src = make(1, dims);
    ck_assert_int_eq(ss_sweep_alloc_failures(clone_and_destroy, src,
                                             SELFSUP_OK),
                     2);
    selfsup_tensor_destroy(src);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

TCase *tensor_alloc_tcase(void)
{
    TCase *tc = tcase_create("tensor_alloc");
    tcase_add_test(tc, allocation_failures_are_clean);
    return tc;
}
