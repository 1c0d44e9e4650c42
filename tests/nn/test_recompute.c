/* The backward recomputes the batch-norm outputs that only convolutions
 * read (plan.c, mark_saved) instead of keeping them per view: the same
 * parameter and input gradients, bit for bit, as a plan that keeps them,
 * in about a quarter fewer activation bytes. */
#include <stdlib.h>
#include <string.h>

#include "core/dnnl_ctx.h"
#include "nn/plan.h"
#include "nn_test.h"
#include "test_support.h"

enum { VIEWS = 2 };

typedef struct step_result {
    float *grads, *input_grads[VIEWS];
    int64_t n_grads, n_input;
} step_result;

/* Two views forward, both backward (the later view first, so the shared
 * recompute buffer serves one view after the other), every gradient. */
static step_result two_view_step(const char *spec, int keep,
                                 const int64_t *in_dims)
{
    selfsup__plan_keep_activations(keep);
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_encoder_create(&e, spec, 3));
    ss_assert_ok(selfsup_encoder_set_training(e, 1));
    ss_assert_ok(selfsup_encoder_zero_grad(e));
    const int64_t od[2] = {in_dims[0], selfsup_encoder_output_dim(e)};
    selfsup_tensor *x[VIEWS], *gx[VIEWS];
    selfsup_tensor *y = nn_tensor(2, od);
    for (int v = 0; v < VIEWS; v++) {
        x[v] = nn_random_tensor(4, in_dims, 20 + v, -1, 1);
        gx[v] = nn_tensor(4, in_dims);
        ss_assert_ok(selfsup_encoder_forward_view(e, v, x[v], y));
    }
    step_result r = {0};
    for (int v = VIEWS - 1; v >= 0; v--) {
        selfsup_tensor *gy = nn_random_tensor(2, od, 40 + v, -1, 1);
        ss_assert_ok(selfsup_encoder_backward_view(e, v, gy, gx[v]));
        selfsup_tensor_destroy(gy);
        r.n_input = selfsup_tensor_numel(gx[v]);
        r.input_grads[v] = malloc((size_t)r.n_input * sizeof(float));
        ck_assert_ptr_nonnull(r.input_grads[v]);
        memcpy(r.input_grads[v], selfsup_tensor_data(gx[v]),
               (size_t)r.n_input * sizeof(float));
    }
    for (int i = 0; i < selfsup_encoder_param_count(e); i++)
        if (selfsup_encoder_param_is_trainable(e, i))
            r.n_grads += ss_param_numel(e, i);
    r.grads = malloc((size_t)r.n_grads * sizeof(float));
    ck_assert_ptr_nonnull(r.grads);
    int64_t at = 0;
    for (int i = 0; i < selfsup_encoder_param_count(e); i++) {
        if (!selfsup_encoder_param_is_trainable(e, i))
            continue;
        int64_t n = ss_param_numel(e, i);
        ss_assert_ok(selfsup_encoder_grad_read(e, i, r.grads + at, n));
        at += n;
    }
    for (int v = 0; v < VIEWS; v++) {
        selfsup_tensor_destroy(x[v]);
        selfsup_tensor_destroy(gx[v]);
    }
    selfsup_tensor_destroy(y);
    selfsup_encoder_destroy(e);
    selfsup__plan_keep_activations(0);
    return r;
}

static void step_result_free(step_result *r)
{
    free(r->grads);
    for (int v = 0; v < VIEWS; v++)
        free(r->input_grads[v]);
}

static void check_same_step(const char *spec, const int64_t *in_dims)
{
    step_result kept = two_view_step(spec, 1, in_dims);
    step_result again = two_view_step(spec, 0, in_dims);
    ck_assert_int_eq(kept.n_grads, again.n_grads);
    ck_assert_msg(memcmp(kept.grads, again.grads,
                         (size_t)kept.n_grads * sizeof(float)) == 0,
                  "%s: parameter gradients differ when bn outputs are "
                  "recomputed",
                  spec);
    for (int v = 0; v < VIEWS; v++)
        ck_assert_msg(memcmp(kept.input_grads[v], again.input_grads[v],
                             (size_t)kept.n_input * sizeof(float)) == 0,
                      "%s: view %d's input gradient differs when bn "
                      "outputs are recomputed",
                      spec, v);
    step_result_free(&kept);
    step_result_free(&again);
}

START_TEST(recomputed_step_is_the_kept_step)
{
    const int64_t image[4] = {4, 1, 16, 16};
    check_same_step("resnet18:width=16,in_channels=1", image);
    /* nhwc activations (8 channels: the layout choice of plan.c) */
    check_same_step("resnet18:width=8,in_channels=1", image);
    if (selfsup__dnnl_has_bf16())
        check_same_step("resnet18:width=16,in_channels=1,precision=bf16",
                        image);
}
END_TEST

static int recomputed_count(const selfsup__plan *p)
{
    int n = 0;
    for (int t = 0; t < p->n_tensors; t++)
        n += p->recompute_op[t] >= 0;
    return n;
}

START_TEST(recomputing_keeps_fewer_bytes)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&e, "resnet18:width=16,in_channels=1", 1));
    selfsup__plan_ctx c = nn_plan_ctx(e, 0);
    const int64_t in[4] = {16, 1, 28, 28};
    selfsup__plan *kept = NULL, *again = NULL, *infer = NULL;
    selfsup__plan_keep_activations(1);
    ss_assert_ok(selfsup__plan_create(&kept, &c, in, SELFSUP__PLAN_TRAINING));
    selfsup__plan_keep_activations(0);
    ss_assert_ok(selfsup__plan_create(&again, &c, in, SELFSUP__PLAN_TRAINING));
    ss_assert_ok(selfsup__plan_create(&infer, &c, in, SELFSUP__PLAN_INFERENCE));
    /* The stem's bn-relu and the first bn-relu of each of the 8 blocks;
     * nothing where there is no backward. */
    ck_assert_int_eq(recomputed_count(kept), 0);
    ck_assert_int_eq(recomputed_count(again), 9);
    ck_assert_int_eq(recomputed_count(infer), 0);
    ck_assert_ptr_null(infer->recompute_buf);
    size_t a = nn_activation_bytes(kept), b = nn_activation_bytes(again);
    /* Keeping everything, a view holds about 18 tensors' worth of the
     * stem's size (16 x 16 x 28 x 28 floats); the recomputed outputs are
     * about 5 of them: 26% (measured). */
    ck_assert_msg(b < a * 4 / 5, "recomputing keeps %zu bytes, keeping %zu", b,
                  a);
    selfsup__plan_destroy(kept);
    selfsup__plan_destroy(again);
    selfsup__plan_destroy(infer);

    /* An MLP's batch norms feed inner products on (N, C): small, kept. */
    selfsup_encoder *m = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&m, "mlp:in=32,hidden=64,out=16,layers=3", 1));
    selfsup__plan_ctx mc = nn_plan_ctx(m, 0);
    const int64_t rows[2] = {16, 32};
    ss_assert_ok(
        selfsup__plan_create(&kept, &mc, rows, SELFSUP__PLAN_TRAINING));
    ck_assert_int_eq(recomputed_count(kept), 0);
    selfsup__plan_destroy(kept);
    selfsup_encoder_destroy(m);
    selfsup_encoder_destroy(e);
}
END_TEST

TCase *recompute_tcase(void)
{
    TCase *tc = tcase_create("recompute");
    tcase_add_test(tc, recomputed_step_is_the_kept_step);
    tcase_add_test(tc, recomputing_keeps_fewer_bytes);
    return tc;
}
