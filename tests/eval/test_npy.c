#include <dirent.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/npy_format.h"
#include "eval_fixtures.h"
#include "suites.h"

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void spill(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL);
    ck_assert(fwrite(data, 1, size, f) == size);
    fclose(f);
}

/* The file at path holds exactly the golden bytes. */
static void assert_file_is(const char *path, const ss_golden *g,
                           const char *name)
{
    size_t size;
    unsigned char *got = slurp(path, &size);
    const float *want = ss_golden_get(g, name, (int64_t)size);
    for (size_t i = 0; i < size; i++)
        expect(got[i] == (unsigned char)want[i],
               "%s: byte %zu is 0x%02x, numpy wrote 0x%02x", name, i, got[i],
               (unsigned)want[i]);
    free(got);
}

/* How many entries of dir contain ".tmp-". */
static int count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

START_TEST(npy_header_bytes_match_numpy)
{
    ss_golden *g = ss_golden_load("eval.txt");
    const int64_t shapes[][8] = {
        {60000, 128}, {1, 1}, {123456789, 3}, {10}, {2, 3, 4, 5, 6, 7, 8, 9}};
    const int ndims[] = {2, 2, 2, 1, 8};
    const char *names[] = {"npy_header_60000x128", "npy_header_1x1",
                           "npy_header_123456789x3", "npy_header_10",
                           "npy_header_2x3x4x5x6x7x8x9"};
    for (int s = 0; s < 5; s++) {
        char buf[SELFSUP__NPY_HEADER_MAX];
        size_t len =
            selfsup__npy_format_header(buf, "<f4", ndims[s], shapes[s]);
        ck_assert_int_eq(len % 64, 0);
        const float *want = ss_golden_get(g, names[s], (int64_t)len);
        for (size_t i = 0; i < len; i++)
            expect((unsigned char)buf[i] == (unsigned char)want[i],
                   "%s: byte %zu", names[s], i);
    }
    ss_golden_free(g);
}
END_TEST

START_TEST(npy_files_match_numpy_bytes)
{
    ss_golden *g = ss_golden_load("eval.txt");
    char dir[64], path[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.npy", dir);

    float v[30];
    for (int i = 0; i < 12; i++)
        v[i] = (float)i / 7.0f - 0.5f;
    selfsup_tensor *t = make_matrix(3, 4, v);
    ss_assert_ok(selfsup_npy_write(path, t));
    assert_file_is(path, g, "npy_f32_3x4");
    selfsup_tensor_destroy(t);

    const float tiny[1] = {-1.5e-38f};
    const int64_t d1[1] = {1};
    ss_assert_ok(selfsup_npy_write_floats(path, 1, d1, tiny));
    assert_file_is(path, g, "npy_f32_1");

    for (int i = 0; i < 30; i++)
        v[i] = (float)i * 1e3f - 7.0f;
    const int64_t d3[3] = {2, 3, 5};
    ss_assert_ok(selfsup_npy_write_floats(path, 3, d3, v));
    assert_file_is(path, g, "npy_f32_2x3x5");

    const int32_t labels[7] = {3, 0, -5, INT32_MAX, INT32_MIN, 9, 1};
    ss_assert_ok(selfsup_npy_write_labels(path, labels, 7));
    assert_file_is(path, g, "npy_i32_7");
    ck_assert_int_eq(count_temp_files(dir), 0);
    remove_tree(dir);
    ss_golden_free(g);
}
END_TEST

START_TEST(npy_round_trip_is_exact)
{
    char dir[64], path[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/features.npy", dir);
    enum { R = 37, C = 129 };
    selfsup_tensor *t = make_matrix(R, C, NULL);
    ss_assert_ok(selfsup_tensor_fill_normal(t, 4, 0.0f, 3.0f));
    float special[6] = {-0.0f, 1e-45f, -3.4e38f, FLT_MAX, 1.0f / 3, -1e-40f};
    float *data = (float *)selfsup_tensor_data(t);
    memcpy(data, special, sizeof special);
    ss_assert_ok(selfsup_npy_write(path, t));
    selfsup_tensor *back = NULL;
    ss_assert_ok(selfsup_npy_read(path, &back));
    ck_assert_int_eq(selfsup_tensor_ndim(back), 2);
    ck_assert_int_eq(selfsup_tensor_dim(back, 0), R);
    ck_assert_int_eq(selfsup_tensor_dim(back, 1), C);
    ck_assert_int_eq(
        memcmp(selfsup_tensor_data(back), data, (size_t)R * C * sizeof(float)),
        0);
    selfsup_tensor_destroy(back);

    /* 8 axes */
    const int64_t d8[8] = {2, 1, 3, 1, 2, 1, 1, 2};
    ss_assert_ok(selfsup_npy_write_floats(path, 8, d8, data));
    ss_assert_ok(selfsup_npy_read(path, &back));
    ck_assert_int_eq(selfsup_tensor_ndim(back), 8);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(selfsup_tensor_dim(back, i), d8[i]);
    ck_assert_int_eq(memcmp(selfsup_tensor_data(back), data, 24 * 4), 0);
    selfsup_tensor_destroy(back);

    int32_t labels[1000], got[1000];
    for (int i = 0; i < 1000; i++)
        labels[i] = i * 7919 - 500000;
    ss_assert_ok(selfsup_npy_write_labels(path, labels, 1000));
    int64_t count = -1;
    ss_assert_ok(selfsup_npy_read_labels(path, NULL, 0, &count));
    ck_assert_int_eq(count, 1000);
    count = -1;
    ss_assert_ok(selfsup_npy_read_labels(path, got, 1000, &count));
    ck_assert_int_eq(count, 1000);
    ck_assert_int_eq(memcmp(labels, got, sizeof got), 0);
    selfsup_tensor_destroy(t);
    remove_tree(dir);
}
END_TEST

/* Builds a file: preamble of the given version, header text padded with
 * spaces to a multiple of 16 ending in '\n' (unless raw), then data. */
static void write_npy_file(const char *path, int major, int minor,
                           const char *dict, int raw, const void *data,
                           size_t data_size)
{
    unsigned char buf[4096];
    size_t pre = major == 1 ? 10 : 12, n = strlen(dict), len = n;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = (unsigned char)minor;
    memcpy(buf + pre, dict, n);
    if (!raw) {
        while ((pre + len + 1) % 16)
            buf[pre + len++] = ' ';
        buf[pre + len++] = '\n';
    }
    buf[8] = (unsigned char)(len & 0xff);
    buf[9] = (unsigned char)(len >> 8);
    if (major != 1)
        buf[10] = buf[11] = 0;
    memcpy(buf + pre + len, data, data_size);
    spill(path, buf, pre + len + data_size);
}

/* Headers other writers produce (older numpy, other libraries) are read. */
START_TEST(npy_reads_valid_variants)
{
    char dir[64], path[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/v.npy", dir);
    const float data[6] = {1, 2, 3, 4, 5, 6};
    const char *dicts[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
        "{\"shape\": (2, 3,), \"fortran_order\": False, \"descr\": \"<f4\"}",
        "{ 'fortran_order' :False,'shape':( 2 ,3 ),'descr':'<f4' , }",
        "{'descr':\t'<f4', 'fortran_order': False, 'shape': (2,\t3)}",
    };
    for (int major = 1; major <= 3; major++)
        for (size_t i = 0; i < sizeof dicts / sizeof *dicts; i++) {
            write_npy_file(path, major, 0, dicts[i], 0, data, sizeof data);
            selfsup_tensor *t = NULL;
            ss_assert_ok(selfsup_npy_read(path, &t));
            ck_assert_int_eq(selfsup_tensor_dim(t, 0), 2);
            ck_assert_int_eq(selfsup_tensor_dim(t, 1), 3);
            ck_assert_int_eq(memcmp(selfsup_tensor_data(t), data, 24), 0);
            selfsup_tensor_destroy(t);
        }
    remove_tree(dir);
}
END_TEST

typedef struct bad_case {
    int major, minor;
    const char *dict;
    int raw;         /* header text as is, no padding */
    long data_bytes; /* of the 24 data bytes; -1: all */
    selfsup_status status;
    const char *needle;
} bad_case;

START_TEST(npy_refuses_malformed_files)
{
    const selfsup_status COR = SELFSUP_ERR_CORRUPT, VER = SELFSUP_ERR_VERSION,
                         UNS = SELFSUP_ERR_UNSUPPORTED;
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, "
                     "3), }";
    const bad_case cases[] = {
        {4, 0, ok, 0, -1, VER, "version 4.0"},
        {1, 1, ok, 0, -1, VER, "version 1.1"},
        {0, 0, ok, 0, -1, VER, "version 0.0"},
        {1, 0, ok, 0, 20, COR, "holds 20 data bytes; its header says 24"},
        {1, 0, ok, 0, 28, COR, "holds 28 data bytes"},
        {1, 0, ok, 1, -1, COR, "final '\\n'"},
        {1, 0, "{'descr': '<f4', 'shape': (2, 3), }", 0, -1, COR, "missing"},
        {1, 0,
         "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "
         "'x': 1}",
         0, -1, COR, "unknown or given twice"},
        {1, 0,
         "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
         "'shape': (2, 3)}",
         0, -1, COR, "given twice"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 0,
         -1, UNS, "'<f8'"},
        {1, 0, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 0,
         -1, UNS, "'>f4'"},
        {1, 0, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 0,
         -1, UNS, "Fortran order"},
        {1, 0, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", 0, -1,
         COR, "True or False"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", 0,
         -1, COR, "not a tuple (n,)"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0, -1,
         UNS, "0 axes"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0,
         -1, UNS, "empty"},
        {1, 0,
         "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, "
         "1, 1, 1, 1, 1, 6), }",
         0, -1, UNS, "9 axes"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }",
         0, -1, COR, "not a non-negative integer"},
        {1, 0,
         "{'descr': '<f4', 'fortran_order': False, 'shape': "
         "(99999999999999999999, 3), }",
         0, -1, COR, "overflows"},
        {1, 0,
         "{'descr': '<f4', 'fortran_order': False, 'shape': (4194304, "
         "4194304, 1024), }",
         0, -1, UNS, "2^40"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", 0,
         -1, COR, "expected ',' or ')'"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", 0,
         -1, COR, "final '\\n'"},
        {1, 0, "{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}", 0,
         -1, COR, "expected ':'"},
        {1, 0, "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", 0,
         -1, COR, "expected ',' or '}'"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", 0,
         -1, COR, "expected ',' or '}'"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), '", 1,
         -1, COR, "unterminated string"},
        {1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", 0,
         -1, COR, "expected ',' or '}'"},
        {1, 0, "['descr', '<f4']", 0, -1, COR, "expected '{'"},
        {1, 0, "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,)}", 0,
         -1, COR, "escape"},
    };
    char dir[64], path[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.npy", dir);
    unsigned char data[28] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bad_case *c = &cases[i];
        size_t bytes = c->data_bytes < 0 ? 24 : (size_t)c->data_bytes;
        write_npy_file(path, c->major, c->minor, c->dict, c->raw, data, bytes);
        selfsup_tensor *sentinel = (selfsup_tensor *)(uintptr_t)0x99, *t;
        t = sentinel;
        selfsup_status s = selfsup_npy_read(path, &t);
        ck_assert_msg(s == c->status, "case %zu (%s): %s, expected %s: %s", i,
                      c->needle, selfsup_status_string(s),
                      selfsup_status_string(c->status), selfsup_last_error());
        ss_assert_fails(s, c->status, c->needle);
        ss_assert_fails(s, c->status, path); /* the message names the file */
        ck_assert_ptr_eq(t, sentinel);
    }

    /* Damage before the header. */
    spill(path, "\x93NUMP", 5);
    selfsup_tensor *t = NULL;
    ss_assert_fails(selfsup_npy_read(path, &t), SELFSUP_ERR_CORRUPT,
                    "shorter than an NPY preamble");
    spill(path, "\x93NUMPY\x01\x00\x05", 9);
    ss_assert_fails(selfsup_npy_read(path, &t), SELFSUP_ERR_CORRUPT,
                    "shorter than an NPY preamble");
    spill(path, "PK\x03\x04 this is a zip file", 24);
    ss_assert_fails(selfsup_npy_read(path, &t), SELFSUP_ERR_CORRUPT,
                    "not an NPY file");
    spill(path, "\x93NUMPY\x01\x00\x00\x00", 10);
    ss_assert_fails(selfsup_npy_read(path, &t), SELFSUP_ERR_CORRUPT,
                    "header length 0");
    spill(path, "\x93NUMPY\x02\x00\x00\x00\x00\x01", 12);
    ss_assert_fails(selfsup_npy_read(path, &t), SELFSUP_ERR_CORRUPT,
                    "header length 16777216");
    spill(path, "\x93NUMPY\x01\x00\x40\x00{'descr'", 17);
    ss_assert_fails(selfsup_npy_read(path, &t), SELFSUP_ERR_CORRUPT,
                    "ends inside its 64-byte NPY header");
    ck_assert_ptr_null(t);

    /* The label reader's own checks. */
    int32_t labels[6] = {7, 7, 7, 7, 7, 7};
    int64_t count = -9;
    write_npy_file(path, 1, 0, ok, 0, data, 24);
    ss_assert_fails(selfsup_npy_read_labels(path, labels, 6, &count),
                    SELFSUP_ERR_UNSUPPORTED, "expected '<i4'");
    write_npy_file(path, 1, 0,
                   "{'descr': '<i4', 'fortran_order': False, 'shape': (2, "
                   "3), }",
                   0, data, 24);
    ss_assert_fails(selfsup_npy_read_labels(path, labels, 6, &count),
                    SELFSUP_ERR_UNSUPPORTED, "1-D");
    write_npy_file(path, 1, 0,
                   "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }",
                   0, data, 24);
    ss_assert_fails(selfsup_npy_read_labels(path, labels, 5, &count),
                    SELFSUP_ERR_SHAPE, "capacity = 5");
    ck_assert_int_eq(count, -9);
    ck_assert_int_eq(labels[0], 7);
    remove_tree(dir);
}
END_TEST

/* A failing write leaves no temporary file and the old file intact. */
START_TEST(npy_failed_writes_leave_no_trace)
{
    char dir[64], path[160], missing[160], sub[160];
    make_temp_dir(dir, sizeof dir);
    float v[100 * 100];
    for (int i = 0; i < 100 * 100; i++)
        v[i] = (float)i;
    selfsup_tensor *t = make_matrix(100, 100, v);

    /* A directory that does not exist. */
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.npy", dir);
    ss_assert_fails(selfsup_npy_write(missing, t), SELFSUP_ERR_IO,
                    "No such file or directory");
    ss_assert_fails(selfsup_npy_write(missing, t), SELFSUP_ERR_IO, missing);

    /* The target is a directory: the rename fails after the data went to
     * the temporary file, which must be removed again. */
    snprintf(sub, sizeof sub, "%s/target.npy", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ss_assert_fails(selfsup_npy_write(sub, t), SELFSUP_ERR_IO, sub);
    struct stat st;
    ck_assert_int_eq(stat(sub, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(count_temp_files(dir), 0);

    /* The disk fills up half-way (a file size limit stands in for it): the
     * existing file keeps its old content. */
    snprintf(path, sizeof path, "%s/existing.npy", dir);
    const float old[3] = {1, 2, 3};
    const int64_t d1[1] = {3};
    ss_assert_ok(selfsup_npy_write_floats(path, 1, d1, old));
    size_t old_size;
    unsigned char *old_bytes = slurp(path, &old_size);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit saved, small = {.rlim_cur = 8192, .rlim_max = RLIM_INFINITY};
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small.rlim_max = saved.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    selfsup_status s = selfsup_npy_write(path, t);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
    ss_assert_fails(s, SELFSUP_ERR_IO, "File too large");
    ss_assert_fails(s, SELFSUP_ERR_IO, path);
    size_t size;
    unsigned char *bytes = slurp(path, &size);
    ck_assert_int_eq(size, old_size);
    ck_assert_int_eq(memcmp(bytes, old_bytes, size), 0);
    ck_assert_int_eq(count_temp_files(dir), 0);
    free(bytes);

    /* And a successful write replaces it. */
    ss_assert_ok(selfsup_npy_write(path, t));
    selfsup_tensor *back = NULL;
    ss_assert_ok(selfsup_npy_read(path, &back));
    ck_assert_int_eq(memcmp(selfsup_tensor_data(back), v, sizeof v), 0);
    selfsup_tensor_destroy(back);
    ck_assert_int_eq(count_temp_files(dir), 0);
    free(old_bytes);
    selfsup_tensor_destroy(t);
    remove_tree(dir);
}
END_TEST

START_TEST(npy_refuses_bad_arguments)
{
    const selfsup_status INV = SELFSUP_ERR_INVALID_ARGUMENT;
    selfsup_tensor *t = make_matrix(2, 2, NULL);
    const float v[4] = {0};
    const int64_t dims[2] = {2, 2}, zero[2] = {2, 0};
    ss_assert_fails(selfsup_npy_write(NULL, t), INV, "path is NULL");
    ss_assert_fails(selfsup_npy_write("", t), INV, "path is empty");
    ss_assert_fails(selfsup_npy_write("/tmp/x.npy", NULL), INV, "t is NULL");
    ss_assert_fails(selfsup_npy_write_floats("/tmp/x.npy", 0, dims, v), INV,
                    "ndim = 0");
    ss_assert_fails(selfsup_npy_write_floats("/tmp/x.npy", 9, dims, v), INV,
                    "ndim = 9");
    ss_assert_fails(selfsup_npy_write_floats("/tmp/x.npy", 2, NULL, v), INV,
                    "dims is NULL");
    ss_assert_fails(selfsup_npy_write_floats("/tmp/x.npy", 2, zero, v), INV,
                    "dims[1] = 0");
    ss_assert_fails(selfsup_npy_write_floats("/tmp/x.npy", 2, dims, NULL), INV,
                    "data is NULL");
    const int32_t labels[1] = {0};
    ss_assert_fails(selfsup_npy_write_labels(NULL, labels, 1), INV, "path");
    ss_assert_fails(selfsup_npy_write_labels("/tmp/x.npy", NULL, 1), INV,
                    "labels is NULL");
    ss_assert_fails(selfsup_npy_write_labels("/tmp/x.npy", labels, 0), INV,
                    "count = 0");
    selfsup_tensor *out = NULL;
    int64_t count;
    ss_assert_fails(selfsup_npy_read(NULL, &out), INV, "path is NULL");
    ss_assert_fails(selfsup_npy_read("/tmp/x.npy", NULL), INV, "out is NULL");
    ss_assert_fails(selfsup_npy_read("/nonexistent/selfsup.npy", &out),
                    SELFSUP_ERR_IO, "/nonexistent/selfsup.npy: No such file");
    ss_assert_fails(selfsup_npy_read_labels(NULL, NULL, 0, &count), INV,
                    "path is NULL");
    ss_assert_fails(selfsup_npy_read_labels("/tmp/x.npy", NULL, -1, &count),
                    INV, "capacity = -1");
    ss_assert_fails(selfsup_npy_read_labels("/tmp/x.npy", NULL, 0, NULL), INV,
                    "count is NULL");
    ck_assert_ptr_null(out);
    selfsup_tensor_destroy(t);
}
END_TEST

TCase *npy_tcase(void)
{
    TCase *tc = tcase_create("npy");
    tcase_add_test(tc, npy_header_bytes_match_numpy);
    tcase_add_test(tc, npy_files_match_numpy_bytes);
    tcase_add_test(tc, npy_round_trip_is_exact);
    tcase_add_test(tc, npy_reads_valid_variants);
    tcase_add_test(tc, npy_refuses_malformed_files);
    tcase_add_test(tc, npy_failed_writes_leave_no_trace);
    tcase_add_test(tc, npy_refuses_bad_arguments);
    return tc;
}

/* ------------------------------------------------ allocation failures */

typedef struct npy_alloc_ctx {
    char path[128], labels_path[128];
    selfsup_tensor *t;
    int which;
} npy_alloc_ctx;

static selfsup_status npy_alloc_run(void *p)
{
    npy_alloc_ctx *c = p;
    const int32_t labels[5] = {1, 2, 3, 4, 5};
    switch (c->which) {
    case 0:
        return selfsup_npy_write(c->path, c->t);
    case 1:
        return selfsup_npy_write_labels(c->labels_path, labels, 5);
    case 2: {
        selfsup_tensor *back = NULL;
        selfsup_status s = selfsup_npy_read(c->path, &back);
        selfsup_tensor_destroy(back);
        return s;
    }
    default: {
        int32_t got[5];
        int64_t n;
        return selfsup_npy_read_labels(c->labels_path, got, 5, &n);
    }
    }
}

START_TEST(npy_allocation_failures_leak_nothing)
{
    npy_alloc_ctx c;
    char dir[64];
    make_temp_dir(dir, sizeof dir);
    snprintf(c.path, sizeof c.path, "%s/f.npy", dir);
    snprintf(c.labels_path, sizeof c.labels_path, "%s/l.npy", dir);
    c.t = make_matrix(3, 5, NULL);
    for (c.which = 0; c.which < 4; c.which++)
        ck_assert_int_gt(ss_sweep_alloc_failures(npy_alloc_run, &c, SELFSUP_OK),
                         0);
    ck_assert_int_eq(count_temp_files(dir), 0);
    selfsup_tensor_destroy(c.t);
    remove_tree(dir);
}
END_TEST

TCase *npy_alloc_tcase(void)
{
    TCase *tc = tcase_create("npy_alloc");
    tcase_add_test(tc, npy_allocation_failures_leak_nothing);
    return tc;
}
