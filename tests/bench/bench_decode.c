/* Decode-once throughput: opens a collection (selfsup_dataset_open: scan,
 * decode, resize, in parallel) repeatedly and prints the median time and
 * images per second. The peer is decode_torchvision.py.
 *
 *     bench_decode SPEC THREADS REPEATS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <selfsup/selfsup.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_decode SPEC THREADS REPEATS\n");
        return 2;
    }
    int repeats = atoi(argv[3]);
    if (repeats < 1 || repeats > 100 ||
        selfsup_set_num_threads(atoi(argv[2])) != SELFSUP_OK) {
        fprintf(stderr, "bench_decode: bad THREADS or REPEATS\n");
        return 2;
    }
    double seconds[100];
    int64_t count = 0;
    for (int r = 0; r < repeats; r++) {
        selfsup_dataset *d;
        double t0 = now();
        if (selfsup_dataset_open(&d, argv[1], "train", NULL, NULL) !=
            SELFSUP_OK) {
            fprintf(stderr, "bench_decode: %s\n", selfsup_last_error());
            return 1;
        }
        seconds[r] = now() - t0;
        count = selfsup_dataset_count(d);
        selfsup_dataset_destroy(d);
    }
    qsort(seconds, (size_t)repeats, sizeof seconds[0], compare);
    double median = seconds[repeats / 2];
    printf("{\"images\": %lld, \"threads\": %d, \"median_s\": %.3f, "
           "\"images_per_s\": %.0f}\n",
           (long long)count, selfsup_get_num_threads(), median,
           (double)count / median);
    return 0;
}
