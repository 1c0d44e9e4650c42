#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/probe.h"
#include "eval/probe_loss.h"
#include "eval/standardize.h"
#include "eval_fixtures.h"
#include "suites.h"

/* The probe's objective in double, straight from its definition. */
static double reference_loss(const float *x, const int32_t *y, int64_t n,
                             int64_t d, int c, double wd, const double *p)
{
    const double *b = p + c * d;
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        double z[64], top = -INFINITY, sum = 0;
        for (int k = 0; k < c; k++) {
            z[k] = b[k];
            for (int64_t j = 0; j < d; j++)
                z[k] += p[k * d + j] * x[i * d + j];
            top = z[k] > top ? z[k] : top;
        }
        for (int k = 0; k < c; k++)
            sum += exp(z[k] - top);
        total += top + log(sum) - z[y[i]];
    }
    double penalty = 0;
    for (int64_t j = 0; j < c * d; j++)
        penalty += p[j] * p[j];
    return total / (double)n + 0.5 * wd * penalty;
}

/* dL/dparams against central differences of the double-precision loss,
 * with more rows than one chunk (4096) so the chunked sums are covered.
 * Step 1e-4: truncation error ~h^2 |L'''| ~1e-8; the float GEMMs round the
 * gradient by ~1e-7 relative, so 1e-6 absolute + 1e-4 relative leaves a
 * wide margin while a wrong term (a missing 1/n, decay on the bias) is off
 * by orders of magnitude. */
START_TEST(probe_gradient_matches_finite_differences)
{
    enum { N = 4096 + 211, D = 5, C = 4, P = C * (D + 1) };
    float *x = malloc((size_t)N * D * sizeof *x);
    int32_t *y = malloc((size_t)N * sizeof *y);
    selfsup__rng r;
    selfsup__rng_init(&r, 3, 0);
    for (int i = 0; i < N * D; i++)
        x[i] = (float)selfsup__rng_normal(&r);
    for (int i = 0; i < N; i++)
        y[i] = (int32_t)selfsup__rng_below(&r, C);
    double params[P], grad[P], loss;
    for (int j = 0; j < P; j++)
        params[j] = 0.5 * selfsup__rng_normal(&r);
    const double wd = 0.3;
    selfsup__probe_problem p;
    ss_assert_ok(selfsup__probe_problem_init(&p, x, y, N, D, C, wd, "test"));
    ss_assert_ok(selfsup__probe_loss_grad(&p, params, &loss, grad));
    ss_assert_close(loss, reference_loss(x, y, N, D, C, wd, params), 0, 1e-6);
    double loss_only;
    ss_assert_ok(selfsup__probe_loss_grad(&p, params, &loss_only, NULL));
    ck_assert(loss_only == loss);
    for (int j = 0; j < P; j++) {
        double h = 1e-4, saved = params[j];
        params[j] = saved + h;
        double up = reference_loss(x, y, N, D, C, wd, params);
        params[j] = saved - h;
        double down = reference_loss(x, y, N, D, C, wd, params);
        params[j] = saved;
        expect(near(grad[j], (up - down) / (2 * h), 1e-6, 1e-4),
               "grad[%d] = %.9g, finite differences %.9g", j, grad[j],
               (up - down) / (2 * h));
    }
    selfsup__probe_problem_free(&p);
    free(y);
    free(x);
}
END_TEST

START_TEST(probe_standardizer_statistics)
{
    enum { N = 4, D = 5 };
    const float big = 1e6f, big_next = nextafterf(1e6f, 2e6f);
    const float x[N * D] = {1, 7, 0, big,      -3, /* */
                            2, 7, 0, big_next, -3, /* */
                            3, 7, 0, big,      -3, /* */
                            4, 7, 0, big_next, 5};
    double mean[D], inv_std[D];
    selfsup__standardizer_fit(mean, inv_std, x, N, D);
    ss_assert_close(mean[0], 2.5, 1e-15, 0);
    ss_assert_close(inv_std[0], 1.0 / sqrt(1.25), 0, 1e-15);
    ss_assert_close(mean[1], 7.0, 1e-15, 0);
    ck_assert(inv_std[1] == 1.0);                   /* std 0 */
    ck_assert(mean[2] == 0.0 && inv_std[2] == 1.0); /* all zero */
    ck_assert(inv_std[3] == 1.0); /* one ulp of spread: rounding */
    ss_assert_close(mean[4], -1.0, 1e-15, 0);
    ss_assert_close(inv_std[4], 1.0 / sqrt(12.0), 0, 1e-15);
    float out[N * D];
    selfsup__standardize_rows(out, x, N, D, mean, inv_std);
    for (int i = 0; i < N; i++) {
        ck_assert(out[i * D + 1] == 0.0f);
        ck_assert(fabsf(out[i * D + 3]) <= 0.07f); /* centred, not scaled */
    }
    ss_assert_close(out[0], (1 - 2.5) / sqrt(1.25), 1e-6, 0);
}
END_TEST

/* The reference's standardisation, objective optimum and accuracies.
 *
 * Loss: with max |g| <= tol over P parameters and the objective
 * weight_decay-strongly convex, L - L* <= |g|^2 / (2 wd) <= P tol^2 /
 * (2 wd), plus ~1e-7 of float rounding in evaluating L.
 *
 * Predictions: from the measured distance between our (W, b) and the
 * reference's, a logit moves by at most |dW_c| |x| + |db_c|; every sample
 * whose reference margin exceeds twice that must be classified the same,
 * and the accuracies may differ by the others only. */
static void check_fit_against_reference(const eval_fixture *f, const char *tag,
                                        const char *spec, double wd)
{
    enum { P = REF_CLASSES * (REF_DIM + 1) };
    const ss_golden *g = f->golden;
    double mean[REF_DIM], inv_std[REF_DIM];
    const float *x_train = selfsup_tensor_data(f->x_train);
    selfsup__standardizer_fit(mean, inv_std, x_train, REF_TRAIN, REF_DIM);
    const float *want_mean = ss_golden_get(g, "probe_mean", REF_DIM);
    const float *want_inv = ss_golden_get(g, "probe_inv_std", REF_DIM);
    for (int j = 0; j < REF_DIM; j++) {
        ss_assert_close(mean[j], want_mean[j], 1e-6, 1e-6);
        ss_assert_close(inv_std[j], want_inv[j], 0, 1e-6);
    }
    static float xs[REF_TRAIN * REF_DIM], xt[REF_TEST * REF_DIM];
    selfsup__standardize_rows(xs, x_train, REF_TRAIN, REF_DIM, mean, inv_std);
    selfsup__standardize_rows(xt, selfsup_tensor_data(f->x_test), REF_TEST,
                              REF_DIM, mean, inv_std);

    selfsup__probe_options opt;
    ss_assert_ok(selfsup__probe_parse_options(&opt, spec, "test"));
    ck_assert(opt.weight_decay == wd);
    double params[P];
    selfsup__lbfgs_report rep;
    ss_assert_ok(selfsup__probe_fit(params, xs, f->y_train, REF_TRAIN, REF_DIM,
                                    REF_CLASSES, &opt, &rep, "test"));
    ck_assert_int_eq(rep.stop, SELFSUP__LBFGS_CONVERGED);
    ck_assert(rep.grad_max <= opt.tolerance);
    ck_assert_int_gt(rep.iterations, 5);

    char name[64];
    snprintf(name, sizeof name, "probe_%s_loss", tag);
    double best = ss_golden_scalar(g, name);
    double bound = P * opt.tolerance * opt.tolerance / (2 * wd);
    ck_assert_msg(rep.f >= best - 1e-6 && rep.f <= best + bound + 1e-6,
                  "loss %.9g, optimum %.9g, bound %.3g", rep.f, best, bound);

    snprintf(name, sizeof name, "probe_%s_w", tag);
    const float *w = ss_golden_get(g, name, REF_CLASSES * REF_DIM);
    snprintf(name, sizeof name, "probe_%s_b", tag);
    const float *b = ss_golden_get(g, name, REF_CLASSES);
    double dw[REF_CLASSES], db[REF_CLASSES];
    for (int c = 0; c < REF_CLASSES; c++) {
        double s = 0;
        for (int j = 0; j < REF_DIM; j++) {
            double e = params[c * REF_DIM + j] - w[c * REF_DIM + j];
            s += e * e;
        }
        dw[c] = sqrt(s);
        db[c] = fabs(params[REF_CLASSES * REF_DIM + c] - b[c]);
    }
    for (int set = 0; set < 2; set++) {
        int n = set ? REF_TEST : REF_TRAIN;
        const float *x = set ? xt : xs;
        const int32_t *y = set ? f->y_test : f->y_train;
        int fragile = 0, hits = 0;
        for (int i = 0; i < n; i++) {
            double z_ref[REF_CLASSES], z[REF_CLASSES], xnorm = 0, move = 0;
            for (int j = 0; j < REF_DIM; j++)
                xnorm += (double)x[i * REF_DIM + j] * x[i * REF_DIM + j];
            xnorm = sqrt(xnorm);
            int top_ref = 0, top = 0;
            for (int c = 0; c < REF_CLASSES; c++) {
                z_ref[c] = b[c];
                z[c] = params[REF_CLASSES * REF_DIM + c];
                for (int j = 0; j < REF_DIM; j++) {
                    z_ref[c] += (double)w[c * REF_DIM + j] * x[i * REF_DIM + j];
                    z[c] += params[c * REF_DIM + j] * x[i * REF_DIM + j];
                }
                double m = dw[c] * xnorm + db[c];
                move = m > move ? m : move;
                top_ref = z_ref[c] > z_ref[top_ref] ? c : top_ref;
                top = z[c] > z[top] ? c : top;
            }
            double margin = INFINITY;
            for (int c = 0; c < REF_CLASSES; c++)
                if (c != top_ref && z_ref[top_ref] - z_ref[c] < margin)
                    margin = z_ref[top_ref] - z_ref[c];
            hits += top == y[i];
            if (margin > 2 * move + 1e-5)
                expect(top == top_ref,
                       "%s set %d row %d: class %d, "
                       "reference %d",
                       tag, set, i, top, top_ref);
            else
                fragile++;
        }
        ck_assert_int_le(fragile, n / 50);
        snprintf(name, sizeof name, "probe_%s_%s_top1", tag,
                 set ? "test" : "train");
        ss_assert_close((double)hits / n, ss_golden_scalar(g, name),
                        (double)fragile / n + 1e-6, 0);
    }
}

START_TEST(probe_matches_reference_optimum)
{
    eval_fixture *f = eval_fixture_load();
    check_fit_against_reference(f, "default", NULL, 1e-4);
    check_fit_against_reference(f, "wd1e-2", "probe:weight_decay=1e-2", 1e-2);
    eval_fixture_free(f);
}
END_TEST

/* The public entry point gives what the reference's optimum gives, within
 * the fragile rows counted above (none at this tolerance on this data). */
START_TEST(probe_public_api_matches_reference)
{
    eval_fixture *f = eval_fixture_load();
    double train_top1 = -1, test_top1 = -1;
    int iterations = -1;
    ss_assert_ok(selfsup_linear_probe(f->x_train, f->y_train, f->x_test,
                                      f->y_test, REF_CLASSES, NULL, &train_top1,
                                      &test_top1, &iterations));
    ss_assert_close(train_top1,
                    ss_golden_scalar(f->golden, "probe_default_train_top1"),
                    2.0 / REF_TRAIN, 0);
    ss_assert_close(test_top1,
                    ss_golden_scalar(f->golden, "probe_default_test_top1"),
                    2.0 / REF_TEST, 0);
    ck_assert_int_gt(iterations, 5);
    ck_assert_int_lt(iterations, 1000);
    /* The cap is honoured and reported; outputs may be NULL. */
    ss_assert_ok(selfsup_linear_probe(
        f->x_train, f->y_train, f->x_test, f->y_test, REF_CLASSES,
        "probe:max_iter=3", NULL, NULL, &iterations));
    ck_assert_int_eq(iterations, 3);
    ss_assert_ok(selfsup_linear_probe(
        f->x_train, f->y_train, f->x_test, f->y_test, REF_CLASSES,
        "probe:max_iter=0", &train_top1, NULL, &iterations));
    ck_assert_int_eq(iterations, 0);
    /* zero weights: every logit 0, class 0 predicted everywhere */
    int zeros = 0;
    for (int i = 0; i < REF_TRAIN; i++)
        zeros += f->y_train[i] == 0;
    ss_assert_close(train_top1, (double)zeros / REF_TRAIN, 1e-12, 0);
    eval_fixture_free(f);
}
END_TEST

/* Same thread count, same bits: the workers' sums are added in a fixed
 * order (the library's reproducibility promise). */
START_TEST(probe_is_reproducible)
{
    enum { P = REF_CLASSES * (REF_DIM + 1) };
    eval_fixture *f = eval_fixture_load();
    double mean[REF_DIM], inv_std[REF_DIM];
    static float xs[REF_TRAIN * REF_DIM];
    selfsup__standardizer_fit(mean, inv_std, selfsup_tensor_data(f->x_train),
                              REF_TRAIN, REF_DIM);
    selfsup__standardize_rows(xs, selfsup_tensor_data(f->x_train), REF_TRAIN,
                              REF_DIM, mean, inv_std);
    selfsup__probe_options opt;
    ss_assert_ok(selfsup__probe_parse_options(&opt, NULL, "test"));
    for (int threads = 1; threads <= 2; threads++) {
        ss_assert_ok(selfsup_set_num_threads(threads));
        double a[P], b[P];
        selfsup__lbfgs_report ra, rb;
        ss_assert_ok(selfsup__probe_fit(a, xs, f->y_train, REF_TRAIN, REF_DIM,
                                        REF_CLASSES, &opt, &ra, "test"));
        ss_assert_ok(selfsup__probe_fit(b, xs, f->y_train, REF_TRAIN, REF_DIM,
                                        REF_CLASSES, &opt, &rb, "test"));
        ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
        ck_assert(ra.f == rb.f && ra.iterations == rb.iterations);
    }
    ss_assert_ok(selfsup_set_num_threads(0));
    eval_fixture_free(f);
}
END_TEST

/* Well-separated clusters: the probe separates the train set fully. */
START_TEST(probe_separates_separable_data)
{
    enum { N = 600, D = 10, C = 5 };
    static float x[N * D];
    static int32_t y[N];
    selfsup__rng r;
    selfsup__rng_init(&r, 5, 0);
    for (int i = 0; i < N; i++) {
        y[i] = i % C;
        for (int j = 0; j < D; j++)
            x[i * D + j] = (float)(0.3 * selfsup__rng_normal(&r) +
                                   (j == y[i] ? 4.0 : 0.0) + 10.0 * j);
    }
    selfsup_tensor *t = make_matrix(N, D, x);
    double train_top1 = 0, test_top1 = 0;
    int iterations = 0;
    ss_assert_ok(selfsup_linear_probe(t, y, t, y, C, NULL, &train_top1,
                                      &test_top1, &iterations));
    ck_assert(train_top1 == 1.0);
    ck_assert(test_top1 == 1.0);
    ck_assert_int_lt(iterations, 1000); /* converged: decay bounds W */
    selfsup_tensor_destroy(t);
}
END_TEST

/* Constant features: standardised to 0, so only the bias can learn, and it
 * learns the class frequencies: every row gets the majority class. No NaN
 * anywhere, whatever the constants. */
START_TEST(probe_constant_features_give_the_majority_class)
{
    enum { N = 100, D = 4, C = 3 };
    float x[N * D];
    int32_t y[N];
    const float values[D] = {0.0f, 3.0f, -1e30f, 1e-30f};
    for (int i = 0; i < N; i++) {
        y[i] = i < 50 ? 2 : (i < 80 ? 0 : 1);
        for (int j = 0; j < D; j++)
            x[i * D + j] = values[j];
    }
    selfsup_tensor *t = make_matrix(N, D, x);
    double train_top1 = -1, test_top1 = -1;
    int iterations = -1;
    ss_assert_ok(selfsup_linear_probe(t, y, t, y, C, NULL, &train_top1,
                                      &test_top1, &iterations));
    ck_assert(train_top1 == 0.5);
    ck_assert(test_top1 == 0.5);
    ck_assert_int_lt(iterations, 1000);
    selfsup_tensor_destroy(t);
}
END_TEST

/* A test feature far outside a train column of tiny spread standardises
 * to +inf: reported, not turned into a silent NaN accuracy. */
START_TEST(probe_overflowing_test_features_are_numeric_errors)
{
    float x[4 * 2] = {0, 1, 1e-30f, 2, 0, 3, 1e-30f, 4};
    int32_t y[4] = {0, 1, 0, 1};
    float q[2] = {3e38f, 1};
    selfsup_tensor *train = make_matrix(4, 2, x), *test = make_matrix(1, 2, q);
    double test_top1 = 42;
    ss_assert_fails(selfsup_linear_probe(train, y, test, y, 2, NULL, NULL,
                                         &test_top1, NULL),
                    SELFSUP_ERR_NUMERIC, "test_features row 0");
    ck_assert(test_top1 == 42);
    selfsup_tensor_destroy(test);
    selfsup_tensor_destroy(train);
}
END_TEST

START_TEST(probe_options_are_parsed_and_checked)
{
    selfsup__probe_options o;
    ss_assert_ok(selfsup__probe_parse_options(&o, NULL, "t"));
    ck_assert(o.weight_decay == 1e-4 && o.max_iter == 1000 &&
              o.tolerance == 1e-6 && o.history == 10);
    ss_assert_ok(selfsup__probe_parse_options(
        &o, "probe: weight_decay = 0, max_iter=7, tolerance=1e-3, history=3",
        "t"));
    ck_assert(o.weight_decay == 0 && o.max_iter == 7 && o.tolerance == 1e-3 &&
              o.history == 3);
    const float x[2 * 1] = {0, 1};
    const int32_t y[2] = {0, 1};
    selfsup_tensor *t = make_matrix(2, 1, x);
    double top = 42;
    const selfsup_status INV = SELFSUP_ERR_INVALID_ARGUMENT;
    const char *bad[][2] = {
        {"knn:k=3", "not probe"},
        {"probe:lr=0.1", "unknown key \"lr\""},
        {"probe:weight_decay=-1", "weight_decay"},
        {"probe:weight_decay=nan", "weight_decay"},
        {"probe:max_iter=-1", "max_iter"},
        {"probe:tolerance=0", "tolerance"},
        {"probe:history=0", "history"},
        {"probe:history=x", "history"},
        {"probe:", "not key=value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ss_assert_fails(
            selfsup_linear_probe(t, y, t, y, 2, bad[i][0], &top, NULL, NULL),
            INV, bad[i][1]);
    ck_assert(top == 42);
    selfsup_tensor_destroy(t);
}
END_TEST

START_TEST(probe_refuses_bad_arguments)
{
    const float x[3 * 2] = {1, 0, 0, 1, 1, 1};
    const int32_t y[3] = {0, 1, 1}, bad[3] = {0, 1, 3};
    selfsup_tensor *a = make_matrix(3, 2, x), *wide = make_matrix(3, 3, NULL);
    int64_t d1[1] = {6};
    selfsup_tensor *flat = NULL;
    ss_assert_ok(selfsup_tensor_create(&flat, 1, d1));
    float nan_x[6] = {1, 0, 0, 1, INFINITY, 1};
    selfsup_tensor *inf = make_matrix(3, 2, nan_x);
    double tr = 42, te = 43;
    int it = 44;
    const selfsup_status INV = SELFSUP_ERR_INVALID_ARGUMENT;
    ss_assert_fails(selfsup_linear_probe(NULL, y, a, y, 2, NULL, &tr, &te, &it),
                    INV, "train_features is NULL");
    ss_assert_fails(selfsup_linear_probe(flat, y, a, y, 2, NULL, &tr, &te, &it),
                    SELFSUP_ERR_SHAPE, "train_features has shape (6)");
    ss_assert_fails(selfsup_linear_probe(a, NULL, a, y, 2, NULL, &tr, &te, &it),
                    INV, "train_labels is NULL");
    ss_assert_fails(selfsup_linear_probe(a, y, NULL, y, 2, NULL, &tr, &te, &it),
                    INV, "test_features is NULL");
    ss_assert_fails(selfsup_linear_probe(a, y, wide, y, 2, NULL, &tr, &te, &it),
                    SELFSUP_ERR_SHAPE, "test_features has shape (3, 3)");
    ss_assert_fails(selfsup_linear_probe(a, y, a, NULL, 2, NULL, &tr, &te, &it),
                    INV, "test_labels is NULL");
    ss_assert_fails(selfsup_linear_probe(a, y, a, y, 0, NULL, &tr, &te, &it),
                    INV, "n_classes = 0");
    ss_assert_fails(selfsup_linear_probe(a, bad, a, y, 2, NULL, &tr, &te, &it),
                    INV, "train_labels[2] = 3");
    ss_assert_fails(selfsup_linear_probe(a, y, a, bad, 2, NULL, &tr, &te, &it),
                    INV, "test_labels[2] = 3");
    ss_assert_fails(selfsup_linear_probe(inf, y, a, y, 2, NULL, &tr, &te, &it),
                    SELFSUP_ERR_NUMERIC, "train_features[4] = inf");
    ss_assert_fails(selfsup_linear_probe(a, y, inf, y, 2, NULL, &tr, &te, &it),
                    SELFSUP_ERR_NUMERIC, "test_features[4]");
    ck_assert(tr == 42 && te == 43 && it == 44);
    selfsup_tensor_destroy(inf);
    selfsup_tensor_destroy(flat);
    selfsup_tensor_destroy(wide);
    selfsup_tensor_destroy(a);
}
END_TEST

TCase *probe_tcase(void)
{
    TCase *tc = tcase_create("probe");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, probe_gradient_matches_finite_differences);
    tcase_add_test(tc, probe_standardizer_statistics);
    tcase_add_test(tc, probe_matches_reference_optimum);
    tcase_add_test(tc, probe_public_api_matches_reference);
    tcase_add_test(tc, probe_is_reproducible);
    tcase_add_test(tc, probe_separates_separable_data);
    tcase_add_test(tc, probe_constant_features_give_the_majority_class);
    tcase_add_test(tc, probe_overflowing_test_features_are_numeric_errors);
    tcase_add_test(tc, probe_options_are_parsed_and_checked);
    tcase_add_test(tc, probe_refuses_bad_arguments);
    return tc;
}

/* ------------------------------------------------ allocation failures */

typedef struct probe_alloc_ctx {
    selfsup_tensor *x;
    int32_t y[30];
} probe_alloc_ctx;

static selfsup_status probe_alloc_run(void *p)
{
    probe_alloc_ctx *c = p;
    double tr, te;
    int it;
    return selfsup_linear_probe(c->x, c->y, c->x, c->y, 3, "probe:max_iter=4",
                                &tr, &te, &it);
}

START_TEST(probe_allocation_failures_leak_nothing)
{
    probe_alloc_ctx c;
    c.x = make_matrix(30, 4, NULL);
    ss_assert_ok(selfsup_tensor_fill_normal(c.x, 9, 0.0f, 1.0f));
    for (int i = 0; i < 30; i++)
        c.y[i] = i % 3;
    ck_assert_int_gt(ss_sweep_alloc_failures(probe_alloc_run, &c, SELFSUP_OK),
                     3);
    selfsup_tensor_destroy(c.x);
}
END_TEST

TCase *probe_alloc_tcase(void)
{
    TCase *tc = tcase_create("probe_alloc");
    tcase_add_test(tc, probe_allocation_failures_leak_nothing);
    return tc;
}
