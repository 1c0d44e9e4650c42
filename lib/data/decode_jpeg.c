/* JPEG through libjpeg(-turbo): baseline and progressive, gray and YCbCr
 * (CMYK and YCCK refused). The DCT decodes at n/8 of the size (the smallest
 * n that keeps the shorter side at twice the output's or more), so a photo
 * many times the output's size costs a fraction of a full decode; the
 * rest goes through the streaming resize. libjpeg's errors and warnings
 * longjmp back here; its memory is its own and released by
 * jpeg_destroy_decompress on every path. */
#include <setjmp.h>
#include <string.h>

/* jpeglib.h needs size_t and FILE declared first */
#include <stddef.h>
#include <stdio.h>

#include <jpeglib.h>

#include <jerror.h>

#include "core/alloc.h"
#include "image_decode.h"
#include "image_resize.h"

typedef struct jpeg_ctx {
    struct jpeg_error_mgr err; /* first: libjpeg hands us a pointer to it */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    selfsup_status status;
    char *why;
    size_t why_cap;
    selfsup__resizer *resizer;
    uint8_t *row;
} jpeg_ctx;

static void fail_with_message(j_common_ptr cinfo, const char *kind)
{
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, message);
    if (cinfo->err->msg_code == JERR_OUT_OF_MEMORY) {
        ctx->status = SELFSUP_ERR_OUT_OF_MEMORY;
        snprintf(ctx->why, ctx->why_cap, "out of memory decoding a JPEG");
    } else {
        ctx->status = SELFSUP_ERR_CORRUPT;
        snprintf(ctx->why, ctx->why_cap, "%s JPEG: %s", kind, message);
    }
    longjmp(ctx->jump, 1);
}

static void on_error_exit(j_common_ptr cinfo)
{
    fail_with_message(cinfo, "damaged");
}

/* Level -1 is a warning: corrupt data libjpeg would paper over (a
 * premature end of file becomes gray rows). Trace levels are ignored. */
static void on_emit_message(j_common_ptr cinfo, int level)
{
    if (level < 0)
        fail_with_message(cinfo, cinfo->err->msg_code == JWRN_JPEG_EOF
                                     ? "truncated"
                                     : "damaged");
}

static void on_output_message(j_common_ptr cinfo)
{
    (void)cinfo; /* never print */
}

static void on_progress(j_common_ptr cinfo)
{
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > SELFSUP__JPEG_MAX_SCANS) {
        ctx->status = SELFSUP_ERR_CORRUPT;
        snprintf(ctx->why, ctx->why_cap,
                 "damaged JPEG: more than %d progressive scans",
                 SELFSUP__JPEG_MAX_SCANS);
        longjmp(ctx->jump, 1);
    }
}

/* The smallest n in 1..8 whose n/8 scale keeps `shorter` at least twice
 * size: the DCT's reduction is a box filter, so the last factor of two or
 * more is left to the resize's antialiased bilinear, and a JPEG and a PNG
 * of the same photo come out nearly alike. */
static int dct_scale(int shorter, int size)
{
    for (int n = 1; n < 8; n++)
        if (((int64_t)shorter * n + 7) / 8 >= 2 * (int64_t)size)
            return n;
    return 8;
}

static void refuse(jpeg_ctx *ctx, selfsup_status status)
{
    ctx->status = status;
    longjmp(ctx->jump, 1);
}

static void read_rows(struct jpeg_decompress_struct *cinfo, jpeg_ctx *ctx,
                      const selfsup__image_source *src,
                      const selfsup__image_format *fmt, uint8_t *out)
{
    if (src->file)
        jpeg_stdio_src(cinfo, src->file);
    else
        jpeg_mem_src(cinfo, src->data, (unsigned long)src->len);
    jpeg_read_header(cinfo, TRUE);
    selfsup_status s =
        selfsup__image_check_dims(cinfo->image_width, cinfo->image_height, 0,
                                  fmt, ctx->why, ctx->why_cap);
    if (s != SELFSUP_OK)
        refuse(ctx, s);
    if (cinfo->jpeg_color_space == JCS_CMYK ||
        cinfo->jpeg_color_space == JCS_YCCK) {
        snprintf(ctx->why, ctx->why_cap,
                 "a CMYK JPEG: only gray and YCbCr JPEGs are read");
        refuse(ctx, SELFSUP_ERR_UNSUPPORTED);
    }
    cinfo->out_color_space = fmt->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    int shorter =
        (int)(cinfo->image_width < cinfo->image_height ? cinfo->image_width
                                                       : cinfo->image_height);
    cinfo->scale_num = (unsigned)dct_scale(shorter, fmt->size);
    cinfo->scale_denom = 8;
    jpeg_calc_output_dimensions(cinfo);
    int width = (int)cinfo->output_width, height = (int)cinfo->output_height;
    if (selfsup__resizer_create(&ctx->resizer, width, height, fmt->channels,
                                fmt->size) != SELFSUP_OK)
        goto out_of_memory;
    ctx->row = selfsup__malloc((size_t)width * fmt->channels);
    if (!ctx->row)
        goto out_of_memory;
    jpeg_start_decompress(cinfo);
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW rows[1] = {ctx->row};
        jpeg_read_scanlines(cinfo, rows, 1);
        selfsup__resizer_push_row(ctx->resizer, ctx->row);
    }
    jpeg_finish_decompress(cinfo);
    selfsup__resizer_finish(ctx->resizer, out);
    return;
out_of_memory:
    snprintf(ctx->why, ctx->why_cap, "out of memory decoding a JPEG");
    refuse(ctx, SELFSUP_ERR_OUT_OF_MEMORY);
}

/* setjmp in a function whose locals do not change after it. */
static void read_jpeg(struct jpeg_decompress_struct *cinfo, jpeg_ctx *ctx,
                      const selfsup__image_source *src,
                      const selfsup__image_format *fmt, uint8_t *out)
{
    if (setjmp(ctx->jump))
        return; /* status and why are set */
    jpeg_create_decompress(cinfo);
    cinfo->progress = &ctx->progress;
    read_rows(cinfo, ctx, src, fmt, out);
}

selfsup_status selfsup__image_decode_jpeg(const selfsup__image_source *src,
                                          const selfsup__image_format *fmt,
                                          uint8_t *out, char *why,
                                          size_t why_cap)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&ctx, 0, sizeof ctx);
    ctx.why = why;
    ctx.why_cap = why_cap;
    cinfo.err = jpeg_std_error(&ctx.err);
    ctx.err.error_exit = on_error_exit;
    ctx.err.emit_message = on_emit_message;
    ctx.err.output_message = on_output_message;
    ctx.progress.progress_monitor = on_progress;
    read_jpeg(&cinfo, &ctx, src, fmt, out);
    /* safe on a struct that jpeg_create_decompress failed part-way */
    jpeg_destroy_decompress(&cinfo);
    selfsup__resizer_destroy(ctx.resizer);
    selfsup__free(ctx.row);
    return ctx.status;
}
