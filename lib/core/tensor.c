#include "tensor_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "rng.h"

/* Element counts stay below this so that byte sizes and int64 indexing never
 * overflow, whatever the platform's size_t. */
#define SS_MAX_NUMEL (INT64_C(1) << 40)

/* Validates (ndim, dims) and computes the element count. */
static selfsup_status check_dims(const char *where, int ndim,
                                 const int64_t *dims, int64_t *numel)
{
    if (ndim < 1 || ndim > SELFSUP_TENSOR_MAX_DIMS)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "ndim = %d is outside 1..%d", ndim,
                             SELFSUP_TENSOR_MAX_DIMS);
    if (!dims)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "dims is NULL");
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 1)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                 "dims[%d] = %lld is not positive", i,
                                 (long long)dims[i]);
        if (dims[i] > SS_MAX_NUMEL / n)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                 "the shape has more than 2^40 elements "
                                 "(dims[%d] = %lld)",
                                 i, (long long)dims[i]);
        n *= dims[i];
    }
    *numel = n;
    return SELFSUP_OK;
}

selfsup_status selfsup_tensor_create(selfsup_tensor **out, int ndim,
                                     const int64_t *dims)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    int64_t numel;
    SS_TRY(check_dims(__func__, ndim, dims, &numel));
    selfsup_tensor *t = selfsup__calloc(1, sizeof *t);
    if (!t)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the tensor handle");
    t->data = selfsup__calloc((size_t)numel, sizeof(float));
    if (!t->data) {
        selfsup__free(t);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "cannot allocate %lld floats",
                       (long long)numel);
    }
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    t->numel = numel;
    *out = t;
    return SELFSUP_OK;
}

void selfsup_tensor_destroy(selfsup_tensor *t)
{
    if (!t)
        return;
    selfsup__free(t->data);
    selfsup__free(t);
}

int selfsup_tensor_ndim(const selfsup_tensor *t)
{
    return t ? t->ndim : 0;
}

int64_t selfsup_tensor_dim(const selfsup_tensor *t, int axis)
{
    if (!t)
        return 0;
    if (axis < 0)
        axis += t->ndim;
    if (axis < 0 || axis >= t->ndim)
        return 0;
    return t->dims[axis];
}

int64_t selfsup_tensor_numel(const selfsup_tensor *t)
{
    return t ? t->numel : 0;
}

selfsup_status selfsup_tensor_write(selfsup_tensor *t, const float *src,
                                    int64_t count)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(t);
    SS_CHECK_NOT_NULL(src);
    if (count != t->numel)
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "count = %lld but the tensor has %lld elements",
                       (long long)count, (long long)t->numel);
    memmove(t->data, src, (size_t)count * sizeof(float));
    return SELFSUP_OK;
}

selfsup_status selfsup_tensor_read(const selfsup_tensor *t, float *dst,
                                   int64_t count)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(t);
    SS_CHECK_NOT_NULL(dst);
    if (count != t->numel)
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "count = %lld but the tensor has %lld elements",
                       (long long)count, (long long)t->numel);
    memmove(dst, t->data, (size_t)count * sizeof(float));
    return SELFSUP_OK;
}

const float *selfsup_tensor_data(const selfsup_tensor *t)
{
    return t ? t->data : NULL;
}

selfsup_status selfsup_tensor_fill(selfsup_tensor *t, float value)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(t);
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = value;
    return SELFSUP_OK;
}

/* Fill draws use their own stream so they never coincide with the streams
 * that other modules derive for the same seed. */
enum { FILL_STREAM_UNIFORM = 0x7f11, FILL_STREAM_NORMAL = 0x7f12 };

/* Four random words for element i: one Philox block per element, so the
 * value depends on (seed, i) only. */
static void element_block(uint64_t seed, uint64_t stream, int64_t i,
                          uint32_t out[4])
{
    uint64_t c = (uint64_t)i;
    uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), (uint32_t)stream,
                       (uint32_t)(stream >> 32)};
    selfsup__philox4x32(ctr, seed, out);
}

selfsup_status selfsup_tensor_fill_uniform(selfsup_tensor *t, uint64_t seed,
                                           float lo, float hi)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(t);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "the range [lo, hi) = [%g, %g) is empty or not finite",
                       (double)lo, (double)hi);
    float width = hi - lo;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < t->numel; i++) {
        uint32_t w[4];
        element_block(seed, FILL_STREAM_UNIFORM, i, w);
        float v = lo + width * selfsup__u32_to_unit_float(w[0]);
        t->data[i] = v < hi ? v : nextafterf(hi, lo);
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_tensor_fill_normal(selfsup_tensor *t, uint64_t seed,
                                          float mean, float std)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(t);
    if (!isfinite(mean) || !isfinite(std) || std < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "mean = %g, std = %g: need finite values and std >= 0",
                       (double)mean, (double)std);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < t->numel; i++) {
        uint32_t w[4];
        element_block(seed, FILL_STREAM_NORMAL, i, w);
        double u1 = ((double)(w[0] >> 5) * 67108864.0 + (double)(w[1] >> 6)) *
                    (1.0 / 9007199254740992.0);
        double u2 = ((double)(w[2] >> 5) * 67108864.0 + (double)(w[3] >> 6)) *
                    (1.0 / 9007199254740992.0);
        double z = sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
        t->data[i] = (float)(mean + std * z);
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_tensor_clone(selfsup_tensor **out,
                                    const selfsup_tensor *src)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(src);
    selfsup_tensor *t;
    SS_TRY(selfsup_tensor_create(&t, src->ndim, src->dims));
    memcpy(t->data, src->data, (size_t)src->numel * sizeof(float));
    *out = t;
    return SELFSUP_OK;
}

void selfsup__shape_format(char *buf, size_t cap, int ndim, const int64_t *dims)
{
    size_t used = 0;
    int n = snprintf(buf, cap, "(");
    for (int i = 0; n >= 0 && i < ndim; i++) {
        used += (size_t)n;
        if (used >= cap)
            return;
        n = snprintf(buf + used, cap - used, i ? ", %lld" : "%lld",
                     (long long)dims[i]);
    }
    if (n >= 0 && used + (size_t)n < cap)
        snprintf(buf + used + (size_t)n, cap - used - (size_t)n, ")");
}

static int same_shape(const selfsup_tensor *t, int ndim, const int64_t *dims)
{
    if (t->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (t->dims[i] != dims[i])
            return 0;
    return 1;
}

selfsup_status selfsup__tensor_expect_shape(const selfsup_tensor *t,
                                            const char *where, const char *name,
                                            int ndim, const int64_t *dims)
{
    if (same_shape(t, ndim, dims))
        return SELFSUP_OK;
    char have[160], want[160];
    selfsup__shape_format(have, sizeof have, t->ndim, t->dims);
    selfsup__shape_format(want, sizeof want, ndim, dims);
    return selfsup__fail(SELFSUP_ERR_SHAPE, where, "%s has shape %s, not %s",
                         name, have, want);
}

selfsup_status selfsup__tensor_check_finite(const selfsup_tensor *t,
                                            const char *where, const char *name)
{
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(t->data[i]))
            return selfsup__fail(SELFSUP_ERR_NUMERIC, where,
                                 "%s[%lld] = %g is not finite", name,
                                 (long long)i, (double)t->data[i]);
    return SELFSUP_OK;
}

selfsup_status selfsup_tensor_copy(selfsup_tensor *dst,
                                   const selfsup_tensor *src)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(dst);
    SS_CHECK_NOT_NULL(src);
    SS_TRY(selfsup__tensor_expect_shape(src, __func__, "src", dst->ndim,
                                        dst->dims));
    memmove(dst->data, src->data, (size_t)src->numel * sizeof(float));
    return SELFSUP_OK;
}

selfsup_status selfsup_tensor_reshape(selfsup_tensor *t, int ndim,
                                      const int64_t *dims)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(t);
    int64_t numel;
    SS_TRY(check_dims(__func__, ndim, dims, &numel));
    if (numel != t->numel)
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "the new shape has %lld elements, the tensor %lld",
                       (long long)numel, (long long)t->numel);
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    return SELFSUP_OK;
}
