/* Internal: the collapse monitor shared by objectives, the learner and
 * evaluation. */
#ifndef SELFSUP_OBJECTIVE_COLLAPSE_H
#define SELFSUP_OBJECTIVE_COLLAPSE_H

#include <stdint.h>

#include "selfsup/status.h"

/* *out = mean over the d dimensions of the standard deviation over the n
 * rows (unbiased, n - 1, like torch.std) of the l2-normalised rows of z
 * (n x d, row-major; a row is divided by max(|z_i|, 1e-12)). About
 * 1/sqrt(d) for embeddings spread over the sphere, 0 when every row points
 * the same way (SimSiam paper, section 4.1). Needs n >= 2; z must be
 * finite. SELFSUP_ERR_INVALID_ARGUMENT for NULL or n < 2 or d < 1,
 * SELFSUP_ERR_OUT_OF_MEMORY if its n + 2d doubles of scratch fail. */
selfsup_status selfsup__collapse_std(const float *z, int64_t n, int64_t d,
                                     double *out);

#endif
