/* Decoding image files into the training resolution: the resize against
 * PIL (tests/reference/resize.py), every PNG colour type and depth against
 * the pixels the test wrote, JPEG within a stated tolerance, libjpeg's DCT
 * scaling, and damaged files that must each fail with a reason and leave
 * the output untouched. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "data/image_decode.h"
#include "data/image_resize.h"
#include "image_files.h"
#include "suites.h"
#include "test_support.h"

static int pattern(int x, int y, int c)
{
    return (37 * x + 91 * y + 53 * c + 11) % 256;
}

static void resize_pattern(int w, int h, int c, int size, uint8_t *out)
{
    selfsup__resizer *r = NULL;
    ck_assert_int_eq(selfsup__resizer_create(&r, w, h, c, size), SELFSUP_OK);
    uint8_t *row = malloc((size_t)w * c);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                row[x * c + ch] = (uint8_t)pattern(x, y, ch);
        selfsup__resizer_push_row(r, row);
    }
    selfsup__resizer_finish(r, out);
    selfsup__resizer_destroy(r);
    free(row);
}

/* PIL computes in double and the library in float, each rounding once at
 * the end (the golden values are PIL's unrounded floats): an output is
 * within half a level of PIL's value, plus 0.01 for float accumulation
 * over up to a few hundred taps. */
START_TEST(resize_matches_pil)
{
    static const int cases[][4] = {
        {28, 28, 1, 28}, {5, 7, 1, 12},   {37, 29, 3, 16}, {300, 40, 1, 8},
        {20, 31, 3, 10}, {20, 27, 1, 10}, {64, 64, 1, 9}};
    ss_golden *g = ss_golden_load("resize.txt");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int w = cases[k][0], h = cases[k][1], c = cases[k][2];
        int size = cases[k][3];
        char name[64];
        snprintf(name, sizeof name, "resize_%d_%d_%d_%d", w, h, c, size);
        int64_t n = (int64_t)size * size * c;
        const float *want = ss_golden_get(g, name, n);
        uint8_t *got = malloc((size_t)n);
        resize_pattern(w, h, c, size, got);
        for (int64_t i = 0; i < n; i++)
            ck_assert_msg(fabsf(got[i] - want[i]) <= 0.51f,
                          "%s[%lld]: %d against PIL's %g", name, (long long)i,
                          got[i], (double)want[i]);
        free(got);
    }
    ss_golden_free(g);
}
END_TEST

/* A 4000 x 3000 scan through a 16-pixel output: the constant comes back
 * constant (the weights are normalised) and rows past the height are
 * ignored. */
START_TEST(resize_large_input)
{
    selfsup__resizer *r = NULL;
    ck_assert_int_eq(selfsup__resizer_create(&r, 4000, 3000, 3, 16),
                     SELFSUP_OK);
    uint8_t *row = malloc(4000 * 3);
    memset(row, 77, 4000 * 3);
    for (int y = 0; y < 3010; y++)
        selfsup__resizer_push_row(r, row);
    uint8_t out[16 * 16 * 3];
    selfsup__resizer_finish(r, out);
    for (int i = 0; i < 16 * 16 * 3; i++)
        ck_assert_int_eq(out[i], 77);
    selfsup__resizer_destroy(r);
    free(row);
}
END_TEST

static char scratch[256];

static void setup(void)
{
    scratch_dir_make(scratch, sizeof scratch);
}

static void teardown(void)
{
    scratch_dir_remove(scratch);
}

static const selfsup__image_format gray8 = {8, 1, 255, 1 << 20};
static const selfsup__image_format rgb8 = {8, 3, 255, 1 << 20};

/* Decodes path from the file and from memory; both must agree. */
static selfsup_status decode_both(const char *path,
                                  const selfsup__image_format *fmt,
                                  uint8_t *out, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    selfsup__image_source src = {f, NULL, 0};
    selfsup_status s = selfsup__image_decode(&src, fmt, out, why, cap);
    fclose(f);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    selfsup__image_source mem = {NULL, bytes, len};
    size_t n = (size_t)fmt->size * fmt->size * fmt->channels;
    uint8_t *again = malloc(n);
    memset(again, 0xab, n);
    char why2[256];
    ck_assert_int_eq(selfsup__image_decode(&mem, fmt, again, why2, sizeof why2),
                     s);
    if (s == SELFSUP_OK)
        ck_assert_mem_eq(out, again, n);
    free(again);
    free(bytes);
    return s;
}

static void expect_pixels(const char *path, const selfsup__image_format *fmt,
                          const uint8_t *want)
{
    size_t n = (size_t)fmt->size * fmt->size * fmt->channels;
    uint8_t *got = malloc(n);
    char why[256] = "";
    selfsup_status s = decode_both(path, fmt, got, why, sizeof why);
    ck_assert_msg(s == SELFSUP_OK, "%s: %s", path, why);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s [%zu]: %d, want %d", path, i,
                      got[i], want[i]);
    free(got);
}

static uint8_t over(int v, int a, int bg)
{
    return (uint8_t)((v * a + bg * (255 - a) + 127) / 255);
}

/* 8 x 8 images decode to 8 x 8 exactly (the resize is the identity
 * there), so every colour type is checked pixel for pixel. */
START_TEST(png_every_colour_type)
{
    char path[512];
    uint8_t rows[8 * 8 * 8], want[8 * 8 * 3];
    /* 8-bit gray, to gray and to RGB */
    for (int i = 0; i < 64; i++)
        rows[i] = (uint8_t)pattern(i % 8, i / 8, 0);
    snprintf(path, sizeof path, "%s/gray8.png", scratch);
    write_png(path, &(png_spec){8, 8, PNG_COLOR_TYPE_GRAY, 8, 0, 0, 0, 0, 0},
              rows);
    expect_pixels(path, &gray8, rows);
    for (int i = 0; i < 64; i++)
        want[3 * i] = want[3 * i + 1] = want[3 * i + 2] = rows[i];
    expect_pixels(path, &rgb8, want);

    /* gray + alpha over white */
    for (int i = 0; i < 64; i++) {
        rows[2 * i] = (uint8_t)pattern(i % 8, i / 8, 0);
        rows[2 * i + 1] = (uint8_t)pattern(i % 8, i / 8, 1);
        want[i] = over(rows[2 * i], rows[2 * i + 1], 255);
    }
    snprintf(path, sizeof path, "%s/gray_alpha.png", scratch);
    write_png(path,
              &(png_spec){8, 8, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0, 0, 0, 0},
              rows);
    expect_pixels(path, &gray8, want);

    /* RGB: exact, and to gray by PIL's luma */
    for (int i = 0; i < 64; i++)
        for (int c = 0; c < 3; c++)
            rows[3 * i + c] = (uint8_t)pattern(i % 8, i / 8, c);
    snprintf(path, sizeof path, "%s/rgb.png", scratch);
    write_png(path, &(png_spec){8, 8, PNG_COLOR_TYPE_RGB, 8, 0, 0, 0, 0, 0},
              rows);
    expect_pixels(path, &rgb8, rows);
    for (int i = 0; i < 64; i++)
        want[i] = (uint8_t)((19595 * rows[3 * i] + 38470 * rows[3 * i + 1] +
                             7471 * rows[3 * i + 2] + 32768) >>
                            16);
    expect_pixels(path, &gray8, want);

    /* the same pixels interlaced (Adam7) */
    snprintf(path, sizeof path, "%s/rgb_interlaced.png", scratch);
    write_png(path, &(png_spec){8, 8, PNG_COLOR_TYPE_RGB, 8, 1, 0, 0, 0, 0},
              rows);
    expect_pixels(path, &rgb8, rows);

    /* RGBA over black */
    const selfsup__image_format rgb_on_black = {8, 3, 0, 1 << 20};
    for (int i = 0; i < 64; i++) {
        for (int c = 0; c < 4; c++)
            rows[4 * i + c] = (uint8_t)pattern(i % 8, i / 8, c);
        for (int c = 0; c < 3; c++)
            want[3 * i + c] = over(rows[4 * i + c], rows[4 * i + 3], 0);
    }
    snprintf(path, sizeof path, "%s/rgba.png", scratch);
    write_png(path,
              &(png_spec){8, 8, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0, 0, 0, 0},
              rows);
    expect_pixels(path, &rgb_on_black, want);
}
END_TEST

START_TEST(png_palette_and_depths)
{
    char path[512];
    uint8_t rows[8 * 8 * 8], want[8 * 8 * 3];
    /* a 4-entry palette with tRNS: entry 3 half transparent */
    const png_color palette[4] = {
        {0, 0, 0}, {255, 0, 0}, {0, 128, 255}, {200, 100, 50}};
    const uint8_t trns[4] = {255, 255, 255, 128};
    for (int i = 0; i < 64; i++) {
        int e = (i * 7 + i / 8) % 4;
        rows[i] = (uint8_t)e;
        for (int c = 0; c < 3; c++) {
            const uint8_t *p = &palette[e].red;
            want[3 * i + c] = over(p[c], trns[e], 255);
        }
    }
    snprintf(path, sizeof path, "%s/palette.png", scratch);
    write_png(
        path,
        &(png_spec){8, 8, PNG_COLOR_TYPE_PALETTE, 8, 0, palette, 4, trns, 4},
        rows);
    expect_pixels(path, &rgb8, want);

    /* gray at 1, 2 and 4 bits: libpng scales a level v of b bits to
     * v * 255 / (2^b - 1) */
    for (int bits = 1; bits <= 4; bits *= 2) {
        int levels = 1 << bits, per_byte = 8 / bits;
        memset(rows, 0, sizeof rows);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) {
                int v = (x + 3 * y) % levels;
                int byte = y * (8 / per_byte) + x / per_byte;
                int shift = 8 - bits * (x % per_byte + 1);
                rows[byte] |= (uint8_t)(v << shift);
                want[y * 8 + x] = (uint8_t)(v * 255 / (levels - 1));
            }
        snprintf(path, sizeof path, "%s/gray%d.png", scratch, bits);
        write_png(path,
                  &(png_spec){8, 8, PNG_COLOR_TYPE_GRAY, bits, 0, 0, 0, 0, 0},
                  rows);
        expect_pixels(path, &gray8, want);
    }

    /* 16-bit RGB: scaled with rounding, (v * 255 + 32767) / 65535 */
    uint8_t rows16[8 * 8 * 6];
    for (int i = 0; i < 64 * 3; i++) {
        unsigned v = (unsigned)(i * 347 + 1000) % 65536;
        rows16[2 * i] = (uint8_t)(v >> 8);
        rows16[2 * i + 1] = (uint8_t)v;
        want[i] = (uint8_t)((v * 255 + 32767) / 65535);
    }
    snprintf(path, sizeof path, "%s/rgb16.png", scratch);
    write_png(path, &(png_spec){8, 8, PNG_COLOR_TYPE_RGB, 16, 0, 0, 0, 0, 0},
              rows16);
    expect_pixels(path, &rgb8, want);
}
END_TEST

static double mean_abs_diff(const uint8_t *a, const uint8_t *b, size_t n,
                            int *max)
{
    double sum = 0;
    *max = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(a[i] - b[i]);
        sum += d;
        if (d > *max)
            *max = d;
    }
    return sum / (double)n;
}

/* A smooth image, so JPEG at quality 95 is close. */
static void smooth(uint8_t *p, int w, int h, int c)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                p[((size_t)y * w + x) * c + ch] =
                    (uint8_t)(128 + 100 * sin(0.09 * x + 0.05 * y + ch));
}

START_TEST(jpeg_baseline_and_progressive)
{
    char path[512];
    uint8_t src[32 * 32 * 3], got[32 * 32 * 3];
    const selfsup__image_format rgb32 = {32, 3, 255, 1 << 20};
    const selfsup__image_format gray32 = {32, 1, 255, 1 << 20};
    for (int progressive = 0; progressive <= 1; progressive++) {
        for (int c = 1; c <= 3; c += 2) {
            smooth(src, 32, 32, c);
            snprintf(path, sizeof path, "%s/p%d_c%d.jpg", scratch, progressive,
                     c);
            write_jpeg(path, 32, 32, c, 95, progressive, src);
            char why[256] = "";
            const selfsup__image_format *fmt = c == 1 ? &gray32 : &rgb32;
            ck_assert_msg(decode_both(path, fmt, got, why, sizeof why) ==
                              SELFSUP_OK,
                          "%s: %s", path, why);
            int max;
            double mean = mean_abs_diff(got, src, 32 * 32 * (size_t)c, &max);
            /* measured: gray mean 0.20, max 1; RGB, whose chroma libjpeg
             * subsamples 2x2 by default, mean 1.06, max 11 */
            double mean_bound = c == 1 ? 0.5 : 1.5;
            int max_bound = c == 1 ? 2 : 16;
            ck_assert_msg(mean < mean_bound && max <= max_bound,
                          "%s: mean %g, max %d", path, mean, max);
        }
    }
}
END_TEST

/* A 256 x 192 photo to 24 pixels decodes at 2/8 scale (64 x 48, twice
 * the output) then resizes; against the resize of the original pixels:
 * JPEG's error plus the DCT's box reduction (measured mean 0.78, max 2). */
START_TEST(jpeg_dct_scaling)
{
    enum { W = 256, H = 192, S = 24 };
    uint8_t *src = malloc(W * H * 3);
    smooth(src, W, H, 3);
    char path[512];
    snprintf(path, sizeof path, "%s/photo.jpg", scratch);
    write_jpeg(path, W, H, 3, 95, 0, src);
    selfsup__resizer *r = NULL;
    ck_assert_int_eq(selfsup__resizer_create(&r, W, H, 3, S), SELFSUP_OK);
    for (int y = 0; y < H; y++)
        selfsup__resizer_push_row(r, src + (size_t)y * W * 3);
    uint8_t want[S * S * 3], got[S * S * 3];
    selfsup__resizer_finish(r, want);
    selfsup__resizer_destroy(r);
    const selfsup__image_format fmt = {S, 3, 255, 1 << 20};
    char why[256] = "";
    ck_assert_msg(decode_both(path, &fmt, got, why, sizeof why) == SELFSUP_OK,
                  "%s", why);
    int max;
    double mean = mean_abs_diff(got, want, sizeof got, &max);
    ck_assert_msg(mean < 1.5 && max <= 4, "mean %g, max %d", mean, max);
    free(src);
}
END_TEST

static void expect_refused(const char *path, const selfsup__image_format *fmt,
                           selfsup_status want, const char *needle)
{
    uint8_t out[8 * 8 * 3];
    memset(out, 0xab, sizeof out);
    char why[256] = "";
    selfsup_status s = decode_both(path, fmt, out, why, sizeof why);
    ck_assert_msg(s == want, "%s: status %d (%s), want %d", path, s, why, want);
    ck_assert_msg(strstr(why, needle), "%s: \"%s\" lacks \"%s\"", path, why,
                  needle);
    for (size_t i = 0; i < sizeof out; i++)
        ck_assert_int_eq(out[i], 0xab);
}

static void write_raw(const char *path, const uint8_t *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

START_TEST(damaged_files_refused)
{
    char path[512], bad[512];
    uint8_t rows[8 * 8 * 3];
    for (int i = 0; i < 8 * 8 * 3; i++)
        rows[i] = (uint8_t)pattern(i % 24, i / 24, 0);
    snprintf(path, sizeof path, "%s/good.png", scratch);
    write_png(path, &(png_spec){8, 8, PNG_COLOR_TYPE_RGB, 8, 0, 0, 0, 0, 0},
              rows);
    size_t len;
    uint8_t *png = read_file(path, &len);

    snprintf(bad, sizeof bad, "%s/empty.png", scratch);
    write_raw(bad, png, 0);
    expect_refused(bad, &rgb8, SELFSUP_ERR_CORRUPT, "empty file");

    snprintf(bad, sizeof bad, "%s/notes.txt", scratch);
    write_raw(bad, (const uint8_t *)"hello, world\n", 13);
    expect_refused(bad, &rgb8, SELFSUP_ERR_CORRUPT, "not a PNG or JPEG");

    snprintf(bad, sizeof bad, "%s/truncated.png", scratch);
    write_raw(bad, png, len / 2);
    expect_refused(bad, &rgb8, SELFSUP_ERR_CORRUPT, "truncated PNG");

    /* a flipped byte inside IDAT's data: the chunk's CRC no longer fits */
    uint8_t *flipped = malloc(len);
    memcpy(flipped, png, len);
    flipped[8 + 25 + 8 + 4] ^= 0x40; /* after IHDR, into IDAT's data */
    snprintf(bad, sizeof bad, "%s/flipped.png", scratch);
    write_raw(bad, flipped, len);
    expect_refused(bad, &rgb8, SELFSUP_ERR_CORRUPT, "damaged PNG");

    /* IHDR claiming 100000 x 100000 (with a valid CRC): refused before
     * anything is allocated for it */
    memcpy(flipped, png, len);
    const uint8_t huge[8] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0};
    memcpy(flipped + 16, huge, 8);
    uLong crc = crc32(0, flipped + 12, 17);
    for (int k = 0; k < 4; k++)
        flipped[29 + k] = (uint8_t)(crc >> (24 - 8 * k));
    snprintf(bad, sizeof bad, "%s/bomb.png", scratch);
    write_raw(bad, flipped, len);
    expect_refused(bad, &rgb8, SELFSUP_ERR_UNSUPPORTED, "max_pixels");
    free(flipped);

    /* chunks whose headers claim more than any 8x8 image needs, the file
     * ending soon after: refused by name without allocating the claim
     * (libpng only warns about the length, then would allocate it) */
    static const struct {
        const char *name;
        uint8_t length[4];
        char type[5];
    } claims[] = {{"suggested-palette", {0x66, 0x00, 0x00, 0x0c}, "sPLT"},
                  {"text", {0x40, 0x00, 0x00, 0x00}, "tEXt"}};
    for (size_t c = 0; c < sizeof claims / sizeof claims[0]; c++) {
        uint8_t liar[33 + 8 + 3];
        memcpy(liar, png, 33); /* signature and IHDR */
        memcpy(liar + 33, claims[c].length, 4);
        memcpy(liar + 37, claims[c].type, 4);
        memcpy(liar + 41, "\0\377\0", 3);
        snprintf(bad, sizeof bad, "%s/claims-%s.png", scratch, claims[c].name);
        write_raw(bad, liar, sizeof liar);
        expect_refused(bad, &rgb8, SELFSUP_ERR_CORRUPT, "a chunk claims");
    }
    free(png);

    uint8_t src[16 * 16 * 4];
    smooth(src, 16, 16, 4);
    snprintf(path, sizeof path, "%s/good.jpg", scratch);
    write_jpeg(path, 16, 16, 3, 90, 0, src);
    uint8_t *jpg = read_file(path, &len);
    snprintf(bad, sizeof bad, "%s/truncated.jpg", scratch);
    write_raw(bad, jpg, len * 2 / 3);
    expect_refused(bad, &rgb8, SELFSUP_ERR_CORRUPT, "truncated JPEG");
    /* the quantisation table's marker overwritten: not a JPEG any more */
    jpg[len / 2] = 0xff;
    jpg[len / 2 + 1] = 0xd9;
    snprintf(bad, sizeof bad, "%s/cut.jpg", scratch);
    write_raw(bad, jpg, len);
    uint8_t out[8 * 8 * 3];
    char why[256];
    ck_assert_int_ne(decode_both(bad, &rgb8, out, why, sizeof why), SELFSUP_OK);
    free(jpg);

    snprintf(bad, sizeof bad, "%s/cmyk.jpg", scratch);
    write_jpeg(bad, 16, 16, 4, 90, 0, src);
    expect_refused(bad, &rgb8, SELFSUP_ERR_UNSUPPORTED, "CMYK");
}
END_TEST

/* A directory opens for reading but cannot be read: an I/O error. */
START_TEST(unreadable_source)
{
    FILE *f = fopen(scratch, "rb");
    if (!f)
        return; /* some systems refuse to open a directory at all */
    selfsup__image_source src = {f, NULL, 0};
    uint8_t out[8];
    char why[256] = "";
    ck_assert_int_eq(selfsup__image_decode(&src, &gray8, out, why, sizeof why),
                     SELFSUP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(why, "cannot read"));
    fclose(f);
}
END_TEST

typedef struct decode_ctx {
    const uint8_t *bytes;
    size_t len;
    const selfsup__image_format *fmt;
} decode_ctx;

static selfsup_status decode_memory(void *p)
{
    decode_ctx *c = p;
    selfsup__image_source src = {NULL, c->bytes, c->len};
    uint8_t out[8 * 8 * 3];
    char why[256];
    selfsup_status s =
        selfsup__image_decode(&src, c->fmt, out, why, sizeof why);
    /* the decoder leaves naming the file to its caller; the sweep wants a
     * message */
    return s == SELFSUP_OK ? s : selfsup__fail(s, "decode", "%s", why);
}

/* Every allocation of a PNG decode (libpng's included) failing in turn:
 * out of memory, nothing left allocated. JPEG's memory is libjpeg's own
 * (its allocator cannot be replaced), so only the library's part of a JPEG
 * decode is swept. */
START_TEST(decode_alloc_failures)
{
    char path[512];
    uint8_t rows[8 * 8 * 4];
    for (int i = 0; i < 8 * 8 * 4; i++)
        rows[i] = (uint8_t)pattern(i % 32, i / 32, 1);
    snprintf(path, sizeof path, "%s/sweep.png", scratch);
    write_png(path,
              &(png_spec){8, 8, PNG_COLOR_TYPE_RGB_ALPHA, 8, 1, 0, 0, 0, 0},
              rows);
    decode_ctx c = {NULL, 0, &rgb8};
    uint8_t *bytes = read_file(path, &c.len);
    c.bytes = bytes;
    ck_assert_int_gt(ss_sweep_alloc_failures(decode_memory, &c, SELFSUP_OK), 3);
    free(bytes);
    snprintf(path, sizeof path, "%s/sweep.jpg", scratch);
    write_jpeg(path, 8, 8, 3, 90, 1, rows);
    bytes = read_file(path, &c.len);
    c.bytes = bytes;
    ck_assert_int_ge(ss_sweep_alloc_failures(decode_memory, &c, SELFSUP_OK), 2);
    free(bytes);
}
END_TEST

TCase *image_tcase(void)
{
    TCase *tc = tcase_create("image");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, resize_matches_pil);
    tcase_add_test(tc, resize_large_input);
    tcase_add_test(tc, png_every_colour_type);
    tcase_add_test(tc, png_palette_and_depths);
    tcase_add_test(tc, jpeg_baseline_and_progressive);
    tcase_add_test(tc, jpeg_dct_scaling);
    tcase_add_test(tc, damaged_files_refused);
    tcase_add_test(tc, unreadable_source);
    tcase_add_test(tc, decode_alloc_failures);
    return tc;
}
