#include "standardize.h"

#include <float.h>
#include <math.h>

void selfsup__standardizer_fit(double *mean, double *inv_std, const float *x,
                               int64_t n, int64_t dim)
{
    for (int64_t j = 0; j < dim; j++)
        mean[j] = inv_std[j] = 0.0;
    /* Row-major sweeps, serial: one ordering, so the same bits on any
     * thread count; at 60000 x 128 each pass takes a few milliseconds. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < dim; j++)
            mean[j] += x[i * dim + j];
    for (int64_t j = 0; j < dim; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < dim; j++) {
            double c = x[i * dim + j] - mean[j];
            inv_std[j] += c * c; /* sum of squared deviations, for now */
        }
    for (int64_t j = 0; j < dim; j++) {
        double std = sqrt(inv_std[j] / (double)n);
        int constant = std <= 4.0 * FLT_EPSILON * fabs(mean[j]) || std == 0.0;
        inv_std[j] = constant ? 1.0 : 1.0 / std;
    }
}

void selfsup__standardize_rows(float *out, const float *x, int64_t n,
                               int64_t dim, const double *mean,
                               const double *inv_std)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < dim; j++)
            out[i * dim + j] = (float)((x[i * dim + j] - mean[j]) * inv_std[j]);
}
