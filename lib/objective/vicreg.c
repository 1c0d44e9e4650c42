/* VICReg (Bardes et al., ICLR 2022), as its reference code computes it on
 * x = online[0], y = online[1], both (N, D):
 *     L = sim mse(x, y) + var [h(x) + h(y)] / 2 + cov [c(x) + c(y)],
 *     h(x) = (1/D) sum_j relu(1 - sqrt(var_j(x) + eps)),
 *     c(x) = (1/D) sum_{j != k} C_jk(x)^2,  C(x) = xc^T xc / (N - 1),
 * var_j unbiased, xc = x with each column centred. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/gemm.h"
#include "objective_impl.h"

static selfsup_status vicreg_configure(selfsup_objective *o, selfsup__spec *s)
{
    o->p.vicreg.sim = 25.0;
    o->p.vicreg.var = 25.0;
    o->p.vicreg.cov = 1.0;
    o->p.vicreg.eps = 1e-4;
    SS_TRY(selfsup__spec_double(s, "sim", 0.0, 1e9, SS_SPEC_CLOSED,
                                &o->p.vicreg.sim));
    SS_TRY(selfsup__spec_double(s, "var", 0.0, 1e9, SS_SPEC_CLOSED,
                                &o->p.vicreg.var));
    SS_TRY(selfsup__spec_double(s, "cov", 0.0, 1e9, SS_SPEC_CLOSED,
                                &o->p.vicreg.cov));
    SS_TRY(selfsup__spec_double(s, "eps", 0.0, 1.0, SS_SPEC_OPEN_LO,
                                &o->p.vicreg.eps));
    return SELFSUP_OK;
}

/* xc (n, d) = x - column means; std (d) = sqrt(unbiased var + eps). */
static void centre(float *xc, double *stdev, double *mean, const float *x,
                   int64_t n, int64_t d, double eps)
{
    for (int64_t j = 0; j < d; j++)
        mean[j] = stdev[j] = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            mean[j] += x[i * d + j];
    for (int64_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            double dev = x[i * d + j] - mean[j];
            xc[i * d + j] = (float)dev;
            stdev[j] += dev * dev;
        }
    for (int64_t j = 0; j < d; j++)
        stdev[j] = sqrt(stdev[j] / (double)(n - 1) + eps);
}

/* Subtracts each column's mean from g (n, d): the backward of centring. */
static void subtract_column_means(float *g, double *sum, int64_t n,
                                  int64_t d)
{
    for (int64_t j = 0; j < d; j++)
        sum[j] = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            sum[j] += g[i * d + j];
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            g[i * d + j] = (float)(g[i * d + j] - sum[j] / (double)n);
}

static selfsup_status vicreg_compute(const selfsup_objective *o,
                                     const selfsup__objective_batch *b,
                                     selfsup__objective_result *r)
{
    const double sim = o->p.vicreg.sim, var = o->p.vicreg.var,
                 cov = o->p.vicreg.cov, eps = o->p.vicreg.eps;
    int64_t n = b->n, d = b->d;
    size_t total = 0;
    size_t off_xc[2], off_std[2];
    for (int v = 0; v < 2; v++) {
        off_xc[v] = selfsup__carve(&total, (size_t)(n * d) * sizeof(float));
        off_std[v] = selfsup__carve(&total, (size_t)d * sizeof(double));
    }
    size_t off_cov = selfsup__carve(&total, (size_t)(d * d) * sizeof(float));
    size_t off_sum = selfsup__carve(&total, (size_t)d * sizeof(double));
    char *base = selfsup__malloc(total);
    if (!base)
        return SS_OBJ_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "vicreg: cannot allocate %zu bytes of scratch "
                           "(N = %lld, D = %lld)",
                           total, (long long)n, (long long)d);
    float *cmat = (float *)(base + off_cov);
    double *sum = (double *)(base + off_sum);

    double hinge[2] = {0, 0}, offdiag[2] = {0, 0}, std_mean = 0;
    selfsup_status st = SELFSUP_OK;
    for (int v = 0; v < 2 && st == SELFSUP_OK; v++) {
        float *xc = (float *)(base + off_xc[v]);
        double *stdev = (double *)(base + off_std[v]);
        centre(xc, stdev, sum, b->online[v], n, d, eps);
        for (int64_t j = 0; j < d; j++) {
            hinge[v] += fmax(1.0 - stdev[j], 0.0);
            std_mean += stdev[j];
        }
        hinge[v] /= (double)d;

        /* C (d, d) = xc^T xc / (n - 1) */
        st = selfsup__sgemm(1, 0, d, d, n, (float)(1.0 / (double)(n - 1)), xc,
                            d, xc, d, 0.0f, cmat, d);
        if (st != SELFSUP_OK)
            break;
        for (int64_t j = 0; j < d; j++) {
            for (int64_t k = 0; k < d; k++)
                if (k != j)
                    offdiag[v] += (double)cmat[j * d + k] * cmat[j * d + k];
            cmat[j * d + j] = 0.0f; /* C off the diagonal, for backward */
        }
        if (!r->grad)
            continue;
        float *g = r->grad[v];
        /* d/dxc of var/2 h: -var/(2D) [std_j < 1] xc_ij / ((N-1) std_j) */
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < d; j++)
                g[i * d + j] =
                    stdev[j] < 1.0
                        ? (float)(-var / (2.0 * (double)d) * xc[i * d + j] /
                                  ((double)(n - 1) * stdev[j]))
                        : 0.0f;
        /* d/dxc of cov c = 2 xc (dL/dC) / (N - 1), dL/dC = 2 cov/D C_off */
        if (cov != 0.0)
            st = selfsup__sgemm(0, 0, n, d, d,
                                (float)(4.0 * cov /
                                        ((double)d * (double)(n - 1))),
                                xc, d, cmat, d, 1.0f, g, d);
        if (st == SELFSUP_OK)
            subtract_column_means(g, sum, n, d);
    }
    if (st != SELFSUP_OK) {
        selfsup__free(base);
        return st;
    }

    const float *x = b->online[0], *y = b->online[1];
    double mse = 0;
    for (int64_t i = 0; i < n * d; i++) {
        double diff = (double)x[i] - y[i];
        mse += diff * diff;
    }
    mse /= (double)(n * d);
    if (r->grad) {
        double w = 2.0 * sim / (double)(n * d);
        for (int64_t i = 0; i < n * d; i++) {
            double g = w * ((double)x[i] - y[i]);
            r->grad[0][i] = (float)(r->grad[0][i] + g);
            r->grad[1][i] = (float)(r->grad[1][i] - g);
        }
    }
    selfsup__free(base);

    double variance = (hinge[0] + hinge[1]) / 2.0;
    double covariance = (offdiag[0] + offdiag[1]) / (double)d;
    r->loss = sim * mse + var * variance + cov * covariance;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 0] = mse;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 1] = variance;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 2] = covariance;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 3] = std_mean / (2.0 * (double)d);
    return SELFSUP_OK;
}

static const char *const vicreg_diag[] = {"invariance", "variance",
                                          "covariance", "std"};

const selfsup__objective_kind selfsup__objective_vicreg = {
    .name = "vicreg",
    .min_views = 2,
    .max_views = 2,
    .target = SELFSUP_TARGET_NONE,
    .diag_count = 4,
    .diag_names = vicreg_diag,
    .configure = vicreg_configure,
    .compute = vicreg_compute};
