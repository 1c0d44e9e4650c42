#include "learner_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

selfsup_learner_config *small_config(const char *method, int64_t total_steps)
{
    selfsup_learner_config *c;
    ss_assert_ok(selfsup_learner_config_create(&c, method));
    ss_assert_ok(selfsup_learner_config_set(c, "encoder",
                                            "resnet18:width=16,in_channels=1"));
    /* Heads scaled down with the encoder (128 features). */
    if (strcmp(method, "byol") == 0) {
        ss_assert_ok(selfsup_learner_config_set(
            c, "projector", "mlp:hidden=64,out=32,layers=2"));
        ss_assert_ok(selfsup_learner_config_set(
            c, "predictor", "mlp:hidden=64,out=32,layers=2"));
    } else if (strcmp(method, "simsiam") == 0) {
        ss_assert_ok(selfsup_learner_config_set(
            c, "projector", "mlp:hidden=64,out=64,layers=3,last_bn=1"));
        ss_assert_ok(selfsup_learner_config_set(
            c, "predictor", "mlp:hidden=16,out=64,layers=2"));
    } else if (strcmp(method, "groco") == 0) {
        ss_assert_ok(selfsup_learner_config_set(
            c, "projector", "mlp:out=64,layers=3,last_bn=1"));
        ss_assert_ok(
            selfsup_learner_config_set(c, "objective", "groco:topk=5"));
    } else {
        ss_assert_ok(selfsup_learner_config_set(
            c, "projector", "mlp:hidden=64,out=64,layers=3"));
    }
    ss_assert_ok(selfsup_learner_config_set(c, "batch_size", "32"));
    char steps[32];
    snprintf(steps, sizeof steps, "%lld", (long long)total_steps);
    ss_assert_ok(selfsup_learner_config_set(c, "total_steps", steps));
    ss_assert_ok(selfsup_learner_config_set(c, "seed", "7"));
    /* float32 on every CPU, so that a test's figures do not depend on
     * whether precision=auto finds bf16 here (test_precision covers it) */
    ss_assert_ok(selfsup_learner_config_set(c, "precision", "f32"));
    return c;
}

/* Synthetic stand-ins: bars and blobs whose position depends on i. */
static selfsup_dataset *synthetic(int64_t n)
{
    uint8_t *pixels = calloc((size_t)n, 28 * 28);
    for (int64_t i = 0; i < n; i++)
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                int cls = (int)(i % 4);
                int on = cls == 0   ? (x / 4) % 2
                         : cls == 1 ? (y / 4) % 2
                         : cls == 2
                             ? (x - 14) * (x - 14) + (y - 14) * (y - 14) <
                                   60 + (int)(i % 7) * 10
                             : x > y;
                pixels[i * 784 + y * 28 + x] = (uint8_t)(on ? 220 : 20);
            }
    selfsup_dataset *d;
    ss_assert_ok(
        selfsup_dataset_from_memory(&d, pixels, n, 28, 28, 1, NULL, 1));
    free(pixels);
    return d;
}

void make_views(int64_t n, int64_t epoch, selfsup_tensor *views[2])
{
    make_views_at(0, n, epoch, views);
}

void make_views_at(int64_t first, int64_t n, int64_t epoch,
                   selfsup_tensor *views[2])
{
    selfsup_dataset *d = NULL;
    if (selfsup_dataset_open_fashion_mnist(&d, NULL, "train") != SELFSUP_OK)
        d = synthetic(first + n);
    selfsup_views *v;
    ss_assert_ok(selfsup_views_create(&v, "fmnist", 2, 28));
    int64_t *indices = malloc((size_t)n * sizeof *indices);
    for (int64_t i = 0; i < n; i++)
        indices[i] = first + i;
    const int64_t dims[4] = {n, 1, 28, 28};
    for (int k = 0; k < 2; k++)
        ss_assert_ok(selfsup_tensor_create(&views[k], 4, dims));
    ss_assert_ok(selfsup_views_apply(v, d, indices, n, 11, epoch, views));
    free(indices);
    selfsup_views_destroy(v);
    selfsup_dataset_destroy(d);
}

float *snapshot_encoder(const selfsup_encoder *e, int64_t *count)
{
    int n = selfsup_encoder_param_count(e);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        int ndim;
        int64_t dims[4], numel = 1;
        ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, dims));
        for (int k = 0; k < ndim; k++)
            numel *= dims[k];
        total += numel;
    }
    float *all = malloc((size_t)total * sizeof *all);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        int ndim;
        int64_t dims[4], numel = 1;
        ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, dims));
        for (int k = 0; k < ndim; k++)
            numel *= dims[k];
        ss_assert_ok(selfsup_encoder_param_read(e, i, all + at, numel));
        at += numel;
    }
    *count = total;
    return all;
}

char *temp_path(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/selfsup_learner_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return path;
}
