/* Every error path of the objective API: the status, a message naming the
 * offender, the documented precedence, and outputs left untouched. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "helpers.h"
#include "suites.h"

static void expect_create_error(const char *spec, const char *needle)
{
    selfsup_objective *o = (selfsup_objective *)(uintptr_t)0x77;
    ss_assert_fails(selfsup_objective_create(&o, spec),
                    SELFSUP_ERR_INVALID_ARGUMENT, needle);
    ck_assert_ptr_eq(o, (selfsup_objective *)(uintptr_t)0x77);
}

START_TEST(create_refuses_bad_specs)
{
    ss_assert_fails(selfsup_objective_create(NULL, "byol"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    expect_create_error(NULL, "spec is NULL");
    expect_create_error("", "is not a name");
    expect_create_error("byol:", "is not key=value");
    expect_create_error("moco", "unknown objective \"moco\" (known: byol, "
                                "simsiam, vicreg, simclr, barlow, groco)");
    expect_create_error("byol:temperature=1",
                        "byol: unknown key \"temperature\" (known keys: "
                        "none)");
    expect_create_error("simsiam:x=1", "unknown key \"x\"");
    expect_create_error("vicreg:sim=-1", "vicreg: sim = -1 is outside [0, ");
    expect_create_error("vicreg:var=abc", "var = \"abc\" is not a finite");
    expect_create_error("vicreg:cov=2e9", "cov = 2e+09 is outside");
    expect_create_error("vicreg:eps=0", "eps = 0 is outside (0, 1]");
    expect_create_error("vicreg:lambda=1",
                        "unknown key \"lambda\" (known keys: sim, var, cov, "
                        "eps)");
    expect_create_error("simclr:temperature=0",
                        "temperature = 0 is outside [0.0001, 10000]");
    expect_create_error("simclr:temperature=inf", "not a finite number");
    expect_create_error("simclr:temperature=0.5,temperature=1",
                        "\"temperature\" given twice");
    expect_create_error("barlow:lambda=-0.1", "lambda = -0.1 is outside");
    expect_create_error("barlow:eps=2", "eps = 2 is outside [0, 1]");
    expect_create_error("groco:topk=0", "topk = 0 is outside [1, 1000]");
    expect_create_error("groco:topk=1001", "topk = 1001 is outside");
    expect_create_error("groco:topk=2.5", "topk = \"2.5\" is not an integer");
    expect_create_error("groco:steepness=0", "steepness = 0 is outside (0, ");
    expect_create_error("groco:network=bubble",
                        "network = \"bubble\" is not one of odd_even, "
                        "bitonic");
    expect_create_error("groco:relax=gauss",
                        "relax = \"gauss\" is not one of cauchy, logistic, "
                        "optimal");
    expect_create_error("groco:tau=1",
                        "unknown key \"tau\" (known keys: topk, steepness, "
                        "network, relax)");
    selfsup_objective_destroy(NULL);
}
END_TEST

START_TEST(handle_queries)
{
    static const struct {
        const char *spec;
        selfsup_target_rule rule;
        int min, max, diag;
    } want[] = {{"byol", SELFSUP_TARGET_REQUIRED, 2, 2, 3},
                {"simsiam", SELFSUP_TARGET_REQUIRED, 2, 2, 3},
                {"vicreg", SELFSUP_TARGET_NONE, 2, 2, 6},
                {"simclr", SELFSUP_TARGET_NONE, 2, 2, 4},
                {"barlow", SELFSUP_TARGET_NONE, 2, 2, 4},
                {"groco", SELFSUP_TARGET_OPTIONAL, 2, 1015, 7},
                {"groco:topk=1000", SELFSUP_TARGET_OPTIONAL, 2, 25, 7}};
    for (int i = 0; i < 7; i++) {
        selfsup_objective *o = objective(want[i].spec);
        ck_assert_str_eq(selfsup_objective_name(o),
                         strncmp(want[i].spec, "groco", 5) == 0 ? "groco"
                                                                : want[i].spec);
        ck_assert_int_eq(selfsup_objective_target_rule(o), want[i].rule);
        ck_assert_int_eq(selfsup_objective_min_views(o), want[i].min);
        ck_assert_int_eq(selfsup_objective_max_views(o), want[i].max);
        ck_assert_int_eq(selfsup_objective_diagnostic_count(o), want[i].diag);
        ck_assert_str_eq(selfsup_objective_diagnostic_name(o, 0), "loss");
        ck_assert_str_eq(selfsup_objective_diagnostic_name(o, 1),
                         "collapse_std");
        ck_assert_ptr_null(selfsup_objective_diagnostic_name(o, -1));
        ck_assert_ptr_null(selfsup_objective_diagnostic_name(o, want[i].diag));
        selfsup_objective_destroy(o);
    }
    ck_assert_str_eq(selfsup_objective_name(NULL), "");
    ck_assert_int_eq(selfsup_objective_diagnostic_count(NULL), 0);
    ck_assert_int_eq(selfsup_objective_min_views(NULL), 0);
    ck_assert_int_eq(selfsup_objective_max_views(NULL), 0);
    ck_assert_int_eq(selfsup_objective_target_rule(NULL), SELFSUP_TARGET_NONE);
    ck_assert_ptr_null(selfsup_objective_diagnostic_name(NULL, 0));
}
END_TEST

/* A batch of 4 views (N, D) = (8, 16) with targets and gradient tensors
 * prefilled with a sentinel, to show that failures leave them alone. */
typedef struct fixture {
    selfsup_tensor *on[4], *tg[4], *gr[4];
    float loss;
} fixture;

static void fixture_make(fixture *f)
{
    float x[8 * 16];
    for (int v = 0; v < 4; v++) {
        fill_normal(x, 8 * 16, 50 + (uint64_t)v);
        f->on[v] = tensor_2d(8, 16, x);
        fill_normal(x, 8 * 16, 60 + (uint64_t)v);
        f->tg[v] = tensor_2d(8, 16, x);
        f->gr[v] = tensor_2d(8, 16, NULL);
        ss_assert_ok(selfsup_tensor_fill(f->gr[v], 42.0f));
    }
    f->loss = 123.0f;
}

static void fixture_free(fixture *f)
{
    tensors_free(f->on, 4);
    tensors_free(f->tg, 4);
    tensors_free(f->gr, 4);
}

static void assert_untouched(const fixture *f)
{
    ck_assert_msg(f->loss == 123.0f, "loss was written: %g", f->loss);
    for (int v = 0; v < 4; v++) {
        const float *g = selfsup_tensor_data(f->gr[v]);
        for (int i = 0; i < 8 * 16; i++)
            if (g[i] != 42.0f)
                ck_abort_msg("grad_online[%d][%d] was written", v, i);
    }
}

#define CON(a) ((const selfsup_tensor *const *)(a))

/* Runs a failing compute and checks status, message and untouched
 * outputs. */
#define EXPECT_COMPUTE_FAILS(o, views, online, target, grads, status, needle)  \
    do {                                                                       \
        ss_assert_fails(selfsup_objective_compute((o), (views), (online),      \
                                                  (target), &f.loss, (grads)), \
                        (status), (needle));                                   \
        assert_untouched(&f);                                                  \
    } while (0)

START_TEST(compute_refuses_bad_arguments)
{
    fixture f;
    fixture_make(&f);
    selfsup_objective *byol = objective("byol");
    selfsup_objective *vicreg = objective("vicreg");
    selfsup_objective *groco = objective("groco:topk=5");
    selfsup_objective *groco_big = objective("groco:topk=1000");

    ss_assert_fails(
        selfsup_objective_compute(NULL, 2, CON(f.on), CON(f.tg), &f.loss, f.gr),
        SELFSUP_ERR_INVALID_ARGUMENT, "o is NULL");
    EXPECT_COMPUTE_FAILS(byol, 2, NULL, CON(f.tg), f.gr,
                         SELFSUP_ERR_INVALID_ARGUMENT, "online is NULL");
    ss_assert_fails(
        selfsup_objective_compute(byol, 2, CON(f.on), CON(f.tg), NULL, f.gr),
        SELFSUP_ERR_INVALID_ARGUMENT, "loss is NULL");
    /* n_views */
    EXPECT_COMPUTE_FAILS(byol, 3, CON(f.on), CON(f.tg), f.gr, SELFSUP_ERR_SHAPE,
                         "n_views = 3, but byol takes 2 views");
    EXPECT_COMPUTE_FAILS(vicreg, 0, CON(f.on), NULL, f.gr, SELFSUP_ERR_SHAPE,
                         "n_views = 0, but vicreg takes 2 views");
    EXPECT_COMPUTE_FAILS(groco, 1, CON(f.on), NULL, f.gr, SELFSUP_ERR_SHAPE,
                         "n_views = 1, but groco takes 2 to 1020 views");
    EXPECT_COMPUTE_FAILS(groco_big, 26, CON(f.on), NULL, f.gr,
                         SELFSUP_ERR_SHAPE, "groco takes 2 to 25 views");
    /* online */
    selfsup_tensor *with_null[2] = {f.on[0], NULL};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(with_null), CON(f.tg), f.gr,
                         SELFSUP_ERR_INVALID_ARGUMENT, "online[1] is NULL");
    selfsup_tensor *flat = NULL, *cube = NULL;
    ss_assert_ok(selfsup_tensor_create(&flat, 1, (int64_t[]){128}));
    ss_assert_ok(selfsup_tensor_create(&cube, 3, (int64_t[]){8, 4, 4}));
    selfsup_tensor *flat0[2] = {flat, f.on[1]};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(flat0), CON(f.tg), f.gr,
                         SELFSUP_ERR_SHAPE,
                         "online[0] has shape (128), not (N, D)");
    selfsup_tensor *cube1[2] = {f.on[0], cube};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(cube1), CON(f.tg), f.gr,
                         SELFSUP_ERR_SHAPE,
                         "online[1] has shape (8, 4, 4), not (N, D)");
    selfsup_tensor *wide = tensor_2d(8, 32, NULL);
    selfsup_tensor *wide1[2] = {f.on[0], wide};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(wide1), CON(f.tg), f.gr,
                         SELFSUP_ERR_SHAPE,
                         "online[1] has shape (8, 32), not (8, 16)");
    selfsup_tensor *one_row[2] = {tensor_2d(1, 16, NULL),
                                  tensor_2d(1, 16, NULL)};
    EXPECT_COMPUTE_FAILS(vicreg, 2, CON(one_row), NULL, NULL, SELFSUP_ERR_SHAPE,
                         "online[0] has N = 1 rows; "
                         "vicreg needs N >= 2");
    selfsup_objective *groco8 = objective("groco:topk=8");
    EXPECT_COMPUTE_FAILS(groco8, 2, CON(f.on), NULL, f.gr, SELFSUP_ERR_SHAPE,
                         "topk = 8 needs N - 1 >= 8 negatives per anchor, "
                         "but N = 8");
    /* target */
    EXPECT_COMPUTE_FAILS(byol, 2, CON(f.on), NULL, f.gr,
                         SELFSUP_ERR_INVALID_ARGUMENT,
                         "target is NULL, but byol needs");
    static const char *const no_target[] = {"vicreg", "simclr", "barlow"};
    for (int i = 0; i < 3; i++) {
        selfsup_objective *o = objective(no_target[i]);
        EXPECT_COMPUTE_FAILS(o, 2, CON(f.on), CON(f.tg), f.gr,
                             SELFSUP_ERR_INVALID_ARGUMENT,
                             "target is given, but");
        selfsup_objective_destroy(o);
    }
    selfsup_tensor *tg_null[2] = {f.tg[0], NULL};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(f.on), CON(tg_null), f.gr,
                         SELFSUP_ERR_INVALID_ARGUMENT, "target[1] is NULL");
    selfsup_tensor *tg_wide[2] = {wide, f.tg[1]};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(f.on), CON(tg_wide), f.gr,
                         SELFSUP_ERR_SHAPE,
                         "target[0] has shape (8, 32), not (8, 16)");
    EXPECT_COMPUTE_FAILS(groco, 3, CON(f.on), CON(tg_null), f.gr,
                         SELFSUP_ERR_INVALID_ARGUMENT, "target[1] is NULL");
    /* gradients */
    selfsup_tensor *gr_null[2] = {f.gr[0], NULL};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(f.on), CON(f.tg), gr_null,
                         SELFSUP_ERR_INVALID_ARGUMENT,
                         "grad_online[1] is NULL");
    selfsup_tensor *gr_wide[2] = {wide, f.gr[1]};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(f.on), CON(f.tg), gr_wide,
                         SELFSUP_ERR_SHAPE,
                         "grad_online[0] has shape (8, 32), not (8, 16)");
    /* NaN / Inf */
    float x[8 * 16];
    ss_assert_ok(selfsup_tensor_read(f.on[1], x, 128));
    x[37] = NAN;
    selfsup_tensor *nan1[2] = {f.on[0], tensor_2d(8, 16, x)};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(nan1), CON(f.tg), f.gr,
                         SELFSUP_ERR_NUMERIC,
                         "online[1][37] = nan is not finite");
    x[37] = 0;
    x[5] = -INFINITY;
    selfsup_tensor *inf0[2] = {tensor_2d(8, 16, x), f.tg[1]};
    EXPECT_COMPUTE_FAILS(byol, 2, CON(f.on), CON(inf0), f.gr,
                         SELFSUP_ERR_NUMERIC,
                         "target[0][5] = -inf is not finite");
    EXPECT_COMPUTE_FAILS(groco, 2, CON(f.on), CON(inf0), NULL,
                         SELFSUP_ERR_NUMERIC, "target[0][5] = -inf");

    /* precedence: structure before content, parameters in order */
    EXPECT_COMPUTE_FAILS(byol, 3, CON(with_null), NULL, gr_wide,
                         SELFSUP_ERR_SHAPE, "n_views = 3");
    EXPECT_COMPUTE_FAILS(byol, 2, CON(wide1), NULL, f.gr, SELFSUP_ERR_SHAPE,
                         "online[1] has shape (8, 32)");
    EXPECT_COMPUTE_FAILS(byol, 2, CON(nan1), NULL, f.gr,
                         SELFSUP_ERR_INVALID_ARGUMENT, "target is NULL");
    EXPECT_COMPUTE_FAILS(byol, 2, CON(nan1), CON(f.tg), gr_wide,
                         SELFSUP_ERR_SHAPE, "grad_online[0] has shape");
    EXPECT_COMPUTE_FAILS(byol, 2, CON(nan1), CON(inf0), f.gr,
                         SELFSUP_ERR_NUMERIC, "online[1][37]");
    ss_assert_fails(selfsup_objective_compute(byol, 5, NULL, NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "online is NULL");

    selfsup_tensor *extra[] = {flat,       cube,    wide,   one_row[0],
                               one_row[1], nan1[1], inf0[0]};
    tensors_free(extra, 7);
    selfsup_objective_destroy(byol);
    selfsup_objective_destroy(vicreg);
    selfsup_objective_destroy(groco);
    selfsup_objective_destroy(groco8);
    selfsup_objective_destroy(groco_big);
    fixture_free(&f);
}
END_TEST

/* Results that cannot be represented are refused, not returned. */
START_TEST(non_finite_results_are_refused)
{
    fixture f;
    fixture_make(&f);
    float x[8 * 16];

    /* barlow with the contract's eps = 0 cannot standardise a constant
     * column; with eps > 0 it can */
    ss_assert_ok(selfsup_tensor_read(f.on[1], x, 128));
    for (int i = 0; i < 8; i++)
        x[i * 16 + 2] = 0.25f;
    selfsup_tensor *constant[2] = {f.on[0], tensor_2d(8, 16, x)};
    selfsup_objective *barlow = objective("barlow");
    EXPECT_COMPUTE_FAILS(barlow, 2, CON(constant), NULL, f.gr,
                         SELFSUP_ERR_NUMERIC,
                         "column 2 of online[1] is constant over the batch");
    selfsup_objective *barlow_eps = objective("barlow:eps=1e-5");
    float loss;
    ss_assert_ok(selfsup_objective_compute(barlow_eps, 2, CON(constant), NULL,
                                           &loss, NULL));
    ck_assert(isfinite(loss));

    /* vicreg's squared distances overflow float */
    for (int i = 0; i < 128; i++)
        x[i] = (i % 2) ? 3e38f : -3e38f;
    selfsup_tensor *huge[2] = {tensor_2d(8, 16, x), f.on[1]};
    selfsup_objective *vicreg = objective("vicreg");
    EXPECT_COMPUTE_FAILS(vicreg, 2, CON(huge), NULL, f.gr, SELFSUP_ERR_NUMERIC,
                         "vicreg: the loss is not finite");

    selfsup_objective_destroy(barlow);
    selfsup_objective_destroy(barlow_eps);
    selfsup_objective_destroy(vicreg);
    selfsup_tensor *extra[] = {constant[1], huge[0]};
    tensors_free(extra, 2);
    fixture_free(&f);
}
END_TEST

START_TEST(diagnostics_follow_successful_computes)
{
    fixture f;
    fixture_make(&f);
    selfsup_objective *o = objective("simclr");
    double value = -1;
    ss_assert_fails(selfsup_objective_diagnostic(o, "loss", &value),
                    SELFSUP_ERR_STATE, "no successful compute yet");
    ss_assert_fails(selfsup_objective_diagnostic(o, "cos", &value),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "simclr has no diagnostic \"cos\" (it has loss, "
                    "collapse_std, pos_sim, top1)");
    ss_assert_fails(selfsup_objective_diagnostic(NULL, "loss", &value),
                    SELFSUP_ERR_INVALID_ARGUMENT, "o is NULL");
    ss_assert_fails(selfsup_objective_diagnostic(o, NULL, &value),
                    SELFSUP_ERR_INVALID_ARGUMENT, "name is NULL");
    ss_assert_fails(selfsup_objective_diagnostic(o, "loss", NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "value is NULL");
    ck_assert(value == -1);

    float loss;
    ss_assert_ok(selfsup_objective_compute(o, 2, CON(f.on), NULL, &loss, NULL));
    double first, top1, pos;
    ss_assert_ok(selfsup_objective_diagnostic(o, "loss", &first));
    ss_assert_close(first, loss, 1e-6, 1e-6);
    ss_assert_ok(selfsup_objective_diagnostic(o, "top1", &top1));
    ck_assert(top1 >= 0 && top1 <= 1);
    ss_assert_ok(selfsup_objective_diagnostic(o, "pos_sim", &pos));
    ck_assert(pos >= -1 && pos <= 1);

    /* a failing compute leaves them as they were */
    EXPECT_COMPUTE_FAILS(o, 2, CON(f.on), CON(f.tg), NULL,
                         SELFSUP_ERR_INVALID_ARGUMENT, "target is given");
    ss_assert_ok(selfsup_objective_diagnostic(o, "loss", &value));
    ck_assert(value == first);

    /* identical views: every positive has cosine 1 and is the top logit */
    selfsup_tensor *same[2] = {f.on[0], f.on[0]};
    ss_assert_ok(selfsup_objective_compute(o, 2, CON(same), NULL, &loss, NULL));
    ss_assert_ok(selfsup_objective_diagnostic(o, "pos_sim", &value));
    ss_assert_close(value, 1.0, 1e-6, 0);
    ss_assert_ok(selfsup_objective_diagnostic(o, "top1", &value));
    ck_assert(value == 1.0);
    selfsup_objective_destroy(o);
    fixture_free(&f);
}
END_TEST

TCase *errors_tcase(void)
{
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, create_refuses_bad_specs);
    tcase_add_test(tc, handle_queries);
    tcase_add_test(tc, compute_refuses_bad_arguments);
    tcase_add_test(tc, non_finite_results_are_refused);
    tcase_add_test(tc, diagnostics_follow_successful_computes);
    return tc;
}
