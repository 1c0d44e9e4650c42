/* Whole training steps against PyTorch (tests/reference/learner.py, which
 * runs tests/reference/train.py's learner): every method's recipe, with
 * small networks, two steps on fixed views from the same weights. The
 * losses, the learning rates and where every parameter and batch-norm
 * statistic ends up must match, which checks the wiring of a step (views
 * through networks, stop-gradients, parameter groups and their rates, the
 * schedule, momentum, BYOL's target) on top of the per-part golden tests.
 *
 * Each tensor is compared by its change over the two steps: the l2 norm
 * of the difference from PyTorch's change, over the norm of that change
 * (plus the rounding of the stored values: expect_network).
 * The tolerances, 3e-2 (GroCo 1e-1), sit far below what a wiring mistake
 * gives: a rate, a stop-gradient or an EMA rule that is off moves whole
 * tensors by tens of percent or more. Tensors that PyTorch barely moves
 * (rms change under 1e-7: biases under batch norm) must stay as still
 * here.
 *
 * Rounding decides more than it seems at this size: a ReLU input within
 * rounding of zero takes either side depending on the order of a sum (the
 * thread count, the instruction set), and with 2x2 maps one flipped unit
 * moves a batch norm's gradients by percents, which the next steps
 * amplify. learner.py therefore draws the data where starts disturbed by
 * 2^-21 end within a third of these tolerances (the spreads it records,
 * checked below), and the test runs on one and on two threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "train/learner_impl.h"

enum { BATCH = 16, SIDE = 16, STEPS = 2 };

/* Of the loss at each step, absolute and relative. */
static const double LOSS_TOLERANCE[STEPS] = {1e-5, 1e-4};

typedef struct golden_case {
    const char *name, *method;
    const char *keys[5][2]; /* recipe keys changed; NULL-terminated */
    int views;
    double tolerance; /* of a tensor's change: see the top */
} golden_case;

/* The same table as CASES in tests/reference/learner.py. */
static const golden_case CASES[] = {
    {"byol",
     "byol",
     {{"projector", "mlp:hidden=32,out=16,layers=2"},
      {"predictor", "mlp:hidden=32,out=16,layers=2"},
      {"ema_base", "0.9"}},
     2,
     0.03},
    {"byol_sgd",
     "byol",
     {{"projector", "mlp:hidden=32,out=16,layers=2"},
      {"predictor", "mlp:hidden=32,out=16,layers=2"},
      {"optimizer", "sgd:momentum=0.9,weight_decay=1e-4"},
      {"lr", "0.06"},
      {"ema_base", "0.9"}},
     2,
     0.03},
    {"simsiam",
     "simsiam",
     {{"projector", "mlp:hidden=32,out=16,layers=3,last_bn=1"},
      {"predictor", "mlp:hidden=8,out=16,layers=2"}},
     2,
     0.03},
    {"vicreg",
     "vicreg",
     {{"projector", "mlp:hidden=32,out=32,layers=3"}},
     2,
     0.03},
    {"simclr",
     "simclr",
     {{"projector", "mlp:hidden=32,out=16,layers=2"}},
     2,
     0.03},
    {"barlow",
     "barlow",
     {{"projector", "mlp:hidden=32,out=32,layers=3"}},
     2,
     0.03},
    {"groco",
     "groco",
     /* the reference's objective (steepness 1), not the learner's */
     {{"projector", "mlp:hidden=32,out=32,layers=3,last_bn=1"},
      {"objective", "groco"}},
     3,
     0.1},
};
enum { CASE_COUNT = sizeof CASES / sizeof CASES[0] };

static const char *const NET_NAMES[] = {"encoder", "projector", "predictor"};

static ss_golden *golden;

/* q * scale as the script drew them (scale 1/256 for inputs). */
static float *dequant(const char *name, int64_t n)
{
    char key[256];
    snprintf(key, sizeof key, "%s.q", name);
    const float *q = ss_golden_get(golden, key, n);
    snprintf(key, sizeof key, "%s.scale", name);
    double s =
        ss_golden_has(golden, key) ? ss_golden_scalar(golden, key) : 1.0 / 256;
    float *v = malloc((size_t)n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(q[i] * s);
    return v;
}

/* The drawn weights of a network: trainable parameters from prefix, the
 * batch-norm statistics as PyTorch starts them (0 and 1). */
static void load_weights(selfsup_encoder *e, const char *prefix)
{
    for (int i = 0; i < selfsup_encoder_param_count(e); i++) {
        int64_t n = ss_param_numel(e, i);
        const char *name = selfsup_encoder_param_name(e, i);
        float *v;
        if (selfsup_encoder_param_is_trainable(e, i)) {
            char key[256];
            snprintf(key, sizeof key, "%s%s", prefix, name);
            v = dequant(key, n);
        } else {
            v = malloc((size_t)n * sizeof *v);
            ck_assert_ptr_nonnull(v);
            float fill = strstr(name, "running_var") ? 1.0f : 0.0f;
            for (int64_t k = 0; k < n; k++)
                v[k] = fill;
        }
        ss_assert_ok(selfsup_encoder_param_write(e, i, v, n));
        free(v);
    }
}

/* Compares every tensor of e with PyTorch's sampled values after the
 * steps: trainable parameters by their change from start (the drawn
 * weights under init_prefix), statistics by their values. */
static void expect_network(const selfsup_encoder *e, const char *case_name,
                           const char *net, const char *init_prefix,
                           double tolerance, double *worst, char *worst_name,
                           size_t worst_cap)
{
    for (int i = 0; i < selfsup_encoder_param_count(e); i++) {
        int64_t n = ss_param_numel(e, i);
        const char *name = selfsup_encoder_param_name(e, i);
        char key[256];
        snprintf(key, sizeof key, "%s.after.%s.%s.step", case_name, net, name);
        int64_t step = (int64_t)ss_golden_scalar(golden, key);
        int64_t count = (n + step - 1) / step;
        key[strlen(key) - strlen(".step")] = '\0';
        const float *want = ss_golden_get(golden, key, count);
        float *got = malloc((size_t)n * sizeof *got);
        ck_assert_ptr_nonnull(got);
        ss_assert_ok(selfsup_encoder_param_read(e, i, got, n));
        int trainable = selfsup_encoder_param_is_trainable(e, i);
        float *start = NULL;
        if (trainable) {
            char init[256];
            snprintf(init, sizeof init, "%s%s", init_prefix, name);
            start = dequant(init, n);
        }
        double diff2 = 0, want2 = 0, value2 = 0;
        for (int64_t k = 0; k < count; k++) {
            double from = start ? start[k * step] : 0;
            double d = (double)got[k * step] - want[k];
            diff2 += d * d;
            want2 += (want[k] - from) * (want[k] - from);
            value2 += (double)want[k] * want[k];
        }
        double rms_change = sqrt(want2 / (double)count);
        double rms_diff = sqrt(diff2 / (double)count);
        /* Both sides round every stored value at every step, so a change
         * is known to a few float32 half-ulps of the values only: that
         * decides for the small moves of BYOL's target after two steps. */
        double rounding = 4 * 0x1p-24 * sqrt(value2 / (double)count);
        if (rms_change > 1e-7) {
            double rel = rms_diff / (rms_change + rounding / tolerance);
            if (rel > *worst) {
                *worst = rel;
                snprintf(worst_name, worst_cap, "%s.%s", net, name);
            }
            ck_assert_msg(rel <= tolerance,
                          "%s: %s.%s moved by %.3g (rms), PyTorch's move "
                          "differs by %.3g of that (tolerance %.3g, plus "
                          "rounding %.3g)",
                          case_name, net, name, rms_change,
                          rms_diff / rms_change, tolerance, rounding);
        } else {
            /* Unmoved in PyTorch (a bias under batch norm, rounding
             * noise): it must not move here either. */
            ck_assert_msg(rms_diff <= 1e-6,
                          "%s: %s.%s barely moved in PyTorch (rms %.3g) but "
                          "differs by rms %.3g here",
                          case_name, net, name, rms_change, rms_diff);
        }
        free(start);
        free(got);
    }
}

START_TEST(steps_match_pytorch)
{
    const golden_case *c = &CASES[_i % CASE_COUNT];
    int threads = 1 + _i / CASE_COUNT;
    ss_assert_ok(selfsup_set_num_threads(threads));
    golden = ss_golden_load("learner_steps.txt");
    /* The data must be well conditioned for these tolerances (see the top):
     * a regenerated file that is not would make this test flaky. */
    char key[64];
    snprintf(key, sizeof key, "%s.spread", c->name);
    ck_assert_double_le(3 * ss_golden_scalar(golden, key), c->tolerance);
    snprintf(key, sizeof key, "%s.loss_spread", c->name);
    const float *loss_spread = ss_golden_get(golden, key, STEPS);
    for (int step = 1; step < STEPS; step++) /* the first: see learner.py */
        ck_assert_double_le(3 * loss_spread[step], LOSS_TOLERANCE[step]);
    selfsup_learner_config *config;
    ss_assert_ok(selfsup_learner_config_create(&config, c->method));
    char views[16];
    snprintf(views, sizeof views, "%d", c->views);
    const char *common[][2] = {{"encoder", "resnet18:width=4,in_channels=1"},
                               {"views", views},
                               {"batch_size", "16"},
                               {"lr_batch", "16"},
                               {"total_steps", "2"},
                               {"precision", "f32"}};
    for (size_t k = 0; k < sizeof common / sizeof *common; k++)
        ss_assert_ok(
            selfsup_learner_config_set(config, common[k][0], common[k][1]));
    for (int k = 0; k < 5 && c->keys[k][0]; k++)
        ss_assert_ok(
            selfsup_learner_config_set(config, c->keys[k][0], c->keys[k][1]));
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, config));
    selfsup_learner_config_destroy(config);

    char prefix[3][128];
    snprintf(prefix[0], sizeof prefix[0], "encoder.");
    for (int k = 1; k < 3; k++)
        snprintf(prefix[k], sizeof prefix[k], "%s.%s.", c->name, NET_NAMES[k]);
    for (int k = 0; k < NET_COUNT; k++)
        if (l->online[k])
            load_weights(l->online[k], prefix[k]);
    /* BYOL's target starts as a copy of the online networks. */
    for (int k = 0; k < 2; k++)
        if (l->target[k])
            load_weights(l->target[k], prefix[k]);

    for (int step = 0; step < STEPS; step++) {
        selfsup_tensor *x[3];
        const int64_t dims[4] = {BATCH, 1, SIDE, SIDE};
        for (int v = 0; v < c->views; v++) {
            snprintf(key, sizeof key, "step%d.view%d", step, v);
            float *pixels = dequant(key, BATCH * SIDE * SIDE);
            ss_assert_ok(selfsup_tensor_create(&x[v], 4, dims));
            ss_assert_ok(
                selfsup_tensor_write(x[v], pixels, BATCH * SIDE * SIDE));
            free(pixels);
        }
        float loss;
        ss_assert_ok(selfsup_learner_step(
            l, c->views, (const selfsup_tensor *const *)x, &loss));
        for (int v = 0; v < c->views; v++)
            selfsup_tensor_destroy(x[v]);
        double lr;
        ss_assert_ok(selfsup_learner_diagnostic(l, "lr", &lr));
        snprintf(key, sizeof key, "%s.loss", c->name);
        double tol = LOSS_TOLERANCE[step];
        ss_assert_close(loss, ss_golden_get(golden, key, STEPS)[step], tol,
                        tol);
        snprintf(key, sizeof key, "%s.lr", c->name);
        ss_assert_close(lr, ss_golden_get(golden, key, STEPS)[step], 0, 1e-6);
    }

    double worst = 0;
    char worst_name[128] = "";
    for (int k = 0; k < NET_COUNT; k++)
        if (l->online[k])
            expect_network(l->online[k], c->name, NET_NAMES[k], prefix[k],
                           c->tolerance, &worst, worst_name, sizeof worst_name);
    const char *target_names[] = {"target_encoder", "target_projector"};
    for (int k = 0; k < 2; k++)
        if (l->target[k])
            expect_network(l->target[k], c->name, target_names[k], prefix[k],
                           c->tolerance, &worst, worst_name, sizeof worst_name);
    printf("%s, %d thread%s: the worst tensor's change (%s) differs from "
           "PyTorch's by %.2e\n",
           c->name, threads, threads > 1 ? "s" : "", worst_name, worst);
    selfsup_learner_destroy(l);
    ss_golden_free(golden);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("learner_golden");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, steps_match_pytorch, 0, 2 * CASE_COUNT);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
