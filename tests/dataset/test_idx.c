/* The IDX reader: the real Fashion-MNIST files (when installed), small
 * valid files raw and gzip, and malformed files that must each fail with
 * SELFSUP_ERR_CORRUPT or SELFSUP_ERR_IO, a message naming the file and the
 * field, untouched outputs and no leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_impl.h"
#include "suites.h"
#include "test_support.h"

static int fashion_mnist_installed(void)
{
    if (access(SELFSUP_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) ==
        0)
        return 1;
    fprintf(stderr,
            "dataset-fashion-mnist is not installed in %s: skipping "
            "the real-file checks\n",
            SELFSUP_FASHION_MNIST_DIR);
    return 0;
}

static int64_t pixel_sum(const selfsup_dataset *d, int64_t i)
{
    const uint8_t *p = NULL;
    ss_assert_ok(selfsup_dataset_image(d, i, &p));
    int64_t s = 0;
    for (int k = 0; k < 784; k++)
        s += p[k];
    return s;
}

/* Values computed from the files with Python's gzip module. */
START_TEST(fashion_mnist_train_and_test)
{
    if (!fashion_mnist_installed())
        return;
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open_fashion_mnist(&d, NULL, "train"));
    ck_assert_int_eq(selfsup_dataset_count(d), 60000);
    ck_assert_int_eq(selfsup_dataset_height(d), 28);
    ck_assert_int_eq(selfsup_dataset_width(d), 28);
    ck_assert_int_eq(selfsup_dataset_channels(d), 1);
    ck_assert_int_eq(selfsup_dataset_has_labels(d), 1);
    ck_assert_int_eq(pixel_sum(d, 0), 76247);
    ck_assert_int_eq(pixel_sum(d, 1), 84598);
    ck_assert_int_eq(pixel_sum(d, 59999), 16684);
    const uint8_t *p;
    ss_assert_ok(selfsup_dataset_image(d, 0, &p));
    ck_assert_int_eq(p[14 * 28 + 14], 217);
    int32_t labels[12];
    ss_assert_ok(selfsup_dataset_labels(d, 0, 12, labels));
    const int32_t first[12] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9};
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(labels[i], first[i]);
    ss_assert_ok(selfsup_dataset_labels(d, 59999, 1, labels));
    ck_assert_int_eq(labels[0], 5);
    /* Ten balanced classes of 6000. */
    int32_t *all = malloc(60000 * sizeof(int32_t));
    ss_assert_ok(selfsup_dataset_labels(d, 0, 60000, all));
    int hist[10] = {0};
    for (int i = 0; i < 60000; i++) {
        ck_assert(all[i] >= 0 && all[i] < 10);
        hist[all[i]]++;
    }
    for (int k = 0; k < 10; k++)
        ck_assert_int_eq(hist[k], 6000);
    free(all);
    /* The whole file's mean: 3431114169 / (60000 * 784 * 255). */
    float mean, std;
    ss_assert_ok(selfsup_dataset_stats(d, &mean, &std));
    ss_assert_close(mean, 3431114169.0 / (60000.0 * 784 * 255), 1e-6, 0);
    ss_assert_close(std, 0.3530, 5e-5, 0);
    selfsup_dataset_destroy(d);

    ss_assert_ok(selfsup_dataset_open_fashion_mnist(&d, NULL, "test"));
    ck_assert_int_eq(selfsup_dataset_count(d), 10000);
    ck_assert_int_eq(pixel_sum(d, 0), 33456);
    ck_assert_int_eq(pixel_sum(d, 1), 100994);
    ck_assert_int_eq(pixel_sum(d, 9999), 24390);
    ss_assert_ok(selfsup_dataset_labels(d, 0, 12, labels));
    const int32_t test_first[12] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5};
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(labels[i], test_first[i]);
    selfsup_dataset_destroy(d);

    /* The same through selfsup_dataset_open_idx, without labels. */
    ss_assert_ok(selfsup_dataset_open_idx(
        &d, SELFSUP_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 10000);
    ck_assert_int_eq(selfsup_dataset_has_labels(d), 0);
    ck_assert_int_eq(pixel_sum(d, 1), 100994);
    selfsup_dataset_destroy(d);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

START_TEST(fashion_mnist_errors)
{
    selfsup_dataset *sentinel = (selfsup_dataset *)(uintptr_t)0x55;
    selfsup_dataset *d = sentinel;
    ss_assert_fails(selfsup_dataset_open_fashion_mnist(&d, NULL, "val"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "split = \"val\"");
    ss_assert_fails(selfsup_dataset_open_fashion_mnist(&d, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "split is NULL");
    ss_assert_fails(
        selfsup_dataset_open_fashion_mnist(&d, "/nonexistent/dir", "train"),
        SELFSUP_ERR_IO,
        "cannot open \"/nonexistent/dir/train-images-idx3-ubyte.gz\"");
    ss_assert_fails(selfsup_dataset_open_idx(&d, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "images_path is NULL");
    ss_assert_fails(selfsup_dataset_open_idx(NULL, "x", NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ck_assert_ptr_eq(d, sentinel);
}
END_TEST

/* 5 images of 3 x 4 and their labels, raw and gzip, from files and from
 * memory: the same dataset. */
static uint8_t tiny_pixels[5 * 12];
static const uint32_t tiny_dims[3] = {5, 3, 4};
static const uint8_t tiny_labels[5] = {3, 1, 4, 1, 5};

static void check_tiny(const selfsup_dataset *d)
{
    ck_assert_int_eq(selfsup_dataset_count(d), 5);
    ck_assert_int_eq(selfsup_dataset_height(d), 3);
    ck_assert_int_eq(selfsup_dataset_width(d), 4);
    ck_assert_int_eq(selfsup_dataset_channels(d), 1);
    const uint8_t *p;
    ss_assert_ok(selfsup_dataset_image(d, 0, &p));
    ck_assert(memcmp(p, tiny_pixels, sizeof tiny_pixels) == 0);
    int32_t labels[5];
    ss_assert_ok(selfsup_dataset_labels(d, 0, 5, labels));
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(labels[i], tiny_labels[i]);
}

START_TEST(tiny_files_raw_gzip_and_memory)
{
    for (int i = 0; i < (int)sizeof tiny_pixels; i++)
        tiny_pixels[i] = (uint8_t)(i * 31 + 7);
    char dir[512], img[1024], lab[1024];
    scratch_dir_make(dir, sizeof dir);
    for (int gz = 0; gz < 2; gz++) {
        write_idx(img, sizeof img, dir, gz ? "i.gz" : "i", 0x803, 3, tiny_dims,
                  tiny_pixels, sizeof tiny_pixels, gz);
        const uint32_t ldims[1] = {5};
        write_idx(lab, sizeof lab, dir, gz ? "l.gz" : "l", 0x801, 1, ldims,
                  tiny_labels, 5, gz);
        selfsup_dataset *d = NULL;
        ss_assert_ok(selfsup_dataset_open_idx(&d, img, lab));
        check_tiny(d);
        selfsup_dataset_destroy(d);
        /* The same bytes through the memory path. */
        FILE *f = fopen(img, "rb");
        uint8_t ibuf[4096], lbuf[4096];
        size_t ni = fread(ibuf, 1, sizeof ibuf, f);
        fclose(f);
        f = fopen(lab, "rb");
        size_t nl = fread(lbuf, 1, sizeof lbuf, f);
        fclose(f);
        ck_assert_int_eq(ibuf[0] == 0x1f && ibuf[1] == 0x8b, gz);
        ss_assert_ok(
            selfsup__dataset_open_idx_memory(&d, ibuf, ni, "i", lbuf, nl, "l"));
        check_tiny(d);
        selfsup_dataset_destroy(d);
    }
    /* Two gzip members one after the other read as one stream (as gzread
     * and zcat do). */
    {
        char path[1024];
        snprintf(path, sizeof path, "%s/two.gz", dir);
        uint8_t header[16] = {0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 4};
        gzFile g = gzopen(path, "wb");
        gzwrite(g, header, 16);
        gzwrite(g, tiny_pixels, 20);
        gzclose(g);
        g = gzopen(path, "ab");
        gzwrite(g, tiny_pixels + 20, sizeof tiny_pixels - 20);
        gzclose(g);
        selfsup_dataset *d = NULL;
        ss_assert_ok(selfsup_dataset_open_idx(&d, path, NULL));
        const uint8_t *p;
        ss_assert_ok(selfsup_dataset_image(d, 0, &p));
        ck_assert(memcmp(p, tiny_pixels, sizeof tiny_pixels) == 0);
        selfsup_dataset_destroy(d);
    }
    scratch_dir_remove(dir);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

typedef struct open_ctx {
    const char *images, *labels;
} open_ctx;

static selfsup_status open_and_close(void *p)
{
    open_ctx *ctx = p;
    selfsup_dataset *d = NULL;
    SS_TRY(selfsup_dataset_open_idx(&d, ctx->images, ctx->labels));
    selfsup_dataset_destroy(d);
    return SELFSUP_OK;
}

/* zlib's state, the read buffer, the growing data buffer, the labels and
 * the dataset: every allocation may fail, none leaks. */
START_TEST(open_allocation_failures_are_clean)
{
    char dir[512], img[1024], lab[1024];
    scratch_dir_make(dir, sizeof dir);
    enum { COUNT = 2000 };
    uint8_t *pixels = malloc(COUNT * 12);
    for (int i = 0; i < COUNT * 12; i++)
        pixels[i] = (uint8_t)(i * 131 >> 4);
    uint8_t labels[COUNT];
    memset(labels, 7, sizeof labels);
    const uint32_t dims[3] = {COUNT, 3, 4}, ldims[1] = {COUNT};
    /* 24000 bytes: the data buffer starts at 24000 for raw files (their
     * size is known) and at 1 MiB or less for gzip. */
    write_idx(img, sizeof img, dir, "i.gz", 0x803, 3, dims, pixels, COUNT * 12,
              1);
    write_idx(lab, sizeof lab, dir, "l", 0x801, 1, ldims, labels, COUNT, 0);
    open_ctx ctx = {img, lab};
    ck_assert_int_gt(ss_sweep_alloc_failures(open_and_close, &ctx, SELFSUP_OK),
                     5);
    free(pixels);
    scratch_dir_remove(dir);
}
END_TEST

TCase *idx_tcase(void)
{
    TCase *tc = tcase_create("idx");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fashion_mnist_train_and_test);
    tcase_add_test(tc, fashion_mnist_errors);
    tcase_add_test(tc, tiny_files_raw_gzip_and_memory);
    tcase_add_test(tc, open_allocation_failures_are_clean);
    return tc;
}

/* ---- malformed files ------------------------------------------------- */

static char dir_[512];

/* Opens images (and labels, or NULL) and expects status with needle in the
 * message, the output untouched and nothing leaked. */
static void expect_failure(const char *images, const char *labels,
                           selfsup_status status, const char *needle)
{
    long live = selfsup__alloc_live();
    selfsup_dataset *sentinel = (selfsup_dataset *)(uintptr_t)0x42;
    selfsup_dataset *d = sentinel;
    ss_assert_fails(selfsup_dataset_open_idx(&d, images, labels), status,
                    needle);
    ck_assert_ptr_eq(d, sentinel);
    ck_assert_int_eq(selfsup__alloc_live(), live);
    /* The message names the file. */
    const char *file = strrchr(labels ? labels : images, '/') + 1;
    if (status == SELFSUP_ERR_CORRUPT)
        ck_assert_msg(strstr(selfsup_last_error(), file),
                      "\"%s\" does not name %s", selfsup_last_error(), file);
}

static uint8_t *gz_bytes(const uint8_t *raw, size_t n, size_t *out_n)
{
    uLongf cap = compressBound(n) + 32;
    uint8_t *z = malloc(cap);
    z_stream s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(
        deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    s.next_in = (Bytef *)raw;
    s.avail_in = (uInt)n;
    s.next_out = z;
    s.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
    *out_n = cap - s.avail_out;
    deflateEnd(&s);
    return z;
}

static void header_bytes(uint8_t *out, uint32_t magic, int rank,
                         const uint32_t *dims)
{
    for (int i = 0; i <= rank; i++) {
        uint32_t v = i == 0 ? magic : dims[i - 1];
        out[4 * i] = (uint8_t)(v >> 24);
        out[4 * i + 1] = (uint8_t)(v >> 16);
        out[4 * i + 2] = (uint8_t)(v >> 8);
        out[4 * i + 3] = (uint8_t)v;
    }
}

START_TEST(malformed_headers)
{
    scratch_dir_make(dir_, sizeof dir_);
    char p[1024];
    uint8_t data[60] = {0};
    const uint32_t dims[3] = {5, 3, 4};
    for (int gz = 0; gz < 2; gz++) {
        const char *suffix = gz ? ".gz" : "";
        char name[64];
        snprintf(name, sizeof name, "magic%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x01000803, 3, dims, data, 60, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "not an IDX file");
        snprintf(name, sizeof name, "dtype%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x00000d03, 3, dims, data, 60, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                       "data type 0x0d is not 0x08");
        snprintf(name, sizeof name, "rank%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x00000802, 2, dims, data, 60, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "rank 2, expected 3");
        /* A label file given as images, and the other way round. */
        const uint32_t ldims[1] = {5};
        snprintf(name, sizeof name, "labels%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x801, 1, ldims, data, 5, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "rank 1, expected 3");
        char img[1024];
        snprintf(name, sizeof name, "images%s", suffix);
        write_idx(img, sizeof img, dir_, name, 0x803, 3, dims, data, 60, gz);
        expect_failure(img, img, SELFSUP_ERR_CORRUPT, "rank 3, expected 1");
        const uint32_t zero[3] = {5, 3, 0};
        snprintf(name, sizeof name, "zero%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x803, 3, zero, data, 0, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                       "dimension 2 (columns) is 0");
        const uint32_t wide[3] = {1, 1, 70000};
        snprintf(name, sizeof name, "wide%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x803, 3, wide, data, 60, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                       "dimension 2 (columns) = 70000 exceeds 65536");
        /* 2^32 - 1 images of 65536 x 65536: the product overflows 64 bits
         * unless checked; the file holds 60 bytes. */
        const uint32_t huge[3] = {0xffffffffu, 65536, 65536};
        snprintf(name, sizeof name, "huge%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x803, 3, huge, data, 60, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                       "makes more than 2^40 bytes");
        /* Plausible but false: 2^24 images of 256 x 256 (2^40 bytes). A
         * raw file is refused from its size, a gzip one when its data
         * ends, after growing a buffer only as far as data came. */
        const uint32_t lie[3] = {1u << 23, 256, 256};
        snprintf(name, sizeof name, "lie%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x803, 3, lie, data, 60, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                       gz ? "60 bytes of data, but the header says "
                            "549755813888"
                          : "76 bytes, but the header (8388608 items) makes "
                            "549755813904");
    }
    /* Short files: empty, inside the magic, inside the dimensions. */
    uint8_t header[16];
    header_bytes(header, 0x803, 3, dims);
    write_bytes(p, sizeof p, dir_, "empty", header, 0);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                   "0 bytes, shorter than the 4-byte IDX magic");
    write_bytes(p, sizeof p, dir_, "three", header, 3);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "3 bytes, shorter");
    write_bytes(p, sizeof p, dir_, "dims", header, 10);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                   "the header ends inside the dimensions (6 of 12 bytes)");
    scratch_dir_remove(dir_);
}
END_TEST

START_TEST(malformed_lengths_and_streams)
{
    scratch_dir_make(dir_, sizeof dir_);
    char p[1024], lab[1024];
    uint8_t data[64];
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(i * 3);
    const uint32_t dims[3] = {5, 3, 4};
    for (int gz = 0; gz < 2; gz++) {
        const char *suffix = gz ? ".gz" : "";
        char name[64];
        /* Data short of the header's count, and longer. */
        snprintf(name, sizeof name, "short%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x803, 3, dims, data, 59, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                       gz ? "59 bytes of data, but the header says 60"
                          : "75 bytes, but the header (5 items) makes 76");
        snprintf(name, sizeof name, "long%s", suffix);
        write_idx(p, sizeof p, dir_, name, 0x803, 3, dims, data, 61, gz);
        expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                       gz ? "more data than the header's 60 bytes"
                          : "77 bytes, but the header (5 items) makes 76");
        /* Labels that do not match the images. */
        char img[1024];
        snprintf(name, sizeof name, "img%s", suffix);
        write_idx(img, sizeof img, dir_, name, 0x803, 3, dims, data, 60, gz);
        const uint32_t four[1] = {4};
        snprintf(name, sizeof name, "lab4%s", suffix);
        write_idx(lab, sizeof lab, dir_, name, 0x801, 1, four, data, 4, gz);
        expect_failure(img, lab, SELFSUP_ERR_CORRUPT, "has 4 labels but");
        ck_assert_ptr_nonnull(strstr(selfsup_last_error(), "has 5 images"));
    }

    /* A gzip stream cut short: inside the deflate data and inside the
     * trailer. */
    uint8_t raw[16 + 60];
    header_bytes(raw, 0x803, 3, dims);
    memcpy(raw + 16, data, 60);
    size_t zn;
    uint8_t *z = gz_bytes(raw, sizeof raw, &zn);
    write_bytes(p, sizeof p, dir_, "cut.gz", z, zn / 2);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "the gzip stream ends early");
    write_bytes(p, sizeof p, dir_, "cut_trailer.gz", z, zn - 3);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "the gzip stream ends early");
    /* A wrong CRC in the trailer. */
    uint8_t *bad = malloc(zn);
    memcpy(bad, z, zn);
    bad[zn - 8] ^= 0x5a;
    write_bytes(p, sizeof p, dir_, "crc.gz", bad, zn);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT,
                   "the gzip stream is corrupt (incorrect data check)");
    /* Garbage in the deflate data: a block type that does not exist. */
    memcpy(bad, z, zn);
    bad[10] = 0xff;
    write_bytes(p, sizeof p, dir_, "garbled.gz", bad, zn);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "the gzip stream is corrupt");
    /* A corrupt gzip header (flags with reserved bits). */
    memcpy(bad, z, zn);
    bad[3] = 0xe0;
    write_bytes(p, sizeof p, dir_, "flags.gz", bad, zn);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "the gzip stream is corrupt");
    /* Bytes after the gzip stream that are not another member. */
    uint8_t *tail = malloc(zn + 4);
    memcpy(tail, z, zn);
    memcpy(tail + zn, "junk", 4);
    write_bytes(p, sizeof p, dir_, "junk.gz", tail, zn + 4);
    expect_failure(p, NULL, SELFSUP_ERR_CORRUPT, "the gzip stream is corrupt");
    free(tail);
    free(bad);
    free(z);

    /* Files that cannot be opened or read: SELFSUP_ERR_IO. */
    snprintf(p, sizeof p, "%s/missing", dir_);
    expect_failure(p, NULL, SELFSUP_ERR_IO, "No such file or directory");
    ck_assert_ptr_nonnull(strstr(selfsup_last_error(), "missing"));
    expect_failure(dir_, NULL, SELFSUP_ERR_IO, "read error");
    write_idx(p, sizeof p, dir_, "ok", 0x803, 3, dims, data, 60, 0);
    snprintf(lab, sizeof lab, "%s/nolabels", dir_);
    expect_failure(p, lab, SELFSUP_ERR_IO, "cannot open");
    ck_assert_ptr_nonnull(strstr(selfsup_last_error(), "nolabels"));
    scratch_dir_remove(dir_);
}
END_TEST

/* The memory path refuses the same way. */
START_TEST(malformed_memory_buffers)
{
    const uint32_t dims[3] = {2, 2, 2};
    uint8_t raw[16 + 8];
    header_bytes(raw, 0x803, 3, dims);
    memset(raw + 16, 9, 8);
    selfsup_dataset *d = NULL;
    long live = selfsup__alloc_live();
    ss_assert_ok(selfsup__dataset_open_idx_memory(&d, raw, sizeof raw, "m",
                                                  NULL, 0, NULL));
    selfsup_dataset_destroy(d);
    ss_assert_fails(selfsup__dataset_open_idx_memory(&d, raw, sizeof raw - 1,
                                                     "m", NULL, 0, NULL),
                    SELFSUP_ERR_CORRUPT, "\"m\": 23 bytes");
    ss_assert_fails(
        selfsup__dataset_open_idx_memory(&d, raw, 0, "m", NULL, 0, NULL),
        SELFSUP_ERR_CORRUPT, "0 bytes");
    uint8_t gzmagic[3] = {0x1f, 0x8b, 0x08};
    ss_assert_fails(
        selfsup__dataset_open_idx_memory(&d, gzmagic, 3, "g", NULL, 0, NULL),
        SELFSUP_ERR_CORRUPT, "\"g\": the gzip stream ends early");
    ck_assert_int_eq(selfsup__alloc_live(), live);
}
END_TEST

TCase *idx_malformed_tcase(void)
{
    TCase *tc = tcase_create("idx_malformed");
    tcase_add_test(tc, malformed_headers);
    tcase_add_test(tc, malformed_lengths_and_streams);
    tcase_add_test(tc, malformed_memory_buffers);
    return tc;
}
