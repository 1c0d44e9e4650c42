/* Evaluation shared by `selfsup train`, `eval` and `demo`: kNN and linear
 * probe of an encoder's features on a labelled train/test split, beside
 * the random-init encoder and raw pixels. */
#ifndef SELFSUP_CLI_EVAL_H
#define SELFSUP_CLI_EVAL_H

#include <stdbool.h>

#include "cli.h"

typedef struct cli_eval_data {
    selfsup_dataset *train, *test;
    int32_t *train_labels, *test_labels;
    float mean[4], std[4]; /* the train split's per-channel statistics */
    int n_classes;
} cli_eval_data;

/* The Fashion-MNIST layout in dir (NULL: Debian's), train split cut to its
 * first limit images when limit > 0. */
int cli_eval_data_open(cli_eval_data *d, const char *dir, int64_t limit);
void cli_eval_data_close(cli_eval_data *d);

/* The first limit images of d as a dataset of their own (copied). */
int cli_dataset_head(const selfsup_dataset *d, int64_t limit,
                     selfsup_dataset **out);

typedef struct cli_eval_options {
    int k;
    float temperature;
    bool probe; /* also run the linear probe */
    bool baselines;
} cli_eval_options;

typedef struct cli_eval_row {
    const char *name;
    double knn_top1, linear_top1; /* NAN when not run */
    int probe_iterations;
} cli_eval_row;

/* kNN top-1 of e's features on the test split (a monitor during training). */
int cli_eval_knn(selfsup_encoder *e, const cli_eval_data *d,
                 const cli_eval_options *o, double *top1);

/* rows[0] the encoder, rows[1] random init, rows[2] standardised raw
 * pixels, rows[3] raw pixels in [0, 1], kNN only (the last three only with
 * o->baselines; *n_rows says how many). */
int cli_eval_table(selfsup_encoder *e, const cli_eval_data *d,
                   const cli_eval_options *o, cli_eval_row rows[4],
                   int *n_rows);
void cli_eval_print_table(const cli_eval_row *rows, int n,
                          const cli_eval_options *o);
void cli_eval_print_json(const cli_eval_row *rows, int n,
                         const cli_eval_options *o, const char *checkpoint);

#endif
