/* Running a plan: the forward pass of one view, and its backward. */
#include <string.h>

#include "core/comm.h"
#include "core/dnnl_ctx.h"
#include "core/error.h"
#include "plan.h"

enum { MAX_ARGS = 16 };

typedef struct args {
    int n;
    dnnl_exec_arg_t a[MAX_ARGS];
} args;

static void arg(args *x, int name, dnnl_memory_t m)
{
    if (m)
        x->a[x->n++] = (dnnl_exec_arg_t){name, m};
}

static selfsup_status run(const selfsup__prim *p, dnnl_stream_t s, args *x)
{
    return selfsup__prim_exec(p, s, x->n, x->a);
}

static selfsup_status reorder(const selfsup__prim *p, dnnl_stream_t s,
                              dnnl_memory_t from, dnnl_memory_t to)
{
    args x = {0};
    arg(&x, DNNL_ARG_FROM, from);
    arg(&x, DNNL_ARG_TO, to);
    return run(p, s, &x);
}

/* Copies the flat (PyTorch-layout) weights into the layouts the forward
 * (or backward-data) primitives read, once per parameter version. */
static selfsup_status refresh_weights(selfsup__plan *p, dnnl_stream_t s,
                                      int backward)
{
    for (int i = 0; i < p->n_ops; i++) {
        selfsup__op_plan *o = &p->ops[i];
        const selfsup__prim *r =
            backward ? &o->w_bwd_reorder : &o->w_fwd_reorder;
        if (r->prim)
            SS_TRY(reorder(r, s, o->w_user, backward ? o->w_bwd : o->w_fwd));
    }
    return SELFSUP_OK;
}

static void *handle(dnnl_memory_t m)
{
    void *h = NULL;
    dnnl_memory_get_data_handle(m, &h);
    return h;
}

static selfsup_status forward_op(selfsup__plan *p, const selfsup__graph *g,
                                 selfsup__view_store *v, dnnl_stream_t s, int i)
{
    const selfsup__op *op = &g->ops[i];
    selfsup__op_plan *o = &p->ops[i];
    args x = {0};
    int image = o->as_image;
    arg(&x, DNNL_ARG_SRC, image ? v->image[2 * i] : v->act[op->src[0]]);
    arg(&x, DNNL_ARG_DST, image ? v->image[2 * i + 1] : v->act[op->dst]);
    switch (op->kind) {
    case SS_OP_CONV:
    case SS_OP_LINEAR:
        arg(&x, DNNL_ARG_WEIGHTS, o->w_fwd);
        arg(&x, DNNL_ARG_BIAS, o->bias);
        break;
    case SS_OP_BN:
        if (p->comm) {
            SS_DNNL(dnnl_stream_wait(s), "stream wait");
            SS_TRY(selfsup__bn_sync_stats(
                p->comm, &o->sync_layout, handle(x.a[0].memory),
                handle(v->mean[i]), handle(v->var[i]), p->sync_scratch));
        }
        arg(&x, DNNL_ARG_SCALE, o->scale);
        arg(&x, DNNL_ARG_SHIFT, o->bias);
        arg(&x, DNNL_ARG_MEAN, p->training ? v->mean[i] : o->run_mean);
        arg(&x, DNNL_ARG_VARIANCE, p->training ? v->var[i] : o->run_var);
        arg(&x, DNNL_ARG_WORKSPACE, v->ws[i]);
        break;
    case SS_OP_ADD:
        arg(&x, DNNL_ARG_SRC_1, v->act[op->src[1]]);
        break;
    case SS_OP_POOL:
        arg(&x, DNNL_ARG_WORKSPACE, v->ws[i]);
        break;
    case SS_OP_RELU:
        break;
    }
    return run(&o->fwd, s, &x);
}

/* running = (1 - m) running + m batch, with the unbiased batch variance,
 * as PyTorch does (m = 0.1). */
static void update_running_stats(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                 selfsup__view_store *v)
{
    const float m = 0.1f;
    const selfsup__graph *g = ctx->g;
    for (int i = 0; i < g->n_ops; i++) {
        const selfsup__op *op = &g->ops[i];
        if (op->kind != SS_OP_BN)
            continue;
        int64_t c = p->dims[op->src[0]][1];
        double n = (double)p->ops[i].stat_count * selfsup_comm_size(p->comm);
        float unbias = (float)(n / (n - 1.0));
        float *rm = ctx->buffers + g->buffers[op->buffer_mean].offset;
        float *rv = ctx->buffers + g->buffers[op->buffer_var].offset;
        void *mean, *var;
        dnnl_memory_get_data_handle(v->mean[i], &mean);
        dnnl_memory_get_data_handle(v->var[i], &var);
        for (int64_t k = 0; k < c; k++) {
            rm[k] = (1.0f - m) * rm[k] + m * ((float *)mean)[k];
            rv[k] = (1.0f - m) * rv[k] + m * ((float *)var)[k] * unbias;
        }
    }
}

selfsup_status selfsup__plan_forward(selfsup__plan *p,
                                     const selfsup__plan_ctx *ctx, int view,
                                     uint64_t version, const float *in,
                                     float *out)
{
    const selfsup__graph *g = ctx->g;
    dnnl_stream_t s;
    SS_TRY(selfsup__dnnl_stream(&s));
    selfsup__view_store *v;
    SS_TRY(selfsup__plan_view(p, g, view, &v));
    if (p->w_fwd_version != version) {
        SS_TRY(refresh_weights(p, s, 0));
        p->w_fwd_version = version;
    }
    SS_DNNL(dnnl_memory_set_data_handle(p->in_user, (void *)in),
            "input binding");
    SS_TRY(reorder(&p->in_reorder, s, p->in_user, v->act[g->input]));
    for (int i = 0; i < g->n_ops; i++)
        SS_TRY(forward_op(p, g, v, s, i));
    SS_DNNL(dnnl_memory_set_data_handle(p->out_user, out), "output binding");
    SS_TRY(reorder(&p->out_reorder, s, v->act[g->output], p->out_user));
    SS_DNNL(dnnl_stream_wait(s), "stream wait");
    if (p->training)
        update_running_stats(p, ctx, v);
    return SELFSUP_OK;
}

/* g += d for a parameter gradient computed on the plan's scratch. */
static selfsup_status add_grad(const selfsup__prim *r, dnnl_stream_t s,
                               dnnl_memory_t d, dnnl_memory_t g)
{
    return reorder(r, s, d, g);
}

/* Op i's (a bn's) output again, from its kept input and the view's batch
 * statistics, into the plan's recompute buffer (plan.c, mark_saved). */
static selfsup_status recompute_bn(selfsup__plan *p, const selfsup__graph *g,
                                   selfsup__view_store *v, dnnl_stream_t s,
                                   int i)
{
    selfsup__op_plan *o = &p->ops[i];
    args x = {0};
    arg(&x, DNNL_ARG_SRC, v->act[g->ops[i].src[0]]);
    arg(&x, DNNL_ARG_DST, o->recomputed);
    arg(&x, DNNL_ARG_SCALE, o->scale);
    arg(&x, DNNL_ARG_SHIFT, o->bias);
    arg(&x, DNNL_ARG_MEAN, v->mean[i]);
    arg(&x, DNNL_ARG_VARIANCE, v->var[i]);
    return run(&o->recompute, s, &x);
}

static selfsup_status backward_op(selfsup__plan *p, const selfsup__graph *g,
                                  selfsup__view_store *v, dnnl_stream_t s,
                                  const selfsup__bwd_step *st, int want_input)
{
    int i = st->op;
    const selfsup__op *op = &g->ops[i];
    selfsup__op_plan *o = &p->ops[i];
    dnnl_memory_t dd = p->diff_mem[st->diff_dst];
    dnnl_memory_t ds = p->diff_mem[st->diff_src];
    args x = {0};
    switch (op->kind) {
    case SS_OP_CONV:
    case SS_OP_LINEAR: {
        dnnl_memory_t src = v->act[op->src[0]];
        int r = p->recompute_op[op->src[0]];
        if (r >= 0) {
            SS_TRY(recompute_bn(p, g, v, s, r));
            src = p->ops[r].recomputed;
        }
        if (o->src_wide) {
            SS_TRY(reorder(&o->widen_src, s, src, o->src_wide));
            SS_TRY(reorder(&o->widen_dd, s, dd, o->dd_wide));
        }
        arg(&x, DNNL_ARG_SRC, o->src_wide ? o->src_wide : src);
        arg(&x, DNNL_ARG_DIFF_DST, o->dd_wide ? o->dd_wide : dd);
        arg(&x, DNNL_ARG_DIFF_WEIGHTS, o->dw);
        arg(&x, DNNL_ARG_DIFF_BIAS, o->dbias);
        SS_TRY(run(&o->bwd_weights, s, &x));
        SS_TRY(add_grad(&o->dw_reorder, s, o->dw, o->g_w));
        if (o->dbias)
            SS_TRY(add_grad(&o->db_reorder, s, o->dbias, o->g_bias));
        if (st->to_input && !want_input)
            return SELFSUP_OK;
        x.n = 0;
        arg(&x, DNNL_ARG_DIFF_DST, dd);
        arg(&x, DNNL_ARG_WEIGHTS, o->w_bwd ? o->w_bwd : o->w_fwd);
        arg(&x, DNNL_ARG_DIFF_SRC, ds);
        return run(&o->bwd, s, &x);
    }
    case SS_OP_BN:
        if (o->as_image) {
            dd = st->image_dd;
            ds = st->image_ds;
        }
        arg(&x, DNNL_ARG_SRC,
            o->as_image ? v->image[2 * i] : v->act[op->src[0]]);
        arg(&x, DNNL_ARG_MEAN, v->mean[i]);
        arg(&x, DNNL_ARG_VARIANCE, v->var[i]);
        arg(&x, DNNL_ARG_SCALE, o->scale);
        arg(&x, DNNL_ARG_SHIFT, o->bias);
        arg(&x, DNNL_ARG_WORKSPACE, v->ws[i]);
        arg(&x, DNNL_ARG_DIFF_DST, dd);
        arg(&x, DNNL_ARG_DIFF_SRC, ds);
        arg(&x, DNNL_ARG_DIFF_SCALE, o->dscale);
        arg(&x, DNNL_ARG_DIFF_SHIFT, o->dbias);
        SS_TRY(run(&o->bwd, s, &x));
        if (p->comm) {
            SS_DNNL(dnnl_stream_wait(s), "stream wait");
            SS_TRY(selfsup__bn_sync_backward(
                p->comm, &o->sync_layout, handle(x.a[0].memory),
                handle(v->mean[i]), handle(v->var[i]),
                o->dscale ? handle(o->scale) : NULL,
                o->dscale ? handle(o->dbias) : NULL,
                o->dscale ? handle(o->dscale) : NULL, SELFSUP__BN_EPS,
                handle(ds), p->sync_scratch));
        }
        if (o->dscale) {
            SS_TRY(add_grad(&o->db_reorder, s, o->dscale, o->g_scale));
            SS_TRY(add_grad(&o->db_reorder, s, o->dbias, o->g_bias));
        }
        return SELFSUP_OK;
    case SS_OP_RELU:
        arg(&x, DNNL_ARG_DST, v->act[op->dst]);
        arg(&x, DNNL_ARG_DIFF_DST, dd);
        arg(&x, DNNL_ARG_DIFF_SRC, ds);
        return run(&o->bwd, s, &x);
    case SS_OP_POOL:
        arg(&x, DNNL_ARG_DIFF_DST, dd);
        arg(&x, DNNL_ARG_DIFF_SRC, ds);
        arg(&x, DNNL_ARG_WORKSPACE, v->ws[i]);
        return run(&o->bwd, s, &x);
    case SS_OP_ADD:
        break;
    }
    return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                   "op %d has no backward step of its own", i);
}

selfsup_status selfsup__plan_backward(selfsup__plan *p,
                                      const selfsup__plan_ctx *ctx, int view,
                                      uint64_t version, const float *gout,
                                      float *gin)
{
    const selfsup__graph *g = ctx->g;
    dnnl_stream_t s;
    SS_TRY(selfsup__dnnl_stream(&s));
    selfsup__view_store *v = p->views[view];
    if (!v)
        return SS_FAIL(SELFSUP_ERR_STATE, "view %d has no activations", view);
    if (p->w_fwd_version != version) {
        SS_TRY(refresh_weights(p, s, 0));
        p->w_fwd_version = version;
    }
    if (p->w_bwd_version != version) {
        SS_TRY(refresh_weights(p, s, 1));
        p->w_bwd_version = version;
    }
    SS_DNNL(dnnl_memory_set_data_handle(p->gout_user, (void *)gout),
            "gradient binding");
    SS_TRY(
        reorder(&p->gout_reorder, s, p->gout_user, p->diff_mem[p->gout_slot]));
    int want_input = gin != NULL;
    for (int k = 0; k < p->n_steps; k++) {
        const selfsup__bwd_step *st = &p->steps[k];
        args x = {0};
        switch (st->kind) {
        case SS_STEP_OP:
            SS_TRY(backward_op(p, g, v, s, st, want_input));
            break;
        case SS_STEP_RELU_BWD:
            arg(&x, DNNL_ARG_DST, v->act[g->ops[st->op].dst]);
            arg(&x, DNNL_ARG_DIFF_DST, p->diff_mem[st->diff_dst]);
            arg(&x, DNNL_ARG_DIFF_SRC, p->diff_mem[st->diff_src]);
            SS_TRY(run(&p->ops[st->op].bwd, s, &x));
            break;
        case SS_STEP_REORDER:
            if (st->to_input && !want_input)
                break;
            SS_TRY(reorder(&st->accum, s, p->diff_mem[st->a],
                           p->diff_mem[st->out]));
            break;
        case SS_STEP_ACCUM:
            if (st->to_input && !want_input)
                break;
            arg(&x, DNNL_ARG_SRC_0, p->diff_mem[st->a]);
            arg(&x, DNNL_ARG_SRC_1, p->diff_mem[st->b]);
            arg(&x, DNNL_ARG_DST, p->diff_mem[st->out]);
            SS_TRY(run(&st->accum, s, &x));
            break;
        }
    }
    if (want_input) {
        SS_DNNL(dnnl_memory_set_data_handle(p->gin_user, gin),
                "input-gradient binding");
        SS_TRY(
            reorder(&p->gin_reorder, s, p->diff_mem[p->gin_slot], p->gin_user));
    }
    SS_DNNL(dnnl_stream_wait(s), "stream wait");
    return SELFSUP_OK;
}
