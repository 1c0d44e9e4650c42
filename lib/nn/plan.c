/* Compiling a graph for one input shape: shapes, primitives, and the
 * buffer plan of the forward and backward passes. */
#include "plan.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/comm.h"
#include "core/dnnl_ctx.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "core/threads.h"

static size_t md_bytes(const dnnl_memory_desc_t *md)
{
    return dnnl_memory_desc_get_size(md);
}

/* "layer1.0.bn1" from "layer1.0.bn1.running_mean". */
static void module_name(char *buf, size_t cap, const char *param)
{
    snprintf(buf, cap, "%s", param);
    char *dot = strrchr(buf, '.');
    if (dot)
        *dot = '\0';
}

static const char *op_module(const selfsup__graph *g, const selfsup__op *op,
                             char *buf, size_t cap)
{
    if (op->param_weight >= 0)
        module_name(buf, cap, g->params[op->param_weight].name);
    else if (op->buffer_mean >= 0)
        module_name(buf, cap, g->buffers[op->buffer_mean].name);
    else
        snprintf(buf, cap, "%s",
                 op->kind == SS_OP_POOL  ? "pooling"
                 : op->kind == SS_OP_ADD ? "residual add"
                                         : "relu");
    return buf;
}

static int64_t window_out(int64_t in, int kernel, int stride, int pad)
{
    if (in + 2 * pad < kernel)
        return 0;
    return (in + 2 * pad - kernel) / stride + 1;
}

static selfsup_status infer_dims(selfsup__plan *p, const selfsup__graph *g)
{
    char shape[96], name[SELFSUP__PARAM_NAME_MAX];
    for (int i = 0; i < g->n_ops; i++) {
        const selfsup__op *op = &g->ops[i];
        const int64_t *sd = p->dims[op->src[0]];
        int64_t *dd = p->dims[op->dst];
        memcpy(dd, sd, sizeof p->dims[0]);
        switch (op->kind) {
        case SS_OP_CONV:
        case SS_OP_POOL:
            if (op->kind == SS_OP_CONV)
                dd[1] = op->out_channels;
            for (int k = 2; k < 4; k++)
                dd[k] =
                    g->tensors[op->dst].side
                        ? g->tensors[op->dst].side
                        : window_out(sd[k], op->kernel, op->stride, op->pad);
            if (op->kind == SS_OP_POOL && op->pool == SS_POOL_GRID_AVG) {
                int kernel, stride;
                for (int k = 2; k < 4; k++)
                    if (!selfsup__grid_window(sd[k], op->kernel, &kernel,
                                              &stride)) {
                        selfsup__shape_format(shape, sizeof shape, p->in_rank,
                                              p->in_dims);
                        return SS_FAIL(
                            SELFSUP_ERR_SHAPE,
                            "input %s gives the last feature map %lldx%lld, "
                            "which the %dx%d grid pooling (grid=%d) cannot "
                            "split into equal cells",
                            shape, (long long)sd[2], (long long)sd[3],
                            op->kernel, op->kernel, op->kernel);
                    }
            }
            if (dd[2] < 1 || dd[3] < 1) {
                selfsup__shape_format(shape, sizeof shape, p->in_rank,
                                      p->in_dims);
                return SS_FAIL(
                    SELFSUP_ERR_SHAPE,
                    "input %s is too small: %s would get a %lldx%lld "
                    "image",
                    shape, op_module(g, op, name, sizeof name),
                    (long long)sd[2], (long long)sd[3]);
            }
            break;
        case SS_OP_LINEAR:
            dd[1] = op->out_channels;
            break;
        default:
            break;
        }
    }
    return SELFSUP_OK;
}

/* ---- forward buffers ---- */

typedef struct pool_sim {
    int n;
    int *owners;
    size_t *size;
} pool_sim;

static int pool_take(pool_sim *s, size_t bytes)
{
    int best = -1;
    for (int b = 0; b < s->n; b++) {
        if (s->owners[b] != 0)
            continue;
        /* the smallest buffer that fits, else the largest one (grown) */
        if (best < 0 ||
            (s->size[b] >= bytes
                 ? s->size[best] < bytes || s->size[b] < s->size[best]
                 : s->size[best] < bytes && s->size[b] > s->size[best]))
            best = b;
    }
    if (best < 0) {
        best = s->n++;
        s->size[best] = 0;
    }
    if (s->size[best] < bytes)
        s->size[best] = bytes;
    s->owners[best] = 1;
    return best;
}

static int keep_activations; /* test hook: selfsup__plan_keep_activations */

void selfsup__plan_keep_activations(int keep)
{
    keep_activations = keep;
}

/* What the backward pass reads of a tensor's forward value (saved), and
 * which of those it computes again instead (recompute: the bn op).
 *
 * A 4-D batch norm's output that only convolutions read (for their weight
 * gradients: the fused ReLU's backward reads the workspace, not the
 * output) is the bn's input, which bn's own backward keeps anyway, put
 * through the same normalisation again: one pass over memory in the
 * backward against a tensor kept per view. In a ResNet those are the
 * stem's and every block's first bn-relu outputs, about a quarter of
 * what a view keeps. */
static void mark_saved(const selfsup__graph *g, unsigned char *saved,
                       int *recompute)
{
    for (int i = 0; i < g->n_ops; i++) {
        const selfsup__op *op = &g->ops[i];
        int t = op->src[0];
        int producer = g->tensors[t].producer;
        switch (op->kind) {
        case SS_OP_CONV:
        case SS_OP_LINEAR:
            if (!keep_activations && producer >= 0 &&
                g->ops[producer].kind == SS_OP_BN && g->tensors[t].rank == 4)
                recompute[t] = producer;
            else
                saved[t] = 1;
            break;
        case SS_OP_BN:
            saved[t] = 1;
            break;
        case SS_OP_RELU:
            saved[op->dst] = 1;
            break;
        case SS_OP_ADD:
            if (op->relu)
                saved[op->dst] = 1;
            break;
        case SS_OP_POOL:
            break;
        }
    }
}

static int inplace_forward(selfsup__op_kind k)
{
    return k == SS_OP_BN || k == SS_OP_RELU || k == SS_OP_ADD;
}

static selfsup_status plan_activations(selfsup__plan *p,
                                       const selfsup__graph *g)
{
    int nt = g->n_tensors;
    unsigned char *saved = selfsup__calloc((size_t)nt, 1);
    int *remaining = selfsup__calloc((size_t)nt, sizeof *remaining);
    int *owners = selfsup__calloc((size_t)nt, sizeof *owners);
    p->act_size = selfsup__calloc((size_t)nt, sizeof *p->act_size);
    p->act_buf = selfsup__calloc((size_t)nt, sizeof *p->act_buf);
    p->recompute_op = selfsup__malloc((size_t)nt * sizeof *p->recompute_op);
    selfsup_status st = SELFSUP_OK;
    if (!saved || !remaining || !owners || !p->act_size || !p->act_buf ||
        !p->recompute_op) {
        st = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                     "cannot plan the activation buffers");
        goto done;
    }
    for (int t = 0; t < nt; t++)
        p->recompute_op[t] = -1;
    if (p->backward)
        mark_saved(g, saved, p->recompute_op);
    saved[g->output] = 1;
    for (int t = 0; t < nt; t++)
        if (saved[t]) /* something else reads the value: keep it */
            p->recompute_op[t] = -1;
    for (int i = 0; i < g->n_ops; i++)
        for (int k = 0; k < g->ops[i].n_src; k++)
            remaining[g->ops[i].src[k]]++;
    pool_sim s = {0, owners, p->act_size};
    p->act_buf[g->input] = pool_take(&s, md_bytes(&p->md[g->input]));
    for (int i = 0; i < g->n_ops; i++) {
        const selfsup__op *op = &g->ops[i];
        int s0 = op->src[0];
        int inplace = inplace_forward(op->kind) && !saved[s0] &&
                      remaining[s0] == 1 && owners[p->act_buf[s0]] == 1;
        if (inplace)
            p->act_buf[op->dst] = p->act_buf[s0];
        else
            p->act_buf[op->dst] = pool_take(&s, md_bytes(&p->md[op->dst]));
        for (int k = 0; k < op->n_src; k++) {
            int t = op->src[k];
            if (--remaining[t] == 0 && !saved[t] && !(inplace && k == 0))
                owners[p->act_buf[t]]--;
        }
    }
    p->n_act_bufs = s.n;
done:
    selfsup__free(saved);
    selfsup__free(remaining);
    selfsup__free(owners);
    return st;
}

/* ---- backward schedule ---- */

typedef struct bwd_sim {
    selfsup__plan *p;
    pool_sim pool;
    int n_slots;
    int *slot_buf, *slot_tensor; /* a slot: a buffer read with a tensor's md */
    int *cur;                    /* tensor -> slot of its gradient so far */
} bwd_sim;

static int new_slot(bwd_sim *s, int buf, int tensor)
{
    s->slot_buf[s->n_slots] = buf;
    s->slot_tensor[s->n_slots] = tensor;
    return s->n_slots++;
}

static int fresh_slot(bwd_sim *s, int tensor)
{
    return new_slot(s, pool_take(&s->pool, md_bytes(&s->p->md[tensor])),
                    tensor);
}

static void release(bwd_sim *s, int slot)
{
    s->pool.owners[s->slot_buf[slot]]--;
}

static selfsup__bwd_step *push(selfsup__plan *p, selfsup__step_kind kind,
                               int op)
{
    selfsup__bwd_step *st = &p->steps[p->n_steps++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->op = op;
    st->diff_dst = st->diff_src = st->a = st->b = st->out = -1;
    return st;
}

/* Adds the gradient contribution in slot c (owned by the caller) to tensor
 * t's gradient. */
static void accumulate(bwd_sim *s, const selfsup__graph *g, int t, int c)
{
    selfsup__bwd_step *st = push(s->p, SS_STEP_ACCUM, -1);
    st->to_input = t == g->input;
    st->a = s->cur[t];
    st->b = c;
    if (s->pool.owners[s->slot_buf[s->cur[t]]] == 1) {
        st->out = s->cur[t];
    } else { /* shared with another live gradient: write a new buffer */
        st->out = fresh_slot(s, t);
        release(s, s->cur[t]);
        s->cur[t] = st->out;
    }
}

static int inplace_backward(selfsup__op_kind k)
{
    return k == SS_OP_BN || k == SS_OP_RELU;
}

static selfsup_status plan_backward(selfsup__plan *p, const selfsup__graph *g)
{
    int nt = g->n_tensors, max_slots = 6 * g->n_ops + 4;
    bwd_sim s = {p, {0, NULL, NULL}, 0, NULL, NULL, NULL};
    s.pool.owners = selfsup__calloc((size_t)max_slots, sizeof(int));
    s.pool.size = selfsup__calloc((size_t)max_slots, sizeof(size_t));
    s.slot_buf = selfsup__calloc((size_t)max_slots, sizeof(int));
    s.slot_tensor = selfsup__calloc((size_t)max_slots, sizeof(int));
    s.cur = selfsup__malloc((size_t)nt * sizeof(int));
    p->steps = selfsup__calloc((size_t)(5 * g->n_ops + 1), sizeof *p->steps);
    selfsup_status st = SELFSUP_OK;
    if (!s.pool.owners || !s.pool.size || !s.slot_buf || !s.slot_tensor ||
        !s.cur || !p->steps) {
        st =
            SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "cannot plan the backward pass");
        goto done;
    }
    for (int t = 0; t < nt; t++)
        s.cur[t] = -1;
    p->gout_slot = s.cur[g->output] = fresh_slot(&s, g->output);
    for (int i = g->n_ops - 1; i >= 0; i--) {
        const selfsup__op *op = &g->ops[i];
        int dd = s.cur[op->dst];
        if (dd < 0) {
            st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                         "tensor %d is computed but never used", op->dst);
            goto done;
        }
        if (op->kind == SS_OP_ADD) {
            int r = dd; /* the gradient of the sum: both inputs get it */
            if (op->relu) {
                if (s.pool.owners[s.slot_buf[dd]] != 1)
                    r = fresh_slot(&s, op->dst);
                selfsup__bwd_step *stp = push(p, SS_STEP_RELU_BWD, i);
                stp->diff_dst = dd;
                stp->diff_src = r;
                if (r != dd)
                    release(&s, dd);
            }
            for (int k = 0; k < 2; k++) {
                int t = op->src[k];
                if (!dnnl_memory_desc_equal(&p->md[t], &p->md[op->dst])) {
                    /* an input in another layout gets a converted copy */
                    selfsup__bwd_step *cv = push(p, SS_STEP_REORDER, i);
                    cv->a = r;
                    cv->out = fresh_slot(&s, t);
                    cv->to_input = t == g->input;
                    if (s.cur[t] < 0) {
                        s.cur[t] = cv->out;
                    } else {
                        accumulate(&s, g, t, cv->out);
                        release(&s, cv->out);
                    }
                } else if (s.cur[t] < 0) {
                    s.cur[t] = new_slot(&s, s.slot_buf[r], t);
                    s.pool.owners[s.slot_buf[r]]++;
                } else {
                    accumulate(&s, g, t, r);
                }
            }
            release(&s, r);
            continue;
        }
        int t = op->src[0];
        int inplace =
            inplace_backward(op->kind) && s.pool.owners[s.slot_buf[dd]] == 1;
        int target =
            inplace ? new_slot(&s, s.slot_buf[dd], t) : fresh_slot(&s, t);
        selfsup__bwd_step *stp = push(p, SS_STEP_OP, i);
        stp->diff_dst = dd;
        stp->diff_src = target;
        stp->to_input = t == g->input;
        if (!inplace)
            release(&s, dd);
        if (s.cur[t] < 0) {
            s.cur[t] = target;
        } else {
            accumulate(&s, g, t, target);
            release(&s, target);
        }
    }
    p->gin_slot = s.cur[g->input];
    /* buffers sized by what they hold; one memory object per slot */
    p->n_diff_bufs = s.pool.n;
    p->diff_bufs = selfsup__calloc((size_t)s.pool.n, sizeof(void *));
    p->diff_mem = selfsup__calloc((size_t)s.n_slots, sizeof(dnnl_memory_t));
    if (!p->diff_bufs || !p->diff_mem) {
        st = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                     "cannot allocate the gradient buffers");
        goto done;
    }
    for (int b = 0; b < s.pool.n; b++) {
        p->diff_bufs[b] = selfsup__malloc(s.pool.size[b]);
        if (!p->diff_bufs[b]) {
            st = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                         "cannot allocate a gradient buffer of %zu bytes",
                         s.pool.size[b]);
            goto done;
        }
    }
    for (int k = 0; k < s.n_slots; k++) {
        st = selfsup__mem_create(&p->diff_mem[k], &p->md[s.slot_tensor[k]],
                                 p->diff_bufs[s.slot_buf[k]]);
        if (st != SELFSUP_OK)
            goto done;
        p->n_diff_mem = k + 1;
    }
    for (int k = 0; k < p->n_steps; k++) {
        selfsup__bwd_step *stp = &p->steps[k];
        if (stp->kind == SS_STEP_OP && p->ops[stp->op].as_image) {
            const dnnl_memory_desc_t *md = &p->ops[stp->op].image_md;
            st = selfsup__mem_create(&stp->image_dd, md,
                                     p->diff_bufs[s.slot_buf[stp->diff_dst]]);
            if (st == SELFSUP_OK)
                st = selfsup__mem_create(
                    &stp->image_ds, md,
                    p->diff_bufs[s.slot_buf[stp->diff_src]]);
            if (st != SELFSUP_OK)
                goto done;
            continue;
        }
        if (stp->kind == SS_STEP_REORDER) {
            st = selfsup__prim_reorder(&stp->accum,
                                       &p->md[s.slot_tensor[stp->a]],
                                       &p->md[s.slot_tensor[stp->out]], 0);
            if (st != SELFSUP_OK)
                goto done;
            continue;
        }
        if (stp->kind != SS_STEP_ACCUM)
            continue;
        const dnnl_memory_desc_t *md = &p->md[s.slot_tensor[stp->out]];
        dnnl_binary_desc_t bd;
        st = selfsup__dnnl_check(
            dnnl_binary_desc_init(&bd, dnnl_binary_add, md, md, md), __func__,
            "gradient sum descriptor");
        if (st == SELFSUP_OK)
            st = selfsup__prim_create(&stp->accum, &bd, NULL, NULL);
        if (st != SELFSUP_OK)
            goto done;
    }
done:
    selfsup__free(s.pool.owners);
    selfsup__free(s.pool.size);
    selfsup__free(s.slot_buf);
    selfsup__free(s.slot_tensor);
    selfsup__free(s.cur);
    return st;
}

/* ---- assembly ---- */

typedef selfsup_status (*prim_fn)(selfsup__prim *prim, void *arg);

static selfsup_status for_each_prim(selfsup__plan *p, prim_fn fn, void *arg)
{
    selfsup__prim *edges[] = {&p->in_reorder, &p->out_reorder, &p->gout_reorder,
                              &p->gin_reorder};
    for (size_t k = 0; k < sizeof edges / sizeof *edges; k++)
        SS_TRY(fn(edges[k], arg));
    for (int i = 0; i < p->n_ops; i++) {
        selfsup__op_plan *o = &p->ops[i];
        selfsup__prim *ps[] = {&o->fwd,           &o->bwd,
                               &o->bwd_weights,   &o->w_fwd_reorder,
                               &o->w_bwd_reorder, &o->dw_reorder,
                               &o->db_reorder,    &o->widen_src,
                               &o->widen_dd,      &o->recompute};
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
            SS_TRY(fn(ps[k], arg));
    }
    for (int k = 0; k < p->n_steps; k++)
        SS_TRY(fn(&p->steps[k].accum, arg));
    return SELFSUP_OK;
}

static selfsup_status max_scratch(selfsup__prim *prim, void *arg)
{
    size_t *m = arg, n = selfsup__prim_scratch_size(prim);
    if (n > *m)
        *m = n;
    return SELFSUP_OK;
}

static selfsup_status bind_scratch(selfsup__prim *prim, void *arg)
{
    return selfsup__prim_bind_scratch(prim, arg);
}

static selfsup_status build_edges(selfsup__plan *p, const selfsup__graph *g)
{
    int orank = g->tensors[g->output].rank;
    dnnl_memory_desc_t in_md, out_md;
    SS_TRY(selfsup__md_plain(&in_md, p->in_rank, p->in_dims, dnnl_f32));
    SS_TRY(selfsup__md_plain(&out_md, orank, p->dims[g->output], dnnl_f32));
    SS_TRY(selfsup__prim_reorder(&p->in_reorder, &in_md, &p->md[g->input], 0));
    SS_TRY(
        selfsup__prim_reorder(&p->out_reorder, &p->md[g->output], &out_md, 0));
    SS_TRY(selfsup__mem_create(&p->in_user, &in_md, NULL));
    SS_TRY(selfsup__mem_create(&p->out_user, &out_md, NULL));
    if (!p->backward)
        return SELFSUP_OK;
    SS_TRY(
        selfsup__prim_reorder(&p->gout_reorder, &out_md, &p->md[g->output], 0));
    SS_TRY(selfsup__prim_reorder(&p->gin_reorder, &p->md[g->input], &in_md, 0));
    SS_TRY(selfsup__mem_create(&p->gout_user, &out_md, NULL));
    return selfsup__mem_create(&p->gin_user, &in_md, NULL);
}

static selfsup_status check_batch_stats(const selfsup__plan *p,
                                        const selfsup__graph *g)
{
    if (!p->training)
        return SELFSUP_OK;
    char shape[96], name[SELFSUP__PARAM_NAME_MAX];
    for (int i = 0; i < g->n_ops; i++) {
        if (g->ops[i].kind != SS_OP_BN || p->ops[i].stat_count > 1)
            continue;
        selfsup__shape_format(shape, sizeof shape, p->in_rank, p->in_dims);
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "input %s leaves batch norm %s one value per channel; "
                       "training needs a batch of at least 2",
                       shape, op_module(g, &g->ops[i], name, sizeof name));
    }
    return SELFSUP_OK;
}

/* One buffer, the size of the largest output the backward recomputes, and
 * each recomputing bn's primitive over it. */
static selfsup_status build_recompute(selfsup__plan *p,
                                      const selfsup__plan_ctx *ctx)
{
    size_t bytes = 0;
    for (int t = 0; t < p->n_tensors; t++)
        if (p->recompute_op[t] >= 0 && md_bytes(&p->md[t]) > bytes)
            bytes = md_bytes(&p->md[t]);
    if (!bytes)
        return SELFSUP_OK;
    p->recompute_buf = selfsup__malloc(bytes);
    if (!p->recompute_buf)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %zu bytes to recompute activations",
                       bytes);
    for (int t = 0; t < p->n_tensors; t++)
        if (p->recompute_op[t] >= 0)
            SS_TRY(selfsup__op_build_recompute(p, ctx, p->recompute_op[t]));
    return SELFSUP_OK;
}

static selfsup_status build(selfsup__plan *p, const selfsup__plan_ctx *ctx)
{
    const selfsup__graph *g = ctx->g;
    int nt = g->n_tensors;
    p->dims = selfsup__calloc((size_t)nt, sizeof *p->dims);
    p->md = selfsup__calloc((size_t)nt, sizeof *p->md);
    p->ops = selfsup__calloc((size_t)(g->n_ops ? g->n_ops : 1), sizeof *p->ops);
    if (!p->dims || !p->md || !p->ops)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "cannot allocate a plan");
    p->n_tensors = nt;
    p->n_ops = g->n_ops;
    memcpy(p->dims[g->input], p->in_dims, sizeof p->dims[0]);
    SS_TRY(infer_dims(p, g));
    for (int i = 0; i < g->n_ops; i++)
        SS_TRY(selfsup__op_build(p, ctx, i));
    SS_TRY(check_batch_stats(p, g));
    if (p->comm) {
        int64_t widest = 1;
        for (int i = 0; i < g->n_ops; i++)
            if (g->ops[i].kind == SS_OP_BN &&
                p->dims[g->ops[i].src[0]][1] > widest)
                widest = p->dims[g->ops[i].src[0]][1];
        p->sync_scratch =
            selfsup__malloc((size_t)(4 * widest) * sizeof(double));
        if (!p->sync_scratch)
            return SS_FAIL(
                SELFSUP_ERR_OUT_OF_MEMORY,
                "cannot allocate the batch-norm statistics' scratch");
    }
    SS_TRY(build_edges(p, g));
    SS_TRY(plan_activations(p, g));
    if (p->backward)
        SS_TRY(plan_backward(p, g));
    SS_TRY(build_recompute(p, ctx));
    size_t grad_tmp = 64;
    for (int i = 0; i < g->n_ops; i++) {
        size_t n = selfsup__op_grad_tmp_bytes(p, ctx, i);
        if (n > grad_tmp)
            grad_tmp = n;
    }
    p->grad_tmp = selfsup__malloc(grad_tmp);
    if (!p->grad_tmp)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %zu bytes of gradient scratch",
                       grad_tmp);
    for (int i = 0; i < g->n_ops; i++)
        SS_TRY(selfsup__op_bind(p, ctx, i));
    size_t scratch = 64;
    SS_TRY(for_each_prim(p, max_scratch, &scratch));
    p->scratch = selfsup__malloc(scratch);
    if (!p->scratch)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %zu bytes of scratchpad", scratch);
    return for_each_prim(p, bind_scratch, p->scratch);
}

/* Primitives of a step that run oneDNN's reference kernels. The backward
 * data of an op reading the network input is left out: it only serves the
 * input gradient, which training does not ask for. */
int selfsup__plan_reference_count(const selfsup__plan *p,
                                  const selfsup__graph *g)
{
    int n = 0;
    for (int i = 0; i < p->n_ops; i++) {
        const selfsup__op_plan *o = &p->ops[i];
        n += selfsup__prim_is_reference(&o->fwd);
        n += selfsup__prim_is_reference(&o->bwd_weights);
        n += selfsup__prim_is_reference(&o->recompute);
        if (g->ops[i].src[0] != g->input)
            n += selfsup__prim_is_reference(&o->bwd);
    }
    return n;
}

selfsup_status selfsup__plan_create_layout(selfsup__plan **out,
                                           const selfsup__plan_ctx *ctx,
                                           const int64_t *in_dims, int mode,
                                           dnnl_format_tag_t act_tag)
{
    selfsup__plan *p = selfsup__calloc(1, sizeof *p);
    if (!p)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "cannot allocate a plan");
    p->in_rank = ctx->g->tensors[ctx->g->input].rank;
    memcpy(p->in_dims, in_dims, (size_t)p->in_rank * sizeof *in_dims);
    p->training = mode != SELFSUP__PLAN_INFERENCE;
    p->backward = mode == SELFSUP__PLAN_TRAINING;
    p->comm = p->training && selfsup__comm_active(ctx->comm) ? ctx->comm : NULL;
    p->threads = selfsup__num_threads();
    p->dt = ctx->dt;
    p->act_tag = act_tag;
    p->w_fwd_version = p->w_bwd_version = UINT64_MAX;
    selfsup_status st = build(p, ctx);
    if (st != SELFSUP_OK) {
        selfsup__plan_destroy(p);
        return st;
    }
    *out = p;
    return SELFSUP_OK;
}

selfsup_status selfsup__plan_create(selfsup__plan **out,
                                    const selfsup__plan_ctx *ctx,
                                    const int64_t *in_dims, int mode)
{
    if (mode == SELFSUP__PLAN_FORWARD_TRAINING) {
        /* The layout a training plan takes (its backward's kernels count
         * in the choice), so that the forward runs the same kernels and
         * gives the same bits. */
        selfsup__plan *t;
        SS_TRY(selfsup__plan_create(&t, ctx, in_dims, SELFSUP__PLAN_TRAINING));
        dnnl_format_tag_t tag = t->act_tag;
        selfsup__plan_destroy(t);
        return selfsup__plan_create_layout(out, ctx, in_dims, mode, tag);
    }
    /* The primitives' own choice first: blocked layouts, the fastest
     * kernels when channel counts are multiples of 16. Otherwise oneDNN
     * 2.6 picks layouts only its reference convolution accepts (a padded
     * nChw16c after an 8-channel stem), so nhwc is tried, which its brgconv
     * and jit avx512 kernels take at any channel count. The plan with the
     * fewer reference primitives wins. */
    static const dnnl_format_tag_t tags[] = {dnnl_format_tag_any, dnnl_nhwc};
    const selfsup__graph *g = ctx->g;
    selfsup__plan *best = NULL;
    int best_refs = 0;
    size_t n_tags = g->tensors[g->input].rank == 4 ? 2 : 1;
    for (size_t k = 0; k < n_tags; k++) {
        selfsup__plan *p = NULL;
        selfsup_status st =
            selfsup__plan_create_layout(&p, ctx, in_dims, mode, tags[k]);
        /* oneDNN refusing nhwc is no reason to fail: the first plan runs,
         * only slower. Running out of memory is. */
        if (best &&
            (st == SELFSUP_ERR_UNSUPPORTED || st == SELFSUP_ERR_BACKEND))
            break;
        if (st != SELFSUP_OK) {
            selfsup__plan_destroy(best);
            return st;
        }
        int refs = selfsup__plan_reference_count(p, g);
        if (!best || refs < best_refs) {
            selfsup__plan_destroy(best);
            best = p;
            best_refs = refs;
        } else {
            selfsup__plan_destroy(p);
        }
        if (best_refs == 0)
            break;
    }
    *out = best;
    return SELFSUP_OK;
}

static void view_store_free(selfsup__view_store *v, int n_tensors, int n_ops)
{
    if (!v)
        return;
    for (int t = 0; v->act && t < n_tensors; t++)
        if (v->act[t])
            dnnl_memory_destroy(v->act[t]);
    for (int i = 0; i < n_ops; i++) {
        if (v->ws && v->ws[i])
            dnnl_memory_destroy(v->ws[i]);
        if (v->mean && v->mean[i])
            dnnl_memory_destroy(v->mean[i]);
        if (v->var && v->var[i])
            dnnl_memory_destroy(v->var[i]);
        for (int k = 0; v->image && k < 2; k++)
            if (v->image[2 * i + k])
                dnnl_memory_destroy(v->image[2 * i + k]);
    }
    for (int b = 0; v->bufs && b < v->n_bufs; b++)
        selfsup__free(v->bufs[b]);
    selfsup__free(v->bufs);
    selfsup__free(v->act);
    selfsup__free(v->ws);
    selfsup__free(v->mean);
    selfsup__free(v->var);
    selfsup__free(v->image);
    selfsup__free(v->stats);
    selfsup__free(v->ws_buf);
    selfsup__free(v);
}

void selfsup__plan_destroy(selfsup__plan *p)
{
    if (!p)
        return;
    for (int v = 0; v < SELFSUP_ENCODER_MAX_VIEWS; v++)
        view_store_free(p->views[v], p->n_tensors, p->n_ops);
    for (int i = 0; p->ops && i < p->n_ops; i++)
        selfsup__op_plan_free(&p->ops[i]);
    for (int k = 0; p->steps && k < p->n_steps; k++) {
        selfsup__prim_destroy(&p->steps[k].accum);
        if (p->steps[k].image_dd)
            dnnl_memory_destroy(p->steps[k].image_dd);
        if (p->steps[k].image_ds)
            dnnl_memory_destroy(p->steps[k].image_ds);
    }
    for (int k = 0; k < p->n_diff_mem; k++)
        dnnl_memory_destroy(p->diff_mem[k]);
    for (int b = 0; p->diff_bufs && b < p->n_diff_bufs; b++)
        selfsup__free(p->diff_bufs[b]);
    selfsup__free(p->sync_scratch);
    selfsup__prim_destroy(&p->in_reorder);
    selfsup__prim_destroy(&p->out_reorder);
    selfsup__prim_destroy(&p->gout_reorder);
    selfsup__prim_destroy(&p->gin_reorder);
    dnnl_memory_t edges[] = {p->in_user, p->out_user, p->gout_user,
                             p->gin_user};
    for (size_t k = 0; k < sizeof edges / sizeof *edges; k++)
        if (edges[k])
            dnnl_memory_destroy(edges[k]);
    selfsup__free(p->diff_bufs);
    selfsup__free(p->diff_mem);
    selfsup__free(p->steps);
    selfsup__free(p->act_buf);
    selfsup__free(p->act_size);
    selfsup__free(p->recompute_op);
    selfsup__free(p->recompute_buf);
    selfsup__free(p->ops);
    selfsup__free(p->md);
    selfsup__free(p->dims);
    selfsup__free(p->scratch);
    selfsup__free(p->grad_tmp);
    selfsup__free(p);
}

/* ---- per-view stores ---- */

static selfsup_status view_store_build(selfsup__plan *p,
                                       const selfsup__graph *g,
                                       selfsup__view_store *v)
{
    int nt = p->n_tensors, no = p->n_ops;
    v->bufs = selfsup__calloc((size_t)p->n_act_bufs, sizeof(void *));
    v->act = selfsup__calloc((size_t)nt, sizeof(dnnl_memory_t));
    v->ws = selfsup__calloc((size_t)no, sizeof(dnnl_memory_t));
    v->mean = selfsup__calloc((size_t)no, sizeof(dnnl_memory_t));
    v->var = selfsup__calloc((size_t)no, sizeof(dnnl_memory_t));
    v->image = selfsup__calloc((size_t)(2 * no), sizeof(dnnl_memory_t));
    if (!v->bufs || !v->act || !v->ws || !v->mean || !v->var || !v->image)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate a view's activations");
    v->n_bufs = p->n_act_bufs;
    for (int b = 0; b < p->n_act_bufs; b++) {
        v->bufs[b] = selfsup__malloc(p->act_size[b]);
        if (!v->bufs[b])
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot allocate %zu bytes of activations",
                           p->act_size[b]);
    }
    for (int t = 0; t < nt; t++)
        SS_TRY(
            selfsup__mem_create(&v->act[t], &p->md[t], v->bufs[p->act_buf[t]]));
    for (int i = 0; i < no; i++) {
        const selfsup__op_plan *o = &p->ops[i];
        if (!o->as_image)
            continue;
        int ts[2] = {g->ops[i].src[0], g->ops[i].dst};
        for (int k = 0; k < 2; k++)
            SS_TRY(selfsup__mem_create(&v->image[2 * i + k], &o->image_md,
                                       v->bufs[p->act_buf[ts[k]]]));
    }
    if (!p->training)
        return SELFSUP_OK;
    size_t ws_total = 0, stat_total = 0;
    for (int i = 0; i < no; i++) {
        ws_total += (p->ops[i].ws_bytes + 63) & ~(size_t)63;
        if (g->ops[i].kind == SS_OP_BN)
            stat_total += 2 * (size_t)p->dims[g->ops[i].src[0]][1];
    }
    v->ws_buf = selfsup__malloc(ws_total);
    v->stats = selfsup__malloc((stat_total ? stat_total : 1) * sizeof(float));
    if (!v->ws_buf || !v->stats)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate a view's workspaces");
    char *ws = v->ws_buf;
    float *stats = v->stats;
    for (int i = 0; i < no; i++) {
        selfsup__op_plan *o = &p->ops[i];
        if (o->ws_bytes) {
            SS_TRY(selfsup__mem_create(
                &v->ws[i], selfsup__pd_md(&o->fwd, dnnl_query_workspace_md),
                ws));
            ws += (o->ws_bytes + 63) & ~(size_t)63;
        }
        if (g->ops[i].kind == SS_OP_BN) {
            int64_t c = p->dims[g->ops[i].src[0]][1];
            SS_TRY(selfsup__mem_create(&v->mean[i], &o->stat_md, stats));
            SS_TRY(selfsup__mem_create(&v->var[i], &o->stat_md, stats + c));
            stats += 2 * c;
        }
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__plan_view(selfsup__plan *p, const selfsup__graph *g,
                                  int view, selfsup__view_store **out)
{
    if (!p->backward)
        view = 0;
    if (!p->views[view]) {
        selfsup__view_store *v = selfsup__calloc(1, sizeof *v);
        if (!v)
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot allocate a view's activations");
        selfsup_status st = view_store_build(p, g, v);
        if (st != SELFSUP_OK) {
            view_store_free(v, p->n_tensors, p->n_ops);
            return st;
        }
        p->views[view] = v;
    }
    *out = p->views[view];
    return SELFSUP_OK;
}
