/* Loads an exported encoder and embeds one image.
 *
 *   embed_image ENCODER.ckpt [INDEX]
 *
 * The image is number INDEX of the Fashion-MNIST test split; a host program
 * would fill the input tensor from its own pixels the same way: scale to
 * [0, 1] and standardise with the statistics training used, then whiten
 * the features as the export records (selfsup train's exports do). */
#include <math.h>
#include <selfsup/selfsup.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                            \
    do {                                                                       \
        selfsup_status s_ = (call);                                            \
        if (s_ != SELFSUP_OK) {                                                \
            fprintf(stderr, "%s: %s\n", #call, selfsup_last_error());          \
            return 1;                                                          \
        }                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: embed_image ENCODER.ckpt [INDEX]\n");
        return 2;
    }
    int64_t index = argc > 2 ? atoll(argv[2]) : 0;

    selfsup_encoder *encoder;
    CHECK(selfsup_encoder_load(&encoder, argv[1]));
    selfsup_dataset *test;
    CHECK(selfsup_dataset_open_fashion_mnist(&test, NULL, "test"));
    /* Prepare the image as training did: the export records the
     * normalisation; exports of programs that did not record it fall back
     * to the test set's statistics. */
    float mean[4], std[4];
    if (selfsup_encoder_input_channels(encoder) > 4 ||
        selfsup_encoder_input_normalization(encoder, mean, std) != SELFSUP_OK)
        CHECK(selfsup_dataset_stats(test, mean, std));

    const int64_t in_dims[4] = {1, selfsup_dataset_channels(test),
                                selfsup_dataset_height(test),
                                selfsup_dataset_width(test)};
    const int64_t net_dims[2] = {1, selfsup_encoder_output_dim(encoder)};
    const int64_t out_dims[2] = {1, selfsup_encoder_embedding_dim(encoder)};
    selfsup_tensor *image, *bare, *feature;
    CHECK(selfsup_tensor_create(&image, 4, in_dims));
    CHECK(selfsup_tensor_create(&bare, 2, net_dims));
    CHECK(selfsup_tensor_create(&feature, 2, out_dims));
    CHECK(selfsup_dataset_read_batch(test, index, image, mean, std));
    /* selfsup_embed_dataset does both steps for a dataset's images */
    CHECK(selfsup_encoder_forward(encoder, image, bare));
    const selfsup_whitening *whitening = selfsup_encoder_whitening(encoder);
    if (whitening)
        CHECK(selfsup_whitening_apply(whitening, bare, feature));
    else
        CHECK(selfsup_tensor_copy(feature, bare));

    const float *f = selfsup_tensor_data(feature);
    double norm = 0;
    for (int64_t i = 0; i < out_dims[1]; i++)
        norm += (double)f[i] * f[i];
    printf("image %lld -> %lld features, |f| = %.4f, first: %.4f %.4f %.4f "
           "%.4f\n",
           (long long)index, (long long)out_dims[1], sqrt(norm), (double)f[0],
           (double)f[1], (double)f[2], (double)f[3]);

    selfsup_tensor_destroy(image);
    selfsup_tensor_destroy(bare);
    selfsup_tensor_destroy(feature);
    selfsup_dataset_destroy(test);
    selfsup_encoder_destroy(encoder);
    return 0;
}
