/* Internal: an augmentation pipeline, the operations of one view in order,
 * parsed from a spec string (grammar in docs/augmentation.md), and the code
 * that runs it on one image. */
#ifndef SELFSUP_AUGMENT_PIPELINE_H
#define SELFSUP_AUGMENT_PIPELINE_H

#include <stdint.h>

#include "ops.h"
#include "params.h"
#include "selfsup/augment.h"

enum { SS_AUG_MAX_OPS = 16 };

typedef enum selfsup__aug_kind {
    SS_AUG_CROP,      /* RandomResizedCrop */
    SS_AUG_RESIZE,    /* Resize([size, size]) */
    SS_AUG_FLIP,      /* RandomHorizontalFlip */
    SS_AUG_JITTER,    /* RandomApply(ColorJitter) */
    SS_AUG_GRAYSCALE, /* RandomGrayscale */
    SS_AUG_BLUR,      /* RandomApply(GaussianBlur) */
    SS_AUG_SOLARIZE,  /* RandomSolarize */
    SS_AUG_NORMALIZE  /* Normalize */
} selfsup__aug_kind;

typedef struct selfsup__aug_op {
    selfsup__aug_kind kind;
    double p;            /* probability of applying (flip, jitter, ...) */
    int size;            /* crop, resize: output side; 0 = the target */
    double scale[2];     /* crop */
    double ratio[2];     /* crop */
    double jitter[4][2]; /* brightness, contrast, saturation, hue */
    int jitter_enabled[4];
    int kernel;       /* blur: odd side; 0 = 10% of the image side */
    double sigma[2];  /* blur */
    double threshold; /* solarize */
    int norm_auto;    /* normalize: the dataset's own mean/std */
    int norm_count;   /* 1 (every channel) or 3 */
    float mean[3], std[3];
} selfsup__aug_op;

struct selfsup_augment {
    int n_ops;
    selfsup__aug_op ops[SS_AUG_MAX_OPS];
    char *spec; /* the text it was made from */
};

/* Parses spec into a; target is the side a crop or resize without size=
 * produces (0: the input's side, decided when the pipeline runs). where
 * names the public function for messages. a->spec is owned: free with
 * selfsup__augment_clear. */
selfsup_status selfsup__augment_parse(selfsup_augment *a, const char *spec,
                                      int target, const char *where);
void selfsup__augment_clear(selfsup_augment *a);

/* The output side the pipeline gives an h x w input (square crops and
 * resizes; without them the input's own size). */
void selfsup__augment_output_size(const selfsup_augment *a, int h, int w,
                                  int *out_h, int *out_w);

/* Checks that the pipeline can run on images of c channels (normalize with
 * three values needs c == 3) and that its resampling fits the size limits.
 * SELFSUP_ERR_SHAPE naming what does not fit. */
selfsup_status selfsup__augment_check(const selfsup_augment *a, int c, int h,
                                      int w, const char *where);

/* Floats of scratch selfsup__augment_run needs for one c x h x w image. */
int64_t selfsup__augment_scratch(const selfsup_augment *a, int c, int h, int w);

/* What one run drew, for tests that replay it with explicit parameters. */
typedef struct selfsup__aug_trace {
    int applied[SS_AUG_MAX_OPS];
    selfsup__crop_box box[SS_AUG_MAX_OPS];
    int fallback[SS_AUG_MAX_OPS];
    selfsup__jitter_params jitter[SS_AUG_MAX_OPS];
    float sigma[SS_AUG_MAX_OPS];
    int kernel[SS_AUG_MAX_OPS];
} selfsup__aug_trace;

/* Runs the pipeline on one uint8 HWC image into out (c, out_h, out_w) as
 * selfsup__augment_output_size says. The draws of op k come from the
 * Philox stream selfsup__rng_stream(epoch, sample, view, k) under key seed,
 * so they depend on nothing else. auto_mean/auto_std (c values, the
 * dataset's statistics) serve normalize:auto and may be NULL only when the
 * pipeline has none. trace may be NULL. */
void selfsup__augment_run(const selfsup_augment *a, float *out, float *scratch,
                          const uint8_t *pixels, int c, int h, int w,
                          uint64_t seed, int64_t epoch, int64_t sample,
                          int64_t view, const float *auto_mean,
                          const float *auto_std, selfsup__aug_trace *trace);

#endif
