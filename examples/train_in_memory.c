/* A host program that trains on images it holds in its own memory.
 *
 * Here the "host images" are the first 4096 Fashion-MNIST pictures copied
 * into a plain array (the pattern is the same for camera frames or a
 * database): the library borrows the array without copying, makes two
 * augmented views of every batch, trains BYOL for a few steps and exports
 * the encoder for inference.
 *
 *   train_in_memory [OUT.ckpt] [STEPS]                                     */
#include <selfsup/selfsup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                            \
    do {                                                                       \
        selfsup_status s_ = (call);                                            \
        if (s_ != SELFSUP_OK) {                                                \
            fprintf(stderr, "%s: %s\n", #call, selfsup_last_error());          \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

enum { N = 4096, SIDE = 28 };

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "in_memory_encoder.ckpt";
    int steps = argc > 2 ? atoi(argv[2]) : 20;

    /* The host's own pixels: N images of 28 x 28 x 1 bytes. */
    static uint8_t pixels[N * SIDE * SIDE];
    selfsup_dataset *source;
    CHECK(selfsup_dataset_open_fashion_mnist(&source, NULL, "train"));
    for (int i = 0; i < N; i++) {
        const uint8_t *img;
        CHECK(selfsup_dataset_image(source, i, &img));
        memcpy(pixels + i * SIDE * SIDE, img, SIDE * SIDE);
    }
    selfsup_dataset_destroy(source);

    /* Borrowed (copy = 0): the array must outlive the dataset. */
    selfsup_dataset *images;
    CHECK(selfsup_dataset_from_memory(&images, pixels, N, SIDE, SIDE, 1, NULL,
                                      0));

    selfsup_learner_config *config;
    CHECK(selfsup_learner_config_create(&config, "byol"));
    CHECK(selfsup_learner_config_set(config, "encoder",
                                     "resnet18:width=8,in_channels=1"));
    CHECK(selfsup_learner_config_set(config, "batch_size", "128"));
    char total[32];
    snprintf(total, sizeof total, "%d", steps);
    CHECK(selfsup_learner_config_set(config, "total_steps", total));
    selfsup_learner *learner;
    CHECK(selfsup_learner_create(&learner, config));
    selfsup_learner_config_destroy(config);

    selfsup_views *views;
    CHECK(selfsup_views_create(&views, "fmnist", 2, SIDE));
    selfsup_loader *loader;
    CHECK(selfsup_loader_create(&loader, images, views, 128, 42, NULL));
    /* The export then tells embedding programs how images were prepared. */
    float mean[1], std[1];
    CHECK(selfsup_views_normalization(views, images, mean, std));
    CHECK(selfsup_learner_set_input_normalization(learner, mean, std));

    for (int step = 0; step < steps; step++) {
        selfsup_tensor *const *batch;
        int64_t epoch, index;
        float loss;
        CHECK(selfsup_loader_next(loader, &batch, &epoch, &index));
        CHECK(selfsup_learner_step(
            learner, 2, (const selfsup_tensor *const *)batch, &loss));
        printf("step %2d (epoch %lld, batch %lld): loss %.4f\n", step + 1,
               (long long)epoch, (long long)index, (double)loss);
    }
    CHECK(selfsup_learner_export_encoder(learner, out));
    printf("encoder written to %s\n", out);

    selfsup_loader_destroy(loader);
    selfsup_views_destroy(views);
    selfsup_learner_destroy(learner);
    selfsup_dataset_destroy(images);
    return 0;
}
