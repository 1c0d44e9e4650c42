#include "probe_loss.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/gemm.h"
#include "core/threads.h"

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
    p->n_workers = selfsup__num_threads();
    int64_t chunk = n < SELFSUP__PROBE_CHUNK ? n : SELFSUP__PROBE_CHUNK;
    size_t weights = (size_t)n_classes * (size_t)dim;
    size_t params = (size_t)selfsup__probe_param_count(dim, n_classes);
    p->w = selfsup__malloc(weights * sizeof *p->w);
    p->workers = selfsup__calloc((size_t)p->n_workers, sizeof *p->workers);
    int ready = p->w && p->workers;
    for (int t = 0; ready && t < p->n_workers; t++) {
        selfsup__probe_worker *wk = &p->workers[t];
        wk->dlogits =
            selfsup__malloc((size_t)chunk * (size_t)n_classes * sizeof(float));
        wk->chunk_grad = selfsup__malloc(weights * sizeof(float));
        wk->grad = selfsup__malloc(params * sizeof(double));
        wk->exps = selfsup__malloc((size_t)n_classes * sizeof(double));
        ready = wk->dlogits && wk->chunk_grad && wk->grad && wk->exps;
    }
    if (!ready)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the probe's scratch (%d "
                             "classes, dim %lld, %d threads)",
                             n_classes, (long long)dim, p->n_workers);
    return SELFSUP_OK;
}

void selfsup__probe_problem_free(selfsup__probe_problem *p)
{
    for (int t = 0; p->workers && t < p->n_workers; t++) {
        selfsup__free(p->workers[t].dlogits);
        selfsup__free(p->workers[t].chunk_grad);
        selfsup__free(p->workers[t].grad);
        selfsup__free(p->workers[t].exps);
    }
    selfsup__free(p->workers);
    selfsup__free(p->w);
    p->workers = NULL;
    p->w = NULL;
}

/* Row i of the chunk: z = logits + b in double, its cross-entropy with
 * label y, and dz = (softmax(z) - onehot(y)) / n written over the logits;
 * e (n_classes) is scratch for exp(z - max z), one exp per class. */
static double softmax_cross_entropy_row(float *z_inout, double *e,
                                        const double *b, int n_classes,
                                        int32_t y, double inv_n)
{
    double top = -INFINITY;
    for (int c = 0; c < n_classes; c++) {
        e[c] = (double)z_inout[c] + b[c];
        if (e[c] > top)
            top = e[c];
    }
    double z_label = e[y], sum = 0.0;
    for (int c = 0; c < n_classes; c++) {
        e[c] = exp(e[c] - top);
        sum += e[c];
    }
    double inv_sum = 1.0 / sum;
    for (int c = 0; c < n_classes; c++)
        z_inout[c] = (float)((e[c] * inv_sum - (c == y)) * inv_n);
    return top + log(sum) - z_label;
}

/* Adds chunk [i0, i0 + rows)'s loss (and gradient) to the worker's sums.
 * Runs on one thread: GEMMs inside a parallel region are single-threaded. */
static selfsup_status chunk_loss_grad(const selfsup__probe_problem *p,
                                      selfsup__probe_worker *wk, int64_t i0,
                                      int64_t rows, const double *b,
                                      int with_grad)
{
    const int64_t dim = p->dim, n_weights = (int64_t)p->n_classes * dim;
    const int n_classes = p->n_classes;
    const double inv_n = 1.0 / (double)p->n;
    const float *x = p->x + i0 * dim;
    /* logits (rows, C) = x (rows, dim) . W^T */
    SS_TRY(selfsup__sgemm(0, 1, rows, n_classes, dim, 1.0f, x, dim, p->w, dim,
                          0.0f, wk->dlogits, n_classes));
    for (int64_t r = 0; r < rows; r++)
        wk->loss +=
            softmax_cross_entropy_row(wk->dlogits + r * n_classes, wk->exps, b,
                                      n_classes, p->labels[i0 + r], inv_n);
    if (!with_grad)
        return SELFSUP_OK;
    /* dL/dW (C, dim) += dz^T (C, rows) . x (rows, dim) */
    SS_TRY(selfsup__sgemm(1, 0, n_classes, dim, rows, 1.0f, wk->dlogits,
                          n_classes, x, dim, 0.0f, wk->chunk_grad, dim));
    for (int64_t j = 0; j < n_weights; j++)
        wk->grad[j] += wk->chunk_grad[j];
    for (int64_t r = 0; r < rows; r++)
        for (int c = 0; c < n_classes; c++)
            wk->grad[n_weights + c] += wk->dlogits[r * n_classes + c];
    return SELFSUP_OK;
}

selfsup_status selfsup__probe_loss_grad(selfsup__probe_problem *p,
                                        const double *params, double *loss,
                                        double *grad)
{
    const int64_t dim = p->dim, n_weights = (int64_t)p->n_classes * dim;
    const int64_t n_params = n_weights + p->n_classes;
    const int64_t n_chunks =
        (p->n + SELFSUP__PROBE_CHUNK - 1) / SELFSUP__PROBE_CHUNK;
    const double *b = params + n_weights;
    for (int64_t j = 0; j < n_weights; j++)
        p->w[j] = (float)params[j];
    for (int t = 0; t < p->n_workers; t++) {
        selfsup__probe_worker *wk = &p->workers[t];
        wk->loss = 0.0;
        wk->status = SELFSUP_OK;
        if (grad)
            memset(wk->grad, 0, (size_t)n_params * sizeof *wk->grad);
    }
    selfsup__threads_apply();
/* A static schedule: which worker adds which chunk, and so the
 * rounding of the sums, depends on the thread count only. */
#pragma omp parallel for num_threads(p->n_workers) schedule(static)
    for (int64_t c = 0; c < n_chunks; c++) {
        selfsup__probe_worker *wk = &p->workers[omp_get_thread_num()];
        if (wk->status != SELFSUP_OK)
            continue;
        int64_t i0 = c * SELFSUP__PROBE_CHUNK;
        int64_t rows =
            p->n - i0 < SELFSUP__PROBE_CHUNK ? p->n - i0 : SELFSUP__PROBE_CHUNK;
        wk->status = chunk_loss_grad(p, wk, i0, rows, b, grad != NULL);
        if (wk->status != SELFSUP_OK)
            snprintf(wk->message, sizeof wk->message, "%s",
                     selfsup__last_detail());
    }

    double data_loss = 0.0;
    if (grad)
        memset(grad, 0, (size_t)n_params * sizeof *grad);
    for (int t = 0; t < p->n_workers; t++) {
        const selfsup__probe_worker *wk = &p->workers[t];
        if (wk->status != SELFSUP_OK)
            return SS_FAIL(wk->status, "%s", wk->message);
        data_loss += wk->loss;
        for (int64_t j = 0; grad && j < n_params; j++)
            grad[j] += wk->grad[j];
    }
    double penalty = 0.0;
    for (int64_t j = 0; j < n_weights; j++) {
        penalty += params[j] * params[j];
        if (grad)
            grad[j] += p->weight_decay * params[j];
    }
    *loss = data_loss / (double)p->n + 0.5 * p->weight_decay * penalty;
    return SELFSUP_OK;
}
