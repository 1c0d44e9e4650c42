/* The selfsup program: shared pieces of its subcommands. */
#ifndef SELFSUP_CLI_H
#define SELFSUP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <selfsup/selfsup.h>

/* Exit codes: 0 success, 1 a library call failed, 2 bad usage, 130 after
 * Ctrl-C (with the checkpoint saved). */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

/* One option of a subcommand, as a descriptor: its name, what it holds,
 * the field cli_parse stores it in, its default and help. A command's
 * defaults are stated once, in its table, and --help shows them. */
typedef enum cli_kind {
    CLI_KIND_TEXT, /* field: const char **; the text itself */
    CLI_KIND_INT,  /* field: int64_t *; checked against [lo, hi] */
    CLI_KIND_REAL, /* field: double *; checked against [lo, hi] */
    CLI_KIND_FLAG  /* field: bool *; no value */
} cli_kind;

typedef struct cli_option {
    const char *name; /* without the dashes; NULL ends a table */
    cli_kind kind;
    void *field;          /* NULL: read by name with cli_get */
    const char *fallback; /* the default, parsed as a given value would be;
                             NULL: none (the field keeps its value) */
    double lo, hi;
    const char *help;
    const char *value; /* what the command line gave; NULL if nothing */
} cli_option;

#define CLI_TEXT(name, field, fallback, help)                                  \
    {                                                                          \
        (name), CLI_KIND_TEXT, (field), (fallback), 0, 0, (help), NULL         \
    }
#define CLI_INT(name, field, fallback, lo, hi, help)                           \
    {                                                                          \
        (name), CLI_KIND_INT, (field), (fallback), (lo), (hi), (help), NULL    \
    }
#define CLI_REAL(name, field, fallback, lo, hi, help)                          \
    {                                                                          \
        (name), CLI_KIND_REAL, (field), (fallback), (lo), (hi), (help), NULL   \
    }
#define CLI_FLAG(name, field, help)                                            \
    {                                                                          \
        (name), CLI_KIND_FLAG, (field), NULL, 0, 0, (help), NULL               \
    }
#define CLI_OPTION_END                                                         \
    {                                                                          \
        NULL, CLI_KIND_TEXT, NULL, NULL, 0, 0, NULL, NULL                      \
    }

/* The options several commands share, stated once: the images (the
 * library's default directory unless given) and the thread count. */
#define CLI_OPTION_DATA(field)                                                 \
    CLI_TEXT("data", (field), SELFSUP_FASHION_MNIST_DIR,                       \
             "the images: a folder (Fashion-MNIST IDX files, CIFAR "           \
             "batches, an ImageFolder or a flat folder of PNG/JPEG), a "       \
             "list file, or a dataset spec (folder:path=DIR,size=64)")
#define CLI_OPTION_SKIP_BAD(field)                                             \
    CLI_FLAG("skip-bad", (field),                                              \
             "leave out images that cannot be read or decoded, with a "        \
             "warning for each, instead of stopping")
#define CLI_OPTION_THREADS(field)                                              \
    CLI_INT("threads", (field), "0", 0, 4096, "threads (0: all processors)")

/* Opens split ("train" or "test") of --data: a path is detected
 * (auto:path=...), anything else is taken as a dataset spec; prints
 * progress while a collection decodes and a warning per skipped file.
 * With cache_dir, a decoded collection is kept in (and read back from)
 * cache_dir/<split>-images.cache. */
int cli_open_data(const char *data, const char *split, bool skip_bad,
                  const char *cache_dir, selfsup_dataset **out);

/* Whether --data has a test split for the kNN monitor and eval: IDX and
 * CIFAR folders, folders with train/ and test/ (or val/); a spec is
 * assumed to. */
bool cli_data_has_test_split(const char *data);

/* The view preset --augment auto picks for d: fmnist for one channel,
 * rgb32 / rgb64 / rgb96 by side for three. */
const char *cli_auto_augment(const selfsup_dataset *d);

/* Rewrites a canonical network spec (selfsup_encoder_spec) in place to
 * precision=f32: what the program evaluates and exports, on any CPU. */
void cli_spec_in_f32(char *spec);

/* Applies a --threads value (0 leaves the library's default); false after
 * printing the error. */
bool cli_apply_threads(int64_t threads);

/* Parses argv against opts and stores every option's value, or its
 * default, in its field. Prints usage to stderr and returns CLI_USAGE on an
 * unknown option, a missing value or a value outside its range; returns -1
 * when --help was asked (and printed to stdout), else CLI_OK. */
int cli_parse(int argc, char **argv, cli_option *opts, const char *command,
              const char *summary);

/* The value of an option, or its fallback. */
const char *cli_get(const cli_option *opts, const char *name);
/* Whether the option was on the command line. */
bool cli_given(const cli_option *opts, const char *name);
/* The value given on the command line, NULL when the option was not given
 * (its fallback is then the callee's business). */
const char *cli_given_value(const cli_option *opts, const char *name);
/* Reports a failed library call: "selfsup: what: <status>: <message>". */
int cli_fail(const char *what, selfsup_status s);

/* Progress of an epoch: a redrawn bar on a terminal, plain lines (every
 * `every` steps) otherwise. */
typedef struct cli_progress {
    bool tty;
    int64_t total, every;
    double start;
    int64_t epoch, epochs;
} cli_progress;
void cli_progress_begin(cli_progress *p, int64_t epoch, int64_t epochs,
                        int64_t total_steps);
void cli_progress_update(cli_progress *p, int64_t step, double loss,
                         double images_per_s);
void cli_progress_end(cli_progress *p, double loss);

/* Seconds on a monotonic clock. */
double cli_now(void);

/* Creates dir (and its parents) if missing. */
bool cli_make_dir(const char *dir);

/* Series for the curves plot. */
typedef struct cli_series {
    int64_t count, capacity;
    double *x, *y;
} cli_series;
bool cli_series_add(cli_series *s, double x, double y);
void cli_series_free(cli_series *s);

/* A line of JSON appended to OUT/metrics.jsonl per step or evaluation. */
typedef struct cli_metrics {
    FILE *file;
} cli_metrics;
bool cli_metrics_open(cli_metrics *m, const char *path, bool append);
/* Continues path for a run resumed at step: keeps the lines up to that step
 * (dropping any a stopped run wrote after its last checkpoint) and puts their
 * losses, kNN figures and step-0 kNN back into loss, knn and random_knn, so
 * the curves cover the whole run. A missing file starts a new one. */
bool cli_metrics_resume(cli_metrics *m, const char *path, int64_t step,
                        cli_series *loss, cli_series *knn, double *random_knn);
/* fmt is the body of a JSON object without braces. */
void cli_metrics_write(cli_metrics *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_metrics_close(cli_metrics *m);
/* Appends (x_scale * x_key, y_key) of every record of type ("step",
 * "eval") in the metrics file at path to out. Returns CLI_FAILED, with a
 * message naming the file, when it cannot be read, holds no such record,
 * or a record has y_key but no x_key. */
int cli_metrics_read(const char *path, const char *type, const char *x_key,
                     double x_scale, const char *y_key, cli_series *out);

/* Writes an SVG with two panels: loss over steps, kNN top-1 over steps
 * (with the raw-pixel and random-init baselines as dashed lines when >= 0).
 * Written to a temporary file and renamed, so a reader never sees half a
 * plot. */
bool cli_write_curves_svg(const char *path, const cli_series *loss,
                          const cli_series *knn, double raw_baseline,
                          double random_baseline, const char *title);

/* Writes an SVG with one panel overlaying n series (10 colours, then the
 * same colours dashed), a legend of their labels, x_label and y_label on
 * the axes and the y values multiplied by y_scale on the ticks. With pairs,
 * series 2k and 2k+1 share a colour and the second is dashed (a run beside
 * its peer). Written as cli_write_curves_svg writes. */
bool cli_write_overlay_svg(const char *path, const cli_series *series,
                           const char *const *labels, int n,
                           const char *x_label, const char *y_label,
                           double y_scale, const char *title, bool pairs);

#endif
