/* Writing .npy files through the atomic file (atomic_file.h): readers of
 * path see the old file or the new one, never a half-written one, and a
 * failure leaves the old one in place. */
#include <string.h>

#include "atomic_file.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "npy_format.h"
#include "selfsup/eval.h"

/* Data goes out through a buffer of this many bytes, converted to little
 * endian on the way. */
enum { WRITE_BUFFER = 1 << 20 };
#define NUMEL_MAX (INT64_C(1) << 40)

/* The atomic write of header + count 32-bit words from data. */
static selfsup_status write_npy(const char *path, const char *descr, int ndim,
                                const int64_t *dims, const void *data,
                                int64_t count, const char *where)
{
    char header[SELFSUP__NPY_HEADER_MAX];
    size_t header_len = selfsup__npy_format_header(header, descr, ndim, dims);
    unsigned char *buffer = selfsup__malloc(WRITE_BUFFER);
    if (!buffer)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the write buffer for %s", path);
    selfsup__atomic_file *f = NULL;
    selfsup_status s = selfsup__atomic_create(&f, path, where);
    if (s == SELFSUP_OK)
        s = selfsup__atomic_write(f, header, header_len);
    const unsigned char *src = data;
    for (int64_t i = 0; s == SELFSUP_OK && i < count; i += WRITE_BUFFER / 4) {
        size_t words =
            (size_t)(count - i < WRITE_BUFFER / 4 ? count - i
                                                  : WRITE_BUFFER / 4);
        selfsup__npy_store_le32(buffer, src + 4 * i, words);
        s = selfsup__atomic_write(f, buffer, 4 * words);
    }
    if (s == SELFSUP_OK)
        s = selfsup__atomic_commit(f);
    selfsup__atomic_destroy(f);
    selfsup__free(buffer);
    return s;
}

static selfsup_status check_path(const char *path, const char *where)
{
    if (!path)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "path is NULL");
    if (!path[0])
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "path is empty");
    return SELFSUP_OK;
}

selfsup_status selfsup_npy_write(const char *path, const selfsup_tensor *t)
{
    SS_ENTRY();
    SS_TRY(check_path(path, __func__));
    SS_CHECK_NOT_NULL(t);
    return write_npy(path, "<f4", t->ndim, t->dims, t->data, t->numel,
                     __func__);
}

selfsup_status selfsup_npy_write_floats(const char *path, int ndim,
                                        const int64_t *dims, const float *data)
{
    SS_ENTRY();
    SS_TRY(check_path(path, __func__));
    if (ndim < 1 || ndim > SELFSUP_TENSOR_MAX_DIMS)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "ndim = %d is outside 1..%d", ndim,
                       SELFSUP_TENSOR_MAX_DIMS);
    SS_CHECK_NOT_NULL(dims);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 1)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "dims[%d] = %lld is not positive", i,
                           (long long)dims[i]);
        if (dims[i] > NUMEL_MAX / numel)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "the shape has more than 2^40 elements (dims[%d] "
                           "= %lld)",
                           i, (long long)dims[i]);
        numel *= dims[i];
    }
    SS_CHECK_NOT_NULL(data);
    return write_npy(path, "<f4", ndim, dims, data, numel, __func__);
}

selfsup_status selfsup_npy_write_labels(const char *path, const int32_t *labels,
                                        int64_t count)
{
    SS_ENTRY();
    SS_TRY(check_path(path, __func__));
    SS_CHECK_NOT_NULL(labels);
    if (count < 1 || count > NUMEL_MAX)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "count = %lld is outside [1, 2^40]", (long long)count);
    return write_npy(path, "<i4", 1, &count, labels, count, __func__);
}
