/* The parts of a host's own loop (selfsup/optimizer.h): the optimizer over
 * a network, its groups and its state file, the schedules and the moving
 * average. examples/own_loop.c (CTest example_own_loop) checks that they
 * give the learner's bits; this suite checks each on its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "nn/encoder_internal.h"
#include "test_support.h"

static selfsup_encoder *head(uint64_t seed)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_encoder_create(&e, "mlp:in=6,hidden=8,out=4", seed));
    return e;
}

/* Fills every gradient of e by one forward and backward on fixed data. */
static void make_gradients(selfsup_encoder *e)
{
    const int64_t xd[2] = {5, 6}, yd[2] = {5, 4};
    selfsup_tensor *x = NULL, *y = NULL, *g = NULL;
    ss_assert_ok(selfsup_tensor_create(&x, 2, xd));
    ss_assert_ok(selfsup_tensor_create(&y, 2, yd));
    ss_assert_ok(selfsup_tensor_create(&g, 2, yd));
    ss_assert_ok(selfsup_tensor_fill_uniform(x, 1, -1, 1));
    ss_assert_ok(selfsup_tensor_fill_uniform(g, 2, -1, 1));
    ss_assert_ok(selfsup_encoder_zero_grad(e));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_backward(e, g, NULL));
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(g);
}

static float *params_of(const selfsup_encoder *e, const char *name, int64_t *n)
{
    int i;
    ss_assert_ok(selfsup_encoder_param_find(e, name, &i));
    *n = ss_param_numel(e, i);
    float *v = malloc((size_t)*n * sizeof *v);
    ss_assert_ok(selfsup_encoder_param_read(e, i, v, *n));
    return v;
}

/* SGD without momentum or decay is p -= lr g, checked on one tensor. */
START_TEST(optimizer_steps_a_network)
{
    selfsup_encoder *e = head(1);
    selfsup_optimizer *o = NULL;
    ss_assert_ok(selfsup_optimizer_create(&o, "sgd:momentum=0", e));
    make_gradients(e);
    int64_t n;
    float *before = params_of(e, "0.weight", &n);
    int i;
    ss_assert_ok(selfsup_encoder_param_find(e, "0.weight", &i));
    float *grad = malloc((size_t)n * sizeof *grad);
    ss_assert_ok(selfsup_encoder_grad_read(e, i, grad, n));
    ss_assert_ok(selfsup_optimizer_step(o, e, 0.5));
    float *after = params_of(e, "0.weight", &n);
    for (int64_t k = 0; k < n; k++)
        ss_assert_close(after[k], before[k] - 0.5f * grad[k], 1e-7, 1e-6);
    ck_assert_int_eq(selfsup_optimizer_steps(o), 1);
    ck_assert_int_eq(selfsup_optimizer_steps(NULL), 0);

    selfsup_optimizer *bad = (selfsup_optimizer *)(uintptr_t)0x5;
    ss_assert_fails(selfsup_optimizer_create(&bad, "sgd:momentum=2", e),
                    SELFSUP_ERR_INVALID_ARGUMENT, "momentum");
    ss_assert_fails(selfsup_optimizer_create(&bad, "rmsprop", e),
                    SELFSUP_ERR_INVALID_ARGUMENT, "rmsprop");
    ss_assert_fails(selfsup_optimizer_create(&bad, "sgd", NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "network");
    ss_assert_fails(selfsup_optimizer_create(NULL, "sgd", e),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ck_assert_ptr_eq(bad, (selfsup_optimizer *)(uintptr_t)0x5);

    /* another network, a bad rate, a non-finite gradient: nothing moves */
    selfsup_encoder *other = NULL;
    ss_assert_ok(selfsup_encoder_create(&other, "mlp:in=6,hidden=9,out=4", 1));
    ss_assert_fails(selfsup_optimizer_step(o, other, 0.1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "tensors");
    ss_assert_fails(selfsup_optimizer_step(o, e, -1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lr");
    ss_assert_fails(selfsup_optimizer_step(o, e, NAN),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lr");
    /* a non-finite gradient, written where backward would have put it */
    float *values, *grads;
    int64_t count;
    const selfsup__param_info *table;
    int tensors;
    selfsup__encoder_params(e, &values, &grads, &count, &table, &tensors);
    grads[3] = NAN;
    float *kept = params_of(e, "0.weight", &n);
    ss_assert_fails(selfsup_optimizer_step(o, e, 0.1), SELFSUP_ERR_NUMERIC,
                    NULL);
    float *still = params_of(e, "0.weight", &n);
    ss_assert_all_close(still, kept, n, 0, 0);
    ck_assert_int_eq(selfsup_optimizer_steps(o), 1);
    free(kept);
    free(still);
    free(before);
    free(after);
    free(grad);
    selfsup_encoder_destroy(other);
    selfsup_optimizer_destroy(o);
    selfsup_optimizer_destroy(NULL);
    selfsup_encoder_destroy(e);
}
END_TEST

/* A fixed-rate group moves its tensors at step lr 0; the others stay. */
START_TEST(groups_select_by_name_and_kind)
{
    selfsup_encoder *e = head(2);
    selfsup_optimizer *o = NULL;
    ss_assert_ok(selfsup_optimizer_create(&o, "sgd:momentum=0", e));
    ss_assert_fails(selfsup_optimizer_add_group(o, "", "weights", 0, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "weights");
    ss_assert_fails(selfsup_optimizer_add_group(o, "9.", "all", 0, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "selects no tensor");
    ss_assert_fails(selfsup_optimizer_add_group(o, "", "all", 2, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "fixed");
    ss_assert_fails(selfsup_optimizer_add_group(o, "", "all", 0, -1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lr_value");
    ss_assert_fails(selfsup_optimizer_add_group(NULL, "", "all", 0, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "o");
    ss_assert_ok(selfsup_optimizer_add_group(o, "0.", "bias+norm", 1, 0.25));
    make_gradients(e);
    int64_t nw, nb, nl;
    float *w0 = params_of(e, "0.weight", &nw),
          *b0 = params_of(e, "0.bias", &nb);
    float *l0 = params_of(e, "3.bias", &nl);
    ss_assert_ok(selfsup_optimizer_step(o, e, 0));
    float *w1 = params_of(e, "0.weight", &nw),
          *b1 = params_of(e, "0.bias", &nb);
    float *l1 = params_of(e, "3.bias", &nl);
    ss_assert_all_close(w1, w0, nw, 0, 0); /* a weight: lr 0 */
    ss_assert_all_close(l1, l0, nl, 0, 0); /* another layer's bias */
    double moved = 0;
    for (int64_t k = 0; k < nb; k++)
        moved += fabs(b1[k] - b0[k]);
    ck_assert_msg(moved > 0, "the group's bias did not move at its own rate");
    free(w0);
    free(b0);
    free(l0);
    free(w1);
    free(b1);
    free(l1);
    selfsup_optimizer_destroy(o);
    selfsup_encoder_destroy(e);
}
END_TEST

/* The state file: two runs, one saved and loaded after two steps, take the
 * same third step. */
START_TEST(state_file_round_trip)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "optimizer.ckpt");
    selfsup_encoder *a = head(3), *b = NULL;
    ss_assert_ok(selfsup_encoder_clone(&b, a));
    selfsup_optimizer *oa = NULL, *ob = NULL, *adam = NULL;
    ss_assert_ok(selfsup_optimizer_create(&oa, "adamw", a));
    ss_assert_ok(selfsup_optimizer_create(&ob, "adamw", b));
    ss_assert_ok(selfsup_optimizer_create(&adam, "sgd", b));
    for (int s = 0; s < 2; s++) {
        make_gradients(a);
        ss_assert_ok(selfsup_optimizer_step(oa, a, 0.01));
    }
    ss_assert_ok(selfsup_optimizer_save(oa, path));
    ss_assert_ok(selfsup_encoder_copy_state(b, a));
    ss_assert_fails(selfsup_optimizer_load(adam, path),
                    SELFSUP_ERR_INVALID_ARGUMENT, "adamw");
    ss_assert_fails(selfsup_optimizer_load(ob, "/nonexistent-selfsup/x"),
                    SELFSUP_ERR_IO, "nonexistent-selfsup");
    ss_assert_fails(selfsup_optimizer_save(oa, "/nonexistent-selfsup/x"),
                    SELFSUP_ERR_IO, "nonexistent-selfsup");
    char *encoder_file = path_in(dir, "encoder.ckpt");
    ss_assert_ok(selfsup_encoder_save(a, encoder_file));
    ss_assert_fails(selfsup_optimizer_load(ob, encoder_file),
                    SELFSUP_ERR_CORRUPT, "optimizer/format");
    ss_assert_ok(selfsup_optimizer_load(ob, path));
    ck_assert_int_eq(selfsup_optimizer_steps(ob), 2);
    make_gradients(a);
    make_gradients(b);
    ss_assert_ok(selfsup_optimizer_step(oa, a, 0.01));
    ss_assert_ok(selfsup_optimizer_step(ob, b, 0.01));
    int64_t n;
    float *pa = params_of(a, "3.weight", &n),
          *pb = params_of(b, "3.weight", &n);
    ss_assert_all_close(pb, pa, n, 0, 0);
    free(pa);
    free(pb);
    unlink(encoder_file);
    free(encoder_file);
    unlink(path);
    free(path);
    remove_dir(dir);
    selfsup_optimizer_destroy(oa);
    selfsup_optimizer_destroy(ob);
    selfsup_optimizer_destroy(adam);
    selfsup_encoder_destroy(a);
    selfsup_encoder_destroy(b);
}
END_TEST

START_TEST(schedules_and_moving_average)
{
    /* warmup 2 of 10 steps from 0 to 1, then a half cosine down to 0.1 */
    ss_assert_close(selfsup_cosine_lr(1, 0.1, 2, 10, 0), 0, 0, 0);
    ss_assert_close(selfsup_cosine_lr(1, 0.1, 2, 10, 1), 0.5, 1e-15, 0);
    ss_assert_close(selfsup_cosine_lr(1, 0.1, 2, 10, 2), 1, 1e-15, 0);
    ss_assert_close(selfsup_cosine_lr(1, 0.1, 2, 10, 6), 0.55, 1e-15, 0);
    ss_assert_close(selfsup_cosine_lr(1, 0.1, 2, 10, 10), 0.1, 1e-15, 0);
    ss_assert_close(selfsup_cosine_lr(1, 0.1, 2, 10, 99), 0.1, 1e-15, 0);
    ck_assert(isnan(selfsup_cosine_lr(1, 0.1, 11, 10, 0)));
    ck_assert(isnan(selfsup_cosine_lr(-1, 0, 0, 10, 0)));
    ck_assert(isnan(selfsup_cosine_lr(1, 0, 0, 0, 0)));
    ss_assert_close(selfsup_byol_tau(0.99, 0, 10), 0.99, 1e-15, 0);
    ss_assert_close(selfsup_byol_tau(0.99, 5, 10), 0.995, 1e-15, 0);
    ss_assert_close(selfsup_byol_tau(0.99, 10, 10), 1, 1e-15, 0);

    selfsup_encoder *target = head(4), *online = head(5);
    int64_t n;
    float *t0 = params_of(target, "0.weight", &n);
    float *o0 = params_of(online, "0.weight", &n);
    ss_assert_ok(selfsup_encoder_ema_update(target, online, 0.75));
    float *t1 = params_of(target, "0.weight", &n);
    for (int64_t k = 0; k < n; k++)
        ss_assert_close(t1[k], t0[k] + 0.25f * (o0[k] - t0[k]), 1e-7, 1e-6);
    selfsup_encoder *wide = NULL;
    ss_assert_ok(selfsup_encoder_create(&wide, "mlp:in=6,hidden=9,out=4", 1));
    ss_assert_fails(selfsup_encoder_ema_update(target, wide, 0.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "hidden=9");
    ss_assert_fails(selfsup_encoder_ema_update(target, online, 1.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "tau");
    ss_assert_fails(selfsup_encoder_ema_update(target, target, 0.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "same network");
    ss_assert_fails(selfsup_encoder_ema_update(NULL, online, 0.5),
                    SELFSUP_ERR_INVALID_ARGUMENT, "target");
    free(t0);
    free(o0);
    free(t1);
    selfsup_encoder_destroy(wide);
    selfsup_encoder_destroy(target);
    selfsup_encoder_destroy(online);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loop_parts");
    TCase *tc = tcase_create("loop_parts");
    tcase_add_test(tc, optimizer_steps_a_network);
    tcase_add_test(tc, groups_select_by_name_and_kind);
    tcase_add_test(tc, state_file_round_trip);
    tcase_add_test(tc, schedules_and_moving_average);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
