/* VICReg (Bardes et al., ICLR 2022), as its reference code computes it on
 * x = online[0], y = online[1], both (N, D):
 *     L = sim mse(x, y) + var [h(x) + h(y)] / 2 + cov [c(x) + c(y)],
 *     h(x) = (1/D) sum_j relu(1 - sqrt(var_j(x) + eps)),
 *     c(x) = (1/D) sum_{j != k} C_jk(x)^2,  C(x) = xc^T xc / (N - 1),
 * var_j unbiased, xc = x with each column centred.
 *
 * The covariance term needs C only through sum C_jk^2 = |C|_F^2 and
 * xc C; with the Gram matrix K = xc xc^T / (N - 1) (N x N), |C|_F = |K|_F
 * and xc C = K xc. When D > N the Gram form costs 2 N^2 D multiply-adds
 * per view instead of 2 D^2 N (8x fewer at N = 256, D = 2048); otherwise
 * the D x D form is used. docs/objectives.md has the derivation. */
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

/* xc (n, d) = x - column means; variance (d) unbiased, in double. */
static void centre(float *xc, double *variance, double *mean, const float *x,
                   int64_t n, int64_t d)
{
    selfsup__column_moments(mean, variance, xc, x, n, d);
    for (int64_t j = 0; j < d; j++)
        variance[j] /= (double)(n - 1);
}

/* sum of squares of m (rows, cols); with zero_diagonal, the diagonal is
 * left out of the sum and set to 0 (square m only). Rows in parallel into
 * row_sum (rows), added in a fixed order. */
static double squares(float *m, double *row_sum, int64_t rows, int64_t cols,
                      int zero_diagonal)
{
#pragma omp parallel for schedule(static) if (rows * cols >=                   \
                                              SELFSUP__PARALLEL_WORK)
    for (int64_t j = 0; j < rows; j++) {
        float *row = m + j * cols;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < cols; k++)
            s += (double)row[k] * row[k];
        if (zero_diagonal) {
            s -= (double)row[j] * row[j];
            row[j] = 0.0f;
        }
        row_sum[j] = s;
    }
    double total = 0;
    for (int64_t j = 0; j < rows; j++)
        total += row_sum[j];
    return total;
}

/* Subtracts each column's mean from g (n, d): the backward of centring. */
static void subtract_column_means(float *g, double *sum, int64_t n, int64_t d)
{
    for (int64_t j = 0; j < d; j++)
        sum[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++)
            sum[j] += g[i * d + j];
    }
    for (int64_t j = 0; j < d; j++)
        sum[j] /= (double)n;
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++)
            g[i * d + j] = (float)(g[i * d + j] - sum[j]);
    }
}

/* One view's variance and covariance terms (before their coefficients),
 * and with g != NULL their gradient into g (n, d). m is the (d, d) or, in
 * the Gram form, (n, n) scratch; col (d) and row (max(n, d)) doubles. */
static selfsup_status vicreg_view(const selfsup_objective *o, const float *x,
                                  int64_t n, int64_t d, float *xc, float *m,
                                  double *col, double *row, double *hinge,
                                  double *offdiag, double *std_sum, float *g)
{
    const double var = o->p.vicreg.var, cov = o->p.vicreg.cov;
    const int gram = d > n;
    double *variance = col;
    centre(xc, variance, row, x, n, d);
    double h = 0, s = 0, diag_squares = 0;
    for (int64_t j = 0; j < d; j++) {
        double sd = sqrt(variance[j] + o->p.vicreg.eps);
        h += fmax(1.0 - sd, 0.0);
        s += sd;
        diag_squares += variance[j] * variance[j];
    }
    *hinge = h / (double)d;
    *std_sum = s;

    float inv = (float)(1.0 / (double)(n - 1));
    selfsup_status st;
    if (gram) { /* K (n, n) = xc xc^T / (n - 1); |C|_F^2 = |K|_F^2 */
        st = selfsup__sgemm(0, 1, n, n, d, inv, xc, d, xc, d, 0.0f, m, n);
        if (st != SELFSUP_OK)
            return st;
        *offdiag = squares(m, row, n, n, 0) - diag_squares;
    } else { /* C (d, d) = xc^T xc / (n - 1), its diagonal zeroed */
        st = selfsup__sgemm(1, 0, d, d, n, inv, xc, d, xc, d, 0.0f, m, d);
        if (st != SELFSUP_OK)
            return st;
        *offdiag = squares(m, row, d, d, 1);
    }
    if (!g)
        return SELFSUP_OK;

    /* dL/dxc of var/2 h: -var/(2D) [std_j < 1] xc_ij / ((N-1) std_j);
     * of cov c: coef xc C_off with coef = 4 cov / (D (N-1)), where
     * xc C_off = xc C - xc diag(C) = K xc - xc diag(variance) (Gram) */
    double coef = 4.0 * cov / ((double)d * (double)(n - 1));
    for (int64_t j = 0; j < d; j++) {
        double sd = sqrt(variance[j] + o->p.vicreg.eps);
        row[j] =
            (sd < 1.0 ? -var / (2.0 * (double)d * (double)(n - 1) * sd) : 0.0) -
            (gram ? coef * variance[j] : 0.0);
    }
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++)
            g[i * d + j] = (float)(row[j] * xc[i * d + j]);
    }
    if (cov != 0.0) {
        st = gram ? selfsup__sgemm(0, 0, n, d, n, (float)coef, m, n, xc, d,
                                   1.0f, g, d)
                  : selfsup__sgemm(0, 0, n, d, d, (float)coef, xc, d, m, d,
                                   1.0f, g, d);
        if (st != SELFSUP_OK)
            return st;
    }
    subtract_column_means(g, row, n, d);
    return SELFSUP_OK;
}

static selfsup_status vicreg_compute(const selfsup_objective *o,
                                     const selfsup__objective_batch *b,
                                     selfsup__objective_result *r)
{
    const double sim = o->p.vicreg.sim;
    int64_t n = b->n, d = b->d;
    int64_t side = d > n ? n : d; /* the Gram form's n, or d */
    size_t total = 0;
    size_t off_xc = selfsup__carve(&total, (size_t)(n * d) * sizeof(float));
    size_t off_m =
        selfsup__carve(&total, (size_t)(side * side) * sizeof(float));
    size_t off_col = selfsup__carve(&total, (size_t)d * sizeof(double));
    size_t off_row =
        selfsup__carve(&total, (size_t)(n > d ? n : d) * sizeof(double));
    char *base = selfsup__malloc(total);
    if (!base)
        return SS_OBJ_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "vicreg: cannot allocate %zu bytes of scratch "
                           "(N = %lld, D = %lld)",
                           total, (long long)n, (long long)d);

    double hinge[2], offdiag[2], std_sum[2];
    selfsup_status st = SELFSUP_OK;
    for (int v = 0; v < 2 && st == SELFSUP_OK; v++)
        st = vicreg_view(o, b->online[v], n, d, (float *)(base + off_xc),
                         (float *)(base + off_m), (double *)(base + off_col),
                         (double *)(base + off_row), &hinge[v], &offdiag[v],
                         &std_sum[v], r->grad ? r->grad[v] : NULL);
    selfsup__free(base);
    if (st != SELFSUP_OK)
        return st;

    const float *x = b->online[0], *y = b->online[1];
    double mse = 0;
#pragma omp simd reduction(+ : mse)
    for (int64_t i = 0; i < n * d; i++) {
        double diff = (double)x[i] - y[i];
        mse += diff * diff;
    }
    mse /= (double)(n * d);
    if (r->grad) {
        double w = 2.0 * sim / (double)(n * d);
#pragma omp simd
        for (int64_t i = 0; i < n * d; i++) {
            double g = w * ((double)x[i] - y[i]);
            r->grad[0][i] = (float)(r->grad[0][i] + g);
            r->grad[1][i] = (float)(r->grad[1][i] - g);
        }
    }

    double variance = (hinge[0] + hinge[1]) / 2.0;
    double covariance = (offdiag[0] + offdiag[1]) / (double)d;
    r->loss =
        sim * mse + o->p.vicreg.var * variance + o->p.vicreg.cov * covariance;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 0] = mse;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 1] = variance;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 2] = covariance;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 3] =
        (std_sum[0] + std_sum[1]) / (2.0 * (double)d);
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
