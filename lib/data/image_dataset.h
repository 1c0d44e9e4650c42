/* Internal: image collections and CIFAR batches made into datasets. */
#ifndef SELFSUP_DATA_IMAGE_DATASET_H
#define SELFSUP_DATA_IMAGE_DATASET_H

#include "collection.h"
#include "image_decode.h"
#include "selfsup/data.h"

/* Decodes every file of c (in parallel, with the library's threads) into
 * a dataset that takes c's paths as its sources. A file that fails is
 * refused, naming it (the first in order among those that failed), or,
 * with skip_bad, left out and listed in the dataset's skipped files. c is
 * consumed either way. progress (may be NULL) is called on this thread. */
selfsup_status
selfsup__image_dataset_decode(selfsup_dataset **out, selfsup__collection *c,
                              const selfsup__image_format *fmt, int skip_bad,
                              selfsup_progress_fn progress, void *user);

/* CIFAR-10 (classes 10, one label byte) or CIFAR-100 (a coarse and a fine
 * label byte; fine selects which) binary batches in dir: the train split
 * is data_batch_1..5.bin (train.bin for CIFAR-100), the test split
 * test_batch.bin (test.bin). Records are resized and converted as fmt
 * says (32 x 32 x 3 keeps them as they are). */
selfsup_status selfsup__cifar_open(selfsup_dataset **out, const char *dir,
                                   int hundred, int fine, const char *split,
                                   const selfsup__image_format *fmt);

#endif
