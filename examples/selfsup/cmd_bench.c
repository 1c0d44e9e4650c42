/* selfsup bench: training-step throughput on synthetic images. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ranks.h"
#include "commands.h"

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds of a training step of l on synthetic size x size images,
 * after warmup untimed steps; over ranks each steps batch / R images, and
 * comm_seconds gets this rank's mean seconds a step in collectives. Then
 * profiled more steps run under selfsup_profile_start (left stopped with
 * their table), apart from the timed ones so that the profile's waits do
 * not touch the median. */
static int time_steps(selfsup_learner *l, int64_t size, int64_t steps,
                      int64_t warmup, int64_t profiled, const cli_ranks *ranks,
                      double *median_seconds, double *comm_seconds, int verbose)
{
    int64_t batch = 0, n_views = 0;
    char number[32];
    if (selfsup_learner_config_value(l, "batch_size", number, sizeof number) ==
        SELFSUP_OK)
        batch = strtoll(number, NULL, 10);
    if (selfsup_learner_config_value(l, "views", number, sizeof number) ==
        SELFSUP_OK)
        n_views = strtoll(number, NULL, 10);
    if (n_views < 2 || n_views > SELFSUP_ENCODER_MAX_VIEWS) {
        fprintf(stderr, "selfsup: cannot time %lld views a step\n",
                (long long)n_views);
        return CLI_FAILED;
    }
    selfsup_tensor *views[SELFSUP_ENCODER_MAX_VIEWS] = {NULL};
    double *times = calloc((size_t)steps, sizeof *times);
    if (!times)
        return cli_fail("timing training steps", SELFSUP_ERR_OUT_OF_MEMORY);
    const selfsup_encoder *e = selfsup_learner_encoder(l);
    int n_ranks = ranks ? ranks->size : 1;
    const int64_t dims[4] = {batch / n_ranks, selfsup_encoder_input_channels(e),
                             size, size};
    selfsup_status s = SELFSUP_OK;
    for (int v = 0; v < n_views && s == SELFSUP_OK; v++) {
        s = selfsup_tensor_create(&views[v], 4, dims);
        if (s == SELFSUP_OK)
            s = selfsup_tensor_fill_normal(views[v], (uint64_t)v + 1, 0, 1);
    }
    double comm_from = 0;
    for (int64_t i = 0; s == SELFSUP_OK && i < warmup + steps; i++) {
        float loss;
        if (i == warmup)
            comm_from = cli_ranks_comm_seconds(ranks);
        double t0 = cli_now();
        s = selfsup_learner_step(l, (int)n_views,
                                 (const selfsup_tensor *const *)views, &loss);
        double dt = cli_now() - t0;
        if (i >= warmup)
            times[i - warmup] = dt;
        if (verbose && s == SELFSUP_OK)
            printf("step %lld%s: %.3f s, %.1f images/s, loss %.4f\n",
                   (long long)i + 1, i < warmup ? " (warm-up)" : "", dt,
                   (double)batch / dt, (double)loss);
    }
    if (s == SELFSUP_OK && profiled > 0) {
        selfsup_profile_start();
        for (int64_t i = 0; s == SELFSUP_OK && i < profiled; i++) {
            float loss;
            s = selfsup_learner_step(
                l, (int)n_views, (const selfsup_tensor *const *)views, &loss);
        }
        selfsup_profile_stop();
    }
    int rc = CLI_OK;
    if (s != SELFSUP_OK) {
        rc = cli_fail("training step", s);
    } else {
        qsort(times, (size_t)steps, sizeof *times, compare_doubles);
        *median_seconds = steps % 2
                              ? times[steps / 2]
                              : (times[steps / 2 - 1] + times[steps / 2]) / 2;
        if (comm_seconds)
            *comm_seconds =
                (cli_ranks_comm_seconds(ranks) - comm_from) / (double)steps;
    }
    free(times);
    for (int v = 0; v < n_views; v++)
        selfsup_tensor_destroy(views[v]);
    return rc;
}

/* Median seconds of a training step of method on synthetic images, over
 * ranks (NULL: this process); bf16 (may be NULL) tells whether the encoder
 * ran in bf16. */
static int measure_step(const char *method, const char *encoder,
                        const char *precision, int64_t batch, int64_t size,
                        int64_t steps, int64_t warmup, int64_t profiled,
                        const cli_ranks *ranks, double *median_seconds,
                        double *comm_seconds, int verbose, bool *bf16)
{
    selfsup_learner_config *c = NULL;
    selfsup_learner *l = NULL;
    char number[32];
    selfsup_status s = selfsup_learner_config_create(&c, method);
    if (s == SELFSUP_OK && encoder)
        s = selfsup_learner_config_set(c, "encoder", encoder);
    precision = cli_precision_for(precision, ranks ? ranks->size : 1);
    if (s == SELFSUP_OK && precision)
        s = selfsup_learner_config_set(c, "precision", precision);
    snprintf(number, sizeof number, "%lld", (long long)batch);
    if (s == SELFSUP_OK)
        s = selfsup_learner_config_set(c, "batch_size", number);
    snprintf(number, sizeof number, "%lld", (long long)(steps + warmup));
    if (s == SELFSUP_OK)
        s = selfsup_learner_config_set(c, "total_steps", number);
    if (s == SELFSUP_OK)
        s = selfsup_learner_create(&l, c);
    if (s == SELFSUP_OK && ranks && ranks->comm)
        s = selfsup_learner_set_comm(l, ranks->comm);
    if (s == SELFSUP_OK && bf16)
        *bf16 = strstr(selfsup_encoder_spec(selfsup_learner_encoder(l)),
                       "precision=bf16") != NULL;
    int rc = s == SELFSUP_OK
                 ? time_steps(l, size, steps, warmup, profiled, ranks,
                              median_seconds, comm_seconds, verbose)
                 : cli_fail("making the learner", s);
    selfsup_learner_destroy(l);
    selfsup_learner_config_destroy(c);
    return rc;
}

typedef struct profile_row {
    int kind;
    const char *name;
    int64_t calls;
    double seconds, flops;
} profile_row;

static int slower_first(const void *a, const void *b)
{
    const profile_row *x = a, *y = b;
    return (x->seconds < y->seconds) - (x->seconds > y->seconds);
}

/* The profile's rows (NULL on failure, reported), and the number of
 * profiled steps and their floating-point operations. */
static profile_row *read_profile(int64_t *n, int64_t *step_calls, double *flops)
{
    *n = selfsup_profile_count();
    *step_calls = 0;
    *flops = 0;
    profile_row *rows = calloc((size_t)(*n > 0 ? *n : 1), sizeof *rows);
    if (!rows) {
        cli_fail("reading the profile", SELFSUP_ERR_OUT_OF_MEMORY);
        return NULL;
    }
    for (int64_t i = 0; i < *n; i++) {
        profile_row *r = &rows[i];
        selfsup_status s = selfsup_profile_entry(
            i, &r->kind, &r->name, &r->calls, &r->seconds, &r->flops);
        if (s != SELFSUP_OK) {
            free(rows);
            cli_fail("reading the profile", s);
            return NULL;
        }
        if (r->kind == SELFSUP_PROFILE_PHASE && strcmp(r->name, "step") == 0)
            *step_calls = r->calls;
        if (r->kind == SELFSUP_PROFILE_OPERATION)
            *flops += r->flops;
    }
    return rows;
}

/* The phases, then the operations slowest first, per step. */
static void print_profile(profile_row *rows, int64_t n, int64_t steps)
{
    qsort(rows, (size_t)n, sizeof *rows, slower_first);
    double step_s = 0, ops_s = 0;
    for (int64_t i = 0; i < n; i++) {
        if (rows[i].kind == SELFSUP_PROFILE_PHASE &&
            strcmp(rows[i].name, "step") == 0)
            step_s = rows[i].seconds;
        if (rows[i].kind == SELFSUP_PROFILE_OPERATION)
            ops_s += rows[i].seconds;
    }
    printf("\nprofile of %lld steps (per step; %% of the step)\n",
           (long long)steps);
    for (int kind = SELFSUP_PROFILE_PHASE; kind >= 0; kind--) {
        printf("%s\n", kind == SELFSUP_PROFILE_PHASE
                           ? "  ms      %    phase"
                           : "  ms      %    calls  GFLOP/s  operation");
        for (int64_t i = 0; i < n; i++) {
            const profile_row *r = &rows[i];
            if (r->kind != kind)
                continue;
            double ms = 1e3 * r->seconds / (double)steps;
            double share = step_s > 0 ? 100 * r->seconds / step_s : 0;
            if (kind == SELFSUP_PROFILE_PHASE)
                printf("%8.2f %5.1f  %s\n", ms, share, r->name);
            else if (r->flops > 0)
                printf("%8.2f %5.1f %6.1f %8.1f  %s\n", ms, share,
                       (double)r->calls / (double)steps,
                       r->flops / r->seconds * 1e-9, r->name);
            else
                printf("%8.2f %5.1f %6.1f %8s  %s\n", ms, share,
                       (double)r->calls / (double)steps, "-", r->name);
        }
    }
    if (step_s > 0)
        printf("%8.2f %5.1f  outside the library's kernels (loops of its own:"
               " objectives' element-wise work, optimizer, checks)\n",
               1e3 * (step_s - ops_s) / (double)steps,
               100 * (step_s - ops_s) / step_s);
}

/* GFLOP/s of the median step against the roof of its precision, and with
 * table the profile itself. */
static int report_flops(int64_t batch, double median, int ranks, bool bf16,
                        int table)
{
    int64_t n, steps;
    double flops;
    profile_row *rows = read_profile(&n, &steps, &flops);
    if (!rows)
        return CLI_FAILED;
    int rc = CLI_OK;
    if (steps > 0) {
        double per_step = flops / (double)steps;
        double roof = 0;
        printf("gflop_per_image: %.3f\ngflops: %.1f%s\n",
               per_step / (double)batch * 1e-9, per_step / median * 1e-9,
               ranks > 1 ? " (rank 0's)" : "");
        /* Over ranks the others would share the cores with the roof. */
        const char *precision = bf16 ? "bf16" : "f32";
        selfsup_status s =
            ranks > 1 ? SELFSUP_OK
                      : selfsup_profile_roof_precision(precision, 0.5, &roof);
        if (ranks > 1)
            printf("roof: not measured over ranks\n");
        else if (s == SELFSUP_OK)
            printf("roof: %.1f GFLOP/s (%s, a 3x3 64-to-64 %s convolution "
                   "alone)\nof_roof: %.1f%%\n",
                   roof, selfsup_profile_isa(), precision,
                   100 * per_step / median * 1e-9 / roof);
        else
            rc = cli_fail("measuring the roof", s);
        if (table)
            print_profile(rows, n, steps);
    }
    free(rows);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    char default_encoder[128]; /* the program's, on one-channel images */
    snprintf(default_encoder, sizeof default_encoder,
             CLI_DEFAULT_ENCODER_FORMAT, 1);
    const char *method = NULL, *encoder = NULL, *distributed = NULL,
               *precision = NULL;
    int64_t batch = 0, size = 0, steps = 0, warmup = 0, threads = 0;
    bool profile = false;
    cli_option opts[] = {
        CLI_TEXT("method", &method, CLI_DEFAULT_METHOD,
                 "byol, simsiam, vicreg, simclr, barlow or groco"),
        CLI_TEXT("encoder", &encoder, default_encoder, "encoder spec"),
        CLI_OPTION_PRECISION(&precision),
        CLI_INT("batch", &batch, CLI_STR(CLI_DEFAULT_BATCH), 2, 1 << 20,
                "batch size"),
        CLI_INT("size", &size, "28", 8, 4096, "image side in pixels"),
        CLI_INT("steps", &steps, "10", 1, 100000, "measured steps"),
        CLI_INT("warmup", &warmup, "3", 0, 100000,
                "steps run before measuring"),
        CLI_OPTION_THREADS(&threads),
        CLI_FLAG("profile", &profile,
                 "after the timed steps, profile as many more and print "
                 "where a step's time goes, per phase and per operation "
                 "(kind, shapes, oneDNN implementation, GFLOP/s)"),
        CLI_TEXT("distributed", &distributed, "auto",
                 "over several processes: auto (MPI when started by mpirun "
                 "with more than one process), mpi, or none; each rank steps "
                 "batch / R images"),
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "bench",
                       "Times training steps (two views, forward, backward, "
                       "update) on synthetic images; prints the median "
                       "step, its GFLOP/s (counted from the layers' and "
                       "objectives' shapes on one more, profiled step) and "
                       "their share of this machine's roof, then the "
                       "throughput last as 'images_per_s: X'.");
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (!cli_apply_threads(threads))
        return CLI_FAILED;
    cli_ranks ranks;
    if ((rc = cli_ranks_start(&ranks, distributed)) != CLI_OK)
        return rc;
    printf("bench %s, encoder %s, batch %lld, %lldx%lld, %d threads, "
           "libselfsup %s\n",
           method, encoder, (long long)batch, (long long)size, (long long)size,
           selfsup_get_num_threads(), selfsup_version_string());
    if (ranks.size > 1)
        printf("over %d ranks: %lld images a rank\n", ranks.size,
               (long long)(batch / ranks.size));
    double median = 0, comm_s = 0;
    bool bf16 = false;
    rc = measure_step(method, encoder, precision, batch, size, steps, warmup,
                      profile ? steps : 1, &ranks, &median, &comm_s, 1, &bf16);
    if (rc == CLI_OK && ranks.size > 1)
        printf("in collectives: %.4f s a step (%.1f%%, rank 0)\n", comm_s,
               100 * comm_s / median);
    if (rc == CLI_OK)
        printf("precision: %s\nmedian step: %.4f s\n", bf16 ? "bf16" : "f32",
               median);
    if (rc == CLI_OK)
        rc =
            report_flops(batch / ranks.size, median, ranks.size, bf16, profile);
    if (rc == CLI_OK)
        printf("images_per_s: %.1f\n", (double)batch / median);
    cli_ranks_stop(&ranks);
    return rc;
}
