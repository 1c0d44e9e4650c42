/* libselfsup: image datasets and the loader that feeds training. */
#ifndef SELFSUP_DATA_H
#define SELFSUP_DATA_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* N images of H x W x C bytes (HWC, interleaved; C = 1 or 3), with optional
 * int32 labels. Read-only once made: any number of threads may read it. */
typedef struct selfsup_dataset selfsup_dataset;

/* The set of augmentation pipelines of a method (see augment.h). */
typedef struct selfsup_views selfsup_views;

/* Reads an IDX image file (magic 0x00000803: unsigned bytes, rank 3:
 * count x rows x cols) and, unless labels_path is NULL, an IDX label file
 * (0x00000801, rank 1) with as many entries. Either may be gzip-compressed
 * (.gz) or raw. Every header field is checked, and the file length must be
 * exactly what the header says: SELFSUP_ERR_CORRUPT naming the file and
 * the field, SELFSUP_ERR_IO when a file cannot be opened or read. */
SELFSUP_API selfsup_status selfsup_dataset_open_idx(selfsup_dataset **out,
                                                    const char *images_path,
                                                    const char *labels_path);

/* The directory of Debian's dataset-fashion-mnist package. */
#define SELFSUP_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Fashion-MNIST's split "train" (60000 images) or "test" (10000) with
 * labels, from dir (NULL: SELFSUP_FASHION_MNIST_DIR), files
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. */
SELFSUP_API selfsup_status selfsup_dataset_open_fashion_mnist(
    selfsup_dataset **out, const char *dir, const char *split);

/* Called as a collection decodes: done of total images, on the thread
 * that called selfsup_dataset_open. */
typedef void (*selfsup_progress_fn)(void *user, int64_t done, int64_t total);

/* Opens an image collection, decoded once into memory as size x size x
 * channels bytes per image (docs/data.md has the details):
 *
 *   auto:path=P      what P holds: a list file when P is a file; in a
 *                    folder, Fashion-MNIST IDX files (idx), CIFAR binary
 *                    batches (cifar10, cifar100, also in the archives'
 *                    cifar-10-batches-bin/ and cifar-100-binary/), else
 *                    image files (folder)
 *   folder:path=DIR  an ImageFolder (DIR/<class>/.../<image>, classes
 *                    sorted by name) or a flat folder of images
 *                    (unlabelled); with DIR/train and DIR/test (or val)
 *                    folders, split picks one and both share the classes
 *   list:path=FILE   a path a line (relative to FILE's folder), each
 *                    optionally followed by a tab and an integer label
 *   cifar10:path=DIR, cifar100:path=DIR   the binary version's batches
 *   idx:path=DIR     Fashion-MNIST's four IDX files (as
 *                    selfsup_dataset_open_fashion_mnist)
 *
 * with the keys, where they apply:
 *   size       (32; CIFAR 32)  the side images are resized to: shorter
 *              side to size (PIL's antialiased bilinear), centre crop
 *   channels   (3)   1 (gray, ITU-R 601-2 luma) or 3 (RGB)
 *   background (255) the gray level alpha is composited over
 *   max_pixels (2^28) images with more pixels are refused unread
 *   skip_bad   (0)   1: a file that cannot be read or decoded is left out
 *              and listed (selfsup_dataset_skipped) instead of failing
 *   layout     (auto) folder: classes | flat | auto
 *   labels     (fine) cifar100: fine | coarse
 *   cache      (none) folder, list: a file keeping the decoded images,
 *              mapped by later opens while the files (paths, sizes,
 *              mtimes) and the keys above are unchanged, rebuilt
 *              otherwise; one file per split
 *
 * Values holding commas go in double quotes (path="my photos, 2024").
 * Images are PNG (every colour type and depth) and JPEG (baseline and
 * progressive, gray and YCbCr; CMYK refused), recognised by their bytes,
 * in files named *.png, *.jpg or *.jpeg; EXIF orientation is not applied.
 * split: "train" (NULL) or "test". A damaged file fails the call with
 * SELFSUP_ERR_CORRUPT (or _IO, _UNSUPPORTED) naming it, unless skip_bad.
 * progress may be NULL. */
SELFSUP_API selfsup_status selfsup_dataset_open(selfsup_dataset **out,
                                                const char *spec,
                                                const char *split,
                                                selfsup_progress_fn progress,
                                                void *user);

/* count images of height x width x channels bytes at pixels (HWC), with
 * labels (count values) or NULL. copy = 0 borrows both arrays, which must
 * then outlive the dataset and stay unchanged; copy = 1 copies them. */
SELFSUP_API selfsup_status selfsup_dataset_from_memory(
    selfsup_dataset **out, const uint8_t *pixels, int64_t count, int height,
    int width, int channels, const int32_t *labels, int copy);

SELFSUP_API void selfsup_dataset_destroy(selfsup_dataset *d);

/* The file image index came from (a collection's path as found), or NULL
 * when the dataset was not made from files (IDX, CIFAR, memory) or index
 * is out of range. Valid as long as the dataset. */
SELFSUP_API const char *selfsup_dataset_source(const selfsup_dataset *d,
                                               int64_t index);

/* The number of classes (1 + the largest label, or the class folders of a
 * folder collection); 0 without labels. */
SELFSUP_API int selfsup_dataset_class_count(const selfsup_dataset *d);
/* Class k's folder name, or NULL when the classes have no names. */
SELFSUP_API const char *selfsup_dataset_class_name(const selfsup_dataset *d,
                                                   int k);

/* Files skip_bad left out, and each as "path: reason". */
SELFSUP_API int64_t selfsup_dataset_skipped_count(const selfsup_dataset *d);
SELFSUP_API const char *selfsup_dataset_skipped(const selfsup_dataset *d,
                                                int64_t i);

/* The number of images, their height, width and channels; 0 for NULL. */
SELFSUP_API int64_t selfsup_dataset_count(const selfsup_dataset *d);
SELFSUP_API int selfsup_dataset_height(const selfsup_dataset *d);
SELFSUP_API int selfsup_dataset_width(const selfsup_dataset *d);
SELFSUP_API int selfsup_dataset_channels(const selfsup_dataset *d);
/* 1 when the dataset has labels; 0 otherwise and for NULL. */
SELFSUP_API int selfsup_dataset_has_labels(const selfsup_dataset *d);

/* Copies the labels of images first..first+count-1 into dst.
 * SELFSUP_ERR_STATE when the dataset has none. */
SELFSUP_API selfsup_status selfsup_dataset_labels(const selfsup_dataset *d,
                                                  int64_t first, int64_t count,
                                                  int32_t *dst);

/* *pixels points at image index (H x W x C bytes, HWC), valid as long as
 * the dataset. */
SELFSUP_API selfsup_status selfsup_dataset_image(const selfsup_dataset *d,
                                                 int64_t index,
                                                 const uint8_t **pixels);

/* Per-channel mean and standard deviation (population) of all pixels,
 * scaled to [0, 1]: C values each. Fashion-MNIST's training split gives
 * 0.2860 and 0.3530. */
SELFSUP_API selfsup_status selfsup_dataset_stats(const selfsup_dataset *d,
                                                 float *mean, float *std);

/* Images first..first+N-1 without augmentation into batch, a (N, C, H, W)
 * tensor: scaled to [0, 1], then (x - mean[c]) / std[c] when mean and std
 * are given (C values each; NULL, NULL: no normalisation). For evaluation
 * and embedding. */
SELFSUP_API selfsup_status selfsup_dataset_read_batch(const selfsup_dataset *d,
                                                      int64_t first,
                                                      selfsup_tensor *batch,
                                                      const float *mean,
                                                      const float *std);

/* Batches of augmented views for training: a per-epoch shuffled order
 * (seeded), batches of batch_size images, the views made on a worker
 * thread ahead of time. */
typedef struct selfsup_loader selfsup_loader;

/* d and v must outlive the loader. options: NULL for the defaults, or
 * "loader:key=value,..." with
 *   shuffle   (1)  a new order every epoch, a function of (seed, epoch);
 *                  0 keeps the dataset's order
 *   drop_last (0)  1 drops the last, partial batch of an epoch
 *   prefetch  (2)  batches made ahead on the worker thread (0..16); 0 makes
 *                  each batch in selfsup_loader_next, on the caller's
 *                  thread
 *   ranks     (1)  training over R ranks (selfsup_learner_set_comm): this
 *   rank      (0)  loader makes rows rank * N .. rank * N + N - 1 of every
 *                  batch, N = batch_size / ranks, the same images and views
 *                  as one loader's rows there (the order is a function of
 *                  (seed, epoch), each view of (seed, epoch, image)), and
 *                  selfsup_loader_batch_indices gives those rows' images.
 *                  batch_size, and the epoch's last batch unless
 *                  drop_last=1, must divide by ranks
 * Batches are identical bits whatever prefetch and thread count. A
 * batch_size above the dataset's count makes one batch of the whole dataset
 * per epoch (with drop_last, SELFSUP_ERR_INVALID_ARGUMENT: no batch). */
SELFSUP_API selfsup_status selfsup_loader_create(
    selfsup_loader **out, const selfsup_dataset *d, const selfsup_views *v,
    int64_t batch_size, uint64_t seed, const char *options);
/* Stops the worker (waiting for the batch it is making) and frees
 * everything; NULL is accepted. */
SELFSUP_API void selfsup_loader_destroy(selfsup_loader *l);

/* Batches in one epoch; 0 for NULL. */
SELFSUP_API int64_t selfsup_loader_batches_per_epoch(const selfsup_loader *l);

/* The next batch: *views points at selfsup_views_count(v) tensors
 * (n, C, S, S) owned by the loader, valid until the next call of
 * selfsup_loader_next or selfsup_loader_seek; n is batch_size except for a
 * last partial batch. *epoch and *batch_index (either may be NULL) say
 * where it came from. After the last batch of an epoch comes batch 0 of the
 * next. On failure the position does not move: the next call retries. */
SELFSUP_API selfsup_status selfsup_loader_next(selfsup_loader *l,
                                               selfsup_tensor *const **views,
                                               int64_t *epoch,
                                               int64_t *batch_index);

/* The dataset indices of the batch the last selfsup_loader_next returned:
 * *indices (valid as its views) and *count. SELFSUP_ERR_STATE before the
 * first batch or after a seek. */
SELFSUP_API selfsup_status selfsup_loader_batch_indices(const selfsup_loader *l,
                                                        const int64_t **indices,
                                                        int64_t *count);

/* Makes batch batch_index of epoch epoch the next one
 * (0 <= batch_index < batches_per_epoch), e.g. to resume training exactly
 * where a checkpoint left it. */
SELFSUP_API selfsup_status selfsup_loader_seek(selfsup_loader *l, int64_t epoch,
                                               int64_t batch_index);

#ifdef __cplusplus
}
#endif

#endif
