/* Internal: one PNG or JPEG file (or buffer) decoded straight into the
 * training resolution, row by row through the streaming resize
 * (image_resize.h), so memory is bounded by the output and not by the file
 * (interlaced PNGs, which libpng can only hand out whole, excepted: they
 * are refused above SELFSUP__INTERLACED_MAX_PIXELS).
 *
 * Colour: alpha is composited over a gray background, then the pixels are
 * converted to the output's channels: gray to RGB by replication, RGB to
 * gray by ITU-R 601-2 luma (R 0.299, G 0.587, B 0.114, in 16-bit fixed
 * point as PIL's convert("L")). Values are used as stored: no gamma, no ICC
 * profile, no EXIF orientation.
 *
 * libpng's and libjpeg's error paths end in our handlers (longjmp back
 * here), never print, and leave nothing allocated. JPEG warnings (a
 * premature end of data, corrupt entropy data) count as errors: libjpeg
 * would otherwise hand back an image padded with gray. PNG warnings (an
 * ancillary chunk libpng ignores) do not. */
#ifndef SELFSUP_DATA_IMAGE_DECODE_H
#define SELFSUP_DATA_IMAGE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "selfsup/status.h"

/* What an image becomes. */
typedef struct selfsup__image_format {
    int size;           /* output side, pixels */
    int channels;       /* 1 or 3 */
    int background;     /* 0..255: the gray alpha is composited over */
    int64_t max_pixels; /* width x height above this is refused unread */
} selfsup__image_format;

/* Interlaced PNGs are decoded whole before the resize. */
#define SELFSUP__INTERLACED_MAX_PIXELS ((int64_t)1 << 26)
/* Progressive JPEGs with more scans than this are refused (a crafted file
 * can make each scan cost a full pass over the coefficients). */
#define SELFSUP__JPEG_MAX_SCANS 1000

/* The bytes of one image: an open file read from its start, or memory. */
typedef struct selfsup__image_source {
    FILE *file; /* NULL: data/len */
    const uint8_t *data;
    size_t len;
} selfsup__image_source;

/* Decodes src into out (size * size * channels bytes, HWC). On failure
 * returns SELFSUP_ERR_CORRUPT (damaged or not an image),
 * SELFSUP_ERR_UNSUPPORTED (CMYK JPEG, too many pixels),
 * SELFSUP_ERR_OUT_OF_MEMORY or SELFSUP_ERR_IO, writes the reason into why
 * (no prefix, e.g. "truncated PNG: Read Error") and leaves out untouched
 * unless the status is SELFSUP_OK. Sets no thread error message: the
 * caller names the file. */
selfsup_status selfsup__image_decode(const selfsup__image_source *src,
                                     const selfsup__image_format *fmt,
                                     uint8_t *out, char *why, size_t why_cap);

/* The decoders behind it (the signature already checked). */
selfsup_status selfsup__image_decode_png(const selfsup__image_source *src,
                                         const selfsup__image_format *fmt,
                                         uint8_t *out, char *why,
                                         size_t why_cap);
selfsup_status selfsup__image_decode_jpeg(const selfsup__image_source *src,
                                          const selfsup__image_format *fmt,
                                          uint8_t *out, char *why,
                                          size_t why_cap);

/* One row of width pixels with in_channels (1 gray, 2 gray+alpha, 3 RGB,
 * 4 RGBA) to fmt->channels, alpha composited over fmt->background. */
void selfsup__image_convert_row(uint8_t *dst, const uint8_t *src, int width,
                                int in_channels,
                                const selfsup__image_format *fmt);

/* width x height against fmt->max_pixels (and the interlaced cap when
 * interlaced): SELFSUP_OK or SELFSUP_ERR_UNSUPPORTED with why written. */
selfsup_status selfsup__image_check_dims(int64_t width, int64_t height,
                                         int interlaced,
                                         const selfsup__image_format *fmt,
                                         char *why, size_t why_cap);

#endif
