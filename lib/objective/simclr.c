/* SimCLR's NT-Xent (Chen et al., ICML 2020) on z = [online[0]; online[1]]
 * (2N, D): logits l_ij = cos(z_i, z_j) / temperature for j != i, row i's
 * positive is its other view p(i) = (i + N) mod 2N, and
 *     L = (1/2N) sum_i [log sum_{j != i} exp(l_ij) - l_{i p(i)}]. */
#include <math.h>

#include "core/alloc.h"
#include "core/gemm.h"
#include "objective_impl.h"

static selfsup_status simclr_configure(selfsup_objective *o, selfsup__spec *s)
{
    o->p.simclr.temperature = 0.5;
    return selfsup__spec_double(s, "temperature", 1e-4, 1e4, SS_SPEC_CLOSED,
                                &o->p.simclr.temperature);
}

static selfsup_status simclr_compute(const selfsup_objective *o,
                                     const selfsup__objective_batch *b,
                                     selfsup__objective_result *r)
{
    const double tau = o->p.simclr.temperature;
    int64_t n = b->n, d = b->d, m = 2 * b->n;
    size_t total = 0;
    size_t off_z = selfsup__carve(&total, (size_t)(m * d) * sizeof(float));
    size_t off_norm = selfsup__carve(&total, (size_t)m * sizeof(double));
    size_t off_s = selfsup__carve(&total, (size_t)(m * m) * sizeof(float));
    size_t off_row = selfsup__carve(&total, 3 * (size_t)m * sizeof(double));
    char *base = selfsup__malloc(total);
    if (!base)
        return SS_OBJ_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "simclr: cannot allocate %zu bytes of scratch "
                           "(N = %lld, D = %lld)",
                           total, (long long)n, (long long)d);
    float *z = (float *)(base + off_z);
    double *norm = (double *)(base + off_norm);
    float *s = (float *)(base + off_s);
    double *row_loss = (double *)(base + off_row);
    double *row_pos = row_loss + m, *row_top = row_pos + m;

    for (int v = 0; v < 2; v++) {
        selfsup__row_norms(norm + v * n, b->online[v], n, d);
        selfsup__rows_normalize(z + v * n * d, b->online[v], norm + v * n, n,
                                d);
    }
    /* logits (2N, 2N) = z z^T / tau */
    selfsup_status st = selfsup__sgemm(0, 1, m, m, d, (float)(1.0 / tau), z, d,
                                       z, d, 0.0f, s, m);
    if (st != SELFSUP_OK) {
        selfsup__free(base);
        return st;
    }
    float *grad = r->grad ? r->grad[0] : NULL; /* views back to back */
#pragma omp parallel for schedule(static) if (m * m >= SELFSUP__PARALLEL_WORK)
    for (int64_t i = 0; i < m; i++) {
        float *li = s + i * m;
        int64_t pos = (i + n) % m;
        double top = -INFINITY, other = -INFINITY;
        for (int64_t j = 0; j < m; j++)
            if (j != i) {
                double l = li[j];
                top = l > top ? l : top;
                if (j != pos)
                    other = l > other ? l : other;
            }
        double lpos = li[pos];
        row_pos[i] = lpos * tau;
        row_top[i] = lpos >= other ? 1.0 : 0.0;
        /* exp(l - max) once, kept in the row for the gradient */
        double sum = 0;
        for (int64_t j = 0; j < m; j++) {
            double e = j == i ? 0.0 : exp(li[j] - top);
            sum += e;
            li[j] = (float)e;
        }
        row_loss[i] = top + log(sum) - lpos;
        if (grad) { /* row i of G = dL/dlogits: (softmax - onehot) / 2N */
            double scale = 1.0 / (sum * (double)m);
            for (int64_t j = 0; j < m; j++)
                li[j] = (float)(li[j] * scale);
            li[pos] = (float)(li[pos] - 1.0 / (double)m);
        }
    }
    double loss = 0, pos_sim = 0, top1 = 0;
    for (int64_t i = 0; i < m; i++) {
        loss += row_loss[i];
        pos_sim += row_pos[i];
        top1 += row_top[i];
    }
    if (grad) {
/* logits = z z^T / tau, so dL/dz = (G + G^T) z / tau */
#pragma omp parallel for schedule(static) if (m * m >= SELFSUP__PARALLEL_WORK)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = i + 1; j < m; j++) {
                float h = s[i * m + j] + s[j * m + i];
                s[i * m + j] = s[j * m + i] = h;
            }
        st = selfsup__sgemm(0, 0, m, d, m, (float)(1.0 / tau), s, m, z, d, 0.0f,
                            grad, d);
        if (st == SELFSUP_OK) {
#pragma omp parallel for schedule(static) if (m * d >= SELFSUP__PARALLEL_WORK)
            for (int64_t i = 0; i < m; i++) {
                const float *x = b->online[i / n] + (i % n) * d;
                selfsup__normalize_backward_row(grad + i * d, x, norm[i],
                                                grad + i * d, NULL, d);
            }
        }
    }
    selfsup__free(base);
    if (st != SELFSUP_OK)
        return st;
    r->loss = loss / (double)m;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 0] = pos_sim / (double)m;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 1] = top1 / (double)m;
    return SELFSUP_OK;
}

static const char *const simclr_diag[] = {"pos_sim", "top1"};

const selfsup__objective_kind selfsup__objective_simclr = {
    .name = "simclr",
    .min_views = 2,
    .max_views = 2,
    .target = SELFSUP_TARGET_NONE,
    .diag_count = 2,
    .diag_names = simclr_diag,
    .configure = simclr_configure,
    .compute = simclr_compute};
