/* Gaussian blur: the separable form of torchvision's 2-D kernel (it is the
 * outer product of two 1-D kernels), reflect padding. */
#include "ops.h"

#include <math.h>
#include <string.h>

/* torch's "reflect" padding: -1 -> 1, n -> n - 2 (the edge is the mirror).
 * Indices further out reflect again, with period 2 (n - 1). */
static int reflect_index(int i, int n)
{
    if (n == 1)
        return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

/* _get_gaussian_kernel1d: exp(-x^2 / (2 sigma^2)) at x = -(k-1)/2 .. (k-1)/2,
 * divided by its sum, in float as torch computes it. */
static void gaussian_kernel(float *weights, int kernel, float sigma)
{
    float half = (float)(kernel - 1) * 0.5f;
    float sum = 0;
    for (int i = 0; i < kernel; i++) {
        float x = ((float)i - half) / sigma;
        weights[i] = expf(-0.5f * (x * x));
        sum += weights[i];
    }
    for (int i = 0; i < kernel; i++)
        weights[i] /= sum;
}

int64_t selfsup__gaussian_blur_scratch(int h, int w, int kernel)
{
    /* One plane for the vertical pass, one padded row for the horizontal. */
    return (int64_t)h * w + w + kernel;
}

void selfsup__gaussian_blur(float *img, float *scratch, int c, int h, int w,
                            int kernel, float sigma)
{
    float weights[SS_BLUR_MAX_KERNEL];
    gaussian_kernel(weights, kernel, sigma);
    int pad = kernel / 2;
    int64_t hw = (int64_t)h * w;
    float *plane_tmp = scratch; /* (h, w) */
    float *row = scratch + hw;  /* w + 2 pad */
    for (int ch = 0; ch < c; ch++) {
        float *plane = img + ch * hw;
        /* Vertical: plane_tmp[y] = sum_i weights[i] plane[reflect(y+i-pad)] */
        for (int y = 0; y < h; y++) {
            float *dst = plane_tmp + (int64_t)y * w;
            const float *src = plane + (int64_t)reflect_index(y - pad, h) * w;
            for (int x = 0; x < w; x++)
                dst[x] = weights[0] * src[x];
            for (int i = 1; i < kernel; i++) {
                src = plane + (int64_t)reflect_index(y + i - pad, h) * w;
                float k = weights[i];
                for (int x = 0; x < w; x++)
                    dst[x] += k * src[x];
            }
        }
        /* Horizontal, row by row through a reflect-padded copy; the taps
         * are summed in the same order as the vertical pass (i = 0, 1, ..)
         * with x innermost, so the loop vectorises. */
        for (int y = 0; y < h; y++) {
            const float *src = plane_tmp + (int64_t)y * w;
            for (int x = -pad; x < 0; x++)
                row[x + pad] = src[reflect_index(x, w)];
            memcpy(row + pad, src, sizeof(float) * (size_t)w);
            for (int x = w; x < w + pad; x++)
                row[x + pad] = src[reflect_index(x, w)];
            float *dst = plane + (int64_t)y * w;
            for (int x = 0; x < w; x++)
                dst[x] = weights[0] * row[x];
            for (int i = 1; i < kernel; i++) {
                float k = weights[i];
                for (int x = 0; x < w; x++)
                    dst[x] += k * row[x + i];
            }
        }
    }
}
