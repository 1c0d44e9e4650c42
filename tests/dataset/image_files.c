#include "image_files.h"

#include <stdio.h>
#include <stdlib.h>

/* Inside the Check suites a failure is a test failure; make_image_seeds
 * links this file outside Check and stops instead. */
#ifdef IMAGE_FILES_STANDALONE
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond);  \
            abort();                                                           \
        }                                                                      \
    } while (0)
#else
#include <check.h>
#define REQUIRE(cond) ck_assert(cond)
#endif

/* jpeglib.h needs size_t and FILE declared first */
#include <jpeglib.h>

void write_png(const char *path, const png_spec *spec, const uint8_t *rows)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    REQUIRE(info != NULL);
    if (setjmp(png_jmpbuf(png)))
        REQUIRE(!"libpng failed writing");
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)spec->width, (png_uint_32)spec->height,
                 spec->bit_depth, spec->color_type,
                 spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (spec->palette)
        png_set_PLTE(png, info, spec->palette, spec->palette_size);
    if (spec->trns)
        png_set_tRNS(png, info, spec->trns, spec->trns_size, NULL);
    png_write_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    png_bytep *pointers = malloc((size_t)spec->height * sizeof *pointers);
    for (int y = 0; y < spec->height; y++)
        pointers[y] = (png_bytep)rows + (size_t)y * row_bytes;
    png_write_image(png, pointers);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(pointers);
    REQUIRE(fclose(f) == 0);
}

void write_jpeg(const char *path, int width, int height, int components,
                int quality, int progressive, const uint8_t *pixels)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = components;
    c.in_color_space = components == 1   ? JCS_GRAYSCALE
                       : components == 3 ? JCS_RGB
                                         : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)pixels +
                       (size_t)c.next_scanline * (size_t)width * components;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    REQUIRE(fclose(f) == 0);
}

uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    REQUIRE(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    REQUIRE(n >= 0);
    rewind(f);
    uint8_t *bytes = malloc((size_t)n + 1);
    REQUIRE(fread(bytes, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return bytes;
}
