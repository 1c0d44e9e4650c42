/* PCA whitening: fitted from features, applied in blocks of rows, and
 * recorded on encoders (encoder.c keeps a copy). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/gemm.h"
#include "core/spec.h"
#include "core/symeig.h"
#include "core/tensor_impl.h"
#include "selfsup/whitening.h"

struct selfsup_whitening {
    int64_t dim, components;
    float *mean;       /* dim */
    float *projection; /* components x dim, row-major */
};

/* Rows are centred into a scratch block before every product: features
 * sit far from the origin, and x W^T - W mean in float32 would cancel
 * most of their digits. */
enum { BLOCK_ROWS = 2048 };

static selfsup_status alloc_whitening(selfsup_whitening **out, int64_t dim,
                                      int64_t components)
{
    selfsup_whitening *w = selfsup__calloc(1, sizeof *w);
    if (w) {
        w->mean = selfsup__malloc((size_t)dim * sizeof *w->mean);
        w->projection =
            selfsup__malloc((size_t)(components * dim) * sizeof *w->projection);
    }
    if (!w || !w->mean || !w->projection) {
        selfsup_whitening_destroy(w);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate a whitening of %lld x %lld",
                       (long long)components, (long long)dim);
    }
    w->dim = dim;
    w->components = components;
    *out = w;
    return SELFSUP_OK;
}

void selfsup_whitening_destroy(selfsup_whitening *w)
{
    if (!w)
        return;
    selfsup__free(w->mean);
    selfsup__free(w->projection);
    selfsup__free(w);
}

static selfsup_status parse_options(const char *options, long *components,
                                    double *epsilon)
{
    *components = SELFSUP_WHITENING_DEFAULT_COMPONENTS;
    *epsilon = SELFSUP_WHITENING_DEFAULT_EPSILON;
    if (!options)
        return SELFSUP_OK;
    selfsup__spec s;
    const char *where = "selfsup_whitening_fit";
    selfsup_status st = selfsup__spec_parse(&s, options, where);
    if (st == SELFSUP_OK && strcmp(s.name, "pca") != 0)
        st = selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                           "options \"%s\": the name is \"%s\", not pca",
                           options, s.name);
    if (st == SELFSUP_OK)
        st = selfsup__spec_int(&s, "components", 1, 1L << 30, components);
    if (st == SELFSUP_OK)
        st = selfsup__spec_double(&s, "epsilon", 0.0, 1.0, SS_SPEC_CLOSED,
                                  epsilon);
    if (st == SELFSUP_OK)
        st = selfsup__spec_finish(&s);
    selfsup__spec_free(&s);
    return st;
}

/* cov (dim x dim, double, lower triangle) = sum over rows of
 * (x - mean)(x - mean)^T, a block of rows at a time in float32 (oneDNN's
 * GEMM), each block's product added in double. */
static selfsup_status scatter(double *cov, const float *x, int64_t n,
                              int64_t dim, const double *mean, float *block,
                              float *block_cov)
{
    for (int64_t at = 0; at < n; at += BLOCK_ROWS) {
        int64_t b = n - at < BLOCK_ROWS ? n - at : BLOCK_ROWS;
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < dim; j++)
                block[i * dim + j] =
                    (float)((double)x[(at + i) * dim + j] - mean[j]);
        SS_TRY(selfsup__sgemm(1, 0, dim, dim, b, 1.0f, block, dim, block, dim,
                              0.0f, block_cov, dim));
        for (int64_t i = 0; i < dim; i++)
            for (int64_t j = 0; j <= i; j++)
                cov[i * dim + j] += block_cov[i * dim + j];
    }
    return SELFSUP_OK;
}

/* Fills w from the eigendecomposition of cov (overwritten). */
static selfsup_status project(selfsup_whitening *w, double *cov, double *values,
                              double epsilon, const char *where)
{
    int64_t d = w->dim;
    SS_TRY(selfsup__symeig(cov, d, values, where));
    if (!(values[0] > 0))
        return selfsup__fail(SELFSUP_ERR_NUMERIC, where,
                             "the features do not vary (largest variance "
                             "%g): there is no direction to whiten",
                             values[0]);
    /* Variances below the rounding of the covariance are zero: whitening
     * them would scale noise by 1 / sqrt(rounding). */
    double noise = 1e3 * DBL_EPSILON * (double)d * values[0];
    double eps = epsilon * values[0];
    for (int64_t k = 0; k < w->components; k++) {
        double var = (values[k] > noise ? values[k] : 0) + eps;
        if (!(var > 0))
            return selfsup__fail(SELFSUP_ERR_NUMERIC, where,
                                 "component %lld has no variance (%g, the "
                                 "largest is %g): ask for fewer components "
                                 "or epsilon > 0",
                                 (long long)k, values[k], values[0]);
        double scale = 1 / sqrt(var);
        for (int64_t j = 0; j < d; j++)
            w->projection[k * d + j] = (float)(cov[j * d + k] * scale);
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_whitening_fit(selfsup_whitening **out,
                                     const selfsup_tensor *features,
                                     const char *options)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(features);
    if (features->ndim != 2 || features->dims[0] < 2 || features->dims[1] < 1)
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "features must be (N, D) with N >= 2; got %d axes, "
                       "first %lld",
                       features->ndim, (long long)features->dims[0]);
    long components;
    double epsilon;
    SS_TRY(parse_options(options, &components, &epsilon));
    SS_TRY(selfsup__tensor_check_finite(features, __func__, "features"));
    int64_t n = features->dims[0], d = features->dims[1];
    int64_t k = components < d ? components : d;

    selfsup_whitening *w = NULL;
    SS_TRY(alloc_whitening(&w, d, k));
    int64_t rows = n < BLOCK_ROWS ? n : BLOCK_ROWS;
    double *cov = selfsup__calloc((size_t)(d * d), sizeof *cov);
    double *stats = selfsup__calloc((size_t)(2 * d), sizeof *stats);
    float *block = selfsup__malloc((size_t)(rows * d + d * d) * sizeof *block);
    selfsup_status s = SELFSUP_OK;
    if (!cov || !stats || !block)
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                    "cannot allocate the covariance of %lld features",
                    (long long)d);
    double *mean = stats, *values = stats + d;
    if (s == SELFSUP_OK) {
        const float *x = features->data;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < d; j++)
                mean[j] += x[i * d + j];
        for (int64_t j = 0; j < d; j++) {
            mean[j] /= (double)n;
            w->mean[j] = (float)mean[j];
        }
        s = scatter(cov, x, n, d, mean, block, block + rows * d);
    }
    if (s == SELFSUP_OK) {
        for (int64_t i = 0; i < d * d; i++)
            cov[i] /= (double)(n - 1);
        s = project(w, cov, values, epsilon, __func__);
    }
    selfsup__free(cov);
    selfsup__free(stats);
    selfsup__free(block);
    if (s != SELFSUP_OK) {
        selfsup_whitening_destroy(w);
        return s;
    }
    *out = w;
    return SELFSUP_OK;
}

selfsup_status selfsup_whitening_create(selfsup_whitening **out, int64_t dim,
                                        int64_t components, const float *mean,
                                        const float *projection)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    if (dim < 1 || components < 1 || components > dim)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "dim %lld and components %lld: need 1 <= components "
                       "<= dim",
                       (long long)dim, (long long)components);
    SS_CHECK_NOT_NULL(mean);
    SS_CHECK_NOT_NULL(projection);
    for (int64_t j = 0; j < dim; j++)
        if (!isfinite(mean[j]))
            return SS_FAIL(SELFSUP_ERR_NUMERIC, "mean[%lld] is %g",
                           (long long)j, (double)mean[j]);
    for (int64_t i = 0; i < components * dim; i++)
        if (!isfinite(projection[i]))
            return SS_FAIL(SELFSUP_ERR_NUMERIC, "projection[%lld] is %g",
                           (long long)i, (double)projection[i]);
    selfsup_whitening *w;
    SS_TRY(alloc_whitening(&w, dim, components));
    memcpy(w->mean, mean, (size_t)dim * sizeof *mean);
    memcpy(w->projection, projection,
           (size_t)(components * dim) * sizeof *projection);
    *out = w;
    return SELFSUP_OK;
}

selfsup_status selfsup_whitening_clone(selfsup_whitening **out,
                                       const selfsup_whitening *w)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(w);
    selfsup_whitening *c;
    SS_TRY(alloc_whitening(&c, w->dim, w->components));
    memcpy(c->mean, w->mean, (size_t)w->dim * sizeof *c->mean);
    memcpy(c->projection, w->projection,
           (size_t)(w->components * w->dim) * sizeof *c->projection);
    *out = c;
    return SELFSUP_OK;
}

int64_t selfsup_whitening_input_dim(const selfsup_whitening *w)
{
    return w ? w->dim : 0;
}

int64_t selfsup_whitening_components(const selfsup_whitening *w)
{
    return w ? w->components : 0;
}

selfsup_status selfsup_whitening_read(const selfsup_whitening *w, float *mean,
                                      float *projection)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(w);
    if (mean)
        memcpy(mean, w->mean, (size_t)w->dim * sizeof *mean);
    if (projection)
        memcpy(projection, w->projection,
               (size_t)(w->components * w->dim) * sizeof *projection);
    return SELFSUP_OK;
}

selfsup_status selfsup_whitening_apply(const selfsup_whitening *w,
                                       const selfsup_tensor *in,
                                       selfsup_tensor *out)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(w);
    SS_CHECK_NOT_NULL(in);
    SS_CHECK_NOT_NULL(out);
    if (in->ndim != 2 || in->dims[1] != w->dim) {
        char got[64];
        selfsup__shape_format(got, sizeof got, in->ndim, in->dims);
        return SS_FAIL(SELFSUP_ERR_SHAPE, "in has shape %s, not (N, %lld)", got,
                       (long long)w->dim);
    }
    int64_t n = in->dims[0], d = w->dim, k = w->components;
    const int64_t want[2] = {n, k};
    SS_TRY(selfsup__tensor_expect_shape(out, __func__, "out", 2, want));
    int64_t rows = n < BLOCK_ROWS ? n : BLOCK_ROWS;
    float *block = selfsup__malloc((size_t)(rows * d) * sizeof *block);
    if (!block)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate a block of %lld rows", (long long)rows);
    selfsup_status s = SELFSUP_OK;
    for (int64_t at = 0; s == SELFSUP_OK && at < n; at += BLOCK_ROWS) {
        int64_t b = n - at < BLOCK_ROWS ? n - at : BLOCK_ROWS;
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < d; j++)
                block[i * d + j] = in->data[(at + i) * d + j] - w->mean[j];
        s = selfsup__sgemm(0, 1, b, k, d, 1.0f, block, d, w->projection, d,
                           0.0f, out->data + at * k, k);
    }
    selfsup__free(block);
    return s;
}
