/* Finds an image's nearest neighbours in an encoder's feature space.
 *
 *   nearest_neighbors ENCODER.ckpt [QUERY_INDEX] [K]
 *
 * Embeds the first 10000 Fashion-MNIST training images as a database and
 * test image QUERY_INDEX as the query, then prints the K most similar
 * database images with their labels: a trained encoder puts the query's
 * class among its neighbours without ever having seen a label. */
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

static const char *const CLASSES[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: nearest_neighbors ENCODER.ckpt [QUERY] [K]\n");
        return 2;
    }
    int64_t query = argc > 2 ? atoll(argv[2]) : 0;
    int k = argc > 3 ? atoi(argv[3]) : 5;
    enum { DATABASE = 10000 };

    selfsup_encoder *encoder;
    CHECK(selfsup_encoder_load(&encoder, argv[1]));
    selfsup_dataset *train, *test;
    CHECK(selfsup_dataset_open_fashion_mnist(&train, NULL, "train"));
    CHECK(selfsup_dataset_open_fashion_mnist(&test, NULL, "test"));
    float mean[4], std[4];
    CHECK(selfsup_dataset_stats(train, mean, std));

    selfsup_tensor *database, *queries;
    CHECK(selfsup_embed_dataset(encoder, train, 0, DATABASE, mean, std,
                                &database));
    CHECK(selfsup_embed_dataset(encoder, test, query, 1, mean, std, &queries));
    int64_t *indices = malloc((size_t)k * sizeof *indices);
    float *similarity = malloc((size_t)k * sizeof *similarity);
    if (!indices || !similarity)
        return 1;
    CHECK(selfsup_knn_neighbors(database, queries, k, indices, similarity));

    int32_t label;
    CHECK(selfsup_dataset_labels(test, query, 1, &label));
    printf("query: test image %lld, a %s\n", (long long)query,
           CLASSES[label % 10]);
    for (int i = 0; i < k; i++) {
        int32_t neighbour;
        CHECK(selfsup_dataset_labels(train, indices[i], 1, &neighbour));
        printf("  %d. train image %5lld  cosine %.3f  %s\n", i + 1,
               (long long)indices[i], (double)similarity[i],
               CLASSES[neighbour % 10]);
    }
    free(indices);
    free(similarity);
    selfsup_tensor_destroy(database);
    selfsup_tensor_destroy(queries);
    selfsup_dataset_destroy(train);
    selfsup_dataset_destroy(test);
    selfsup_encoder_destroy(encoder);
    return 0;
}
