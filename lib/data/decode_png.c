/* PNG through libpng: every colour type and bit depth reduced to 8-bit
 * gray, gray+alpha, RGB or RGBA by libpng's own transforms (palette and
 * tRNS expanded, 16 bits scaled with rounding), then converted and resized
 * a row at a time. libpng's errors longjmp back here; its allocations go
 * through selfsup__malloc, so the allocation-failure sweeps reach them.
 *
 * Every allocation libpng asks for is bounded by what the image needs, not
 * by what a chunk's header claims: libpng only warns ("benign error") about
 * a chunk longer than its own limit and may then allocate the claimed
 * length, so a 45-byte file declaring a 1.7 GB suggested palette (sPLT)
 * would cost 1.7 GB. */
#include <png.h>
#include <setjmp.h>
#include <string.h>

#include "core/alloc.h"
#include "image_decode.h"
#include "image_resize.h"

/* Everything the error path must release lives here, not in locals that
 * setjmp could leave stale. */
typedef struct png_ctx {
    const selfsup__image_source *src;
    size_t pos;             /* memory sources: bytes consumed */
    char message[160];      /* libpng's last error */
    int out_of_memory;      /* our allocator said no */
    size_t alloc_limit;     /* the largest single allocation allowed */
    size_t refused_request; /* an allocation above alloc_limit, or 0 */
    int read_failed;        /* the source ended or failed */
    selfsup__resizer *resizer;
    uint8_t *rows; /* one row, or the whole image when interlaced */
    png_bytep *row_pointers;
    uint8_t *converted; /* one row in the output's channels */
    selfsup_status status;
    char *why;
    size_t why_cap;
} png_ctx;

static void on_error(png_structp png, png_const_charp message)
{
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", message);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message; /* an ignored ancillary chunk: the pixels are sound */
}

/* Before the header is read: libpng's structures, zlib's window and
 * the ancillary chunks it parses (libpng's own default chunk limit). */
#define ALLOC_LIMIT_BEFORE_HEADER ((size_t)8000000)

static png_voidp on_malloc(png_structp png, png_alloc_size_t size)
{
    png_ctx *ctx = png_get_mem_ptr(png);
    if (size > ctx->alloc_limit) {
        ctx->refused_request = size;
        return NULL; /* libpng raises "Out of Memory", we say why */
    }
    void *p = selfsup__malloc(size);
    if (!p)
        ctx->out_of_memory = 1;
    return p;
}

/* Once the dimensions are checked, allow libpng's row buffers (up to 8
 * bytes a pixel: RGBA at 16 bits, plus filter byte and alignment) and our
 * own whole-image buffer for interlaced files. */
static void allow_image_buffers(png_ctx *ctx, png_uint_32 width,
                                png_uint_32 height, int interlaced)
{
    size_t row = (size_t)width * 8 + 64;
    size_t need = interlaced ? row * height : row;
    if (need > ctx->alloc_limit)
        ctx->alloc_limit = need;
}

static void on_free(png_structp png, png_voidp p)
{
    (void)png;
    selfsup__free(p);
}

static void on_read(png_structp png, png_bytep data, size_t length)
{
    png_ctx *ctx = png_get_io_ptr(png);
    const selfsup__image_source *src = ctx->src;
    size_t got;
    if (src->file) {
        got = fread(data, 1, length, src->file);
    } else {
        got = src->len - ctx->pos < length ? src->len - ctx->pos : length;
        memcpy(data, src->data + ctx->pos, got);
        ctx->pos += got;
    }
    if (got != length) {
        ctx->read_failed = 1;
        png_error(png, src->file && ferror(src->file) ? "read error"
                                                      : "truncated file");
    }
}

static void release(png_structp png, png_ctx *ctx)
{
    selfsup__resizer_destroy(ctx->resizer);
    png_free(png, ctx->rows);
    png_free(png, ctx->row_pointers);
    png_free(png, ctx->converted);
}

static void push_row(png_ctx *ctx, const uint8_t *row, int width, int channels,
                     const selfsup__image_format *fmt)
{
    selfsup__image_convert_row(ctx->converted, row, width, channels, fmt);
    selfsup__resizer_push_row(ctx->resizer, ctx->converted);
}

/* Our own refusal: status and why are set; unwinds like a libpng error. */
static void refuse(png_structp png, png_ctx *ctx, selfsup_status status)
{
    ctx->status = status;
    png_longjmp(png, 1);
}

/* The decode proper; every failure longjmps to read_png. */
static void read_rows(png_structp png, png_infop info, png_ctx *ctx,
                      const selfsup__image_format *fmt, uint8_t *out)
{
    png_set_read_fn(png, ctx, on_read);
    png_read_info(png, info);
    png_uint_32 width, height;
    int depth, color, interlace;
    png_get_IHDR(png, info, &width, &height, &depth, &color, &interlace, NULL,
                 NULL);
    selfsup_status s = selfsup__image_check_dims(
        width, height, interlace != PNG_INTERLACE_NONE, fmt, ctx->why,
        ctx->why_cap);
    if (s != SELFSUP_OK)
        refuse(png, ctx, s);
    allow_image_buffers(ctx, width, height, interlace != PNG_INTERLACE_NONE);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16)
        png_set_scale_16(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (selfsup__resizer_create(&ctx->resizer, (int)width, (int)height,
                                fmt->channels, fmt->size) != SELFSUP_OK) {
        ctx->out_of_memory = 1;
        png_error(png, "Out of Memory");
    }
    ctx->converted = png_malloc(png, (size_t)width * fmt->channels);
    ctx->rows = png_malloc(png, passes > 1 ? row_bytes * height : row_bytes);
    if (passes == 1) {
        for (png_uint_32 y = 0; y < height; y++) {
            png_read_row(png, ctx->rows, NULL);
            push_row(ctx, ctx->rows, (int)width, channels, fmt);
        }
    } else {
        ctx->row_pointers = png_malloc(png, height * sizeof *ctx->row_pointers);
        for (png_uint_32 y = 0; y < height; y++)
            ctx->row_pointers[y] = ctx->rows + (size_t)y * row_bytes;
        png_read_image(png, ctx->row_pointers);
        for (png_uint_32 y = 0; y < height; y++)
            push_row(ctx, ctx->row_pointers[y], (int)width, channels, fmt);
    }
    /* the end checks the image data's checksum and the trailing chunks */
    png_read_end(png, NULL);
    selfsup__resizer_finish(ctx->resizer, out);
}

/* setjmp lives in a function whose locals do not change after it, so
 * nothing is indeterminate after the longjmp (C11 7.13.2.1). */
static void read_png(png_structp png, png_infop info, png_ctx *ctx,
                     const selfsup__image_format *fmt, uint8_t *out)
{
    if (setjmp(png_jmpbuf(png))) {
        if (ctx->status != SELFSUP_OK)
            return; /* refused: why is written */
        if (ctx->refused_request) {
            ctx->status = SELFSUP_ERR_CORRUPT;
            snprintf(ctx->why, ctx->why_cap,
                     "damaged PNG: a chunk claims %zu bytes, more than the "
                     "%zu this image can need",
                     ctx->refused_request, ctx->alloc_limit);
        } else if (ctx->out_of_memory) {
            ctx->status = SELFSUP_ERR_OUT_OF_MEMORY;
            snprintf(ctx->why, ctx->why_cap, "out of memory decoding a PNG");
        } else if (ctx->read_failed && ctx->src->file &&
                   ferror(ctx->src->file)) {
            ctx->status = SELFSUP_ERR_IO;
            snprintf(ctx->why, ctx->why_cap, "read error");
        } else {
            ctx->status = SELFSUP_ERR_CORRUPT;
            snprintf(ctx->why, ctx->why_cap, "%s PNG: %s",
                     ctx->read_failed ? "truncated" : "damaged", ctx->message);
        }
        return;
    }
    read_rows(png, info, ctx, fmt, out);
}

selfsup_status selfsup__image_decode_png(const selfsup__image_source *src,
                                         const selfsup__image_format *fmt,
                                         uint8_t *out, char *why,
                                         size_t why_cap)
{
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.src = src;
    ctx.why = why;
    ctx.why_cap = why_cap;
    ctx.alloc_limit = ALLOC_LIMIT_BEFORE_HEADER;
    png_structp png =
        png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &ctx, on_error,
                                 on_warning, &ctx, on_malloc, on_free);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(why, why_cap, "out of memory for libpng");
        return SELFSUP_ERR_OUT_OF_MEMORY;
    }
    read_png(png, info, &ctx, fmt, out);
    release(png, &ctx);
    png_destroy_read_struct(&png, &info, NULL);
    return ctx.status;
}
