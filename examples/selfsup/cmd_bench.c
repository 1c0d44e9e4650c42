/* selfsup bench: training-step throughput on synthetic images. */
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
 * comm_seconds gets this rank's mean seconds a step in collectives. */
static int time_steps(selfsup_learner *l, int64_t size, int64_t steps,
                      int64_t warmup, const cli_ranks *ranks,
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

/* cli_measure_step over ranks (NULL: this process). */
static int measure_step(const char *method, const char *encoder, int64_t batch,
                        int64_t size, int64_t steps, int64_t warmup,
                        const cli_ranks *ranks, double *median_seconds,
                        double *comm_seconds, int verbose)
{
    selfsup_learner_config *c = NULL;
    selfsup_learner *l = NULL;
    char number[32];
    selfsup_status s = selfsup_learner_config_create(&c, method);
    if (s == SELFSUP_OK && encoder)
        s = selfsup_learner_config_set(c, "encoder", encoder);
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
    int rc = s == SELFSUP_OK ? time_steps(l, size, steps, warmup, ranks,
                                          median_seconds, comm_seconds, verbose)
                             : cli_fail("making the learner", s);
    selfsup_learner_destroy(l);
    selfsup_learner_config_destroy(c);
    return rc;
}

int cli_measure_step(const char *method, const char *encoder, int64_t batch,
                     int64_t size, int64_t steps, int64_t warmup,
                     double *median_seconds, int verbose)
{
    return measure_step(method, encoder, batch, size, steps, warmup, NULL,
                        median_seconds, NULL, verbose);
}

int cmd_bench(int argc, char **argv)
{
    char default_encoder[128]; /* the program's, on one-channel images */
    snprintf(default_encoder, sizeof default_encoder,
             CLI_DEFAULT_ENCODER_FORMAT, 1);
    const char *method = NULL, *encoder = NULL, *distributed = NULL;
    int64_t batch = 0, size = 0, steps = 0, warmup = 0, threads = 0;
    cli_option opts[] = {
        CLI_TEXT("method", &method, CLI_DEFAULT_METHOD,
                 "byol, simsiam, vicreg, simclr, barlow or groco"),
        CLI_TEXT("encoder", &encoder, default_encoder, "encoder spec"),
        CLI_INT("batch", &batch, CLI_STR(CLI_DEFAULT_BATCH), 2, 1 << 20,
                "batch size"),
        CLI_INT("size", &size, "28", 8, 4096, "image side in pixels"),
        CLI_INT("steps", &steps, "10", 1, 100000, "measured steps"),
        CLI_INT("warmup", &warmup, "3", 0, 100000,
                "steps run before measuring"),
        CLI_OPTION_THREADS(&threads),
        CLI_TEXT("distributed", &distributed, "auto",
                 "over several processes: auto (MPI when started by mpirun "
                 "with more than one process), mpi, or none; each rank steps "
                 "batch / R images"),
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "bench",
                       "Times training steps (two views, forward, backward, "
                       "update) on synthetic images and prints the median "
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
    double median, comm_s = 0;
    rc = measure_step(method, encoder, batch, size, steps, warmup, &ranks,
                      &median, &comm_s, 1);
    if (rc == CLI_OK && ranks.size > 1)
        printf("in collectives: %.4f s a step (%.1f%%, rank 0)\n", comm_s,
               100 * comm_s / median);
    if (rc == CLI_OK)
        printf("median step: %.4f s\nimages_per_s: %.1f\n", median,
               (double)batch / median);
    cli_ranks_stop(&ranks);
    return rc;
}
