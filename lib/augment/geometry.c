/* Geometric operations: uint8 -> float conversion, resized crop
 * (bilinear), horizontal flip. */
#include "ops.h"

#include <string.h>

/* i / 255.0f for every byte: the exact float F.convert_image_dtype makes,
 * without a division per pixel. */
static float byte_to_unit[256];
static int byte_table_ready;

static const float *unit_table(void)
{
    /* Idempotent: racing threads write the same values. */
    if (!__atomic_load_n(&byte_table_ready, __ATOMIC_ACQUIRE)) {
        for (int i = 0; i < 256; i++)
            byte_to_unit[i] = (float)i / 255.0f;
        __atomic_store_n(&byte_table_ready, 1, __ATOMIC_RELEASE);
    }
    return byte_to_unit;
}

void selfsup__u8_to_chw(float *out, const uint8_t *in, int c, int h, int w)
{
    const float *unit = unit_table();
    int64_t hw = (int64_t)h * w;
    if (c == 1) {
        for (int64_t i = 0; i < hw; i++)
            out[i] = unit[in[i]];
        return;
    }
    for (int64_t i = 0; i < hw; i++)
        for (int ch = 0; ch < c; ch++)
            out[ch * hw + i] = unit[in[i * c + ch]];
}

/* One axis of bilinear resampling, as ATen's upsample_bilinear2d computes
 * it (align_corners=False): for output index o the source position is
 * scale (o + 1/2) - 1/2 clamped at 0, with scale = in / out in float. */
typedef struct axis_taps {
    int i0, i1;   /* source indices, relative to the box */
    float w0, w1; /* their weights */
} axis_taps;

static void axis_taps_compute(axis_taps *taps, int in_size, int out_size)
{
    float scale = (float)in_size / (float)out_size;
    for (int o = 0; o < out_size; o++) {
        float src = (float)((double)scale * (o + 0.5) - 0.5);
        if (src < 0)
            src = 0;
        int i0 = (int)src;
        float l1 = src - (float)i0;
        l1 = l1 < 0 ? 0 : (l1 > 1 ? 1 : l1);
        taps[o].i0 = i0;
        taps[o].i1 = i0 + (i0 < in_size - 1 ? 1 : 0);
        taps[o].w0 = 1.0f - l1;
        taps[o].w1 = l1;
    }
}

/* Output sides are bounded (SS_AUG_MAX_SIDE), so the taps of one call live
 * on the stack: 32 KiB at most. */
enum { MAX_SIDE = SS_AUG_MAX_SIDE };

void selfsup__resized_crop_forward(float *out, const float *in, int c, int in_h,
                                   int in_w, selfsup__crop_box box, int out_h,
                                   int out_w)
{
    axis_taps ty[MAX_SIDE], tx[MAX_SIDE];
    axis_taps_compute(ty, box.height, out_h);
    axis_taps_compute(tx, box.width, out_w);
    int64_t in_hw = (int64_t)in_h * in_w, out_hw = (int64_t)out_h * out_w;
    for (int ch = 0; ch < c; ch++) {
        const float *plane =
            in + ch * in_hw + (int64_t)box.top * in_w + box.left;
        float *dst = out + ch * out_hw;
        for (int oy = 0; oy < out_h; oy++) {
            const float *r0 = plane + (int64_t)ty[oy].i0 * in_w;
            const float *r1 = plane + (int64_t)ty[oy].i1 * in_w;
            float wy0 = ty[oy].w0, wy1 = ty[oy].w1;
            for (int ox = 0; ox < out_w; ox++) {
                const axis_taps t = tx[ox];
                float top = r0[t.i0] * t.w0 + r0[t.i1] * t.w1;
                float bottom = r1[t.i0] * t.w0 + r1[t.i1] * t.w1;
                dst[oy * out_w + ox] = top * wy0 + bottom * wy1;
            }
        }
    }
}

void selfsup__resized_crop_u8(float *out, const uint8_t *in, int c, int in_h,
                              int in_w, selfsup__crop_box box, int out_h,
                              int out_w)
{
    (void)in_h;
    const float *unit = unit_table();
    axis_taps ty[MAX_SIDE], tx[MAX_SIDE];
    axis_taps_compute(ty, box.height, out_h);
    axis_taps_compute(tx, box.width, out_w);
    int64_t out_hw = (int64_t)out_h * out_w;
    int64_t row_stride = (int64_t)in_w * c;
    const uint8_t *origin =
        in + (int64_t)box.top * row_stride + (int64_t)box.left * c;
    for (int oy = 0; oy < out_h; oy++) {
        const uint8_t *r0 = origin + (int64_t)ty[oy].i0 * row_stride;
        const uint8_t *r1 = origin + (int64_t)ty[oy].i1 * row_stride;
        float wy0 = ty[oy].w0, wy1 = ty[oy].w1;
        for (int ox = 0; ox < out_w; ox++) {
            const axis_taps t = tx[ox];
            int64_t a = (int64_t)t.i0 * c, b = (int64_t)t.i1 * c;
            for (int ch = 0; ch < c; ch++) {
                float top = unit[r0[a + ch]] * t.w0 + unit[r0[b + ch]] * t.w1;
                float bottom =
                    unit[r1[a + ch]] * t.w0 + unit[r1[b + ch]] * t.w1;
                out[ch * out_hw + oy * out_w + ox] = top * wy0 + bottom * wy1;
            }
        }
    }
}

void selfsup__hflip(float *img, int c, int h, int w)
{
    for (int64_t row = 0; row < (int64_t)c * h; row++) {
        float *r = img + row * w;
        for (int x = 0, y = w - 1; x < y; x++, y--) {
            float t = r[x];
            r[x] = r[y];
            r[y] = t;
        }
    }
}
