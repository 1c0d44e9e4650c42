/* Benchmark of the evaluation module on feature matrices of the size the
 * main job produces: 60000 train and 10000 test rows of 128 features, 10
 * classes. Times the weighted kNN (k = 200, T = 0.1) and the linear probe
 * (defaults), each the median of --repeats runs. Not a test: the figures
 * and the command are in docs/benchmarks.md.
 *
 *   eval_bench [--threads N] [--repeats R] [--save DIR]
 *
 * --save writes the features and labels as .npy files into DIR, for the
 * PyTorch peer (tests/bench/eval_peer.py) to time the same work. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "selfsup/selfsup.h"

enum { N_TRAIN = 60000, N_TEST = 10000, DIM = 128, CLASSES = 10 };

static double seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void check(selfsup_status s, const char *what)
{
    if (s != SELFSUP_OK) {
        fprintf(stderr, "%s: %s\n", what, selfsup_last_error());
        exit(1);
    }
}

/* Clustered features: class centres N(0, 1), each row its centre plus
 * N(0, 3^2) noise per dimension, and a ReLU as an encoder's last layer
 * would apply. The overlap makes neither classifier trivially exact. */
static selfsup_tensor *make_features(int n, int32_t *labels,
                                     const float *centers, uint64_t seed)
{
    int64_t dims[2] = {n, DIM};
    selfsup_tensor *t;
    check(selfsup_tensor_create(&t, 2, dims), "tensor");
    check(selfsup_tensor_fill_normal(t, seed, 0.0f, 3.0f), "fill");
    float *x = malloc((size_t)n * DIM * sizeof *x);
    check(selfsup_tensor_read(t, x, (int64_t)n * DIM), "read");
    for (int i = 0; i < n; i++) {
        labels[i] = (int32_t)((i * 7 + (int)seed) % CLASSES);
        for (int j = 0; j < DIM; j++) {
            float v = x[i * DIM + j] + centers[labels[i] * DIM + j];
            x[i * DIM + j] = v > 0 ? v : 0;
        }
    }
    check(selfsup_tensor_write(t, x, (int64_t)n * DIM), "write");
    free(x);
    return t;
}

int main(int argc, char **argv)
{
    int threads = 0, repeats = 5;
    const char *save = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
            save = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--threads N] [--repeats R] "
                    "[--save DIR]\n",
                    argv[0]);
            return 2;
        }
    }
    if (repeats < 1 || repeats > 100)
        repeats = 5;
    check(selfsup_set_num_threads(threads), "threads");

    int64_t cdims[2] = {CLASSES, DIM};
    selfsup_tensor *c;
    check(selfsup_tensor_create(&c, 2, cdims), "centres");
    check(selfsup_tensor_fill_normal(c, 1, 0.0f, 1.0f), "centres");
    static int32_t y_train[N_TRAIN], y_test[N_TEST];
    selfsup_tensor *train =
        make_features(N_TRAIN, y_train, selfsup_tensor_data(c), 2);
    selfsup_tensor *test =
        make_features(N_TEST, y_test, selfsup_tensor_data(c), 3);
    if (save) {
        char path[4096];
        snprintf(path, sizeof path, "%s/train.npy", save);
        check(selfsup_npy_write(path, train), path);
        snprintf(path, sizeof path, "%s/test.npy", save);
        check(selfsup_npy_write(path, test), path);
        snprintf(path, sizeof path, "%s/train_labels.npy", save);
        check(selfsup_npy_write_labels(path, y_train, N_TRAIN), path);
        snprintf(path, sizeof path, "%s/test_labels.npy", save);
        check(selfsup_npy_write_labels(path, y_test, N_TEST), path);
    }
    printf("eval_bench: %d x %d train, %d test, %d classes, %d thread(s), "
           "median of %d\n",
           N_TRAIN, DIM, N_TEST, CLASSES, selfsup_get_num_threads(), repeats);

    /* Wall time, and the process's CPU time: on a shared machine the
     * latter shows the work done whatever else is running. */
    double wall[100], cpu[100], top1 = 0, top5 = 0;
    for (int r = 0; r < repeats; r++) {
        double w0 = seconds(CLOCK_MONOTONIC);
        double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        check(selfsup_knn_evaluate(
                  train, y_train, test, y_test, CLASSES, SELFSUP_KNN_DEFAULT_K,
                  SELFSUP_KNN_DEFAULT_TEMPERATURE, &top1, &top5),
              "knn");
        wall[r] = seconds(CLOCK_MONOTONIC) - w0;
        cpu[r] = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    printf("knn k=%d T=%g: top1 %.4f top5 %.4f, median %.3f s (cpu %.3f s)\n",
           SELFSUP_KNN_DEFAULT_K, (double)SELFSUP_KNN_DEFAULT_TEMPERATURE, top1,
           top5, median(wall, repeats), median(cpu, repeats));

    double train_top1 = 0, test_top1 = 0;
    int iterations = 0;
    for (int r = 0; r < repeats; r++) {
        double w0 = seconds(CLOCK_MONOTONIC);
        double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        check(selfsup_linear_probe(train, y_train, test, y_test, CLASSES, NULL,
                                   &train_top1, &test_top1, &iterations),
              "probe");
        wall[r] = seconds(CLOCK_MONOTONIC) - w0;
        cpu[r] = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    printf("linear probe (defaults): train %.4f test %.4f, %d iterations, "
           "median %.3f s (cpu %.3f s)\n",
           train_top1, test_top1, iterations, median(wall, repeats),
           median(cpu, repeats));
    selfsup_tensor_destroy(test);
    selfsup_tensor_destroy(train);
    selfsup_tensor_destroy(c);
    return 0;
}
