/* Internal: the linear probe's objective and its gradient.
 *
 *   L(W, b) = 1/n sum_i [logsumexp(z_i) - z_i[y_i]] + weight_decay/2 |W|^2,
 *   z_i = W x_i + b,
 *
 * on standardised features x (n, dim), W (n_classes, dim), b (n_classes);
 * the bias is not decayed. Rows go through in chunks: per chunk one GEMM for
 * the logits and one for the weight gradient, the chunks' sums gathered in
 * double so the float GEMMs never add up more than a chunk of rows. Workers
 * (OpenMP threads) take whole chunks with single-threaded GEMMs and keep
 * their own sums, added up in worker order at the end: one barrier per
 * evaluation, and the same bits for the same thread count. */
#ifndef SELFSUP_EVAL_PROBE_LOSS_H
#define SELFSUP_EVAL_PROBE_LOSS_H

#include <stdint.h>

#include "selfsup/status.h"

/* The row count of the chunks. */
enum { SELFSUP__PROBE_CHUNK = 4096 };

typedef struct selfsup__probe_worker {
    float *dlogits;    /* (chunk, n_classes): logits, then dL/dlogits */
    float *chunk_grad; /* (n_classes, dim): one chunk's dL/dW */
    double *grad;      /* (params): this worker's sum over its chunks */
    double *exps;      /* (n_classes): one row's softmax scratch */
    double loss;       /* this worker's sum of row losses */
    selfsup_status status;
    char message[256]; /* when status is a failure */
} selfsup__probe_worker;

typedef struct selfsup__probe_problem {
    const float *x;        /* (n, dim), standardised */
    const int32_t *labels; /* (n), in [0, n_classes) */
    int64_t n, dim;
    int n_classes;
    double weight_decay;
    int n_workers;
    float *w; /* (n_classes, dim): W as floats for the GEMMs */
    selfsup__probe_worker *workers; /* (n_workers) */
} selfsup__probe_problem;

/* The number of parameters: W then b, n_classes * (dim + 1). */
static inline int64_t selfsup__probe_param_count(int64_t dim, int n_classes)
{
    return (int64_t)n_classes * (dim + 1);
}

/* Fills p and allocates scratch for selfsup__num_threads() workers (where
 * names the caller in messages); free with selfsup__probe_problem_free,
 * also after a failure. */
selfsup_status selfsup__probe_problem_init(
    selfsup__probe_problem *p, const float *x, const int32_t *labels, int64_t n,
    int64_t dim, int n_classes, double weight_decay, const char *where);
void selfsup__probe_problem_free(selfsup__probe_problem *p);

/* *loss = L(params) and, when grad is not NULL, grad = dL/dparams; params
 * and grad are laid out as W (n_classes, dim) row-major, then b. */
selfsup_status selfsup__probe_loss_grad(selfsup__probe_problem *p,
                                        const double *params, double *loss,
                                        double *grad);

#endif
