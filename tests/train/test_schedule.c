/* Schedules against their closed forms at the points that matter. */
#include <math.h>

#include "suites.h"
#include "test_support.h"
#include "train/schedule.h"

START_TEST(cosine_with_warmup_hits_its_landmarks)
{
    /* VICReg's shape: 10 warmup steps, cosine to 0.001 base at 110. */
    selfsup__cosine_schedule s;
    const double base = 0.4, final = 0.0004;
    ss_assert_ok(selfsup__cosine_schedule_init(&s, base, final, 10, 110));
    ss_assert_close(selfsup__cosine_schedule_at(&s, 0), 0.0, 0, 0);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 1), base / 10, 0, 1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 5), base / 2, 0, 1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 9), 0.9 * base, 0, 1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 10), base, 0, 1e-15);
    /* a quarter of the cosine: (1 + cos(pi/4)) / 2 of the way */
    ss_assert_close(selfsup__cosine_schedule_at(&s, 35),
                    final + (base - final) * (1 + sqrt(0.5)) / 2, 0, 1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 60), (base + final) / 2, 0,
                    1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 85),
                    final + (base - final) * (1 - sqrt(0.5)) / 2, 0, 1e-12);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 110), final, 0, 1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 5000), final, 0, 0);
    ss_assert_close(selfsup__cosine_schedule_at(&s, -7), 0.0, 0, 0);
    /* rises through warmup, never rises after it */
    for (int64_t k = 1; k <= 120; k++) {
        double a = selfsup__cosine_schedule_at(&s, k - 1);
        double b = selfsup__cosine_schedule_at(&s, k);
        if (k <= 10)
            ck_assert(b > a);
        else
            ck_assert(b <= a);
        ck_assert(b >= final && b <= base);
    }
}
END_TEST

START_TEST(cosine_without_warmup)
{
    /* SimSiam: lr = base (1 + cos(pi k / K)) / 2, no warmup, final 0. */
    selfsup__cosine_schedule s;
    ss_assert_ok(selfsup__cosine_schedule_init(&s, 0.1, 0, 0, 100));
    ss_assert_close(selfsup__cosine_schedule_at(&s, 0), 0.1, 0, 0);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 50), 0.05, 0, 1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 100), 0.0, 0, 0);
    /* warmup == total: a ramp, then final */
    ss_assert_ok(selfsup__cosine_schedule_init(&s, 2, 0.5, 4, 4));
    ss_assert_close(selfsup__cosine_schedule_at(&s, 2), 1, 0, 1e-15);
    ss_assert_close(selfsup__cosine_schedule_at(&s, 4), 0.5, 0, 0);
}
END_TEST

START_TEST(cosine_arguments_are_checked)
{
    selfsup__cosine_schedule s = {7, 7, 7, 7};
    ss_assert_fails(selfsup__cosine_schedule_init(&s, -1, 0, 0, 10),
                    SELFSUP_ERR_INVALID_ARGUMENT, "base = -1");
    ss_assert_fails(selfsup__cosine_schedule_init(&s, NAN, 0, 0, 10),
                    SELFSUP_ERR_INVALID_ARGUMENT, "base = nan");
    ss_assert_fails(selfsup__cosine_schedule_init(&s, 1, INFINITY, 0, 10),
                    SELFSUP_ERR_INVALID_ARGUMENT, "final = inf");
    ss_assert_fails(selfsup__cosine_schedule_init(&s, 1, 0, 0, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "total = 0");
    ss_assert_fails(selfsup__cosine_schedule_init(&s, 1, 0, 11, 10),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "warmup = 11 is outside [0, total = 10]");
    ss_assert_fails(selfsup__cosine_schedule_init(&s, 1, 0, -1, 10),
                    SELFSUP_ERR_INVALID_ARGUMENT, "warmup = -1");
    ss_assert_fails(selfsup__cosine_schedule_init(NULL, 1, 0, 0, 10),
                    SELFSUP_ERR_INVALID_ARGUMENT, "s is NULL");
    ck_assert(s.base == 7 && s.total == 7); /* untouched */
}
END_TEST

START_TEST(byol_tau_rises_to_one)
{
    ss_assert_close(selfsup__byol_tau(0.996, 0, 1000), 0.996, 0, 1e-15);
    ss_assert_close(selfsup__byol_tau(0.996, 500, 1000), 0.998, 0, 1e-15);
    ss_assert_close(selfsup__byol_tau(0.996, 1000, 1000), 1.0, 0, 0);
    ss_assert_close(selfsup__byol_tau(0.996, 250, 1000),
                    1 - 0.004 * (1 + sqrt(0.5)) / 2, 0, 1e-15);
    ss_assert_close(selfsup__byol_tau(0.99, 2000, 1000), 1.0, 0, 0);
    ss_assert_close(selfsup__byol_tau(0.99, -5, 1000), 0.99, 0, 1e-15);
    ss_assert_close(selfsup__byol_tau(0.99, 3, 0), 0.99, 0, 0);
    for (int64_t k = 1; k <= 100; k++)
        ck_assert(selfsup__byol_tau(0.9, k, 100) >
                  selfsup__byol_tau(0.9, k - 1, 100));
}
END_TEST

START_TEST(linear_scaling_rule)
{
    ss_assert_close(selfsup__scaled_lr(0.05, 512), 0.1, 0, 1e-15);
    ss_assert_close(selfsup__scaled_lr(0.3, 256), 0.3, 0, 0);
    ss_assert_close(selfsup__scaled_lr(4.8 / 16, 4096), 4.8, 0, 1e-15);
}
END_TEST

TCase *schedule_tcase(void)
{
    TCase *tc = tcase_create("schedule");
    tcase_add_test(tc, cosine_with_warmup_hits_its_landmarks);
    tcase_add_test(tc, cosine_without_warmup);
    tcase_add_test(tc, cosine_arguments_are_checked);
    tcase_add_test(tc, byol_tau_rises_to_one);
    tcase_add_test(tc, linear_scaling_rule);
    return tc;
}
