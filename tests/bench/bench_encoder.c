/* Training throughput of an encoder: forward + backward (weight gradients,
 * no input gradient) of one batch, images per second, median over steps
 * after warm-up. Not a test: run by hand, see docs/benchmarks.md.
 *
 *   bench_encoder [spec] [batch] [steps] [threads] [H]
 *   bench_encoder resnet18:width=16,in_channels=1 256 20 2 28 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "selfsup/selfsup.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the whole process: with one thread, a measure of the
 * work that other processes on a shared machine do not inflate. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int check(selfsup_status s, const char *what)
{
    if (s != SELFSUP_OK)
        fprintf(stderr, "%s: %s\n", what, selfsup_last_error());
    return s != SELFSUP_OK;
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "resnet18:width=16,in_channels=1";
    int batch = argc > 2 ? atoi(argv[2]) : 256;
    int steps = argc > 3 ? atoi(argv[3]) : 20;
    int threads = argc > 4 ? atoi(argv[4]) : 2;
    int h = argc > 5 ? atoi(argv[5]) : 28;
    int warmup = 3;
    selfsup_encoder *e = NULL;
    if (check(selfsup_set_num_threads(threads), "threads") ||
        check(selfsup_encoder_create(&e, spec, 1), "create"))
        return 1;
    int64_t c = selfsup_encoder_input_channels(e);
    int64_t xd[4] = {batch, c, h, h}, yd[2] = {batch, 0};
    yd[1] = selfsup_encoder_output_dim(e);
    int rank = spec[0] == 'm' ? 2 : 4;
    selfsup_tensor *x = NULL, *y = NULL, *gy = NULL;
    if (check(selfsup_tensor_create(&x, rank, xd), "input") ||
        check(selfsup_tensor_create(&y, 2, yd), "output") ||
        check(selfsup_tensor_create(&gy, 2, yd), "grad") ||
        check(selfsup_tensor_fill_uniform(x, 1, -1, 1), "fill") ||
        check(selfsup_tensor_fill_uniform(gy, 2, -1, 1), "fill"))
        return 1;
    double *t = malloc((size_t)steps * sizeof *t);
    double *cpu = malloc((size_t)steps * sizeof *cpu);
    for (int s = -warmup; s < steps; s++) {
        double t0 = now(), c0 = cpu_now();
        if (check(selfsup_encoder_zero_grad(e), "zero_grad") ||
            check(selfsup_encoder_forward(e, x, y), "forward") ||
            check(selfsup_encoder_backward(e, gy, NULL), "backward"))
            return 1;
        if (s >= 0) {
            t[s] = now() - t0;
            cpu[s] = cpu_now() - c0;
        }
    }
    qsort(t, (size_t)steps, sizeof *t, cmp);
    qsort(cpu, (size_t)steps, sizeof *cpu, cmp);
    double med = t[steps / 2];
    printf("libselfsup %s batch %d %dx%d threads %d: median %.1f ms/step, "
           "%.1f img/s (min %.1f ms, max %.1f ms); median CPU %.1f ms/step\n",
           selfsup_encoder_spec(e), batch, h, h, threads, 1e3 * med,
           batch / med, 1e3 * t[0], 1e3 * t[steps - 1], 1e3 * cpu[steps / 2]);
    free(t);
    free(cpu);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(gy);
    selfsup_encoder_destroy(e);
    return 0;
}
