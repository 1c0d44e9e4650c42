/* The random parameters: their distributions against torchvision's own
 * get_params (statistics in tests/data/augment.txt), the centre-crop
 * fallback exactly, and the rates and ranges the pipeline draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment/params.h"
#include "augment/pipeline.h"
#include "suites.h"
#include "test_support.h"

enum { AREA_BINS = 10, ASPECT_BINS = 12, DRAWS = 100000 };

/* |ours - theirs| within 5 standard errors of the difference of two
 * independent estimates of a proportion p from n_ours and n_theirs draws:
 * a correct sampler fails with probability below 1e-6 per comparison (and,
 * the draws being fixed by the seed, it passes or fails the same way on
 * every run). A scale or ratio range off by 10% moves several bins by
 * 20 standard errors. */
static void assert_proportion(double ours, double theirs, double n_ours,
                              double n_theirs, const char *what, int bin)
{
    double p = 0.5 * (ours + theirs);
    double se = sqrt(fmax(p * (1 - p), 1e-6) * (1 / n_ours + 1 / n_theirs));
    ck_assert_msg(fabs(ours - theirs) <= 5 * se,
                  "%s[%d]: %.5f here, %.5f from torchvision (5 se = %.5f)",
                  what, bin, ours, theirs, 5 * se);
}

static void crop_statistics(const char *name, int h, int w,
                            const double scale[2], const double ratio[2])
{
    ss_golden *g = ss_golden_load("augment.txt");
    char key[64];
    double n_ref = ss_golden_scalar(g, "crop_stats_draws");
    double area[AREA_BINS] = {0}, aspect[ASPECT_BINS] = {0};
    double lo = log(ratio[0]) - 0.1, hi = log(ratio[1]) + 0.1;
    /* The fallback box as torchvision computes it for these shapes. */
    selfsup__crop_box fb;
    {
        selfsup__rng never;
        selfsup__rng_init(&never, 0, 0);
        const double impossible[2] = {1e6, 1e6};
        ck_assert_int_eq(
            selfsup__draw_crop_box(&never, h, w, impossible, ratio, &fb), 1);
    }
    double fallbacks = 0, top_sum = 0, top_count = 0;
    for (int i = 0; i < DRAWS; i++) {
        selfsup__rng r;
        selfsup__rng_init(&r, 42, selfsup__rng_stream(0, (uint64_t)i, 0, 0));
        selfsup__crop_box b;
        selfsup__draw_crop_box(&r, h, w, scale, ratio, &b);
        ck_assert(b.top >= 0 && b.left >= 0 && b.height >= 1 && b.width >= 1 &&
                  b.top + b.height <= h && b.left + b.width <= w);
        if (!memcmp(&b, &fb, sizeof b))
            fallbacks++;
        double a = (double)b.height * b.width / ((double)h * w);
        int ab = (int)(a * AREA_BINS);
        area[ab < AREA_BINS ? ab : AREA_BINS - 1]++;
        double t = (log((double)b.width / b.height) - lo) / (hi - lo);
        int tb = (int)floor(t * ASPECT_BINS);
        aspect[tb < 0 ? 0 : (tb >= ASPECT_BINS ? ASPECT_BINS - 1 : tb)]++;
        if (b.height < h) {
            top_sum += (double)b.top / (h - b.height);
            top_count++;
        }
    }
    snprintf(key, sizeof key, "%s_area", name);
    const float *ref_area = ss_golden_get(g, key, AREA_BINS);
    for (int k = 0; k < AREA_BINS; k++)
        assert_proportion(area[k] / DRAWS, ref_area[k], DRAWS, n_ref, key, k);
    snprintf(key, sizeof key, "%s_aspect", name);
    const float *ref_aspect = ss_golden_get(g, key, ASPECT_BINS);
    for (int k = 0; k < ASPECT_BINS; k++)
        assert_proportion(aspect[k] / DRAWS, ref_aspect[k], DRAWS, n_ref, key,
                          k);
    snprintf(key, sizeof key, "%s_fallback", name);
    assert_proportion(fallbacks / DRAWS, ss_golden_scalar(g, key), DRAWS, n_ref,
                      key, 0);
    /* The position is uniform: its mean relative offset is 1/2 with a
     * standard deviation below 0.5 per draw. */
    snprintf(key, sizeof key, "%s_top", name);
    ss_assert_close(top_sum / top_count, ss_golden_scalar(g, key),
                    5 * 0.5 * sqrt(2.0 / top_count), 0);
    ss_golden_free(g);
}

START_TEST(crop_draws_match_torchvision_distribution)
{
    const double s_a[2] = {0.08, 1.0}, r_a[2] = {3.0 / 4.0, 4.0 / 3.0};
    crop_statistics("crop_stats_a", 28, 28, s_a, r_a);
    const double s_b[2] = {0.2, 1.0};
    crop_statistics("crop_stats_b", 20, 24, s_b, r_a);
    /* Wide boxes that often do not fit: the fallback in one draw of 9. */
    const double s_c[2] = {0.5, 1.0}, r_c[2] = {1.3, 2.5};
    crop_statistics("crop_stats_c", 28, 28, s_c, r_c);
}
END_TEST

START_TEST(crop_fallback_is_torchvisions_centre_crop)
{
    selfsup__rng r;
    selfsup__rng_init(&r, 1, 2);
    selfsup__crop_box b;
    const double one[2] = {1.0, 1.0};
    /* Wide 10x40 (ratio 4 > 1): h = 10, w = round(10 * 1), centred. A
     * square of the whole area never fits the height. */
    ck_assert_int_eq(selfsup__draw_crop_box(&r, 10, 40, one, one, &b), 1);
    ck_assert_int_eq(b.top, 0);
    ck_assert_int_eq(b.left, 15);
    ck_assert_int_eq(b.height, 10);
    ck_assert_int_eq(b.width, 10);
    /* Tall 40x10: w = 10, h = round(10 / 1). */
    ck_assert_int_eq(selfsup__draw_crop_box(&r, 40, 10, one, one, &b), 1);
    ck_assert_int_eq(b.top, 15);
    ck_assert_int_eq(b.left, 0);
    ck_assert_int_eq(b.height, 10);
    ck_assert_int_eq(b.width, 10);
    /* Tall 30x10 with ratio 3/4..4/3: w = 10, h = round(10 / 0.75) = 13,
     * top = (30 - 13) // 2 = 8. */
    const double r34[2] = {0.75, 4.0 / 3.0}, big[2] = {5.0, 6.0};
    ck_assert_int_eq(selfsup__draw_crop_box(&r, 30, 10, big, r34, &b), 1);
    ck_assert_int_eq(b.top, 8);
    ck_assert_int_eq(b.height, 13);
    ck_assert_int_eq(b.width, 10);
    /* Ratio of the image inside the range: the whole image. */
    ck_assert_int_eq(selfsup__draw_crop_box(&r, 28, 28, big, r34, &b), 1);
    ck_assert_int_eq(b.top, 0);
    ck_assert_int_eq(b.left, 0);
    ck_assert_int_eq(b.height, 28);
    ck_assert_int_eq(b.width, 28);
    /* Python's round() is half to even: area 2 x 2 of a 4x4 image with
     * ratio 1 is exact; 2.5 rounds to 2, 3.5 to 4. */
    const double quarter[2] = {6.25 / 16, 6.25 / 16};
    ck_assert_int_eq(selfsup__draw_crop_box(&r, 4, 4, quarter, one, &b), 0);
    ck_assert_int_eq(b.height, 2);
    ck_assert_int_eq(b.width, 2);
    const double bigger[2] = {12.25 / 16, 12.25 / 16};
    ck_assert_int_eq(selfsup__draw_crop_box(&r, 4, 4, bigger, one, &b), 0);
    ck_assert_int_eq(b.height, 4);
    ck_assert_int_eq(b.width, 4);
}
END_TEST

/* Rates and ranges of everything a pipeline draws, through its trace. */
START_TEST(pipeline_draw_rates_and_ranges)
{
    selfsup_augment *a = NULL;
    ss_assert_ok(selfsup_augment_create(
        &a, "flip:p=0.5|solarize:p=0.2|jitter:brightness=0.4,contrast=0.3,"
            "saturation=0.2,hue=0.1,p=0.8|blur:sigma=0.1-2.0,p=0.3,kernel=3|"
            "grayscale:p=0.25"));
    enum { N = 20000, H = 4, W = 4, C = 3 };
    uint8_t pixels[H * W * C];
    for (int i = 0; i < H * W * C; i++)
        pixels[i] = (uint8_t)(i * 37);
    float out[C * H * W];
    float *scratch =
        malloc(sizeof(float) * (size_t)selfsup__augment_scratch(a, C, H, W));
    double applied[5] = {0}, jit_n = 0, sums[4] = {0}, sigma_sum = 0;
    double lo[4] = {1e9, 1e9, 1e9, 1e9}, hi[4] = {-1e9, -1e9, -1e9, -1e9};
    double sigma_lo = 1e9, sigma_hi = -1e9;
    int perms[24] = {0};
    for (int i = 0; i < N; i++) {
        selfsup__aug_trace t;
        selfsup__augment_run(a, out, scratch, pixels, C, H, W, 9, 3, i, 1, NULL,
                             NULL, &t);
        for (int k = 0; k < 5; k++)
            applied[k] += t.applied[k];
        if (t.applied[2]) {
            const selfsup__jitter_params *j = &t.jitter[2];
            float f[4] = {j->brightness, j->contrast, j->saturation, j->hue};
            for (int k = 0; k < 4; k++) {
                sums[k] += f[k];
                lo[k] = fmin(lo[k], f[k]);
                hi[k] = fmax(hi[k], f[k]);
            }
            /* Rank the permutation: Lehmer code. */
            int code = 0, used[4] = {0};
            for (int k = 0; k < 4; k++) {
                int smaller = 0;
                for (int m = 0; m < j->order[k]; m++)
                    smaller += !used[m];
                used[j->order[k]] = 1;
                code = code * (4 - k) + smaller;
            }
            perms[code]++;
            jit_n++;
        }
        if (t.applied[3]) {
            sigma_sum += t.sigma[3];
            sigma_lo = fmin(sigma_lo, t.sigma[3]);
            sigma_hi = fmax(sigma_hi, t.sigma[3]);
            ck_assert_int_eq(t.kernel[3], 3);
        }
    }
    const double p[5] = {0.5, 0.2, 0.8, 0.3, 0.25};
    for (int k = 0; k < 5; k++) {
        double se = sqrt(p[k] * (1 - p[k]) / N);
        ss_assert_close(applied[k] / N, p[k], 5 * se, 0);
    }
    /* ColorJitter's ranges: [1 - v, 1 + v] and [-h, h], uniform: the mean
     * within 5 standard errors (width / sqrt(12 n)), the extremes within
     * 1% of the ends. */
    const double centre[4] = {1, 1, 1, 0}, half[4] = {0.4, 0.3, 0.2, 0.1};
    for (int k = 0; k < 4; k++) {
        ck_assert(lo[k] >= centre[k] - half[k] - 1e-6);
        ck_assert(hi[k] <= centre[k] + half[k] + 1e-6);
        ck_assert(lo[k] < centre[k] - 0.99 * half[k]);
        ck_assert(hi[k] > centre[k] + 0.99 * half[k]);
        double se = 2 * half[k] / sqrt(12 * jit_n);
        ss_assert_close(sums[k] / jit_n, centre[k], 5 * se, 0);
    }
    /* torch.randperm(4): each of the 24 orders equally likely. */
    for (int k = 0; k < 24; k++) {
        double q = 1.0 / 24, se = sqrt(q * (1 - q) / jit_n);
        ss_assert_close(perms[k] / jit_n, q, 5 * se, 0);
    }
    ck_assert(sigma_lo >= 0.1 && sigma_hi <= 2.0);
    ss_assert_close(sigma_sum / applied[3], 1.05,
                    5 * 1.9 / sqrt(12 * applied[3]), 0);
    free(scratch);
    selfsup_augment_destroy(a);
}
END_TEST

TCase *params_tcase(void)
{
    TCase *tc = tcase_create("params");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, crop_draws_match_torchvision_distribution);
    tcase_add_test(tc, crop_fallback_is_torchvisions_centre_crop);
    tcase_add_test(tc, pipeline_draw_rates_and_ranges);
    return tc;
}
