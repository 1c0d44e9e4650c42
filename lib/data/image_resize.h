/* Internal: the streaming resize every decoded image goes through.
 *
 * An image of in_w x in_h pixels is resized so that its shorter side is
 * `size` (the longer side scaled to int(size * long / short), truncated),
 * then the centre size x size is cropped, the crop's offset rounded half
 * to even: torchvision's Resize(size) followed by CenterCrop(size). The
 * filter is PIL's antialiased bilinear (a triangle whose support widens
 * with the reduction, weights normalised per output pixel), computed in
 * float and rounded once at the end (PIL rounds to 8 bits between its two
 * passes, so the two differ by at most 1).
 *
 * Rows arrive one at a time, top to bottom, already in the output's
 * channel count; each is filtered horizontally, then added into the output
 * rows whose vertical window covers it. Memory is the output (as floats)
 * plus the filter tables, whatever the input's size, so a scan tens of
 * thousands of pixels a side resizes in the memory of its thumbnail. */
#ifndef SELFSUP_DATA_IMAGE_RESIZE_H
#define SELFSUP_DATA_IMAGE_RESIZE_H

#include <stdint.h>

#include "selfsup/status.h"

typedef struct selfsup__resizer selfsup__resizer;

/* A resizer from in_w x in_h (each >= 1) to size x size with channels 1..4
 * interleaved; SELFSUP_ERR_OUT_OF_MEMORY (no message set) when out of
 * memory. */
selfsup_status selfsup__resizer_create(selfsup__resizer **out, int in_w,
                                       int in_h, int channels, int size);
void selfsup__resizer_destroy(selfsup__resizer *r);

/* The next input row: in_w * channels bytes. Rows past in_h are ignored. */
void selfsup__resizer_push_row(selfsup__resizer *r, const uint8_t *row);

/* Writes size * size * channels bytes (HWC), rounded half up and clamped to
 * 0..255. Rows never pushed count as zero. */
void selfsup__resizer_finish(const selfsup__resizer *r, uint8_t *out);

/* Ready for the next image of the same size. */
void selfsup__resizer_reset(selfsup__resizer *r);

/* The resized (uncropped) side for a side `side` of an image whose shorter
 * side is `shorter`: size itself for the shorter side. */
int selfsup__resize_scaled_side(int side, int shorter, int size);

#endif
