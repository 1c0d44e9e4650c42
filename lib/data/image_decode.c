/* Which decoder a file needs (by its signature, not its name), the checks
 * every decoder shares, and the colour conversion of image_decode.h. */
#include "image_decode.h"

#include <errno.h>
#include <string.h>

static const uint8_t png_signature[8] = {0x89, 'P',  'N',  'G',
                                         '\r', '\n', 0x1a, '\n'};

/* The first n bytes of src into buf; the count read. A file is put back at
 * its start for the decoder. */
static size_t peek(const selfsup__image_source *src, uint8_t *buf, size_t n,
                   int *read_error)
{
    *read_error = 0;
    if (!src->file) {
        size_t k = src->len < n ? src->len : n;
        memcpy(buf, src->data, k);
        return k;
    }
    size_t k = fread(buf, 1, n, src->file);
    if (ferror(src->file) || fseek(src->file, 0, SEEK_SET) != 0)
        *read_error = errno ? errno : EIO;
    return k;
}

selfsup_status selfsup__image_decode(const selfsup__image_source *src,
                                     const selfsup__image_format *fmt,
                                     uint8_t *out, char *why, size_t why_cap)
{
    uint8_t head[8];
    int read_error;
    size_t n = peek(src, head, sizeof head, &read_error);
    if (read_error) {
        snprintf(why, why_cap, "cannot read: %s", strerror(read_error));
        return SELFSUP_ERR_IO;
    }
    if (n == 0) {
        snprintf(why, why_cap, "empty file");
        return SELFSUP_ERR_CORRUPT;
    }
    if (n == sizeof head && memcmp(head, png_signature, 8) == 0)
        return selfsup__image_decode_png(src, fmt, out, why, why_cap);
    if (n >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
        return selfsup__image_decode_jpeg(src, fmt, out, why, why_cap);
    snprintf(why, why_cap,
             "not a PNG or JPEG image (%zu bytes, starting %02x %02x %02x)", n,
             head[0], n > 1 ? head[1] : 0, n > 2 ? head[2] : 0);
    return SELFSUP_ERR_CORRUPT;
}

selfsup_status selfsup__image_check_dims(int64_t width, int64_t height,
                                         int interlaced,
                                         const selfsup__image_format *fmt,
                                         char *why, size_t why_cap)
{
    if (width < 1 || height < 1) {
        snprintf(why, why_cap, "%lld x %lld pixels", (long long)width,
                 (long long)height);
        return SELFSUP_ERR_CORRUPT;
    }
    /* both sides fit in 2^31, so the product fits in int64 */
    if (width * height > fmt->max_pixels) {
        snprintf(why, why_cap,
                 "%lld x %lld pixels exceed max_pixels = %lld (a "
                 "decompression bomb? raise max_pixels to read it)",
                 (long long)width, (long long)height,
                 (long long)fmt->max_pixels);
        return SELFSUP_ERR_UNSUPPORTED;
    }
    if (interlaced && width * height > SELFSUP__INTERLACED_MAX_PIXELS) {
        snprintf(why, why_cap,
                 "an interlaced PNG of %lld x %lld pixels: interlaced images "
                 "are decoded whole, up to %lld pixels",
                 (long long)width, (long long)height,
                 (long long)SELFSUP__INTERLACED_MAX_PIXELS);
        return SELFSUP_ERR_UNSUPPORTED;
    }
    return SELFSUP_OK;
}

static inline uint8_t over_background(int value, int alpha, int background)
{
    return (uint8_t)((value * alpha + background * (255 - alpha) + 127) / 255);
}

/* PIL's convert("L"): L = (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
static inline uint8_t luma(int r, int g, int b)
{
    return (uint8_t)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
}

void selfsup__image_convert_row(uint8_t *dst, const uint8_t *src, int width,
                                int in_channels,
                                const selfsup__image_format *fmt)
{
    const int bg = fmt->background;
    for (int x = 0; x < width; x++) {
        const uint8_t *p = src + (size_t)x * in_channels;
        int r, g, b;
        switch (in_channels) {
        case 1:
            r = g = b = p[0];
            break;
        case 2:
            r = g = b = over_background(p[0], p[1], bg);
            break;
        case 3:
            r = p[0], g = p[1], b = p[2];
            break;
        default:
            r = over_background(p[0], p[3], bg);
            g = over_background(p[1], p[3], bg);
            b = over_background(p[2], p[3], bg);
            break;
        }
        if (fmt->channels == 1) {
            /* gray stays exact rather than going through the luma weights */
            dst[x] = in_channels <= 2 ? (uint8_t)r : luma(r, g, b);
        } else {
            dst[3 * x] = (uint8_t)r;
            dst[3 * x + 1] = (uint8_t)g;
            dst[3 * x + 2] = (uint8_t)b;
        }
    }
}
