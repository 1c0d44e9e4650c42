/* Reading .npy files: the header is validated strictly and the file size
 * must match it exactly before anything is allocated for the data. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "npy_format.h"
#include "selfsup/eval.h"

/* Far above any header of the arrays we read; a larger length is taken as
 * damage rather than an invitation to allocate it. */
enum { HEADER_LEN_MAX = 1 << 16 };

static selfsup_status io_failure(const char *where, const char *what,
                                 const char *path, int err)
{
    char reason[128];
    if (strerror_r(err, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "errno %d", err);
    return selfsup__fail(SELFSUP_ERR_IO, where, "%s %s: %s", what, path,
                         reason);
}

/* An open .npy file positioned at its data, with the parsed header. */
typedef struct npy_file {
    FILE *f;
    selfsup__npy_header h;
} npy_file;

/* Opens path, validates the preamble, header and total size for elements
 * of descr (4 bytes each). On failure nothing is left open. */
static selfsup_status npy_open(npy_file *out, const char *path,
                               const char *descr, const char *where)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_failure(where, "cannot open", path, errno);
    selfsup_status s = SELFSUP_OK;
    char *text = NULL;
    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8) {
        s = ferror(f) ? io_failure(where, "cannot read", path, errno)
                      : selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                                      "%s: shorter than an NPY preamble", path);
        goto fail;
    }
    if (memcmp(pre, "\x93NUMPY", 6) != 0) {
        s = selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                          "%s: not an NPY file (no \\x93NUMPY magic)", path);
        goto fail;
    }
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0) {
        s = selfsup__fail(SELFSUP_ERR_VERSION, where,
                          "%s: NPY format version %d.%d; this library reads "
                          "1.0, 2.0 and 3.0",
                          path, major, minor);
        goto fail;
    }
    size_t width = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, width, f) != width) {
        s = ferror(f) ? io_failure(where, "cannot read", path, errno)
                      : selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                                      "%s: shorter than an NPY preamble", path);
        goto fail;
    }
    uint32_t header_len = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    if (width == 4)
        header_len |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    if (header_len == 0 || header_len > HEADER_LEN_MAX) {
        s = selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                          "%s: NPY header length %lu is outside [1, %d]", path,
                          (unsigned long)header_len, HEADER_LEN_MAX);
        goto fail;
    }
    text = selfsup__malloc(header_len);
    if (!text) {
        s = selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                          "cannot allocate the header of %s", path);
        goto fail;
    }
    if (fread(text, 1, header_len, f) != header_len) {
        s = ferror(f) ? io_failure(where, "cannot read", path, errno)
                      : selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                                      "%s: the file ends inside its %lu-byte "
                                      "NPY header",
                                      path, (unsigned long)header_len);
        goto fail;
    }
    s = selfsup__npy_parse_header(&out->h, text, header_len, path, where);
    if (s != SELFSUP_OK)
        goto fail;
    if (strcmp(out->h.descr, descr) != 0 || out->h.fortran_order) {
        s = selfsup__fail(SELFSUP_ERR_UNSUPPORTED, where,
                          "%s: the array is '%s'%s; expected '%s' in C order",
                          path, out->h.descr,
                          out->h.fortran_order ? " in Fortran order" : "",
                          descr);
        goto fail;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        s = io_failure(where, "cannot stat", path, errno);
        goto fail;
    }
    int64_t data_offset = (int64_t)(8 + width + header_len);
    int64_t want = 4 * out->h.numel;
    if ((int64_t)st.st_size - data_offset != want) {
        s = selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                          "%s: holds %lld data bytes; its header says %lld",
                          path, (long long)((int64_t)st.st_size - data_offset),
                          (long long)want);
        goto fail;
    }
    selfsup__free(text);
    out->f = f;
    return SELFSUP_OK;
fail:
    selfsup__free(text);
    fclose(f);
    return s;
}

/* Reads count little-endian 32-bit words into dst and closes the file. */
static selfsup_status npy_read_words(npy_file *nf, void *dst, int64_t count,
                                     const char *path, const char *where)
{
    size_t got = fread(dst, 4, (size_t)count, nf->f);
    int err = ferror(nf->f) ? errno : 0;
    fclose(nf->f);
    nf->f = NULL;
    if (got != (size_t)count)
        return err ? io_failure(where, "cannot read", path, err)
                   : selfsup__fail(SELFSUP_ERR_CORRUPT, where,
                                   "%s: ended after %zu of %lld values", path,
                                   got, (long long)count);
    /* In place: each word is read whole before it is written. */
    selfsup__npy_load_le32(dst, dst, (size_t)count);
    return SELFSUP_OK;
}

selfsup_status selfsup_npy_read(const char *path, selfsup_tensor **out)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(path);
    SS_CHECK_NOT_NULL(out);
    npy_file nf;
    SS_TRY(npy_open(&nf, path, "<f4", __func__));
    selfsup_tensor *t;
    selfsup_status s = selfsup_tensor_create(&t, nf.h.ndim, nf.h.dims);
    if (s != SELFSUP_OK) {
        fclose(nf.f);
        return SS_FAIL(s, "cannot allocate the %lld floats of %s",
                       (long long)nf.h.numel, path);
    }
    s = npy_read_words(&nf, t->data, t->numel, path, __func__);
    if (s != SELFSUP_OK) {
        selfsup_tensor_destroy(t);
        return s;
    }
    *out = t;
    return SELFSUP_OK;
}

selfsup_status selfsup_npy_read_labels(const char *path, int32_t *labels,
                                       int64_t capacity, int64_t *count)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(path);
    if (capacity < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "capacity = %lld is negative", (long long)capacity);
    SS_CHECK_NOT_NULL(count);
    npy_file nf;
    SS_TRY(npy_open(&nf, path, "<i4", __func__));
    int64_t n = nf.h.numel;
    if (nf.h.ndim != 1) {
        fclose(nf.f);
        return SS_FAIL(SELFSUP_ERR_UNSUPPORTED,
                       "%s: labels must be 1-D, the array has %d axes", path,
                       nf.h.ndim);
    }
    if (!labels) {
        fclose(nf.f);
        *count = n;
        return SELFSUP_OK;
    }
    if (capacity < n) {
        fclose(nf.f);
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "%s holds %lld labels; capacity = %lld", path,
                       (long long)n, (long long)capacity);
    }
    int32_t *scratch = selfsup__malloc((size_t)n * sizeof *scratch);
    if (!scratch) {
        fclose(nf.f);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the %lld labels of %s", (long long)n,
                       path);
    }
    selfsup_status s = npy_read_words(&nf, scratch, n, path, __func__);
    if (s == SELFSUP_OK) {
        memcpy(labels, scratch, (size_t)n * sizeof *labels);
        *count = n;
    }
    selfsup__free(scratch);
    return s;
}
