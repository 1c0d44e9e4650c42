/* libselfsup: augmentation pipelines and the views of self-supervised
 * methods.
 *
 * A pipeline is a spec string of operations separated by '|', each in the
 * library's spec grammar (name:key=value,...), e.g.
 *     crop:size=28,scale=0.2-1.0|flip:p=0.5|jitter:brightness=0.4,p=0.8|
 *     solarize:p=0.2|normalize:mean=0.2860,std=0.3530
 * Operations (torchvision 0.14 semantics, images as float in [0, 1]):
 *   crop       RandomResizedCrop  size, scale (0.08-1.0), ratio (0.75-1.333)
 *   resize     Resize             size
 *   flip       RandomHorizontalFlip  p (0.5)
 *   jitter     RandomApply(ColorJitter)  brightness, contrast, saturation
 *              (v or lo-hi), hue (v or lo-hi in [-0.5, 0.5]), p (1)
 *   grayscale  RandomGrayscale    p (0.1)
 *   blur       RandomApply(GaussianBlur)  sigma (0.1-2.0), kernel (auto:
 *              about a tenth of the side, odd), p (1)
 *   solarize   RandomSolarize     threshold (0.5), p (0.5)
 *   normalize  Normalize          mean, std: auto (the dataset's own
 *              per-channel statistics), v, or r/g/b
 * Grayscale images skip saturation, hue and grayscale. docs/augmentation.md
 * has the full grammar and the presets. */
#ifndef SELFSUP_AUGMENT_H
#define SELFSUP_AUGMENT_H

#include <stdint.h>

#include "data.h"
#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One augmentation pipeline. */
typedef struct selfsup_augment selfsup_augment;

/* Parses spec (above). A crop or resize without size= keeps the input's
 * size. SELFSUP_ERR_INVALID_ARGUMENT naming the operation and key for an
 * unknown name or key or a value out of range. */
SELFSUP_API selfsup_status selfsup_augment_create(selfsup_augment **out,
                                                  const char *spec);
SELFSUP_API void selfsup_augment_destroy(selfsup_augment *a);

/* The spec the pipeline was made from; NULL for NULL. */
SELFSUP_API const char *selfsup_augment_spec(const selfsup_augment *a);

/* The size of the images the pipeline makes from height x width inputs. */
SELFSUP_API selfsup_status selfsup_augment_output_size(const selfsup_augment *a,
                                                       int height, int width,
                                                       int *out_height,
                                                       int *out_width);

/* Augments image index of d as view number view of that sample in epoch
 * epoch: out is (C, H', W') with H' x W' from selfsup_augment_output_size.
 * The draws are the ones selfsup_views_apply makes for the same (seed,
 * epoch, index, view) with the same pipeline. */
SELFSUP_API selfsup_status selfsup_augment_apply(const selfsup_augment *a,
                                                 const selfsup_dataset *d,
                                                 int64_t index, uint64_t seed,
                                                 int64_t epoch, int view,
                                                 selfsup_tensor *out);

/* The views of a method: one pipeline per view (the typedef is in data.h).
 *
 * recipe: a preset, "byol", "simclr", "simsiam", "vicreg", "fmnist",
 * "fmnist-light", "rgb32", "rgb64" or "rgb96" (docs/augmentation.md lists
 * their pipelines), or pipeline specs separated by ';', one per view. A
 * recipe with fewer pipelines than n_views cycles them; n_views = 0 takes
 * one view per pipeline (2 for byol, vicreg, the fmnist and rgb presets, 1
 * for simclr and simsiam, which use the same pipeline twice).
 * out_size: the side of every view (crops without size= produce it; a
 * pipeline that ends at another size is refused). */
SELFSUP_API selfsup_status selfsup_views_create(selfsup_views **out,
                                                const char *recipe, int n_views,
                                                int out_size);
SELFSUP_API void selfsup_views_destroy(selfsup_views *v);
/* The number of views; 0 for NULL. */
SELFSUP_API int selfsup_views_count(const selfsup_views *v);
/* The side of every view; 0 for NULL. */
SELFSUP_API int selfsup_views_out_size(const selfsup_views *v);
/* The pipeline spec of view number view (a preset's is expanded); NULL when
 * out of range. */
SELFSUP_API const char *selfsup_views_spec(const selfsup_views *v, int view);

/* The views of samples indices[0..n) of d in this epoch: out[v] is
 * (n, C, out_size, out_size), v < selfsup_views_count. Every random draw is
 * keyed by (seed, epoch, sample index, view, operation), so the result
 * depends neither on the thread count nor on where a sample sits in the
 * batch. Runs on the library's threads (selfsup_set_num_threads). */
SELFSUP_API selfsup_status selfsup_views_apply(
    const selfsup_views *v, const selfsup_dataset *d, const int64_t *indices,
    int64_t n, uint64_t seed, int64_t epoch, selfsup_tensor *const *out);

/* The normalisation view 0 applies to images of d (its last normalize:
 * auto resolves to d's statistics): C values each, mean 0 and std 1 when it
 * does not normalise. Pass them to selfsup_dataset_read_batch so that
 * evaluation sees images the way training did. */
SELFSUP_API selfsup_status selfsup_views_normalization(const selfsup_views *v,
                                                       const selfsup_dataset *d,
                                                       float *mean, float *std);

#ifdef __cplusplus
}
#endif

#endif
