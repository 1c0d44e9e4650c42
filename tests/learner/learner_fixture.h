/* Small real batches and small networks for the learner's tests. */
#ifndef SELFSUP_TEST_LEARNER_FIXTURE_H
#define SELFSUP_TEST_LEARNER_FIXTURE_H

#include "test_support.h"

/* A config for method with networks small enough for unit tests. */
selfsup_learner_config *small_config(const char *method, int64_t total_steps);

/* Two augmented views of Fashion-MNIST images first..first+n-1 (or, when
 * the dataset is not installed, of deterministic synthetic images), made
 * with the "fmnist" recipe at epoch `epoch`. make_views starts at 0. */
void make_views_at(int64_t first, int64_t n, int64_t epoch,
                   selfsup_tensor *views[2]);
void make_views(int64_t n, int64_t epoch, selfsup_tensor *views[2]);

/* A new empty file's path under /tmp (valid until the next call). */
char *temp_path(void);

/* Copies of every parameter and BN buffer of the online encoder. */
float *snapshot_encoder(const selfsup_encoder *e, int64_t *count);

#endif
