/* The per-row kernels of the differentiable sorting network. Each pass is
 * one loop over the comparators; derivations in docs/objectives.md. */
#include <math.h>
#include <string.h>

#include "sortnet_impl.h"

double selfsup__sortnet_relax_eval(selfsup__sortnet_relax relax, double v,
                                   double *dfdv)
{
    switch (relax) {
    case SELFSUP__RELAX_LOGISTIC: {
        /* written so that neither branch overflows for large |v| */
        double e = exp(-fabs(v));
        double f = v >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        *dfdv = f * (1.0 - f);
        return f;
    }
    case SELFSUP__RELAX_OPTIMAL:
        if (v < -0.25) {
            *dfdv = 1.0 / (16.0 * v * v);
            return -1.0 / (16.0 * v);
        }
        if (v > 0.25) {
            *dfdv = 1.0 / (16.0 * v * v);
            return 1.0 - 1.0 / (16.0 * v);
        }
        *dfdv = 1.0;
        return v + 0.5;
    case SELFSUP__RELAX_CAUCHY:
    default:
        *dfdv = 1.0 / (M_PI * (1.0 + v * v));
        return atan(v) / M_PI + 0.5;
    }
}

void selfsup__sortnet_values_forward(const selfsup_sortnet *s, double *x,
                                     double *tape)
{
    for (int64_t k = 0; k < s->count; k++) {
        int lo = s->lo[k], hi = s->hi[k];
        double a = x[lo], b = x[hi], dfdv;
        double alpha = selfsup__sortnet_relax_eval(
            s->relax, s->steepness * (b - a), &dfdv);
        double *t = tape + 3 * k;
        t[0] = alpha;
        t[1] = s->steepness * dfdv;
        t[2] = a - b;
        /* alpha a + (1 - alpha) b, exact when alpha is 0 or 1 */
        x[lo] = b + alpha * (a - b);
        x[hi] = a - alpha * (a - b);
    }
}

void selfsup__sortnet_perm_forward(const selfsup_sortnet *s, const double *tape,
                                   double *pt)
{
    int n = s->n;
    memset(pt, 0, (size_t)n * (size_t)n * sizeof *pt);
    for (int i = 0; i < n; i++)
        pt[(int64_t)i * n + i] = 1.0;
    for (int64_t k = 0; k < s->count; k++) {
        double alpha = tape[3 * k];
        double *col_lo = pt + (int64_t)s->lo[k] * n;
        double *col_hi = pt + (int64_t)s->hi[k] * n;
        for (int r = 0; r < n; r++) {
            double l = col_lo[r], h = col_hi[r];
            col_lo[r] = h + alpha * (l - h);
            col_hi[r] = l - alpha * (l - h);
        }
    }
}

void selfsup__sortnet_perm_apply(const selfsup_sortnet *s, const double *tape,
                                 double *beta, double *dbeta)
{
    /* P m = M_1 (M_2 (... (M_K m))): apply the comparators last to first;
     * each M_k is symmetric, so it mixes beta exactly as it mixes values. */
    for (int64_t k = s->count - 1; k >= 0; k--) {
        int lo = s->lo[k], hi = s->hi[k];
        double alpha = tape[3 * k];
        double l = beta[lo], h = beta[hi];
        if (dbeta)
            dbeta[k] = l - h;
        beta[lo] = h + alpha * (l - h);
        beta[hi] = l - alpha * (l - h);
    }
}

void selfsup__sortnet_perm_rank1_backward(const selfsup_sortnet *s,
                                          const double *tape, double *gamma,
                                          const double *dbeta, double *galpha)
{
    /* dL/dalpha_k = gamma_{k-1}^T (dM_k/dalpha) beta_k with
     * gamma_{k-1}^T = g^T M_1 ... M_{k-1}, beta_k = M_{k+1} ... M_K m, and
     * dM_k/dalpha = [[1, -1], [-1, 1]] on (lo, hi). */
    for (int64_t k = 0; k < s->count; k++) {
        int lo = s->lo[k], hi = s->hi[k];
        double alpha = tape[3 * k];
        double l = gamma[lo], h = gamma[hi];
        galpha[k] += (l - h) * dbeta[k];
        gamma[lo] = h + alpha * (l - h);
        gamma[hi] = l - alpha * (l - h);
    }
}

void selfsup__sortnet_values_backward(const selfsup_sortnet *s,
                                      const double *tape, double *lambda,
                                      const double *galpha)
{
    for (int64_t k = s->count - 1; k >= 0; k--) {
        int lo = s->lo[k], hi = s->hi[k];
        const double *t = tape + 3 * k;
        double alpha = t[0], dalpha = t[1], a_minus_b = t[2];
        double l = lambda[lo], h = lambda[hi];
        /* y_lo = b + alpha (a - b), y_hi = a - alpha (a - b) */
        double abar = (l - h) * a_minus_b + (galpha ? galpha[k] : 0.0);
        lambda[lo] = h + alpha * (l - h) - abar * dalpha;
        lambda[hi] = l - alpha * (l - h) + abar * dalpha;
    }
}

int64_t selfsup__sortnet_backward_work(const selfsup_sortnet *s)
{
    /* tape, galpha, dbeta, beta, gamma */
    return 5 * s->count + 2 * (int64_t)s->n;
}

void selfsup__sortnet_backward_row(const selfsup_sortnet *s, const double *x,
                                   const double *gy, const double *gp,
                                   double *gx, double *work)
{
    int n = s->n;
    double *tape = work;
    double *galpha = tape + 3 * s->count;
    double *dbeta = galpha + s->count;
    double *beta = dbeta + s->count;
    double *gamma = beta + n;

    memcpy(gx, x, (size_t)n * sizeof *gx);
    selfsup__sortnet_values_forward(s, gx, tape);
    memset(galpha, 0, (size_t)s->count * sizeof *galpha);
    if (gp) {
        /* dL/dP = sum_c G[:, c] e_c^T: one rank-1 term per column of G,
         * each two O(1)-per-comparator passes and O(count) memory. */
        for (int c = 0; c < n; c++) {
            int any = 0;
            for (int r = 0; r < n && !any; r++)
                any = gp[(int64_t)r * n + c] != 0.0;
            if (!any)
                continue;
            memset(beta, 0, (size_t)n * sizeof *beta);
            beta[c] = 1.0;
            selfsup__sortnet_perm_apply(s, tape, beta, dbeta);
            for (int r = 0; r < n; r++)
                gamma[r] = gp[(int64_t)r * n + c];
            selfsup__sortnet_perm_rank1_backward(s, tape, gamma, dbeta, galpha);
        }
    }
    if (gy)
        memcpy(gx, gy, (size_t)n * sizeof *gx);
    else
        memset(gx, 0, (size_t)n * sizeof *gx);
    selfsup__sortnet_values_backward(s, tape, gx, galpha);
}
