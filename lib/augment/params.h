/* Internal: the random parameters of the augmentation operations, drawn as
 * torchvision 0.14's transforms draw them, from a core/rng.h reader. */
#ifndef SELFSUP_AUGMENT_PARAMS_H
#define SELFSUP_AUGMENT_PARAMS_H

#include "core/rng.h"
#include "ops.h"

/* True with probability p (p <= 0 never draws true, p >= 1 always). */
int selfsup__draw_coin(selfsup__rng *r, double p);

/* Uniform in [lo, hi] (lo == hi gives lo). */
double selfsup__draw_uniform(selfsup__rng *r, double lo, double hi);

/* RandomResizedCrop.get_params on an h x w image: up to ten draws of an
 * area fraction uniform in scale[0..1] and an aspect ratio log-uniform in
 * ratio[0..1], rounded half to even as Python's round(); the first box that
 * fits gets a uniform position. If none fits, the centre crop of the
 * largest box whose aspect is clamped into the ratio range. Returns 1 when
 * that fallback was taken, else 0. */
int selfsup__draw_crop_box(selfsup__rng *r, int h, int w, const double scale[2],
                           const double ratio[2], selfsup__crop_box *box);

/* ColorJitter.get_params: the order of the four adjustments (a random
 * permutation of 0 brightness, 1 contrast, 2 saturation, 3 hue) and one
 * factor per adjustment, each uniform in its range. */
typedef struct selfsup__jitter_params {
    int order[4];
    float brightness, contrast, saturation, hue;
} selfsup__jitter_params;

/* ranges[k] = {lo, hi} for brightness, contrast, saturation, hue. */
void selfsup__draw_jitter(selfsup__rng *r, const double ranges[4][2],
                          selfsup__jitter_params *p);

/* ColorJitter.forward with fixed parameters: the adjustments in p->order;
 * enabled[k] == 0 skips adjustment k (a range that was not given). */
void selfsup__apply_jitter(float *img, int c, int64_t hw,
                           const selfsup__jitter_params *p,
                           const int enabled[4]);

#endif
