/* Fuzzes the image decoders (libpng and libjpeg behind the library's
 * wrapper, selfsup__image_decode, from memory: the code a file runs after
 * fopen): any input is decoded or refused with a status and a reason,
 * never a crash, a leak, a print or an allocation beyond the pixel cap.
 * The same target runs on two corpora, corpus/png and corpus/jpeg, which
 * make_image_seeds writes. The input's length picks the output: odd
 * lengths decode to gray, even to RGB, over a background of 128. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/image_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a small cap keeps each input quick: a header may claim anything */
    const selfsup__image_format fmt = {12, size % 2 ? 1 : 3, 128, 1 << 20};
    uint8_t out[12 * 12 * 3];
    char why[256];
    long live = selfsup__alloc_live();
    selfsup__image_source src = {NULL, data, size};
    selfsup_status s = selfsup__image_decode(&src, &fmt, out, why, sizeof why);
    if (s != SELFSUP_OK && why[0] == '\0')
        abort(); /* a refusal always says why */
    if (selfsup__alloc_live() != live)
        abort(); /* nothing left behind, whatever the path */
    return 0;
}
