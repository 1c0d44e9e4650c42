#include "ref_net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rt {
    int64_t d[4]; /* N, C, H, W (W = H = 1 for vectors) */
    double *v;
} rt;

static double *at(rt *t, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return &t->v[((n * t->d[1] + c) * t->d[2] + h) * t->d[3] + w];
}

static int64_t numel(const rt *t)
{
    return t->d[0] * t->d[1] * t->d[2] * t->d[3];
}

static void make(rt *t, int64_t n, int64_t c, int64_t h, int64_t w)
{
    t->d[0] = n;
    t->d[1] = c;
    t->d[2] = h;
    t->d[3] = w;
    t->v = calloc((size_t)numel(t), sizeof(double));
}

static void conv(rt *y, rt *x, const selfsup__op *op, const double *w,
                 const double *b)
{
    int k = op->kernel, s = op->stride, p = op->pad;
    int64_t ho = (x->d[2] + 2 * p - k) / s + 1,
            wo = (x->d[3] + 2 * p - k) / s + 1;
    make(y, x->d[0], op->out_channels, ho, wo);
    int64_t ci = x->d[1];
    for (int64_t n = 0; n < y->d[0]; n++)
        for (int64_t o = 0; o < y->d[1]; o++)
            for (int64_t i = 0; i < ho; i++)
                for (int64_t j = 0; j < wo; j++) {
                    double acc = b ? b[o] : 0.0;
                    for (int64_t c = 0; c < ci; c++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int64_t yy = i * s - p + ky,
                                        xx = j * s - p + kx;
                                if (yy < 0 || xx < 0 || yy >= x->d[2] ||
                                    xx >= x->d[3])
                                    continue;
                                acc += w[((o * ci + c) * k + ky) * k + kx] *
                                       *at(x, n, c, yy, xx);
                            }
                    *at(y, n, o, i, j) = acc;
                }
}

static void linear(rt *y, rt *x, const selfsup__op *op, const double *w,
                   const double *b)
{
    make(y, x->d[0], op->out_channels, 1, 1);
    int64_t ci = x->d[1];
    for (int64_t n = 0; n < y->d[0]; n++)
        for (int64_t o = 0; o < y->d[1]; o++) {
            double acc = b ? b[o] : 0.0;
            for (int64_t c = 0; c < ci; c++)
                acc += w[o * ci + c] * x->v[n * ci + c];
            y->v[n * y->d[1] + o] = acc;
        }
}

static void bn(rt *y, rt *x, const selfsup__op *op, const double *gamma,
               const double *beta, const double *rmean, const double *rvar,
               int training, double *bmean, double *bvar, double *bcount)
{
    make(y, x->d[0], x->d[1], x->d[2], x->d[3]);
    double count = (double)(x->d[0] * x->d[2] * x->d[3]);
    for (int64_t c = 0; c < x->d[1]; c++) {
        double mean = rmean[c], var = rvar[c];
        if (training) {
            double s = 0, ss = 0;
            for (int64_t n = 0; n < x->d[0]; n++)
                for (int64_t i = 0; i < x->d[2]; i++)
                    for (int64_t j = 0; j < x->d[3]; j++)
                        s += *at(x, n, c, i, j);
            mean = s / count;
            for (int64_t n = 0; n < x->d[0]; n++)
                for (int64_t i = 0; i < x->d[2]; i++)
                    for (int64_t j = 0; j < x->d[3]; j++) {
                        double dv = *at(x, n, c, i, j) - mean;
                        ss += dv * dv;
                    }
            var = ss / count;
            bmean[c] = mean;
            bcount[c] = count;
            bvar[c] = var;
        }
        double inv = 1.0 / sqrt(var + 1e-5);
        for (int64_t n = 0; n < x->d[0]; n++)
            for (int64_t i = 0; i < x->d[2]; i++)
                for (int64_t j = 0; j < x->d[3]; j++) {
                    double v = (*at(x, n, c, i, j) - mean) * inv;
                    if (op->affine)
                        v = v * gamma[c] + beta[c];
                    if (op->relu && v < 0)
                        v = 0;
                    *at(y, n, c, i, j) = v;
                }
    }
}

/* torch.nn.AdaptiveAvgPool2d(G): cell (i, j) averages rows
 * [floor(i H / G), ceil((i + 1) H / G)) and the same of columns. */
static void pool_adaptive(rt *y, rt *x, int cells)
{
    make(y, x->d[0], x->d[1], cells, cells);
    int64_t h = x->d[2], w = x->d[3];
    for (int64_t n = 0; n < x->d[0]; n++)
        for (int64_t c = 0; c < x->d[1]; c++)
            for (int64_t i = 0; i < cells; i++)
                for (int64_t j = 0; j < cells; j++) {
                    int64_t y0 = i * h / cells,
                            y1 = ((i + 1) * h + cells - 1) / cells;
                    int64_t x0 = j * w / cells,
                            x1 = ((j + 1) * w + cells - 1) / cells;
                    double acc = 0;
                    for (int64_t yy = y0; yy < y1; yy++)
                        for (int64_t xx = x0; xx < x1; xx++)
                            acc += *at(x, n, c, yy, xx);
                    *at(y, n, c, i, j) = acc / (double)((y1 - y0) * (x1 - x0));
                }
}

static void pool(rt *y, rt *x, const selfsup__op *op)
{
    if (op->pool == SS_POOL_GRID_AVG) {
        pool_adaptive(y, x, op->kernel);
        return;
    }
    int global = op->pool == SS_POOL_GLOBAL_AVG;
    int kh = global ? (int)x->d[2] : op->kernel;
    int kw = global ? (int)x->d[3] : op->kernel;
    int s = global ? 1 : op->stride, p = global ? 0 : op->pad;
    int64_t ho = global ? 1 : (x->d[2] + 2 * p - kh) / s + 1;
    int64_t wo = global ? 1 : (x->d[3] + 2 * p - kw) / s + 1;
    make(y, x->d[0], x->d[1], ho, wo);
    for (int64_t n = 0; n < x->d[0]; n++)
        for (int64_t c = 0; c < x->d[1]; c++)
            for (int64_t i = 0; i < ho; i++)
                for (int64_t j = 0; j < wo; j++) {
                    double acc = op->pool == SS_POOL_MAX ? -INFINITY : 0.0;
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int64_t yy = i * s - p + ky, xx = j * s - p + kx;
                            if (yy < 0 || xx < 0 || yy >= x->d[2] ||
                                xx >= x->d[3])
                                continue; /* padding: 0 for the average */
                            double v = *at(x, n, c, yy, xx);
                            if (op->pool == SS_POOL_MAX)
                                acc = v > acc ? v : acc;
                            else
                                acc += v;
                        }
                    if (op->pool != SS_POOL_MAX)
                        acc /= (double)(kh * kw);
                    *at(y, n, c, i, j) = acc;
                }
}

void ref_forward(const selfsup__graph *g, const double *params,
                 const double *buffers, int training, const int64_t *in_dims,
                 const double *x, ref_out *out)
{
    rt *t = calloc((size_t)g->n_tensors, sizeof *t);
    int rank = g->tensors[0].rank;
    make(&t[0], in_dims[0], in_dims[1], rank == 4 ? in_dims[2] : 1,
         rank == 4 ? in_dims[3] : 1);
    memcpy(t[0].v, x, (size_t)numel(&t[0]) * sizeof(double));
    out->batch_mean = calloc((size_t)g->buffer_floats + 1, sizeof(double));
    out->batch_var = calloc((size_t)g->buffer_floats + 1, sizeof(double));
    out->batch_count = calloc((size_t)g->buffer_floats + 1, sizeof(double));
    for (int i = 0; i < g->n_ops; i++) {
        const selfsup__op *op = &g->ops[i];
        rt *src = &t[op->src[0]], *dst = &t[op->dst];
        const double *w = op->param_weight >= 0
                              ? params + g->params[op->param_weight].offset
                              : NULL;
        const double *b = op->param_bias >= 0
                              ? params + g->params[op->param_bias].offset
                              : NULL;
        switch (op->kind) {
        case SS_OP_CONV:
            conv(dst, src, op, w, b);
            break;
        case SS_OP_LINEAR:
            linear(dst, src, op, w, b);
            break;
        case SS_OP_BN: {
            int64_t mo = g->buffers[op->buffer_mean].offset;
            int64_t vo = g->buffers[op->buffer_var].offset;
            bn(dst, src, op, w, b, buffers + mo, buffers + vo, training,
               out->batch_mean + mo, out->batch_var + vo,
               out->batch_count + mo);
            break;
        }
        case SS_OP_RELU:
            make(dst, src->d[0], src->d[1], src->d[2], src->d[3]);
            for (int64_t k = 0; k < numel(src); k++)
                dst->v[k] = src->v[k] > 0 ? src->v[k] : 0;
            break;
        case SS_OP_ADD: {
            rt *s1 = &t[op->src[1]];
            make(dst, src->d[0], src->d[1], src->d[2], src->d[3]);
            for (int64_t k = 0; k < numel(src); k++) {
                double v = src->v[k] + s1->v[k];
                dst->v[k] = op->relu && v < 0 ? 0 : v;
            }
            break;
        }
        case SS_OP_POOL:
            pool(dst, src, op);
            break;
        }
    }
    rt *y = &t[g->output];
    memcpy(out->dims, y->d, sizeof out->dims);
    out->y = y->v;
    y->v = NULL;
    for (int k = 0; k < g->n_tensors; k++)
        free(t[k].v);
    free(t);
}

void ref_out_free(ref_out *o)
{
    free(o->y);
    free(o->batch_mean);
    free(o->batch_var);
    free(o->batch_count);
}

double ref_loss(const selfsup__graph *g, const double *params,
                const double *buffers, int training, const int64_t *in_dims,
                const double *x, const double *r)
{
    ref_out o;
    ref_forward(g, params, buffers, training, in_dims, x, &o);
    double l = 0;
    int64_t n = o.dims[0] * o.dims[1] * o.dims[2] * o.dims[3];
    for (int64_t k = 0; k < n; k++)
        l += o.y[k] * r[k];
    ref_out_free(&o);
    return l;
}
