/* The symmetric eigensolver: numpy's eigh on a matrix with separated
 * eigenvalues (tests/reference/whitening.py), and the invariants
 * A V = V diag(values), V^T V = I, descending values and the sign rule on
 * matrices numpy was not asked about (large, repeated, zero). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/symeig.h"
#include "suites.h"
#include "test_support.h"

/* max |A V - V diag(values)| and max |V^T V - I|, against the A kept. */
static void assert_decomposes(const double *a, const double *v,
                              const double *values, int64_t n, double tol)
{
    double scale = 0;
    for (int64_t i = 0; i < n * n; i++)
        scale = fmax(scale, fabs(a[i]));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double av = 0, vv = 0;
            for (int64_t t = 0; t < n; t++) {
                av += a[i * n + t] * v[t * n + j];
                vv += v[t * n + i] * v[t * n + j];
            }
            ck_assert_msg(fabs(av - v[i * n + j] * values[j]) <=
                              tol * fmax(scale, 1),
                          "(A V - V L)[%lld][%lld] = %g", (long long)i,
                          (long long)j, av - v[i * n + j] * values[j]);
            ck_assert_msg(fabs(vv - (i == j)) <= tol,
                          "(V^T V)[%lld][%lld] = %.17g", (long long)i,
                          (long long)j, vv);
        }
    for (int64_t j = 0; j + 1 < n; j++)
        ck_assert_msg(values[j] >= values[j + 1], "values[%lld] = %g < %g",
                      (long long)j, values[j], values[j + 1]);
    for (int64_t j = 0; j < n; j++) {
        int64_t big = 0;
        for (int64_t r = 1; r < n; r++)
            if (fabs(v[r * n + j]) > fabs(v[big * n + j]))
                big = r;
        ck_assert_msg(v[big * n + j] > 0, "vector %lld's largest entry < 0",
                      (long long)j);
    }
}

static void decompose_and_check(const double *a, int64_t n, double tol)
{
    double *v = malloc((size_t)(n * n) * sizeof *v);
    double *values = malloc((size_t)n * sizeof *values);
    ck_assert(v && values);
    memcpy(v, a, (size_t)(n * n) * sizeof *v);
    ss_assert_ok(selfsup__symeig(v, n, values, "test"));
    assert_decomposes(a, v, values, n, tol);
    free(v);
    free(values);
}

START_TEST(matches_numpy)
{
    ss_golden *g = ss_golden_load("whitening.txt");
    enum { N = 9 };
    const float *ga = ss_golden_get(g, "eig_a", N * N);
    const float *gv = ss_golden_get(g, "eig_values", N);
    const float *gq = ss_golden_get(g, "eig_vectors", N * N);
    double a[N * N], v[N * N], values[N];
    for (int i = 0; i < N * N; i++)
        a[i] = v[i] = ga[i];
    /* only the lower triangle is read: spoil the upper one */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            v[i * N + j] = 1e30;
    ss_assert_ok(selfsup__symeig(v, N, values, "test"));
    /* The golden matrix was rounded to float32 (relative 6e-8, |A| < 8):
     * eigenvalues move by at most |dA| ~ 5e-7, and eigenvectors by |dA|
     * over the smallest gap (0.5), 1e-6. */
    for (int j = 0; j < N; j++)
        ck_assert_msg(fabs(values[j] - gv[j]) < 2e-6, "values[%d] %.9g vs %.9g",
                      j, values[j], (double)gv[j]);
    for (int i = 0; i < N * N; i++)
        ck_assert_msg(fabs(v[i] - gq[i]) < 1e-5, "vectors[%d] %.9g vs %.9g", i,
                      v[i], (double)gq[i]);
    assert_decomposes(a, v, values, N, 1e-12);
    ss_golden_free(g);
}
END_TEST

/* A covariance of the size whitening meets (a few hundred dimensions),
 * with the fast-decaying spectrum of real features. */
START_TEST(large_matrix_decomposes)
{
    enum { N = 300, M = 900 };
    double *x = malloc((size_t)(N * M) * sizeof *x);
    double *a = calloc((size_t)(N * N), sizeof *a);
    ck_assert(x && a);
    uint64_t state = 12345;
    for (int i = 0; i < N * M; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(state >> 11) / 9007199254740992.0 - 0.5;
        x[i] = u * exp(-(double)(i / M) / 40.0);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0;
            for (int t = 0; t < M; t++)
                s += x[i * M + t] * x[j * M + t];
            a[i * N + j] = a[j * N + i] = s;
        }
    decompose_and_check(a, N, 1e-10);
    free(x);
    free(a);
}
END_TEST

START_TEST(degenerate_matrices)
{
    /* 1 x 1 */
    double one = -3.5, value;
    ss_assert_ok(selfsup__symeig(&one, 1, &value, "test"));
    ck_assert(value == -3.5 && one == 1);
    /* identity, zero, repeated values with couplings, 2 x 2 */
    enum { N = 6 };
    double a[N * N];
    for (int kind = 0; kind < 4; kind++) {
        memset(a, 0, sizeof a);
        for (int i = 0; i < N; i++) {
            if (kind == 0)
                a[i * N + i] = 1;
            if (kind == 2)
                a[i * N + i] = i < 3 ? 2 : -1;
        }
        if (kind == 2)
            a[1 * N + 0] = a[0 * N + 1] = 1e-9;
        if (kind == 3) {
            double b[4] = {1e-300, 2e-300, 2e-300, -1e-300};
            decompose_and_check(b, 2, 1e-12);
            continue;
        }
        decompose_and_check(a, N, 1e-12);
    }
}
END_TEST

START_TEST(non_finite_is_refused)
{
    double a[4] = {1, 0, NAN, 2}, values[2];
    ss_assert_fails(selfsup__symeig(a, 2, values, "test"), SELFSUP_ERR_NUMERIC,
                    "entry (1, 0)");
    /* the upper triangle is never read */
    double b[4] = {1, INFINITY, 0.5, 2};
    ss_assert_ok(selfsup__symeig(b, 2, values, "test"));
}
END_TEST

static selfsup_status decompose(void *ctx)
{
    (void)ctx;
    double a[9] = {2, 1, 0, 1, 3, 1, 0, 1, 4}, values[3];
    return selfsup__symeig(a, 3, values, "test");
}

START_TEST(allocation_failures_are_clean)
{
    ss_sweep_alloc_failures(decompose, NULL, SELFSUP_OK);
}
END_TEST

TCase *symeig_tcase(void)
{
    TCase *tc = tcase_create("symeig");
    tcase_add_test(tc, matches_numpy);
    tcase_add_test(tc, large_matrix_decomposes);
    tcase_add_test(tc, degenerate_matrices);
    tcase_add_test(tc, non_finite_is_refused);
    tcase_add_test(tc, allocation_failures_are_clean);
    return tc;
}
