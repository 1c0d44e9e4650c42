/* The public encoder API: names and shapes, initialisation, specs, views,
 * clones, error paths, and allocation failures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_test.h"
#include "test_support.h"

static selfsup_encoder *make(const char *spec, uint64_t seed)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_encoder_create(&e, spec, seed));
    return e;
}

static float *read_param(const selfsup_encoder *e, const char *name, int64_t *n)
{
    int i;
    ss_assert_ok(selfsup_encoder_param_find(e, name, &i));
    *n = ss_param_numel(e, i);
    float *v = malloc((size_t)*n * sizeof *v);
    ss_assert_ok(selfsup_encoder_param_read(e, i, v, *n));
    return v;
}

START_TEST(resnet_names_and_shapes)
{
    selfsup_encoder *e = make("resnet18", 3);
    ck_assert_str_eq(selfsup_encoder_spec(e),
                     "resnet18:width=16,in_channels=1,precision=f32");
    ck_assert_int_eq(selfsup_encoder_input_channels(e), 1);
    ck_assert_int_eq(selfsup_encoder_output_dim(e), 128);
    /* torchvision's resnet18 without fc: 60 parameters, 40 buffers (no
     * num_batches_tracked) */
    ck_assert_int_eq(selfsup_encoder_param_count(e), 100);
    int trainable = 0;
    for (int i = 0; i < 100; i++)
        trainable += selfsup_encoder_param_is_trainable(e, i);
    ck_assert_int_eq(trainable, 60);
    const char *first[] = {
        "conv1.weight",          "bn1.weight",          "bn1.bias",
        "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias",
        "layer1.0.conv2.weight", "layer1.0.bn2.weight"};
    for (int i = 0; i < 8; i++)
        ck_assert_str_eq(selfsup_encoder_param_name(e, i), first[i]);
    ck_assert_str_eq(selfsup_encoder_param_name(e, 59), "layer4.1.bn2.bias");
    ck_assert_str_eq(selfsup_encoder_param_name(e, 60), "bn1.running_mean");
    ck_assert_str_eq(selfsup_encoder_param_name(e, 61), "bn1.running_var");
    ck_assert_str_eq(selfsup_encoder_param_name(e, 99),
                     "layer4.1.bn2.running_var");
    ck_assert_ptr_null(selfsup_encoder_param_name(e, 100));
    ck_assert_ptr_null(selfsup_encoder_param_name(e, -1));
    ck_assert(!selfsup_encoder_param_is_trainable(e, 60));
    ck_assert(!selfsup_encoder_param_is_trainable(e, 500));
    int i, ndim;
    int64_t d[4];
    ss_assert_ok(
        selfsup_encoder_param_find(e, "layer2.0.downsample.0.weight", &i));
    ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, d));
    ck_assert_int_eq(ndim, 4);
    ck_assert(d[0] == 32 && d[1] == 16 && d[2] == 1 && d[3] == 1);
    ss_assert_ok(selfsup_encoder_param_find(e, "conv1.weight", &i));
    ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, d));
    ck_assert(ndim == 4 && d[0] == 16 && d[1] == 1 && d[2] == 3 && d[3] == 3);
    ss_assert_ok(
        selfsup_encoder_param_find(e, "layer3.1.bn2.running_mean", &i));
    ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, d));
    ck_assert(ndim == 1 && d[0] == 64);
    ss_assert_fails(selfsup_encoder_param_find(e, "fc.weight", &i),
                    SELFSUP_ERR_INVALID_ARGUMENT, "fc.weight");
    ss_assert_fails(
        selfsup_encoder_param_find(e, "layer1.0.downsample.0.weight", &i),
        SELFSUP_ERR_INVALID_ARGUMENT, "downsample");
    selfsup_encoder_destroy(e);
}
END_TEST

START_TEST(mlp_names_and_defaults)
{
    selfsup_encoder *e = make("mlp", 3);
    ck_assert_str_eq(selfsup_encoder_spec(e),
                     "mlp:in=512,hidden=4096,out=256,layers=2,last_bn=0,"
                     "bias=1,precision=f32");
    const char *names[] = {"0.weight",       "0.bias",       "1.weight",
                           "1.bias",         "3.weight",     "3.bias",
                           "1.running_mean", "1.running_var"};
    ck_assert_int_eq(selfsup_encoder_param_count(e), 8);
    for (int i = 0; i < 8; i++)
        ck_assert_str_eq(selfsup_encoder_param_name(e, i), names[i]);
    selfsup_encoder_destroy(e);
    e = make("mlp:in=8,hidden=6,out=4,layers=3,last_bn=1,bias=0", 3);
    const char *names2[] = {
        "0.weight",      "1.weight",       "1.bias",        "3.weight",
        "4.weight",      "4.bias",         "6.weight",      "1.running_mean",
        "1.running_var", "4.running_mean", "4.running_var", "7.running_mean",
        "7.running_var"};
    ck_assert_int_eq(selfsup_encoder_param_count(e), 13);
    for (int i = 0; i < 13; i++)
        ck_assert_str_eq(selfsup_encoder_param_name(e, i), names2[i]);
    ck_assert_int_eq(selfsup_encoder_input_channels(e), 8);
    ck_assert_int_eq(selfsup_encoder_output_dim(e), 4);
    selfsup_encoder_destroy(e);
}
END_TEST

static void moments(const float *v, int64_t n, double *mean, double *std,
                    double *maxabs)
{
    double s = 0, ss = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        s += v[i];
        m = fmax(m, fabs(v[i]));
    }
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++)
        ss += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(ss / (double)n);
    *maxabs = m;
}

START_TEST(initialisation_as_pytorch)
{
    selfsup_encoder *e = make("resnet18:width=16,in_channels=1", 11);
    int64_t n;
    double mean, std, mx;
    /* torchvision: kaiming_normal_(fan_out, relu): std sqrt(2 / (128*9));
     * 147456 draws -> the sample std is within 1% */
    float *w = read_param(e, "layer4.1.conv2.weight", &n);
    moments(w, n, &mean, &std, &mx);
    ss_assert_close(std, sqrt(2.0 / (128 * 9)), 0, 0.01);
    ss_assert_close(mean, 0, 4 * std / sqrt((double)n), 0);
    free(w);
    float *g = read_param(e, "layer2.0.bn1.weight", &n);
    for (int64_t k = 0; k < n; k++)
        ck_assert(g[k] == 1.0f);
    free(g);
    float *b = read_param(e, "layer2.0.bn1.bias", &n);
    for (int64_t k = 0; k < n; k++)
        ck_assert(b[k] == 0.0f);
    free(b);
    float *rv = read_param(e, "layer2.0.bn1.running_var", &n);
    for (int64_t k = 0; k < n; k++)
        ck_assert(rv[k] == 1.0f);
    free(rv);
    selfsup_encoder_destroy(e);

    /* nn.Linear: U(+-1/sqrt(in)) for weight and bias: std bound/sqrt(3) */
    e = make("mlp:in=256,hidden=512,out=64", 11);
    float *lw = read_param(e, "0.weight", &n);
    moments(lw, n, &mean, &std, &mx);
    ck_assert(mx <= 1.0 / 16);
    ss_assert_close(std, 1.0 / 16 / sqrt(3.0), 0, 0.01);
    free(lw);
    float *lb = read_param(e, "3.bias", &n);
    moments(lb, n, &mean, &std, &mx);
    ck_assert(mx <= 1.0 / sqrt(512.0) && mx > 0.5 / sqrt(512.0));
    free(lb);
    selfsup_encoder_destroy(e);
}
END_TEST

START_TEST(deterministic_in_seed)
{
    selfsup_encoder *a = make("resnet18:width=4", 5);
    selfsup_encoder *b = make("resnet18:width=4", 5);
    selfsup_encoder *c = make("resnet18:width=4", 6);
    int64_t n;
    float *wa = read_param(a, "layer3.0.conv1.weight", &n);
    float *wb = read_param(b, "layer3.0.conv1.weight", &n);
    float *wc = read_param(c, "layer3.0.conv1.weight", &n);
    ck_assert(memcmp(wa, wb, (size_t)n * sizeof *wa) == 0);
    ck_assert(memcmp(wa, wc, (size_t)n * sizeof *wa) != 0);
    free(wa);
    free(wb);
    free(wc);
    selfsup_encoder_destroy(a);
    selfsup_encoder_destroy(b);
    selfsup_encoder_destroy(c);
}
END_TEST

START_TEST(bad_specs)
{
    selfsup_encoder *sentinel = (selfsup_encoder *)(uintptr_t)0x1234;
    selfsup_encoder *e = sentinel;
    ss_assert_fails(selfsup_encoder_create(NULL, "resnet18", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ss_assert_fails(selfsup_encoder_create(&e, NULL, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "spec");
    ss_assert_fails(selfsup_encoder_create(&e, "resnet34", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "resnet34");
    ss_assert_fails(selfsup_encoder_create(&e, "resnet18:width=0", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "width");
    ss_assert_fails(selfsup_encoder_create(&e, "resnet18:depth=3", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "depth");
    ss_assert_fails(selfsup_encoder_create(&e, "resnet18:precision=f16", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "precision");
    ss_assert_fails(selfsup_encoder_create(&e, "resnet18:stem_stride=3", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "stem_stride");
    ss_assert_fails(selfsup_encoder_create(&e, "resnet18:grid=0", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "grid");
    ss_assert_fails(selfsup_encoder_create(&e, "mlp:layers=0", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "layers");
    ss_assert_fails(selfsup_encoder_create(&e, "mlp:last_bn=2", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "last_bn");
    ss_assert_fails(selfsup_encoder_create(&e, "mlp:width=3", 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "width");
    ck_assert_ptr_eq(e, sentinel);
    /* the canonical spec makes the same encoder */
    e = make("  resnet18 : in_channels = 3 , width=8", 2);
    selfsup_encoder *f = make(selfsup_encoder_spec(e), 2);
    ck_assert_str_eq(selfsup_encoder_spec(e), selfsup_encoder_spec(f));
    int64_t n;
    float *we = read_param(e, "conv1.weight", &n);
    float *wf = read_param(f, "conv1.weight", &n);
    ck_assert_int_eq(n, 8 * 3 * 9);
    ck_assert(memcmp(we, wf, (size_t)n * sizeof *we) == 0);
    free(we);
    free(wf);
    selfsup_encoder_destroy(e);
    selfsup_encoder_destroy(f);
    /* stem_stride is spelled out when it is not 1; 28 -> 14 -> 14 -> 7 ->
     * 4 -> 2, the same parameters as the CIFAR stem's */
    e = make("resnet18:stem_stride=2,width=8", 2);
    ck_assert_str_eq(selfsup_encoder_spec(e),
                     "resnet18:width=8,in_channels=1,stem_stride=2,"
                     "precision=f32");
    f = make("resnet18:stem_stride=1,width=8", 2);
    ck_assert_str_eq(selfsup_encoder_spec(f),
                     "resnet18:width=8,in_channels=1,precision=f32");
    ck_assert_int_eq(selfsup_encoder_param_count(e),
                     selfsup_encoder_param_count(f));
    int64_t xd[4] = {2, 1, 28, 28}, yd[2] = {2, 64};
    selfsup_tensor *x = nn_random_tensor(4, xd, 3, 0, 1), *y = nn_tensor(2, yd);
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_encoder_destroy(e);
    selfsup_encoder_destroy(f);
}
END_TEST

START_TEST(forward_and_backward_errors)
{
    selfsup_encoder *e = make("resnet18:width=4,in_channels=1", 1);
    const int64_t xd[4] = {2, 1, 8, 8}, bad_c[4] = {2, 3, 8, 8};
    const int64_t yd[2] = {2, 32}, bad_y[2] = {3, 32}, xd3[3] = {2, 1, 8};
    selfsup_tensor *x = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *xc = nn_random_tensor(4, bad_c, 1, -1, 1);
    selfsup_tensor *x3 = nn_random_tensor(3, xd3, 1, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd);
    selfsup_tensor *yb = nn_tensor(2, bad_y);
    selfsup_tensor *gx = nn_tensor(4, xd);
    selfsup_tensor *gxb = nn_tensor(4, bad_c);
    ss_assert_ok(selfsup_tensor_fill(y, 7.0f));
    ss_assert_fails(selfsup_encoder_forward(NULL, x, y),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e is NULL");
    ss_assert_fails(selfsup_encoder_forward(e, NULL, y),
                    SELFSUP_ERR_INVALID_ARGUMENT, "input");
    ss_assert_fails(selfsup_encoder_forward(e, x, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "output");
    ss_assert_fails(selfsup_encoder_forward_view(e, 8, x, y),
                    SELFSUP_ERR_INVALID_ARGUMENT, "view = 8");
    ss_assert_fails(selfsup_encoder_forward_view(e, -1, x, y),
                    SELFSUP_ERR_INVALID_ARGUMENT, "view = -1");
    ss_assert_fails(selfsup_encoder_forward(e, xc, y), SELFSUP_ERR_SHAPE,
                    "(2, 3, 8, 8), but the encoder takes (N, 1, H, W)");
    ss_assert_fails(selfsup_encoder_forward(e, x3, y), SELFSUP_ERR_SHAPE,
                    "(2, 1, 8)");
    ss_assert_fails(selfsup_encoder_forward(e, x, yb), SELFSUP_ERR_SHAPE,
                    "(3, 32)");
    selfsup_tensor *xn = nn_random_tensor(4, xd, 1, -1, 1);
    float *raw = malloc(128 * sizeof *raw);
    ss_assert_ok(selfsup_tensor_read(xn, raw, 128));
    raw[77] = NAN;
    ss_assert_ok(selfsup_tensor_write(xn, raw, 128));
    ss_assert_fails(selfsup_encoder_forward(e, xn, y), SELFSUP_ERR_NUMERIC,
                    "input");
    /* outputs untouched by the failures */
    for (int k = 0; k < 64; k++)
        ck_assert(selfsup_tensor_data(y)[k] == 7.0f);

    /* backward needs a pending training forward of that view */
    ss_assert_fails(selfsup_encoder_backward(e, y, NULL), SELFSUP_ERR_STATE,
                    "view 0");
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_fails(selfsup_encoder_backward_view(e, 1, y, NULL),
                    SELFSUP_ERR_STATE, "view 1");
    ss_assert_fails(selfsup_encoder_backward(e, yb, NULL), SELFSUP_ERR_SHAPE,
                    "grad_output");
    ss_assert_fails(selfsup_encoder_backward(e, y, gxb), SELFSUP_ERR_SHAPE,
                    "grad_input");
    ss_assert_ok(selfsup_tensor_fill(gx, 5.0f));
    selfsup_tensor *gn = nn_tensor(2, yd);
    float bad[64] = {0};
    bad[3] = INFINITY;
    ss_assert_ok(selfsup_tensor_write(gn, bad, 64));
    ss_assert_fails(selfsup_encoder_backward(e, gn, gx), SELFSUP_ERR_NUMERIC,
                    "grad_output");
    for (int k = 0; k < 128; k++)
        ck_assert(selfsup_tensor_data(gx)[k] == 5.0f);
    ss_assert_ok(selfsup_encoder_backward(e, y, gx));
    ss_assert_fails(selfsup_encoder_backward(e, y, gx), SELFSUP_ERR_STATE,
                    "pending");
    /* inference forwards keep nothing for backward */
    ss_assert_ok(selfsup_encoder_set_training(e, 0));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_fails(selfsup_encoder_backward(e, y, gx), SELFSUP_ERR_STATE,
                    NULL);

    /* batch norm needs two values per channel in training mode */
    const int64_t one[4] = {1, 1, 1, 1}, yone[2] = {1, 32};
    selfsup_tensor *x1 = nn_random_tensor(4, one, 1, -1, 1);
    selfsup_tensor *y1 = nn_tensor(2, yone);
    ss_assert_ok(selfsup_encoder_forward(e, x1, y1)); /* inference: fine */
    ss_assert_ok(selfsup_encoder_set_training(e, 1));
    ss_assert_fails(selfsup_encoder_forward(e, x1, y1), SELFSUP_ERR_SHAPE,
                    "batch of at least 2");

    /* parameter access errors */
    float v[4];
    int i = -5;
    ss_assert_fails(selfsup_encoder_param_read(e, 999, v, 4),
                    SELFSUP_ERR_INVALID_ARGUMENT, "index = 999");
    ss_assert_fails(selfsup_encoder_param_read(e, 0, v, 4), SELFSUP_ERR_SHAPE,
                    "conv1.weight");
    ss_assert_fails(selfsup_encoder_param_write(e, 0, NULL, 36),
                    SELFSUP_ERR_INVALID_ARGUMENT, "src");
    ss_assert_ok(selfsup_encoder_param_find(e, "bn1.running_mean", &i));
    ss_assert_fails(selfsup_encoder_grad_read(e, i, v, 4),
                    SELFSUP_ERR_INVALID_ARGUMENT, "no gradient");
    ss_assert_fails(selfsup_encoder_param_find(e, NULL, &i),
                    SELFSUP_ERR_INVALID_ARGUMENT, "name");
    ss_assert_fails(selfsup_encoder_set_training(NULL, 1),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e");
    ss_assert_fails(selfsup_encoder_zero_grad(NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e");
    ck_assert_int_eq(selfsup_encoder_param_count(NULL), 0);
    ck_assert_int_eq(selfsup_encoder_output_dim(NULL), 0);
    ck_assert_ptr_null(selfsup_encoder_spec(NULL));
    selfsup_encoder_destroy(NULL);

    free(raw);
    selfsup_tensor *all[] = {x, xc, x3, y, yb, gx, gxb, xn, gn, x1, y1};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        selfsup_tensor_destroy(all[k]);
    selfsup_encoder_destroy(e);
}
END_TEST

static float *grads_of(selfsup_encoder *e, int64_t *count)
{
    float *v, *g;
    const selfsup__param_info *t;
    int n;
    selfsup__encoder_params(e, &v, &g, count, &t, &n);
    float *copy = malloc((size_t)*count * sizeof *copy);
    memcpy(copy, g, (size_t)*count * sizeof *copy);
    return copy;
}

/* Each view keeps its own activations and batch statistics: interleaved
 * forwards, then backwards in the other order, give the sum of the
 * gradients of separate runs. */
START_TEST(views_keep_their_own_activations)
{
    const char *spec = "resnet18:width=4,in_channels=2";
    const int64_t xd[4] = {3, 2, 9, 9}, yd[2] = {3, 32};
    selfsup_tensor *xa = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *xb = nn_random_tensor(4, xd, 2, -2, 1);
    selfsup_tensor *ga = nn_random_tensor(2, yd, 3, -1, 1);
    selfsup_tensor *gb = nn_random_tensor(2, yd, 4, -1, 1);
    selfsup_tensor *ya = nn_tensor(2, yd), *yb = nn_tensor(2, yd);
    selfsup_tensor *y = nn_tensor(2, yd);
    selfsup_encoder *e = make(spec, 9);
    ss_assert_ok(selfsup_encoder_forward_view(e, 0, xa, ya));
    ss_assert_ok(selfsup_encoder_forward_view(e, 5, xb, yb));
    ss_assert_ok(selfsup_encoder_backward_view(e, 5, gb, NULL));
    ss_assert_ok(selfsup_encoder_backward_view(e, 0, ga, NULL));
    int64_t n;
    float *both = grads_of(e, &n);

    selfsup_encoder *a = make(spec, 9), *b = make(spec, 9);
    ss_assert_ok(selfsup_encoder_forward(a, xa, y));
    ss_assert_all_close(selfsup_tensor_data(y), selfsup_tensor_data(ya), 96, 0,
                        0);
    ss_assert_ok(selfsup_encoder_backward(a, ga, NULL));
    ss_assert_ok(selfsup_encoder_forward(b, xb, y));
    ss_assert_all_close(selfsup_tensor_data(y), selfsup_tensor_data(yb), 96, 0,
                        0);
    ss_assert_ok(selfsup_encoder_backward(b, gb, NULL));
    float *ra = grads_of(a, &n), *rb = grads_of(b, &n);
    for (int64_t k = 0; k < n; k++)
        ra[k] += rb[k];
    /* same primitives and data: only the order of one float addition */
    ss_assert_all_close(both, ra, n, 1e-6, 1e-5);
    free(both);
    free(ra);
    free(rb);
    selfsup_encoder_destroy(a);
    selfsup_encoder_destroy(b);
    selfsup_encoder_destroy(e);
    selfsup_tensor *all[] = {xa, xb, ga, gb, ya, yb, y};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        selfsup_tensor_destroy(all[k]);
}
END_TEST

START_TEST(clone_is_independent)
{
    selfsup_encoder *e = make("resnet18:width=4,in_channels=1", 4);
    const int64_t xd[4] = {2, 1, 8, 8}, yd[2] = {2, 32};
    selfsup_tensor *x = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd), *yc = nn_tensor(2, yd);
    ss_assert_ok(selfsup_encoder_forward(e, x, y)); /* moves running stats */
    ss_assert_ok(selfsup_encoder_set_training(e, 0));
    selfsup_encoder *c = NULL;
    ss_assert_fails(selfsup_encoder_clone(NULL, e),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ss_assert_fails(selfsup_encoder_clone(&c, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e");
    ss_assert_ok(selfsup_encoder_clone(&c, e));
    ck_assert_int_eq(selfsup_encoder_is_training(c), 0);
    ck_assert_str_eq(selfsup_encoder_spec(c), selfsup_encoder_spec(e));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_forward(c, x, yc));
    ss_assert_all_close(selfsup_tensor_data(yc), selfsup_tensor_data(y), 64, 0,
                        0);
    /* changing the clone leaves the original alone, and the clone's cached
     * weight layouts follow its own writes */
    int i;
    ss_assert_ok(selfsup_encoder_param_find(c, "layer1.0.conv1.weight", &i));
    int64_t n = ss_param_numel(c, i);
    float *w = malloc((size_t)n * sizeof *w);
    ss_assert_ok(selfsup_encoder_param_read(c, i, w, n));
    for (int64_t k = 0; k < n; k++)
        w[k] *= -2.0f;
    ss_assert_ok(selfsup_encoder_param_write(c, i, w, n));
    ss_assert_ok(selfsup_encoder_forward(c, x, yc));
    float before[64];
    memcpy(before, selfsup_tensor_data(y), sizeof before);
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_all_close(selfsup_tensor_data(y), before, 64, 0, 0);
    double diff = 0;
    for (int k = 0; k < 64; k++)
        diff += fabs(selfsup_tensor_data(yc)[k] - before[k]);
    ck_assert_msg(diff > 1e-3, "the clone's write changed nothing");
    selfsup_encoder_destroy(e); /* the clone outlives its source */
    ss_assert_ok(selfsup_encoder_forward(c, x, y));
    ss_assert_all_close(selfsup_tensor_data(y), selfsup_tensor_data(yc), 64, 0,
                        0);
    free(w);
    selfsup_encoder_destroy(c);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(yc);
}
END_TEST

/* grid=2 keeps the layout: on 28x28 the CIFAR stem's last map is 4x4, so
 * each of a channel's four cells averages a 2x2 block and their mean is
 * the global average; the rows are channel-major (torch.flatten), which
 * a cell-major order would fail. clone_as moves a trained encoder between
 * the two poolings with its statistics and normalisation. */
START_TEST(grid_pooling_and_clone_as)
{
    selfsup_encoder *e = make("resnet18:width=4,in_channels=1", 6);
    const int64_t xd[4] = {3, 1, 28, 28}, yd[2] = {3, 32}, gd[2] = {3, 128};
    selfsup_tensor *x = nn_random_tensor(4, xd, 2, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd), *yg = nn_tensor(2, gd);
    ss_assert_ok(selfsup_encoder_forward(e, x, y)); /* moves running stats */
    ss_assert_ok(selfsup_encoder_set_training(e, 0));
    const float mean = 0.25f, std = 0.5f;
    ss_assert_ok(selfsup_encoder_set_input_normalization(e, &mean, &std));

    selfsup_encoder *g = NULL, *sentinel = (selfsup_encoder *)(uintptr_t)0x99;
    ss_assert_fails(selfsup_encoder_clone_as(NULL, e, "resnet18"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ss_assert_fails(selfsup_encoder_clone_as(&g, NULL, "resnet18"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e");
    ss_assert_fails(selfsup_encoder_clone_as(&g, e, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "spec");
    g = sentinel;
    ss_assert_fails(selfsup_encoder_clone_as(&g, e, "resnet18:grid=9"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "grid");
    ss_assert_fails(
        selfsup_encoder_clone_as(&g, e, "resnet18:width=8,in_channels=1"),
        SELFSUP_ERR_INVALID_ARGUMENT, "conv1.weight");
    ss_assert_fails(selfsup_encoder_clone_as(&g, e, "mlp:in=1,hidden=4,out=32"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "selfsup_encoder_clone_as");
    ck_assert_ptr_eq(g, sentinel);

    ss_assert_ok(selfsup_encoder_clone_as(
        &g, e, "resnet18:width=4,grid=2,in_channels=1"));
    ck_assert_str_eq(selfsup_encoder_spec(g),
                     "resnet18:width=4,in_channels=1,grid=2,precision=f32");
    ck_assert_int_eq(selfsup_encoder_output_dim(g), 128);
    ck_assert_int_eq(selfsup_encoder_is_training(g), 0);
    float m2, s2;
    ss_assert_ok(selfsup_encoder_input_normalization(g, &m2, &s2));
    ck_assert(m2 == mean && s2 == std);
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_forward(g, x, yg));
    const float *a = selfsup_tensor_data(y), *b = selfsup_tensor_data(yg);
    double spread = 0;
    for (int n = 0; n < 3; n++)
        for (int c = 0; c < 32; c++) {
            const float *cell = b + n * 128 + c * 4;
            double avg = (cell[0] + cell[1] + cell[2] + cell[3]) / 4.0;
            ss_assert_close(avg, a[n * 32 + c], 1e-5, 1e-4);
            spread += fabs(cell[0] - cell[3]);
        }
    ck_assert_msg(spread > 1e-2, "the cells are all alike");

    /* and back, with the stride-2 stem (same parameters, 2x2 last map) */
    selfsup_encoder *h = NULL;
    ss_assert_ok(selfsup_encoder_clone_as(
        &h, g, "resnet18:width=4,in_channels=1,stem_stride=2,grid=2"));
    ss_assert_ok(selfsup_encoder_forward(h, x, yg));
    /* a grid the last map cannot split: 36 -> 36 -> 18 -> 9 -> 5, and 5
     * positions do not make 3 equal, equally spaced cells */
    selfsup_encoder *k = NULL;
    ss_assert_ok(selfsup_encoder_clone_as(
        &k, e, "resnet18:width=4,in_channels=1,grid=3"));
    const int64_t xd36[4] = {2, 1, 36, 36}, yd36[2] = {2, 288};
    selfsup_tensor *x36 = nn_random_tensor(4, xd36, 3, -1, 1);
    selfsup_tensor *y36 = nn_tensor(2, yd36);
    ss_assert_fails(selfsup_encoder_forward(k, x36, y36), SELFSUP_ERR_SHAPE,
                    "5x5");
    const int64_t xd28[4] = {2, 1, 28, 28};
    selfsup_tensor *x28 = nn_random_tensor(4, xd28, 3, -1, 1);
    ss_assert_ok(selfsup_encoder_forward(k, x28, y36)); /* 4 in 3 cells of 2 */
    selfsup_tensor_destroy(x36);
    selfsup_tensor_destroy(x28);
    selfsup_tensor_destroy(y36);
    selfsup_encoder_destroy(k);
    selfsup_encoder_destroy(h);
    selfsup_encoder_destroy(g);
    selfsup_encoder_destroy(e);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(yg);
}
END_TEST

/* Inference through a const encoder leaves everything a caller can see as
 * it was: the mode, the running statistics, a pending training forward. */
START_TEST(infer_changes_nothing_visible)
{
    const char *spec = "resnet18:width=4,in_channels=1";
    selfsup_encoder *e = make(spec, 4), *ref = make(spec, 4);
    const int64_t xd[4] = {3, 1, 8, 8}, yd[2] = {3, 32};
    selfsup_tensor *x = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *g = nn_random_tensor(2, yd, 2, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd), *yi = nn_tensor(2, yd);
    selfsup_tensor *yr = nn_tensor(2, yd);
    ss_assert_ok(selfsup_encoder_forward(e, x, y)); /* pending, stats moved */
    ss_assert_ok(selfsup_encoder_forward(ref, x, yr));
    int64_t n;
    float *stats = read_param(e, "layer2.0.bn1.running_var", &n);

    ss_assert_fails(selfsup_encoder_infer(NULL, x, yi),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e");
    ss_assert_fails(selfsup_encoder_infer(e, NULL, yi),
                    SELFSUP_ERR_INVALID_ARGUMENT, "input");
    ss_assert_fails(selfsup_encoder_infer(e, x, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "output");
    ss_assert_fails(selfsup_encoder_infer(e, g, yi), SELFSUP_ERR_SHAPE,
                    "input");
    ss_assert_fails(selfsup_encoder_infer(e, x, x), SELFSUP_ERR_SHAPE,
                    "output");
    const selfsup_encoder *frozen = e;
    ss_assert_ok(selfsup_encoder_infer(frozen, x, yi));

    ck_assert_int_eq(selfsup_encoder_is_training(e), 1);
    float *after = read_param(e, "layer2.0.bn1.running_var", &n);
    ss_assert_all_close(after, stats, n, 0, 0);
    /* the training forward is still pending, and its backward is the one
     * an encoder that never inferred computes */
    ss_assert_ok(selfsup_encoder_backward(e, g, NULL));
    ss_assert_ok(selfsup_encoder_backward(ref, g, NULL));
    int64_t count;
    float *ge = grads_of(e, &count), *gr = grads_of(ref, &count);
    ss_assert_all_close(ge, gr, count, 0, 0);
    /* and it is the inference-mode forward */
    ss_assert_ok(selfsup_encoder_set_training(ref, 0));
    ss_assert_ok(selfsup_encoder_forward(ref, x, yr));
    ss_assert_all_close(selfsup_tensor_data(yi), selfsup_tensor_data(yr), 96, 0,
                        0);
    free(stats);
    free(after);
    free(ge);
    free(gr);
    selfsup_encoder_destroy(e);
    selfsup_encoder_destroy(ref);
    selfsup_tensor *all[] = {x, g, y, yi, yr};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        selfsup_tensor_destroy(all[k]);
}
END_TEST

/* copy_state moves parameters and statistics between networks with the
 * same parameters, and the destination's cached weight layouts follow. */
START_TEST(copy_state_between_networks)
{
    selfsup_encoder *src = make("resnet18:width=4,in_channels=1", 4);
    selfsup_encoder *dst = make("resnet18:width=4,in_channels=1,grid=2", 5);
    /* 16 -> 16 -> 8 -> 4 -> 2: one position per cell */
    const int64_t xd[4] = {2, 1, 16, 16}, yd[2] = {2, 32}, gd[2] = {2, 128};
    selfsup_tensor *x = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd), *yg = nn_tensor(2, gd);
    ss_assert_ok(selfsup_encoder_forward(src, x, y)); /* moves its stats */
    ss_assert_ok(selfsup_encoder_set_training(dst, 0));
    ss_assert_ok(selfsup_encoder_forward(dst, x, yg)); /* caches layouts */

    selfsup_encoder *wide = make("resnet18:width=8,in_channels=1", 1);
    selfsup_encoder *head = make("mlp:in=32,hidden=8,out=4", 1);
    int64_t n;
    float *before = read_param(dst, "conv1.weight", &n);
    ss_assert_fails(selfsup_encoder_copy_state(NULL, src),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dst");
    ss_assert_fails(selfsup_encoder_copy_state(dst, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "src");
    ss_assert_fails(selfsup_encoder_copy_state(dst, wide),
                    SELFSUP_ERR_INVALID_ARGUMENT, "conv1.weight");
    ss_assert_fails(selfsup_encoder_copy_state(head, src),
                    SELFSUP_ERR_INVALID_ARGUMENT, "mlp:in=32");
    float *unchanged = read_param(dst, "conv1.weight", &n);
    ss_assert_all_close(unchanged, before, n, 0, 0);

    ss_assert_ok(selfsup_encoder_copy_state(dst, src));
    ss_assert_ok(selfsup_encoder_copy_state(dst, dst));
    ck_assert_int_eq(selfsup_encoder_is_training(dst), 0);
    ck_assert_str_eq(selfsup_encoder_spec(dst),
                     "resnet18:width=4,in_channels=1,grid=2,precision=f32");
    const char *names[] = {"conv1.weight", "layer4.1.bn2.bias",
                           "layer3.0.downsample.1.running_mean"};
    for (int k = 0; k < 3; k++) {
        float *a = read_param(src, names[k], &n);
        float *b = read_param(dst, names[k], &n);
        ss_assert_all_close(b, a, n, 0, 0);
        free(a);
        free(b);
    }
    /* the grid's cells average to the source's global pooling */
    ss_assert_ok(selfsup_encoder_forward(dst, x, yg));
    ss_assert_ok(selfsup_encoder_infer(src, x, y));
    const float *a = selfsup_tensor_data(y), *b = selfsup_tensor_data(yg);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 32; c++) {
            const float *cell = b + r * 128 + c * 4;
            ss_assert_close((cell[0] + cell[1] + cell[2] + cell[3]) / 4.0,
                            a[r * 32 + c], 1e-5, 1e-4);
        }
    free(before);
    free(unchanged);
    selfsup_encoder_destroy(src);
    selfsup_encoder_destroy(dst);
    selfsup_encoder_destroy(wide);
    selfsup_encoder_destroy(head);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(yg);
}
END_TEST

/* Direct writes through the internal buffer (an optimizer, the EMA) take
 * effect once selfsup__encoder_params_changed says so. */
START_TEST(params_changed_refreshes_layouts)
{
    selfsup_encoder *e = make("resnet18:width=4,in_channels=1", 4);
    selfsup_encoder *f = make("resnet18:width=4,in_channels=1", 4);
    ss_assert_ok(selfsup_encoder_set_training(e, 0));
    ss_assert_ok(selfsup_encoder_set_training(f, 0));
    const int64_t xd[4] = {2, 1, 8, 8}, yd[2] = {2, 32};
    selfsup_tensor *x = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd), *yf = nn_tensor(2, yd);
    ss_assert_ok(selfsup_encoder_forward(e, x, y)); /* caches the layouts */
    float *v, *g;
    int64_t count;
    const selfsup__param_info *t;
    int n;
    selfsup__encoder_params(e, &v, &g, &count, &t, &n);
    for (int64_t k = 0; k < count; k++)
        v[k] *= 0.5f;
    selfsup__encoder_params_changed(e);
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    for (int i = 0; i < n; i++) {
        float *w = malloc((size_t)t[i].numel * sizeof *w);
        ss_assert_ok(selfsup_encoder_param_read(f, i, w, t[i].numel));
        for (int64_t k = 0; k < t[i].numel; k++)
            w[k] *= 0.5f;
        ss_assert_ok(selfsup_encoder_param_write(f, i, w, t[i].numel));
        free(w);
    }
    ss_assert_ok(selfsup_encoder_forward(f, x, yf));
    ss_assert_all_close(selfsup_tensor_data(y), selfsup_tensor_data(yf), 64, 0,
                        0);
    selfsup_encoder_destroy(e);
    selfsup_encoder_destroy(f);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(yf);
}
END_TEST

START_TEST(zero_grad_and_accumulation)
{
    selfsup_encoder *e = make("mlp:in=8,hidden=16,out=4", 4);
    const int64_t xd[2] = {5, 8}, yd[2] = {5, 4};
    selfsup_tensor *x = nn_random_tensor(2, xd, 1, -1, 1);
    selfsup_tensor *gy = nn_random_tensor(2, yd, 2, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd);
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_backward(e, gy, NULL));
    int64_t n;
    float *once = grads_of(e, &n);
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ss_assert_ok(selfsup_encoder_backward(e, gy, NULL));
    float *twice = grads_of(e, &n);
    for (int64_t k = 0; k < n; k++)
        once[k] *= 2;
    ss_assert_all_close(twice, once, n, 1e-6, 1e-5);
    ss_assert_ok(selfsup_encoder_zero_grad(e));
    free(twice);
    twice = grads_of(e, &n);
    for (int64_t k = 0; k < n; k++)
        ck_assert(twice[k] == 0.0f);
    free(once);
    free(twice);
    selfsup_encoder_destroy(e);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(gy);
    selfsup_tensor_destroy(y);
}
END_TEST

/* Plans are built once per input shape: a training step, an inference
 * forward and a step on another view after the first ones allocate
 * nothing of the library's (oneDNN's scratchpads are user-managed). */
START_TEST(steady_state_allocates_nothing)
{
    selfsup_encoder *e = make("resnet18:width=4,in_channels=1", 4);
    const int64_t xd[4] = {2, 1, 8, 8}, yd[2] = {2, 32};
    selfsup_tensor *x = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *y = nn_tensor(2, yd), *gx = nn_tensor(4, xd);
    for (int round = 0; round < 2; round++) {
        long before = selfsup__alloc_count();
        for (int v = 0; v < 2; v++) {
            ss_assert_ok(selfsup_encoder_set_training(e, 1));
            ss_assert_ok(selfsup_encoder_forward_view(e, v, x, y));
            ss_assert_ok(selfsup_encoder_backward_view(e, v, y, gx));
            ss_assert_ok(selfsup_encoder_set_training(e, 0));
            ss_assert_ok(selfsup_encoder_forward(e, x, y));
        }
        if (round == 1)
            ck_assert_int_eq(selfsup__alloc_count(), before);
    }
    selfsup_encoder_destroy(e);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(gx);
}
END_TEST

/* Plans follow selfsup_set_num_threads: same results (up to summation
 * order) with 1 and 2 threads, in both directions. */
START_TEST(thread_count_changes)
{
    selfsup_encoder *e = make("resnet18:width=16,in_channels=1", 4);
    const int64_t xd[4] = {4, 1, 12, 12}, yd[2] = {4, 128};
    selfsup_tensor *x = nn_random_tensor(4, xd, 1, -1, 1);
    selfsup_tensor *y1 = nn_tensor(2, yd), *y2 = nn_tensor(2, yd);
    int before = selfsup_get_num_threads();
    ss_assert_ok(selfsup_set_num_threads(1));
    ss_assert_ok(selfsup_encoder_forward(e, x, y1));
    ss_assert_ok(selfsup_encoder_backward(e, y1, NULL));
    ss_assert_ok(selfsup_set_num_threads(2));
    ss_assert_ok(selfsup_encoder_forward(e, x, y2));
    ss_assert_ok(selfsup_encoder_backward(e, y2, NULL));
    ss_assert_all_close(selfsup_tensor_data(y2), selfsup_tensor_data(y1), 512,
                        1e-5, 1e-4);
    ss_assert_ok(selfsup_set_num_threads(1));
    ss_assert_ok(selfsup_encoder_forward(e, x, y2));
    ss_assert_all_close(selfsup_tensor_data(y2), selfsup_tensor_data(y1), 512,
                        1e-5, 1e-4);
    ss_assert_ok(selfsup_set_num_threads(before));
    selfsup_encoder_destroy(e);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y1);
    selfsup_tensor_destroy(y2);
}
END_TEST

/* ---- allocation failures ---- */

typedef struct sweep_ctx {
    const char *spec;
    int rank;
    int64_t xd[4];
    int run; /* 0: create + clone; 1: also forward / backward / eval */
} sweep_ctx;

static selfsup_status create_and_run(void *arg)
{
    sweep_ctx *c = arg;
    selfsup_encoder *e = NULL, *k = NULL;
    selfsup_tensor *x = NULL, *y = NULL, *gx = NULL;
    selfsup_status st = selfsup_encoder_create(&e, c->spec, 3);
    if (st == SELFSUP_OK)
        st = selfsup_encoder_clone(&k, e);
    if (st == SELFSUP_OK && c->run) {
        int64_t yd[2] = {c->xd[0], selfsup_encoder_output_dim(e)};
        st = selfsup_tensor_create(&x, c->rank, c->xd);
        if (st == SELFSUP_OK)
            st = selfsup_tensor_create(&y, 2, yd);
        if (st == SELFSUP_OK)
            st = selfsup_tensor_create(&gx, c->rank, c->xd);
        if (st == SELFSUP_OK)
            st = selfsup_tensor_fill(x, 0.5f);
        if (st == SELFSUP_OK)
            st = selfsup_encoder_forward_view(k, 2, x, y);
        if (st == SELFSUP_OK)
            st = selfsup_encoder_backward_view(k, 2, y, gx);
        if (st == SELFSUP_OK)
            st = selfsup_encoder_set_training(k, 0);
        if (st == SELFSUP_OK)
            st = selfsup_encoder_forward(k, x, y);
    }
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(gx);
    selfsup_encoder_destroy(k);
    selfsup_encoder_destroy(e);
    return st;
}

START_TEST(alloc_failures_create_clone)
{
    sweep_ctx c = {"resnet18:width=8,in_channels=3", 4, {0}, 0};
    long made = ss_sweep_alloc_failures(create_and_run, &c, SELFSUP_OK);
    ck_assert(made > 6);
    sweep_ctx m = {"mlp:in=16,hidden=32,out=8,layers=3,last_bn=1", 2, {0}, 0};
    ss_sweep_alloc_failures(create_and_run, &m, SELFSUP_OK);
}
END_TEST

START_TEST(alloc_failures_plans)
{
    sweep_ctx c = {"resnet18:width=4,in_channels=1", 4, {2, 1, 6, 6}, 1};
    long made = ss_sweep_alloc_failures(create_and_run, &c, SELFSUP_OK);
    ck_assert(made > 50);
    sweep_ctx m = {
        "mlp:in=16,hidden=32,out=8,layers=3,last_bn=1", 2, {4, 16}, 1};
    ss_sweep_alloc_failures(create_and_run, &m, SELFSUP_OK);
}
END_TEST

TCase *api_tcase(void)
{
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resnet_names_and_shapes);
    tcase_add_test(tc, mlp_names_and_defaults);
    tcase_add_test(tc, initialisation_as_pytorch);
    tcase_add_test(tc, deterministic_in_seed);
    tcase_add_test(tc, bad_specs);
    tcase_add_test(tc, forward_and_backward_errors);
    tcase_add_test(tc, views_keep_their_own_activations);
    tcase_add_test(tc, clone_is_independent);
    tcase_add_test(tc, grid_pooling_and_clone_as);
    tcase_add_test(tc, infer_changes_nothing_visible);
    tcase_add_test(tc, copy_state_between_networks);
    tcase_add_test(tc, params_changed_refreshes_layouts);
    tcase_add_test(tc, zero_grad_and_accumulation);
    tcase_add_test(tc, steady_state_allocates_nothing);
    tcase_add_test(tc, thread_count_changes);
    return tc;
}

TCase *alloc_tcase(void)
{
    TCase *tc = tcase_create("allocation_failures");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, alloc_failures_create_clone);
    tcase_add_test(tc, alloc_failures_plans);
    return tc;
}
