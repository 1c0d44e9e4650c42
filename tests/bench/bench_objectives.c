/* Times selfsup_objective_compute (loss and gradients) for every objective
 * at N = 256 and D = 256, 2048 (GroCo with 2 views, topk 10) and prints the
 * median of repeated runs. Not a test: timings belong in
 * docs/benchmarks.md, measured beside tests/reference/bench_objectives.py.
 *
 *     build/dev/tests/objective/bench_objectives [repeats] [threads] [name]
 *
 * (name: time only that objective).
 *
 * Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "selfsup/selfsup.h"

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

static int check(selfsup_status s, const char *what)
{
    if (s == SELFSUP_OK)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, selfsup_status_string(s),
            selfsup_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    int repeats = argc > 1 ? atoi(argv[1]) : 11;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (repeats < 1 || threads < 1) {
        fprintf(stderr, "usage: %s [repeats >= 1] [threads >= 1]\n", argv[0]);
        return 2;
    }
    if (check(selfsup_set_num_threads(threads), "threads"))
        return 1;
    static const char *const specs[] = {"byol",   "simsiam", "vicreg",
                                        "simclr", "barlow",  "groco"};
    static const int64_t dims[] = {256, 2048};
    const int64_t n = 256;
    printf("# selfsup %s, %d threads, N = %lld, median of %d runs (ms)\n",
           selfsup_version_string(), threads, (long long)n, repeats);
    printf("%-8s %6s %10s\n", "name", "D", "ms");
    double *times = malloc(sizeof(double) * (size_t)repeats);
    for (int di = 0; di < 2; di++) {
        int64_t shape[2] = {n, dims[di]};
        selfsup_tensor *on[2], *tg[2], *gr[2];
        for (int v = 0; v < 2; v++) {
            if (check(selfsup_tensor_create(&on[v], 2, shape), "tensor") ||
                check(selfsup_tensor_create(&tg[v], 2, shape), "tensor") ||
                check(selfsup_tensor_create(&gr[v], 2, shape), "tensor"))
                return 1;
            selfsup_tensor_fill_normal(on[v], 10 + (uint64_t)v, 0.0f, 1.0f);
            selfsup_tensor_fill_normal(tg[v], 20 + (uint64_t)v, 0.0f, 1.0f);
        }
        for (int s = 0; s < 6; s++) {
            if (only && strcmp(only, specs[s]) != 0)
                continue;
            selfsup_objective *o;
            if (check(selfsup_objective_create(&o, specs[s]), specs[s]))
                return 1;
            const selfsup_tensor *const *target =
                selfsup_objective_target_rule(o) == SELFSUP_TARGET_REQUIRED
                    ? (const selfsup_tensor *const *)tg
                    : NULL;
            float loss;
            for (int r = -2; r < repeats; r++) { /* two warm-up runs */
                double t0 = now();
                if (check(selfsup_objective_compute(
                              o, 2, (const selfsup_tensor *const *)on, target,
                              &loss, gr),
                          specs[s]))
                    return 1;
                if (r >= 0)
                    times[r] = now() - t0;
            }
            qsort(times, (size_t)repeats, sizeof *times, compare);
            printf("%-8s %6lld %10.3f\n", specs[s], (long long)dims[di],
                   1e3 * times[repeats / 2]);
            fflush(stdout);
            selfsup_objective_destroy(o);
        }
        for (int v = 0; v < 2; v++) {
            selfsup_tensor_destroy(on[v]);
            selfsup_tensor_destroy(tg[v]);
            selfsup_tensor_destroy(gr[v]);
        }
    }
    free(times);
    return 0;
}
