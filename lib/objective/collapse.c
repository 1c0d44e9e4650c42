#include "collapse.h"

#include <math.h>

#include "core/alloc.h"
#include "core/error.h"

selfsup_status selfsup__collapse_std(const float *z, int64_t n, int64_t d,
                                     double *out)
{
    SS_CHECK_NOT_NULL(z);
    SS_CHECK_NOT_NULL(out);
    if (n < 2 || d < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "n = %lld, d = %lld: need n >= 2 rows and d >= 1",
                       (long long)n, (long long)d);
    double *inv_norm =
        selfsup__malloc(((size_t)n + 2 * (size_t)d) * sizeof(double));
    if (!inv_norm)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %lld doubles of scratch",
                       (long long)(n + 2 * d));
    double *mean = inv_norm + n, *sq = mean + d;
    for (int64_t j = 0; j < d; j++)
        mean[j] = sq[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = z + i * d;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < d; j++)
            s += (double)row[j] * row[j];
        inv_norm[i] = 1.0 / fmax(sqrt(s), 1e-12);
#pragma omp simd
        for (int64_t j = 0; j < d; j++)
            mean[j] += row[j] * inv_norm[i];
    }
    for (int64_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    /* two passes: deviations from the mean, not E[x^2] - E[x]^2, so that a
     * collapsed batch gives 0 and not rounding noise */
    for (int64_t i = 0; i < n; i++) {
        const float *row = z + i * d;
#pragma omp simd
        for (int64_t j = 0; j < d; j++) {
            double dev = row[j] * inv_norm[i] - mean[j];
            sq[j] += dev * dev;
        }
    }
    double total = 0;
    for (int64_t j = 0; j < d; j++)
        total += sqrt(sq[j] / (double)(n - 1));
    selfsup__free(inv_norm);
    *out = total / (double)d;
    return SELFSUP_OK;
}
