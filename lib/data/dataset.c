/* Datasets: IDX files, Fashion-MNIST, host memory; statistics, labels and
 * plain batches for evaluation. */
#include "dataset_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "core/threads.h"

/* The class count when labels are unnamed, and the per-channel mean and
 * population std of the pixels / 255, through one
 * histogram per channel (exact counts, then double arithmetic). */
static void compute_stats(selfsup_dataset *d)
{
    /* labels without names: the classes are 0 .. the largest label */
    if (d->labels && !d->classes)
        for (int64_t i = 0; i < d->count; i++)
            if (d->labels[i] >= d->n_classes)
                d->n_classes = d->labels[i] + 1;
    int c = d->channels;
    uint64_t hist[3][256];
    memset(hist, 0, sizeof hist);
    int64_t values = d->count * d->height * d->width;
    const uint8_t *p = d->pixels;
    if (c == 1) {
        for (int64_t i = 0; i < values; i++)
            hist[0][p[i]]++;
    } else {
        for (int64_t i = 0; i < values; i++)
            for (int ch = 0; ch < c; ch++)
                hist[ch][p[i * c + ch]]++;
    }
    for (int ch = 0; ch < c; ch++) {
        double sum = 0, sum_sq = 0;
        for (int v = 0; v < 256; v++) {
            double x = v / 255.0;
            sum += (double)hist[ch][v] * x;
            sum_sq += (double)hist[ch][v] * x * x;
        }
        double mean = sum / (double)values;
        double var = sum_sq / (double)values - mean * mean;
        d->mean[ch] = (float)mean;
        /* A constant channel would divide by zero when normalised; 1 keeps
         * it as it is. */
        d->std[ch] = var > 1e-12 ? (float)sqrt(var) : 1.0f;
    }
}

static selfsup_status check_layout(const char *where, int64_t count, int height,
                                   int width, int channels)
{
    if (count < 1)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "count = %lld is not positive", (long long)count);
    if (height < 1 || height > SS_IDX_MAX_SIDE || width < 1 ||
        width > SS_IDX_MAX_SIDE)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "height = %d, width = %d: need 1..%d", height,
                             width, SS_IDX_MAX_SIDE);
    if (channels != 1 && channels != 3)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "channels = %d is not 1 or 3", channels);
    int64_t image = (int64_t)height * width * channels;
    if (count > SS_IDX_MAX_BYTES / image)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "count = %lld images of %lld bytes exceed 2^40 "
                             "bytes",
                             (long long)count, (long long)image);
    return SELFSUP_OK;
}

selfsup_status selfsup_dataset_from_memory(selfsup_dataset **out,
                                           const uint8_t *pixels, int64_t count,
                                           int height, int width, int channels,
                                           const int32_t *labels, int copy)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(pixels);
    SS_TRY(check_layout(__func__, count, height, width, channels));
    if (copy != 0 && copy != 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "copy = %d is not 0 or 1",
                       copy);
    selfsup_dataset *d = selfsup__calloc(1, sizeof *d);
    if (!d)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the dataset");
    d->count = count;
    d->height = height;
    d->width = width;
    d->channels = channels;
    size_t bytes =
        (size_t)count * (size_t)height * (size_t)width * (size_t)channels;
    if (copy) {
        d->owned_pixels = selfsup__malloc(bytes);
        d->owned_labels =
            labels ? selfsup__malloc((size_t)count * sizeof(int32_t)) : NULL;
        if (!d->owned_pixels || (labels && !d->owned_labels)) {
            selfsup_dataset_destroy(d);
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot copy %lld images (%zu bytes)",
                           (long long)count, bytes);
        }
        memcpy(d->owned_pixels, pixels, bytes);
        if (labels)
            memcpy(d->owned_labels, labels, (size_t)count * sizeof(int32_t));
        d->pixels = d->owned_pixels;
        d->labels = d->owned_labels;
    } else {
        d->pixels = pixels;
        d->labels = labels;
    }
    compute_stats(d);
    *out = d;
    return SELFSUP_OK;
}

/* Takes ownership of images.data and labels->data (freed on failure). */
static selfsup_status
dataset_from_idx(selfsup_dataset **out, selfsup__idx *images,
                 const char *images_name, selfsup__idx *labels,
                 const char *labels_name, const char *where)
{
    selfsup_status st = SELFSUP_OK;
    int32_t *label_values = NULL;
    if (labels && labels->dims[0] != images->dims[0])
        st = selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                           "\"%s\" has %lld labels but \"%s\" has %lld "
                           "images",
                           labels_name, (long long)labels->dims[0], images_name,
                           (long long)images->dims[0]);
    if (st == SELFSUP_OK && labels) {
        label_values =
            selfsup__malloc((size_t)labels->dims[0] * sizeof(int32_t));
        if (!label_values)
            st = selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                               "cannot allocate %lld labels",
                               (long long)labels->dims[0]);
        else
            for (int64_t i = 0; i < labels->dims[0]; i++)
                label_values[i] = labels->data[i];
    }
    selfsup_dataset *d = NULL;
    if (st == SELFSUP_OK) {
        d = selfsup__calloc(1, sizeof *d);
        if (!d)
            st = selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                               "cannot allocate the dataset");
    }
    if (labels)
        selfsup__idx_free(labels);
    if (st != SELFSUP_OK) {
        selfsup__free(label_values);
        selfsup__idx_free(images);
        return st;
    }
    d->count = images->dims[0];
    d->height = (int)images->dims[1];
    d->width = (int)images->dims[2];
    d->channels = 1;
    d->owned_pixels = images->data;
    d->pixels = images->data;
    d->owned_labels = label_values;
    d->labels = label_values;
    images->data = NULL;
    compute_stats(d);
    *out = d;
    return SELFSUP_OK;
}

selfsup_status selfsup_dataset_open_idx(selfsup_dataset **out,
                                        const char *images_path,
                                        const char *labels_path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(images_path);
    selfsup__idx images, labels;
    SS_TRY(selfsup__idx_read_file(&images, images_path, 3, __func__));
    if (labels_path) {
        selfsup_status st =
            selfsup__idx_read_file(&labels, labels_path, 1, __func__);
        if (st != SELFSUP_OK) {
            selfsup__idx_free(&images);
            return st;
        }
    }
    return dataset_from_idx(out, &images, images_path,
                            labels_path ? &labels : NULL, labels_path,
                            __func__);
}

selfsup_status
selfsup__dataset_open_idx_memory(selfsup_dataset **out, const void *images,
                                 size_t images_len, const char *images_name,
                                 const void *labels, size_t labels_len,
                                 const char *labels_name)
{
    const char *where = "selfsup__dataset_open_idx_memory";
    selfsup__idx img, lab;
    SS_TRY(selfsup__idx_read_memory(&img, images, images_len, images_name, 3,
                                    where));
    if (labels_name) {
        selfsup_status st = selfsup__idx_read_memory(&lab, labels, labels_len,
                                                     labels_name, 1, where);
        if (st != SELFSUP_OK) {
            selfsup__idx_free(&img);
            return st;
        }
    }
    return dataset_from_idx(out, &img, images_name, labels_name ? &lab : NULL,
                            labels_name, where);
}

selfsup_status selfsup_dataset_open_fashion_mnist(selfsup_dataset **out,
                                                  const char *dir,
                                                  const char *split)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(split);
    const char *prefix;
    if (strcmp(split, "train") == 0)
        prefix = "train";
    else if (strcmp(split, "test") == 0)
        prefix = "t10k";
    else
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "split = \"%s\" is not \"train\" or \"test\"", split);
    if (!dir)
        dir = SELFSUP_FASHION_MNIST_DIR;
    char images[4096], labels[4096];
    int a = snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir,
                     prefix);
    int b = snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir,
                     prefix);
    if (a < 0 || b < 0 || (size_t)a >= sizeof images ||
        (size_t)b >= sizeof labels)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "dir is longer than %zu characters", sizeof images - 40);
    selfsup__idx img, lab;
    SS_TRY(selfsup__idx_read_file(&img, images, 3, __func__));
    selfsup_status st = selfsup__idx_read_file(&lab, labels, 1, __func__);
    if (st != SELFSUP_OK) {
        selfsup__idx_free(&img);
        return st;
    }
    return dataset_from_idx(out, &img, images, &lab, labels, __func__);
}

void selfsup__dataset_finish(selfsup_dataset *d)
{
    compute_stats(d);
}

void selfsup_dataset_destroy(selfsup_dataset *d)
{
    if (!d)
        return;
    selfsup__free(d->owned_pixels);
    selfsup__free(d->owned_labels);
    selfsup__strings_free(d->sources, d->sources ? d->count : 0);
    selfsup__strings_free(d->classes, d->n_classes);
    selfsup__strings_free(d->skipped, d->n_skipped);
    if (d->mapping)
        munmap(d->mapping, d->mapping_bytes);
    selfsup__free(d);
}

selfsup_status selfsup__dataset_adopt(selfsup_dataset **out, uint8_t *pixels,
                                      int64_t count, int size, int channels,
                                      int32_t *labels, selfsup__collection *c)
{
    selfsup_dataset *d = selfsup__calloc(1, sizeof *d);
    if (!d) {
        selfsup__free(pixels);
        selfsup__free(labels);
        if (c)
            selfsup__collection_free(c);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the dataset");
    }
    d->count = count;
    d->height = d->width = size;
    d->channels = channels;
    d->pixels = d->owned_pixels = pixels;
    d->labels = d->owned_labels = labels;
    if (c) {
        /* the collection's paths are exactly the kept images' */
        d->sources = c->paths;
        d->classes = c->classes;
        d->n_classes = c->n_classes;
        d->skipped = c->skipped;
        d->n_skipped = c->n_skipped;
        c->paths = c->classes = c->skipped = NULL;
        c->count = c->n_skipped = 0;
        c->n_classes = 0;
        selfsup__collection_free(c);
    }
    compute_stats(d);
    *out = d;
    return SELFSUP_OK;
}

const char *selfsup_dataset_source(const selfsup_dataset *d, int64_t index)
{
    if (!d || !d->sources || index < 0 || index >= d->count)
        return NULL;
    return d->sources[index];
}

int selfsup_dataset_class_count(const selfsup_dataset *d)
{
    return d && d->labels ? d->n_classes : 0;
}

const char *selfsup_dataset_class_name(const selfsup_dataset *d, int k)
{
    if (!d || !d->classes || k < 0 || k >= d->n_classes)
        return NULL;
    return d->classes[k];
}

int64_t selfsup_dataset_skipped_count(const selfsup_dataset *d)
{
    return d ? d->n_skipped : 0;
}

const char *selfsup_dataset_skipped(const selfsup_dataset *d, int64_t i)
{
    if (!d || i < 0 || i >= d->n_skipped)
        return NULL;
    return d->skipped[i];
}

int64_t selfsup_dataset_count(const selfsup_dataset *d)
{
    return d ? d->count : 0;
}

int selfsup_dataset_height(const selfsup_dataset *d)
{
    return d ? d->height : 0;
}

int selfsup_dataset_width(const selfsup_dataset *d)
{
    return d ? d->width : 0;
}

int selfsup_dataset_channels(const selfsup_dataset *d)
{
    return d ? d->channels : 0;
}

int selfsup_dataset_has_labels(const selfsup_dataset *d)
{
    return d && d->labels ? 1 : 0;
}

static selfsup_status check_range(const char *where, const selfsup_dataset *d,
                                  int64_t first, int64_t count)
{
    if (first < 0 || count < 0 || first > d->count || count > d->count - first)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "images first = %lld, count = %lld are outside "
                             "the dataset's %lld",
                             (long long)first, (long long)count,
                             (long long)d->count);
    return SELFSUP_OK;
}

selfsup_status selfsup_dataset_labels(const selfsup_dataset *d, int64_t first,
                                      int64_t count, int32_t *dst)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(d);
    SS_TRY(check_range(__func__, d, first, count));
    SS_CHECK_NOT_NULL(dst);
    if (!d->labels)
        return SS_FAIL(SELFSUP_ERR_STATE, "the dataset has no labels");
    memcpy(dst, d->labels + first, (size_t)count * sizeof(int32_t));
    return SELFSUP_OK;
}

selfsup_status selfsup_dataset_image(const selfsup_dataset *d, int64_t index,
                                     const uint8_t **pixels)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(d);
    if (index < 0 || index >= d->count)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "index = %lld is outside 0..%lld", (long long)index,
                       (long long)d->count - 1);
    SS_CHECK_NOT_NULL(pixels);
    *pixels = d->pixels + index * selfsup__dataset_image_bytes(d);
    return SELFSUP_OK;
}

selfsup_status selfsup_dataset_stats(const selfsup_dataset *d, float *mean,
                                     float *std)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(d);
    SS_CHECK_NOT_NULL(mean);
    SS_CHECK_NOT_NULL(std);
    for (int ch = 0; ch < d->channels; ch++) {
        mean[ch] = d->mean[ch];
        std[ch] = d->std[ch];
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_dataset_read_batch(const selfsup_dataset *d,
                                          int64_t first, selfsup_tensor *batch,
                                          const float *mean, const float *std)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(d);
    SS_CHECK_NOT_NULL(batch);
    int64_t n = batch->ndim == 4 ? batch->dims[0] : 0;
    const int64_t want[4] = {n, d->channels, d->height, d->width};
    if (batch->ndim != 4)
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "batch has %d axes, not 4 (N, %d, %d, %d)", batch->ndim,
                       d->channels, d->height, d->width);
    SS_TRY(selfsup__tensor_expect_shape(batch, __func__, "batch", 4, want));
    SS_TRY(check_range(__func__, d, first, n));
    if ((mean == NULL) != (std == NULL))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "mean and std must both be given or both be NULL");
    float m[3] = {0, 0, 0}, s[3] = {1, 1, 1};
    for (int ch = 0; mean && ch < d->channels; ch++) {
        if (!isfinite(mean[ch]) || !isfinite(std[ch]) || !(std[ch] > 0))
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "mean[%d] = %g, std[%d] = %g: need finite values "
                           "and std > 0",
                           ch, (double)mean[ch], ch, (double)std[ch]);
        m[ch] = mean[ch];
        s[ch] = std[ch];
    }
    selfsup__threads_apply();
    int c = d->channels;
    int64_t hw = (int64_t)d->height * d->width;
    int64_t bytes = selfsup__dataset_image_bytes(d);
    float *dst = selfsup__tensor_mut(batch);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *src = d->pixels + (first + i) * bytes;
        float *img = dst + i * c * hw;
        for (int64_t p = 0; p < hw; p++)
            for (int ch = 0; ch < c; ch++)
                img[ch * hw + p] =
                    ((float)src[p * c + ch] / 255.0f - m[ch]) / s[ch];
    }
    return SELFSUP_OK;
}
