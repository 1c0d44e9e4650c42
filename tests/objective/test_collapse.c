/* The collapse monitor: the std over the batch of the l2-normalised rows,
 * averaged over dimensions. */
#include <math.h>
#include <stdlib.h>

#include "helpers.h"
#include "objective/collapse.h"
#include "suites.h"

START_TEST(matches_reference)
{
    /* torch: F.normalize(z).std(dim=0).mean() for the inputs of a case */
    const ss_golden *g = golden();
    const float *z = ss_golden_get(g, "vicreg_b_online0", 32 * 64);
    double value;
    ss_assert_ok(selfsup__collapse_std(z, 32, 64, &value));
    ss_assert_close(value, ss_golden_scalar(g, "vicreg_b_collapse_std"), 0,
                    1e-6);
}
END_TEST

START_TEST(zero_when_every_row_points_the_same_way)
{
    enum { N = 50, D = 7 };
    float z[N * D], u[D];
    fill_normal(u, D, 3);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            z[i * D + j] = u[j] * (0.01f + (float)i); /* any positive scale */
    double value = -1;
    ss_assert_ok(selfsup__collapse_std(z, N, D, &value));
    /* only the rounding of x / |x| to float differs between rows */
    ck_assert_msg(value >= 0 && value < 1e-7, "collapse_std = %g", value);
}
END_TEST

/* Rows +e_j and -e_j for every j (N = 2D): each column holds one 1, one -1
 * and zeros, so its mean is 0 and its unbiased std sqrt(2 / (2D - 1)). */
START_TEST(known_spread)
{
    enum { D = 9, N = 2 * D };
    float z[N * D] = {0};
    for (int j = 0; j < D; j++) {
        z[(2 * j) * D + j] = 3.0f;
        z[(2 * j + 1) * D + j] = -0.5f;
    }
    double value;
    ss_assert_ok(selfsup__collapse_std(z, N, D, &value));
    ss_assert_close(value, sqrt(2.0 / (2.0 * D - 1.0)), 1e-12, 1e-9);
}
END_TEST

/* Gaussian rows spread over the sphere: each coordinate of a unit vector
 * has variance 1/D, so the monitor is close to 1/sqrt(D). */
START_TEST(about_inverse_sqrt_d_when_healthy)
{
    enum { N = 4000, D = 64 };
    float *z = malloc(sizeof(float) * N * D);
    fill_normal(z, N * D, 11);
    double value;
    ss_assert_ok(selfsup__collapse_std(z, N, D, &value));
    ss_assert_close(value, 1.0 / sqrt((double)D), 0, 0.02);
    free(z);
}
END_TEST

START_TEST(refuses_bad_arguments)
{
    float z[4] = {1, 2, 3, 4};
    double value = -3;
    ss_assert_fails(selfsup__collapse_std(NULL, 2, 2, &value),
                    SELFSUP_ERR_INVALID_ARGUMENT, "z is NULL");
    ss_assert_fails(selfsup__collapse_std(z, 2, 2, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ss_assert_fails(selfsup__collapse_std(z, 1, 4, &value),
                    SELFSUP_ERR_INVALID_ARGUMENT, "n = 1, d = 4");
    ss_assert_fails(selfsup__collapse_std(z, 4, 0, &value),
                    SELFSUP_ERR_INVALID_ARGUMENT, "d = 0");
    ck_assert(value == -3);
}
END_TEST

TCase *collapse_tcase(void)
{
    TCase *tc = tcase_create("collapse");
    tcase_add_unchecked_fixture(tc, golden_setup, golden_teardown);
    tcase_add_test(tc, matches_reference);
    tcase_add_test(tc, zero_when_every_row_points_the_same_way);
    tcase_add_test(tc, known_spread);
    tcase_add_test(tc, about_inverse_sqrt_d_when_healthy);
    tcase_add_test(tc, refuses_bad_arguments);
    return tc;
}
