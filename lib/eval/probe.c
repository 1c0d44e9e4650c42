/* The linear probe: options, fitting with L-BFGS, and the public entry
 * point that standardises, fits and scores. */
#include "probe.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/gemm.h"
#include "core/spec.h"
#include "core/tensor_impl.h"
#include "core/threads.h"
#include "eval_check.h"
#include "probe_loss.h"
#include "selfsup/eval.h"
#include "standardize.h"

/* weight_decay 1e-4: small enough to leave a well-separated problem's
 * accuracy alone, large enough to make the objective strictly convex, so
 * the minimiser exists and is unique even when the train set is linearly
 * separable (where without it the weights grow without bound). tolerance
 * 1e-6 on max |gradient|: on 60000 x 128 features the loss is then within
 * 1e-8 of its optimum, while the float GEMMs' rounding of the gradient
 * only shows below 1e-8 (docs/evaluation.md). */
static const selfsup__probe_options default_options = {
    .weight_decay = 1e-4, .max_iter = 1000, .tolerance = 1e-6, .history = 10};

selfsup_status selfsup__probe_parse_options(selfsup__probe_options *out,
                                            const char *spec, const char *where)
{
    selfsup__probe_options o = default_options;
    if (!spec) {
        *out = o;
        return SELFSUP_OK;
    }
    selfsup__spec s;
    selfsup_status st = selfsup__spec_parse(&s, spec, where);
    long max_iter = o.max_iter, history = o.history;
    if (st == SELFSUP_OK && strcmp(s.name, "probe") != 0)
        st = selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                           "options \"%s\": the name is \"%s\", not probe",
                           spec, s.name);
    if (st == SELFSUP_OK)
        st = selfsup__spec_double(&s, "weight_decay", 0.0, 1e6, SS_SPEC_CLOSED,
                                  &o.weight_decay);
    if (st == SELFSUP_OK)
        st = selfsup__spec_int(&s, "max_iter", 0, 1000000, &max_iter);
    if (st == SELFSUP_OK)
        st = selfsup__spec_double(&s, "tolerance", 0.0, 1.0, SS_SPEC_OPEN_LO,
                                  &o.tolerance);
    if (st == SELFSUP_OK)
        st = selfsup__spec_int(&s, "history", 1, 100, &history);
    if (st == SELFSUP_OK)
        st = selfsup__spec_finish(&s);
    selfsup__spec_free(&s);
    if (st != SELFSUP_OK)
        return st;
    o.max_iter = (int)max_iter;
    o.history = (int)history;
    *out = o;
    return SELFSUP_OK;
}

static selfsup_status probe_objective(void *ctx, const double *params,
                                      double *f, double *g)
{
    return selfsup__probe_loss_grad(ctx, params, f, g);
}

selfsup_status selfsup__probe_fit(double *params, const float *x,
                                  const int32_t *labels, int64_t n, int64_t dim,
                                  int n_classes,
                                  const selfsup__probe_options *options,
                                  selfsup__lbfgs_report *report,
                                  const char *where)
{
    selfsup__threads_apply();
    int64_t count = selfsup__probe_param_count(dim, n_classes);
    double *w = selfsup__calloc((size_t)count, sizeof *w);
    selfsup__probe_problem p;
    selfsup_status s = selfsup__probe_problem_init(
        &p, x, labels, n, dim, n_classes, options->weight_decay, where);
    if (s == SELFSUP_OK && !w)
        s = selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                          "cannot allocate %lld probe parameters",
                          (long long)count);
    selfsup__lbfgs_options lo = {.history = options->history,
                                 .max_iter = options->max_iter,
                                 .grad_tolerance = options->tolerance};
    selfsup__lbfgs_report r;
    if (s == SELFSUP_OK)
        s = selfsup__lbfgs_minimize(probe_objective, &p, w, count, &lo, &r,
                                    where);
    if (s == SELFSUP_OK) {
        memcpy(params, w, (size_t)count * sizeof *params);
        *report = r;
    }
    selfsup__probe_problem_free(&p);
    selfsup__free(w);
    return s;
}

/* Scratch for scoring a fitted probe chunk by chunk. */
typedef struct probe_scorer {
    int64_t dim;
    int n_classes;
    const double *params; /* W then b */
    const double *mean, *inv_std;
    float *w;      /* (n_classes, dim) */
    float *x;      /* (chunk, dim) standardised rows */
    float *logits; /* (chunk, n_classes) */
} probe_scorer;

/* *correct = how many rows of x (n, dim) the probe classifies as labels
 * says; raw rows are standardised first when standardize is set. The
 * predicted class is the largest logit, the lowest index among equals. */
static selfsup_status count_correct(probe_scorer *sc, const float *x, int64_t n,
                                    int standardize, const int32_t *labels,
                                    int64_t *correct, const char *where,
                                    const char *name)
{
    const int64_t dim = sc->dim;
    const int n_classes = sc->n_classes;
    const double *b = sc->params + (int64_t)n_classes * dim;
    int64_t hits = 0;
    for (int64_t i0 = 0; i0 < n; i0 += SELFSUP__PROBE_CHUNK) {
        int64_t rows =
            n - i0 < SELFSUP__PROBE_CHUNK ? n - i0 : SELFSUP__PROBE_CHUNK;
        const float *chunk = x + i0 * dim;
        if (standardize) {
            selfsup__standardize_rows(sc->x, chunk, rows, dim, sc->mean,
                                      sc->inv_std);
            chunk = sc->x;
        }
        SS_TRY(selfsup__sgemm(0, 1, rows, n_classes, dim, 1.0f, chunk, dim,
                              sc->w, dim, 0.0f, sc->logits, n_classes));
        for (int64_t r = 0; r < rows; r++) {
            const float *z = sc->logits + r * n_classes;
            int top = 0;
            double best = -INFINITY;
            for (int c = 0; c < n_classes; c++) {
                double v = (double)z[c] + b[c];
                if (!isfinite(v))
                    return selfsup__fail(
                        SELFSUP_ERR_NUMERIC, where,
                        "the probe's logit for %s row %lld is %g: a "
                        "feature is far outside the train set's range",
                        name, (long long)(i0 + r), v);
                if (v > best) {
                    best = v;
                    top = c;
                }
            }
            hits += top == labels[i0 + r];
        }
    }
    *correct = hits;
    return SELFSUP_OK;
}

selfsup_status selfsup_linear_probe(const selfsup_tensor *train_features,
                                    const int32_t *train_labels,
                                    const selfsup_tensor *test_features,
                                    const int32_t *test_labels, int n_classes,
                                    const char *options, double *train_top1,
                                    double *test_top1, int *iterations)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(train_features);
    SS_TRY(selfsup__eval_check_matrix(train_features, __func__,
                                      "train_features", 0));
    SS_CHECK_NOT_NULL(train_labels);
    SS_CHECK_NOT_NULL(test_features);
    const int64_t n = train_features->dims[0], dim = train_features->dims[1];
    SS_TRY(selfsup__eval_check_matrix(test_features, __func__, "test_features",
                                      dim));
    SS_CHECK_NOT_NULL(test_labels);
    if (n_classes < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "n_classes = %d is not positive", n_classes);
    selfsup__probe_options opt;
    SS_TRY(selfsup__probe_parse_options(&opt, options, __func__));
    const int64_t n_test = test_features->dims[0];
    SS_TRY(selfsup__eval_check_labels(train_labels, n, n_classes, __func__,
                                      "train_labels"));
    SS_TRY(selfsup__eval_check_labels(test_labels, n_test, n_classes, __func__,
                                      "test_labels"));
    SS_TRY(selfsup__tensor_check_finite(train_features, __func__,
                                        "train_features"));
    SS_TRY(
        selfsup__tensor_check_finite(test_features, __func__, "test_features"));
    selfsup__threads_apply();

    int64_t chunk = SELFSUP__PROBE_CHUNK;
    int64_t count = selfsup__probe_param_count(dim, n_classes);
    double *mean = selfsup__malloc((size_t)dim * sizeof *mean);
    double *inv_std = selfsup__malloc((size_t)dim * sizeof *inv_std);
    float *x_train = selfsup__malloc((size_t)(n * dim) * sizeof *x_train);
    double *params = selfsup__malloc((size_t)count * sizeof *params);
    probe_scorer sc = {
        .dim = dim,
        .n_classes = n_classes,
        .params = params,
        .mean = mean,
        .inv_std = inv_std,
        .w = selfsup__malloc((size_t)(n_classes * dim) * sizeof(float)),
        .x = selfsup__malloc((size_t)(chunk * dim) * sizeof(float)),
        .logits = selfsup__malloc((size_t)(chunk * n_classes) * sizeof(float))};
    selfsup_status s = SELFSUP_OK;
    if (!mean || !inv_std || !x_train || !params || !sc.w || !sc.x ||
        !sc.logits) {
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                    "cannot allocate the probe (%lld x %lld features, %d "
                    "classes)",
                    (long long)n, (long long)dim, n_classes);
        goto done;
    }
    selfsup__standardizer_fit(mean, inv_std, train_features->data, n, dim);
    selfsup__standardize_rows(x_train, train_features->data, n, dim, mean,
                              inv_std);
    selfsup__lbfgs_report report;
    s = selfsup__probe_fit(params, x_train, train_labels, n, dim, n_classes,
                           &opt, &report, __func__);
    if (s != SELFSUP_OK)
        goto done;
    for (int64_t j = 0; j < n_classes * dim; j++)
        sc.w[j] = (float)params[j];
    int64_t train_hits, test_hits;
    s = count_correct(&sc, x_train, n, 0, train_labels, &train_hits, __func__,
                      "train_features");
    if (s == SELFSUP_OK)
        s = count_correct(&sc, test_features->data, n_test, 1, test_labels,
                          &test_hits, __func__, "test_features");
    if (s != SELFSUP_OK)
        goto done;
    if (train_top1)
        *train_top1 = (double)train_hits / (double)n;
    if (test_top1)
        *test_top1 = (double)test_hits / (double)n_test;
    if (iterations)
        *iterations = report.iterations;
done:
    selfsup__free(sc.logits);
    selfsup__free(sc.x);
    selfsup__free(sc.w);
    selfsup__free(params);
    selfsup__free(x_train);
    selfsup__free(inv_std);
    selfsup__free(mean);
    return s;
}
