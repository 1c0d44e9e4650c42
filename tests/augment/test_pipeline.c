/* Pipelines: the spec grammar and its errors, sizes, and a run that equals
 * the explicit operations replayed with the parameters it drew. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment/pipeline.h"
#include "core/error.h"
#include "augment/views.h"
#include "suites.h"
#include "test_support.h"

static selfsup_augment *make(const char *spec)
{
    selfsup_augment *a = NULL;
    ss_assert_ok(selfsup_augment_create(&a, spec));
    return a;
}

START_TEST(spec_reads_every_operation)
{
    selfsup_augment *a = make(
        " crop : size=24 , scale=0.2-0.9, ratio=0.5-2 | resize:size=20 |"
        "flip:p=0.25|jitter:brightness=0.4,contrast=0.1-1.5,saturation=0,"
        "hue=-0.2-0.1,p=0.75|grayscale:p=0.3|blur:sigma=0.5,kernel=5,p=0.6|"
        "solarize:threshold=0.25,p=0.125|normalize:mean=0.1/0.2/0.3,"
        "std=0.5/0.25/2");
    ck_assert_int_eq(a->n_ops, 8);
    const selfsup__aug_op *op = a->ops;
    ck_assert_int_eq(op[0].kind, SS_AUG_CROP);
    ck_assert_int_eq(op[0].size, 24);
    ck_assert(op[0].scale[0] == 0.2 && op[0].scale[1] == 0.9);
    ck_assert(op[0].ratio[0] == 0.5 && op[0].ratio[1] == 2.0);
    ck_assert_int_eq(op[1].kind, SS_AUG_RESIZE);
    ck_assert_int_eq(op[1].size, 20);
    ck_assert(op[2].kind == SS_AUG_FLIP && op[2].p == 0.25);
    ck_assert_int_eq(op[3].kind, SS_AUG_JITTER);
    /* brightness=0.4: ColorJitter's [1 - 0.4, 1 + 0.4]; a range as given;
     * saturation=0 is [1, 1], the identity, so ColorJitter drops it. */
    ck_assert(op[3].jitter[0][0] == 1 - 0.4 && op[3].jitter[0][1] == 1.4);
    ck_assert(op[3].jitter[1][0] == 0.1 && op[3].jitter[1][1] == 1.5);
    ck_assert(op[3].jitter[2][0] == 1 && op[3].jitter[2][1] == 1);
    ck_assert(op[3].jitter[3][0] == -0.2 && op[3].jitter[3][1] == 0.1);
    ck_assert_int_eq(op[3].jitter_enabled[0], 1);
    ck_assert_int_eq(op[3].jitter_enabled[2], 0);
    ck_assert_int_eq(op[3].jitter_enabled[3], 1);
    ck_assert(op[3].p == 0.75);
    ck_assert(op[4].kind == SS_AUG_GRAYSCALE && op[4].p == 0.3);
    ck_assert(op[5].kind == SS_AUG_BLUR && op[5].kernel == 5);
    ck_assert(op[5].sigma[0] == 0.5 && op[5].sigma[1] == 0.5);
    ck_assert(op[6].threshold == 0.25 && op[6].p == 0.125);
    ck_assert_int_eq(op[7].norm_auto, 0);
    ck_assert_int_eq(op[7].norm_count, 3);
    ck_assert(op[7].mean[2] == 0.3f && op[7].std[2] == 2.0f);
    ck_assert_str_eq(selfsup_augment_spec(a),
                     " crop : size=24 , scale=0.2-0.9, ratio=0.5-2 | "
                     "resize:size=20 |flip:p=0.25|jitter:brightness=0.4,"
                     "contrast=0.1-1.5,saturation=0,hue=-0.2-0.1,p=0.75|"
                     "grayscale:p=0.3|blur:sigma=0.5,kernel=5,p=0.6|"
                     "solarize:threshold=0.25,p=0.125|normalize:mean=0.1/"
                     "0.2/0.3,std=0.5/0.25/2");
    selfsup_augment_destroy(a);
}
END_TEST

START_TEST(spec_defaults_are_torchvisions)
{
    selfsup_augment *a =
        make("crop|flip|jitter|grayscale|blur|solarize|normalize");
    const selfsup__aug_op *op = a->ops;
    ck_assert_int_eq(op[0].size, 0);
    ck_assert(op[0].scale[0] == 0.08 && op[0].scale[1] == 1.0);
    ck_assert(op[0].ratio[0] == 0.75 && op[0].ratio[1] == 4.0 / 3.0);
    ck_assert(op[1].p == 0.5); /* RandomHorizontalFlip */
    ck_assert(op[2].p == 1.0); /* ColorJitter */
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(op[2].jitter_enabled[k], 0);
    ck_assert(op[3].p == 0.1); /* RandomGrayscale */
    ck_assert(op[4].p == 1.0); /* GaussianBlur */
    ck_assert(op[4].sigma[0] == 0.1 && op[4].sigma[1] == 2.0);
    ck_assert_int_eq(op[4].kernel, 0);
    ck_assert(op[5].p == 0.5 && op[5].threshold == 0.5); /* RandomSolarize */
    ck_assert_int_eq(op[6].norm_auto, 1);
    int h = 0, w = 0;
    ss_assert_ok(selfsup_augment_output_size(a, 30, 20, &h, &w));
    ck_assert(h == 30 && w == 20);
    selfsup_augment_destroy(a);
    a = make("crop:size=16|flip|resize:size=12");
    ss_assert_ok(selfsup_augment_output_size(a, 30, 20, &h, &w));
    ck_assert(h == 12 && w == 12);
    ss_assert_fails(selfsup_augment_output_size(a, 0, 20, &h, &w),
                    SELFSUP_ERR_INVALID_ARGUMENT, "height = 0");
    selfsup_augment_destroy(a);
}
END_TEST

START_TEST(spec_errors_name_the_offender)
{
    selfsup_augment *sentinel = (selfsup_augment *)(uintptr_t)0x99;
    selfsup_augment *a = sentinel;
    static const struct {
        const char *spec, *needle;
    } bad[] = {
        {"rotate:degrees=10", "unknown operation \"rotate\""},
        {"flip:q=0.5", "unknown key \"q\""},
        {"flip:p=1.5", "p = 1.5"},
        {"flip:p=abc", "p = \"abc\""},
        {"crop:scale=0.5-0.2", "lo 0.5 > hi 0.2"},
        {"crop:scale=0.5-1.5", "scale = \"0.5-1.5\""},
        {"crop:scale=0.1-", "scale = \"0.1-\""},
        {"crop:size=0", "size = 0"},
        {"crop:size=5000", "size = 5000"},
        {"jitter:brightness=-0.5", "brightness = -0.5 is negative"},
        {"jitter:hue=0.7", "hue = \"0.7\""},
        {"blur:kernel=4", "kernel = 4 is even"},
        {"blur:kernel=x", "kernel = \"x\""},
        {"blur:sigma=0", "sigma = \"0\""},
        {"solarize:threshold=2", "threshold = 2"},
        {"normalize:mean=0.5", "give both mean and std"},
        {"normalize:mean=0.5/0.5,std=1/1", "has 2 values"},
        {"normalize:mean=0.5,std=0", "is not positive"},
        {"normalize:mean=0.5,std=1/2/3", "mean has 1 values, std 3"},
        {"normalize:mean=1/2/3/4,std=1", "mean = \"1/2/3/4\""},
        {"crop||flip", "is not a name"},
        {"", "is not a name"},
        {"flip|flip|flip|flip|flip|flip|flip|flip|flip|flip|flip|flip|flip|"
         "flip|flip|flip|flip",
         "more than 16 operations"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ss_assert_fails(selfsup_augment_create(&a, bad[i].spec),
                        SELFSUP_ERR_INVALID_ARGUMENT, bad[i].needle);
    ss_assert_fails(selfsup_augment_create(NULL, "flip"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ss_assert_fails(selfsup_augment_create(&a, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "spec is NULL");
    ck_assert_ptr_eq(a, sentinel);
    selfsup_augment_destroy(NULL);
    ck_assert_ptr_null(selfsup_augment_spec(NULL));
}
END_TEST

/* A run equals its own draws replayed through the explicit operations: the
 * pipeline adds nothing but the draws and the plumbing. */
static void replay_matches(const char *spec, int c, int h, int w)
{
    selfsup_augment *a = make(spec);
    uint8_t *pixels = malloc((size_t)c * h * w);
    for (int i = 0; i < c * h * w; i++)
        pixels[i] = (uint8_t)((i * 7919) >> 3);
    int oh, ow;
    selfsup__augment_output_size(a, h, w, &oh, &ow);
    int64_t n = (int64_t)c * oh * ow;
    float *out = malloc(sizeof(float) * (size_t)n);
    float *scratch =
        malloc(sizeof(float) * (size_t)selfsup__augment_scratch(a, c, h, w));
    const float auto_mean[3] = {0.25f, 0.5f, 0.125f};
    const float auto_std[3] = {0.5f, 0.25f, 2.0f};
    int64_t big = (int64_t)c * (h > 64 ? h : 64) * (w > 64 ? w : 64);
    float *x = malloc(sizeof(float) * (size_t)big);
    float *y = malloc(sizeof(float) * (size_t)big);
    float *tmp = malloc(sizeof(float) * (size_t)big * 2 + 1024);
    for (int sample = 0; sample < 40; sample++) {
        selfsup__aug_trace t;
        selfsup__augment_run(a, out, scratch, pixels, c, h, w, 5, 2, sample, 1,
                             auto_mean, auto_std, &t);
        int ch = h, cw = w;
        selfsup__u8_to_chw(x, pixels, c, h, w);
        for (int k = 0; k < a->n_ops; k++) {
            const selfsup__aug_op *op = &a->ops[k];
            int64_t hw = (int64_t)ch * cw;
            switch (op->kind) {
            case SS_AUG_CROP:
            case SS_AUG_RESIZE: {
                int s = op->size ? op->size : ch;
                selfsup__resized_crop_forward(y, x, c, ch, cw, t.box[k], s,
                                              op->size ? op->size : cw);
                cw = op->size ? op->size : cw;
                ch = s;
                memcpy(x, y, sizeof(float) * (size_t)c * ch * cw);
                break;
            }
            case SS_AUG_FLIP:
                if (t.applied[k])
                    selfsup__hflip(x, c, ch, cw);
                break;
            case SS_AUG_JITTER:
                if (t.applied[k])
                    selfsup__apply_jitter(x, c, hw, &t.jitter[k],
                                          op->jitter_enabled);
                break;
            case SS_AUG_GRAYSCALE:
                if (t.applied[k])
                    selfsup__rgb_to_grayscale(x, c, hw);
                break;
            case SS_AUG_BLUR:
                if (t.applied[k])
                    selfsup__gaussian_blur(x, tmp, c, ch, cw, t.kernel[k],
                                           t.sigma[k]);
                break;
            case SS_AUG_SOLARIZE:
                if (t.applied[k])
                    selfsup__solarize(x, c * hw, (float)op->threshold);
                break;
            case SS_AUG_NORMALIZE:
                selfsup__normalize(x, c, hw, auto_mean, auto_std);
                break;
            }
        }
        ck_assert_int_eq(ch, oh);
        ck_assert_int_eq(cw, ow);
        /* Bitwise, except the first crop, which the pipeline reads from
         * the bytes (same taps and weights, products of the same floats):
         * exact too. */
        ck_assert_msg(memcmp(x, out, sizeof(float) * (size_t)n) == 0,
                      "%s: sample %d differs from its replay", spec, sample);
    }
    free(x);
    free(y);
    free(tmp);
    free(out);
    free(scratch);
    free(pixels);
    selfsup_augment_destroy(a);
}

START_TEST(run_equals_replay_of_its_draws)
{
    replay_matches("crop:size=28,scale=0.08-1.0|flip:p=0.5|"
                   "jitter:brightness=0.4,contrast=0.4,saturation=0.2,"
                   "hue=0.1,p=0.8|grayscale:p=0.2|blur:sigma=0.1-2.0,p=0.5|"
                   "solarize:p=0.2|normalize",
                   3, 32, 40);
    replay_matches("flip:p=0.5|crop:scale=0.3-1.0|jitter:brightness=0.4,"
                   "contrast=0.4,p=0.8|blur:sigma=0.1-1.0,p=0.5|"
                   "resize:size=16|solarize:p=0.5|normalize",
                   1, 28, 28);
}
END_TEST

/* Without crop or resize the image keeps its size, and without any
 * operation the run is the plain conversion. */
START_TEST(run_without_resampling)
{
    selfsup_augment *a = make("normalize:mean=0.5,std=0.5");
    uint8_t pixels[6] = {0, 255, 51, 102, 204, 153};
    float out[6];
    float scratch[64];
    const float m[1] = {0}, s[1] = {1};
    selfsup__augment_run(a, out, scratch, pixels, 1, 2, 3, 1, 0, 0, 0, m, s,
                         NULL);
    const float want[6] = {-1, 1, -0.6f, -0.2f, 0.6f, 0.2f};
    ss_assert_all_close(out, want, 6, 1e-6, 0);
    selfsup_augment_destroy(a);
}
END_TEST

TCase *pipeline_tcase(void)
{
    TCase *tc = tcase_create("pipeline");
    tcase_add_test(tc, spec_reads_every_operation);
    tcase_add_test(tc, spec_defaults_are_torchvisions);
    tcase_add_test(tc, spec_errors_name_the_offender);
    tcase_add_test(tc, run_equals_replay_of_its_draws);
    tcase_add_test(tc, run_without_resampling);
    return tc;
}

/* ---- allocation failures -------------------------------------------- */

static selfsup_status create_augment(void *ctx)
{
    selfsup_augment *a = NULL;
    SS_TRY(selfsup_augment_create(&a, ctx));
    selfsup_augment_destroy(a);
    return SELFSUP_OK;
}

static selfsup_status create_views(void *ctx)
{
    selfsup_views *v = NULL;
    SS_TRY(selfsup_views_create(&v, ctx, 3, 28));
    selfsup_views_destroy(v);
    return SELFSUP_OK;
}

START_TEST(allocation_failures_are_clean)
{
    ck_assert_int_gt(ss_sweep_alloc_failures(create_augment,
                                             "crop:size=8|flip|normalize",
                                             SELFSUP_OK),
                     0);
    ck_assert_int_gt(ss_sweep_alloc_failures(create_views, "byol", SELFSUP_OK),
                     0);
    ck_assert_int_gt(ss_sweep_alloc_failures(
                         create_views, "crop:size=28|flip;crop", SELFSUP_OK),
                     0);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

TCase *pipeline_alloc_tcase(void)
{
    TCase *tc = tcase_create("pipeline_alloc");
    tcase_add_test(tc, allocation_failures_are_clean);
    return tc;
}
