/* Fuzzes the IDX reader through its memory path (raw and gzip: the same
 * code the file path runs after fopen): any input is read or refused with
 * a status and a message, never a crash, a leak or a huge allocation.
 *
 * The first byte picks what the rest is:
 *   0  an image file               1  a label file
 *   2  an image file and a label file, split at the offset in bytes 1-2
 *   3  an image file, whose images are then augmented (odd sizes reach the
 *      crop, blur and normalisation) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/dataset_impl.h"
#include "selfsup/selfsup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void augment_some(const selfsup_dataset *d)
{
    selfsup_views *v = NULL;
    if (selfsup_views_create(&v,
                             "crop:size=8,scale=0.05-1.0|flip|jitter:"
                             "brightness=0.4,contrast=0.4|blur:kernel=5|"
                             "solarize|normalize",
                             1, 8) != SELFSUP_OK)
        abort();
    const int64_t dims[4] = {2, 1, 8, 8};
    selfsup_tensor *out = NULL;
    if (selfsup_tensor_create(&out, 4, dims) != SELFSUP_OK)
        abort();
    int64_t idx[2] = {0, selfsup_dataset_count(d) - 1};
    selfsup_tensor *views[1] = {out};
    if (selfsup_views_apply(v, d, idx, 2, 1, 0, views) != SELFSUP_OK)
        abort(); /* a dataset that opened must augment */
    selfsup_tensor_destroy(out);
    selfsup_views_destroy(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    selfsup_dataset *d = NULL;
    selfsup_status st;
    if (mode == 1) {
        selfsup__idx idx;
        st = selfsup__idx_read_memory(&idx, rest, n, "labels", 1, "fuzz");
        if (st == SELFSUP_OK)
            selfsup__idx_free(&idx);
    } else if (mode == 2) {
        if (n < 2)
            return 0;
        size_t split = (size_t)(rest[0] | rest[1] << 8);
        rest += 2;
        n -= 2;
        if (split > n)
            split = n;
        st = selfsup__dataset_open_idx_memory(
            &d, rest, split, "images", rest + split, n - split, "labels");
    } else {
        st = selfsup__dataset_open_idx_memory(&d, rest, n, "images", NULL, 0,
                                              NULL);
        if (st == SELFSUP_OK && mode == 3)
            augment_some(d);
    }
    if (st != SELFSUP_OK && selfsup_last_error()[0] == '\0')
        abort(); /* every refusal says why */
    if (st != SELFSUP_OK && st != SELFSUP_ERR_CORRUPT &&
        st != SELFSUP_ERR_OUT_OF_MEMORY)
        abort(); /* memory input: malformed is the only other outcome */
    selfsup_dataset_destroy(d);
    if (selfsup__alloc_live() != 0)
        abort(); /* no path may leak */
    return 0;
}
