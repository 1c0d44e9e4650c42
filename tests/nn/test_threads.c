/* Thread counts: an encoder's training step gives the same gradients every
 * time on two threads, and the same as on one thread up to rounding. Run
 * with the machine's best instruction set and again under
 * ONEDNN_MAX_CPU_ISA=AVX2 (tests/nn/CMakeLists.txt): oneDNN's AVX2 1x1
 * backward-weights kernel races on narrow channels-last inputs
 * (op_build.c, rtus_bwd_weights_broken), which at width 4 made
 * layer2.0.downsample's weight gradient 10-40% wrong, differently each
 * run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selfsup/selfsup.h"
#include "test_support.h"

enum { BATCH = 16, SIDE = 32, REPEATS = 4 };

/* All parameter gradients of one forward and backward, concatenated. */
static float *step_gradients(selfsup_encoder *e, const selfsup_tensor *x,
                             const selfsup_tensor *gy, selfsup_tensor *y,
                             int64_t *count)
{
    ss_assert_ok(selfsup_encoder_zero_grad(e));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_backward(e, gy, NULL));
    int64_t total = 0;
    for (int i = 0; i < selfsup_encoder_param_count(e); i++)
        if (selfsup_encoder_param_is_trainable(e, i))
            total += ss_param_numel(e, i);
    float *g = malloc((size_t)total * sizeof *g);
    ck_assert_ptr_nonnull(g);
    int64_t at = 0;
    for (int i = 0; i < selfsup_encoder_param_count(e); i++) {
        if (!selfsup_encoder_param_is_trainable(e, i))
            continue;
        int64_t n = ss_param_numel(e, i);
        ss_assert_ok(selfsup_encoder_grad_read(e, i, g + at, n));
        at += n;
    }
    *count = total;
    return g;
}

START_TEST(steps_agree_across_thread_counts)
{
    static const int widths[] = {4, 8};
    int width = widths[_i];
    char spec[64];
    snprintf(spec, sizeof spec, "resnet18:width=%d,in_channels=1", width);
    selfsup_encoder *e;
    ss_assert_ok(selfsup_encoder_create(&e, spec, 7));
    ss_assert_ok(selfsup_encoder_set_training(e, 1));
    int64_t xd[4] = {BATCH, 1, SIDE, SIDE};
    int64_t yd[2] = {BATCH, selfsup_encoder_output_dim(e)};
    selfsup_tensor *x, *gy, *y;
    ss_assert_ok(selfsup_tensor_create(&x, 4, xd));
    ss_assert_ok(selfsup_tensor_create(&gy, 2, yd));
    ss_assert_ok(selfsup_tensor_create(&y, 2, yd));
    ss_assert_ok(selfsup_tensor_fill_uniform(x, 11, -1.0f, 1.0f));
    ss_assert_ok(selfsup_tensor_fill_uniform(gy, 12, -1.0f, 1.0f));

    int64_t n, m;
    ss_assert_ok(selfsup_set_num_threads(1));
    float *one = step_gradients(e, x, gy, y, &n);
    ss_assert_ok(selfsup_set_num_threads(2));
    float *first = step_gradients(e, x, gy, y, &n);
    for (int r = 1; r < REPEATS; r++) {
        float *again = step_gradients(e, x, gy, y, &m);
        ck_assert_int_eq(m, n);
        ck_assert_msg(memcmp(again, first, (size_t)n * sizeof *first) == 0,
                      "width %d: the gradients of the same step on two "
                      "threads differ between runs (run %d)",
                      width, r + 1);
        free(again);
    }
    /* One thread sums in another order; a ReLU input within rounding of
     * zero can flip, which moves gradients by about 1e-2 at most here. */
    double d2 = 0, r2 = 0;
    for (int64_t k = 0; k < n; k++) {
        d2 += ((double)one[k] - first[k]) * ((double)one[k] - first[k]);
        r2 += (double)first[k] * first[k];
    }
    printf("width %d: one thread against two: %.2e of the gradients' norm\n",
           width, sqrt(d2 / r2));
    ck_assert_double_le(sqrt(d2 / r2), 5e-2);
    ss_assert_ok(selfsup_set_num_threads(0));
    free(one);
    free(first);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(gy);
    selfsup_tensor_destroy(y);
    selfsup_encoder_destroy(e);
}
END_TEST

/* A narrow input into a wide layer, with its input gradient (GroCo's
 * projector at width 4, whose input gradient feeds the encoder): oneDNN
 * 2.6's brgemm backward-data kernel crashed there on two threads. */
static void narrow_step(selfsup_encoder *e, const selfsup_tensor *x,
                        const selfsup_tensor *gy, selfsup_tensor *y,
                        selfsup_tensor *gx, float *out, int64_t n)
{
    ss_assert_ok(selfsup_encoder_zero_grad(e));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_backward(e, gy, gx));
    ss_assert_ok(selfsup_tensor_read(gx, out, n));
}

START_TEST(narrow_into_wide_layer_on_two_threads)
{
    selfsup_encoder *e;
    ss_assert_ok(
        selfsup_encoder_create(&e, "mlp:in=32,hidden=2048,out=32,layers=2", 3));
    ss_assert_ok(selfsup_encoder_set_training(e, 1));
    enum { N = 64 * 32 };
    int64_t xd[2] = {64, 32};
    selfsup_tensor *x, *gy, *y, *gx;
    ss_assert_ok(selfsup_tensor_create(&x, 2, xd));
    ss_assert_ok(selfsup_tensor_create(&gy, 2, xd));
    ss_assert_ok(selfsup_tensor_create(&y, 2, xd));
    ss_assert_ok(selfsup_tensor_create(&gx, 2, xd));
    ss_assert_ok(selfsup_tensor_fill_uniform(x, 1, -1.0f, 1.0f));
    ss_assert_ok(selfsup_tensor_fill_uniform(gy, 2, -1.0f, 1.0f));
    static float one[N], two[N];
    ss_assert_ok(selfsup_set_num_threads(1));
    narrow_step(e, x, gy, y, gx, one, N);
    ss_assert_ok(selfsup_set_num_threads(2));
    narrow_step(e, x, gy, y, gx, two, N);
    ss_assert_all_close(two, one, N, 1e-5, 1e-4);
    ss_assert_ok(selfsup_set_num_threads(0));
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(gy);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(gx);
    selfsup_encoder_destroy(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, steps_agree_across_thread_counts, 0, 2);
    tcase_add_test(tc, narrow_into_wide_layer_on_two_threads);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
