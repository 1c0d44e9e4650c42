/* Each operation with explicit parameters against torchvision 0.14's
 * functional on the same float tensor (tests/reference/augment.py), on three
 * Fashion-MNIST images and a synthetic 20x24 RGB image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment/ops.h"
#include "augment/params.h"
#include "suites.h"
#include "test_support.h"

/* Tolerance. The kernels do torch's float32 arithmetic, but ATen orders
 * some sums differently: the bilinear taps (its separable upsampling
 * kernel), the blur (one 2-D pass of the outer-product kernel there, two
 * 1-D passes here), the contrast mean (float cascade there, double here).
 * Each value is a sum of at most 81 products of numbers <= 1, so these
 * differ by a few units of 2^-24; the largest difference measured over all
 * 100 arrays is 6.9e-7 (a whole view after normalisation by std 0.35).
 * 2e-6 leaves room for that and nothing else: a wrong tap, weight, clamp or
 * hue sector moves values by 1e-3 or more. */
#define ATOL 2e-6

typedef struct image {
    int c, h, w;
    uint8_t *pixels; /* HWC */
    float *chw;      /* pixels / 255 */
} image;

static image load_image(const ss_golden *g, const char *prefix, int c, int h,
                        int w)
{
    char name[64];
    snprintf(name, sizeof name, "%s_pixels", prefix);
    const float *v = ss_golden_get(g, name, (int64_t)c * h * w);
    image im = {c, h, w, malloc((size_t)c * h * w),
                malloc(sizeof(float) * (size_t)c * h * w)};
    for (int i = 0; i < c * h * w; i++)
        im.pixels[i] = (uint8_t)v[i];
    selfsup__u8_to_chw(im.chw, im.pixels, c, h, w);
    return im;
}

static void free_image(image *im)
{
    free(im->pixels);
    free(im->chw);
}

/* A fresh float copy of the image, room for n floats. */
static float *copy_of(const image *im, int64_t n)
{
    int64_t size = (int64_t)im->c * im->h * im->w;
    float *x = calloc((size_t)(n > size ? n : size), sizeof(float));
    memcpy(x, im->chw, sizeof(float) * (size_t)size);
    return x;
}

static void expect(const ss_golden *g, const char *prefix, const char *op,
                   const float *got, int64_t n)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%s", prefix, op);
    ss_assert_all_close_at(got, ss_golden_get(g, name, n), n, ATOL, 0, name,
                           __FILE__, __LINE__);
}

typedef struct crop_case {
    selfsup__crop_box box;
    int out_h, out_w;
} crop_case;

static void check_image(const ss_golden *g, const char *prefix, int c, int h,
                        int w, const crop_case crops[4], const float *mean,
                        const float *std)
{
    image im = load_image(g, prefix, c, h, w);
    int64_t hw = (int64_t)h * w, n = c * hw;

    for (int k = 0; k < 4; k++) {
        int64_t on = (int64_t)c * crops[k].out_h * crops[k].out_w;
        float *a = malloc(sizeof(float) * (size_t)on);
        float *b = malloc(sizeof(float) * (size_t)on);
        selfsup__resized_crop_forward(a, im.chw, c, h, w, crops[k].box,
                                      crops[k].out_h, crops[k].out_w);
        selfsup__resized_crop_u8(b, im.pixels, c, h, w, crops[k].box,
                                 crops[k].out_h, crops[k].out_w);
        char op[16];
        snprintf(op, sizeof op, "crop%d", k);
        expect(g, prefix, op, a, on);
        expect(g, prefix, op, b, on);
        free(a);
        free(b);
    }

    float *x = copy_of(&im, 0);
    selfsup__hflip(x, c, h, w);
    expect(g, prefix, "hflip", x, n);
    free(x);

    const float brightness[2] = {0.625f, 1.5f}, contrast[2] = {0.5f, 1.625f},
                saturation[2] = {0.25f, 1.75f};
    const float hue[3] = {-0.3125f, 0.15625f, 0.5f};
    for (int k = 0; k < 2; k++) {
        char op[32];
        x = copy_of(&im, 0);
        selfsup__adjust_brightness(x, n, brightness[k]);
        snprintf(op, sizeof op, "brightness%d", k);
        expect(g, prefix, op, x, n);
        free(x);
        x = copy_of(&im, 0);
        selfsup__adjust_contrast(x, c, hw, contrast[k]);
        snprintf(op, sizeof op, "contrast%d", k);
        expect(g, prefix, op, x, n);
        free(x);
        x = copy_of(&im, 0);
        selfsup__adjust_saturation(x, c, hw, saturation[k]);
        snprintf(op, sizeof op, "saturation%d", k);
        expect(g, prefix, op, x, n);
        free(x);
    }
    for (int k = 0; k < 3; k++) {
        char op[32];
        x = copy_of(&im, 0);
        selfsup__adjust_hue(x, c, hw, hue[k]);
        snprintf(op, sizeof op, "hue%d", k);
        expect(g, prefix, op, x, n);
        free(x);
    }
    x = copy_of(&im, 0);
    selfsup__rgb_to_grayscale(x, c, hw);
    expect(g, prefix, "grayscale", x, n);
    free(x);

    const int kernels[3] = {3, 5, 9};
    const float sigmas[3] = {0.75f, 1.625f, 2.0f};
    for (int k = 0; k < 3; k++) {
        char op[32];
        float *scratch =
            malloc(sizeof(float) *
                   (size_t)selfsup__gaussian_blur_scratch(h, w, kernels[k]));
        x = copy_of(&im, 0);
        selfsup__gaussian_blur(x, scratch, c, h, w, kernels[k], sigmas[k]);
        snprintf(op, sizeof op, "blur%d", k);
        expect(g, prefix, op, x, n);
        free(x);
        free(scratch);
    }
    const float thresholds[2] = {0.5f, 0.3125f};
    for (int k = 0; k < 2; k++) {
        char op[32];
        x = copy_of(&im, 0);
        selfsup__solarize(x, n, thresholds[k]);
        snprintf(op, sizeof op, "solarize%d", k);
        expect(g, prefix, op, x, n);
        free(x);
    }
    x = copy_of(&im, 0);
    selfsup__normalize(x, c, hw, mean, std);
    expect(g, prefix, "normalize", x, n);
    free(x);

    /* ColorJitter.forward in the order hue, brightness, saturation,
     * contrast. */
    selfsup__jitter_params jp = {{3, 0, 2, 1}, 1.25f, 0.75f, 1.375f, 0.078125f};
    const int all[4] = {1, 1, 1, 1};
    x = copy_of(&im, 0);
    selfsup__apply_jitter(x, c, hw, &jp, all);
    expect(g, prefix, "jitter", x, n);
    free(x);

    /* A whole view with fixed parameters, from the uint8 pixels. */
    int oh = crops[0].out_h, ow = crops[0].out_w;
    int64_t ohw = (int64_t)oh * ow;
    float *v = malloc(sizeof(float) * (size_t)(c * ohw));
    float *scratch = malloc(sizeof(float) *
                            (size_t)selfsup__gaussian_blur_scratch(oh, ow, 3));
    selfsup__resized_crop_u8(v, im.pixels, c, h, w, crops[0].box, oh, ow);
    selfsup__hflip(v, c, oh, ow);
    selfsup__jitter_params vj = {{1, 3, 0, 2}, 0.875f, 1.25f, 0.75f, -0.0625f};
    selfsup__apply_jitter(v, c, ohw, &vj, all);
    selfsup__rgb_to_grayscale(v, c, ohw);
    selfsup__gaussian_blur(v, scratch, c, oh, ow, 3, 1.125f);
    selfsup__solarize(v, c * ohw, 0.5f);
    selfsup__normalize(v, c, ohw, mean, std);
    expect(g, prefix, "view", v, c * ohw);
    free(v);
    free(scratch);
    free_image(&im);
}

static const crop_case GRAY_CROPS[4] = {{{3, 5, 17, 13}, 28, 28},
                                        {{0, 0, 28, 28}, 20, 20},
                                        {{10, 2, 9, 25}, 28, 28},
                                        {{4, 4, 20, 20}, 32, 32}};
static const crop_case RGB_CROPS[4] = {{{2, 4, 15, 18}, 32, 32},
                                       {{0, 0, 20, 24}, 12, 12},
                                       {{5, 1, 14, 9}, 28, 28},
                                       {{0, 0, 20, 24}, 20, 24}};

START_TEST(grayscale_images_match_torchvision)
{
    ss_golden *g = ss_golden_load("augment.txt");
    const float mean[1] = {0.2860f}, std[1] = {0.3530f};
    const char *prefixes[3] = {"gray0", "gray1", "gray2"};
    for (int i = 0; i < 3; i++)
        check_image(g, prefixes[i], 1, 28, 28, GRAY_CROPS, mean, std);
    ss_golden_free(g);
}
END_TEST

START_TEST(rgb_image_matches_torchvision)
{
    ss_golden *g = ss_golden_load("augment.txt");
    const float mean[3] = {0.485f, 0.456f, 0.406f};
    const float std[3] = {0.229f, 0.224f, 0.225f};
    check_image(g, "rgb", 3, 20, 24, RGB_CROPS, mean, std);
    ss_golden_free(g);
}
END_TEST

/* The cases torch refuses (a pad as large as the image) still give the
 * repeated reflection, which on a constant image is the constant. */
START_TEST(blur_wider_than_the_image_keeps_a_constant)
{
    float img[2 * 3], scratch[64];
    for (int i = 0; i < 6; i++)
        img[i] = 0.25f;
    selfsup__gaussian_blur(img, scratch, 1, 2, 3, 9, 3.0f);
    for (int i = 0; i < 6; i++)
        ss_assert_close(img[i], 0.25, 1e-6, 0);
    float one = 0.5f;
    selfsup__gaussian_blur(&one, scratch, 1, 1, 1, 5, 1.0f);
    ss_assert_close(one, 0.5, 1e-6, 0);
}
END_TEST

TCase *ops_tcase(void)
{
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, grayscale_images_match_torchvision);
    tcase_add_test(tc, rgb_image_matches_torchvision);
    tcase_add_test(tc, blur_wider_than_the_image_keeps_a_constant);
    return tc;
}
