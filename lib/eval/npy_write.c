/* Writing .npy files atomically: temporary file beside the target, data,
 * fsync, rename. Readers of path see the old file or the new one, never a
 * half-written one, and a failure leaves the old one in place. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "npy_format.h"
#include "selfsup/eval.h"

/* Data goes out through a buffer of this many bytes, converted to little
 * endian on the way. */
enum { WRITE_BUFFER = 1 << 20, TEMP_NAME_ATTEMPTS = 100 };
#define NUMEL_MAX (INT64_C(1) << 40)

static atomic_uint temp_counter;

static selfsup_status io_failure(const char *where, const char *what,
                                 const char *path, int err)
{
    char reason[128];
    if (strerror_r(err, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "errno %d", err);
    return selfsup__fail(SELFSUP_ERR_IO, where, "%s %s: %s", what, path,
                         reason);
}

/* Writes all of buf, retrying short writes and EINTR. 0 or an errno. */
static int write_all(int fd, const void *buf, size_t size)
{
    const unsigned char *p = buf;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* Makes the directory entry of a renamed file durable. Best effort: some
 * file systems refuse fsync on a directory, and the file is in place
 * already, so a failure here is not reported. */
static void sync_parent_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

/* Creates "<path>.tmp-<pid>-<n>" exclusively; permissions 0666 less the
 * umask, as for any new file. */
static selfsup_status create_temp(const char *path, char *temp, size_t cap,
                                  int *fd_out, const char *where)
{
    for (int attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++) {
        snprintf(temp, cap, "%s.tmp-%ld-%u", path, (long)getpid(),
                 atomic_fetch_add(&temp_counter, 1));
        int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *fd_out = fd;
            return SELFSUP_OK;
        }
        if (errno != EEXIST)
            return io_failure(where, "cannot create a temporary file beside",
                              path, errno);
    }
    return io_failure(where, "cannot create a temporary file beside", path,
                      EEXIST);
}

/* The atomic write of header + count 32-bit words from data. */
static selfsup_status write_npy(const char *path, const char *descr, int ndim,
                                const int64_t *dims, const void *data,
                                int64_t count, const char *where)
{
    char header[SELFSUP__NPY_HEADER_MAX];
    size_t header_len = selfsup__npy_format_header(header, descr, ndim, dims);
    size_t temp_cap = strlen(path) + 48;
    char *temp = selfsup__malloc(temp_cap);
    unsigned char *buffer = selfsup__malloc(WRITE_BUFFER);
    if (!temp || !buffer) {
        selfsup__free(buffer);
        selfsup__free(temp);
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the write buffer for %s", path);
    }
    int fd = -1;
    selfsup_status s = create_temp(path, temp, temp_cap, &fd, where);
    if (s != SELFSUP_OK)
        goto done;
    int err = write_all(fd, header, header_len);
    const unsigned char *src = data;
    for (int64_t i = 0; !err && i < count; i += WRITE_BUFFER / 4) {
        size_t words =
            (size_t)(count - i < WRITE_BUFFER / 4 ? count - i
                                                  : WRITE_BUFFER / 4);
        selfsup__npy_store_le32(buffer, src + 4 * i, words);
        err = write_all(fd, buffer, 4 * words);
    }
    if (!err && fsync(fd) != 0)
        err = errno;
    if (err) {
        s = io_failure(where, "cannot write", path, err);
        close(fd);
        unlink(temp);
        goto done;
    }
    if (close(fd) != 0) {
        s = io_failure(where, "cannot write", path, errno);
        unlink(temp);
        goto done;
    }
    if (rename(temp, path) != 0) {
        s = io_failure(where, "cannot rename the temporary file onto", path,
                       errno);
        unlink(temp);
        goto done;
    }
    sync_parent_directory(path);
done:
    selfsup__free(buffer);
    selfsup__free(temp);
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
    SS_TRY(check_path(path, __func__));
    SS_CHECK_NOT_NULL(t);
    return write_npy(path, "<f4", t->ndim, t->dims, t->data, t->numel,
                     __func__);
}

selfsup_status selfsup_npy_write_floats(const char *path, int ndim,
                                        const int64_t *dims, const float *data)
{
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
    SS_TRY(check_path(path, __func__));
    SS_CHECK_NOT_NULL(labels);
    if (count < 1 || count > NUMEL_MAX)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "count = %lld is outside [1, 2^40]", (long long)count);
    return write_npy(path, "<i4", 1, &count, labels, count, __func__);
}
