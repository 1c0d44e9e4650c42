/* The effective rank (RankMe) against numpy's singular values
 * (tests/reference/rankme.py), and the invariants that make it a collapse
 * monitor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "test_support.h"

static selfsup_tensor *golden_matrix(const ss_golden *g, const char *name,
                                     int64_t rows, int64_t cols)
{
    const int64_t dims[2] = {rows, cols};
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 2, dims));
    ss_assert_ok(selfsup_tensor_write(t, ss_golden_get(g, name, rows * cols),
                                      rows * cols));
    return t;
}

/* numpy sums the singular values of the float32 rows in float64; the
 * library takes them from the Gram matrix's eigenvalues, also in double,
 * so only the square roots of tiny eigenvalues (a collapsed case's) differ
 * at the 1e-6 level. */
START_TEST(matches_numpy)
{
    static const struct {
        const char *name;
        int64_t rows, cols;
    } CASES[] = {{"full", 300, 16},
                 {"rank4", 300, 16},
                 {"collapsed", 300, 16},
                 {"wide", 8, 20}};
    ss_golden *g = ss_golden_load("rankme.txt");
    for (size_t c = 0; c < sizeof CASES / sizeof *CASES; c++) {
        char xname[64], rname[64];
        snprintf(xname, sizeof xname, "rankme_%s_x", CASES[c].name);
        snprintf(rname, sizeof rname, "rankme_%s", CASES[c].name);
        selfsup_tensor *x =
            golden_matrix(g, xname, CASES[c].rows, CASES[c].cols);
        double rank = -1;
        ss_assert_ok(selfsup_effective_rank(x, &rank));
        ss_assert_close(rank, ss_golden_scalar(g, rname), 1e-6, 1e-6);
        selfsup_tensor_destroy(x);
    }
    ss_golden_free(g);
}
END_TEST

/* Scaling the features leaves the rank alone; duplicating a direction
 * adds nothing; all-zero features have rank 0; thread counts agree. */
START_TEST(invariants_and_errors)
{
    const int64_t dims[2] = {64, 6};
    selfsup_tensor *x = NULL;
    ss_assert_ok(selfsup_tensor_create(&x, 2, dims));
    double zero = -1;
    ss_assert_ok(selfsup_effective_rank(x, &zero));
    ck_assert(zero == 0.0);
    ss_assert_ok(selfsup_tensor_fill_normal(x, 3, 0.0f, 1.0f));
    double r1, r2, r3;
    ss_assert_ok(selfsup_effective_rank(x, &r1));
    ck_assert(r1 > 5.0 && r1 < 6.0);
    float *v = malloc(64 * 6 * sizeof *v);
    ss_assert_ok(selfsup_tensor_read(x, v, 64 * 6));
    for (int i = 0; i < 64 * 6; i++)
        v[i] *= 1000.0f;
    ss_assert_ok(selfsup_tensor_write(x, v, 64 * 6));
    ss_assert_ok(selfsup_effective_rank(x, &r2));
    ss_assert_close(r2, r1, 1e-9, 1e-9);
    /* one direction for every row: rank 1 (plus the epsilons) */
    for (int r = 0; r < 64; r++)
        for (int c = 0; c < 6; c++)
            v[r * 6 + c] = (float)(r + 1) * (float)(c + 1);
    ss_assert_ok(selfsup_tensor_write(x, v, 64 * 6));
    ss_assert_ok(selfsup_effective_rank(x, &r3));
    ss_assert_close(r3, 1.0, 1e-4, 0);
    int threads = selfsup_get_num_threads();
    ss_assert_ok(selfsup_set_num_threads(2));
    double r4;
    ss_assert_ok(selfsup_effective_rank(x, &r4));
    ss_assert_ok(selfsup_set_num_threads(threads));
    ck_assert(r4 == r3);

    const int64_t d3[3] = {2, 3, 4};
    selfsup_tensor *cube = NULL;
    ss_assert_ok(selfsup_tensor_create(&cube, 3, d3));
    double rank = -7;
    ss_assert_fails(selfsup_effective_rank(cube, &rank), SELFSUP_ERR_SHAPE,
                    "features");
    ss_assert_fails(selfsup_effective_rank(NULL, &rank),
                    SELFSUP_ERR_INVALID_ARGUMENT, "features");
    ss_assert_fails(selfsup_effective_rank(x, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "rank");
    v[5] = NAN;
    ss_assert_ok(selfsup_tensor_write(x, v, 64 * 6));
    ss_assert_fails(selfsup_effective_rank(x, &rank), SELFSUP_ERR_NUMERIC,
                    "features");
    ck_assert(rank == -7);
    free(v);
    selfsup_tensor_destroy(cube);
    selfsup_tensor_destroy(x);
}
END_TEST

TCase *rankme_tcase(void)
{
    TCase *tc = tcase_create("rankme");
    tcase_add_test(tc, matches_numpy);
    tcase_add_test(tc, invariants_and_errors);
    return tc;
}
