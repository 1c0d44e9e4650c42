/* Finite-difference checks: every layer alone, small compositions and
 * whole small encoders, against a double-precision interpreter of the
 * same graph (ref_net.c).
 *
 * The library computes in float32; the reference and its central
 * differences in float64 (step 1e-6, truncation and rounding errors below
 * 1e-8 relative), so the comparison measures the library's float32 error
 * alone. Forward outputs: a few float32 roundings per layer over sums of
 * at most a few hundred terms -> within 1e-4 of the output scale.
 * Gradients: the same through the backward, plus the cancellations of
 * batch-norm's backward (dy - mean(dy) - xhat mean(dy xhat)) -> within
 * 2e-4 of the largest gradient of the check plus 2e-3 relative. A wrong
 * index, layout, sign or missing term gives errors of the order of the
 * gradient itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nn_test.h"
#include "ref_net.h"
#include "test_support.h"

static double *to_double(const float *x, int64_t n)
{
    double *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    for (int64_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static int64_t prod(int rank, const int64_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= d[i];
    return n;
}

/* Batch-norm scales and shifts away from 1 and 0, so that their role in
 * the gradients is exercised; running statistics away from 0 and 1 for the
 * inference check. */
static void randomize_norms(selfsup_encoder *e, uint64_t seed)
{
    float *v, *g, *b;
    int64_t count, bcount;
    const selfsup__param_info *t, *bt;
    int n, nb;
    selfsup__encoder_params(e, &v, &g, &count, &t, &n);
    selfsup__rng r;
    selfsup__rng_init(&r, seed, 77);
    for (int i = 0; i < n; i++) {
        if (t[i].kind != SELFSUP__PARAM_NORM)
            continue;
        int is_scale = strstr(t[i].name, ".weight") != NULL;
        for (int64_t k = 0; k < t[i].numel; k++)
            v[t[i].offset + k] = is_scale ? 0.5f + selfsup__rng_uniform(&r)
                                          : selfsup__rng_uniform(&r) - 0.5f;
    }
    selfsup__encoder_buffers(e, &b, &bcount, &bt, &nb);
    for (int i = 0; i < nb; i++) {
        int is_var = strstr(bt[i].name, "running_var") != NULL;
        for (int64_t k = 0; k < bt[i].numel; k++)
            b[bt[i].offset + k] = is_var ? 0.5f + selfsup__rng_uniform(&r)
                                         : selfsup__rng_uniform(&r) - 0.5f;
    }
    selfsup__encoder_params_changed(e);
}

typedef struct fd_ctx {
    const selfsup__graph *g;
    double *params, *buffers, *x, *r;
    int64_t in_dims[4];
} fd_ctx;

static double loss(const fd_ctx *c)
{
    return ref_loss(c->g, c->params, c->buffers, 1, c->in_dims, c->x, c->r);
}

/* d loss / d v[k] by central differences. */
static double numeric(const fd_ctx *c, double *v, int64_t k)
{
    const double h = 1e-6;
    double keep = v[k];
    v[k] = keep + h;
    double up = loss(c);
    v[k] = keep - h;
    double down = loss(c);
    v[k] = keep;
    return (up - down) / (2 * h);
}

typedef struct sample {
    double analytic, numeric;
    const char *what;
    int64_t index;
} sample;

/* Up to per_tensor entries of each parameter tensor (all when it has
 * fewer) and of the input, compared as a group. */
static void check_encoder(selfsup_encoder *e, int rank, const int64_t *in_dims,
                          uint64_t seed, int per_tensor)
{
    const selfsup__graph *g = selfsup__encoder_graph(e);
    randomize_norms(e, seed);
    float *pv, *pg, *bv;
    int64_t np, nbf;
    const selfsup__param_info *pt, *bt;
    int n_params, n_buffers;
    selfsup__encoder_params(e, &pv, &pg, &np, &pt, &n_params);
    selfsup__encoder_buffers(e, &bv, &nbf, &bt, &n_buffers);

    int64_t out_dims[2] = {in_dims[0], selfsup_encoder_output_dim(e)};
    selfsup_tensor *x = nn_random_tensor(rank, in_dims, seed + 1, -1, 1);
    selfsup_tensor *r = nn_random_tensor(2, out_dims, seed + 2, -1, 1);
    selfsup_tensor *y = nn_tensor(2, out_dims);
    selfsup_tensor *gx = nn_tensor(rank, in_dims);
    int64_t nx = prod(rank, in_dims), ny = prod(2, out_dims);

    fd_ctx c = {g,
                to_double(pv, np),
                to_double(bv, nbf),
                to_double(selfsup_tensor_data(x), nx),
                to_double(selfsup_tensor_data(r), ny),
                {0}};
    memcpy(c.in_dims, in_dims, (size_t)rank * sizeof *in_dims);
    float *running_before = malloc((size_t)(nbf + 1) * sizeof(float));
    memcpy(running_before, bv, (size_t)nbf * sizeof(float));

    /* forward against the reference */
    ss_assert_ok(selfsup_encoder_set_training(e, 1));
    ss_assert_ok(selfsup_encoder_zero_grad(e));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ref_out ro;
    ref_forward(g, c.params, c.buffers, 1, c.in_dims, c.x, &ro);
    double yscale = 0;
    for (int64_t k = 0; k < ny; k++)
        yscale = fmax(yscale, fabs(ro.y[k]));
    float *yref = malloc((size_t)ny * sizeof(float));
    for (int64_t k = 0; k < ny; k++)
        yref[k] = (float)ro.y[k];
    ss_assert_all_close(selfsup_tensor_data(y), yref, ny, 1e-4 * yscale, 1e-4);

    /* running statistics: momentum 0.1, unbiased variance */
    for (int i = 0; i < g->n_ops; i++) {
        const selfsup__op *op = &g->ops[i];
        if (op->kind != SS_OP_BN)
            continue;
        const selfsup__param_info *m = &bt[op->buffer_mean];
        const selfsup__param_info *v = &bt[op->buffer_var];
        for (int64_t k = 0; k < m->numel; k++) {
            double n = ro.batch_count[m->offset + k];
            double em = 0.9 * running_before[m->offset + k] +
                        0.1 * ro.batch_mean[m->offset + k];
            double ev = 0.9 * running_before[v->offset + k] +
                        0.1 * ro.batch_var[v->offset + k] * n / (n - 1);
            ss_assert_close(bv[m->offset + k], em, 1e-5, 1e-4);
            ss_assert_close(bv[v->offset + k], ev, 1e-5, 1e-4);
        }
    }

    /* backward: analytic against numeric */
    ss_assert_ok(selfsup_encoder_backward(e, r, gx));
    int max_samples = per_tensor * (n_params + 1) + 1;
    sample *s = calloc((size_t)max_samples, sizeof *s);
    int ns = 0;
    selfsup__rng rng;
    selfsup__rng_init(&rng, seed, 99);
    for (int i = 0; i <= n_params; i++) {
        int is_input = i == n_params;
        int64_t count = is_input ? nx : pt[i].numel;
        double *v = is_input ? c.x : c.params + pt[i].offset;
        const float *an =
            is_input ? selfsup_tensor_data(gx) : pg + pt[i].offset;
        int take = count <= per_tensor ? (int)count : per_tensor;
        for (int j = 0; j < take; j++) {
            int64_t k =
                count <= per_tensor
                    ? j
                    : (int64_t)selfsup__rng_below(&rng, (uint32_t)count);
            s[ns++] = (sample){an[k], numeric(&c, v, k),
                               is_input ? "input" : pt[i].name, k};
        }
    }
    double gscale = 0;
    for (int k = 0; k < ns; k++)
        gscale = fmax(gscale, fabs(s[k].numeric));
    ck_assert_msg(gscale > 0, "all sampled gradients are zero");
    for (int k = 0; k < ns; k++) {
        double tol = 2e-4 * gscale + 2e-3 * fabs(s[k].numeric);
        ck_assert_msg(fabs(s[k].analytic - s[k].numeric) <= tol,
                      "d/d %s[%lld]: analytic %.9g, numeric %.9g (tol %.3g)",
                      s[k].what, (long long)s[k].index, s[k].analytic,
                      s[k].numeric, tol);
    }

    /* inference: running statistics of the encoder, in the reference too */
    free(c.buffers);
    c.buffers = to_double(bv, nbf);
    ss_assert_ok(selfsup_encoder_set_training(e, 0));
    ss_assert_ok(selfsup_encoder_forward(e, x, y));
    ref_out_free(&ro);
    ref_forward(g, c.params, c.buffers, 0, c.in_dims, c.x, &ro);
    yscale = 0;
    for (int64_t k = 0; k < ny; k++) {
        yref[k] = (float)ro.y[k];
        yscale = fmax(yscale, fabs(ro.y[k]));
    }
    ss_assert_all_close(selfsup_tensor_data(y), yref, ny, 1e-4 * yscale, 1e-4);

    ref_out_free(&ro);
    free(yref);
    free(s);
    free(running_before);
    free(c.params);
    free(c.buffers);
    free(c.x);
    free(c.r);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(r);
    selfsup_tensor_destroy(y);
    selfsup_tensor_destroy(gx);
}

static selfsup_encoder *from_graph(selfsup__graph *g, int output)
{
    ss_assert_ok(selfsup__graph_finish(g, output));
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup__encoder_from_graph(&e, g, 42, 0));
    return e;
}

/* One op (or a short chain) on an input of this shape. */
typedef int (*build_fn)(selfsup__graph *g);

static void check_graph(int rank, int64_t channels, const int64_t *in_dims,
                        build_fn build, int per_tensor)
{
    selfsup__graph g;
    selfsup__graph_init(&g, rank, channels);
    int out = build(&g);
    selfsup_encoder *e = from_graph(&g, out);
    check_encoder(e, rank, in_dims, 1234, per_tensor);
    selfsup_encoder_destroy(e);
}

static int conv_bias_s2(selfsup__graph *g)
{
    return selfsup__graph_conv(g, "c", g->input, 5, 3, 2, 1, 1,
                               SS_INIT_TORCH_DEFAULT);
}

static int conv_1x1(selfsup__graph *g)
{
    return selfsup__graph_conv(g, "c", g->input, 4, 1, 1, 0, 0,
                               SS_INIT_TORCH_DEFAULT);
}

static int conv_bn_relu_conv(selfsup__graph *g)
{
    int x = selfsup__graph_conv(g, "a", g->input, 16, 3, 1, 1, 0,
                                SS_INIT_KAIMING_FAN_OUT);
    x = selfsup__graph_bn(g, "b", x, 1, 1);
    return selfsup__graph_conv(g, "c", x, 32, 3, 2, 1, 0,
                               SS_INIT_KAIMING_FAN_OUT);
}

static int bn_relu(selfsup__graph *g)
{
    return selfsup__graph_bn(g, "n", g->input, 1, 1);
}

static int bn_plain(selfsup__graph *g)
{
    return selfsup__graph_bn(g, "n", g->input, 0, 0);
}

static int relu_only(selfsup__graph *g)
{
    return selfsup__graph_relu(g, g->input);
}

static int conv_relu(selfsup__graph *g)
{
    int x = selfsup__graph_conv(g, "c", g->input, 16, 3, 1, 1, 1,
                                SS_INIT_TORCH_DEFAULT);
    return selfsup__graph_relu(g, x);
}

static int add_residual(selfsup__graph *g)
{
    int x = selfsup__graph_conv(g, "c", g->input, 3, 3, 1, 1, 0,
                                SS_INIT_TORCH_DEFAULT);
    return selfsup__graph_add(g, x, g->input, 1);
}

static int add_self(selfsup__graph *g)
{
    return selfsup__graph_add(g, g->input, g->input, 0);
}

static int pool_max(selfsup__graph *g)
{
    return selfsup__graph_pool(g, g->input, SS_POOL_MAX, 3, 2, 1);
}

static int pool_avg(selfsup__graph *g)
{
    return selfsup__graph_pool(g, g->input, SS_POOL_AVG, 3, 2, 1);
}

static int pool_global(selfsup__graph *g)
{
    return selfsup__graph_pool(g, g->input, SS_POOL_GLOBAL_AVG, 0, 1, 0);
}

static int pool_grid2(selfsup__graph *g)
{
    return selfsup__graph_pool(g, g->input, SS_POOL_GRID_AVG, 2, 1, 0);
}

static int pool_grid3(selfsup__graph *g)
{
    return selfsup__graph_pool(g, g->input, SS_POOL_GRID_AVG, 3, 1, 0);
}

static int linear_bias(selfsup__graph *g)
{
    return selfsup__graph_linear(g, "l", g->input, 5, 1);
}

static int linear_bn_linear(selfsup__graph *g)
{
    int x = selfsup__graph_linear(g, "0", g->input, 6, 0);
    x = selfsup__graph_bn(g, "1", x, 1, 1);
    return selfsup__graph_linear(g, "3", x, 4, 1);
}

/* Image-shaped outputs leave as (N, C*H*W) only for 1x1 maps, so each
 * image graph ends in a global average pool unless it already is one. */
#define IMAGE_CASE(fn)                                                         \
    static int fn##_pooled(selfsup__graph *g)                                  \
    {                                                                          \
        return selfsup__graph_pool(g, fn(g), SS_POOL_GLOBAL_AVG, 0, 1, 0);     \
    }
IMAGE_CASE(conv_bias_s2)
IMAGE_CASE(conv_1x1)
IMAGE_CASE(conv_bn_relu_conv)
IMAGE_CASE(bn_relu)
IMAGE_CASE(bn_plain)
IMAGE_CASE(relu_only)
IMAGE_CASE(conv_relu)
IMAGE_CASE(add_residual)
IMAGE_CASE(add_self)
IMAGE_CASE(pool_max)
IMAGE_CASE(pool_avg)

START_TEST(fd_conv)
{
    const int64_t d[4] = {2, 3, 7, 7};
    check_graph(4, 3, d, conv_bias_s2_pooled, 40);
    const int64_t d1[4] = {2, 3, 5, 5};
    check_graph(4, 3, d1, conv_1x1_pooled, 40);
}
END_TEST

START_TEST(fd_conv_bn_relu_blocked)
{
    const int64_t d[4] = {3, 2, 6, 6};
    check_graph(4, 2, d, conv_bn_relu_conv_pooled, 30);
}
END_TEST

START_TEST(fd_batchnorm)
{
    const int64_t d[4] = {3, 4, 5, 5};
    check_graph(4, 4, d, bn_relu_pooled, 40);
    check_graph(4, 4, d, bn_plain_pooled, 40);
    const int64_t v[2] = {6, 10};
    check_graph(2, 10, v, bn_relu, 60);
    check_graph(2, 10, v, bn_plain, 60);
    /* 16 | C: the (N, C, 1, 1) nChw16c view of oneDNN's fast kernels */
    const int64_t v16[2] = {5, 32};
    check_graph(2, 32, v16, bn_relu, 60);
    check_graph(2, 32, v16, bn_plain, 60);
    check_graph(2, 32, v16, linear_bn_linear, 60);
}
END_TEST

START_TEST(fd_relu)
{
    const int64_t d[4] = {2, 3, 4, 4};
    check_graph(4, 3, d, relu_only_pooled, 60);
    const int64_t d2[4] = {2, 2, 5, 5};
    check_graph(4, 2, d2, conv_relu_pooled, 40);
}
END_TEST

START_TEST(fd_residual_add)
{
    const int64_t d[4] = {2, 3, 5, 5};
    check_graph(4, 3, d, add_residual_pooled, 40);
    check_graph(4, 3, d, add_self_pooled, 60);
}
END_TEST

START_TEST(fd_pooling)
{
    const int64_t d[4] = {2, 3, 7, 7};
    check_graph(4, 3, d, pool_max_pooled, 60);
    check_graph(4, 3, d, pool_avg_pooled, 60);
    const int64_t d2[4] = {2, 3, 5, 4};
    check_graph(4, 3, d2, pool_global, 60);
}
END_TEST

/* Grid pooling against AdaptiveAvgPool2d's own definition: overlapping
 * cells (7 rows in 2 cells of 4, one row shared; 5 columns in 2 of 3),
 * disjoint ones (6 in 3 of 2), one position a cell (2 in 2). */
START_TEST(fd_grid_pooling)
{
    const int64_t d[4] = {2, 3, 7, 5}, d2[4] = {3, 2, 2, 2};
    check_graph(4, 3, d, pool_grid2, 60);
    check_graph(4, 2, d2, pool_grid2, 60);
    const int64_t d3[4] = {2, 2, 6, 6};
    check_graph(4, 2, d3, pool_grid3, 60);
}
END_TEST

/* The ResNet's grid=2 on the CIFAR stem: 9 -> 9 -> 5 -> 3 -> 2 */
START_TEST(fd_small_resnet_grid_2)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&e, "resnet18:width=4,in_channels=1,grid=2", 5));
    ck_assert_int_eq(selfsup_encoder_output_dim(e), 32 * 4);
    const int64_t d[4] = {3, 1, 9, 9};
    check_encoder(e, 4, d, 557, 3);
    selfsup_encoder_destroy(e);
}
END_TEST

START_TEST(fd_linear)
{
    const int64_t v[2] = {4, 7};
    check_graph(2, 7, v, linear_bias, 60);
    check_graph(2, 7, v, linear_bn_linear, 60);
}
END_TEST

START_TEST(fd_small_resnet)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&e, "resnet18:width=4,in_channels=2", 7));
    const int64_t d[4] = {2, 2, 10, 10};
    check_encoder(e, 4, d, 555, 3);
    selfsup_encoder_destroy(e);
}
END_TEST

/* The stride-2 stem (half the side before the first stage): 11 -> 6 -> 3
 * -> 2 -> 1, odd sides on the way, padding on every stride. */
START_TEST(fd_small_resnet_stem_stride_2)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_encoder_create(
        &e, "resnet18:width=4,in_channels=1,stem_stride=2", 9));
    const int64_t d[4] = {3, 1, 11, 11};
    check_encoder(e, 4, d, 556, 3);
    selfsup_encoder_destroy(e);
}
END_TEST

START_TEST(fd_mlp_head)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_encoder_create(
        &e, "mlp:in=6,hidden=10,out=5,layers=3,last_bn=1,bias=1", 7));
    const int64_t d[2] = {5, 6};
    check_encoder(e, 2, d, 556, 20);
    selfsup_encoder_destroy(e);
}
END_TEST

TCase *fd_tcase(void)
{
    TCase *tc = tcase_create("finite_differences");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, fd_conv);
    tcase_add_test(tc, fd_conv_bn_relu_blocked);
    tcase_add_test(tc, fd_batchnorm);
    tcase_add_test(tc, fd_relu);
    tcase_add_test(tc, fd_residual_add);
    tcase_add_test(tc, fd_pooling);
    tcase_add_test(tc, fd_grid_pooling);
    tcase_add_test(tc, fd_linear);
    tcase_add_test(tc, fd_small_resnet);
    tcase_add_test(tc, fd_small_resnet_stem_stride_2);
    tcase_add_test(tc, fd_small_resnet_grid_2);
    tcase_add_test(tc, fd_mlp_head);
    return tc;
}
