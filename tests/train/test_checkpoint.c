/* The checkpoint container: round trips, the getters' checks, the writer's
 * argument checks, and the public inspect call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "files.h"
#include "sample_checkpoint.h"
#include "suites.h"
#include "test_support.h"

START_TEST(round_trip_is_bit_exact)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "a.ckpt");
    write_sample(path);
    ck_assert_int_eq(count_entries(dir, NULL), 1); /* no temporary left */
    struct stat st;
    ck_assert(stat(path, &st) == 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);

    selfsup__ckpt_reader *r = NULL;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    check_sample(r);
    selfsup__ckpt_reader_close(r);

    /* The same bytes through the memory path. */
    size_t size;
    unsigned char *image = read_whole_file(path, &size);
    ss_assert_ok(
        selfsup__ckpt_reader_open_memory(&r, image, size, "image", NULL));
    memset(image, 0, size); /* the reader keeps no pointer into it */
    check_sample(r);
    selfsup__ckpt_reader_close(r);
    free(image);
    free(path);
    remove_dir(dir);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

START_TEST(large_sections_at_every_level)
{
    /* More than the writer's 256 KiB output chunk, with compressible and
     * incompressible halves. */
    enum { N = 300000 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    selfsup__rng rng;
    selfsup__rng_init(&rng, 5, 0);
    for (int i = 0; i < N; i++)
        x[i] = i < N / 2 ? (float)(i % 100) : selfsup__rng_uniform(&rng);
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "big.ckpt");
    const int levels[] = {0, 1, 6, 9, -1};
    for (int l = 0; l < 5; l++) {
        selfsup__ckpt_writer *w;
        ss_assert_ok(selfsup__ckpt_writer_create(&w, path, levels[l], NULL));
        ss_assert_ok(selfsup__ckpt_put_f32(w, "x", x, N));
        ss_assert_ok(selfsup__ckpt_put_string(w, "after", "still here"));
        ss_assert_ok(selfsup__ckpt_writer_commit(w));
        selfsup__ckpt_writer_destroy(w);
        selfsup__ckpt_reader *r;
        ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
        memset(y, 0, N * sizeof(float));
        ss_assert_ok(selfsup__ckpt_get_f32(r, "x", y, N));
        ck_assert(memcmp(x, y, N * sizeof(float)) == 0);
        const char *after;
        ss_assert_ok(selfsup__ckpt_get_string(r, "after", &after));
        ck_assert_str_eq(after, "still here");
        selfsup__ckpt_reader_close(r);
    }
    free(path);
    remove_dir(dir);
    free(x);
    free(y);
}
END_TEST

START_TEST(getters_check_name_type_and_count)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "g.ckpt");
    write_sample(path);
    selfsup__ckpt_reader *r;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, "my_load"));
    float f[11];
    for (int i = 0; i < 11; i++)
        f[i] = 42;
    ss_assert_fails(selfsup__ckpt_get_f32(r, "target.params", f, 10),
                    SELFSUP_ERR_CORRUPT, "has no section \"target.params\"");
    ck_assert(strstr(selfsup_last_error(), path) != NULL);
    ck_assert(strncmp(selfsup_last_error(), "my_load: ", 9) == 0);
    ss_assert_fails(selfsup__ckpt_get_f32(r, "step", f, 1), SELFSUP_ERR_CORRUPT,
                    "section \"step\" holds i64, not f32");
    ss_assert_fails(selfsup__ckpt_get_f32(r, "online.params", f, 11),
                    SELFSUP_ERR_SHAPE,
                    "section \"online.params\" holds 10 f32 values, not 11");
    ss_assert_fails(selfsup__ckpt_get_f32(r, "online.params", NULL, 10),
                    SELFSUP_ERR_INVALID_ARGUMENT, "destination is NULL");
    for (int i = 0; i < 11; i++)
        ck_assert(f[i] == 42); /* untouched */
    const char *text = "kept";
    ss_assert_fails(selfsup__ckpt_get_string(r, "blob", &text),
                    SELFSUP_ERR_CORRUPT, "holds bytes, not string");
    ck_assert_str_eq(text, "kept");
    ck_assert_int_eq(selfsup__ckpt_find(r, "rng"), 3);
    ck_assert_int_eq(selfsup__ckpt_find(r, "nope"), -1);
    ck_assert_int_eq(selfsup__ckpt_section_type(r, 3), SELFSUP__CKPT_U64);
    ck_assert_int_eq(selfsup__ckpt_section_length(r, 3), 4);
    ck_assert_int_eq(selfsup__ckpt_section_length(r, 5), 35);
    ck_assert_ptr_null(selfsup__ckpt_section_name(r, 10));
    ck_assert_ptr_null(selfsup__ckpt_section_data(r, -1));
    ck_assert_str_eq(selfsup__ckpt_type_name(SELFSUP__CKPT_F64), "f64");
    ck_assert_str_eq(selfsup__ckpt_type_name((selfsup__ckpt_type)99), "?");
    selfsup__ckpt_reader_close(r);
    selfsup__ckpt_reader_close(NULL);
    free(path);
    remove_dir(dir);
}
END_TEST

START_TEST(writer_checks_its_arguments)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "w.ckpt");
    selfsup__ckpt_writer *w = NULL;
    ss_assert_fails(selfsup__ckpt_writer_create(&w, path, 10, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "compression level 10 is outside -1..9");
    ss_assert_fails(selfsup__ckpt_writer_create(&w, "", -1, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "path is empty");
    ss_assert_fails(selfsup__ckpt_writer_create(&w, NULL, -1, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "path");
    ck_assert_ptr_null(w);
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, "my_save"));
    float x[2] = {1, 2};
    ss_assert_ok(selfsup__ckpt_put_f32(w, "x", x, 2));
    ss_assert_fails(selfsup__ckpt_put_f32(w, "x", x, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "section \"x\" is already in the file");
    ck_assert(strncmp(selfsup_last_error(), "my_save: ", 9) == 0);
    ss_assert_fails(selfsup__ckpt_put_f32(w, "", x, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT, "has 0 bytes");
    ss_assert_fails(selfsup__ckpt_put_f32(w, "a b", x, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "byte 1 is 0x20, not printable ASCII");
    char long_name[300];
    memset(long_name, 'n', sizeof long_name);
    long_name[256] = '\0';
    ss_assert_fails(selfsup__ckpt_put_f32(w, long_name, x, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT, "has 256 bytes, not 1..255");
    long_name[255] = '\0';
    ss_assert_ok(selfsup__ckpt_put_f32(w, long_name, x, 2));
    ss_assert_fails(selfsup__ckpt_put_f32(w, NULL, x, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT, "section name is NULL");
    ss_assert_fails(selfsup__ckpt_put_f32(w, "y", NULL, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT, "values is NULL");
    ss_assert_fails(selfsup__ckpt_put_i64(w, "y", NULL, -1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "count = -1");
    ss_assert_fails(selfsup__ckpt_put_string(w, "y", NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "text is NULL");
    ss_assert_fails(selfsup__ckpt_put_f32(NULL, "y", x, 2),
                    SELFSUP_ERR_INVALID_ARGUMENT, "writer is NULL");
    /* Argument errors leave the writer usable. */
    ss_assert_ok(selfsup__ckpt_put_f32(w, "y", x, 1));
    ss_assert_ok(selfsup__ckpt_writer_commit(w));
    ss_assert_fails(selfsup__ckpt_writer_commit(w), SELFSUP_ERR_STATE,
                    "already committed");
    ss_assert_fails(selfsup__ckpt_put_f32(w, "z", x, 1), SELFSUP_ERR_STATE,
                    "already committed");
    selfsup__ckpt_writer_destroy(w);
    selfsup__ckpt_writer_destroy(NULL);

    selfsup__ckpt_reader *r;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    ck_assert_int_eq(selfsup__ckpt_section_count(r), 3);
    ck_assert_str_eq(selfsup__ckpt_section_name(r, 1), long_name);
    selfsup__ckpt_reader_close(r);
    free(path);
    remove_dir(dir);
}
END_TEST

START_TEST(replacing_keeps_the_file_mode)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "m.ckpt");
    write_whole_file(path, "old", 3);
    ck_assert(chmod(path, 0600) == 0);
    write_sample(path);
    struct stat st;
    ck_assert(stat(path, &st) == 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(count_entries(dir, NULL), 1);
    free(path);
    remove_dir(dir);
}
END_TEST

typedef struct listing {
    int count;
    char text[2048];
} listing;

static void list_section(void *ctx, const char *name, const char *type,
                         int64_t count, const char *value)
{
    listing *l = ctx;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%s %s %lld %s\n", name,
             type, (long long)count, value ? value : "-");
    l->count++;
}

START_TEST(inspect_lists_sections)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "i.ckpt");
    write_sample(path);
    listing l = {0, ""};
    ss_assert_ok(selfsup_checkpoint_inspect(path, list_section, &l));
    ck_assert_int_eq(l.count, SAMPLE_SECTIONS);
    ck_assert_str_eq(l.text, "online.params f32 10 -\n"
                             "step i64 1 123456789012\n"
                             "extremes i64 3 -\n"
                             "rng u64 4 -\n"
                             "tau f64 2 -\n"
                             "spec string 35 byol:online=resnet18,width=16 "
                             "\xc3\xa9t\xc3\xa9\n"
                             "empty f32 0 -\n"
                             "blob bytes 5 -\n"
                             "note string 0 \n"
                             "target/bn.running_mean~1 i64 0 -\n");
    ss_assert_ok(selfsup_checkpoint_inspect(path, NULL, NULL));

    /* Scalars of every numeric type read back as text. */
    selfsup__ckpt_writer *w;
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    const float f = 0.1f;
    const double d = 0.1;
    const uint64_t u = UINT64_MAX;
    ss_assert_ok(selfsup__ckpt_put_f32(w, "f", &f, 1));
    ss_assert_ok(selfsup__ckpt_put_f64(w, "d", &d, 1));
    ss_assert_ok(selfsup__ckpt_put_u64(w, "u", &u, 1));
    ss_assert_ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
    l = (listing){0, ""};
    ss_assert_ok(selfsup_checkpoint_inspect(path, list_section, &l));
    ck_assert_str_eq(l.text, "f f32 1 0.100000001\n"
                             "d f64 1 0.10000000000000001\n"
                             "u u64 1 18446744073709551615\n");

    write_whole_file(path, "not a checkpoint at all", 23);
    l = (listing){0, ""};
    ss_assert_fails(selfsup_checkpoint_inspect(path, list_section, &l),
                    SELFSUP_ERR_CORRUPT, "is not a libselfsup checkpoint");
    ck_assert(
        strncmp(selfsup_last_error(), "selfsup_checkpoint_inspect: ", 28) == 0);
    ck_assert_int_eq(l.count, 0);
    ss_assert_fails(selfsup_checkpoint_inspect(NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "path");
    char *missing = path_in(dir, "missing.ckpt");
    ss_assert_fails(selfsup_checkpoint_inspect(missing, NULL, NULL),
                    SELFSUP_ERR_IO, "cannot open");
    ss_assert_fails(selfsup_checkpoint_inspect(dir, NULL, NULL), SELFSUP_ERR_IO,
                    "is not a regular file");
    free(missing);
    free(path);
    remove_dir(dir);
}
END_TEST

START_TEST(committed_seeds_still_read)
{
    /* The fuzz seeds are version-1 files written once and committed: this
     * library must keep reading them, with the contents they were written
     * with (tests/fuzz/make_checkpoint_seeds.c). */
    const char *dir = SELFSUP_TEST_DATA_DIR "/../fuzz/corpus/checkpoint";
    char *path = path_in(dir, "sample.ckpt");
    selfsup__ckpt_reader *r;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    check_sample(r);
    selfsup__ckpt_reader_close(r);
    free(path);
    path = path_in(dir, "optimizer.ckpt");
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    const char *kind;
    ss_assert_ok(selfsup__ckpt_get_string(r, "opt.kind", &kind));
    ck_assert_str_eq(kind, "adamw");
    int64_t steps;
    ss_assert_ok(selfsup__ckpt_get_i64(r, "opt.steps", &steps, 1));
    ck_assert_int_eq(steps, 2);
    selfsup__ckpt_reader_close(r);
    free(path);
}
END_TEST

TCase *checkpoint_tcase(void)
{
    TCase *tc = tcase_create("checkpoint");
    tcase_add_test(tc, round_trip_is_bit_exact);
    tcase_add_test(tc, large_sections_at_every_level);
    tcase_add_test(tc, getters_check_name_type_and_count);
    tcase_add_test(tc, writer_checks_its_arguments);
    tcase_add_test(tc, replacing_keeps_the_file_mode);
    tcase_add_test(tc, inspect_lists_sections);
    tcase_add_test(tc, committed_seeds_still_read);
    return tc;
}
