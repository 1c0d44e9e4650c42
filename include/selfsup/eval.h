/* libselfsup: evaluating learned features.
 *
 * Everything here works on feature matrices: 2-D tensors (N, D), one row per
 * image, with int32 class labels in [0, n_classes) beside them. How to read
 * the figures, and the exact protocols, are in docs/evaluation.md. */
#ifndef SELFSUP_EVAL_H
#define SELFSUP_EVAL_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "data.h"
#include "encoder.h"
#include "tensor.h"
#include "whitening.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The weighted kNN protocol of the self-supervised literature (InstDisc,
 * DINO): features are l2-normalised; each test row votes with its k most
 * cosine-similar train rows, neighbour i weighing exp(sim_i / temperature);
 * the class with the largest summed weight is the prediction. These are the
 * usual defaults; report k and temperature with every figure. */
#define SELFSUP_KNN_DEFAULT_K           200
#define SELFSUP_KNN_DEFAULT_TEMPERATURE 0.1f

/* Top-1 and top-5 accuracy (fractions in [0, 1]) of the weighted kNN
 * classifier fitted on (train_features, train_labels), on (test_features,
 * test_labels). Both feature tensors are 2-D with the same width D; the
 * label arrays hold one entry per row. 1 <= k <= rows of train_features,
 * temperature > 0. top5 may be NULL; with fewer than 5 classes every class
 * is in the top 5 and *top5 is set to NaN. Ties: the more similar neighbour
 * first, then the lower train row; the larger class score first, then the
 * lower class index (docs/evaluation.md). */
SELFSUP_API selfsup_status selfsup_knn_evaluate(
    const selfsup_tensor *train_features, const int32_t *train_labels,
    const selfsup_tensor *test_features, const int32_t *test_labels,
    int n_classes, int k, float temperature, double *top1, double *top5);

/* The kNN classifier's prediction for every row of test_features, written
 * to predictions[0 .. rows). Same rules as selfsup_knn_evaluate. */
SELFSUP_API selfsup_status selfsup_knn_predict(
    const selfsup_tensor *train_features, const int32_t *train_labels,
    const selfsup_tensor *test_features, int n_classes, int k,
    float temperature, int32_t *predictions);

/* The k rows of database (N, D) most cosine-similar to each row of queries
 * (Q, D): indices[q * k + i] is the i-th nearest of query q, most similar
 * first (ties: lower row first), similarities[q * k + i] its cosine
 * similarity. 1 <= k <= N; similarities may be NULL. */
SELFSUP_API selfsup_status selfsup_knn_neighbors(const selfsup_tensor *database,
                                                 const selfsup_tensor *queries,
                                                 int k, int64_t *indices,
                                                 float *similarities);

/* The effective rank of features (N, D), RankMe (Garrido et al., ICML
 * 2023): exp of the entropy of the normalised singular values,
 * exp(-sum_k p_k log p_k) with p_k = s_k / sum(s) + 1e-7 over the
 * min(N, D) singular values of the features as given (not centred). From
 * about 1 for collapsed embeddings up to min(N, D) when every direction
 * carries the same weight; 0 for all-zero features. Computed in double
 * (Gram matrix and eigenvalues), bitwise the same on any thread count. */
SELFSUP_API selfsup_status
selfsup_effective_rank(const selfsup_tensor *features, double *rank);

/* The linear probe: multinomial logistic regression on frozen features,
 * each dimension standardised with the train set's mean and std, with an
 * L2 penalty weight_decay / 2 |W|^2, trained to convergence (max |gradient|
 * <= tolerance) with full-batch L-BFGS; reports the top-1 accuracy on the
 * train and test sets and the L-BFGS iterations used (each output may be
 * NULL; iterations == max_iter means it did not converge). options is NULL
 * for the defaults or a spec
 *     "probe:weight_decay=1e-4,max_iter=1000,tolerance=1e-6,history=10"
 * (any subset of keys; the values shown are the defaults). A test feature
 * whose standardised value overflows gives SELFSUP_ERR_NUMERIC. */
SELFSUP_API selfsup_status selfsup_linear_probe(
    const selfsup_tensor *train_features, const int32_t *train_labels,
    const selfsup_tensor *test_features, const int32_t *test_labels,
    int n_classes, const char *options, double *train_top1, double *test_top1,
    int *iterations);

/* Writes t as a NumPy .npy file (format 1.0, little-endian float32, C
 * order, t's shape), atomically, as checkpoints are: the data goes to a
 * file with no name yet in the same directory, is flushed to disk, then
 * named and renamed over path. A failure leaves no temporary file and an
 * existing file at path intact.
 * SELFSUP_ERR_IO names the path and the system's reason. */
SELFSUP_API selfsup_status selfsup_npy_write(const char *path,
                                             const selfsup_tensor *t);

/* The same for count == prod(dims) floats at data, with shape
 * (dims[0], ..., dims[ndim - 1]), 1 <= ndim <= SELFSUP_TENSOR_MAX_DIMS. */
SELFSUP_API selfsup_status selfsup_npy_write_floats(const char *path, int ndim,
                                                    const int64_t *dims,
                                                    const float *data);

/* Writes count int32 labels as a 1-D little-endian int32 .npy file ('<i4'),
 * atomically as above. */
SELFSUP_API selfsup_status selfsup_npy_write_labels(const char *path,
                                                    const int32_t *labels,
                                                    int64_t count);

/* Reads a float32 .npy file (little-endian '<f4', C order, 1 to
 * SELFSUP_TENSOR_MAX_DIMS axes, format 1.0, 2.0 or 3.0) into a new tensor
 * *out. A malformed header or a size that does not match it gives
 * SELFSUP_ERR_CORRUPT, an unknown format version SELFSUP_ERR_VERSION, a
 * well-formed file of another kind (dtype, Fortran order, 0-d or empty)
 * SELFSUP_ERR_UNSUPPORTED. */
SELFSUP_API selfsup_status selfsup_npy_read(const char *path,
                                            selfsup_tensor **out);

/* Reads a 1-D int32 .npy file ('<i4'): *count is set to its length, and if
 * labels is not NULL the values are copied there (capacity >= *count, else
 * SELFSUP_ERR_SHAPE). Call once with labels == NULL to size the buffer. */
SELFSUP_API selfsup_status selfsup_npy_read_labels(const char *path,
                                                   int32_t *labels,
                                                   int64_t capacity,
                                                   int64_t *count);

/* Features of images first..first+count-1 of d through encoder e, in
 * inference mode (selfsup_encoder_infer: e is left as it was), as a new (count,
 * D) tensor in *features, D = selfsup_encoder_embedding_dim(e): the network's
 * output, whitened when e records a whitening (whitening.h; exports of
 * `selfsup train` do; selfsup_encoder_set_whitening(e, NULL) gives the
 * bare network's features). Images are scaled to [0, 1] and standardised with
 * the per-channel mean and std (NULL: not standardised), as
 * selfsup_dataset_read_batch does; pass the statistics training used
 * (selfsup_views_normalization). Works in batches, so memory stays
 * bounded by the output. */
SELFSUP_API selfsup_status selfsup_embed_dataset(const selfsup_encoder *e,
                                                 const selfsup_dataset *d,
                                                 int64_t first, int64_t count,
                                                 const float *mean,
                                                 const float *std,
                                                 selfsup_tensor **features);

#ifdef __cplusplus
}
#endif

#endif
