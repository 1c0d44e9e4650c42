#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_eval.h"
#include "cli_ranks.h"

static int read_labels(const selfsup_dataset *d, int32_t **out)
{
    int64_t n = selfsup_dataset_count(d);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    if (!labels) {
        fprintf(stderr, "selfsup: out of memory for %lld labels\n",
                (long long)n);
        return CLI_FAILED;
    }
    selfsup_status s = selfsup_dataset_labels(d, 0, n, labels);
    if (s != SELFSUP_OK) {
        free(labels);
        return cli_fail("reading labels", s);
    }
    *out = labels;
    return CLI_OK;
}

int cli_dataset_head(const selfsup_dataset *d, int64_t limit,
                     selfsup_dataset **out)
{
    int64_t h = selfsup_dataset_height(d), w = selfsup_dataset_width(d);
    int64_t c = selfsup_dataset_channels(d), size = h * w * c;
    uint8_t *pixels = malloc((size_t)(limit * size));
    int32_t *labels = NULL;
    if (!pixels)
        return cli_fail("--limit", SELFSUP_ERR_OUT_OF_MEMORY);
    for (int64_t i = 0; i < limit; i++) {
        const uint8_t *img;
        selfsup_status s = selfsup_dataset_image(d, i, &img);
        if (s != SELFSUP_OK) {
            free(pixels);
            return cli_fail("reading an image", s);
        }
        memcpy(pixels + i * size, img, (size_t)size);
    }
    if (selfsup_dataset_has_labels(d)) {
        labels = malloc((size_t)limit * sizeof *labels);
        if (!labels || selfsup_dataset_labels(d, 0, limit, labels)) {
            free(pixels);
            free(labels);
            return cli_fail("reading labels", SELFSUP_ERR_OUT_OF_MEMORY);
        }
    }
    selfsup_status s = selfsup_dataset_from_memory(out, pixels, limit, (int)h,
                                                   (int)w, (int)c, labels, 1);
    free(pixels);
    free(labels);
    return s == SELFSUP_OK ? CLI_OK : cli_fail("--limit", s);
}

int cli_eval_data_open(cli_eval_data *d, const char *data, bool skip_bad,
                       const char *cache_dir, int64_t limit)
{
    memset(d, 0, sizeof *d);
    int opened = cli_open_data(data, "train", skip_bad, cache_dir, &d->train);
    if (opened != CLI_OK)
        return opened;
    if (limit > 0 && limit < selfsup_dataset_count(d->train)) {
        selfsup_dataset *head;
        int rc = cli_dataset_head(d->train, limit, &head);
        if (rc != CLI_OK)
            return rc;
        selfsup_dataset_destroy(d->train);
        d->train = head;
    }
    if ((opened = cli_open_data(data, "test", skip_bad, cache_dir, &d->test)) !=
        CLI_OK)
        return opened;
    if (!selfsup_dataset_has_labels(d->train) ||
        !selfsup_dataset_has_labels(d->test)) {
        fprintf(stderr, "selfsup: evaluation needs labels\n");
        return CLI_FAILED;
    }
    int rc = read_labels(d->train, &d->train_labels);
    if (rc == CLI_OK)
        rc = read_labels(d->test, &d->test_labels);
    if (rc != CLI_OK)
        return rc;
    for (int64_t i = 0; i < selfsup_dataset_count(d->train); i++)
        if (d->train_labels[i] + 1 > d->n_classes)
            d->n_classes = d->train_labels[i] + 1;
    for (int64_t i = 0; i < selfsup_dataset_count(d->test); i++)
        if (d->test_labels[i] + 1 > d->n_classes)
            d->n_classes = d->test_labels[i] + 1;
    selfsup_status s = selfsup_dataset_stats(d->train, d->mean, d->std);
    return s == SELFSUP_OK ? CLI_OK : cli_fail("dataset statistics", s);
}

void cli_eval_data_close(cli_eval_data *d)
{
    selfsup_dataset_destroy(d->train);
    selfsup_dataset_destroy(d->test);
    free(d->train_labels);
    free(d->test_labels);
    memset(d, 0, sizeof *d);
}

int cli_embed_shared(selfsup_encoder *e, const selfsup_dataset *d,
                     const float *mean, const float *std, const cli_ranks *r,
                     selfsup_tensor **out)
{
    int64_t n = selfsup_dataset_count(d), first, count;
    *out = NULL;
    if (!r || r->size < 2) {
        selfsup_status s = selfsup_embed_dataset(e, d, 0, n, mean, std, out);
        return s == SELFSUP_OK ? CLI_OK : cli_fail("embedding the images", s);
    }
    cli_ranks_share(r, n, &first, &count);
    selfsup_tensor *mine = NULL;
    selfsup_status s =
        selfsup_embed_dataset(e, d, first, count, mean, std, &mine);
    int rc = s == SELFSUP_OK ? CLI_OK : cli_fail("embedding the images", s);
    int64_t cols = mine ? selfsup_tensor_dim(mine, 1) : 0;
    if (rc == CLI_OK && r->rank == 0) {
        const int64_t dims[2] = {n, cols};
        s = selfsup_tensor_create(out, 2, dims);
        if (s != SELFSUP_OK)
            rc = cli_fail("gathering the features", s);
    }
    rc = cli_ranks_agree(r, rc);
    if (rc == CLI_OK) {
        float *all = NULL;
        if (r->rank == 0) /* written through the tensor's own API after */
            all = malloc((size_t)(n * cols) * sizeof *all);
        if (r->rank == 0 && !all)
            rc = cli_fail("gathering the features", SELFSUP_ERR_OUT_OF_MEMORY);
        rc = cli_ranks_agree(r, rc);
        if (rc == CLI_OK)
            rc = cli_ranks_gather_rows(r, selfsup_tensor_data(mine), n, cols,
                                       all);
        if (rc == CLI_OK && r->rank == 0 &&
            (s = selfsup_tensor_write(*out, all, n * cols)) != SELFSUP_OK)
            rc = cli_fail("gathering the features", s);
        free(all);
    }
    selfsup_tensor_destroy(mine);
    if (rc != CLI_OK) {
        selfsup_tensor_destroy(*out);
        *out = NULL;
    }
    return rc;
}

/* Over ranks, every rank embeds its share and rank 0 alone gets (and
 * scores) the features: *train and *test are NULL on the others. */
static int embed_both(selfsup_encoder *e, const cli_eval_data *d,
                      selfsup_tensor **train, selfsup_tensor **test)
{
    int rc = cli_embed_shared(e, d->train, d->mean, d->std, d->ranks, train);
    if (rc == CLI_OK)
        rc = cli_embed_shared(e, d->test, d->mean, d->std, d->ranks, test);
    if (rc != CLI_OK)
        selfsup_tensor_destroy(*train);
    return rc;
}

/* Flattened pixels as features: standardised with the train split's
 * statistics when e is given, else in [0, 1]. */
static int pixel_features(const selfsup_dataset *d, const cli_eval_data *e,
                          selfsup_tensor **out)
{
    int64_t n = selfsup_dataset_count(d);
    int64_t dims[4] = {n, selfsup_dataset_channels(d),
                       selfsup_dataset_height(d), selfsup_dataset_width(d)};
    selfsup_tensor *t;
    selfsup_status s = selfsup_tensor_create(&t, 4, dims);
    if (s == SELFSUP_OK)
        s = selfsup_dataset_read_batch(d, 0, t, e ? e->mean : NULL,
                                       e ? e->std : NULL);
    const int64_t flat[2] = {n, dims[1] * dims[2] * dims[3]};
    if (s == SELFSUP_OK)
        s = selfsup_tensor_reshape(t, 2, flat);
    if (s != SELFSUP_OK) {
        selfsup_tensor_destroy(t);
        return cli_fail("raw-pixel features", s);
    }
    *out = t;
    return CLI_OK;
}

static int score(const selfsup_tensor *train, const selfsup_tensor *test,
                 const cli_eval_data *d, const cli_eval_options *o,
                 double *knn_top1, double *linear_top1, int *iterations)
{
    selfsup_status s = selfsup_knn_evaluate(train, d->train_labels, test,
                                            d->test_labels, d->n_classes, o->k,
                                            o->temperature, knn_top1, NULL);
    if (s != SELFSUP_OK)
        return cli_fail("kNN", s);
    if (o->probe) {
        double train_top1;
        s = selfsup_linear_probe(train, d->train_labels, test, d->test_labels,
                                 d->n_classes, NULL, &train_top1, linear_top1,
                                 iterations);
        if (s != SELFSUP_OK)
            return cli_fail("linear probe", s);
    }
    return CLI_OK;
}

/* train and test whitened with a whitening fitted on train (*wtrain and
 * *wtest new tensors); the whitening itself to *whitening when asked. */
static int whiten_both(const selfsup_tensor *train, const selfsup_tensor *test,
                       const char *options, selfsup_tensor **wtrain,
                       selfsup_tensor **wtest, selfsup_whitening **whitening)
{
    selfsup_whitening *w = NULL;
    *wtrain = *wtest = NULL;
    selfsup_status s = selfsup_whitening_fit(&w, train, options);
    int64_t k = selfsup_whitening_components(w);
    const int64_t d1[2] = {selfsup_tensor_dim(train, 0), k};
    const int64_t d2[2] = {selfsup_tensor_dim(test, 0), k};
    if (s == SELFSUP_OK)
        s = selfsup_tensor_create(wtrain, 2, d1);
    if (s == SELFSUP_OK)
        s = selfsup_tensor_create(wtest, 2, d2);
    if (s == SELFSUP_OK)
        s = selfsup_whitening_apply(w, train, *wtrain);
    if (s == SELFSUP_OK)
        s = selfsup_whitening_apply(w, test, *wtest);
    if (s != SELFSUP_OK) {
        selfsup_tensor_destroy(*wtrain);
        selfsup_tensor_destroy(*wtest);
        *wtrain = *wtest = NULL;
        selfsup_whitening_destroy(w);
        return cli_fail("whitening the features", s);
    }
    if (whitening)
        *whitening = w;
    else
        selfsup_whitening_destroy(w);
    return CLI_OK;
}

/* whitening: the options of the row's whitening, or NULL for none. */
static int evaluate_features(const selfsup_tensor *train,
                             const selfsup_tensor *test, const cli_eval_data *d,
                             const cli_eval_options *o, const char *whitening,
                             cli_eval_row *row)
{
    row->knn_top1 = row->linear_top1 = NAN;
    row->knn_white_top1 = row->linear_white_top1 = NAN;
    row->probe_iterations = 0;
    selfsup_status s = selfsup_effective_rank(test, &row->rankme);
    if (s != SELFSUP_OK)
        return cli_fail("the effective rank", s);
    int rc = score(train, test, d, o, &row->knn_top1, &row->linear_top1,
                   &row->probe_iterations);
    if (rc != CLI_OK || !whitening)
        return rc;
    selfsup_tensor *wtrain, *wtest;
    rc = whiten_both(train, test, whitening, &wtrain, &wtest, NULL);
    int iterations;
    if (rc == CLI_OK)
        rc = score(wtrain, wtest, d, o, &row->knn_white_top1,
                   &row->linear_white_top1, &iterations);
    selfsup_tensor_destroy(wtrain);
    selfsup_tensor_destroy(wtest);
    return rc;
}

int cli_fit_whitening(selfsup_encoder *e, const selfsup_dataset *train,
                      const float *mean, const float *std,
                      selfsup_whitening **out)
{
    selfsup_tensor *features;
    selfsup_status s = selfsup_embed_dataset(
        e, train, 0, selfsup_dataset_count(train), mean, std, &features);
    if (s != SELFSUP_OK)
        return cli_fail("embedding the train split", s);
    s = selfsup_whitening_fit(out, features, CLI_EMBED_WHITENING);
    selfsup_tensor_destroy(features);
    return s == SELFSUP_OK ? CLI_OK : cli_fail("whitening the features", s);
}

int cli_eval_knn(selfsup_encoder *e, const cli_eval_data *d,
                 const cli_eval_options *o, double *top1, double *white_top1,
                 double *rankme, selfsup_whitening **whitening)
{
    selfsup_tensor *train, *test, *wtrain = NULL, *wtest = NULL;
    int rc = embed_both(e, d, &train, &test);
    if (rc != CLI_OK)
        return rc;
    selfsup_status s =
        selfsup_knn_evaluate(train, d->train_labels, test, d->test_labels,
                             d->n_classes, o->k, o->temperature, top1, NULL);
    if (s != SELFSUP_OK)
        rc = cli_fail("kNN", s);
    if (rc == CLI_OK && rankme &&
        (s = selfsup_effective_rank(test, rankme)) != SELFSUP_OK)
        rc = cli_fail("the effective rank", s);
    if (rc == CLI_OK && white_top1)
        rc = whiten_both(train, test, CLI_EMBED_WHITENING, &wtrain, &wtest,
                         whitening);
    if (rc == CLI_OK && white_top1) {
        s = selfsup_knn_evaluate(wtrain, d->train_labels, wtest, d->test_labels,
                                 d->n_classes, o->k, o->temperature, white_top1,
                                 NULL);
        if (s != SELFSUP_OK) {
            rc = cli_fail("kNN", s);
            if (whitening) {
                selfsup_whitening_destroy(*whitening);
                *whitening = NULL;
            }
        }
    }
    selfsup_tensor_destroy(train);
    selfsup_tensor_destroy(test);
    selfsup_tensor_destroy(wtrain);
    selfsup_tensor_destroy(wtest);
    return rc;
}

int cli_eval_table(selfsup_encoder *e, const cli_eval_data *d,
                   const cli_eval_options *o, cli_eval_row rows[4], int *n_rows)
{
    selfsup_tensor *train = NULL, *test = NULL;
    *n_rows = 0;
    /* the bare network's features: every row is whitened the same way
     * below, on this split's train images */
    selfsup_status s = selfsup_encoder_set_whitening(e, NULL);
    if (s != SELFSUP_OK)
        return cli_fail("setting the recorded whitening aside", s);
    int rc = embed_both(e, d, &train, &test);
    /* over ranks the others embed their shares only: rank 0 scores */
    bool scores = !d->ranks || d->ranks->rank == 0;
    if (rc == CLI_OK && !scores) {
        rc = cli_ranks_agree(d->ranks, rc); /* rank 0 scored the row */
        if (rc == CLI_OK && o->baselines) {
            selfsup_encoder *random;
            s = selfsup_encoder_create(&random, selfsup_encoder_spec(e), 0);
            rc = s == SELFSUP_OK
                     ? embed_both(random, d, &train, &test)
                     : cli_fail("making the random-init encoder", s);
            selfsup_encoder_destroy(random);
        }
        return rc;
    }
    if (rc == CLI_OK) {
        rows[0].name = "trained encoder";
        rc =
            evaluate_features(train, test, d, o, CLI_EMBED_WHITENING, &rows[0]);
        *n_rows = 1;
    }
    selfsup_tensor_destroy(train);
    selfsup_tensor_destroy(test);
    train = test = NULL;
    rc = cli_ranks_agree(d->ranks, rc); /* the others wait to embed more */
    if (rc != CLI_OK || !o->baselines)
        return rc;

    selfsup_encoder *random;
    s = selfsup_encoder_create(&random, selfsup_encoder_spec(e), 0);
    if (s != SELFSUP_OK)
        return cli_fail("making the random-init encoder", s);
    rc = embed_both(random, d, &train, &test);
    selfsup_encoder_destroy(random);
    if (rc == CLI_OK) {
        rows[1].name = "random init";
        rc =
            evaluate_features(train, test, d, o, CLI_EMBED_WHITENING, &rows[1]);
        *n_rows = 2;
    }
    selfsup_tensor_destroy(train);
    selfsup_tensor_destroy(test);
    train = test = NULL;
    if (rc != CLI_OK)
        return rc;

    /* Standardised, then in [0, 1]: cosine kNN sees the difference (the
     * mean image dominates unstandardised pixels); the probe standardises
     * each feature itself, so [0, 1] pixels would repeat its figure. */
    for (int k = 0; k < 2 && rc == CLI_OK; k++) {
        const cli_eval_data *stats = k == 0 ? d : NULL;
        rc = pixel_features(d->train, stats, &train);
        if (rc == CLI_OK)
            rc = pixel_features(d->test, stats, &test);
        if (rc == CLI_OK) {
            cli_eval_options knn_only = *o;
            knn_only.probe = k == 0 && o->probe;
            rows[2 + k].name = k == 0 ? "raw pixels" : "raw pixels [0,1]";
            rc = evaluate_features(train, test, d, &knn_only,
                                   k == 0 ? CLI_PIXEL_WHITENING : NULL,
                                   &rows[2 + k]);
            *n_rows = 3 + k;
        }
        selfsup_tensor_destroy(train);
        selfsup_tensor_destroy(test);
        train = test = NULL;
    }
    return rc;
}

static void print_percent(double v, int width)
{
    if (isnan(v))
        printf(" %*s", width, "-");
    else
        printf(" %*.2f%%", width - 1, 100 * v);
}

void cli_eval_print_table(const cli_eval_row *rows, int n,
                          const cli_eval_options *o)
{
    printf("\n%-18s %12s %14s %14s %16s %10s\n", "features", "kNN top-1",
           "linear top-1", "kNN whitened", "linear whitened", "eff. rank");
    for (int i = 0; i < n; i++) {
        printf("%-18s", rows[i].name);
        print_percent(rows[i].knn_top1, 12);
        print_percent(rows[i].linear_top1, 14);
        print_percent(rows[i].knn_white_top1, 14);
        print_percent(rows[i].linear_white_top1, 16);
        printf(" %10.1f\n", rows[i].rankme);
    }
    printf("(kNN: k = %d, T = %g, cosine, weighted vote; linear: "
           "multinomial logistic regression on standardised frozen "
           "features; whitened: PCA-whitened with the train split's "
           "statistics, at most %d components for encoders, %d for "
           "pixels; eff. rank: RankMe of the bare test features)\n",
           o->k, (double)o->temperature, CLI_EMBED_WHITENING_COMPONENTS,
           CLI_PIXEL_WHITENING_COMPONENTS);
}

static void json_number(const char *key, double v, int last)
{
    if (isnan(v))
        printf("\"%s\": null%s", key, last ? "" : ", ");
    else
        printf("\"%s\": %.6f%s", key, v, last ? "" : ", ");
}

void cli_eval_print_json(const cli_eval_row *rows, int n,
                         const cli_eval_options *o, const char *checkpoint)
{
    printf("{\"checkpoint\": \"%s\", \"knn_k\": %d, \"knn_t\": %g, ",
           checkpoint, o->k, (double)o->temperature);
    static const char *const prefix[3] = {"", "random_", "pixels_"};
    for (int i = 0; i < n && i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "%sknn_top1", prefix[i]);
        json_number(key, rows[i].knn_top1, 0);
        snprintf(key, sizeof key, "%slinear_top1", prefix[i]);
        json_number(key, rows[i].linear_top1, 0);
        snprintf(key, sizeof key, "%sknn_white_top1", prefix[i]);
        json_number(key, rows[i].knn_white_top1, 0);
        snprintf(key, sizeof key, "%slinear_white_top1", prefix[i]);
        json_number(key, rows[i].linear_white_top1, 0);
        snprintf(key, sizeof key, "%srankme", prefix[i]);
        json_number(key, rows[i].rankme, 0);
    }
    if (n > 3)
        json_number("pixels01_knn_top1", rows[3].knn_top1, 0);
    printf("\"probe_iterations\": %d}\n", rows[0].probe_iterations);
}
