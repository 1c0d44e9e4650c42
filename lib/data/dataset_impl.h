/* Internal: the dataset's layout, for the loader and the views. */
#ifndef SELFSUP_DATA_DATASET_IMPL_H
#define SELFSUP_DATA_DATASET_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "collection.h"
#include "idx.h"
#include "selfsup/data.h"

struct selfsup_dataset {
    int64_t count;
    int height, width, channels;
    const uint8_t *pixels; /* count * height * width * channels, HWC */
    const int32_t *labels; /* count values, or NULL */
    uint8_t *owned_pixels; /* what the dataset frees */
    int32_t *owned_labels;
    float mean[3], std[3]; /* per channel, of pixels / 255 */
    char **sources;        /* per image, the file it came from; or NULL */
    int n_classes;
    char **classes; /* class names (folder collections), or NULL */
    int64_t n_skipped;
    char **skipped; /* "path: reason" per file skip_bad left out */
    void *mapping;  /* a decode cache the pixels point into */
    size_t mapping_bytes;
};

static inline int64_t selfsup__dataset_image_bytes(const selfsup_dataset *d)
{
    return (int64_t)d->height * d->width * d->channels;
}

/* A dataset from IDX images (and labels, label_name NULL when none) read
 * from memory buffers, raw or gzip: the path the fuzzer drives. */
selfsup_status
selfsup__dataset_open_idx_memory(selfsup_dataset **out, const void *images,
                                 size_t images_len, const char *images_name,
                                 const void *labels, size_t labels_len,
                                 const char *labels_name);

/* Fills what every constructor derives from the pixels and labels: the
 * class count (when unnamed) and the per-channel statistics. */
void selfsup__dataset_finish(selfsup_dataset *d);

/* A dataset owning pixels (count images of size x size x channels, HWC)
 * and labels (or NULL), taking c's paths as the sources, its classes and
 * its skipped list (c is left empty; c may be NULL). On failure everything
 * given is freed. */
selfsup_status selfsup__dataset_adopt(selfsup_dataset **out, uint8_t *pixels,
                                      int64_t count, int size, int channels,
                                      int32_t *labels, selfsup__collection *c);

#endif
