#include "gemm.h"

#include <string.h>

#include "dnnl_ctx.h"
#include "error.h"
#include "threads.h"

selfsup_status selfsup__sgemm(int trans_a, int trans_b, int64_t m, int64_t n,
                              int64_t k, float alpha, const float *a,
                              int64_t lda, const float *b, int64_t ldb,
                              float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return SELFSUP_OK;
    if (k <= 0) { /* an empty sum: C = beta C */
        for (int64_t i = 0; i < m; i++) {
            float *row = c + i * ldc;
            if (beta == 0.0f)
                memset(row, 0, (size_t)n * sizeof *row);
            else
                for (int64_t j = 0; j < n; j++)
                    row[j] *= beta;
        }
        return SELFSUP_OK;
    }
    selfsup__threads_apply();
    return selfsup__dnnl_check(dnnl_sgemm(trans_a ? 'T' : 'N',
                                          trans_b ? 'T' : 'N', m, n, k, alpha,
                                          a, lda, b, ldb, beta, c, ldc),
                               __func__, "sgemm");
}
