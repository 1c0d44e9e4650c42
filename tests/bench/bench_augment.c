/* Augmentation throughput: views per second of a recipe on synthetic
 * images (28x28 grayscale and 32x32 RGB by default), per core and on all
 * the library's threads, through selfsup_views_apply and through the
 * loader. Not a test: it prints medians for docs/benchmarks.md.
 *
 *   bench_augment [recipe] [repeats]      (default: byol 7) */
#include <selfsup/selfsup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { COUNT = 4096, BATCH = 256 };

static int cmp_double(const void *a, const void *b);

static double clock_seconds(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Wall time, and the CPU time of every thread of the process: on a shared
 * machine the second says what a core does, the first what one waits. */
static double now(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

static double cpu_now(void)
{
    return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

typedef struct rate {
    double wall, cpu; /* views per second of wall time, of CPU time */
} rate;

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check(selfsup_status s, const char *what)
{
    if (s != SELFSUP_OK) {
        fprintf(stderr, "%s: %s\n", what, selfsup_last_error());
        exit(1);
    }
}

/* Images with some structure (so that the crop, jitter and blur do real
 * work on varied values). */
static uint8_t *synthetic(int side, int c)
{
    uint8_t *p = malloc((size_t)COUNT * side * side * c);
    uint32_t x = 12345;
    for (size_t i = 0; i < (size_t)COUNT * side * side * c; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (uint8_t)((x >> 24) / 2 + (i % (side * c)) * 2);
    }
    return p;
}

/* Median views/s of repeats passes of COUNT images through views_apply. */
static rate views_per_second(const selfsup_views *v, const selfsup_dataset *d,
                             int c, int side, int repeats)
{
    int n_views = selfsup_views_count(v);
    selfsup_tensor *out[8];
    const int64_t dims[4] = {BATCH, c, side, side};
    for (int i = 0; i < n_views; i++)
        check(selfsup_tensor_create(&out[i], 4, dims), "tensor");
    int64_t idx[BATCH];
    double *wall = malloc(sizeof(double) * (size_t)repeats);
    double *cpu = malloc(sizeof(double) * (size_t)repeats);
    for (int r = 0; r < repeats; r++) {
        double t0 = now(), c0 = cpu_now();
        for (int b = 0; b < COUNT / BATCH; b++) {
            for (int i = 0; i < BATCH; i++)
                idx[i] = b * BATCH + i;
            check(selfsup_views_apply(v, d, idx, BATCH, 7, r, out), "apply");
        }
        wall[r] = (double)COUNT * n_views / (now() - t0);
        cpu[r] = (double)COUNT * n_views / (cpu_now() - c0);
    }
    rate result = {median(wall, repeats), median(cpu, repeats)};
    free(wall);
    free(cpu);
    for (int i = 0; i < n_views; i++)
        selfsup_tensor_destroy(out[i]);
    return result;
}

/* Views/s the loader delivers to a consumer that does nothing else. */
static double loader_views_per_second(const selfsup_views *v,
                                      const selfsup_dataset *d, int repeats)
{
    selfsup_loader *l = NULL;
    check(selfsup_loader_create(&l, d, v, BATCH, 7, "loader:prefetch=2"),
          "loader");
    double *rates = malloc(sizeof(double) * (size_t)repeats);
    selfsup_tensor *const *views;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        for (int b = 0; b < COUNT / BATCH; b++)
            check(selfsup_loader_next(l, &views, NULL, NULL), "next");
        rates[r] = (double)COUNT * selfsup_views_count(v) / (now() - t0);
    }
    double result = median(rates, repeats);
    free(rates);
    selfsup_loader_destroy(l);
    return result;
}

int main(int argc, char **argv)
{
    const char *recipe = argc > 1 ? argv[1] : "byol";
    int repeats = argc > 2 ? atoi(argv[2]) : 7;
    if (repeats < 1)
        repeats = 1;
    const struct {
        int side, c;
        const char *name;
    } shapes[2] = {{28, 1, "28x28 gray"}, {32, 3, "32x32 RGB"}};
    int all = selfsup_get_num_threads();
    printf("recipe %s, %d images per pass, batches of %d, median of %d\n",
           recipe, COUNT, BATCH, repeats);
    for (int s = 0; s < 2; s++) {
        uint8_t *pixels = synthetic(shapes[s].side, shapes[s].c);
        selfsup_dataset *d = NULL;
        selfsup_views *v = NULL;
        check(selfsup_dataset_from_memory(&d, pixels, COUNT, shapes[s].side,
                                          shapes[s].side, shapes[s].c, NULL, 0),
              "dataset");
        check(selfsup_views_create(&v, recipe, 2, shapes[s].side), "views");
        check(selfsup_set_num_threads(1), "threads");
        rate one = views_per_second(v, d, shapes[s].c, shapes[s].side, repeats);
        check(selfsup_set_num_threads(all), "threads");
        rate many =
            views_per_second(v, d, shapes[s].c, shapes[s].side, repeats);
        double loader = loader_views_per_second(v, d, repeats);
        printf("%-11s views per CPU-second %7.0f (1 thread) %7.0f (%d "
               "threads); views/s wall %7.0f (1 thread) %7.0f (%d threads) "
               "%7.0f (loader)\n",
               shapes[s].name, one.cpu, many.cpu, all, one.wall, many.wall, all,
               loader);
        selfsup_views_destroy(v);
        selfsup_dataset_destroy(d);
        free(pixels);
    }
    return 0;
}
