#include "graph.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* Grows *items (of item_size bytes, *cap of them) to hold one more. */
static int grow(void **items, int *cap, int count, size_t item_size)
{
    if (count < *cap)
        return 1;
    int new_cap = *cap ? 2 * *cap : 16;
    void *p = selfsup__malloc((size_t)new_cap * item_size);
    if (!p)
        return 0;
    if (*items) {
        memcpy(p, *items, (size_t)count * item_size);
        selfsup__free(*items);
    }
    *items = p;
    *cap = new_cap;
    return 1;
}

static int failed(selfsup__graph *g)
{
    return g->status != SELFSUP_OK;
}

static void fail_oom(selfsup__graph *g)
{
    g->status = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                        "cannot grow the network description");
}

void selfsup__graph_init(selfsup__graph *g, int rank, int64_t channels)
{
    memset(g, 0, sizeof *g);
    g->input = 0;
    g->output = -1;
    if (!grow((void **)&g->tensors, &g->cap_tensors, 0, sizeof *g->tensors)) {
        fail_oom(g);
        return;
    }
    g->tensors[0] = (selfsup__graph_tensor){rank, channels, -1, 0};
    g->n_tensors = 1;
}

void selfsup__graph_free(selfsup__graph *g)
{
    selfsup__free(g->ops);
    selfsup__free(g->tensors);
    selfsup__free(g->params);
    selfsup__free(g->buffers);
    memset(g, 0, sizeof *g);
}

static int add_entry(selfsup__graph *g, selfsup__param_info **table, int *n,
                     int *cap, int64_t *floats, const char *module,
                     const char *leaf, int ndim, const int64_t *dims,
                     selfsup__param_kind kind)
{
    if (!grow((void **)table, cap, *n, sizeof **table)) {
        fail_oom(g);
        return -1;
    }
    selfsup__param_info *p = &(*table)[*n];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s.%s", module, leaf);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->dims[i] = dims[i];
        p->numel *= dims[i];
    }
    p->offset = *floats;
    p->kind = kind;
    *floats += p->numel;
    return (*n)++;
}

static int add_param(selfsup__graph *g, const char *module, const char *leaf,
                     int ndim, const int64_t *dims, selfsup__param_kind kind)
{
    return add_entry(g, &g->params, &g->n_params, &g->cap_params,
                     &g->param_floats, module, leaf, ndim, dims, kind);
}

static int add_buffer(selfsup__graph *g, const char *module, const char *leaf,
                      int64_t channels)
{
    return add_entry(g, &g->buffers, &g->n_buffers, &g->cap_buffers,
                     &g->buffer_floats, module, leaf, 1, &channels,
                     SELFSUP__PARAM_NORM);
}

/* Appends op (its dst filled in here) producing a tensor of this rank and
 * channel count; returns the op's index or -1. */
static int add_op(selfsup__graph *g, selfsup__op op, int rank, int64_t channels)
{
    if (failed(g))
        return -1;
    if (!grow((void **)&g->ops, &g->cap_ops, g->n_ops, sizeof *g->ops) ||
        !grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors,
              sizeof *g->tensors)) {
        fail_oom(g);
        return -1;
    }
    op.dst = g->n_tensors;
    g->tensors[g->n_tensors++] =
        (selfsup__graph_tensor){rank, channels, g->n_ops, 0};
    g->ops[g->n_ops] = op;
    return g->n_ops++;
}

static selfsup__op op_template(selfsup__op_kind kind, int src)
{
    selfsup__op op;
    memset(&op, 0, sizeof op);
    op.kind = kind;
    op.n_src = 1;
    op.src[0] = src;
    op.src[1] = -1;
    op.param_weight = op.param_bias = -1;
    op.buffer_mean = op.buffer_var = -1;
    op.kernel = op.stride = 1;
    return op;
}

/* A programming error of an architecture builder, not of the user. */
static int bad_src(selfsup__graph *g, int src, int rank)
{
    if (failed(g))
        return 1;
    if (src < 0 || src >= g->n_tensors ||
        (rank && g->tensors[src].rank != rank)) {
        g->status = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                            "tensor %d cannot feed this layer", src);
        return 1;
    }
    return 0;
}

int selfsup__graph_conv(selfsup__graph *g, const char *name, int src,
                        int64_t out_channels, int kernel, int stride, int pad,
                        int bias, selfsup__init_kind init)
{
    if (bad_src(g, src, 4))
        return -1;
    selfsup__op op = op_template(SS_OP_CONV, src);
    op.out_channels = out_channels;
    op.kernel = kernel;
    op.stride = stride;
    op.pad = pad;
    op.init = init;
    int64_t wdims[4] = {out_channels, g->tensors[src].channels, kernel, kernel};
    op.param_weight =
        add_param(g, name, "weight", 4, wdims, SELFSUP__PARAM_WEIGHT);
    if (bias)
        op.param_bias =
            add_param(g, name, "bias", 1, &out_channels, SELFSUP__PARAM_BIAS);
    int i = add_op(g, op, 4, out_channels);
    return i < 0 ? -1 : g->ops[i].dst;
}

int selfsup__graph_bn(selfsup__graph *g, const char *name, int src, int relu,
                      int affine)
{
    if (bad_src(g, src, 0))
        return -1;
    int64_t c = g->tensors[src].channels;
    selfsup__op op = op_template(SS_OP_BN, src);
    op.relu = relu;
    op.affine = affine;
    if (affine) {
        op.param_weight =
            add_param(g, name, "weight", 1, &c, SELFSUP__PARAM_NORM);
        op.param_bias = add_param(g, name, "bias", 1, &c, SELFSUP__PARAM_NORM);
    }
    op.buffer_mean = add_buffer(g, name, "running_mean", c);
    op.buffer_var = add_buffer(g, name, "running_var", c);
    int i = add_op(g, op, g->tensors[src].rank, c);
    return i < 0 ? -1 : g->ops[i].dst;
}

int selfsup__graph_relu(selfsup__graph *g, int src)
{
    if (bad_src(g, src, 0))
        return -1;
    selfsup__op op = op_template(SS_OP_RELU, src);
    int i = add_op(g, op, g->tensors[src].rank, g->tensors[src].channels);
    return i < 0 ? -1 : g->ops[i].dst;
}

int selfsup__graph_add(selfsup__graph *g, int a, int b, int relu)
{
    if (bad_src(g, a, 0) || bad_src(g, b, g->tensors[a].rank))
        return -1;
    if (g->tensors[a].channels != g->tensors[b].channels) {
        g->status = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                            "cannot add tensors of %lld and %lld channels",
                            (long long)g->tensors[a].channels,
                            (long long)g->tensors[b].channels);
        return -1;
    }
    selfsup__op op = op_template(SS_OP_ADD, a);
    op.n_src = 2;
    op.src[1] = b;
    op.relu = relu;
    int i = add_op(g, op, g->tensors[a].rank, g->tensors[a].channels);
    return i < 0 ? -1 : g->ops[i].dst;
}

int selfsup__graph_pool(selfsup__graph *g, int src, selfsup__pool_kind kind,
                        int kernel, int stride, int pad)
{
    if (bad_src(g, src, 4))
        return -1;
    selfsup__op op = op_template(SS_OP_POOL, src);
    op.pool = kind;
    op.kernel = kernel;
    op.stride = stride;
    op.pad = pad;
    int i = add_op(g, op, 4, g->tensors[src].channels);
    if (i < 0)
        return -1;
    if (kind == SS_POOL_GLOBAL_AVG || kind == SS_POOL_GRID_AVG)
        g->tensors[g->ops[i].dst].side = kind == SS_POOL_GRID_AVG ? kernel : 1;
    return g->ops[i].dst;
}

int selfsup__graph_linear(selfsup__graph *g, const char *name, int src,
                          int64_t out_features, int bias)
{
    if (bad_src(g, src, 2))
        return -1;
    selfsup__op op = op_template(SS_OP_LINEAR, src);
    op.out_channels = out_features;
    op.init = SS_INIT_TORCH_DEFAULT;
    int64_t wdims[2] = {out_features, g->tensors[src].channels};
    op.param_weight =
        add_param(g, name, "weight", 2, wdims, SELFSUP__PARAM_WEIGHT);
    if (bias)
        op.param_bias =
            add_param(g, name, "bias", 1, &out_features, SELFSUP__PARAM_BIAS);
    int i = add_op(g, op, 2, out_features);
    return i < 0 ? -1 : g->ops[i].dst;
}

selfsup_status selfsup__graph_finish(selfsup__graph *g, int output)
{
    if (!failed(g)) {
        if (output <= 0 || output >= g->n_tensors)
            g->status =
                SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                        "the network has no output (tensor %d)", output);
        else if (g->tensors[output].rank == 4 && !g->tensors[output].side)
            g->status = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                                "the network's 4-D output (tensor %d) has no "
                                "fixed size: end it in a pooling",
                                output);
        else
            g->output = output;
    }
    return g->status;
}

int64_t selfsup__graph_output_features(const selfsup__graph *g)
{
    const selfsup__graph_tensor *t = &g->tensors[g->output];
    return t->rank == 4 ? t->channels * t->side * t->side : t->channels;
}

static void *dup_array(const void *src, int count, size_t item_size)
{
    void *p = selfsup__malloc((size_t)(count ? count : 1) * item_size);
    if (p && count)
        memcpy(p, src, (size_t)count * item_size);
    return p;
}

selfsup_status selfsup__graph_copy(selfsup__graph *dst,
                                   const selfsup__graph *src)
{
    selfsup__graph g = *src;
    g.ops = dup_array(src->ops, src->n_ops, sizeof *src->ops);
    g.tensors = dup_array(src->tensors, src->n_tensors, sizeof *src->tensors);
    g.params = dup_array(src->params, src->n_params, sizeof *src->params);
    g.buffers = dup_array(src->buffers, src->n_buffers, sizeof *src->buffers);
    g.cap_ops = src->n_ops ? src->n_ops : 1;
    g.cap_tensors = src->n_tensors ? src->n_tensors : 1;
    g.cap_params = src->n_params ? src->n_params : 1;
    g.cap_buffers = src->n_buffers ? src->n_buffers : 1;
    if (!g.ops || !g.tensors || !g.params || !g.buffers) {
        selfsup__graph_free(&g);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot copy the network description");
    }
    *dst = g;
    return SELFSUP_OK;
}

int selfsup__grid_window(int64_t in, int cells, int *kernel, int *stride)
{
    if (cells < 1 || in < cells)
        return 0;
    int64_t k = (in + cells - 1) / cells, st = in / cells;
    for (int64_t i = 0; i < cells; i++) {
        int64_t start = i * in / cells;
        int64_t end = ((i + 1) * in + cells - 1) / cells;
        if (start != i * st || end - start != k)
            return 0;
    }
    *kernel = (int)k;
    *stride = (int)st;
    return 1;
}
