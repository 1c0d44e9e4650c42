/* Internal: a set of pipelines, one per view, and the batched run that
 * writes them into NCHW float batches. */
#ifndef SELFSUP_AUGMENT_VIEWS_H
#define SELFSUP_AUGMENT_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"

/* The most views a recipe may ask for. */
enum { SS_VIEWS_MAX = 64 };

struct selfsup_views {
    int n_views;
    int out_size;
    selfsup_augment *pipelines; /* n_views, parsed with target = out_size */
};

/* The spec of preset name for output side out_size and view index view
 * (presets cycle their pipelines), or NULL when name is no preset. buf
 * receives the text. */
const char *selfsup__views_preset(const char *name, int view, int out_size,
                                  char *buf, size_t cap);
/* The number of distinct pipelines of a preset (0 if no preset). */
int selfsup__views_preset_pipelines(const char *name);

/* SELFSUP_ERR_SHAPE when the views cannot run on c x h x w images. */
selfsup_status selfsup__views_check(const selfsup_views *v, int c, int h, int w,
                                    const char *where);

/* Views of images[indices[i]] (each c*h*w bytes, HWC) for i < n: out[v]
 * points at (n, c, out_size, out_size) floats. Samples run in parallel
 * (OpenMP, the library's thread count); each (sample, view) depends only on
 * (seed, epoch, indices[i], v). Arguments are assumed checked; fails only
 * for scratch memory, before writing anything. */
selfsup_status selfsup__views_run(const selfsup_views *v, const uint8_t *images,
                                  int c, int h, int w, const int64_t *indices,
                                  int64_t n, uint64_t seed, int64_t epoch,
                                  const float *auto_mean, const float *auto_std,
                                  float *const *out, const char *where);

#endif
