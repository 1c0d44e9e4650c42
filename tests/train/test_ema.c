/* The target-network EMA: exact arithmetic, edge values, threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "suites.h"
#include "test_support.h"
#include "train/ema.h"

static void fill(float *x, int64_t n, uint64_t seed)
{
    selfsup__rng r;
    selfsup__rng_init(&r, seed, 7);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)selfsup__rng_normal(&r);
}

START_TEST(update_is_exact)
{
    enum { N = 100003 };
    float *target = malloc(N * sizeof(float));
    float *online = malloc(N * sizeof(float));
    float *want = malloc(N * sizeof(float));
    fill(target, N, 1);
    fill(online, N, 2);
    const double tau = 0.996;
    for (int i = 0; i < N; i++) {
        /* BYOL's x + (1 - tau)(y - x), in float */
        want[i] = target[i] + (float)(1 - tau) * (online[i] - target[i]);
        /* and the same as tau x + (1 - tau) y up to float rounding */
        double exact = tau * target[i] + (1 - tau) * (double)online[i];
        ss_assert_close(want[i], exact, 1e-7, 1e-6);
    }
    ss_assert_ok(selfsup__ema_update(target, online, N, tau));
    ck_assert(memcmp(target, want, N * sizeof(float)) == 0);
    free(target);
    free(online);
    free(want);
}
END_TEST

START_TEST(tau_one_and_zero)
{
    float target[5] = {1, -2, 3.5f, 0, 1e-30f};
    float online[5] = {4, 5, -6, 7, 8};
    float before[5];
    memcpy(before, target, sizeof before);
    ss_assert_ok(selfsup__ema_update(target, online, 5, 1.0));
    ck_assert(memcmp(target, before, sizeof before) == 0);
    ss_assert_ok(selfsup__ema_update(target, online, 5, 0.0));
    for (int i = 0; i < 5; i++) /* t + (o - t) rounds once at most */
        ss_assert_close(target[i], online[i], 0, 1.2e-7);
    /* repeated averaging converges geometrically: (1/2)^40 of the gap */
    float t[2] = {0, 100}, o[2] = {1, -100};
    for (int k = 0; k < 40; k++)
        ss_assert_ok(selfsup__ema_update(t, o, 2, 0.5));
    ss_assert_close(t[0], 1, 1e-6, 0);
    ss_assert_close(t[1], -100, 1e-4, 0);
}
END_TEST

START_TEST(threads_do_not_change_bits)
{
    enum { N = 300001 };
    float *a = malloc(N * sizeof(float)), *b = malloc(N * sizeof(float));
    float *online = malloc(N * sizeof(float));
    fill(a, N, 3);
    memcpy(b, a, N * sizeof(float));
    fill(online, N, 4);
    ss_assert_ok(selfsup_set_num_threads(1));
    ss_assert_ok(selfsup__ema_update(a, online, N, 0.99));
    ss_assert_ok(selfsup_set_num_threads(2));
    ss_assert_ok(selfsup__ema_update(b, online, N, 0.99));
    ss_assert_ok(selfsup_set_num_threads(0));
    ck_assert(memcmp(a, b, N * sizeof(float)) == 0);
    free(a);
    free(b);
    free(online);
}
END_TEST

START_TEST(arguments_are_checked)
{
    float t[4] = {1, 2, 3, 4}, o[4] = {0};
    ss_assert_fails(selfsup__ema_update(t, o, 4, 1.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "tau = 1.5");
    ss_assert_fails(selfsup__ema_update(t, o, 4, -0.1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "tau = -0.1");
    ss_assert_fails(selfsup__ema_update(t, o, 4, NAN),
                    SELFSUP_ERR_INVALID_ARGUMENT, "tau = nan");
    ss_assert_fails(selfsup__ema_update(t, o, -1, 0.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "n = -1");
    ss_assert_fails(selfsup__ema_update(NULL, o, 4, 0.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "target");
    ss_assert_fails(selfsup__ema_update(t, NULL, 4, 0.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "online");
    ss_assert_fails(selfsup__ema_update(t, t + 1, 3, 0.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "overlap");
    ck_assert(t[0] == 1 && t[3] == 4);
    ss_assert_ok(selfsup__ema_update(t, o, 0, 0.5));
}
END_TEST

TCase *ema_tcase(void)
{
    TCase *tc = tcase_create("ema");
    tcase_add_test(tc, update_is_exact);
    tcase_add_test(tc, tau_one_and_zero);
    tcase_add_test(tc, threads_do_not_change_bits);
    tcase_add_test(tc, arguments_are_checked);
    return tc;
}
