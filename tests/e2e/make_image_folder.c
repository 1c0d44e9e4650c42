/* Writes the first n_train / n_test Fashion-MNIST images as an ImageFolder
 * of PNGs (OUT/png/{train,test}/<label>/<index>.png) and the same images,
 * in the ImageFolder's order (by class, then by name), as IDX files
 * (OUT/idx/...-ubyte.gz): the same pixels two ways, for cli_images.sh.
 *
 *     make_image_folder FASHION_MNIST_DIR OUT N_TRAIN N_TEST */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include <selfsup/selfsup.h>

static void die(const char *what)
{
    fprintf(stderr, "make_image_folder: %s\n", what);
    exit(1);
}

static void write_png(const char *path, const uint8_t *pixels)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die(path);
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png)))
        die("libpng");
    png_init_io(png, f);
    png_set_IHDR(png, info, 28, 28, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < 28; y++)
        png_write_row(png, (png_const_bytep)pixels + 28 * y);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0)
        die(path);
}

static void put32(gzFile g, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    gzwrite(g, b, 4);
}

static void split(const char *fmnist, const char *out, const char *name,
                  const char *prefix, int n)
{
    selfsup_dataset *d;
    if (selfsup_dataset_open_fashion_mnist(&d, fmnist, name) != SELFSUP_OK)
        die(selfsup_last_error());
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    if (selfsup_dataset_labels(d, 0, n, labels) != SELFSUP_OK)
        die(selfsup_last_error());
    char path[4096];
    snprintf(path, sizeof path, "%s/idx/%s-images-idx3-ubyte.gz", out, prefix);
    gzFile images = gzopen(path, "wb");
    snprintf(path, sizeof path, "%s/idx/%s-labels-idx1-ubyte.gz", out, prefix);
    gzFile label_file = gzopen(path, "wb");
    if (!images || !label_file)
        die("gzopen");
    put32(images, 0x803);
    put32(images, (uint32_t)n);
    put32(images, 28);
    put32(images, 28);
    put32(label_file, 0x801);
    put32(label_file, (uint32_t)n);
    /* the ImageFolder's order: class by class, names (%05d) ascending */
    for (int c = 0; c < 10; c++) {
        snprintf(path, sizeof path, "%s/png/%s/%d", out, name, c);
        mkdir(path, 0755);
        for (int i = 0; i < n; i++) {
            if (labels[i] != c)
                continue;
            const uint8_t *pixels;
            if (selfsup_dataset_image(d, i, &pixels) != SELFSUP_OK)
                die(selfsup_last_error());
            snprintf(path, sizeof path, "%s/png/%s/%d/%05d.png", out, name, c,
                     i);
            write_png(path, pixels);
            gzwrite(images, pixels, 28 * 28);
            uint8_t label = (uint8_t)c;
            gzwrite(label_file, &label, 1);
        }
    }
    if (gzclose(images) != Z_OK || gzclose(label_file) != Z_OK)
        die("gzclose");
    free(labels);
    selfsup_dataset_destroy(d);
}

int main(int argc, char **argv)
{
    if (argc != 5)
        die("usage: make_image_folder FASHION_MNIST_DIR OUT N_TRAIN N_TEST");
    char path[4096];
    mkdir(argv[2], 0755);
    const char *dirs[] = {"idx", "png", "png/train", "png/test"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", argv[2], dirs[i]);
        mkdir(path, 0755);
    }
    split(argv[1], argv[2], "train", "train", atoi(argv[3]));
    split(argv[1], argv[2], "test", "t10k", atoi(argv[4]));
    return 0;
}
