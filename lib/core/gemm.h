/* Internal: dense matrix products through oneDNN's JIT GEMM.
 *
 * For the library's big products that are not network layers: similarity
 * and covariance matrices in the objectives, kNN scores in evaluation.
 * Network layers use oneDNN primitives of their own (nn/). */
#ifndef SELFSUP_CORE_GEMM_H
#define SELFSUP_CORE_GEMM_H

#include <stdint.h>

#include "selfsup/status.h"

/* C (M x N) = alpha * op(A) * op(B) + beta * C, all row-major, where op(A)
 * is M x K and op(B) is K x N; trans_a / trans_b say whether A and B are
 * stored transposed (A as K x M, B as N x K). lda, ldb, ldc are the row
 * strides of A, B, C as stored. Runs on selfsup_get_num_threads() threads.
 * With beta == 0, C need not be initialised. */
selfsup_status selfsup__sgemm(int trans_a, int trans_b, int64_t m, int64_t n,
                              int64_t k, float alpha, const float *a,
                              int64_t lda, const float *b, int64_t ldb,
                              float beta, float *c, int64_t ldc);

#endif
