/* CIFAR-10 and CIFAR-100 binary batches, read from the user's own copy
 * (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"): each
 * record is the label byte(s), then 1024 red, 1024 green and 1024 blue
 * values of a 32 x 32 image, row-major. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/error.h"
#include "dataset_impl.h"
#include "image_dataset.h"
#include "image_resize.h"

#define SIDE  32
#define PLANE (SIDE * SIDE)

typedef struct cifar_file {
    char path[4096];
    int64_t records;
} cifar_file;

static selfsup_status list_files(const char *dir, int hundred,
                                 const char *split, cifar_file *files,
                                 int *n_files, int record)
{
    static const char *const train10[] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin"};
    const char *const *names;
    int n;
    static const char *const test10[] = {"test_batch.bin"};
    static const char *const train100[] = {"train.bin"};
    static const char *const test100[] = {"test.bin"};
    int train = strcmp(split, "train") == 0;
    if (!train && strcmp(split, "test") != 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "split = \"%s\" is not \"train\" or \"test\"", split);
    if (hundred) {
        names = train ? train100 : test100;
        n = 1;
    } else {
        names = train ? train10 : test10;
        n = train ? 5 : 1;
    }
    for (int i = 0; i < n; i++) {
        cifar_file *f = &files[i];
        int len = snprintf(f->path, sizeof f->path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof f->path)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "path is longer than %zu characters",
                           sizeof f->path - 20);
        struct stat st;
        if (stat(f->path, &st) != 0)
            return SS_FAIL(SELFSUP_ERR_IO,
                           "%s: %s (the CIFAR-%d binary "
                           "version's %s split)",
                           f->path, strerror(errno), hundred ? 100 : 10, split);
        if (st.st_size == 0 || st.st_size % record != 0)
            return SS_FAIL(SELFSUP_ERR_CORRUPT,
                           "%s: %lld bytes is not a whole number of %d-byte "
                           "records",
                           f->path, (long long)st.st_size, record);
        f->records = st.st_size / record;
    }
    *n_files = n;
    return SELFSUP_OK;
}

/* One record's planes to fmt's size and channels. */
static void convert(const uint8_t *planes, const selfsup__image_format *fmt,
                    selfsup__resizer *r, uint8_t *row_rgb, uint8_t *row_out,
                    uint8_t *out)
{
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++)
            for (int c = 0; c < 3; c++)
                row_rgb[3 * x + c] = planes[c * PLANE + y * SIDE + x];
        selfsup__image_convert_row(row_out, row_rgb, SIDE, 3, fmt);
        if (r)
            selfsup__resizer_push_row(r, row_out);
        else
            memcpy(out + (size_t)y * SIDE * fmt->channels, row_out,
                   (size_t)SIDE * fmt->channels);
    }
    if (r)
        selfsup__resizer_finish(r, out);
}

static selfsup_status read_file(const cifar_file *f, int hundred, int fine,
                                int64_t first, const selfsup__image_format *fmt,
                                uint8_t *pixels, int32_t *labels)
{
    const int label_bytes = hundred ? 2 : 1, record = label_bytes + 3 * PLANE;
    const int classes = hundred ? (fine ? 100 : 20) : 10;
    const size_t image_bytes = (size_t)fmt->size * fmt->size * fmt->channels;
    FILE *file = fopen(f->path, "rb");
    if (!file)
        return SS_FAIL(SELFSUP_ERR_IO, "cannot open %s: %s", f->path,
                       strerror(errno));
    uint8_t buf[2 + 3 * PLANE], row_rgb[3 * SIDE], row_out[3 * SIDE];
    selfsup_status s = SELFSUP_OK;
    selfsup__resizer *r = NULL;
    if (fmt->size != SIDE &&
        selfsup__resizer_create(&r, SIDE, SIDE, fmt->channels, fmt->size) !=
            SELFSUP_OK)
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
    for (int64_t i = 0; i < f->records && s == SELFSUP_OK; i++) {
        if (fread(buf, 1, (size_t)record, file) != (size_t)record) {
            s = SS_FAIL(ferror(file) ? SELFSUP_ERR_IO : SELFSUP_ERR_CORRUPT,
                        "%s: record %lld cannot be read", f->path,
                        (long long)i);
            break;
        }
        int label = buf[hundred && fine ? 1 : 0];
        if (label >= classes) {
            s = SS_FAIL(SELFSUP_ERR_CORRUPT,
                        "%s: record %lld has label %d, not below %d", f->path,
                        (long long)i, label, classes);
            break;
        }
        labels[first + i] = label;
        if (r)
            selfsup__resizer_reset(r);
        convert(buf + label_bytes, fmt, r, row_rgb, row_out,
                pixels + (size_t)(first + i) * image_bytes);
    }
    selfsup__resizer_destroy(r);
    fclose(file);
    return s;
}

selfsup_status selfsup__cifar_open(selfsup_dataset **out, const char *dir,
                                   int hundred, int fine, const char *split,
                                   const selfsup__image_format *fmt)
{
    const int record = (hundred ? 2 : 1) + 3 * PLANE;
    cifar_file files[5];
    int n_files = 0;
    SS_TRY(list_files(dir, hundred, split, files, &n_files, record));
    int64_t count = 0;
    for (int i = 0; i < n_files; i++)
        count += files[i].records;
    const size_t image_bytes = (size_t)fmt->size * fmt->size * fmt->channels;
    uint8_t *pixels = selfsup__malloc((size_t)count * image_bytes);
    int32_t *labels = selfsup__malloc((size_t)count * sizeof *labels);
    selfsup_status s = SELFSUP_OK;
    if (!pixels || !labels)
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                    "cannot allocate %lld images of %d x %d x %d",
                    (long long)count, fmt->size, fmt->size, fmt->channels);
    for (int i = 0, first = 0; i < n_files && s == SELFSUP_OK;
         first += (int)files[i].records, i++)
        s = read_file(&files[i], hundred, fine, first, fmt, pixels, labels);
    if (s != SELFSUP_OK) {
        selfsup__free(pixels);
        selfsup__free(labels);
        return s;
    }
    return selfsup__dataset_adopt(out, pixels, count, fmt->size, fmt->channels,
                                  labels, NULL);
}
