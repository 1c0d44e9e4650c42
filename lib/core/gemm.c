#include "gemm.h"

#include <stdio.h>
#include <string.h>

#include "dnnl_ctx.h"
#include "error.h"
#include "profile.h"
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
    double t0 = selfsup__profile_begin();
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m,
                                  n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (t0 > 0) {
        char name[96];
        snprintf(name, sizeof name, "gemm %s%s %lldx%lldx%lld",
                 trans_a ? "T" : "N", trans_b ? "T" : "N", (long long)m,
                 (long long)n, (long long)k);
        selfsup__profile_add(SELFSUP_PROFILE_OPERATION, name,
                             selfsup__profile_clock() - t0,
                             2.0 * (double)m * (double)n * (double)k);
    }
    return selfsup__dnnl_check(st, __func__, "sgemm");
}
