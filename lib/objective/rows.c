/* Row-wise helpers the cosine-based losses share: norms, l2 normalisation
 * and its backward, dot products in double. */
#include <math.h>

#include "objective_impl.h"

double selfsup__dot(const float *a, const float *b, int64_t d)
{
    /* simd: partial sums in vector lanes, added at the end; still double,
     * and the same order on every call and thread count */
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < d; k++)
        s += (double)a[k] * b[k];
    return s;
}

void selfsup__row_norms(double *norm, const float *x, int64_t n, int64_t d)
{
#pragma omp parallel for schedule(static) if (n * d >= SELFSUP__PARALLEL_WORK)
    for (int64_t i = 0; i < n; i++)
        norm[i] = sqrt(selfsup__dot(x + i * d, x + i * d, d));
}

void selfsup__rows_normalize(float *out, const float *x, const double *norm,
                             int64_t n, int64_t d)
{
#pragma omp parallel for schedule(static) if (n * d >= SELFSUP__PARALLEL_WORK)
    for (int64_t i = 0; i < n; i++) {
        double inv = 1.0 / fmax(norm[i], SELFSUP__COS_EPS);
        for (int64_t k = 0; k < d; k++)
            out[i * d + k] = (float)(x[i * d + k] * inv);
    }
}

void selfsup__normalize_backward_row(float *dx, const float *x, double norm,
                                     const float *gf, const double *gd,
                                     int64_t d)
{
    if (!(norm > SELFSUP__COS_EPS)) { /* the clamp is active: x / eps */
        for (int64_t k = 0; k < d; k++)
            dx[k] = (float)((gf ? gf[k] : gd[k]) / SELFSUP__COS_EPS);
        return;
    }
    double xg = 0;
    if (gf) {
#pragma omp simd reduction(+ : xg)
        for (int64_t k = 0; k < d; k++)
            xg += (double)x[k] * gf[k];
    } else {
#pragma omp simd reduction(+ : xg)
        for (int64_t k = 0; k < d; k++)
            xg += (double)x[k] * gd[k];
    }
    double inv = 1.0 / norm;
    double proj = xg * inv * inv; /* xhat.g / |x| */
    if (gf) {
#pragma omp simd
        for (int64_t k = 0; k < d; k++)
            dx[k] = (float)((gf[k] - proj * x[k]) * inv);
    } else {
#pragma omp simd
        for (int64_t k = 0; k < d; k++)
            dx[k] = (float)((gd[k] - proj * x[k]) * inv);
    }
}

void selfsup__column_moments(double *mean, double *sumsq, float *centred,
                             const float *x, int64_t n, int64_t d)
{
    for (int64_t j = 0; j < d; j++)
        mean[j] = sumsq[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++)
            mean[j] += x[i * d + j];
    }
    for (int64_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++) {
#pragma omp simd
        for (int64_t j = 0; j < d; j++) {
            double dev = x[i * d + j] - mean[j];
            if (centred)
                centred[i * d + j] = (float)dev;
            sumsq[j] += dev * dev;
        }
    }
}
