/* Barlow Twins (Zbontar et al., ICML 2021):
 *     L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2,
 *     C = z0^T z1 / N,  z_v = (online[v] - mean) / sqrt(biased var + eps)
 * per column. eps = 0 (the default) is the contract's "biased std"; the
 * reference code's BatchNorm1d(affine=False) is eps = 1e-5.
 *
 * Two ways to the same numbers: through the D x D matrix C, or, when
 * D > N, through the N x N Gram matrices of the views, which never forms C
 * (docs/objectives.md). */
#include <math.h>

#include "core/alloc.h"
#include "core/gemm.h"
#include "objective_impl.h"

static selfsup_status barlow_configure(selfsup_objective *o, selfsup__spec *s)
{
    o->p.barlow.lambda = 0.0051;
    o->p.barlow.eps = 0.0;
    SS_TRY(selfsup__spec_double(s, "lambda", 0.0, 1e9, SS_SPEC_CLOSED,
                                &o->p.barlow.lambda));
    SS_TRY(selfsup__spec_double(s, "eps", 0.0, 1.0, SS_SPEC_CLOSED,
                                &o->p.barlow.eps));
    return SELFSUP_OK;
}

/* z (n, d) = standardised columns of x; inv_std (d) = 1/sqrt(var + eps).
 * Fails when a column's scale is zero (constant column with eps = 0). */
static selfsup_status standardise(float *z, double *inv_std, double *mean,
                                  const float *x, int64_t n, int64_t d,
                                  double eps, int view)
{
    /* inv_std first holds the sums of squared deviations */
    selfsup__column_moments(mean, inv_std, NULL, x, n, d);
    for (int64_t j = 0; j < d; j++) {
        double scale = sqrt(inv_std[j] / (double)n + eps);
        if (!(scale > 0.0))
            return SS_OBJ_FAIL(SELFSUP_ERR_NUMERIC,
                               "barlow: column %lld of online[%d] is "
                               "constant over the batch, so standardising it "
                               "divides by zero (give barlow:eps > 0)",
                               (long long)j, view);
        inv_std[j] = 1.0 / scale;
    }
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++)
            z[i * d + j] = (float)((x[i * d + j] - mean[j]) * inv_std[j]);
    }
    return SELFSUP_OK;
}

/* In place: g (n, d) = dL/dz -> dL/dx for z = (x - mean) * inv_std,
 * dx = inv_std (g - mean(g) - z mean(g z)) per column. */
static void standardise_backward(float *g, const float *z,
                                 const double *inv_std, double *mg, double *mgz,
                                 int64_t n, int64_t d)
{
    for (int64_t j = 0; j < d; j++)
        mg[j] = mgz[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++) {
            mg[j] += g[i * d + j];
            mgz[j] += (double)g[i * d + j] * z[i * d + j];
        }
    }
    for (int64_t j = 0; j < d; j++) {
        mg[j] /= (double)n;
        mgz[j] /= (double)n;
    }
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++)
            g[i * d + j] = (float)(inv_std[j] * (g[i * d + j] - mg[j] -
                                                 z[i * d + j] * mgz[j]));
    }
}

/* The D x D form: C (d, d) = z0^T z1 / N, the loss terms, and the
 * gradients dL/dz0 = z1 G^T / N, dL/dz1 = z0 G / N with G = dL/dC. */
static selfsup_status barlow_cross(float *const z[2], int64_t n, int64_t d,
                                   double lambda, float *c, double *tmp,
                                   float **grad, double *on, double *off)
{
    float alpha = (float)(1.0 / (double)n);
    SS_TRY(selfsup__sgemm(1, 0, d, d, n, alpha, z[0], d, z[1], d, 0.0f, c, d));
    /* the loss terms by rows (in parallel, added in a fixed order), and C
     * turned into G in place */
    double *row_on = tmp, *row_off = tmp + d;
#pragma omp parallel for schedule(static) if (d * d >= SELFSUP__PARALLEL_WORK)
    for (int64_t i = 0; i < d; i++) {
        float *row = c + i * d;
        double cii = row[i], s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < d; j++) {
            s += (double)row[j] * row[j];
            row[j] = (float)(2.0 * lambda * row[j]);
        }
        row_off[i] = s - cii * cii;
        row_on[i] = (1.0 - cii) * (1.0 - cii);
        row[i] = (float)(-2.0 * (1.0 - cii));
    }
    *on = *off = 0;
    for (int64_t i = 0; i < d; i++) {
        *on += row_on[i];
        *off += row_off[i];
    }
    if (!grad)
        return SELFSUP_OK;
    SS_TRY(
        selfsup__sgemm(0, 1, n, d, d, alpha, z[1], d, c, d, 0.0f, grad[0], d));
    return selfsup__sgemm(0, 0, n, d, d, alpha, z[0], d, c, d, 0.0f, grad[1],
                          d);
}

/* The Gram form, for D > N: with K_v = z_v z_v^T (n, n),
 *   sum_ij C_ij^2 = sum_ab K0_ab K1_ab / N^2,  C_ii = (1/N) z0[:, i].z1[:, i],
 * and, since G = 2 lambda C + diag(g), g_i = -2 (1 - C_ii) - 2 lambda C_ii,
 *   dL/dz0 = z1 G^T / N = 2 lambda K1 z0 / N^2 + z1 diag(g) / N,
 *   dL/dz1 = z0 G / N   = 2 lambda K0 z1 / N^2 + z0 diag(g) / N. */
static selfsup_status barlow_gram(float *const z[2], int64_t n, int64_t d,
                                  double lambda, float *k, double *tmp,
                                  float **grad, double *on, double *off)
{
    float *k0 = k, *k1 = k + n * n;
    double *cdiag = tmp, *row_sum = tmp + d; /* d and n <= d doubles */
    for (int64_t i = 0; i < d; i++)
        cdiag[i] = 0.0;
    for (int64_t a = 0; a < n; a++) {
#pragma omp simd
        for (int64_t i = 0; i < d; i++)
            cdiag[i] += (double)z[0][a * d + i] * z[1][a * d + i];
    }
    SS_TRY(selfsup__sgemm(0, 1, n, n, d, 1.0f, z[0], d, z[0], d, 0.0f, k0, n));
    SS_TRY(selfsup__sgemm(0, 1, n, n, d, 1.0f, z[1], d, z[1], d, 0.0f, k1, n));
#pragma omp parallel for schedule(static) if (n * n >= SELFSUP__PARALLEL_WORK)
    for (int64_t a = 0; a < n; a++) {
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t b = 0; b < n; b++)
            s += (double)k0[a * n + b] * k1[a * n + b];
        row_sum[a] = s;
    }
    double frobenius = 0;
    for (int64_t a = 0; a < n; a++)
        frobenius += row_sum[a];
    frobenius /= (double)n * (double)n;
    *on = 0;
    double diagonal = 0;
    for (int64_t i = 0; i < d; i++) {
        cdiag[i] /= (double)n;
        *on += (1.0 - cdiag[i]) * (1.0 - cdiag[i]);
        diagonal += cdiag[i] * cdiag[i];
        /* from here on cdiag holds g / N */
        cdiag[i] =
            (-2.0 * (1.0 - cdiag[i]) - 2.0 * lambda * cdiag[i]) / (double)n;
    }
    *off = frobenius - diagonal;
    if (!grad)
        return SELFSUP_OK;
    for (int v = 0; v < 2; v++) {
        const float *other = z[1 - v];
        float *g = grad[v];
        for (int64_t a = 0; a < n; a++) {
#pragma omp simd
            for (int64_t i = 0; i < d; i++)
                g[a * d + i] = (float)(cdiag[i] * other[a * d + i]);
        }
        SS_TRY(selfsup__sgemm(0, 0, n, d, n,
                              (float)(2.0 * lambda / ((double)n * (double)n)),
                              v == 0 ? k1 : k0, n, z[v], d, 1.0f, g, d));
    }
    return SELFSUP_OK;
}

static selfsup_status barlow_compute(const selfsup_objective *o,
                                     const selfsup__objective_batch *b,
                                     selfsup__objective_result *r)
{
    const double lambda = o->p.barlow.lambda;
    int64_t n = b->n, d = b->d;
    const int gram = d > n; /* 4 N^2 D multiply-adds instead of 3 D^2 N */
    size_t total = 0, off_z[2], off_inv[2];
    for (int v = 0; v < 2; v++) {
        off_z[v] = selfsup__carve(&total, (size_t)(n * d) * sizeof(float));
        off_inv[v] = selfsup__carve(&total, (size_t)d * sizeof(double));
    }
    size_t off_m = selfsup__carve(
        &total, (gram ? 2 * (size_t)(n * n) : (size_t)(d * d)) * sizeof(float));
    size_t off_tmp = selfsup__carve(&total, 2 * (size_t)d * sizeof(double));
    char *base = selfsup__malloc(total);
    if (!base)
        return SS_OBJ_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "barlow: cannot allocate %zu bytes of scratch "
                           "(N = %lld, D = %lld)",
                           total, (long long)n, (long long)d);
    float *z[2] = {(float *)(base + off_z[0]), (float *)(base + off_z[1])};
    double *inv_std[2] = {(double *)(base + off_inv[0]),
                          (double *)(base + off_inv[1])};
    float *m = (float *)(base + off_m);
    double *tmp = (double *)(base + off_tmp);

    selfsup_status st = SELFSUP_OK;
    for (int v = 0; v < 2 && st == SELFSUP_OK; v++)
        st = standardise(z[v], inv_std[v], tmp, b->online[v], n, d,
                         o->p.barlow.eps, v);
    double on = 0, off = 0;
    if (st == SELFSUP_OK)
        st = gram ? barlow_gram(z, n, d, lambda, m, tmp, r->grad, &on, &off)
                  : barlow_cross(z, n, d, lambda, m, tmp, r->grad, &on, &off);
    for (int v = 0; r->grad && v < 2 && st == SELFSUP_OK; v++)
        standardise_backward(r->grad[v], z[v], inv_std[v], tmp, tmp + d, n, d);
    selfsup__free(base);
    if (st != SELFSUP_OK)
        return st;
    r->loss = on + lambda * off;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 0] = on;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 1] = off;
    return SELFSUP_OK;
}

static const char *const barlow_diag[] = {"on_diag", "off_diag"};

const selfsup__objective_kind selfsup__objective_barlow = {
    .name = "barlow",
    .min_views = 2,
    .max_views = 2,
    .target = SELFSUP_TARGET_NONE,
    .diag_count = 2,
    .diag_names = barlow_diag,
    .configure = barlow_configure,
    .compute = barlow_compute};
