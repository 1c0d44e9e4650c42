/* selfsup plot: several runs' curves from their metrics.jsonl, overlaid in
 * one SVG, e.g. kNN accuracy against wall-clock minutes for every method. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

/* What --y names: the record type and key in metrics.jsonl, the axis label
 * and the scale of its ticks. */
static const struct {
    const char *name, *type, *key, *label;
    double scale;
} Y_AXES[] = {
    {"knn", "eval", "knn_top1", "kNN top-1 (%)", 100},
    {"knn_white", "eval", "knn_white_top1", "kNN top-1, whitened (%)", 100},
    {"loss", "step", "loss", "training loss", 1},
    {"collapse", "step", "collapse_std", "std of normalised embeddings", 1},
    {"rankme", "eval", "rankme", "effective rank (RankMe)", 1},
    {"margin", "step", "margin", "GroCo margin (min positive - max negative)",
     1},
};

/* What --x names: the key and its scale. */
static const struct {
    const char *name, *key, *label;
    double scale;
} X_AXES[] = {
    {"minutes", "seconds", "wall-clock minutes", 1.0 / 60},
    {"steps", "step", "step", 1},
    {"epochs", "epoch", "epoch", 1},
};

enum { MAX_RUNS = 64 };

/* Splits argv into the options cli_parse reads and the run directories:
 * an argument that is neither an option nor an option's value is a run. */
static int split_args(int argc, char **argv, const cli_option *opts,
                      char **options, int *n_options, const char **runs,
                      int *n_runs)
{
    *n_options = *n_runs = 0;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 && strcmp(argv[i], "-h") != 0) {
            if (*n_runs == MAX_RUNS) {
                fprintf(stderr, "selfsup plot: at most %d runs\n", MAX_RUNS);
                return CLI_USAGE;
            }
            runs[(*n_runs)++] = argv[i];
            continue;
        }
        options[(*n_options)++] = argv[i];
        const char *name = argv[i] + 2;
        if (strchr(name, '='))
            continue;
        for (const cli_option *o = opts; o->name; o++)
            if (strcmp(o->name, name) == 0 && o->kind != CLI_KIND_FLAG &&
                i + 1 < argc)
                options[(*n_options)++] = argv[++i];
    }
    return CLI_OK;
}

/* The label of run i: the i-th of the comma-separated labels, or the run
 * directory's last component. Writes into buf. */
static const char *label_of(const char *labels, int i, const char *run,
                            char *buf, size_t cap)
{
    if (labels) {
        const char *at = labels;
        for (int k = 0; k < i && at; k++) {
            at = strchr(at, ',');
            if (at)
                at++;
        }
        if (at) {
            size_t len = strcspn(at, ",");
            snprintf(buf, cap, "%.*s", (int)len, at);
            return buf;
        }
    }
    size_t len = strlen(run);
    while (len > 1 && run[len - 1] == '/')
        len--;
    const char *base = run;
    for (size_t k = 0; k < len; k++)
        if (run[k] == '/' && k + 1 < len)
            base = run + k + 1;
    snprintf(buf, cap, "%.*s", (int)(len - (size_t)(base - run)), base);
    return buf;
}

int cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *x_name = NULL, *y_name = NULL, *labels_text = NULL;
    const char *title = NULL;
    bool pairs = false;
    cli_option opts[] = {
        CLI_TEXT("out", &out, NULL, "the SVG file to write"),
        CLI_TEXT("x", &x_name, "minutes", "minutes, steps or epochs"),
        CLI_TEXT("y", &y_name, "knn",
                 "knn, knn_white, loss, collapse, rankme or margin (GroCo)"),
        CLI_TEXT("labels", &labels_text, NULL,
                 "comma-separated legend labels, one per run (default: the "
                 "run directories' names)"),
        CLI_TEXT("title", &title, "selfsup runs", "title above the plot"),
        CLI_FLAG("pairs", &pairs,
                 "the runs go two by two, each pair in one colour, its second "
                 "run dashed (a run beside its peer)"),
        CLI_OPTION_END};
    const char *summary =
        "Overlays the curves of training runs (RUN_DIR/metrics.jsonl, as "
        "selfsup train writes it) in one SVG: selfsup plot RUN_DIR... --out "
        "FILE.svg";
    char **options = malloc((size_t)(argc + 1) * sizeof *options);
    const char *runs[MAX_RUNS];
    int n_options, n_runs;
    if (!options) {
        fprintf(stderr, "selfsup plot: out of memory\n");
        return CLI_FAILED;
    }
    int rc = split_args(argc, argv, opts, options, &n_options, runs, &n_runs);
    if (rc == CLI_OK)
        rc = cli_parse(n_options, options, opts, "plot", summary);
    free(options);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (!out || n_runs == 0) {
        fprintf(stderr, "selfsup plot: %s\n",
                !out ? "--out FILE.svg is required"
                     : "name at least one run directory");
        return CLI_USAGE;
    }
    int xi = -1, yi = -1;
    for (int k = 0; k < (int)(sizeof X_AXES / sizeof *X_AXES); k++)
        if (strcmp(x_name, X_AXES[k].name) == 0)
            xi = k;
    for (int k = 0; k < (int)(sizeof Y_AXES / sizeof *Y_AXES); k++)
        if (strcmp(y_name, Y_AXES[k].name) == 0)
            yi = k;
    if (xi < 0 || yi < 0) {
        fprintf(stderr, "selfsup plot: --%s %s is not one of %s\n",
                xi < 0 ? "x" : "y", xi < 0 ? x_name : y_name,
                xi < 0 ? "minutes, steps, epochs"
                       : "knn, knn_white, loss, collapse, rankme, margin");
        return CLI_USAGE;
    }
    /* a step record's epoch is the epoch it is in, not a position */
    if (strcmp(X_AXES[xi].name, "epochs") == 0 &&
        strcmp(Y_AXES[yi].type, "step") == 0) {
        fprintf(stderr,
                "selfsup plot: --y %s is per step: plot it against "
                "--x steps or minutes\n",
                Y_AXES[yi].name);
        return CLI_USAGE;
    }

    cli_series series[MAX_RUNS] = {{0}};
    char label_buf[MAX_RUNS][128];
    const char *labels[MAX_RUNS];
    for (int i = 0; i < n_runs && rc == CLI_OK; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/metrics.jsonl", runs[i]);
        rc = cli_metrics_read(path, Y_AXES[yi].type, X_AXES[xi].key,
                              X_AXES[xi].scale, Y_AXES[yi].key, &series[i]);
        labels[i] = label_of(labels_text, i, runs[i], label_buf[i],
                             sizeof label_buf[i]);
    }
    if (rc == CLI_OK && !cli_write_overlay_svg(
                            out, series, labels, n_runs, X_AXES[xi].label,
                            Y_AXES[yi].label, Y_AXES[yi].scale, title, pairs)) {
        fprintf(stderr, "selfsup plot: cannot write %s\n", out);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK)
        printf("%s: %d runs, %s against %s\n", out, n_runs, Y_AXES[yi].name,
               X_AXES[xi].name);
    for (int i = 0; i < n_runs; i++)
        cli_series_free(&series[i]);
    return rc;
}
