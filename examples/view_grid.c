/* view_grid: writes a PNG of a batch's augmented views, so that a person
 * can check a recipe by eye. One row per image: the original, then each
 * view, un-normalised back to [0, 1].
 *
 *   view_grid [--recipe byol] [--views 2] [--count 8] [--size 28]
 *             [--seed 1] [--epoch 0] [--data DIR] [--split train]
 *             [--zoom 4] [--out views.png]
 *
 * The dataset is Fashion-MNIST from DIR (default: Debian's
 * dataset-fashion-mnist). Public API only, plus zlib for the PNG, which is
 * written by hand: signature, IHDR, one IDAT, IEND, each with its CRC. */
#include <selfsup/selfsup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct options {
    const char *recipe, *data, *split, *out;
    int views, count, size, zoom;
    uint64_t seed;
    int64_t epoch;
} options;

static int parse(options *o, int argc, char **argv)
{
    *o = (options){"byol", NULL, "train", "views.png", 2, 8, 28, 4, 1, 0};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "view_grid: %s needs a value\n", a);
            return 0;
        }
        if (!strcmp(a, "--recipe"))
            o->recipe = v;
        else if (!strcmp(a, "--data"))
            o->data = v;
        else if (!strcmp(a, "--split"))
            o->split = v;
        else if (!strcmp(a, "--out"))
            o->out = v;
        else if (!strcmp(a, "--views"))
            o->views = atoi(v);
        else if (!strcmp(a, "--count"))
            o->count = atoi(v);
        else if (!strcmp(a, "--size"))
            o->size = atoi(v);
        else if (!strcmp(a, "--zoom"))
            o->zoom = atoi(v);
        else if (!strcmp(a, "--seed"))
            o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--epoch"))
            o->epoch = strtoll(v, NULL, 10);
        else {
            fprintf(stderr, "view_grid: unknown option %s\n", a);
            return 0;
        }
    }
    if (o->count < 1 || o->count > 256 || o->zoom < 1 || o->zoom > 16) {
        fprintf(stderr, "view_grid: --count 1..256, --zoom 1..16\n");
        return 0;
    }
    return 1;
}

/* ---- PNG ---------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A chunk: length, type, data, CRC of type and data. */
static int write_chunk(FILE *f, const char *type, const uint8_t *data,
                       uint32_t n)
{
    uint8_t head[8];
    put32(head, n);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)type, 4);
    if (n)
        crc = crc32(crc, data, n);
    uint8_t tail[4];
    put32(tail, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (!n || fwrite(data, 1, n, f) == n) &&
           fwrite(tail, 1, 4, f) == 4;
}

/* 8-bit grayscale (channels 1) or RGB (3), rows top to bottom. */
static int write_png(const char *path, const uint8_t *pixels, int width,
                     int height, int channels)
{
    size_t row = (size_t)width * channels;
    size_t raw_n = (row + 1) * (size_t)height;
    uint8_t *raw = malloc(raw_n);
    uLongf z_n = compressBound(raw_n);
    uint8_t *z = malloc(z_n);
    FILE *f = fopen(path, "wb");
    int ok = raw && z && f;
    if (ok) {
        for (int y = 0; y < height; y++) {
            raw[y * (row + 1)] = 0; /* filter type: none */
            memcpy(raw + y * (row + 1) + 1, pixels + y * row, row);
        }
        ok = compress2(z, &z_n, raw, raw_n, 9) == Z_OK;
    }
    if (ok) {
        static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
        uint8_t ihdr[13];
        put32(ihdr, (uint32_t)width);
        put32(ihdr + 4, (uint32_t)height);
        ihdr[8] = 8;                        /* bit depth */
        ihdr[9] = channels == 3 ? 2 : 0;    /* colour type: RGB, gray */
        ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive, no
                                               interlace */
        ok = fwrite(signature, 1, 8, f) == 8 &&
             write_chunk(f, "IHDR", ihdr, 13) &&
             write_chunk(f, "IDAT", z, (uint32_t)z_n) &&
             write_chunk(f, "IEND", NULL, 0);
    }
    if (f && fclose(f) != 0)
        ok = 0;
    free(raw);
    free(z);
    return ok;
}

/* ---- the grid ------------------------------------------------------------ */

static int fail(const char *what)
{
    fprintf(stderr, "view_grid: %s: %s\n", what, selfsup_last_error());
    return 1;
}

static uint8_t to_byte(float x)
{
    x = x < 0 ? 0 : (x > 1 ? 1 : x);
    return (uint8_t)(x * 255.0f + 0.5f);
}

int main(int argc, char **argv)
{
    options o;
    if (!parse(&o, argc, argv))
        return 2;
    selfsup_dataset *d = NULL;
    selfsup_views *v = NULL;
    if (selfsup_dataset_open_fashion_mnist(&d, o.data, o.split) != SELFSUP_OK)
        return fail("dataset");
    if (selfsup_views_create(&v, o.recipe, o.views, o.size) != SELFSUP_OK)
        return fail("views");
    int n_views = selfsup_views_count(v), c = selfsup_dataset_channels(d);
    int h = selfsup_dataset_height(d), w = selfsup_dataset_width(d);
    int64_t n = o.count;
    if (n > selfsup_dataset_count(d))
        n = selfsup_dataset_count(d);

    selfsup_tensor **views = calloc((size_t)n_views, sizeof *views);
    const int64_t vdims[4] = {n, c, o.size, o.size};
    for (int i = 0; i < n_views; i++)
        if (selfsup_tensor_create(&views[i], 4, vdims) != SELFSUP_OK)
            return fail("tensor");
    selfsup_tensor *plain = NULL;
    const int64_t pdims[4] = {n, c, h, w};
    if (selfsup_tensor_create(&plain, 4, pdims) != SELFSUP_OK)
        return fail("tensor");
    int64_t *indices = malloc((size_t)n * sizeof *indices);
    for (int64_t i = 0; i < n; i++)
        indices[i] = i;
    if (selfsup_views_apply(v, d, indices, n, o.seed, o.epoch, views) !=
            SELFSUP_OK ||
        selfsup_dataset_read_batch(d, 0, plain, NULL, NULL) != SELFSUP_OK)
        return fail("augment");
    float mean[3], std[3];
    if (selfsup_views_normalization(v, d, mean, std) != SELFSUP_OK)
        return fail("normalization");

    /* Cells of side max(h, w, size) * zoom, 2-pixel gaps. */
    int side = o.size > h ? o.size : h;
    side = side > w ? side : w;
    int cell = side * o.zoom, gap = 2, cols = 1 + n_views;
    int width = cols * cell + (cols + 1) * gap;
    int height = (int)n * cell + ((int)n + 1) * gap;
    uint8_t *img = malloc((size_t)width * height * c);
    memset(img, 96, (size_t)width * height * c);
    for (int64_t i = 0; i < n; i++)
        for (int col = 0; col < cols; col++) {
            const float *src;
            int sh, sw;
            if (col == 0) {
                src = selfsup_tensor_data(plain) + i * c * h * w;
                sh = h, sw = w;
            } else {
                src = selfsup_tensor_data(views[col - 1]) +
                      i * c * o.size * o.size;
                sh = sw = o.size;
            }
            int x0 = gap + col * (cell + gap), y0 = gap + (int)i * (cell + gap);
            for (int y = 0; y < sh * o.zoom; y++)
                for (int x = 0; x < sw * o.zoom; x++)
                    for (int ch = 0; ch < c; ch++) {
                        float val =
                            src[(ch * sh + y / o.zoom) * sw + x / o.zoom];
                        if (col > 0)
                            val = val * std[ch] + mean[ch];
                        img[((size_t)(y0 + y) * width + x0 + x) * c + ch] =
                            to_byte(val);
                    }
        }
    if (!write_png(o.out, img, width, height, c)) {
        fprintf(stderr, "view_grid: cannot write %s\n", o.out);
        return 1;
    }
    printf("%s: %lld images x (original + %d views of %dx%d), recipe %s\n",
           o.out, (long long)n, n_views, o.size, o.size, o.recipe);
    for (int i = 0; i < n_views; i++)
        printf("  view %d: %s\n", i, selfsup_views_spec(v, i));
    free(img);
    free(indices);
    selfsup_tensor_destroy(plain);
    for (int i = 0; i < n_views; i++)
        selfsup_tensor_destroy(views[i]);
    free(views);
    selfsup_views_destroy(v);
    selfsup_dataset_destroy(d);
    return 0;
}
