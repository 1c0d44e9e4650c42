#include <math.h>
#include <string.h>

#include "eval/lbfgs.h"
#include "suites.h"
#include "test_support.h"

enum { DIM = 20 };

/* f = 1/2 sum a_i (x_i - i)^2 with a_i from 1 to 1e3 in geometric steps:
 * ill-conditioned, minimum at x_i = i. (A hard case for L-BFGS: with 10
 * pairs it takes ~240 iterations to 1e-9; PyTorch's LBFGS with strong
 * Wolfe takes over 500.) */
static selfsup_status quadratic(void *ctx, const double *x, double *f,
                                double *g)
{
    int *calls = ctx;
    (*calls)++;
    *f = 0;
    for (int i = 0; i < DIM; i++) {
        double a = pow(1e3, (double)i / (DIM - 1)), e = x[i] - i;
        *f += 0.5 * a * e * e;
        g[i] = a * e;
    }
    return SELFSUP_OK;
}

START_TEST(lbfgs_finds_the_minimum_of_a_quadratic)
{
    double x[DIM] = {0};
    int calls = 0;
    selfsup__lbfgs_options o = {
        .history = 10, .max_iter = 1000, .grad_tolerance = 1e-9};
    selfsup__lbfgs_report r;
    ss_assert_ok(
        selfsup__lbfgs_minimize(quadratic, &calls, x, DIM, &o, &r, "test"));
    ck_assert_int_eq(r.stop, SELFSUP__LBFGS_CONVERGED);
    ck_assert(r.grad_max <= 1e-9);
    ck_assert_int_eq(r.evaluations, calls);
    ck_assert_int_lt(r.iterations, 400);
    /* |x - x*| <= |g| / min a = 1e-9 per coordinate */
    for (int i = 0; i < DIM; i++)
        ss_assert_close(x[i], i, 1e-8, 0);
    ck_assert(r.f >= 0 && r.f < 1e-15);
}
END_TEST

START_TEST(lbfgs_stops_at_max_iter)
{
    double x[DIM] = {0};
    int calls = 0;
    selfsup__lbfgs_options o = {
        .history = 5, .max_iter = 3, .grad_tolerance = 1e-9};
    selfsup__lbfgs_report r;
    ss_assert_ok(
        selfsup__lbfgs_minimize(quadratic, &calls, x, DIM, &o, &r, "test"));
    ck_assert_int_eq(r.stop, SELFSUP__LBFGS_MAX_ITER);
    ck_assert_int_eq(r.iterations, 3);
    o.max_iter = 0;
    memset(x, 0, sizeof x);
    calls = 0;
    ss_assert_ok(
        selfsup__lbfgs_minimize(quadratic, &calls, x, DIM, &o, &r, "test"));
    ck_assert_int_eq(r.iterations, 0);
    ck_assert_int_eq(calls, 1);
    for (int i = 0; i < DIM; i++)
        ck_assert(x[i] == 0.0);
}
END_TEST

/* A "gradient" that points the wrong way: no step along it decreases f, and
 * the minimiser must say so and stop, not loop. */
static selfsup_status lying_gradient(void *ctx, const double *x, double *f,
                                     double *g)
{
    (void)ctx;
    *f = 0;
    for (int i = 0; i < DIM; i++) {
        *f += (x[i] - 1) * (x[i] - 1);
        g[i] = -2 * (x[i] - 1);
    }
    return SELFSUP_OK;
}

START_TEST(lbfgs_reports_no_progress)
{
    double x[DIM] = {0};
    selfsup__lbfgs_options o = {
        .history = 5, .max_iter = 100, .grad_tolerance = 1e-9};
    selfsup__lbfgs_report r;
    ss_assert_ok(
        selfsup__lbfgs_minimize(lying_gradient, NULL, x, DIM, &o, &r, "test"));
    ck_assert_int_eq(r.stop, SELFSUP__LBFGS_NO_PROGRESS);
    ck_assert_int_eq(r.iterations, 0);
    for (int i = 0; i < DIM; i++)
        ck_assert(x[i] == 0.0); /* the start is kept */
}
END_TEST

static selfsup_status nan_at_start(void *ctx, const double *x, double *f,
                                   double *g)
{
    (void)ctx;
    *f = NAN;
    for (int i = 0; i < DIM; i++)
        g[i] = x[i];
    return SELFSUP_OK;
}

static selfsup_status failing(void *ctx, const double *x, double *f, double *g)
{
    (void)ctx;
    (void)x;
    (void)f;
    (void)g;
    return SELFSUP_ERR_BACKEND;
}

START_TEST(lbfgs_passes_failures_on)
{
    double x[DIM] = {0};
    selfsup__lbfgs_options o = {
        .history = 5, .max_iter = 10, .grad_tolerance = 1e-9};
    selfsup__lbfgs_report r;
    ss_assert_fails(
        selfsup__lbfgs_minimize(nan_at_start, NULL, x, DIM, &o, &r, "test"),
        SELFSUP_ERR_NUMERIC, "objective is nan");
    ck_assert_int_eq(
        selfsup__lbfgs_minimize(failing, NULL, x, DIM, &o, &r, "test"),
        SELFSUP_ERR_BACKEND);
}
END_TEST

typedef struct lbfgs_alloc_ctx {
    int calls;
} lbfgs_alloc_ctx;

static selfsup_status lbfgs_alloc_run(void *p)
{
    double x[DIM] = {0};
    selfsup__lbfgs_options o = {
        .history = 3, .max_iter = 5, .grad_tolerance = 1e-9};
    selfsup__lbfgs_report r;
    return selfsup__lbfgs_minimize(quadratic, &((lbfgs_alloc_ctx *)p)->calls, x,
                                   DIM, &o, &r, "test");
}

START_TEST(lbfgs_allocation_failures_leak_nothing)
{
    lbfgs_alloc_ctx c = {0};
    ck_assert_int_gt(ss_sweep_alloc_failures(lbfgs_alloc_run, &c, SELFSUP_OK),
                     0);
}
END_TEST

TCase *lbfgs_tcase(void)
{
    TCase *tc = tcase_create("lbfgs");
    tcase_add_test(tc, lbfgs_finds_the_minimum_of_a_quadratic);
    tcase_add_test(tc, lbfgs_stops_at_max_iter);
    tcase_add_test(tc, lbfgs_reports_no_progress);
    tcase_add_test(tc, lbfgs_passes_failures_on);
    tcase_add_test(tc, lbfgs_allocation_failures_leak_nothing);
    return tc;
}
