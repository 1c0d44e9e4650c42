/* Barlow Twins (Zbontar et al., ICML 2021):
 *     L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2,
 *     C = z0^T z1 / N,  z_v = (online[v] - mean) / sqrt(biased var + eps)
 * per column. eps = 0 (the default) is the contract's "biased std"; the
 * reference code's BatchNorm1d(affine=False) is eps = 1e-5. */
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
    for (int64_t j = 0; j < d; j++)
        mean[j] = inv_std[j] = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            mean[j] += x[i * d + j];
    for (int64_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            double dev = x[i * d + j] - mean[j];
            inv_std[j] += dev * dev;
        }
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
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            z[i * d + j] = (float)((x[i * d + j] - mean[j]) * inv_std[j]);
    return SELFSUP_OK;
}

/* In place: g (n, d) = dL/dz -> dL/dx for z = (x - mean) * inv_std,
 * dx = inv_std (g - mean(g) - z mean(g z)) per column. */
static void standardise_backward(float *g, const float *z,
                                 const double *inv_std, double *mg,
                                 double *mgz, int64_t n, int64_t d)
{
    for (int64_t j = 0; j < d; j++)
        mg[j] = mgz[j] = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            mg[j] += g[i * d + j];
            mgz[j] += (double)g[i * d + j] * z[i * d + j];
        }
    for (int64_t j = 0; j < d; j++) {
        mg[j] /= (double)n;
        mgz[j] /= (double)n;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            g[i * d + j] = (float)(inv_std[j] * (g[i * d + j] - mg[j] -
                                                  z[i * d + j] * mgz[j]));
}

static selfsup_status barlow_compute(const selfsup_objective *o,
                                     const selfsup__objective_batch *b,
                                     selfsup__objective_result *r)
{
    const double lambda = o->p.barlow.lambda;
    int64_t n = b->n, d = b->d;
    size_t total = 0, off_z[2], off_inv[2];
    for (int v = 0; v < 2; v++) {
        off_z[v] = selfsup__carve(&total, (size_t)(n * d) * sizeof(float));
        off_inv[v] = selfsup__carve(&total, (size_t)d * sizeof(double));
    }
    size_t off_c = selfsup__carve(&total, (size_t)(d * d) * sizeof(float));
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
    float *c = (float *)(base + off_c);
    double *tmp = (double *)(base + off_tmp);

    selfsup_status st = SELFSUP_OK;
    for (int v = 0; v < 2 && st == SELFSUP_OK; v++)
        st = standardise(z[v], inv_std[v], tmp, b->online[v], n, d,
                         o->p.barlow.eps, v);
    /* C (d, d) = z0^T z1 / N */
    if (st == SELFSUP_OK)
        st = selfsup__sgemm(1, 0, d, d, n, (float)(1.0 / (double)n), z[0], d,
                            z[1], d, 0.0f, c, d);
    if (st != SELFSUP_OK) {
        selfsup__free(base);
        return st;
    }
    double on = 0, off = 0;
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double cij = c[i * d + j];
            if (i == j) {
                on += (1.0 - cij) * (1.0 - cij);
                c[i * d + j] = (float)(-2.0 * (1.0 - cij)); /* dL/dC */
            } else {
                off += cij * cij;
                c[i * d + j] = (float)(2.0 * lambda * cij);
            }
        }
    if (r->grad) {
        /* dL/dz0 = z1 G^T / N, dL/dz1 = z0 G / N with G = dL/dC */
        float alpha = (float)(1.0 / (double)n);
        st = selfsup__sgemm(0, 1, n, d, d, alpha, z[1], d, c, d, 0.0f,
                            r->grad[0], d);
        if (st == SELFSUP_OK)
            st = selfsup__sgemm(0, 0, n, d, d, alpha, z[0], d, c, d, 0.0f,
                                r->grad[1], d);
        for (int v = 0; v < 2 && st == SELFSUP_OK; v++)
            standardise_backward(r->grad[v], z[v], inv_std[v], tmp, tmp + d,
                                 n, d);
    }
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
