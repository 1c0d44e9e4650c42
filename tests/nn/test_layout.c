/* Activation layouts: every width gets oneDNN's jit kernels, and the
 * primitives' chosen layouts and nhwc compute the same step (at width 8
 * that compares nhwc's jit kernels with the reference kernels the chosen
 * layouts get). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnnl_ctx.h"
#include "nn/plan.h"
#include "nn_test.h"
#include "test_support.h"

static void assert_jit_plans(const char *spec, int channels, int bf16)
{
    selfsup_encoder *e;
    ss_assert_ok(selfsup_encoder_create(&e, spec, 1));
    selfsup__plan_ctx c = nn_plan_ctx(e, bf16);
    int64_t in[4] = {4, channels, 16, 16};
    for (int training = 0; training < 2; training++) {
        selfsup__plan *p;
        ss_assert_ok(selfsup__plan_create(&p, &c, in, training));
        ck_assert_msg(selfsup__plan_reference_count(p, c.g) == 0,
                      "%s (%s): %d reference primitives", spec,
                      training ? "training" : "inference",
                      selfsup__plan_reference_count(p, c.g));
        selfsup__plan_destroy(p);
    }
    selfsup_encoder_destroy(e);
}

START_TEST(every_width_runs_jit_kernels)
{
    static const int widths[] = {4, 8, 12, 16, 24, 32};
    char spec[96];
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++)
        for (int ch = 1; ch <= 3; ch += 2) {
            snprintf(spec, sizeof spec, "resnet18:width=%d,in_channels=%d",
                     widths[k], ch);
            assert_jit_plans(spec, ch, 0);
        }
    if (!selfsup__dnnl_has_bf16())
        return; /* no bf16 kernels at all (test_bf16.c checks the refusal) */
    assert_jit_plans("resnet18:width=8,in_channels=1,precision=bf16", 1, 1);
    assert_jit_plans("resnet18:width=16,in_channels=1,precision=bf16", 1, 1);
}
END_TEST

/* With AVX-512, oneDNN's blocked nChw16c layouts have jit kernels for every
 * primitive of a step at widths that are multiples of 16, so the plan keeps
 * them. Below AVX-512 the blocked layout is nChw8c, whose one-channel stem
 * convolution only the reference kernel takes backwards, and the plan must
 * move to nhwc instead (every_width_runs_jit_kernels checks it is all jit). */
START_TEST(blocked_layouts_kept_at_multiples_of_16)
{
    int avx512 = selfsup__dnnl_has_bf16(); /* bf16 kernels start there too */
    static const char *specs[] = {"resnet18:width=16,in_channels=1",
                                  "resnet18:width=32,in_channels=3"};
    for (size_t k = 0; k < 2; k++) {
        selfsup_encoder *e;
        ss_assert_ok(selfsup_encoder_create(&e, specs[k], 1));
        selfsup__plan_ctx c = nn_plan_ctx(e, 0);
        int64_t in[4] = {4, k == 0 ? 1 : 3, 16, 16};
        selfsup__plan *p;
        ss_assert_ok(selfsup__plan_create(&p, &c, in, 1));
        if (avx512)
            ck_assert_int_eq(p->act_tag, dnnl_format_tag_any);
        else if (k == 0)
            ck_assert_int_eq(p->act_tag, dnnl_nhwc);
        ck_assert_int_eq(selfsup__plan_reference_count(p, c.g), 0);
        selfsup__plan_destroy(p);
        selfsup_encoder_destroy(e);
    }
}
END_TEST

/* The encoder's flat gradient and running-statistics buffers. */
typedef struct flat {
    float *grads, *buffers;
    int64_t n_params, n_buffers;
} flat;

static flat flat_of(selfsup_encoder *e)
{
    flat f;
    float *values;
    const selfsup__param_info *table;
    int n;
    selfsup__encoder_params(e, &values, &f.grads, &f.n_params, &table, &n);
    selfsup__encoder_buffers(e, &f.buffers, &f.n_buffers, &table, &n);
    return f;
}

/* One training step of a plan in layout tag from the encoder's state:
 * output, running statistics after it, weight gradients. */
typedef struct step_result {
    float *out, *buffers, *grads;
} step_result;

static void run_step(selfsup_encoder *e, dnnl_format_tag_t tag, const float *x,
                     const int64_t *in, const float *gy, int64_t n_out,
                     step_result *r)
{
    selfsup__plan_ctx c = nn_plan_ctx(e, 0);
    flat f = flat_of(e);
    int64_t n_params = f.n_params, n_buffers = f.n_buffers;
    float *grads = f.grads, *buffers = f.buffers;
    float *saved = malloc((size_t)n_buffers * sizeof *saved);
    ck_assert_ptr_nonnull(saved);
    memcpy(saved, buffers, (size_t)n_buffers * sizeof *saved);
    memset(grads, 0, (size_t)n_params * sizeof *grads);

    selfsup__plan *p;
    ss_assert_ok(selfsup__plan_create_layout(&p, &c, in, 1, tag));
    r->out = malloc((size_t)n_out * sizeof *r->out);
    r->buffers = malloc((size_t)n_buffers * sizeof *r->buffers);
    r->grads = malloc((size_t)n_params * sizeof *r->grads);
    ck_assert(r->out && r->buffers && r->grads);
    ss_assert_ok(selfsup__plan_forward(p, &c, 0, 1, x, r->out));
    ss_assert_ok(selfsup__plan_backward(p, &c, 0, 1, gy, NULL));
    memcpy(r->buffers, buffers, (size_t)n_buffers * sizeof *saved);
    memcpy(r->grads, grads, (size_t)n_params * sizeof *grads);
    selfsup__plan_destroy(p);
    memcpy(buffers, saved, (size_t)n_buffers * sizeof *saved);
    free(saved);
}

static void step_result_free(step_result *r)
{
    free(r->out);
    free(r->buffers);
    free(r->grads);
}

/* Float32 sums in another order: agreement to 1e-4 of each array's
 * largest magnitude (activations and gradients are O(1) here). */
static void assert_same(const char *spec, const char *what, const float *a,
                        const float *b, int64_t n)
{
    double scale = 0, worst = 0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(a[i]));
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    ck_assert_msg(worst <= 1e-4 * scale + 1e-6,
                  "%s in nhwc: %s differ by up to %g (scale %g)", spec, what,
                  worst, scale);
}

static void assert_layouts_agree(const char *spec)
{
    selfsup_encoder *e;
    ss_assert_ok(selfsup_encoder_create(&e, spec, 7));
    int64_t in[4] = {6, 1, 12, 12}, dim = selfsup_encoder_output_dim(e);
    int64_t n_out = in[0] * dim;
    int64_t dims_y[2] = {in[0], dim};
    selfsup_tensor *x = nn_random_tensor(4, in, 11, -1, 1);
    selfsup_tensor *gy = nn_random_tensor(2, dims_y, 12, -1, 1);
    flat f = flat_of(e);
    int64_t n_params = f.n_params, n_buffers = f.n_buffers;

    step_result base;
    run_step(e, dnnl_format_tag_any, selfsup_tensor_data(x), in,
             selfsup_tensor_data(gy), n_out, &base);
    step_result r;
    run_step(e, dnnl_nhwc, selfsup_tensor_data(x), in, selfsup_tensor_data(gy),
             n_out, &r);
    assert_same(spec, "outputs", base.out, r.out, n_out);
    assert_same(spec, "running statistics", base.buffers, r.buffers, n_buffers);
    assert_same(spec, "weight gradients", base.grads, r.grads, n_params);
    step_result_free(&r);
    step_result_free(&base);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(gy);
    selfsup_encoder_destroy(e);
}

START_TEST(layouts_compute_the_same_step)
{
    assert_layouts_agree("resnet18:width=16,in_channels=1");
    assert_layouts_agree("resnet18:width=8,in_channels=1");
}
END_TEST

/* Float32 inner products read their weights in the flat buffer as they
 * are (op_build.c, build_linear): no copy in any plan; bf16 ones convert
 * them into a copy. */
static void assert_linear_weight_copies(const char *spec, int bf16,
                                        int want_copies)
{
    selfsup_encoder *e;
    ss_assert_ok(selfsup_encoder_create(&e, spec, 1));
    selfsup__plan_ctx c = nn_plan_ctx(e, bf16);
    const int64_t rows[2] = {8, 32};
    for (int mode = 0; mode < 2; mode++) {
        selfsup__plan *p;
        ss_assert_ok(selfsup__plan_create(&p, &c, rows, mode));
        int linears = 0;
        for (int i = 0; i < p->n_ops; i++) {
            if (c.g->ops[i].kind != SS_OP_LINEAR)
                continue;
            linears++;
            const selfsup__op_plan *o = &p->ops[i];
            int copies = o->w_fwd_copy != NULL || o->w_bwd_copy != NULL;
            ck_assert_msg(copies == want_copies,
                          "%s, %s plan, op %d: weight copies %d, want %d", spec,
                          mode ? "training" : "inference", i, copies,
                          want_copies);
            if (!want_copies) {
                void *h = NULL;
                dnnl_memory_get_data_handle(o->w_fwd, &h);
                ck_assert_ptr_eq(
                    h, c.params + c.g->params[c.g->ops[i].param_weight].offset);
            }
        }
        ck_assert_int_eq(linears, 3);
        selfsup__plan_destroy(p);
    }
    selfsup_encoder_destroy(e);
}

START_TEST(float32_linear_layers_keep_no_weight_copies)
{
    assert_linear_weight_copies("mlp:in=32,hidden=64,out=48,layers=3", 0, 0);
    if (selfsup__dnnl_has_bf16())
        assert_linear_weight_copies(
            "mlp:in=32,hidden=64,out=48,layers=3,precision=bf16", 1, 1);
}
END_TEST

TCase *layout_tcase(void)
{
    TCase *tc = tcase_create("layouts");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_width_runs_jit_kernels);
    tcase_add_test(tc, blocked_layouts_kept_at_multiples_of_16);
    tcase_add_test(tc, layouts_compute_the_same_step);
    tcase_add_test(tc, float32_linear_layers_keep_no_weight_copies);
    return tc;
}
