/* Random parameters, following torchvision's get_params functions. */
#include "params.h"

#include <math.h>

int selfsup__draw_coin(selfsup__rng *r, double p)
{
    /* The draw is made even when p is 0 or 1, so that the stream's later
     * words do not depend on p. */
    double u = selfsup__rng_uniform_double(r);
    return u < p;
}

double selfsup__draw_uniform(selfsup__rng *r, double lo, double hi)
{
    return lo + (hi - lo) * selfsup__rng_uniform_double(r);
}

/* Uniform integer in [0, n), n >= 1 (torch.randint(0, n)). */
static int draw_below(selfsup__rng *r, int n)
{
    return (int)selfsup__rng_below(r, (uint32_t)n);
}

int selfsup__draw_crop_box(selfsup__rng *r, int h, int w, const double scale[2],
                           const double ratio[2], selfsup__crop_box *box)
{
    double area = (double)h * (double)w;
    double log_lo = log(ratio[0]), log_hi = log(ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target_area =
            area * selfsup__draw_uniform(r, scale[0], scale[1]);
        double aspect = exp(selfsup__draw_uniform(r, log_lo, log_hi));
        /* int(round(x)): round half to even, which rint does in the
         * default rounding mode. */
        double cw = rint(sqrt(target_area * aspect));
        double ch = rint(sqrt(target_area / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            box->height = (int)ch;
            box->width = (int)cw;
            box->top = draw_below(r, h - box->height + 1);
            box->left = draw_below(r, w - box->width + 1);
            return 0;
        }
    }
    double in_ratio = (double)w / (double)h;
    double min_ratio = fmin(ratio[0], ratio[1]);
    double max_ratio = fmax(ratio[0], ratio[1]);
    int cw, ch;
    if (in_ratio < min_ratio) {
        cw = w;
        ch = (int)rint(cw / min_ratio);
    } else if (in_ratio > max_ratio) {
        ch = h;
        cw = (int)rint(ch * max_ratio);
    } else {
        cw = w;
        ch = h;
    }
    /* Python's // on non-negative values; torchvision never produces a
     * box larger than the image here since the clamped side is the
     * shorter one. */
    box->height = ch;
    box->width = cw;
    box->top = (h - ch) / 2;
    box->left = (w - cw) / 2;
    return 1;
}

void selfsup__draw_jitter(selfsup__rng *r, const double ranges[4][2],
                          selfsup__jitter_params *p)
{
    /* torch.randperm(4): a uniform permutation (Fisher-Yates here). */
    for (int i = 0; i < 4; i++)
        p->order[i] = i;
    for (int i = 3; i > 0; i--) {
        int j = draw_below(r, i + 1);
        int t = p->order[i];
        p->order[i] = p->order[j];
        p->order[j] = t;
    }
    p->brightness = (float)selfsup__draw_uniform(r, ranges[0][0], ranges[0][1]);
    p->contrast = (float)selfsup__draw_uniform(r, ranges[1][0], ranges[1][1]);
    p->saturation = (float)selfsup__draw_uniform(r, ranges[2][0], ranges[2][1]);
    p->hue = (float)selfsup__draw_uniform(r, ranges[3][0], ranges[3][1]);
}

void selfsup__apply_jitter(float *img, int c, int64_t hw,
                           const selfsup__jitter_params *p,
                           const int enabled[4])
{
    for (int k = 0; k < 4; k++) {
        int which = p->order[k];
        if (!enabled[which])
            continue;
        switch (which) {
        case 0:
            selfsup__adjust_brightness(img, c * hw, p->brightness);
            break;
        case 1:
            selfsup__adjust_contrast(img, c, hw, p->contrast);
            break;
        case 2:
            selfsup__adjust_saturation(img, c, hw, p->saturation);
            break;
        default:
            selfsup__adjust_hue(img, c, hw, p->hue);
            break;
        }
    }
}
