/* Views: presets and recipes, batched runs that depend only on (seed,
 * epoch, sample, view), shapes and errors, the normalisation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "suites.h"
#include "test_support.h"

enum { N = 24 };

/* N synthetic images of h x w x c bytes with structure (gradients and a
 * per-image offset) so that crops, flips and colour changes all show. */
static selfsup_dataset *synthetic(int h, int w, int c, uint8_t **keep)
{
    uint8_t *p = malloc((size_t)N * h * w * c);
    for (int i = 0; i < N; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                    p[(((size_t)i * h + y) * w + x) * c + ch] =
                        (uint8_t)(i * 13 + x * 9 + y * (5 + ch) +
                                  ((x * y) >> 2) * (ch + 1));
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_from_memory(&d, p, N, h, w, c, NULL, 0));
    *keep = p;
    return d;
}

static selfsup_views *views(const char *recipe, int n, int size)
{
    selfsup_views *v = NULL;
    ss_assert_ok(selfsup_views_create(&v, recipe, n, size));
    return v;
}

static selfsup_tensor *batch(int64_t n, int c, int s)
{
    const int64_t dims[4] = {n, c, s, s};
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 4, dims));
    return t;
}

START_TEST(presets_and_recipes)
{
    selfsup_views *v = views("byol", 0, 28);
    ck_assert_int_eq(selfsup_views_count(v), 2);
    ck_assert_int_eq(selfsup_views_out_size(v), 28);
    ck_assert_ptr_nonnull(strstr(selfsup_views_spec(v, 0), "crop:size=28"));
    ck_assert_ptr_nonnull(
        strstr(selfsup_views_spec(v, 0), "blur:sigma=0.1-2.0,p=1.0"));
    ck_assert_ptr_null(strstr(selfsup_views_spec(v, 0), "solarize"));
    ck_assert_ptr_nonnull(
        strstr(selfsup_views_spec(v, 1), "blur:sigma=0.1-2.0,p=0.1"));
    ck_assert_ptr_nonnull(
        strstr(selfsup_views_spec(v, 1), "solarize:threshold=0.5,p=0.2"));
    ck_assert_ptr_null(selfsup_views_spec(v, 2));
    selfsup_views_destroy(v);
    /* More views than pipelines: the preset cycles. */
    v = views("byol", 5, 32);
    ck_assert_int_eq(selfsup_views_count(v), 5);
    ck_assert_str_eq(selfsup_views_spec(v, 2), selfsup_views_spec(v, 0));
    ck_assert_str_eq(selfsup_views_spec(v, 3), selfsup_views_spec(v, 1));
    ck_assert_str_ne(selfsup_views_spec(v, 0), selfsup_views_spec(v, 1));
    ck_assert_ptr_nonnull(strstr(selfsup_views_spec(v, 4), "crop:size=32"));
    selfsup_views_destroy(v);
    const char *presets[] = {"simclr",       "simsiam", "vicreg", "fmnist",
                             "fmnist-light", "rgb32",   "rgb64",  "rgb96"};
    const int counts[] = {1, 1, 2, 2, 2, 2, 2, 2};
    for (int i = 0; i < 8; i++) {
        v = views(presets[i], 0, 28);
        ck_assert_int_eq(selfsup_views_count(v), counts[i]);
        selfsup_views_destroy(v);
        v = views(presets[i], 2, 28);
        ck_assert_int_eq(selfsup_views_count(v), 2);
        selfsup_views_destroy(v);
    }
    /* fmnist-light is fmnist with crops of 90-100% instead of 70-100%. */
    v = views("fmnist", 2, 28);
    selfsup_views *light = views("fmnist-light", 2, 28);
    for (int k = 0; k < 2; k++) {
        char spec[512];
        snprintf(spec, sizeof spec, "%s", selfsup_views_spec(light, k));
        char *at = strstr(spec, "scale=0.9-1.0");
        ck_assert_ptr_nonnull(at);
        at[strlen("scale=0.")] = '7';
        ck_assert_str_eq(spec, selfsup_views_spec(v, k));
    }
    selfsup_views_destroy(light);
    selfsup_views_destroy(v);
    /* rgb32 and rgb64 are byol without its blur; rgb96 is byol */
    selfsup_views *byol = views("byol", 2, 32);
    v = views("rgb32", 2, 32);
    for (int k = 0; k < 2; k++) {
        ck_assert_ptr_null(strstr(selfsup_views_spec(v, k), "blur"));
        ck_assert_ptr_nonnull(
            strstr(selfsup_views_spec(v, k), "saturation=0.2,hue=0.1"));
    }
    ck_assert_ptr_nonnull(strstr(selfsup_views_spec(v, 1), "solarize"));
    selfsup_views_destroy(v);
    v = views("rgb96", 2, 32);
    for (int k = 0; k < 2; k++)
        ck_assert_str_eq(selfsup_views_spec(v, k), selfsup_views_spec(byol, k));
    selfsup_views_destroy(v);
    selfsup_views_destroy(byol);
    v = views("crop:size=16|flip;crop:size=16,scale=0.5-1.0", 3, 16);
    ck_assert_str_eq(selfsup_views_spec(v, 0), "crop:size=16|flip");
    ck_assert_str_eq(selfsup_views_spec(v, 1), "crop:size=16,scale=0.5-1.0");
    ck_assert_str_eq(selfsup_views_spec(v, 2), "crop:size=16|flip");
    selfsup_views_destroy(v);
    v = views("crop|flip", 0, 20); /* crop without size= makes out_size */
    ck_assert_int_eq(selfsup_views_count(v), 1);
    selfsup_views_destroy(v);
    ck_assert_int_eq(selfsup_views_count(NULL), 0);
    selfsup_views_destroy(NULL);
}
END_TEST

START_TEST(views_create_errors)
{
    selfsup_views *sentinel = (selfsup_views *)(uintptr_t)0x77;
    selfsup_views *v = sentinel;
    ss_assert_fails(selfsup_views_create(NULL, "byol", 2, 28),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ss_assert_fails(selfsup_views_create(&v, NULL, 2, 28),
                    SELFSUP_ERR_INVALID_ARGUMENT, "recipe is NULL");
    ss_assert_fails(selfsup_views_create(&v, "byol", -1, 28),
                    SELFSUP_ERR_INVALID_ARGUMENT, "n_views = -1");
    ss_assert_fails(selfsup_views_create(&v, "byol", 65, 28),
                    SELFSUP_ERR_INVALID_ARGUMENT, "n_views = 65");
    ss_assert_fails(selfsup_views_create(&v, "byol", 2, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out_size = 0");
    ss_assert_fails(selfsup_views_create(&v, "byl", 2, 28),
                    SELFSUP_ERR_INVALID_ARGUMENT, "unknown operation \"byl\"");
    ss_assert_fails(selfsup_views_create(&v, "flip;flip;flip", 2, 28),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "has 3 pipelines for n_views = 2");
    ss_assert_fails(selfsup_views_create(&v, "crop:size=32", 2, 28),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "ends at 32x32, not out_size = 28");
    ss_assert_fails(
        selfsup_views_create(&v, "flip;crop:size=20|blur:kernel=2", 2, 20),
        SELFSUP_ERR_INVALID_ARGUMENT, "kernel = 2 is even");
    ck_assert_ptr_eq(v, sentinel);
}
END_TEST

/* Each sample's views are the same bits on 1 or 2 threads, alone or in a
 * batch, first or last. */
static void check_determinism(const char *recipe, int h, int w, int c, int s)
{
    uint8_t *pixels;
    selfsup_dataset *d = synthetic(h, w, c, &pixels);
    selfsup_views *v = views(recipe, 2, s);
    int64_t forward[N], backward[N];
    for (int i = 0; i < N; i++) {
        forward[i] = i;
        backward[i] = N - 1 - i;
    }
    int64_t per = (int64_t)c * s * s;
    selfsup_tensor *a[2] = {batch(N, c, s), batch(N, c, s)};
    selfsup_tensor *b[2] = {batch(N, c, s), batch(N, c, s)};
    selfsup_tensor *one[2] = {batch(1, c, s), batch(1, c, s)};
    ss_assert_ok(selfsup_set_num_threads(1));
    ss_assert_ok(selfsup_views_apply(v, d, forward, N, 11, 3, a));
    ss_assert_ok(selfsup_set_num_threads(2));
    ss_assert_ok(selfsup_views_apply(v, d, backward, N, 11, 3, b));
    for (int view = 0; view < 2; view++) {
        const float *fa = selfsup_tensor_data(a[view]);
        const float *fb = selfsup_tensor_data(b[view]);
        for (int i = 0; i < N; i++)
            ck_assert_msg(memcmp(fa + i * per, fb + (N - 1 - i) * per,
                                 sizeof(float) * (size_t)per) == 0,
                          "%s: view %d of sample %d depends on threads or "
                          "order",
                          recipe, view, i);
    }
    /* Alone, in a batch of one. */
    int64_t idx = 17;
    ss_assert_ok(selfsup_views_apply(v, d, &idx, 1, 11, 3, one));
    for (int view = 0; view < 2; view++)
        ck_assert(memcmp(selfsup_tensor_data(one[view]),
                         selfsup_tensor_data(a[view]) + 17 * per,
                         sizeof(float) * (size_t)per) == 0);
    /* selfsup_augment_apply makes the same draws. */
    selfsup_augment *aug = NULL;
    ss_assert_ok(selfsup_augment_create(&aug, selfsup_views_spec(v, 1)));
    const int64_t dims3[3] = {c, s, s};
    selfsup_tensor *single = NULL;
    ss_assert_ok(selfsup_tensor_create(&single, 3, dims3));
    ss_assert_ok(selfsup_augment_apply(aug, d, 5, 11, 3, 1, single));
    ck_assert(memcmp(selfsup_tensor_data(single),
                     selfsup_tensor_data(a[1]) + 5 * per,
                     sizeof(float) * (size_t)per) == 0);
    /* Another epoch, seed or view draws differently. */
    ss_assert_ok(selfsup_views_apply(v, d, forward, N, 11, 4, b));
    ck_assert(memcmp(selfsup_tensor_data(a[0]), selfsup_tensor_data(b[0]),
                     sizeof(float) * (size_t)per) != 0);
    ss_assert_ok(selfsup_views_apply(v, d, forward, N, 12, 3, b));
    ck_assert(memcmp(selfsup_tensor_data(a[0]), selfsup_tensor_data(b[0]),
                     sizeof(float) * (size_t)per) != 0);
    ck_assert(memcmp(selfsup_tensor_data(a[0]), selfsup_tensor_data(a[1]),
                     sizeof(float) * (size_t)per) != 0);
    ss_assert_ok(selfsup_set_num_threads(0));
    selfsup_tensor_destroy(single);
    selfsup_augment_destroy(aug);
    for (int i = 0; i < 2; i++) {
        selfsup_tensor_destroy(a[i]);
        selfsup_tensor_destroy(b[i]);
        selfsup_tensor_destroy(one[i]);
    }
    selfsup_views_destroy(v);
    selfsup_dataset_destroy(d);
    free(pixels);
}

START_TEST(views_are_deterministic_per_sample)
{
    check_determinism("byol", 28, 28, 1, 28);
    check_determinism("byol", 32, 32, 3, 32);
    check_determinism("simclr", 40, 36, 3, 24);
    check_determinism("fmnist", 28, 28, 1, 28);
}
END_TEST

START_TEST(views_apply_errors)
{
    uint8_t *pixels;
    selfsup_dataset *d = synthetic(28, 28, 1, &pixels);
    selfsup_views *v = views("byol", 2, 28);
    selfsup_tensor *out[2] = {batch(4, 1, 28), batch(4, 1, 28)};
    selfsup_tensor *wrong[2] = {batch(4, 1, 28), batch(4, 3, 28)};
    int64_t idx[4] = {0, 1, 2, 3}, bad[4] = {0, 1, 24, 3};
    ss_assert_fails(selfsup_views_apply(NULL, d, idx, 4, 0, 0, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, "v is NULL");
    ss_assert_fails(selfsup_views_apply(v, NULL, idx, 4, 0, 0, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, "d is NULL");
    ss_assert_fails(selfsup_views_apply(v, d, NULL, 4, 0, 0, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, "indices is NULL");
    ss_assert_fails(selfsup_views_apply(v, d, idx, 0, 0, 0, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, "n = 0");
    ss_assert_fails(selfsup_views_apply(v, d, bad, 4, 0, 0, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, "indices[2] = 24");
    ss_assert_fails(selfsup_views_apply(v, d, idx, 4, 0, -1, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, "epoch = -1");
    ss_assert_fails(selfsup_views_apply(v, d, idx, 4, 0, 0, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ss_assert_fails(selfsup_views_apply(v, d, idx, 4, 0, 0, wrong),
                    SELFSUP_ERR_SHAPE,
                    "out[1] has shape (4, 3, 28, 28), not (4, 1, 28, 28)");
    ss_assert_fails(selfsup_views_apply(v, d, idx, 3, 0, 0, out),
                    SELFSUP_ERR_SHAPE, "out[0]");
    selfsup_views_destroy(v);
    /* No crop: the images must already be out_size. */
    v = views("flip|normalize", 2, 32);
    ss_assert_fails(selfsup_views_apply(v, d, idx, 4, 0, 0, out),
                    SELFSUP_ERR_SHAPE, NULL);
    selfsup_tensor *o32[2] = {batch(4, 1, 32), batch(4, 1, 32)};
    ss_assert_fails(selfsup_views_apply(v, d, idx, 4, 0, 0, o32),
                    SELFSUP_ERR_SHAPE,
                    "makes 28x28 images from 28x28 ones, not out_size = 32");
    selfsup_views_destroy(v);
    /* Three normalisation values for one channel. */
    v = views("crop|normalize:mean=0.1/0.2/0.3,std=1/1/1", 1, 28);
    ss_assert_fails(selfsup_views_apply(v, d, idx, 4, 0, 0, out),
                    SELFSUP_ERR_SHAPE, "has 3 values for images of 1 channel");
    selfsup_views_destroy(v);
    for (int i = 0; i < 2; i++) {
        selfsup_tensor_destroy(out[i]);
        selfsup_tensor_destroy(wrong[i]);
        selfsup_tensor_destroy(o32[i]);
    }
    selfsup_dataset_destroy(d);
    free(pixels);
}
END_TEST

/* normalize:auto uses the dataset's statistics: normalising every image
 * gives mean 0 and std 1 per channel. */
START_TEST(auto_normalisation_uses_the_dataset_statistics)
{
    uint8_t *pixels;
    selfsup_dataset *d = synthetic(16, 16, 3, &pixels);
    selfsup_views *v = views("normalize", 1, 16);
    selfsup_tensor *out[1] = {batch(N, 3, 16)};
    int64_t idx[N];
    for (int i = 0; i < N; i++)
        idx[i] = i;
    ss_assert_ok(selfsup_views_apply(v, d, idx, N, 0, 0, out));
    const float *x = selfsup_tensor_data(out[0]);
    for (int ch = 0; ch < 3; ch++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < N; i++)
            for (int p = 0; p < 256; p++) {
                double val = x[(i * 3 + ch) * 256 + p];
                sum += val;
                sq += val * val;
            }
        double n = N * 256.0, mean = sum / n;
        /* float32 statistics and normalisation: 1e-5 */
        ss_assert_close(mean, 0, 1e-5, 0);
        ss_assert_close(sqrt(sq / n - mean * mean), 1, 1e-5, 0);
    }
    float mean[3], std[3], dm[3], ds[3];
    ss_assert_ok(selfsup_dataset_stats(d, dm, ds));
    ss_assert_ok(selfsup_views_normalization(v, d, mean, std));
    for (int ch = 0; ch < 3; ch++) {
        ck_assert(mean[ch] == dm[ch] && std[ch] == ds[ch]);
    }
    selfsup_views_destroy(v);
    /* Two normalisations compose: ((x - 0.5) / 0.25 - 1) / 2 =
     * (x - 0.75) / 0.5. No normalisation: 0 and 1. */
    v = views("crop|normalize:mean=0.5,std=0.25|normalize:mean=1,std=2", 1, 16);
    ss_assert_ok(selfsup_views_normalization(v, d, mean, std));
    for (int ch = 0; ch < 3; ch++) {
        ss_assert_close(mean[ch], 0.75, 1e-7, 0);
        ss_assert_close(std[ch], 0.5, 1e-7, 0);
    }
    selfsup_views_destroy(v);
    v = views("crop|flip", 1, 16);
    ss_assert_ok(selfsup_views_normalization(v, d, mean, std));
    ck_assert(mean[0] == 0 && std[0] == 1 && mean[2] == 0 && std[2] == 1);
    ss_assert_fails(selfsup_views_normalization(v, d, NULL, std),
                    SELFSUP_ERR_INVALID_ARGUMENT, "mean is NULL");
    selfsup_views_destroy(v);
    selfsup_tensor_destroy(out[0]);
    selfsup_dataset_destroy(d);
    free(pixels);
}
END_TEST

/* Grayscale images skip saturation and hue: a jitter with them gives the
 * same bits as one without (the draws are made either way). */
START_TEST(grayscale_skips_colour_operations)
{
    uint8_t *pixels;
    selfsup_dataset *d = synthetic(20, 20, 1, &pixels);
    selfsup_views *with = views("jitter:brightness=0.4,contrast=0.4,"
                                "saturation=0.8,hue=0.3,p=1|grayscale:p=1",
                                1, 20);
    selfsup_views *without =
        views("jitter:brightness=0.4,contrast=0.4,p=1", 1, 20);
    selfsup_views *none = views("normalize:mean=0,std=1", 1, 20);
    selfsup_tensor *a[1] = {batch(N, 1, 20)}, *b[1] = {batch(N, 1, 20)},
                   *c[1] = {batch(N, 1, 20)};
    int64_t idx[N];
    for (int i = 0; i < N; i++)
        idx[i] = i;
    ss_assert_ok(selfsup_views_apply(with, d, idx, N, 3, 0, a));
    ss_assert_ok(selfsup_views_apply(without, d, idx, N, 3, 0, b));
    ss_assert_ok(selfsup_views_apply(none, d, idx, N, 3, 0, c));
    ck_assert(memcmp(selfsup_tensor_data(a[0]), selfsup_tensor_data(b[0]),
                     sizeof(float) * N * 400) == 0);
    /* ... while brightness and contrast still apply. */
    ck_assert(memcmp(selfsup_tensor_data(a[0]), selfsup_tensor_data(c[0]),
                     sizeof(float) * N * 400) != 0);
    selfsup_tensor_destroy(a[0]);
    selfsup_tensor_destroy(b[0]);
    selfsup_tensor_destroy(c[0]);
    selfsup_views_destroy(with);
    selfsup_views_destroy(without);
    selfsup_views_destroy(none);
    selfsup_dataset_destroy(d);
    free(pixels);
}
END_TEST

typedef struct apply_ctx {
    const selfsup_views *v;
    const selfsup_dataset *d;
    selfsup_tensor **out;
    selfsup_augment *a;
    selfsup_tensor *single;
} apply_ctx;

static selfsup_status apply_views(void *p)
{
    apply_ctx *ctx = p;
    int64_t idx[3] = {4, 2, 9};
    SS_TRY(selfsup_views_apply(ctx->v, ctx->d, idx, 3, 1, 1, ctx->out));
    return selfsup_augment_apply(ctx->a, ctx->d, 3, 1, 1, 0, ctx->single);
}

START_TEST(apply_allocation_failures_are_clean)
{
    uint8_t *pixels;
    selfsup_dataset *d = synthetic(28, 28, 3, &pixels);
    selfsup_views *v = views("byol", 2, 28);
    selfsup_tensor *out[2] = {batch(3, 3, 28), batch(3, 3, 28)};
    const int64_t dims3[3] = {3, 28, 28};
    apply_ctx ctx = {v, d, out, NULL, NULL};
    ss_assert_ok(selfsup_augment_create(&ctx.a, "crop|blur|normalize"));
    ss_assert_ok(selfsup_tensor_create(&ctx.single, 3, dims3));
    ck_assert_int_eq(ss_sweep_alloc_failures(apply_views, &ctx, SELFSUP_OK), 2);
    selfsup_tensor_destroy(ctx.single);
    selfsup_augment_destroy(ctx.a);
    selfsup_tensor_destroy(out[0]);
    selfsup_tensor_destroy(out[1]);
    selfsup_views_destroy(v);
    selfsup_dataset_destroy(d);
    free(pixels);
}
END_TEST

TCase *views_tcase(void)
{
    TCase *tc = tcase_create("views");
    tcase_add_test(tc, presets_and_recipes);
    tcase_add_test(tc, views_create_errors);
    tcase_add_test(tc, views_are_deterministic_per_sample);
    tcase_add_test(tc, views_apply_errors);
    tcase_add_test(tc, auto_normalisation_uses_the_dataset_statistics);
    tcase_add_test(tc, grayscale_skips_colour_operations);
    tcase_add_test(tc, apply_allocation_failures_are_clean);
    return tc;
}
