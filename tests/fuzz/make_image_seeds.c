/* Writes the seed corpora of fuzz_image: small PNGs of every colour type
 * and depth (interlaced too) into corpus/png and JPEGs (gray, RGB,
 * progressive, CMYK) into corpus/jpeg. Run by hand when they should
 * change:  make_image_seeds tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_files.h"

static void png_seed(const char *dir, const char *name, int w, int h, int color,
                     int depth, int interlaced)
{
    uint8_t rows[64 * 64 * 8];
    for (size_t i = 0; i < sizeof rows; i++)
        rows[i] = (uint8_t)(i * 37 + (i >> 5));
    png_color palette[4] = {{0, 0, 0}, {255, 0, 0}, {0, 128, 255}, {9, 9, 9}};
    uint8_t trns[4] = {255, 0, 128, 255};
    int pal = color == PNG_COLOR_TYPE_PALETTE;
    if (pal)
        for (size_t i = 0; i < sizeof rows; i++)
            rows[i] &= depth == 8 ? 3 : 0x33;
    char path[4096];
    snprintf(path, sizeof path, "%s/png/%s", dir, name);
    write_png(path,
              &(png_spec){w, h, color, depth, interlaced, pal ? palette : NULL,
                          pal ? 4 : 0, pal ? trns : NULL, pal ? 4 : 0},
              rows);
}

static void jpeg_seed(const char *dir, const char *name, int w, int h, int c,
                      int progressive)
{
    uint8_t *pixels = malloc((size_t)w * h * c);
    for (int i = 0; i < w * h * c; i++)
        pixels[i] = (uint8_t)(i * 13 + (i / (w * c)) * 7);
    char path[4096];
    snprintf(path, sizeof path, "%s/jpeg/%s", dir, name);
    write_jpeg(path, w, h, c, 75, progressive, pixels);
    free(pixels);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_image_seeds CORPUS_DIR\n");
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/png", argv[1]);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/jpeg", argv[1]);
    mkdir(path, 0755);
    png_seed(argv[1], "gray8.png", 13, 9, PNG_COLOR_TYPE_GRAY, 8, 0);
    png_seed(argv[1], "gray1.png", 17, 5, PNG_COLOR_TYPE_GRAY, 1, 0);
    png_seed(argv[1], "gray16.png", 6, 11, PNG_COLOR_TYPE_GRAY, 16, 0);
    png_seed(argv[1], "gray_alpha.png", 8, 8, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0);
    png_seed(argv[1], "rgb.png", 20, 14, PNG_COLOR_TYPE_RGB, 8, 0);
    png_seed(argv[1], "rgb16_interlaced.png", 9, 9, PNG_COLOR_TYPE_RGB, 16, 1);
    png_seed(argv[1], "rgba.png", 7, 12, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0);
    png_seed(argv[1], "palette.png", 10, 10, PNG_COLOR_TYPE_PALETTE, 8, 0);
    png_seed(argv[1], "palette4_interlaced.png", 11, 6, PNG_COLOR_TYPE_PALETTE,
             4, 1);
    jpeg_seed(argv[1], "gray.jpg", 16, 12, 1, 0);
    jpeg_seed(argv[1], "rgb.jpg", 24, 16, 3, 0);
    jpeg_seed(argv[1], "rgb_progressive.jpg", 33, 17, 3, 1);
    jpeg_seed(argv[1], "gray_progressive.jpg", 40, 40, 1, 1);
    jpeg_seed(argv[1], "cmyk.jpg", 8, 8, 4, 0);
    return 0;
}
