#include "sample_checkpoint.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "files.h"
#include "test_support.h"

static const uint32_t PARAM_BITS[10] = {
    0x3F000000u, /* 0.5 */
    0x80000000u, /* -0.0 */
    0x00000001u, /* the smallest denormal */
    0x7F800000u, /* inf */
    0xFF800000u, /* -inf */
    0x7FC00123u, /* a NaN with a payload */
    0x7F7FFFFFu, /* FLT_MAX */
    0x3F800000u, /* 1 */
    0xC0200000u, /* -2.5 */
    0x40490FD0u, /* 3.14159 */
};
static const int64_t STEP[1] = {INT64_C(123456789012)};
static const int64_t EXTREMES[3] = {INT64_MIN, -1, INT64_MAX};
static const uint64_t RNG[4] = {UINT64_MAX, 0, 42, UINT64_C(1) << 63};
static const double TAU[2] = {0.996, -0.0};
static const char SPEC[] = "byol:online=resnet18,width=16 \xc3\xa9t\xc3\xa9";
static const unsigned char BLOB[5] = {0, 1, 0, 0xFF, 0};

selfsup_status try_put_sample(selfsup__ckpt_writer *w)
{
    float params[10];
    memcpy(params, PARAM_BITS, sizeof params);
    SS_TRY(selfsup__ckpt_put_f32(w, "online.params", params, 10));
    SS_TRY(selfsup__ckpt_put_i64(w, "step", STEP, 1));
    SS_TRY(selfsup__ckpt_put_i64(w, "extremes", EXTREMES, 3));
    SS_TRY(selfsup__ckpt_put_u64(w, "rng", RNG, 4));
    SS_TRY(selfsup__ckpt_put_f64(w, "tau", TAU, 2));
    SS_TRY(selfsup__ckpt_put_string(w, "spec", SPEC));
    SS_TRY(selfsup__ckpt_put_f32(w, "empty", NULL, 0));
    SS_TRY(selfsup__ckpt_put_bytes(w, "blob", BLOB, 5));
    SS_TRY(selfsup__ckpt_put_string(w, "note", ""));
    return selfsup__ckpt_put_i64(w, "target/bn.running_mean~1", NULL, 0);
}

void put_sample(selfsup__ckpt_writer *w)
{
    ss_assert_ok(try_put_sample(w));
}

void write_sample(const char *path)
{
    selfsup__ckpt_writer *w = NULL;
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    put_sample(w);
    ss_assert_ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
}

void check_sample(const selfsup__ckpt_reader *r)
{
    static const char *const names[SAMPLE_SECTIONS] = {
        "online.params", "step",
        "extremes",      "rng",
        "tau",           "spec",
        "empty",         "blob",
        "note",          "target/bn.running_mean~1"};
    ck_assert_int_eq(selfsup__ckpt_section_count(r), SAMPLE_SECTIONS);
    for (int i = 0; i < SAMPLE_SECTIONS; i++)
        ck_assert_str_eq(selfsup__ckpt_section_name(r, i), names[i]);
    ck_assert_int_eq(selfsup__ckpt_reader_format_version(r), 1);
    ck_assert_int_eq(selfsup__ckpt_reader_writer_version(r),
                     SELFSUP_VERSION_NUMBER);

    float params[10];
    ss_assert_ok(selfsup__ckpt_get_f32(r, "online.params", params, 10));
    ck_assert(memcmp(params, PARAM_BITS, sizeof params) == 0);
    int64_t i64[3];
    ss_assert_ok(selfsup__ckpt_get_i64(r, "step", i64, 1));
    ck_assert(i64[0] == STEP[0]);
    ss_assert_ok(selfsup__ckpt_get_i64(r, "extremes", i64, 3));
    ck_assert(memcmp(i64, EXTREMES, sizeof EXTREMES) == 0);
    uint64_t u64[4];
    ss_assert_ok(selfsup__ckpt_get_u64(r, "rng", u64, 4));
    ck_assert(memcmp(u64, RNG, sizeof RNG) == 0);
    double f64[2];
    ss_assert_ok(selfsup__ckpt_get_f64(r, "tau", f64, 2));
    ck_assert(memcmp(f64, TAU, sizeof TAU) == 0);
    const char *text = NULL;
    ss_assert_ok(selfsup__ckpt_get_string(r, "spec", &text));
    ck_assert_str_eq(text, SPEC);
    ss_assert_ok(selfsup__ckpt_get_f32(r, "empty", NULL, 0));
    unsigned char blob[5];
    ss_assert_ok(selfsup__ckpt_get_bytes(r, "blob", blob, 5));
    ck_assert(memcmp(blob, BLOB, 5) == 0);
    ss_assert_ok(selfsup__ckpt_get_string(r, "note", &text));
    ck_assert_str_eq(text, "");
    ss_assert_ok(selfsup__ckpt_expect(r, "target/bn.running_mean~1",
                                      SELFSUP__CKPT_I64, 0));
}

unsigned char *sample_image(const char *dir, size_t *size)
{
    char *path = path_in(dir, "sample.ckpt");
    write_sample(path);
    unsigned char *image = read_whole_file(path, size);
    ck_assert_ptr_nonnull(image);
    free(path);
    return image;
}
