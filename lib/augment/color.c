/* Colour and point operations: brightness, contrast, saturation, hue,
 * grayscale, solarize, normalize. Each follows torchvision 0.14's
 * functional_tensor arithmetic step by step (float32 throughout). */
#include "ops.h"

#include <math.h>

static inline float clamp01(float x)
{
    return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
}

/* The luma torchvision uses (ITU-R 601-2 as in TF): 0.2989 R + 0.587 G +
 * 0.114 B. */
static inline float luma(float r, float g, float b)
{
    return 0.2989f * r + 0.587f * g + 0.114f * b;
}

/* _blend(img1, img2, ratio) = clamp(ratio img1 + (1 - ratio) img2, 0, 1),
 * where 1 - ratio is formed in double as Python does. */
static inline float blend(float x, float other, float ratio, float rest)
{
    return clamp01(ratio * x + rest * other);
}

static float one_minus(float ratio)
{
    return (float)(1.0 - (double)ratio);
}

void selfsup__adjust_brightness(float *img, int64_t n, float factor)
{
    for (int64_t i = 0; i < n; i++)
        img[i] = clamp01(factor * img[i]);
}

void selfsup__adjust_contrast(float *img, int c, int64_t hw, float factor)
{
    double sum = 0;
    if (c == 3) {
        const float *r = img, *g = img + hw, *b = img + 2 * hw;
        for (int64_t i = 0; i < hw; i++)
            sum += luma(r[i], g[i], b[i]);
    } else {
        for (int64_t i = 0; i < hw; i++)
            sum += img[i];
    }
    float mean = (float)(sum / (double)hw);
    float rest = one_minus(factor);
    for (int64_t i = 0; i < (int64_t)c * hw; i++)
        img[i] = blend(img[i], mean, factor, rest);
}

void selfsup__adjust_saturation(float *img, int c, int64_t hw, float factor)
{
    if (c != 3)
        return; /* as torchvision (and PIL): no saturation in grayscale */
    float *r = img, *g = img + hw, *b = img + 2 * hw;
    float rest = one_minus(factor);
    for (int64_t i = 0; i < hw; i++) {
        float l = luma(r[i], g[i], b[i]);
        r[i] = blend(r[i], l, factor, rest);
        g[i] = blend(g[i], l, factor, rest);
        b[i] = blend(b[i], l, factor, rest);
    }
}

static inline float max3(float a, float b, float c)
{
    float m = a > b ? a : b;
    return m > c ? m : c;
}

static inline float min3(float a, float b, float c)
{
    float m = a < b ? a : b;
    return m < c ? m : c;
}

/* _rgb2hsv: hue in [0, 1), with the same guards against maxc == minc. The
 * hue before wrapping is in [-1, 5), so torch.fmod(h / 6 + 1, 1) is one
 * exact subtraction (Sterbenz) for arguments in [1, 2): no fmodf call. */
static inline void rgb_to_hsv(float r, float g, float b, float *h, float *s,
                              float *v)
{
    float maxc = max3(r, g, b);
    float minc = min3(r, g, b);
    int flat = maxc == minc;
    float chroma = maxc - minc;
    *s = chroma / (flat ? 1.0f : maxc);
    float divisor = flat ? 1.0f : chroma;
    float rc = (maxc - r) / divisor;
    float gc = (maxc - g) / divisor;
    float bc = (maxc - b) / divisor;
    float hue = maxc == r   ? bc - gc
                : maxc == g ? 2.0f + rc - bc
                            : 4.0f + gc - rc;
    float wrapped = hue / 6.0f + 1.0f;
    *h = wrapped >= 1.0f ? wrapped - 1.0f : wrapped;
    *v = maxc;
}

/* _hsv2rgb: the six sectors of the hexcone. h is in [0, 1], so the
 * truncation is torch.floor and sector 6 (h == 1) is sector 0. */
static inline void hsv_to_rgb(float h, float s, float v, float *r, float *g,
                              float *b)
{
    int sector = (int)(h * 6.0f);
    float f = h * 6.0f - (float)sector;
    float p = clamp01(v * (1.0f - s));
    float q = clamp01(v * (1.0f - s * f));
    float t = clamp01(v * (1.0f - s * (1.0f - f)));
    /* The sectors (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q), as
     * selects: no unpredictable branch per pixel. */
    int i = sector == 6 ? 0 : sector;
    *r = ((i == 0) | (i == 5)) ? v : i == 1 ? q : i == 4 ? t : p;
    *g = i == 0 ? t : ((i == 1) | (i == 2)) ? v : i == 3 ? q : p;
    *b = ((i == 0) | (i == 1)) ? p : i == 2 ? t : i == 5 ? q : v;
}

void selfsup__adjust_hue(float *img, int c, int64_t hw, float hue)
{
    if (c != 3)
        return; /* as torchvision: hue has no meaning in grayscale */
    float *r = img, *g = img + hw, *b = img + 2 * hw;
    for (int64_t i = 0; i < hw; i++) {
        float h, s, v;
        rgb_to_hsv(r[i], g[i], b[i], &h, &s, &v);
        /* torch.remainder(h + hue, 1.0) for h + hue in [-0.5, 1.5): fmod
         * (exact: y - 1 on [1, 1.5), y on [-0.5, 1)), then + 1 if
         * negative. */
        float y = h + hue;
        h = y >= 1.0f ? y - 1.0f : (y < 0.0f ? y + 1.0f : y);
        hsv_to_rgb(h, s, v, &r[i], &g[i], &b[i]);
    }
}

void selfsup__rgb_to_grayscale(float *img, int c, int64_t hw)
{
    if (c != 3)
        return;
    float *r = img, *g = img + hw, *b = img + 2 * hw;
    for (int64_t i = 0; i < hw; i++) {
        float l = luma(r[i], g[i], b[i]);
        r[i] = g[i] = b[i] = l;
    }
}

void selfsup__solarize(float *img, int64_t n, float threshold)
{
    for (int64_t i = 0; i < n; i++)
        if (img[i] >= threshold)
            img[i] = 1.0f - img[i];
}

void selfsup__normalize(float *img, int c, int64_t hw, const float *mean,
                        const float *std)
{
    for (int ch = 0; ch < c; ch++) {
        float m = mean[ch], s = std[ch];
        float *plane = img + ch * hw;
        for (int64_t i = 0; i < hw; i++)
            plane[i] = (plane[i] - m) / s;
    }
}
