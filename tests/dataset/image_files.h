/* PNG and JPEG files written by the tests with libpng and libjpeg, so the
 * decoders are checked against pixels the test chose. */
#ifndef SELFSUP_TEST_DATASET_IMAGE_FILES_H
#define SELFSUP_TEST_DATASET_IMAGE_FILES_H

#include <png.h>
#include <stddef.h>
#include <stdint.h>

typedef struct png_spec {
    int width, height;
    int color_type; /* PNG_COLOR_TYPE_* */
    int bit_depth;  /* 1, 2, 4, 8 or 16 */
    int interlaced;
    const png_color *palette; /* PNG_COLOR_TYPE_PALETTE */
    int palette_size;
    const uint8_t *trns; /* palette alpha, or NULL */
    int trns_size;
} png_spec;

/* rows: height rows of png's packed layout (16-bit samples big-endian). */
void write_png(const char *path, const png_spec *spec, const uint8_t *rows);

/* pixels: height x width x components (1 gray, 3 RGB, 4 CMYK). */
void write_jpeg(const char *path, int width, int height, int components,
                int quality, int progressive, const uint8_t *pixels);

/* The whole file at path, malloc'ed; *len its size. */
uint8_t *read_file(const char *path, size_t *len);

#endif
