/* selfsup_dataset_open on collections the tests build: ImageFolder with
 * train/test splits, flat folders, list files, CIFAR batches, detection,
 * and the messy cases (damaged files, empty folders, symlink loops, odd
 * names, bombs) that must each fail naming the file or, with skip_bad, be
 * left out and listed. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_files.h"
#include "suites.h"
#include "test_support.h"

static char root[256];

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/selfsup-collection-XXXXXX",
             tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* root/rel, with its folders made. */
static const char *at(const char *rel)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    return path;
}

/* An 8 x 8 gray PNG whose every pixel is value. */
static void gray_png(const char *rel, int value)
{
    uint8_t rows[64];
    memset(rows, value, sizeof rows);
    write_png(at(rel), &(png_spec){8, 8, PNG_COLOR_TYPE_GRAY, 8, 0, 0, 0, 0, 0},
              rows);
}

static void text_file(const char *rel, const char *text)
{
    FILE *f = fopen(at(rel), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char spec[2048];

static const char *spec_for(const char *kind, const char *rel, const char *keys)
{
    snprintf(spec, sizeof spec, "%s:path=\"%s/%s\"%s%s", kind, root, rel,
             keys ? "," : "", keys ? keys : "");
    return spec;
}

static int first_pixel(const selfsup_dataset *d, int64_t i)
{
    const uint8_t *p;
    ss_assert_ok(selfsup_dataset_image(d, i, &p));
    return p[0];
}

static const char *base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

START_TEST(image_folder_with_splits)
{
    gray_png("c/train/dog/b.png", 20);
    gray_png("c/train/dog/more/a.png", 21); /* nested: still a dog */
    gray_png("c/train/cat/x.PNG", 10);
    gray_png("c/train/cat/.hidden.png", 99); /* skipped */
    text_file("c/train/cat/notes.txt", "not an image\n");
    gray_png("c/test/zebra/z.png", 30); /* only the test split has it */
    gray_png("c/test/dog/t.png", 22);
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("folder", "c", "size=8,channels=1"), NULL, NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 3);
    ck_assert_int_eq(selfsup_dataset_class_count(d), 3);
    ck_assert_str_eq(selfsup_dataset_class_name(d, 0), "cat");
    ck_assert_str_eq(selfsup_dataset_class_name(d, 1), "dog");
    ck_assert_str_eq(selfsup_dataset_class_name(d, 2), "zebra");
    int32_t labels[3];
    ss_assert_ok(selfsup_dataset_labels(d, 0, 3, labels));
    /* classes in order, files by path within a class */
    ck_assert_int_eq(labels[0], 0);
    ck_assert_int_eq(labels[1], 1);
    ck_assert_int_eq(labels[2], 1);
    ck_assert_str_eq(base(selfsup_dataset_source(d, 0)), "x.PNG");
    ck_assert_str_eq(base(selfsup_dataset_source(d, 1)), "b.png");
    ck_assert_str_eq(base(selfsup_dataset_source(d, 2)), "a.png");
    ck_assert_int_eq(first_pixel(d, 0), 10);
    ck_assert_int_eq(first_pixel(d, 2), 21);
    ck_assert_ptr_null(selfsup_dataset_source(d, 3));
    selfsup_dataset_destroy(d);

    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("auto", "c", "size=8,channels=1"), "test", NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 2);
    ss_assert_ok(selfsup_dataset_labels(d, 0, 2, labels));
    ck_assert_int_eq(labels[0], 1); /* dog: the same index as in train */
    ck_assert_int_eq(labels[1], 2);
    selfsup_dataset_destroy(d);
}
END_TEST

START_TEST(flat_folder_and_layouts)
{
    gray_png("f/one.png", 1);
    gray_png("f/two.jpg.png", 2);
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open(&d, spec_for("auto", "f", "size=4"), NULL,
                                      NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 2);
    ck_assert_int_eq(selfsup_dataset_has_labels(d), 0);
    ck_assert_int_eq(selfsup_dataset_channels(d), 3);
    ck_assert_int_eq(selfsup_dataset_height(d), 4);
    selfsup_dataset_destroy(d);

    /* images beside folders: ambiguous until the layout is named */
    gray_png("f/sub/three.png", 3);
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("folder", "f", NULL),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "layout=classes");
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("folder", "f", "layout=flat,size=4"), NULL, NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 3);
    selfsup_dataset_destroy(d);
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("folder", "f", "layout=classes,size=4"), NULL, NULL,
        NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 1);
    ck_assert_str_eq(selfsup_dataset_class_name(d, 0), "sub");
    selfsup_dataset_destroy(d);
}
END_TEST

START_TEST(list_files)
{
    gray_png("l/img/a.png", 5);
    gray_png("l/img/b b.png", 6);
    text_file("l/list.txt", "# a comment\nimg/a.png\t3\n\nimg/b b.png\t0\n");
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("auto", "l/list.txt", "size=8,channels=1"), NULL, NULL,
        NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 2);
    int32_t labels[2];
    ss_assert_ok(selfsup_dataset_labels(d, 0, 2, labels));
    ck_assert_int_eq(labels[0], 3);
    ck_assert_int_eq(labels[1], 0);
    ck_assert_int_eq(selfsup_dataset_class_count(d), 4);
    ck_assert_int_eq(first_pixel(d, 1), 6);
    selfsup_dataset_destroy(d);

    text_file("l/mixed.txt", "img/a.png\t1\nimg/b b.png\n");
    ss_assert_fails(selfsup_dataset_open(&d,
                                         spec_for("list", "l/mixed.txt", NULL),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_CORRUPT, "line 2: lacks a label");
    text_file("l/badlabel.txt", "img/a.png\tcat\n");
    ss_assert_fails(
        selfsup_dataset_open(&d, spec_for("list", "l/badlabel.txt", NULL), NULL,
                             NULL, NULL),
        SELFSUP_ERR_CORRUPT, "label \"cat\"");
    text_file("l/missing.txt", "img/nope.png\n");
    ss_assert_fails(
        selfsup_dataset_open(&d, spec_for("list", "l/missing.txt", NULL), NULL,
                             NULL, NULL),
        SELFSUP_ERR_IO, "nope.png: cannot open");
    ss_assert_fails(selfsup_dataset_open(&d,
                                         spec_for("list", "l/list.txt", NULL),
                                         "test", NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "one split");
}
END_TEST

START_TEST(bad_files_refused_or_skipped)
{
    gray_png("b/cls/good.png", 7);
    text_file("b/cls/fake.png", "this is text");
    gray_png("b/cls/zzz.png", 8);
    size_t len;
    uint8_t *bytes = read_file(at("b/cls/zzz.png"), &len);
    FILE *f = fopen(at("b/cls/zzz.png"), "wb");
    fwrite(bytes, 1, len / 2, f); /* truncated */
    fclose(f);
    free(bytes);
    selfsup_dataset *d = NULL;
    /* the first bad file in order is the one named */
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("folder", "b", NULL),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_CORRUPT, "fake.png: not a PNG or JPEG");
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("folder", "b", "skip_bad=1,size=8,channels=1"), NULL, NULL,
        NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 1);
    ck_assert_int_eq(first_pixel(d, 0), 7);
    ck_assert_int_eq(selfsup_dataset_skipped_count(d), 2);
    ck_assert_ptr_nonnull(strstr(selfsup_dataset_skipped(d, 0), "fake.png"));
    ck_assert_ptr_nonnull(
        strstr(selfsup_dataset_skipped(d, 1), "zzz.png: truncated PNG"));
    ck_assert_ptr_null(selfsup_dataset_skipped(d, 2));
    selfsup_dataset_destroy(d);

    /* nothing decodes: refused even when skipping */
    text_file("n/only.jpg", "");
    ss_assert_fails(selfsup_dataset_open(&d,
                                         spec_for("folder", "n", "skip_bad=1"),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_CORRUPT, "only.jpg: empty file");
}
END_TEST

START_TEST(empty_folders_and_loops)
{
    selfsup_dataset *d = NULL;
    mkdir(at("e"), 0755);
    text_file("e/readme.txt", "no images here");
    ss_assert_fails(
        selfsup_dataset_open(&d, spec_for("auto", "e", NULL), NULL, NULL, NULL),
        SELFSUP_ERR_INVALID_ARGUMENT, "holds no images");
    gray_png("k/full/a.png", 1);
    mkdir(at("k/empty"), 0755);
    ss_assert_fails(
        selfsup_dataset_open(&d, spec_for("auto", "k", NULL), NULL, NULL, NULL),
        SELFSUP_ERR_CORRUPT, "class folder with no images");

    gray_png("s/cls/a.png", 1);
    ck_assert_int_eq(symlink("..", at("s/cls/up")), 0);
    ck_assert_int_eq(symlink("self.png", at("s/cls/self.png")), 0);
    ss_assert_fails(
        selfsup_dataset_open(&d, spec_for("auto", "s", NULL), NULL, NULL, NULL),
        SELFSUP_ERR_CORRUPT, "symlink loop");
    ss_assert_ok(selfsup_dataset_open(&d, spec_for("auto", "s", "skip_bad=1"),
                                      NULL, NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 1);
    ck_assert_int_eq(selfsup_dataset_skipped_count(d), 2);
    selfsup_dataset_destroy(d);
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("auto", "nowhere", NULL),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_IO, "nowhere");
}
END_TEST

/* Names are bytes: spaces, a newline, bytes that are not UTF-8. */
START_TEST(odd_file_names)
{
    gray_png("o/a b.png", 1);
    gray_png("o/new\nline.png", 2);
    gray_png("o/\xff\xfe.png", 3);
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("auto", "o", "size=8,channels=1"), NULL, NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 3);
    ck_assert_str_eq(base(selfsup_dataset_source(d, 0)), "a b.png");
    ck_assert_str_eq(base(selfsup_dataset_source(d, 1)), "new\nline.png");
    ck_assert_str_eq(base(selfsup_dataset_source(d, 2)), "\xff\xfe.png");
    ck_assert_int_eq(first_pixel(d, 2), 3);
    selfsup_dataset_destroy(d);
}
END_TEST

/* Mixed sizes and channel counts come out alike, converted as
 * documented: gray replicated, alpha over the background. */
START_TEST(mixed_sizes_and_channels)
{
    uint8_t rows[40 * 30 * 4];
    memset(rows, 100, 10 * 20);
    write_png(at("m/a_gray.png"),
              &(png_spec){10, 20, PNG_COLOR_TYPE_GRAY, 8, 0, 0, 0, 0, 0}, rows);
    for (int i = 0; i < 40 * 30; i++) {
        rows[4 * i] = 200, rows[4 * i + 1] = 0, rows[4 * i + 2] = 0;
        rows[4 * i + 3] = 0; /* fully transparent */
    }
    write_png(at("m/b_rgba.png"),
              &(png_spec){40, 30, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0, 0, 0, 0},
              rows);
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("auto", "m", "size=16,background=40"), NULL, NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 2);
    const uint8_t *p;
    ss_assert_ok(selfsup_dataset_image(d, 0, &p));
    for (int i = 0; i < 16 * 16 * 3; i++)
        ck_assert_int_eq(p[i], 100);
    ss_assert_ok(selfsup_dataset_image(d, 1, &p));
    for (int i = 0; i < 16 * 16 * 3; i++)
        ck_assert_int_eq(p[i], 40);
    selfsup_dataset_destroy(d);
}
END_TEST

START_TEST(bomb_refused_before_reading)
{
    uint8_t rows[64 * 64];
    memset(rows, 9, sizeof rows);
    write_png(at("p/big.png"),
              &(png_spec){64, 64, PNG_COLOR_TYPE_GRAY, 8, 0, 0, 0, 0, 0}, rows);
    selfsup_dataset *d = NULL;
    ss_assert_fails(
        selfsup_dataset_open(&d, spec_for("auto", "p", "max_pixels=4095"), NULL,
                             NULL, NULL),
        SELFSUP_ERR_UNSUPPORTED, "big.png: 64 x 64 pixels exceed");
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("auto", "p", "max_pixels=4096"), NULL, NULL, NULL));
    selfsup_dataset_destroy(d);
}
END_TEST

static void cifar_file(const char *rel, int records, int label_bytes,
                       int first_label)
{
    int record = label_bytes + 3072;
    uint8_t *bytes = calloc((size_t)records, (size_t)record);
    for (int r = 0; r < records; r++) {
        uint8_t *rec = bytes + (size_t)r * record;
        for (int k = 0; k < label_bytes; k++)
            rec[k] = (uint8_t)((first_label + r + 3 * k) % 10);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 1024; i++)
                rec[label_bytes + c * 1024 + i] = (uint8_t)(i + 50 * c + r);
    }
    FILE *f = fopen(at(rel), "wb");
    fwrite(bytes, 1, (size_t)records * record, f);
    fclose(f);
    free(bytes);
}

START_TEST(cifar_batches)
{
    for (int b = 1; b <= 5; b++) {
        char name[64];
        snprintf(name, sizeof name, "x/cifar-10-batches-bin/data_batch_%d.bin",
                 b);
        cifar_file(name, 2, 1, b);
    }
    cifar_file("x/cifar-10-batches-bin/test_batch.bin", 3, 1, 0);
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open(&d, spec_for("auto", "x", NULL), NULL,
                                      NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 10);
    ck_assert_int_eq(selfsup_dataset_height(d), 32);
    ck_assert_int_eq(selfsup_dataset_channels(d), 3);
    const uint8_t *p;
    ss_assert_ok(selfsup_dataset_image(d, 3, &p)); /* batch 2, record 1 */
    /* planes to HWC: pixel (y, x) channel c is (32 y + x) + 50 c + r */
    ck_assert_int_eq(p[(5 * 32 + 7) * 3 + 2], (5 * 32 + 7 + 100 + 1) % 256);
    int32_t labels[10];
    ss_assert_ok(selfsup_dataset_labels(d, 0, 10, labels));
    ck_assert_int_eq(labels[3], 3);
    ck_assert_ptr_null(selfsup_dataset_source(d, 0));
    selfsup_dataset_destroy(d);
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("cifar10", "x/cifar-10-batches-bin", "size=16,channels=1"),
        "test", NULL, NULL));
    ck_assert_int_eq(selfsup_dataset_count(d), 3);
    ck_assert_int_eq(selfsup_dataset_height(d), 16);
    selfsup_dataset_destroy(d);

    cifar_file("h/train.bin", 4, 2, 0);
    ss_assert_ok(selfsup_dataset_open(
        &d, spec_for("auto", "h", "labels=coarse"), NULL, NULL, NULL));
    ss_assert_ok(selfsup_dataset_labels(d, 0, 4, labels));
    ck_assert_int_eq(labels[1], 1);
    selfsup_dataset_destroy(d);
    ss_assert_ok(selfsup_dataset_open(&d, spec_for("auto", "h", NULL), NULL,
                                      NULL, NULL));
    ss_assert_ok(selfsup_dataset_labels(d, 0, 4, labels));
    ck_assert_int_eq(labels[1], 4); /* fine: the second byte */
    selfsup_dataset_destroy(d);

    text_file("h/test.bin", "short");
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("auto", "h", NULL),
                                         "test", NULL, NULL),
                    SELFSUP_ERR_CORRUPT, "whole number of 3074-byte records");
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("cifar10", "h", NULL),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_IO, "data_batch_1.bin");
    ss_assert_fails(
        selfsup_dataset_open(&d, spec_for("cifar10", "h", "layout=flat"), NULL,
                             NULL, NULL),
        SELFSUP_ERR_INVALID_ARGUMENT, "layout");
}
END_TEST

START_TEST(bad_specs)
{
    selfsup_dataset *d = NULL;
    ss_assert_fails(selfsup_dataset_open(NULL, "auto:path=x", NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ss_assert_fails(selfsup_dataset_open(&d, NULL, NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "spec");
    ss_assert_fails(
        selfsup_dataset_open(&d, "pictures:path=x", NULL, NULL, NULL),
        SELFSUP_ERR_INVALID_ARGUMENT, "not a dataset kind");
    ss_assert_fails(selfsup_dataset_open(&d, "folder:size=3", NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "no path=");
    gray_png("g/a.png", 1);
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("auto", "g", NULL), "val",
                                         NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "split = \"val\"");
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("auto", "g", NULL),
                                         "test", NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "no test split");
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("auto", "g", "size=0"),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "size");
    ss_assert_fails(selfsup_dataset_open(&d,
                                         spec_for("auto", "g", "channels=2"),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "channels = 2");
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("auto", "g/a.png", NULL),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "one image, not a collection");
    ss_assert_fails(selfsup_dataset_open(&d, spec_for("auto", "g", "colour=1"),
                                         NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "colour");
    ck_assert_ptr_null(d);
}
END_TEST

static void count_progress(void *user, int64_t done, int64_t total)
{
    int64_t *seen = user;
    ck_assert_int_ge(done, seen[0]);
    seen[0] = done;
    seen[1] = total;
}

/* Decoding is parallel: two threads give the bytes one thread gives, and
 * progress reaches the total. */
START_TEST(threads_and_progress)
{
    for (int i = 0; i < 40; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "t/c%d/%02d.png", i % 3, i);
        gray_png(rel, i * 5);
    }
    selfsup_dataset *one = NULL, *two = NULL;
    int64_t seen[2] = {0, 0};
    selfsup_set_num_threads(1);
    ss_assert_ok(selfsup_dataset_open(&one, spec_for("auto", "t", NULL), NULL,
                                      count_progress, seen));
    ck_assert_int_eq(seen[0], 40);
    ck_assert_int_eq(seen[1], 40);
    selfsup_set_num_threads(2);
    ss_assert_ok(selfsup_dataset_open(&two, spec_for("auto", "t", NULL), NULL,
                                      NULL, NULL));
    selfsup_set_num_threads(1);
    const uint8_t *a, *b;
    ss_assert_ok(selfsup_dataset_image(one, 0, &a));
    ss_assert_ok(selfsup_dataset_image(two, 0, &b));
    ck_assert_mem_eq(a, b, 40 * 32 * 32 * 3);
    selfsup_dataset_destroy(one);
    selfsup_dataset_destroy(two);
}
END_TEST

static selfsup_status open_small(void *ctx)
{
    (void)ctx;
    selfsup_dataset *d = NULL;
    selfsup_status s = selfsup_dataset_open(
        &d, spec_for("auto", "w", "skip_bad=1,size=8"), "test", NULL, NULL);
    selfsup_dataset_destroy(d);
    return s;
}

/* Every allocation of a scan and decode failing in turn. */
START_TEST(open_alloc_failures)
{
    gray_png("w/train/a/1.png", 1);
    gray_png("w/test/a/2.png", 2);
    gray_png("w/test/b/3.png", 3);
    text_file("w/test/b/4.png", "bad");
    ck_assert_int_gt(ss_sweep_alloc_failures(open_small, NULL, SELFSUP_OK), 10);
}
END_TEST

static char cache_spec[2048], cache_path[1024];

static selfsup_status open_cached(void *ctx)
{
    if (ctx)
        remove(cache_path); /* the decode-and-save path, else the load */
    selfsup_dataset *d = NULL;
    selfsup_status s = selfsup_dataset_open(&d, cache_spec, NULL, NULL, NULL);
    selfsup_dataset_destroy(d);
    return s;
}

static int pixel_of(const char *spec_text)
{
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_open(&d, spec_text, NULL, NULL, NULL));
    int v = first_pixel(d, 0);
    ck_assert_int_eq(selfsup_dataset_count(d), 2);
    ck_assert_int_eq(selfsup_dataset_skipped_count(d), 1);
    ck_assert_ptr_nonnull(strstr(selfsup_dataset_skipped(d, 0), "3.png"));
    ck_assert_str_eq(selfsup_dataset_class_name(d, 1), "b");
    ck_assert_str_eq(base(selfsup_dataset_source(d, 1)), "2.png");
    int32_t labels[2];
    ss_assert_ok(selfsup_dataset_labels(d, 0, 2, labels));
    ck_assert_int_eq(labels[1], 1);
    selfsup_dataset_destroy(d);
    return v;
}

/* The decode cache: written on the first open, read on the next (proved
 * by a file changed behind its back with its size and time restored),
 * rebuilt when a file's time changes and when the cache is damaged or
 * short. */
START_TEST(decode_cache)
{
    gray_png("q/a/1.png", 10);
    gray_png("q/b/2.png", 20);
    text_file("q/b/3.png", "bad");
    snprintf(cache_path, sizeof cache_path, "%s/q.cache", root);
    snprintf(cache_spec, sizeof cache_spec,
             "folder:path=\"%s/q\",size=8,channels=1,skip_bad=1,"
             "cache=\"%s\"",
             root, cache_path);
    ck_assert_int_eq(pixel_of(cache_spec), 10);
    struct stat before, after;
    ck_assert_int_eq(stat(cache_path, &before), 0);
    ck_assert_int_eq(stat(at("q/a/1.png"), &before), 0);
    gray_png("q/a/1.png", 99);
    ck_assert_int_eq(stat(at("q/a/1.png"), &after), 0);
    ck_assert_int_eq(after.st_size, before.st_size);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ck_assert_int_eq(utimensat(AT_FDCWD, at("q/a/1.png"), times, 0), 0);
    ck_assert_int_eq(pixel_of(cache_spec), 10); /* from the cache */
    times[1].tv_sec += 1;
    ck_assert_int_eq(utimensat(AT_FDCWD, at("q/a/1.png"), times, 0), 0);
    ck_assert_int_eq(pixel_of(cache_spec), 99); /* rebuilt */

    /* a flipped byte, then a short file: rebuilt each time */
    size_t len;
    uint8_t *bytes = read_file(cache_path, &len);
    bytes[64] ^= 1;
    FILE *f = fopen(cache_path, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    times[1].tv_sec -= 1; /* the old time: only the damage tells */
    ck_assert_int_eq(utimensat(AT_FDCWD, at("q/a/1.png"), times, 0), 0);
    gray_png("q/a/1.png", 10);
    ck_assert_int_eq(utimensat(AT_FDCWD, at("q/a/1.png"), times, 0), 0);
    ck_assert_int_eq(pixel_of(cache_spec), 10);
    ck_assert_int_eq(truncate(cache_path, 100), 0);
    ck_assert_int_eq(pixel_of(cache_spec), 10);
    free(bytes);

    /* a cache that cannot be written fails the call, naming it */
    selfsup_dataset *d = NULL;
    char bad[2048];
    snprintf(bad, sizeof bad,
             "folder:path=\"%s/q\",skip_bad=1,cache=\"%s/no/such/dir/c\"", root,
             root);
    ss_assert_fails(selfsup_dataset_open(&d, bad, NULL, NULL, NULL),
                    SELFSUP_ERR_IO, "no/such/dir/c");
    ck_assert_ptr_null(d);

    ck_assert_int_gt(ss_sweep_alloc_failures(open_cached, "save", SELFSUP_OK),
                     10);
    ck_assert_int_gt(ss_sweep_alloc_failures(open_cached, NULL, SELFSUP_OK), 5);
}
END_TEST

TCase *collection_tcase(void)
{
    TCase *tc = tcase_create("collection");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, image_folder_with_splits);
    tcase_add_test(tc, flat_folder_and_layouts);
    tcase_add_test(tc, list_files);
    tcase_add_test(tc, bad_files_refused_or_skipped);
    tcase_add_test(tc, empty_folders_and_loops);
    tcase_add_test(tc, odd_file_names);
    tcase_add_test(tc, mixed_sizes_and_channels);
    tcase_add_test(tc, bomb_refused_before_reading);
    tcase_add_test(tc, cifar_batches);
    tcase_add_test(tc, bad_specs);
    tcase_add_test(tc, threads_and_progress);
    tcase_add_test(tc, open_alloc_failures);
    tcase_add_test(tc, decode_cache);
    return tc;
}
