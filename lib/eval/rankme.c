/* The effective rank of embeddings (RankMe, Garrido et al., ICML 2023):
 * how many directions the features really use. Singular values come from
 * the eigenvalues of the smaller Gram matrix, summed in double: a collapsed
 * representation's small singular values sit nine orders of magnitude
 * below the large ones in the Gram matrix, beyond float's reach. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/symeig.h"
#include "core/tensor_impl.h"
#include "core/threads.h"
#include "eval_check.h"
#include "selfsup/eval.h"

/* The paper's epsilon, added to every normalised singular value. */
#define RANKME_EPSILON 1e-7

/* g (m x m) = the Gram matrix of the m columns (x is n x d, row-major)
 * when by_columns, else of the n rows; only the lower triangle. */
static void gram(double *g, const float *x, int64_t n, int64_t d,
                 int by_columns, double *scratch)
{
    int64_t m = by_columns ? d : n, len = by_columns ? n : d;
    /* scratch holds the m vectors contiguously, in double */
    for (int64_t r = 0; r < n; r++)
        for (int64_t c = 0; c < d; c++)
            scratch[by_columns ? c * n + r : r * d + c] = x[r * d + c];
#pragma omp parallel for schedule(static, 1)
    for (int64_t i = 0; i < m; i++) {
        const double *a = scratch + i * len;
        for (int64_t j = 0; j <= i; j++) {
            const double *b = scratch + j * len;
            double sum = 0;
            for (int64_t k = 0; k < len; k++)
                sum += a[k] * b[k];
            g[i * m + j] = sum;
        }
    }
}

selfsup_status selfsup_effective_rank(const selfsup_tensor *features,
                                      double *rank)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(features);
    SS_TRY(selfsup__eval_check_matrix(features, __func__, "features", 0));
    SS_CHECK_NOT_NULL(rank);
    SS_TRY(selfsup__tensor_check_finite(features, __func__, "features"));
    int64_t n = features->dims[0], d = features->dims[1];
    int by_columns = d <= n;
    int64_t m = by_columns ? d : n;
    double *g = selfsup__malloc((size_t)(m * m) * sizeof *g);
    double *values = selfsup__malloc((size_t)m * sizeof *values);
    double *scratch = selfsup__malloc((size_t)(n * d) * sizeof *scratch);
    selfsup_status s = SELFSUP_OK;
    if (!g || !values || !scratch)
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                    "cannot allocate the %lld x %lld Gram matrix of %lld x "
                    "%lld features",
                    (long long)m, (long long)m, (long long)n, (long long)d);
    if (s == SELFSUP_OK) {
        selfsup__threads_apply();
        gram(g, features->data, n, d, by_columns, scratch);
        s = selfsup__symeig(g, m, values, __func__);
    }
    if (s == SELFSUP_OK) {
        /* singular values; rounding can leave tiny negative eigenvalues */
        double total = 0;
        for (int64_t k = 0; k < m; k++) {
            values[k] = values[k] > 0 ? sqrt(values[k]) : 0.0;
            total += values[k];
        }
        double entropy = 0;
        for (int64_t k = 0; k < m && total > 0; k++) {
            double p = values[k] / total + RANKME_EPSILON;
            entropy -= p * log(p);
        }
        *rank = total > 0 ? exp(entropy) : 0.0;
    }
    selfsup__free(scratch);
    selfsup__free(values);
    selfsup__free(g);
    return s;
}
