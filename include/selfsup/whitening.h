/* libselfsup: PCA whitening of features, and the encoder's recorded one.
 *
 * A self-supervised encoder's features sit in a narrow cone (ReLU outputs,
 * a large common mean, a few dominant directions); cosine kNN search on
 * them improves by several points once they are centred and whitened with
 * statistics of the training images (docs/evaluation.md). A whitening is
 * the linear map
 *
 *     y = W (x - mean),   W[k] = v_k / sqrt(lambda_k + eps),
 *
 * from D features to K components, where (lambda_k, v_k) are the K largest
 * eigenpairs of the features' covariance (divisor N - 1), in descending
 * order, each v_k with its entry of largest magnitude positive, and
 * eps = epsilon * lambda_0 keeps the smallest components from being blown
 * up. A whitening recorded on an encoder is applied by the embedding calls
 * (selfsup_embed_dataset), carried by checkpoints and encoder exports and
 * copied by clones; selfsup_encoder_forward stays the bare network. */
#ifndef SELFSUP_WHITENING_H
#define SELFSUP_WHITENING_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "encoder.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct selfsup_whitening selfsup_whitening;

/* The defaults of selfsup_whitening_fit: at most this many components
 * (all of them below it), and epsilon. */
#define SELFSUP_WHITENING_DEFAULT_COMPONENTS 256
#define SELFSUP_WHITENING_DEFAULT_EPSILON    1e-5

/* Fits a whitening to features (N, D), N >= 2. options is NULL for the
 * defaults or a spec "pca:components=256,epsilon=1e-5" (any subset of
 * keys): components >= 1 (a value above D keeps all D); epsilon in
 * [0, 1]. Features must be finite (SELFSUP_ERR_NUMERIC), and not all
 * equal (SELFSUP_ERR_NUMERIC: there is no direction to whiten). */
SELFSUP_API selfsup_status selfsup_whitening_fit(selfsup_whitening **out,
                                                 const selfsup_tensor *features,
                                                 const char *options);

/* A whitening from given values: mean (dim), projection (components, dim)
 * row-major, the W above; 1 <= components <= dim, every value finite. */
SELFSUP_API selfsup_status selfsup_whitening_create(selfsup_whitening **out,
                                                    int64_t dim,
                                                    int64_t components,
                                                    const float *mean,
                                                    const float *projection);

/* Frees w; NULL is accepted. */
SELFSUP_API void selfsup_whitening_destroy(selfsup_whitening *w);

SELFSUP_API selfsup_status selfsup_whitening_clone(selfsup_whitening **out,
                                                   const selfsup_whitening *w);

/* D, the width it takes, and K, the width it gives; 0 for NULL. */
SELFSUP_API int64_t selfsup_whitening_input_dim(const selfsup_whitening *w);
SELFSUP_API int64_t selfsup_whitening_components(const selfsup_whitening *w);

/* Copies the mean (input_dim values) and the projection (components x
 * input_dim values); either may be NULL. */
SELFSUP_API selfsup_status selfsup_whitening_read(const selfsup_whitening *w,
                                                  float *mean,
                                                  float *projection);

/* out (N, components) = whitened rows of in (N, input_dim), overwritten.
 * SELFSUP_ERR_SHAPE when the shapes do not fit. out is written a block of
 * rows at a time: after the checks and the one allocation, only a failure
 * of the backend's GEMM (SELFSUP_ERR_BACKEND) can leave it partly written. */
SELFSUP_API selfsup_status selfsup_whitening_apply(const selfsup_whitening *w,
                                                   const selfsup_tensor *in,
                                                   selfsup_tensor *out);

/* Records a copy of w on e, for the embedding calls and exports; w's
 * input_dim must be e's output_dim (SELFSUP_ERR_SHAPE). NULL forgets it. */
SELFSUP_API selfsup_status
selfsup_encoder_set_whitening(selfsup_encoder *e, const selfsup_whitening *w);

/* The whitening recorded on e, owned by e (valid until it is replaced or
 * e is destroyed), or NULL when none is (and for NULL). */
SELFSUP_API const selfsup_whitening *
selfsup_encoder_whitening(const selfsup_encoder *e);

/* The width of what the embedding calls give: the recorded whitening's
 * components, else selfsup_encoder_output_dim(e); 0 for NULL. */
SELFSUP_API int64_t selfsup_encoder_embedding_dim(const selfsup_encoder *e);

#ifdef __cplusplus
}
#endif

#endif
