/* Golden tests against PyTorch 1.13 (tests/reference/nn.py): torchvision's
 * resnet18 turned into the CIFAR ResNet-18 at width 8, and two MLP heads,
 * with the same weights and batches on both sides.
 *
 * Both sides compute in float32 with different summation orders (oneDNN's
 * blocked kernels vs PyTorch's), and batch norm divides by batch standard
 * deviations, so differences grow with depth: measured at most 3.3e-6 of
 * an array's largest value (weight gradients of the middle stages). The
 * tolerances below (1e-4 of each array's largest value, plus 1e-3
 * relative) leave a margin over that while staying far below what a wrong
 * layer gives (errors of the order of the values themselves). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_test.h"
#include "test_support.h"

/* Gradients that vanish in exact arithmetic (the bias of a Linear followed
 * by batch norm) come out of both sides as rounding noise, eps times the
 * sum of the terms; their scale is taken as at least a tenth of the
 * model's largest gradient. */
static double max_abs(const float *x, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* Compares got with the golden array, tolerance scaled by its largest
 * value; also prints the worst error (ctest shows it on failure only). */
static void expect_close(const float *got, const float *want, int64_t n,
                         const char *what, double floor)
{
    double scale = fmax(max_abs(want, n), floor);
    ck_assert_msg(scale > 0, "%s: golden values are all zero", what);
    for (int64_t i = 0; i < n; i++) {
        double tol = 1e-4 * scale + 1e-3 * fabs(want[i]);
        ck_assert_msg(fabs(got[i] - want[i]) <= tol,
                      "%s[%lld] = %.9g, PyTorch %.9g (tol %.3g)", what,
                      (long long)i, got[i], want[i], tol);
    }
}

/* q * scale, as the script drew them. */
static float *dequant(const ss_golden *g, const char *name, int64_t n)
{
    char key[160];
    snprintf(key, sizeof key, "%s.q", name);
    const float *q = ss_golden_get(g, key, n);
    snprintf(key, sizeof key, "%s.scale", name);
    double s = ss_golden_has(g, key) ? ss_golden_scalar(g, key) : 1.0 / 256;
    float *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(q[i] * s);
    return v;
}

static selfsup_tensor *golden_tensor(const ss_golden *g, const char *name,
                                     int ndim, const int64_t *dims)
{
    selfsup_tensor *t = nn_tensor(ndim, dims);
    int64_t n = selfsup_tensor_numel(t);
    float *v = dequant(g, name, n);
    ss_assert_ok(selfsup_tensor_write(t, v, n));
    free(v);
    return t;
}

/* Loads every trainable parameter: name -> weights[name] (or the
 * override for conv1). */
static void load_weights(selfsup_encoder *e, const ss_golden *g,
                         const char *prefix, const char *conv1_key)
{
    int n = selfsup_encoder_param_count(e);
    for (int i = 0; i < n; i++) {
        if (!selfsup_encoder_param_is_trainable(e, i))
            continue;
        const char *name = selfsup_encoder_param_name(e, i);
        int ndim;
        int64_t dims[4], count = 1;
        ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, dims));
        for (int k = 0; k < ndim; k++)
            count *= dims[k];
        char key[160];
        if (conv1_key && strcmp(name, "conv1.weight") == 0)
            snprintf(key, sizeof key, "%s", conv1_key);
        else
            snprintf(key, sizeof key, "%s%s", prefix, name);
        float *v = dequant(g, key, count);
        ss_assert_ok(selfsup_encoder_param_write(e, i, v, count));
        free(v);
    }
}

typedef struct golden_case {
    const char *file, *spec, *tag; /* tag prefixes the arrays: "c1." */
    const char *weights;           /* prefix of the weights: "w." */
    const char *conv1;             /* conv1 override key or NULL */
    int rank;
    int64_t in_dims[4];
} golden_case;

static void run_case(const golden_case *c)
{
    ss_golden *g = ss_golden_load(c->file);
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_encoder_create(&e, c->spec, 1));
    load_weights(e, g, c->weights, c->conv1);
    char key[160];
    int64_t n = c->in_dims[0], d = selfsup_encoder_output_dim(e);
    int64_t od[2] = {n, d};
    snprintf(key, sizeof key, "%sxa", c->tag);
    selfsup_tensor *xa = golden_tensor(g, key, c->rank, c->in_dims);
    snprintf(key, sizeof key, "%sxb", c->tag);
    selfsup_tensor *xb = golden_tensor(g, key, c->rank, c->in_dims);
    const char *gkey = strncmp(c->tag, "c", 1) == 0 ? "grad_output" : NULL;
    snprintf(key, sizeof key, "%sgrad_output", gkey ? "" : c->tag);
    selfsup_tensor *gy = golden_tensor(g, key, 2, od);
    selfsup_tensor *y = nn_tensor(2, od);
    selfsup_tensor *gx = nn_tensor(c->rank, c->in_dims);

    /* training forward, backward */
    ss_assert_ok(selfsup_encoder_forward_view(e, 0, xa, y));
    snprintf(key, sizeof key, "%sout_train", c->tag);
    expect_close(selfsup_tensor_data(y), ss_golden_get(g, key, n * d), n * d,
                 key, 0);
    ss_assert_ok(selfsup_encoder_backward_view(e, 0, gy, gx));
    snprintf(key, sizeof key, "%sgrad_input", c->tag);
    int64_t nx = selfsup_tensor_numel(gx);
    expect_close(selfsup_tensor_data(gx), ss_golden_get(g, key, nx), nx, key,
                 0);
    int np = selfsup_encoder_param_count(e);
    double gmax = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < np; i++) {
            if (!selfsup_encoder_param_is_trainable(e, i))
                continue;
            const char *name = selfsup_encoder_param_name(e, i);
            if (pass == 0) {
                snprintf(key, sizeof key, "%sgrad.%s.step", c->tag, name);
                double step = ss_golden_scalar(g, key);
                int ndim;
                int64_t dims[4], count = 1;
                ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, dims));
                for (int k = 0; k < ndim; k++)
                    count *= dims[k];
                int64_t m = (count + (int64_t)step - 1) / (int64_t)step;
                snprintf(key, sizeof key, "%sgrad.%s", c->tag, name);
                gmax = fmax(gmax, max_abs(ss_golden_get(g, key, m), m));
                continue;
            }
            int ndim;
            int64_t dims[4], count = 1;
            ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, dims));
            for (int k = 0; k < ndim; k++)
                count *= dims[k];
            float *grad = malloc((size_t)count * sizeof *grad);
            ss_assert_ok(selfsup_encoder_grad_read(e, i, grad, count));
            snprintf(key, sizeof key, "%sgrad.%s.step", c->tag, name);
            int64_t step = (int64_t)ss_golden_scalar(g, key);
            int64_t m = (count + step - 1) / step;
            for (int64_t k = 0; k < m; k++)
                grad[k] = grad[k * step];
            snprintf(key, sizeof key, "%sgrad.%s", c->tag, name);
            expect_close(grad, ss_golden_get(g, key, m), m, key, 0.1 * gmax);
            free(grad);
        }

    /* a second training forward on another view and batch */
    ss_assert_ok(selfsup_encoder_forward_view(e, 1, xb, y));
    for (int i = 0; i < np; i++) {
        if (selfsup_encoder_param_is_trainable(e, i))
            continue;
        const char *name = selfsup_encoder_param_name(e, i);
        int ndim;
        int64_t dims[4];
        ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, dims));
        float *v = malloc((size_t)dims[0] * sizeof *v);
        ss_assert_ok(selfsup_encoder_param_read(e, i, v, dims[0]));
        snprintf(key, sizeof key, "%safter2.%s", c->tag, name);
        expect_close(v, ss_golden_get(g, key, dims[0]), dims[0], key, 0);
        free(v);
    }

    /* inference with the running statistics */
    ss_assert_ok(selfsup_encoder_set_training(e, 0));
    ss_assert_ok(selfsup_encoder_forward(e, xa, y));
    snprintf(key, sizeof key, "%sout_eval", c->tag);
    expect_close(selfsup_tensor_data(y), ss_golden_get(g, key, n * d), n * d,
                 key, 0);

    selfsup_tensor_destroy(xa);
    selfsup_tensor_destroy(xb);
    selfsup_tensor_destroy(gy);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(gx);
    selfsup_encoder_destroy(e);
    ss_golden_free(g);
}

START_TEST(golden_resnet18_gray)
{
    golden_case c = {"nn_resnet18_w8.txt",
                     "resnet18:width=8,in_channels=1",
                     "c1.",
                     "w.",
                     "c1.conv1.weight",
                     4,
                     {4, 1, 28, 28}};
    run_case(&c);
}
END_TEST

START_TEST(golden_resnet18_rgb)
{
    golden_case c = {"nn_resnet18_w8.txt",
                     "resnet18:width=8,in_channels=3",
                     "c3.",
                     "w.",
                     "c3.conv1.weight",
                     4,
                     {4, 3, 28, 28}};
    run_case(&c);
}
END_TEST

START_TEST(golden_mlp_projector)
{
    golden_case c = {
        "nn_mlp.txt", "mlp:in=32,hidden=64,out=16,layers=3,last_bn=1,bias=1",
        "a.",         "a.w.",
        NULL,         2,
        {8, 32}};
    run_case(&c);
}
END_TEST

START_TEST(golden_mlp_no_bias)
{
    golden_case c = {
        "nn_mlp.txt", "mlp:in=32,hidden=48,out=16,layers=2,last_bn=0,bias=0",
        "b.",         "b.w.",
        NULL,         2,
        {8, 32}};
    run_case(&c);
}
END_TEST

TCase *golden_tcase(void)
{
    TCase *tc = tcase_create("golden_pytorch");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, golden_resnet18_gray);
    tcase_add_test(tc, golden_resnet18_rgb);
    tcase_add_test(tc, golden_mlp_projector);
    tcase_add_test(tc, golden_mlp_no_bias);
    return tc;
}
