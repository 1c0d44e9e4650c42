/* The reader against damaged and hostile files: every bit flip, every
 * truncation, and crafted files whose CRCs are right but whose contents
 * lie. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "checkpoint_repair.h"
#include "files.h"
#include "sample_checkpoint.h"
#include "suites.h"
#include "test_support.h"
#include "io/checkpoint_layout.h"

static selfsup_status open_image(const unsigned char *image, size_t size)
{
    selfsup__ckpt_reader *r = NULL;
    selfsup_status s =
        selfsup__ckpt_reader_open_memory(&r, image, size, "sample", NULL);
    selfsup__ckpt_reader_close(r);
    return s;
}

START_TEST(every_bit_flip_is_refused)
{
    char *dir = make_scratch_dir();
    size_t size;
    unsigned char *image = sample_image(dir, &size);
    ck_assert_int_gt(size, 300);
    long live = selfsup__alloc_live();
    for (size_t at = 0; at < size; at++) {
        for (int bit = 0; bit < 8; bit++) {
            image[at] ^= (unsigned char)(1u << bit);
            selfsup_status s = open_image(image, size);
            /* bytes 12..15 hold the format version */
            selfsup_status want =
                at >= 12 && at < 16 ? SELFSUP_ERR_VERSION : SELFSUP_ERR_CORRUPT;
            ck_assert_msg(s == want,
                          "byte %zu bit %d flipped: %s (%s), expected %s", at,
                          bit, selfsup_status_string(s), selfsup_last_error(),
                          selfsup_status_string(want));
            ck_assert_msg(strstr(selfsup_last_error(), "sample") != NULL,
                          "message does not name the file: %s",
                          selfsup_last_error());
            ck_assert_int_eq(selfsup__alloc_live(), live);
            image[at] ^= (unsigned char)(1u << bit);
        }
    }
    ss_assert_ok(open_image(image, size)); /* all restored */
    free(image);
    remove_dir(dir);
}
END_TEST

START_TEST(every_truncation_is_refused)
{
    char *dir = make_scratch_dir();
    size_t size;
    unsigned char *image = sample_image(dir, &size);
    for (size_t n = 0; n < size; n++) {
        /* a copy of exactly n bytes, so that ASan sees any overread */
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, image, n);
        selfsup_status s = open_image(cut, n);
        ck_assert_msg(s == SELFSUP_ERR_CORRUPT, "%zu of %zu bytes: %s (%s)", n,
                      size, selfsup_status_string(s), selfsup_last_error());
        free(cut);
    }
    /* and the same through files, for a few lengths */
    char *path = path_in(dir, "cut.ckpt");
    const size_t lengths[] = {0, 11, 12, 40, 64, size / 2, size - 1};
    for (int i = 0; i < 7; i++) {
        write_whole_file(path, image, lengths[i]);
        selfsup__ckpt_reader *r = NULL;
        ss_assert_fails(selfsup__ckpt_reader_open(&r, path, NULL),
                        SELFSUP_ERR_CORRUPT, path);
        ck_assert_ptr_null(r);
    }
    /* bytes appended after the end record are damage too */
    unsigned char *longer = malloc(size + 1);
    memcpy(longer, image, size);
    longer[size] = 0;
    ss_assert_fails(open_image(longer, size + 1), SELFSUP_ERR_CORRUPT,
                    "not a valid end record");
    free(longer);
    free(path);
    free(image);
    remove_dir(dir);
}
END_TEST

START_TEST(the_messages_say_what_is_wrong)
{
    char *dir = make_scratch_dir();
    size_t size;
    unsigned char *image = sample_image(dir, &size);
    ss_assert_fails(open_image((const unsigned char *)"PK\3\4 a zip file", 16),
                    SELFSUP_ERR_CORRUPT,
                    "sample is not a libselfsup checkpoint (no magic number)");
    ss_assert_fails(open_image(image, 5), SELFSUP_ERR_CORRUPT,
                    "sample is not a libselfsup checkpoint (only 5 bytes)");
    ss_assert_fails(open_image(NULL, 0), SELFSUP_ERR_CORRUPT,
                    "not a libselfsup checkpoint");

    /* A later version, with a CRC that is right for it. */
    ckpt_put_u32(image + 12, 2);
    ckpt_repair_crcs(image, size);
    ss_assert_fails(open_image(image, size), SELFSUP_ERR_VERSION,
                    "sample has checkpoint format version 2; this library "
                    "reads version 1");
    ckpt_put_u32(image + 12, 1);
    ckpt_repair_crcs(image, size);
    ss_assert_ok(open_image(image, size));

    image[30] ^= 1; /* the header's own CRC */
    ss_assert_fails(open_image(image, size), SELFSUP_ERR_CORRUPT,
                    "the file header is damaged");
    image[30] ^= 1;
    image[CKPT_HEADER_SIZE + 9] ^= 4; /* first section's length */
    ss_assert_fails(open_image(image, size), SELFSUP_ERR_CORRUPT,
                    "the header of section 0 (at byte 32) is damaged");
    image[CKPT_HEADER_SIZE + 9] ^= 4;
    image[CKPT_HEADER_SIZE + CKPT_SECTION_HEADER_SIZE + 13 + 2] ^= 0x10;
    ss_assert_fails(open_image(image, size), SELFSUP_ERR_CORRUPT,
                    "section \"online.params\": its data is damaged");
    image[CKPT_HEADER_SIZE + CKPT_SECTION_HEADER_SIZE + 13 + 2] ^= 0x10;
    ss_assert_ok(open_image(image, size));
    free(image);
    remove_dir(dir);
}
END_TEST

/* A checkpoint of the sections given, written to dir and read back. */
static unsigned char *image_of(const char *dir, size_t *size,
                               void (*put)(selfsup__ckpt_writer *))
{
    char *path = path_in(dir, "crafted.ckpt");
    selfsup__ckpt_writer *w;
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    put(w);
    ss_assert_ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
    unsigned char *image = read_whole_file(path, size);
    free(path);
    return image;
}

static void put_two_floats(selfsup__ckpt_writer *w)
{
    const float x[4] = {1, 2, 3, 4};
    ss_assert_ok(selfsup__ckpt_put_f32(w, "aa", x, 4));
    ss_assert_ok(selfsup__ckpt_put_f32(w, "ab", x, 2));
}

static void put_zeros(selfsup__ckpt_writer *w)
{
    static float zeros[10000];
    ss_assert_ok(selfsup__ckpt_put_f32(w, "zeros", zeros, 10000));
}

static void put_text(selfsup__ckpt_writer *w)
{
    ss_assert_ok(selfsup__ckpt_put_string(w, "text", "abcdef"));
}

/* Offsets in an image from put_two_floats: both names have two bytes. */
enum {
    FIRST = CKPT_HEADER_SIZE,
    FIRST_PAYLOAD = FIRST + CKPT_SECTION_HEADER_SIZE + 2
};

START_TEST(lies_behind_valid_crcs_are_caught)
{
    char *dir = make_scratch_dir();
    size_t size;
    unsigned char *image = image_of(dir, &size, put_two_floats);
    uint64_t stored = ckpt_get_u64(image + FIRST + 16);
    size_t second = FIRST_PAYLOAD + stored;
    unsigned char *copy = malloc(size);

#define CRAFT(edit, status, needle)                                            \
    do {                                                                       \
        memcpy(copy, image, size);                                             \
        edit;                                                                  \
        ckpt_repair_crcs(copy, size);                                          \
        ss_assert_fails(open_image(copy, size), status, needle);               \
    } while (0)

    CRAFT(copy[second + CKPT_SECTION_HEADER_SIZE + 1] = 'a',
          SELFSUP_ERR_CORRUPT, "section \"aa\" appears twice");
    CRAFT(ckpt_put_u64(copy + FIRST + 8, 12), SELFSUP_ERR_CORRUPT,
          "section \"aa\" inflates to more than its declared 12 bytes");
    CRAFT(ckpt_put_u64(copy + FIRST + 8, 20), SELFSUP_ERR_CORRUPT,
          "section \"aa\" inflates to 16 bytes, not the declared 20");
    CRAFT(ckpt_put_u64(copy + FIRST + 8, 18), SELFSUP_ERR_CORRUPT,
          "has 18 bytes, not a whole number of f32 values");
    CRAFT(ckpt_put_u64(copy + FIRST + 8, UINT64_C(1) << 40),
          SELFSUP_ERR_CORRUPT, "claims 1099511627776 bytes, more than its");
    CRAFT(ckpt_put_u64(copy + FIRST + 16, 1u << 20), SELFSUP_ERR_CORRUPT,
          "run past the end of the sections");
    CRAFT(copy[FIRST + 4] = 9, SELFSUP_ERR_CORRUPT,
          "section \"aa\" has type 9 and flags 0000");
    CRAFT(copy[FIRST + 6] = 1, SELFSUP_ERR_CORRUPT, "flags 0001");
    CRAFT(copy[FIRST + CKPT_SECTION_HEADER_SIZE] = ' ', SELFSUP_ERR_CORRUPT,
          "the name of section 0 has byte 0x20");
    CRAFT(copy[FIRST + 5] = 0, SELFSUP_ERR_CORRUPT,
          "no valid section header at byte 32 (section 0)");
    CRAFT(copy[FIRST] = 'X', SELFSUP_ERR_CORRUPT,
          "no valid section header at byte 32");
    CRAFT(copy[FIRST_PAYLOAD + 1] ^= 0x20, SELFSUP_ERR_CORRUPT,
          "section \"aa\": zlib:");
    CRAFT(copy[FIRST_PAYLOAD + stored - 1] ^= 0x01, SELFSUP_ERR_CORRUPT,
          "zlib: incorrect data check");
    /* the end record counts one section more, or one less */
    CRAFT(ckpt_put_u64(copy + size - CKPT_END_SIZE + 8, 3), SELFSUP_ERR_CORRUPT,
          "section 2 would start at byte");
    CRAFT(ckpt_put_u64(copy + size - CKPT_END_SIZE + 8, 1), SELFSUP_ERR_CORRUPT,
          "unaccounted bytes lie between the last of its 1 sections");
    CRAFT(ckpt_put_u64(copy + size - CKPT_END_SIZE + 8, UINT64_MAX),
          SELFSUP_ERR_CORRUPT, "sections, more than");
    CRAFT(ckpt_put_u64(copy + size - CKPT_END_SIZE + 16, 7),
          SELFSUP_ERR_CORRUPT, "the end record says it sits at byte 7");
    CRAFT(copy[20] = 1, SELFSUP_ERR_CORRUPT, "header flags 00000001");
    free(copy);
    free(image);

    /* A stream that holds more than its compressed length: stray bytes. */
    image = image_of(dir, &size, put_text);
    copy = malloc(size + 1);
    /* one byte more inside the section, counted in its stored length */
    size_t payload_end =
        FIRST + CKPT_SECTION_HEADER_SIZE + 4 + ckpt_get_u64(image + FIRST + 16);
    memcpy(copy, image, payload_end);
    copy[payload_end] = 0xAB;
    memcpy(copy + payload_end + 1, image + payload_end, size - payload_end);
    ckpt_put_u64(copy + FIRST + 16, ckpt_get_u64(image + FIRST + 16) + 1);
    ckpt_put_u64(copy + size + 1 - CKPT_END_SIZE + 16,
                 size + 1 - CKPT_END_SIZE);
    ckpt_repair_crcs(copy, size + 1);
    ss_assert_fails(open_image(copy, size + 1), SELFSUP_ERR_CORRUPT,
                    "1 stray bytes follow its zlib stream");
    free(copy);
    free(image);

    /* A section that claims a huge size but whose stream is short: refused
     * by the ratio bound before any allocation of the claimed size. */
    image = image_of(dir, &size, put_zeros);
    uint64_t zstored = ckpt_get_u64(image + FIRST + 16);
    ck_assert_int_lt(zstored, 200); /* 40000 zero bytes compress well */
    copy = malloc(size);
    memcpy(copy, image, size);
    ckpt_put_u64(copy + FIRST + 8, (zstored + 1) * CKPT_MAX_DEFLATE_RATIO);
    ckpt_repair_crcs(copy, size);
    ss_assert_fails(open_image(copy, size), SELFSUP_ERR_CORRUPT,
                    "more than its");
    /* at the bound itself the claim is allowed, and the stream refutes it */
    ckpt_put_u64(copy + FIRST + 8, zstored * CKPT_MAX_DEFLATE_RATIO);
    ckpt_repair_crcs(copy, size);
    ss_assert_fails(open_image(copy, size), SELFSUP_ERR_CORRUPT,
                    "\"zeros\" inflates to 40000 bytes, not the declared");
    free(copy);
    free(image);
    remove_dir(dir);
#undef CRAFT
}
END_TEST

static void put_nul_string(selfsup__ckpt_writer *w)
{
    /* bytes that look like a string with a NUL, stored as bytes; the test
     * then relabels the section as a string */
    ss_assert_ok(selfsup__ckpt_put_bytes(w, "text", "ab\0cd", 5));
}

START_TEST(strings_may_not_hold_nul)
{
    char *dir = make_scratch_dir();
    size_t size;
    unsigned char *image = image_of(dir, &size, put_nul_string);
    image[FIRST + 4] = SELFSUP__CKPT_STRING;
    ckpt_repair_crcs(image, size);
    ss_assert_fails(open_image(image, size), SELFSUP_ERR_CORRUPT,
                    "string section \"text\" contains a NUL byte");
    free(image);
    remove_dir(dir);
}
END_TEST

typedef struct open_ctx {
    const char *path;
    const unsigned char *image;
    size_t size;
} open_ctx;

static selfsup_status open_file_and_read(void *ctx)
{
    const open_ctx *c = ctx;
    selfsup__ckpt_reader *r = NULL;
    SS_TRY(selfsup__ckpt_reader_open(&r, c->path, NULL));
    float params[10];
    selfsup_status s = selfsup__ckpt_get_f32(r, "online.params", params, 10);
    selfsup__ckpt_reader_close(r);
    return s;
}

static selfsup_status open_memory(void *ctx)
{
    const open_ctx *c = ctx;
    selfsup__ckpt_reader *r = NULL;
    SS_TRY(selfsup__ckpt_reader_open_memory(&r, c->image, c->size, "m", NULL));
    selfsup__ckpt_reader_close(r);
    return SELFSUP_OK;
}

static selfsup_status inspect(void *ctx)
{
    const open_ctx *c = ctx;
    return selfsup_checkpoint_inspect(c->path, NULL, NULL);
}

START_TEST(allocation_failures_while_reading_are_clean)
{
    char *dir = make_scratch_dir();
    size_t size;
    unsigned char *image = sample_image(dir, &size);
    char *path = path_in(dir, "sample.ckpt");
    open_ctx c = {path, image, size};
    /* reader, label, section list (twice grown), 10 sections, zlib state
     * and window, scratch buffers: all must fail cleanly */
    ck_assert_int_ge(
        ss_sweep_alloc_failures(open_file_and_read, &c, SELFSUP_OK), 15);
    ck_assert_int_ge(ss_sweep_alloc_failures(open_memory, &c, SELFSUP_OK), 14);
    ck_assert_int_ge(ss_sweep_alloc_failures(inspect, &c, SELFSUP_OK), 14);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
    free(path);
    free(image);
    remove_dir(dir);
}
END_TEST

TCase *checkpoint_damage_tcase(void)
{
    TCase *tc = tcase_create("checkpoint_damage");
    tcase_add_test(tc, every_bit_flip_is_refused);
    tcase_add_test(tc, every_truncation_is_refused);
    tcase_add_test(tc, the_messages_say_what_is_wrong);
    tcase_add_test(tc, lies_behind_valid_crcs_are_caught);
    tcase_add_test(tc, strings_may_not_hold_nul);
    tcase_add_test(tc, allocation_failures_while_reading_are_clean);
    return tc;
}
