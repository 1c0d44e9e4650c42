/* Internal: the image operations of the augmentation pipelines, each with
 * explicit parameters (the random draws are in params.h).
 *
 * Images are float in [0, 1], CHW, c = 1 or 3. Every operation computes
 * what torchvision 0.14's tensor functional of the same name computes on a
 * float tensor (tests/reference/augment.py checks each against it). */
#ifndef SELFSUP_AUGMENT_OPS_H
#define SELFSUP_AUGMENT_OPS_H

#include <stdint.h>

/* The largest output side of a resampling operation. */
enum { SS_AUG_MAX_SIDE = 1024 };

/* A crop box in the input, as RandomResizedCrop.get_params returns it. */
typedef struct selfsup__crop_box {
    int top, left, height, width;
} selfsup__crop_box;

/* uint8 HWC pixels -> float CHW in [0, 1] (x / 255, F.to_tensor). */
void selfsup__u8_to_chw(float *out, const uint8_t *in, int c, int h, int w);

/* F.resized_crop(img, top, left, height, width, [out_h, out_w], BILINEAR)
 * on a tensor: bilinear, align_corners=False, no antialiasing.
 *   out (c, out_h, out_w) <- box of in (c, in_h, in_w).
 * The box must lie inside the image; out_h, out_w <= SS_AUG_MAX_SIDE. */
void selfsup__resized_crop_forward(float *out, const float *in, int c, int in_h,
                                   int in_w, selfsup__crop_box box, int out_h,
                                   int out_w);
/* The same straight from uint8 HWC pixels, scaled by 1/255 (no float copy
 * of the whole input). */
void selfsup__resized_crop_u8(float *out, const uint8_t *in, int c, int in_h,
                              int in_w, selfsup__crop_box box, int out_h,
                              int out_w);

/* F.hflip: mirrors every row, in place. */
void selfsup__hflip(float *img, int c, int h, int w);

/* F.adjust_brightness: x <- clamp(f x, 0, 1) over n values. */
void selfsup__adjust_brightness(float *img, int64_t n, float factor);
/* F.adjust_contrast: x <- clamp(f x + (1 - f) m, 0, 1), m the mean of the
 * image's grayscale (of its only channel when c == 1). */
void selfsup__adjust_contrast(float *img, int c, int64_t hw, float factor);
/* F.adjust_saturation (c == 3; identity for c == 1): blends with the
 * grayscale image. */
void selfsup__adjust_saturation(float *img, int c, int64_t hw, float factor);
/* F.adjust_hue (c == 3; identity for c == 1): shifts the HSV hue by
 * hue in [-0.5, 0.5] turns. */
void selfsup__adjust_hue(float *img, int c, int64_t hw, float hue);
/* F.rgb_to_grayscale with num_output_channels = c: L = 0.2989 R + 0.587 G +
 * 0.114 B in every channel (identity for c == 1). */
void selfsup__rgb_to_grayscale(float *img, int c, int64_t hw);

/* The largest kernel the blur accepts (odd). */
enum { SS_BLUR_MAX_KERNEL = 255 };

/* Floats of scratch selfsup__gaussian_blur needs for an h x w image. */
int64_t selfsup__gaussian_blur_scratch(int h, int w, int kernel);
/* F.gaussian_blur(img, [k, k], [sigma, sigma]): the normalised sampled
 * Gaussian, reflect padding (the edge pixel is not repeated), in place.
 * kernel odd in 1..SS_BLUR_MAX_KERNEL, sigma > 0. Unlike torch, a pad
 * larger than the image reflects again instead of failing. */
void selfsup__gaussian_blur(float *img, float *scratch, int c, int h, int w,
                            int kernel, float sigma);

/* F.solarize: x <- 1 - x where x >= threshold. */
void selfsup__solarize(float *img, int64_t n, float threshold);

/* F.normalize: x <- (x - mean[ch]) / std[ch]. */
void selfsup__normalize(float *img, int c, int64_t hw, const float *mean,
                        const float *std);

#endif
