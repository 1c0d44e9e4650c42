/* Internal: per-dimension standardisation with the train set's statistics,
 * as the linear probe uses it. */
#ifndef SELFSUP_EVAL_STANDARDIZE_H
#define SELFSUP_EVAL_STANDARDIZE_H

#include <stdint.h>

/* mean[j] and inv_std[j] = 1 / std[j] of column j of x (n, dim), with the
 * population std (divide by n), both in double from a two-pass sum. A
 * column that is constant up to float32 rounding (std <= 4 FLT_EPSILON
 * |mean|, which includes std == 0) gets inv_std = 1: it is centred, not
 * blown up, and never divides by zero. */
void selfsup__standardizer_fit(double *mean, double *inv_std, const float *x,
                               int64_t n, int64_t dim);

/* out[i, j] = (x[i, j] - mean[j]) * inv_std[j] for the n rows of x. */
void selfsup__standardize_rows(float *out, const float *x, int64_t n,
                               int64_t dim, const double *mean,
                               const double *inv_std);

#endif
