/* Datasets over host memory (borrowed or copied), labels, statistics and
 * plain batches for evaluation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "suites.h"
#include "test_support.h"

enum { COUNT = 7, H = 5, W = 6 };

static uint8_t *make_pixels(int c)
{
    uint8_t *p = malloc((size_t)COUNT * H * W * c);
    for (int i = 0; i < COUNT * H * W * c; i++)
        p[i] = (uint8_t)((i * 97) ^ (i >> 3));
    return p;
}

START_TEST(borrowed_and_copied_memory)
{
    uint8_t *pixels = make_pixels(3);
    int32_t labels[COUNT] = {4, -1, 7, 100000, 0, 2, 3};
    selfsup_dataset *borrowed = NULL, *copied = NULL;
    ss_assert_ok(selfsup_dataset_from_memory(&borrowed, pixels, COUNT, H, W, 3,
                                             labels, 0));
    ss_assert_ok(selfsup_dataset_from_memory(&copied, pixels, COUNT, H, W, 3,
                                             labels, 1));
    const uint8_t *a, *b;
    ss_assert_ok(selfsup_dataset_image(borrowed, 2, &a));
    ss_assert_ok(selfsup_dataset_image(copied, 2, &b));
    ck_assert_ptr_eq(a, pixels + 2 * H * W * 3);
    ck_assert_ptr_ne(b, a);
    ck_assert(memcmp(a, b, H * W * 3) == 0);
    /* The copy does not see later changes; the borrowed one does. */
    pixels[2 * H * W * 3] ^= 0xff;
    labels[1] = 42;
    ss_assert_ok(selfsup_dataset_image(copied, 2, &b));
    ck_assert(b[0] != pixels[2 * H * W * 3]);
    int32_t got[COUNT];
    ss_assert_ok(selfsup_dataset_labels(copied, 0, COUNT, got));
    ck_assert_int_eq(got[1], -1);
    ck_assert_int_eq(got[3], 100000);
    ss_assert_ok(selfsup_dataset_labels(borrowed, 1, 2, got));
    ck_assert_int_eq(got[0], 42);
    ck_assert_int_eq(got[1], 7);
    ck_assert_int_eq(selfsup_dataset_count(borrowed), COUNT);
    ck_assert_int_eq(selfsup_dataset_channels(copied), 3);
    ck_assert_int_eq(selfsup_dataset_has_labels(copied), 1);
    selfsup_dataset_destroy(borrowed);
    selfsup_dataset_destroy(copied);
    free(pixels);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

START_TEST(memory_errors_and_queries)
{
    uint8_t px[H * W] = {0};
    selfsup_dataset *sentinel = (selfsup_dataset *)(uintptr_t)0x31;
    selfsup_dataset *d = sentinel;
    ss_assert_fails(selfsup_dataset_from_memory(NULL, px, 1, H, W, 1, NULL, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ss_assert_fails(selfsup_dataset_from_memory(&d, NULL, 1, H, W, 1, NULL, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "pixels is NULL");
    ss_assert_fails(selfsup_dataset_from_memory(&d, px, 0, H, W, 1, NULL, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "count = 0");
    ss_assert_fails(selfsup_dataset_from_memory(&d, px, 1, 0, W, 1, NULL, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "height = 0");
    ss_assert_fails(selfsup_dataset_from_memory(&d, px, 1, H, W, 2, NULL, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "channels = 2");
    ss_assert_fails(
        selfsup_dataset_from_memory(&d, px, INT64_C(1) << 40, H, W, 1, NULL, 0),
        SELFSUP_ERR_INVALID_ARGUMENT, "exceed 2^40");
    ss_assert_fails(selfsup_dataset_from_memory(&d, px, 1, H, W, 1, NULL, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT, "copy = 2");
    ck_assert_ptr_eq(d, sentinel);

    ss_assert_ok(selfsup_dataset_from_memory(&d, px, 1, H, W, 1, NULL, 0));
    int32_t lab[1] = {-7};
    ss_assert_fails(selfsup_dataset_labels(d, 0, 1, lab), SELFSUP_ERR_STATE,
                    "no labels");
    ck_assert_int_eq(lab[0], -7);
    const uint8_t *p = NULL;
    ss_assert_fails(selfsup_dataset_image(d, 1, &p),
                    SELFSUP_ERR_INVALID_ARGUMENT, "index = 1");
    ss_assert_fails(selfsup_dataset_image(d, -1, &p),
                    SELFSUP_ERR_INVALID_ARGUMENT, "index = -1");
    ck_assert_ptr_null(p);
    ss_assert_fails(selfsup_dataset_labels(d, 0, 2, lab),
                    SELFSUP_ERR_INVALID_ARGUMENT, "count = 2");
    /* A constant image: mean 0, and std 1 so normalising stays finite. */
    float mean = -1, std = -1;
    ss_assert_ok(selfsup_dataset_stats(d, &mean, &std));
    ck_assert(mean == 0.0f && std == 1.0f);
    selfsup_dataset_destroy(d);
    selfsup_dataset_destroy(NULL);
    ck_assert_int_eq(selfsup_dataset_count(NULL), 0);
    ck_assert_int_eq(selfsup_dataset_height(NULL), 0);
    ck_assert_int_eq(selfsup_dataset_width(NULL), 0);
    ck_assert_int_eq(selfsup_dataset_channels(NULL), 0);
    ck_assert_int_eq(selfsup_dataset_has_labels(NULL), 0);
}
END_TEST

/* Per-channel statistics against a direct double computation. */
START_TEST(statistics_per_channel)
{
    uint8_t *pixels = make_pixels(3);
    selfsup_dataset *d = NULL;
    ss_assert_ok(
        selfsup_dataset_from_memory(&d, pixels, COUNT, H, W, 3, NULL, 0));
    float mean[3], std[3];
    ss_assert_ok(selfsup_dataset_stats(d, mean, std));
    for (int ch = 0; ch < 3; ch++) {
        double s = 0, sq = 0, n = COUNT * H * W;
        for (int i = 0; i < COUNT * H * W; i++) {
            double x = pixels[i * 3 + ch] / 255.0;
            s += x;
            sq += x * x;
        }
        double m = s / n;
        ss_assert_close(mean[ch], m, 1e-6, 0);
        ss_assert_close(std[ch], sqrt(sq / n - m * m), 1e-6, 0);
    }
    selfsup_dataset_destroy(d);
    free(pixels);
}
END_TEST

START_TEST(read_batch_scales_and_normalises)
{
    uint8_t *pixels = make_pixels(3);
    selfsup_dataset *d = NULL;
    ss_assert_ok(
        selfsup_dataset_from_memory(&d, pixels, COUNT, H, W, 3, NULL, 0));
    const int64_t dims[4] = {3, 3, H, W};
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 4, dims));
    ss_assert_ok(selfsup_dataset_read_batch(d, 4, t, NULL, NULL));
    const float *x = selfsup_tensor_data(t);
    for (int i = 0; i < 3; i++)
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < H * W; p++)
                ck_assert(x[(i * 3 + ch) * H * W + p] ==
                          pixels[((4 + i) * H * W + p) * 3 + ch] / 255.0f);
    const float mean[3] = {0.5f, 0.25f, 0.125f}, std[3] = {0.5f, 2, 0.25f};
    ss_assert_ok(selfsup_dataset_read_batch(d, 4, t, mean, std));
    for (int i = 0; i < 3; i++)
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < H * W; p++) {
                float want = (pixels[((4 + i) * H * W + p) * 3 + ch] / 255.0f -
                              mean[ch]) /
                             std[ch];
                ss_assert_close(x[(i * 3 + ch) * H * W + p], want, 1e-6, 0);
            }
    /* Errors leave the batch as it was. */
    float before = x[0];
    ss_assert_fails(selfsup_dataset_read_batch(d, 5, t, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "first = 5, count = 3");
    ss_assert_fails(selfsup_dataset_read_batch(d, -1, t, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "first = -1");
    ss_assert_fails(selfsup_dataset_read_batch(d, 0, t, mean, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "both");
    const float zero[3] = {1, 0, 1};
    ss_assert_fails(selfsup_dataset_read_batch(d, 0, t, mean, zero),
                    SELFSUP_ERR_INVALID_ARGUMENT, "std[1] = 0");
    ss_assert_fails(selfsup_dataset_read_batch(d, 0, NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "batch is NULL");
    selfsup_tensor *wrong = NULL;
    const int64_t wdims[4] = {3, 1, H, W};
    ss_assert_ok(selfsup_tensor_create(&wrong, 4, wdims));
    ss_assert_fails(selfsup_dataset_read_batch(d, 0, wrong, NULL, NULL),
                    SELFSUP_ERR_SHAPE,
                    "batch has shape (3, 1, 5, 6), not "
                    "(3, 3, 5, 6)");
    selfsup_tensor_destroy(wrong);
    const int64_t flat[2] = {3, 90};
    ss_assert_ok(selfsup_tensor_create(&wrong, 2, flat));
    ss_assert_fails(selfsup_dataset_read_batch(d, 0, wrong, NULL, NULL),
                    SELFSUP_ERR_SHAPE, "2 axes, not 4");
    ck_assert(x[0] == before);
    selfsup_tensor_destroy(wrong);
    selfsup_tensor_destroy(t);
    selfsup_dataset_destroy(d);
    free(pixels);
}
END_TEST

static selfsup_status copy_dataset(void *ctx)
{
    uint8_t *pixels = ctx;
    static const int32_t labels[COUNT] = {1, 2, 3, 4, 5, 6, 7};
    selfsup_dataset *d = NULL;
    SS_TRY(selfsup_dataset_from_memory(&d, pixels, COUNT, H, W, 1, labels, 1));
    selfsup_dataset_destroy(d);
    SS_TRY(selfsup_dataset_from_memory(&d, pixels, COUNT, H, W, 1, labels, 0));
    selfsup_dataset_destroy(d);
    return SELFSUP_OK;
}

START_TEST(memory_allocation_failures_are_clean)
{
    uint8_t *pixels = make_pixels(1);
    ck_assert_int_eq(ss_sweep_alloc_failures(copy_dataset, pixels, SELFSUP_OK),
                     4);
    free(pixels);
}
END_TEST

TCase *dataset_tcase(void)
{
    TCase *tc = tcase_create("dataset");
    tcase_add_test(tc, borrowed_and_copied_memory);
    tcase_add_test(tc, memory_errors_and_queries);
    tcase_add_test(tc, statistics_per_channel);
    tcase_add_test(tc, read_batch_scales_and_normalises);
    tcase_add_test(tc, memory_allocation_failures_are_clean);
    return tc;
}
