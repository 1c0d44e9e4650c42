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
    /* `selfsup eval` over ranks: each embeds its share, rank 0 scores;
     * NULL (the training monitor): this process does all */
    const struct cli_ranks *ranks;
} cli_eval_data;

/* The Fashion-MNIST layout in dir (NULL: Debian's), train split cut to its
 * first limit images when limit > 0. */
int cli_eval_data_open(cli_eval_data *d, const char *data, bool skip_bad,
                       const char *cache_dir, int64_t limit);
void cli_eval_data_close(cli_eval_data *d);

/* The features of every image of d: over ranks (r not NULL, more than
 * one) each embeds its share and rank 0 receives them all (*out NULL on
 * the other ranks); otherwise selfsup_embed_dataset of the whole. */
int cli_embed_shared(selfsup_encoder *e, const selfsup_dataset *d,
                     const float *mean, const float *std,
                     const struct cli_ranks *r, selfsup_tensor **out);

/* The first limit images of d as a dataset of their own (copied). */
int cli_dataset_head(const selfsup_dataset *d, int64_t limit,
                     selfsup_dataset **out);

typedef struct cli_eval_options {
    int k;
    float temperature;
    bool probe; /* also run the linear probe */
    bool baselines;
} cli_eval_options;

/* The PCA whitenings of the table, each the one that scored best for its
 * kind of features on the held-out split (docs/evaluation.md,
 * "Whitening"): an encoder's features (what `selfsup train` records in
 * its export, and the random-init row) keep up to 512 components, raw
 * pixels the library's default 256 (of 784). */
#define CLI_EMBED_WHITENING_COMPONENTS 512
#define CLI_EMBED_WHITENING            "pca:components=512"
#define CLI_PIXEL_WHITENING_COMPONENTS 256
#define CLI_PIXEL_WHITENING            "pca:components=256"

/* Every row is scored twice: on the features as they are (the field's
 * protocol) and PCA-whitened with the train split's statistics
 * (CLI_EMBED_WHITENING for encoders, CLI_PIXEL_WHITENING for pixels), so
 * that a baseline gets the same post-processing as the trained row. */
typedef struct cli_eval_row {
    const char *name;
    double knn_top1, linear_top1;             /* NAN when not run */
    double knn_white_top1, linear_white_top1; /* NAN when not run */
    double rankme; /* effective rank of the bare test features */
    int probe_iterations;
} cli_eval_row;

/* The whitening of e's bare features on the train split d->train. */
int cli_fit_whitening(selfsup_encoder *e, const selfsup_dataset *train,
                      const float *mean, const float *std,
                      selfsup_whitening **out);

/* kNN top-1 of e's bare features on the test split (a monitor during
 * training); with white_top1, also of the features whitened on the train
 * split, with rankme the effective rank of the bare test features
 * (selfsup_effective_rank), and with whitening, that whitening (the
 * caller's to destroy). */
int cli_eval_knn(selfsup_encoder *e, const cli_eval_data *d,
                 const cli_eval_options *o, double *top1, double *white_top1,
                 double *rankme, selfsup_whitening **whitening);

/* rows[0] the encoder (its bare features: a recorded whitening is set
 * aside and refitted here), rows[1] random init, rows[2] standardised raw
 * pixels, rows[3] raw pixels in [0, 1], kNN only and not whitened (its
 * whitening is rows[2]'s: whitening undoes a global affine rescaling) (the
 * last three only with o->baselines; *n_rows says how many). */
int cli_eval_table(selfsup_encoder *e, const cli_eval_data *d,
                   const cli_eval_options *o, cli_eval_row rows[4],
                   int *n_rows);
void cli_eval_print_table(const cli_eval_row *rows, int n,
                          const cli_eval_options *o);
void cli_eval_print_json(const cli_eval_row *rows, int n,
                         const cli_eval_options *o, const char *checkpoint);

#endif
