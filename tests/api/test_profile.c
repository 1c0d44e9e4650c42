/* The profile (selfsup/profile.h): what it counts is what ran, its
 * floating-point operations are the layers' own, its phases contain its
 * operations, and it counts nothing once stopped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

typedef struct found {
    int64_t calls;
    double seconds, flops;
} found;

/* The first entry of this kind whose name is name, or with prefix set
 * starts with it ({0} if absent). */
static found find_entry(int kind, const char *name, int prefix)
{
    size_t len = strlen(name);
    for (int64_t i = 0; i < selfsup_profile_count(); i++) {
        int k;
        const char *n;
        found f;
        ss_assert_ok(
            selfsup_profile_entry(i, &k, &n, &f.calls, &f.seconds, &f.flops));
        if (k == kind &&
            (prefix ? strncmp(n, name, len) == 0 : strcmp(n, name) == 0))
            return f;
    }
    return (found){0};
}

static found lookup(int kind, const char *name)
{
    return find_entry(kind, name, 0);
}

/* The first operation whose name starts with prefix. */
static found lookup_prefix(const char *prefix)
{
    return find_entry(SELFSUP_PROFILE_OPERATION, prefix, 1);
}

static selfsup_tensor *images(int64_t n, int64_t side, uint64_t seed)
{
    const int64_t dims[4] = {n, 1, side, side};
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 4, dims));
    ss_assert_ok(selfsup_tensor_fill_normal(t, seed, 0, 1));
    return t;
}

START_TEST(counts_the_layers_that_ran)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&e, "resnet18:width=4,in_channels=1", 1));
    selfsup_tensor *x = images(6, 8, 1);
    const int64_t od[2] = {6, selfsup_encoder_output_dim(e)};
    selfsup_tensor *y = NULL;
    ss_assert_ok(selfsup_tensor_create(&y, 2, od));
    ss_assert_ok(selfsup_encoder_forward(e, x, y)); /* before: not counted */

    selfsup_profile_start();
    ck_assert_int_eq(selfsup_profile_count(), 0);
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    selfsup_profile_stop();
    int64_t count = selfsup_profile_count();
    ck_assert_int_gt(count, 5);

    /* The stem: 3x3 from 1 to 4 channels on 6 images of 8x8, 2 multiply-
     * adds... counted 2 each: 2 * 6*8*8 * 4*1*3*3 a run, two runs. */
    found stem = lookup_prefix("convolution forward_training w 4x1x3x3 out "
                               "6x4x8x8 ");
    ck_assert_int_eq(stem.calls, 2);
    ck_assert(stem.flops == 2 * (2.0 * 6 * 8 * 8 * 4 * 1 * 3 * 3));
    ck_assert(stem.seconds > 0);
    /* layer4's 3x3 32-to-32 convolutions: three a run (two in the second
     * block, one in the first), on 1x1 maps of the 8x8 images. */
    found deep = lookup_prefix("convolution forward_training w 32x32x3x3 out "
                               "6x32x1x1 ");
    ck_assert_int_eq(deep.calls, 6);
    ck_assert(deep.flops == 6 * (2.0 * 6 * 1 * 1 * 32 * 32 * 3 * 3));

    /* Stopped: more work changes nothing. */
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ck_assert_int_eq(selfsup_profile_count(), count);
    ck_assert_int_eq(lookup_prefix("convolution forward_training w 4x1x3x3 "
                                   "out 6x4x8x8 ")
                         .calls,
                     2);
    /* A new start clears it. */
    selfsup_profile_start();
    ck_assert_int_eq(selfsup_profile_count(), 0);
    selfsup_profile_stop();

    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(x);
    selfsup_encoder_destroy(e);
}
END_TEST

START_TEST(a_step_holds_its_phases_and_operations)
{
    selfsup_learner_config *c = NULL;
    ss_assert_ok(selfsup_learner_config_create(&c, "simclr"));
    ss_assert_ok(selfsup_learner_config_set(c, "encoder",
                                            "resnet18:width=4,in_channels=1"));
    ss_assert_ok(
        selfsup_learner_config_set(c, "projector", "mlp:hidden=16,out=8"));
    ss_assert_ok(selfsup_learner_config_set(c, "batch_size", "8"));
    ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "4"));
    /* the operations' names below are float32's on every CPU */
    ss_assert_ok(selfsup_learner_config_set(c, "precision", "f32"));
    selfsup_learner *l = NULL;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    selfsup_tensor *v[2] = {images(8, 8, 2), images(8, 8, 3)};
    float loss;
    selfsup_profile_start();
    for (int i = 0; i < 2; i++)
        ss_assert_ok(selfsup_learner_step(
            l, 2, (const selfsup_tensor *const *)v, &loss));
    selfsup_profile_stop();

    found step = lookup(SELFSUP_PROFILE_PHASE, "step");
    ck_assert_int_eq(step.calls, 2);
    const char *phases[] = {"step: forward", "step: objective",
                            "step: backward", "step: gradient check",
                            "step: optimizer"};
    double phase_sum = 0;
    for (size_t i = 0; i < sizeof phases / sizeof *phases; i++) {
        found f = lookup(SELFSUP_PROFILE_PHASE, phases[i]);
        ck_assert_msg(f.calls == 2, "%s ran %lld times", phases[i],
                      (long long)f.calls);
        ck_assert(f.seconds > 0 && f.seconds <= step.seconds);
        phase_sum += f.seconds;
    }
    ck_assert(phase_sum <= step.seconds);
    /* BYOL's phase only where there is a target. */
    ck_assert_int_eq(
        lookup(SELFSUP_PROFILE_PHASE, "step: target average").calls, 0);

    /* Operations do not overlap and run inside the step. */
    double ops = 0;
    for (int64_t i = 0; i < selfsup_profile_count(); i++) {
        int k;
        double s;
        ss_assert_ok(selfsup_profile_entry(i, &k, NULL, NULL, &s, NULL));
        if (k == SELFSUP_PROFILE_OPERATION)
            ops += s;
    }
    ck_assert(ops > 0 && ops <= step.seconds);
    /* SimCLR's similarities of 16 rows of 8: one 16x16x8 product a step
     * forward, counted as 2 m n k. */
    found sim = lookup_prefix("gemm NT 16x16x8");
    ck_assert_int_ge(sim.calls, 2);
    ck_assert(sim.flops == (double)sim.calls * 2 * 16 * 16 * 8);
    /* The projector's first layer, 16 from 32 features, forward: two
     * views, two steps. */
    found fc =
        lookup_prefix("inner_product forward_training w 16x32 out 8x16 ");
    ck_assert_int_eq(fc.calls, 4);
    ck_assert(fc.flops == 4 * (2.0 * 8 * 16 * 32));

    selfsup_tensor_destroy(v[0]);
    selfsup_tensor_destroy(v[1]);
    selfsup_learner_destroy(l);
}
END_TEST

START_TEST(entries_and_roof_refuse_bad_arguments)
{
    selfsup_profile_start();
    selfsup_profile_stop();
    ss_assert_fails(selfsup_profile_entry(0, NULL, NULL, NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "0 entries");
    ss_assert_fails(selfsup_profile_entry(-1, NULL, NULL, NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "index = -1");
    double g = -1;
    ss_assert_fails(selfsup_profile_roof(0.01, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "seconds = 0.01");
    ss_assert_fails(selfsup_profile_roof(NAN, &g), SELFSUP_ERR_INVALID_ARGUMENT,
                    "seconds");
    ss_assert_fails(selfsup_profile_roof(0.1, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "gflops");
    ck_assert(g == -1); /* untouched on failure */
    ss_assert_ok(selfsup_profile_roof(0.05, &g));
    ck_assert(isfinite(g) && g > 0.1);
    const char *isa = selfsup_profile_isa();
    ck_assert(isa && isa[0]);

    /* per precision: f32 is the same measurement; bf16 runs from AVX-512
     * (oneDNN's isa names start with avx512 there) and is refused below */
    g = -1;
    ss_assert_fails(selfsup_profile_roof_precision("fp16", 0.05, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "precision \"fp16\" is not f32 or bf16");
    ss_assert_fails(selfsup_profile_roof_precision(NULL, 0.05, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "precision");
    ss_assert_fails(selfsup_profile_roof_precision("bf16", 0.01, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "seconds = 0.01");
    ss_assert_fails(selfsup_profile_roof_precision("f32", 0.05, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "gflops");
    ck_assert(g == -1);
    ss_assert_ok(selfsup_profile_roof_precision("f32", 0.05, &g));
    ck_assert(isfinite(g) && g > 0.1);
    g = -1;
    if (strncmp(isa, "avx512", 6) == 0) {
        ss_assert_ok(selfsup_profile_roof_precision("bf16", 0.05, &g));
        ck_assert(isfinite(g) && g > 0.1);
    } else {
        ss_assert_fails(selfsup_profile_roof_precision("bf16", 0.05, &g),
                        SELFSUP_ERR_UNSUPPORTED,
                        "bf16 needs oneDNN's AVX-512 kernels");
        ck_assert(g == -1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("profile");
    tcase_add_test(tc, counts_the_layers_that_ran);
    tcase_add_test(tc, a_step_holds_its_phases_and_operations);
    tcase_add_test(tc, entries_and_roof_refuse_bad_arguments);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
