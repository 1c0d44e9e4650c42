/* Features of a dataset through an encoder, in inference mode, in batches
 * so that memory stays bounded whatever the dataset's size. */
#include <string.h>

#include "core/error.h"
#include "core/tensor_impl.h"
#include "selfsup/data.h"
#include "selfsup/encoder.h"
#include "selfsup/eval.h"
#include "selfsup/whitening.h"

enum { EMBED_BATCH = 500 };

selfsup_status selfsup_embed_dataset(const selfsup_encoder *e,
                                     const selfsup_dataset *d, int64_t first,
                                     int64_t count, const float *mean,
                                     const float *std,
                                     selfsup_tensor **features)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_CHECK_NOT_NULL(d);
    SS_CHECK_NOT_NULL(features);
    int64_t n = selfsup_dataset_count(d);
    if (first < 0 || count < 1 || first > n || count > n - first)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "images [%lld, %lld) are outside the dataset's %lld",
                       (long long)first, (long long)(first + count),
                       (long long)n);
    int64_t channels = selfsup_dataset_channels(d);
    if (channels != selfsup_encoder_input_channels(e))
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "the dataset has %lld channels, the encoder takes "
                       "%lld",
                       (long long)channels,
                       (long long)selfsup_encoder_input_channels(e));
    int64_t dim = selfsup_encoder_output_dim(e);
    const selfsup_whitening *whitening = selfsup_encoder_whitening(e);
    int64_t out_dim = selfsup_encoder_embedding_dim(e);
    const int64_t out_dims[2] = {count, out_dim};
    selfsup_tensor *out = NULL, *batch = NULL, *feat = NULL, *white = NULL;
    SS_TRY(selfsup_tensor_create(&out, 2, out_dims));

    selfsup_status s = SELFSUP_OK;
    for (int64_t at = 0; s == SELFSUP_OK && at < count; at += EMBED_BATCH) {
        int64_t b = count - at < EMBED_BATCH ? count - at : EMBED_BATCH;
        if (!batch || batch->dims[0] != b) {
            selfsup_tensor_destroy(batch);
            selfsup_tensor_destroy(feat);
            selfsup_tensor_destroy(white);
            batch = feat = white = NULL;
            const int64_t in_dims[4] = {b, channels, selfsup_dataset_height(d),
                                        selfsup_dataset_width(d)};
            const int64_t f_dims[2] = {b, dim}, w_dims[2] = {b, out_dim};
            s = selfsup_tensor_create(&batch, 4, in_dims);
            if (s == SELFSUP_OK)
                s = selfsup_tensor_create(&feat, 2, f_dims);
            if (s == SELFSUP_OK && whitening)
                s = selfsup_tensor_create(&white, 2, w_dims);
        }
        if (s == SELFSUP_OK)
            s = selfsup_dataset_read_batch(d, first + at, batch, mean, std);
        if (s == SELFSUP_OK)
            s = selfsup_encoder_infer(e, batch, feat);
        if (s == SELFSUP_OK && whitening)
            s = selfsup_whitening_apply(whitening, feat, white);
        if (s == SELFSUP_OK)
            memcpy(out->data + at * out_dim, (whitening ? white : feat)->data,
                   (size_t)(b * out_dim) * sizeof(float));
    }
    selfsup_tensor_destroy(batch);
    selfsup_tensor_destroy(feat);
    selfsup_tensor_destroy(white);
    if (s != SELFSUP_OK) {
        selfsup_tensor_destroy(out);
        return s;
    }
    *features = out;
    return SELFSUP_OK;
}
