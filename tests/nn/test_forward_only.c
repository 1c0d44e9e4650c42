/* Forward-only training (selfsup__encoder_set_forward_only, BYOL's
 * target): the same outputs and running statistics as a training forward,
 * bit for bit, in a fraction of the activation memory, and no backward. */
#include <string.h>

#include "nn/plan.h"
#include "nn_test.h"
#include "test_support.h"

static void assert_same_floats(const float *a, const float *b, int64_t n,
                               const char *what)
{
    ck_assert_msg(memcmp(a, b, (size_t)n * sizeof *a) == 0,
                  "%s differ between training and forward-only", what);
}

static void assert_same_buffers(selfsup_encoder *a, selfsup_encoder *b)
{
    float *va, *vb;
    int64_t na, nb;
    const selfsup__param_info *table;
    int n;
    selfsup__encoder_buffers(a, &va, &na, &table, &n);
    selfsup__encoder_buffers(b, &vb, &nb, &table, &n);
    ck_assert_int_eq(na, nb);
    assert_same_floats(va, vb, na, "running statistics");
}

/* Two views through a training encoder and a forward-only twin. */
static void check_twins(const char *spec, int ndim, const int64_t *in_dims)
{
    selfsup_encoder *train = NULL, *fwd = NULL;
    ss_assert_ok(selfsup_encoder_create(&train, spec, 7));
    ss_assert_ok(selfsup_encoder_create(&fwd, spec, 7));
    ss_assert_ok(selfsup_encoder_set_training(train, 1));
    ss_assert_ok(selfsup_encoder_set_training(fwd, 1));
    selfsup__encoder_set_forward_only(fwd, 1);
    const int64_t od[2] = {in_dims[0], selfsup_encoder_output_dim(train)};
    for (int v = 0; v < 2; v++) {
        selfsup_tensor *x = nn_random_tensor(ndim, in_dims, 11 + v, -1, 1);
        selfsup_tensor *ya = nn_tensor(2, od), *yb = nn_tensor(2, od);
        ss_assert_ok(selfsup_encoder_forward_view(train, v, x, ya));
        ss_assert_ok(selfsup_encoder_forward_view(fwd, v, x, yb));
        assert_same_floats(selfsup_tensor_data(ya), selfsup_tensor_data(yb),
                           selfsup_tensor_numel(ya), "outputs");
        selfsup_tensor_destroy(x);
        selfsup_tensor_destroy(ya);
        selfsup_tensor_destroy(yb);
    }
    assert_same_buffers(train, fwd);

    /* The training twin can go backward; the forward-only one kept
     * nothing to go backward with. */
    selfsup_tensor *g = nn_random_tensor(2, od, 5, -1, 1);
    ss_assert_ok(selfsup_encoder_backward_view(train, 1, g, NULL));
    ss_assert_fails(selfsup_encoder_backward_view(fwd, 1, g, NULL),
                    SELFSUP_ERR_STATE, "no training forward pending");
    selfsup_tensor_destroy(g);
    selfsup_encoder_destroy(train);
    selfsup_encoder_destroy(fwd);
}

START_TEST(forward_only_computes_what_training_does)
{
    const int64_t image[4] = {6, 1, 16, 16};
    check_twins("resnet18:width=4,in_channels=1", 4, image);
    /* and 8 channels, which the blocked layouts do not fit (the layout
     * choice: examples/own_loop.c compares a whole BYOL run bit for bit) */
    check_twins("resnet18:width=8,in_channels=1", 4, image);
    const int64_t rows[2] = {6, 32};
    check_twins("mlp:in=32,hidden=24,out=16,layers=3,last_bn=1", 2, rows);
}
END_TEST

START_TEST(forward_only_keeps_what_inference_keeps)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&e, "resnet18:width=8,in_channels=1", 1));
    selfsup__plan_ctx c = nn_plan_ctx(e, 0);
    const int64_t in[4] = {8, 1, 20, 20};
    size_t bytes[3];
    for (int mode = 0; mode < 3; mode++) {
        selfsup__plan *p = NULL;
        ss_assert_ok(selfsup__plan_create(&p, &c, in, mode));
        bytes[mode] = nn_activation_bytes(p);
        ck_assert_int_eq(p->training, mode != SELFSUP__PLAN_INFERENCE);
        ck_assert_int_eq(p->backward, mode == SELFSUP__PLAN_TRAINING);
        selfsup__plan_destroy(p);
    }
    /* Inference and forward-only reuse buffers along the network; training
     * keeps every activation its backward reads (6.2 times as many bytes
     * here). */
    ck_assert_uint_eq(bytes[SELFSUP__PLAN_FORWARD_TRAINING],
                      bytes[SELFSUP__PLAN_INFERENCE]);
    ck_assert_msg(4 * bytes[SELFSUP__PLAN_FORWARD_TRAINING] <
                      bytes[SELFSUP__PLAN_TRAINING],
                  "forward-only %zu bytes against training's %zu",
                  bytes[SELFSUP__PLAN_FORWARD_TRAINING],
                  bytes[SELFSUP__PLAN_TRAINING]);
    selfsup_encoder_destroy(e);
}
END_TEST

TCase *forward_only_tcase(void)
{
    TCase *tc = tcase_create("forward_only");
    tcase_add_test(tc, forward_only_computes_what_training_does);
    tcase_add_test(tc, forward_only_keeps_what_inference_keeps);
    return tc;
}
