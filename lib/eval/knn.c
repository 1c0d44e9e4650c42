/* The public kNN entry points: argument checks, then the search of
 * knn_search.c with a consumer that votes (knn_vote.c) or copies. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "core/threads.h"
#include "eval_check.h"
#include "knn_search.h"
#include "knn_vote.h"
#include "selfsup/eval.h"

/* The checks selfsup_knn_evaluate and selfsup_knn_predict share, in the
 * order of their parameters; predict has no test_labels (has_test_labels
 * is 0). */
static selfsup_status
check_knn_arguments(const char *where, const selfsup_tensor *train,
                    const int32_t *train_labels, const selfsup_tensor *test,
                    int has_test_labels, const int32_t *test_labels,
                    int n_classes, int k, float temperature)
{
    if (!train)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "train_features is NULL");
    SS_TRY(selfsup__eval_check_matrix(train, where, "train_features", 0));
    if (!train_labels)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "train_labels is NULL");
    if (!test)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "test_features is NULL");
    SS_TRY(selfsup__eval_check_matrix(test, where, "test_features",
                                      train->dims[1]));
    if (has_test_labels && !test_labels)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "test_labels is NULL");
    if (n_classes < 1)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "n_classes = %d is not positive", n_classes);
    if (k < 1 || k > train->dims[0])
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "k = %d is outside [1, %lld] (the train rows)", k,
                             (long long)train->dims[0]);
    if (!(temperature > 0.0f) || !isfinite(temperature))
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "temperature = %g is not a positive finite "
                             "number",
                             (double)temperature);
    return SELFSUP_OK;
}

/* The checks that read every label and feature, after the cheap ones. */
static selfsup_status
check_knn_contents(const char *where, const selfsup_tensor *train,
                   const int32_t *train_labels, const selfsup_tensor *test,
                   const int32_t *test_labels, int n_classes)
{
    SS_TRY(selfsup__eval_check_labels(train_labels, train->dims[0], n_classes,
                                      where, "train_labels"));
    if (test_labels)
        SS_TRY(selfsup__eval_check_labels(test_labels, test->dims[0], n_classes,
                                          where, "test_labels"));
    SS_TRY(selfsup__tensor_check_finite(train, where, "train_features"));
    SS_TRY(selfsup__tensor_check_finite(test, where, "test_features"));
    return SELFSUP_OK;
}

typedef struct vote_context {
    const int32_t *train_labels;
    const int32_t *test_labels; /* NULL: predictions only */
    int n_classes;
    float temperature;
    double *class_scores;   /* (workers, n_classes) */
    int32_t *predictions;   /* (test rows) */
    unsigned char *in_top5; /* (test rows) when test_labels is given */
} vote_context;

static selfsup_status vote_block(void *ctx, int worker, int64_t first,
                                 int64_t rows, int k, const int64_t *indices,
                                 const float *sims)
{
    vote_context *v = ctx;
    double *scores = v->class_scores + (size_t)worker * v->n_classes;
    for (int64_t r = 0; r < rows; r++) {
        selfsup__knn_class_scores(scores, v->n_classes, indices + r * k,
                                  sims + r * k, k, v->train_labels,
                                  v->temperature);
        v->predictions[first + r] =
            selfsup__knn_top_class(scores, v->n_classes);
        if (v->test_labels)
            v->in_top5[first + r] =
                selfsup__knn_rank_of(scores, v->n_classes,
                                     v->test_labels[first + r]) < 5;
    }
    return SELFSUP_OK;
}

/* Runs the vote for every test row into the context's arrays. */
static selfsup_status knn_vote_all(vote_context *v, const selfsup_tensor *train,
                                   const selfsup_tensor *test, int k,
                                   const char *where)
{
    const int n_workers = selfsup__num_threads();
    v->class_scores = selfsup__malloc((size_t)n_workers * (size_t)v->n_classes *
                                      sizeof(double));
    if (!v->class_scores)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate class scores for %d classes",
                             v->n_classes);
    selfsup_status s = selfsup__knn_search(
        train->data, train->dims[0], test->data, test->dims[0], train->dims[1],
        k, n_workers, vote_block, v, where);
    selfsup__free(v->class_scores);
    v->class_scores = NULL;
    return s;
}

selfsup_status selfsup_knn_evaluate(const selfsup_tensor *train_features,
                                    const int32_t *train_labels,
                                    const selfsup_tensor *test_features,
                                    const int32_t *test_labels, int n_classes,
                                    int k, float temperature, double *top1,
                                    double *top5)
{
    SS_ENTRY();
    SS_TRY(check_knn_arguments(__func__, train_features, train_labels,
                               test_features, 1, test_labels, n_classes, k,
                               temperature));
    SS_CHECK_NOT_NULL(top1);
    SS_TRY(check_knn_contents(__func__, train_features, train_labels,
                              test_features, test_labels, n_classes));

    int64_t n_test = test_features->dims[0];
    vote_context v = {.train_labels = train_labels,
                      .test_labels = test_labels,
                      .n_classes = n_classes,
                      .temperature = temperature};
    v.predictions = selfsup__malloc((size_t)n_test * sizeof *v.predictions);
    v.in_top5 = selfsup__malloc((size_t)n_test);
    selfsup_status s = SELFSUP_OK;
    if (!v.predictions || !v.in_top5)
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                    "cannot allocate predictions for %lld test rows",
                    (long long)n_test);
    if (s == SELFSUP_OK)
        s = knn_vote_all(&v, train_features, test_features, k, __func__);
    if (s == SELFSUP_OK) {
        int64_t correct1 = 0, correct5 = 0;
        for (int64_t i = 0; i < n_test; i++) {
            correct1 += v.predictions[i] == test_labels[i];
            correct5 += v.in_top5[i];
        }
        *top1 = (double)correct1 / (double)n_test;
        if (top5)
            *top5 = n_classes >= 5 ? (double)correct5 / (double)n_test : NAN;
    }
    selfsup__free(v.in_top5);
    selfsup__free(v.predictions);
    return s;
}

selfsup_status selfsup_knn_predict(const selfsup_tensor *train_features,
                                   const int32_t *train_labels,
                                   const selfsup_tensor *test_features,
                                   int n_classes, int k, float temperature,
                                   int32_t *predictions)
{
    SS_ENTRY();
    SS_TRY(check_knn_arguments(__func__, train_features, train_labels,
                               test_features, 0, NULL, n_classes, k,
                               temperature));
    SS_CHECK_NOT_NULL(predictions);
    SS_TRY(check_knn_contents(__func__, train_features, train_labels,
                              test_features, NULL, n_classes));
    int64_t n_test = test_features->dims[0];
    vote_context v = {.train_labels = train_labels,
                      .n_classes = n_classes,
                      .temperature = temperature};
    v.predictions = selfsup__malloc((size_t)n_test * sizeof *v.predictions);
    if (!v.predictions)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate predictions for %lld test rows",
                       (long long)n_test);
    selfsup_status s =
        knn_vote_all(&v, train_features, test_features, k, __func__);
    if (s == SELFSUP_OK)
        memcpy(predictions, v.predictions,
               (size_t)n_test * sizeof *predictions);
    selfsup__free(v.predictions);
    return s;
}

typedef struct neighbor_context {
    int64_t *indices; /* (queries, k) */
    float *sims;      /* (queries, k) */
} neighbor_context;

static selfsup_status copy_block(void *ctx, int worker, int64_t first,
                                 int64_t rows, int k, const int64_t *indices,
                                 const float *sims)
{
    neighbor_context *n = ctx;
    (void)worker;
    size_t count = (size_t)(rows * k);
    memcpy(n->indices + first * k, indices, count * sizeof *indices);
    memcpy(n->sims + first * k, sims, count * sizeof *sims);
    return SELFSUP_OK;
}

selfsup_status selfsup_knn_neighbors(const selfsup_tensor *database,
                                     const selfsup_tensor *queries, int k,
                                     int64_t *indices, float *similarities)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(database);
    SS_TRY(selfsup__eval_check_matrix(database, __func__, "database", 0));
    SS_CHECK_NOT_NULL(queries);
    SS_TRY(selfsup__eval_check_matrix(queries, __func__, "queries",
                                      database->dims[1]));
    if (k < 1 || k > database->dims[0])
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "k = %d is outside [1, %lld] (the database rows)", k,
                       (long long)database->dims[0]);
    SS_CHECK_NOT_NULL(indices);
    SS_TRY(selfsup__tensor_check_finite(database, __func__, "database"));
    SS_TRY(selfsup__tensor_check_finite(queries, __func__, "queries"));

    size_t count = (size_t)queries->dims[0] * (size_t)k;
    neighbor_context n = {.indices = selfsup__malloc(count * sizeof *n.indices),
                          .sims = selfsup__malloc(count * sizeof *n.sims)};
    selfsup_status s = SELFSUP_OK;
    if (!n.indices || !n.sims)
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                    "cannot allocate %lld x %d neighbours",
                    (long long)queries->dims[0], k);
    if (s == SELFSUP_OK)
        s = selfsup__knn_search(database->data, database->dims[0],
                                queries->data, queries->dims[0],
                                database->dims[1], k, selfsup__num_threads(),
                                copy_block, &n, __func__);
    if (s == SELFSUP_OK) {
        memcpy(indices, n.indices, count * sizeof *indices);
        if (similarities)
            memcpy(similarities, n.sims, count * sizeof *similarities);
    }
    selfsup__free(n.sims);
    selfsup__free(n.indices);
    return s;
}
