#include "probe_loss.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/gemm.h"

selfsup_status selfsup__probe_problem_init(
    selfsup__probe_problem *p, const float *x, const int32_t *labels, int64_t n,
    int64_t dim, int n_classes, double weight_decay, const char *where)
{
    memset(p, 0, sizeof *p);
    p->x = x;
    p->labels = labels;
    p->n = n;
    p->dim = dim;
    p->n_classes = n_classes;
    p->weight_decay = weight_decay;
    int64_t chunk = n < SELFSUP__PROBE_CHUNK ? n : SELFSUP__PROBE_CHUNK;
    size_t weights = (size_t)n_classes * (size_t)dim;
    p->w = selfsup__malloc(weights * sizeof *p->w);
    p->chunk_grad = selfsup__malloc(weights * sizeof *p->chunk_grad);
    p->dlogits =
        selfsup__malloc((size_t)chunk * (size_t)n_classes * sizeof(float));
    p->row_loss = selfsup__malloc((size_t)chunk * sizeof *p->row_loss);
    if (!p->w || !p->chunk_grad || !p->dlogits || !p->row_loss)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the probe's scratch (%d "
                             "classes, dim %lld)",
                             n_classes, (long long)dim);
    return SELFSUP_OK;
}

void selfsup__probe_problem_free(selfsup__probe_problem *p)
{
    selfsup__free(p->w);
    selfsup__free(p->chunk_grad);
    selfsup__free(p->dlogits);
    selfsup__free(p->row_loss);
    p->w = p->chunk_grad = p->dlogits = NULL;
    p->row_loss = NULL;
}

/* Row i of the chunk: z = logits + b in double, its cross-entropy with
 * label y, and dz = (softmax(z) - onehot(y)) / n written over the logits. */
static double softmax_cross_entropy_row(float *z_inout, const double *b,
                                        int n_classes, int32_t y, double inv_n)
{
    double top = -INFINITY;
    for (int c = 0; c < n_classes; c++) {
        double z = (double)z_inout[c] + b[c];
        if (z > top)
            top = z;
    }
    double sum = 0.0;
    for (int c = 0; c < n_classes; c++)
        sum += exp((double)z_inout[c] + b[c] - top);
    double log_sum = top + log(sum);
    double loss = log_sum - ((double)z_inout[y] + b[y]);
    for (int c = 0; c < n_classes; c++) {
        double prob = exp((double)z_inout[c] + b[c] - log_sum);
        z_inout[c] = (float)((prob - (c == y)) * inv_n);
    }
    return loss;
}

selfsup_status selfsup__probe_loss_grad(selfsup__probe_problem *p,
                                        const double *params, double *loss,
                                        double *grad)
{
    const int64_t dim = p->dim, n_weights = (int64_t)p->n_classes * dim;
    const int n_classes = p->n_classes;
    const double *b = params + n_weights;
    const double inv_n = 1.0 / (double)p->n;
    for (int64_t j = 0; j < n_weights; j++)
        p->w[j] = (float)params[j];
    if (grad)
        memset(grad, 0, (size_t)(n_weights + n_classes) * sizeof *grad);

    double data_loss = 0.0;
    for (int64_t i0 = 0; i0 < p->n; i0 += SELFSUP__PROBE_CHUNK) {
        int64_t rows =
            p->n - i0 < SELFSUP__PROBE_CHUNK ? p->n - i0 : SELFSUP__PROBE_CHUNK;
        const float *x = p->x + i0 * dim;
        /* logits (rows, C) = x (rows, dim) . W^T */
        SS_TRY(selfsup__sgemm(0, 1, rows, n_classes, dim, 1.0f, x, dim, p->w,
                              dim, 0.0f, p->dlogits, n_classes));
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; r++)
            p->row_loss[r] =
                softmax_cross_entropy_row(p->dlogits + r * n_classes, b,
                                          n_classes, p->labels[i0 + r], inv_n);
        for (int64_t r = 0; r < rows; r++) /* in order: reproducible */
            data_loss += p->row_loss[r];
        if (!grad)
            continue;
        /* dL/dW (C, dim) += dz^T (C, rows) . x (rows, dim) */
        SS_TRY(selfsup__sgemm(1, 0, n_classes, dim, rows, 1.0f, p->dlogits,
                              n_classes, x, dim, 0.0f, p->chunk_grad, dim));
        for (int64_t j = 0; j < n_weights; j++)
            grad[j] += p->chunk_grad[j];
        for (int64_t r = 0; r < rows; r++)
            for (int c = 0; c < n_classes; c++)
                grad[n_weights + c] += p->dlogits[r * n_classes + c];
    }

    double penalty = 0.0;
    for (int64_t j = 0; j < n_weights; j++) {
        penalty += params[j] * params[j];
        if (grad)
            grad[j] += p->weight_decay * params[j];
    }
    *loss = data_loss * inv_n + 0.5 * p->weight_decay * penalty;
    return SELFSUP_OK;
}
