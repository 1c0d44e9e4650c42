/* Every objective against tests/data/objectives.txt: loss, gradients and
 * diagnostics from the reference formulas in PyTorch autograd (float64,
 * targets detached), on the same float32 inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "suites.h"

/* Tolerances. The library keeps float32 storage (normalised rows,
 * similarity / covariance / cross-correlation matrices from oneDNN's
 * SGEMM) and accumulates long sums in double; the reference is float64
 * throughout. A float32 product of K terms carries a relative error of a
 * few 1e-7 (unit roundoff 6e-8 times a small multiple), and the losses
 * combine O(1) of them, so: */
#define LOSS_RTOL 1e-6 /* loss, float32 result; seen <= 1.1e-7 */
#define GRAD_ROW_REL                                                           \
    3e-6 /* gradient, relative to its row's max; seen                          \
            <= 6.3e-7 (simclr at temperature 0.1) */
#define GRAD_RTOL 1e-5
#define DIAG_RTOL 1e-5 /* seen <= 4e-6, relative to small means */

static void check_case(const golden_case *c, const ss_golden *g)
{
    selfsup_tensor *online[MAX_TEST_VIEWS], *target[MAX_TEST_VIEWS];
    selfsup_tensor *grad[MAX_TEST_VIEWS];
    golden_inputs(g, c, online, target);
    for (int v = 0; v < c->views; v++)
        grad[v] = tensor_2d(c->n, c->d, NULL);
    selfsup_objective *o = objective(c->spec);
    char name[160];

    float loss = NAN;
    ss_assert_ok(selfsup_objective_compute(
        o, c->views, (const selfsup_tensor *const *)online,
        c->target ? (const selfsup_tensor *const *)target : NULL, &loss, grad));
    snprintf(name, sizeof name, "%s_loss", c->name);
    double want = ss_golden_scalar(g, name);
    ck_assert_msg(fabs(loss - want) <= 1e-7 + LOSS_RTOL * fabs(want),
                  "%s: loss %.9g, reference %.9g", c->name, loss, want);
    for (int v = 0; v < c->views; v++) {
        snprintf(name, sizeof name, "%s_grad%d", c->name, v);
        const float *ref = ss_golden_get(g, name, c->n * c->d);
        assert_rows_close(selfsup_tensor_data(grad[v]), ref, c->n, c->d,
                          GRAD_ROW_REL, GRAD_RTOL);
    }

    /* diagnostics: the double loss, the collapse monitor, the own terms */
    double value;
    ss_assert_ok(selfsup_objective_diagnostic(o, "loss", &value));
    ss_assert_close(value, want, 1e-8, LOSS_RTOL);
    ss_assert_close(value, loss, 1e-7, 1e-6); /* the same number, rounded */
    ss_assert_ok(selfsup_objective_diagnostic(o, "collapse_std", &value));
    snprintf(name, sizeof name, "%s_collapse_std", c->name);
    ss_assert_close(value, ss_golden_scalar(g, name), 1e-9, DIAG_RTOL);
    int count = selfsup_objective_diagnostic_count(o);
    ck_assert_int_ge(count, 3);
    for (int i = 2; i < count; i++) {
        const char *diag = selfsup_objective_diagnostic_name(o, i);
        snprintf(name, sizeof name, "%s_diag_%s", c->name, diag);
        ck_assert_msg(ss_golden_has(g, name), "no reference for %s", name);
        ss_assert_ok(selfsup_objective_diagnostic(o, diag, &value));
        ck_assert_msg(fabs(value - ss_golden_scalar(g, name)) <=
                          1e-6 + DIAG_RTOL * fabs(ss_golden_scalar(g, name)),
                      "%s: %s = %.9g, reference %.9g", c->name, diag, value,
                      ss_golden_scalar(g, name));
    }

    /* the loss-only path gives the same loss */
    float loss_only = NAN;
    ss_assert_ok(selfsup_objective_compute(
        o, c->views, (const selfsup_tensor *const *)online,
        c->target ? (const selfsup_tensor *const *)target : NULL, &loss_only,
        NULL));
    ck_assert_msg(loss_only == loss, "%s: loss only %.9g, with grads %.9g",
                  c->name, loss_only, loss);

    selfsup_objective_destroy(o);
    tensors_free(online, c->views);
    tensors_free(grad, c->views);
    if (c->target)
        tensors_free(target, c->views);
}

START_TEST(objective_matches_reference)
{
    const ss_golden *g = golden();
    check_case(&golden_cases[_i], g);
}
END_TEST

/* GroCo without target uses online as the target, but as a constant: the
 * gradient must be autograd's with those uses detached, and measurably not
 * the gradient without detaching (which the reference also wrote). */
START_TEST(groco_stops_gradient_through_online_as_target)
{
    const ss_golden *g = golden();
    int checked = 0;
    for (int k = 0; k < golden_case_count; k++) {
        const golden_case *c = &golden_cases[k];
        if (strncmp(c->name, "groco", 5) != 0 || c->target)
            continue;
        selfsup_tensor *online[MAX_TEST_VIEWS], *target[MAX_TEST_VIEWS];
        selfsup_tensor *grad[MAX_TEST_VIEWS];
        golden_inputs(g, c, online, target);
        for (int v = 0; v < c->views; v++)
            grad[v] = tensor_2d(c->n, c->d, NULL);
        selfsup_objective *o = objective(c->spec);
        float loss;
        ss_assert_ok(selfsup_objective_compute(
            o, c->views, (const selfsup_tensor *const *)online, NULL, &loss,
            grad));
        double off_full = 0, scale = 0;
        for (int v = 0; v < c->views; v++) {
            char name[128];
            snprintf(name, sizeof name, "%s_fullgrad%d", c->name, v);
            const float *full = ss_golden_get(g, name, c->n * c->d);
            const float *got = selfsup_tensor_data(grad[v]);
            for (int64_t i = 0; i < c->n * c->d; i++) {
                off_full = fmax(off_full, fabs(got[i] - full[i]));
                scale = fmax(scale, fabs(full[i]));
            }
        }
        /* the two differ by far more than the golden tolerance */
        ck_assert_msg(off_full > 0.05 * scale,
                      "%s: gradient equals the undetached one (%.3g vs %.3g)",
                      c->name, off_full, scale);
        checked++;
        selfsup_objective_destroy(o);
        tensors_free(online, c->views);
        tensors_free(grad, c->views);
    }
    ck_assert_int_eq(checked, 4);
}
END_TEST

/* The result is computed into scratch, so the gradient may overwrite the
 * very tensors it is computed from. */
START_TEST(gradient_may_alias_the_inputs)
{
    const ss_golden *g = golden();
    static const char *const names[] = {"byol_a", "simclr_a", "vicreg_a",
                                        "groco_b"};
    for (int k = 0; k < golden_case_count; k++) {
        const golden_case *c = &golden_cases[k];
        int wanted = 0;
        for (int q = 0; q < 4; q++)
            wanted |= strcmp(c->name, names[q]) == 0;
        if (!wanted)
            continue;
        selfsup_tensor *online[MAX_TEST_VIEWS], *target[MAX_TEST_VIEWS];
        golden_inputs(g, c, online, target);
        selfsup_objective *o = objective(c->spec);
        float loss;
        ss_assert_ok(selfsup_objective_compute(
            o, c->views, (const selfsup_tensor *const *)online,
            c->target ? (const selfsup_tensor *const *)target : NULL, &loss,
            online));
        for (int v = 0; v < c->views; v++) {
            char name[128];
            snprintf(name, sizeof name, "%s_grad%d", c->name, v);
            assert_rows_close(selfsup_tensor_data(online[v]),
                              ss_golden_get(g, name, c->n * c->d), c->n, c->d,
                              GRAD_ROW_REL, GRAD_RTOL);
        }
        selfsup_objective_destroy(o);
        tensors_free(online, c->views);
        if (c->target)
            tensors_free(target, c->views);
    }
}
END_TEST

/* Reproducibility as design.md promises it: the same inputs give the same
 * bits on the same thread count (static schedules, per-row results summed
 * in a fixed order). Across thread counts oneDNN's SGEMM may split its
 * sums differently, so 1 and 2 threads agree to float precision only. The
 * batch is large enough for every parallel loop to run in parallel on 2
 * threads, which also checks those paths against the serial ones. */
START_TEST(results_are_reproducible)
{
    enum { N = 128, D = 256, ND = N * D };
    static const char *const specs[] = {"byol",   "simsiam", "vicreg",
                                        "simclr", "barlow",  "groco:topk=5"};
    float *x = malloc(sizeof(float) * 4 * ND);
    float *grads = malloc(sizeof(float) * 3 * 2 * ND);
    for (int v = 0; v < 4; v++)
        fill_normal(x + v * ND, ND, 100 + (uint64_t)v);
    selfsup_tensor *on[2] = {tensor_2d(N, D, x), tensor_2d(N, D, x + ND)};
    selfsup_tensor *tg[2] = {tensor_2d(N, D, x + 2 * ND),
                             tensor_2d(N, D, x + 3 * ND)};
    selfsup_tensor *gr[2] = {tensor_2d(N, D, NULL), tensor_2d(N, D, NULL)};
    for (int s = 0; s < 6; s++) {
        selfsup_objective *o = objective(specs[s]);
        int need_target =
            selfsup_objective_target_rule(o) == SELFSUP_TARGET_REQUIRED;
        float loss[3];
        static const int threads[3] = {2, 2, 1};
        for (int t = 0; t < 3; t++) {
            ss_assert_ok(selfsup_set_num_threads(threads[t]));
            ss_assert_ok(selfsup_objective_compute(
                o, 2, (const selfsup_tensor *const *)on,
                need_target ? (const selfsup_tensor *const *)tg : NULL,
                &loss[t], gr));
            for (int v = 0; v < 2; v++)
                ss_assert_ok(
                    selfsup_tensor_read(gr[v], grads + (t * 2 + v) * ND, ND));
        }
        ss_assert_ok(selfsup_set_num_threads(0));
        ck_assert_msg(loss[0] == loss[1] && memcmp(grads, grads + 2 * ND,
                                                   sizeof(float) * 2 * ND) == 0,
                      "%s: two runs on 2 threads differ", specs[s]);
        ss_assert_close(loss[2], loss[0], 0, 1e-6);
        assert_rows_close(grads + 4 * ND, grads, 2 * N, D, GRAD_ROW_REL,
                          GRAD_RTOL);
        selfsup_objective_destroy(o);
    }
    tensors_free(on, 2);
    tensors_free(tg, 2);
    tensors_free(gr, 2);
    free(x);
    free(grads);
}
END_TEST

TCase *golden_tcase(void)
{
    TCase *tc = tcase_create("golden");
    tcase_add_unchecked_fixture(tc, golden_setup, golden_teardown);
    tcase_add_loop_test(tc, objective_matches_reference, 0, golden_case_count);
    tcase_add_test(tc, groco_stops_gradient_through_online_as_target);
    tcase_add_test(tc, gradient_may_alias_the_inputs);
    tcase_add_test(tc, results_are_reproducible);
    return tc;
}
