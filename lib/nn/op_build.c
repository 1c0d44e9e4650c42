/* The oneDNN primitives of each layer, for one plan. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dnnl_ctx.h"
#include "core/error.h"
#include "plan.h"

static int rank_of(const selfsup__plan_ctx *ctx, int t)
{
    return ctx->g->tensors[t].rank;
}

/* A 4-D activation in the plan's fixed layout; recorded as t's layout. */
static selfsup_status act_md(selfsup__plan *p, int t, dnnl_memory_desc_t *md)
{
    dnnl_dims_t d;
    for (int k = 0; k < 4; k++)
        d[k] = p->dims[t][k];
    SS_DNNL(dnnl_memory_desc_init_by_tag(md, 4, d, p->dt, p->act_tag),
            "activation descriptor");
    p->md[t] = *md;
    return SELFSUP_OK;
}

/* The layout an op reads its source in: the producer's, or for the
 * network input not yet laid out, the one the primitive picks (any) or
 * plain for layers that take whatever they are given. */
static selfsup_status src_md(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                             int t, int pick, dnnl_memory_desc_t *md)
{
    if (p->md[t].ndims != 0) {
        *md = p->md[t];
        return SELFSUP_OK;
    }
    if (pick && !(p->act_tag != dnnl_format_tag_any && rank_of(ctx, t) == 4))
        return selfsup__md_any(md, rank_of(ctx, t), p->dims[t], p->dt);
    if (pick)
        return act_md(p, t, md);
    SS_TRY(selfsup__md_plain(md, rank_of(ctx, t), p->dims[t], p->dt));
    p->md[t] = *md;
    return SELFSUP_OK;
}

static void pick_src(selfsup__plan *p, int t, const selfsup__prim *fwd)
{
    if (p->md[t].ndims == 0)
        p->md[t] = *selfsup__pd_md(fwd, dnnl_query_src_md);
}

/* oneDNN's 1x1 backward-weights kernels (jit_1x1, AVX2 and AVX-512) copy a
 * strided channels-last input to a per-thread buffer at offsets computed
 * with the kernel's channel block instead of the channel count, so with
 * fewer input channels than the block (8 or 16) each thread writes past its
 * part: on two threads they overwrite each other (wrong weight gradients
 * that change from run to run, or a hang), on one past the scratchpad.
 * Seen with oneDNN 2.6 (resnet18 width 4's layer2.0.downsample on AVX2);
 * reported upstream as oneDNN issue 6035. Those convolutions take oneDNN's
 * next implementation. */
static int rtus_bwd_weights_broken(const selfsup__plan *p,
                                   const selfsup__op *op, int s)
{
    const int64_t *sd = p->dims[s];
    if (op->kernel != 1 || op->stride == 1 || sd[1] >= 16)
        return 0;
    dnnl_memory_desc_t nhwc;
    dnnl_dims_t dims = {sd[0], sd[1], sd[2], sd[3]};
    if (dnnl_memory_desc_init_by_tag(&nhwc, 4, dims, p->dt, dnnl_nhwc) !=
        dnnl_success)
        return 1;
    return dnnl_memory_desc_equal(&nhwc, &p->md[s]);
}

/* oneDNN 2.6's bf16 backward-weights kernel for strided convolutions
 * (jit_bf16 on avx512_core_bf16; its 1x1 kernel is fine) has a cost that
 * does not shrink with the problem: on two cores, below about a GFLOP a
 * call (resnet18 width 16's downsampling layers at batch 256: 0.07-0.6)
 * it runs 1.4-7.6x slower than oneDNN's float32 kernel on the same shapes
 * with both inputs widened to float32, while from 1.85 GFLOP up (width
 * 32 and 64) it is 1.1-1.8x faster (docs/nn.md). A product of two bf16
 * numbers is exact in float32 and both kernels accumulate in float32, so
 * the gradient is the same sum in another order. Kept only if oneDNN runs
 * the float32 version in its jit kernels. */
#define WIDEN_BELOW_FLOP 1e9
static selfsup_status widen_bwd_weights(selfsup__plan *p, int s, int d,
                                        selfsup__op_plan *o,
                                        const dnnl_convolution_desc_t *wd)
{
    dnnl_convolution_desc_t wide = *wd;
    wide.src_desc.data_type = dnnl_f32;
    wide.diff_dst_desc.data_type = dnnl_f32;
    selfsup__prim prim = {0};
    selfsup__error_state before;
    selfsup__error_save(&before);
    if (selfsup__prim_create(&prim, &wide, NULL, NULL) != SELFSUP_OK ||
        selfsup__prim_is_reference(&prim)) {
        selfsup__prim_destroy(&prim);
        selfsup__error_restore(&before);
        return SELFSUP_OK; /* the bf16 kernel stays */
    }
    selfsup__prim_destroy(&o->bwd_weights);
    o->bwd_weights = prim;
    o->src_wide_md = wide.src_desc;
    o->dd_wide_md = wide.diff_dst_desc;
    SS_TRY(selfsup__prim_reorder(&o->widen_src, &p->md[s], &o->src_wide_md, 0));
    return selfsup__prim_reorder(&o->widen_dd, &p->md[d], &o->dd_wide_md, 0);
}

static selfsup_status build_conv(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                 const selfsup__op *op, selfsup__op_plan *o)
{
    int s = op->src[0], d = op->dst;
    const int64_t *sd = p->dims[s];
    int64_t wdims[4] = {op->out_channels, sd[1], op->kernel, op->kernel};
    dnnl_memory_desc_t src, w_any, w_any_f32, bias, dst_any;
    SS_TRY(src_md(p, ctx, s, 1, &src));
    SS_TRY(selfsup__md_any(&w_any, 4, wdims, p->dt));
    SS_TRY(selfsup__md_any(&w_any_f32, 4, wdims, dnnl_f32));
    SS_TRY(selfsup__md_plain(&bias, 1, &op->out_channels, dnnl_f32));
    if (p->act_tag == dnnl_format_tag_any)
        SS_TRY(selfsup__md_any(&dst_any, 4, p->dims[d], p->dt));
    else
        SS_TRY(act_md(p, d, &dst_any));
    const dnnl_memory_desc_t *b = op->param_bias >= 0 ? &bias : NULL;
    dnnl_dims_t strides = {op->stride, op->stride};
    dnnl_dims_t pad = {op->pad, op->pad};
    dnnl_convolution_desc_t cd;
    SS_DNNL(dnnl_convolution_forward_desc_init(
                &cd,
                p->training ? dnnl_forward_training : dnnl_forward_inference,
                dnnl_convolution_direct, &src, &w_any, b, &dst_any, strides,
                pad, pad),
            "convolution forward descriptor");
    SS_TRY(selfsup__prim_create(&o->fwd, &cd, NULL, NULL));
    pick_src(p, s, &o->fwd);
    p->md[d] = *selfsup__pd_md(&o->fwd, dnnl_query_dst_md);
    if (!p->backward)
        return SELFSUP_OK;
    dnnl_convolution_desc_t bd, wd;
    SS_DNNL(dnnl_convolution_backward_data_desc_init(
                &bd, dnnl_convolution_direct, &p->md[s], &w_any, &p->md[d],
                strides, pad, pad),
            "convolution backward-data descriptor");
    SS_TRY(selfsup__prim_create(&o->bwd, &bd, NULL, o->fwd.pd));
    SS_DNNL(dnnl_convolution_backward_weights_desc_init(
                &wd, dnnl_convolution_direct, &p->md[s], &w_any_f32, b,
                &p->md[d], strides, pad, pad),
            "convolution backward-weights descriptor");
    if (rtus_bwd_weights_broken(p, op, s))
        return selfsup__prim_create_avoiding(&o->bwd_weights, &wd, o->fwd.pd,
                                             "jit_1x1:");
    SS_TRY(selfsup__prim_create(&o->bwd_weights, &wd, NULL, o->fwd.pd));
    if (p->dt == dnnl_bf16 && op->stride > 1 &&
        selfsup__prim_flop(&o->bwd_weights) < WIDEN_BELOW_FLOP &&
        selfsup__prim_impl_is(&o->bwd_weights, "jit_bf16:"))
        return widen_bwd_weights(p, s, d, o, &wd);
    return SELFSUP_OK;
}

static selfsup_status build_linear(selfsup__plan *p,
                                   const selfsup__plan_ctx *ctx,
                                   const selfsup__op *op, selfsup__op_plan *o)
{
    int s = op->src[0], d = op->dst;
    int64_t wdims[2] = {op->out_channels, p->dims[s][1]};
    dnnl_memory_desc_t src, w_any, w_any_f32, bias, dst_any;
    SS_TRY(src_md(p, ctx, s, 1, &src));
    /* float32 weights in the flat buffer's own layout (out, in), which
     * oneDNN's GEMM-based inner products read as they are: no copy per
     * layer and plan, where the layouts oneDNN picks cost the 2048- and
     * 4096-wide heads 15-45 MB of a step's peak for about 1% of its speed
     * (docs/benchmarks.md). bf16 weights are a copy either way; there
     * oneDNN's choice is kept. */
    if (p->dt == dnnl_f32) {
        SS_TRY(selfsup__md_plain(&w_any, 2, wdims, dnnl_f32));
        w_any_f32 = w_any;
    } else {
        SS_TRY(selfsup__md_any(&w_any, 2, wdims, p->dt));
        SS_TRY(selfsup__md_any(&w_any_f32, 2, wdims, dnnl_f32));
    }
    SS_TRY(selfsup__md_plain(&bias, 1, &op->out_channels, dnnl_f32));
    SS_TRY(selfsup__md_any(&dst_any, 2, p->dims[d], p->dt));
    const dnnl_memory_desc_t *b = op->param_bias >= 0 ? &bias : NULL;
    dnnl_inner_product_desc_t fd, bd, wd;
    SS_DNNL(dnnl_inner_product_forward_desc_init(
                &fd,
                p->training ? dnnl_forward_training : dnnl_forward_inference,
                &src, &w_any, b, &dst_any),
            "inner-product forward descriptor");
    SS_TRY(selfsup__prim_create(&o->fwd, &fd, NULL, NULL));
    pick_src(p, s, &o->fwd);
    p->md[d] = *selfsup__pd_md(&o->fwd, dnnl_query_dst_md);
    if (!p->backward)
        return SELFSUP_OK;
    SS_DNNL(dnnl_inner_product_backward_data_desc_init(&bd, &p->md[s], &w_any,
                                                       &p->md[d]),
            "inner-product backward-data descriptor");
    /* oneDNN 2.6's brgemm backward-data kernel crashes on two threads for
     * narrow inputs into wide outputs (64 x 32 -> 2048, GroCo's projector
     * at width 4; also 8, 16 inputs, 1536-4096 outputs, batches 16-128;
     * fine from 48 inputs up): those layers take the next implementation. */
    if (p->dims[s][1] < 64)
        SS_TRY(selfsup__prim_create_avoiding(&o->bwd, &bd, o->fwd.pd,
                                             "brgemm_bwd_d:"));
    else
        SS_TRY(selfsup__prim_create(&o->bwd, &bd, NULL, o->fwd.pd));
    SS_DNNL(dnnl_inner_product_backward_weights_desc_init(
                &wd, &p->md[s], &w_any_f32, b, &p->md[d]),
            "inner-product backward-weights descriptor");
    return selfsup__prim_create(&o->bwd_weights, &wd, NULL, o->fwd.pd);
}

static selfsup_status build_bn(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                               const selfsup__op *op, selfsup__op_plan *o)
{
    int s = op->src[0], d = op->dst;
    dnnl_memory_desc_t src, plain;
    SS_TRY(src_md(p, ctx, s, 0, &src));
    /* synchronised: the statistics over every rank are given (bn_sync.h) */
    unsigned flags = (op->affine ? dnnl_use_scale | dnnl_use_shift : 0u) |
                     (op->relu ? dnnl_fuse_norm_relu : 0u) |
                     (p->comm ? dnnl_use_global_stats : 0u);
    unsigned fwd_flags = flags | (p->training ? 0u : dnnl_use_global_stats);
    dnnl_prop_kind_t kind =
        p->training ? dnnl_forward_training : dnnl_forward_inference;
    dnnl_batch_normalization_desc_t fd, bd;
    if (rank_of(ctx, s) == 2) {
        SS_TRY(selfsup__md_plain(&plain, 2, p->dims[s], p->dt));
        /* nChw16c (nChw8c) of (N, C, 1, 1) is (N, C) row-major when 16 (8)
         * divides C. AVX-512 has jit kernels for the first, AVX2 only for
         * the second; the first block whose kernel is not oneDNN's
         * reference one is kept. */
        static const struct {
            int64_t block;
            dnnl_format_tag_t tag;
        } blocks[] = {{16, dnnl_aBcd16b}, {8, dnnl_aBcd8b}};
        for (int k = 0; k < 2 && !o->fwd.prim; k++) {
            if (!dnnl_memory_desc_equal(&src, &plain) ||
                p->dims[s][1] % blocks[k].block != 0)
                continue;
            dnnl_dims_t d4 = {p->dims[s][0], p->dims[s][1], 1, 1};
            SS_DNNL(dnnl_memory_desc_init_by_tag(&o->image_md, 4, d4, p->dt,
                                                 blocks[k].tag),
                    "batch-norm image descriptor");
            SS_DNNL(dnnl_batch_normalization_forward_desc_init(
                        &fd, kind, &o->image_md, SELFSUP__BN_EPS, fwd_flags),
                    "batch-norm forward descriptor");
            SS_TRY(selfsup__prim_create(&o->fwd, &fd, NULL, NULL));
            if (selfsup__prim_is_reference(&o->fwd))
                selfsup__prim_destroy(&o->fwd);
            else
                o->as_image = 1;
        }
    }
    const dnnl_memory_desc_t *data = o->as_image ? &o->image_md : &src;
    if (!o->fwd.prim) {
        SS_DNNL(dnnl_batch_normalization_forward_desc_init(
                    &fd, kind, data, SELFSUP__BN_EPS, fwd_flags),
                "batch-norm forward descriptor");
        SS_TRY(selfsup__prim_create(&o->fwd, &fd, NULL, NULL));
    }
    p->md[d] = p->md[s];
    SS_TRY(selfsup__md_plain(&o->stat_md, 1, &p->dims[s][1], dnnl_f32));
    o->stat_count = p->dims[s][0];
    for (int k = 2; k < rank_of(ctx, s); k++)
        o->stat_count *= p->dims[s][k];
    if (!p->training)
        return SELFSUP_OK;
    if (p->comm) {
        char layer[SELFSUP__PARAM_NAME_MAX];
        snprintf(layer, sizeof layer, "%s",
                 ctx->g->buffers[op->buffer_mean].name);
        char *dot = strrchr(layer, '.');
        if (dot)
            *dot = '\0';
        SS_TRY(selfsup__bn_layout_of(&o->sync_layout, data, layer));
    }
    const dnnl_memory_desc_t *ws =
        selfsup__pd_md(&o->fwd, dnnl_query_workspace_md);
    o->ws_bytes = ws ? dnnl_memory_desc_get_size(ws) : 0;
    if (!p->backward)
        return SELFSUP_OK;
    SS_DNNL(dnnl_batch_normalization_backward_desc_init(
                &bd, op->affine ? dnnl_backward : dnnl_backward_data, data,
                data, SELFSUP__BN_EPS, flags),
            "batch-norm backward descriptor");
    return selfsup__prim_create(&o->bwd, &bd, NULL, o->fwd.pd);
}

/* The ReLU backward that reads the forward's output (so the input need not
 * be kept); hint_md is the data the forward ran on. */
static selfsup_status build_relu_bwd(selfsup__plan *p, selfsup__op_plan *o,
                                     const dnnl_memory_desc_t *md,
                                     const_dnnl_primitive_desc_t hint)
{
    (void)p;
    dnnl_eltwise_desc_t bd;
    SS_DNNL(dnnl_eltwise_backward_desc_init(
                &bd, dnnl_eltwise_relu_use_dst_for_bwd, md, md, 0.0f, 0.0f),
            "ReLU backward descriptor");
    return selfsup__prim_create(&o->bwd, &bd, NULL, hint);
}

static selfsup_status build_relu(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                 const selfsup__op *op, selfsup__op_plan *o)
{
    int s = op->src[0], d = op->dst;
    dnnl_memory_desc_t src;
    SS_TRY(src_md(p, ctx, s, 0, &src));
    dnnl_eltwise_desc_t fd;
    SS_DNNL(dnnl_eltwise_forward_desc_init(
                &fd,
                p->training ? dnnl_forward_training : dnnl_forward_inference,
                dnnl_eltwise_relu_use_dst_for_bwd, &src, 0.0f, 0.0f),
            "ReLU forward descriptor");
    SS_TRY(selfsup__prim_create(&o->fwd, &fd, NULL, NULL));
    p->md[d] = p->md[s];
    if (!p->backward)
        return SELFSUP_OK;
    return build_relu_bwd(p, o, &p->md[d], o->fwd.pd);
}

static selfsup_status build_add(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                const selfsup__op *op, selfsup__op_plan *o)
{
    int a = op->src[0], b = op->src[1], d = op->dst;
    dnnl_memory_desc_t ma, mb;
    SS_TRY(src_md(p, ctx, a, 0, &ma));
    SS_TRY(src_md(p, ctx, b, 0, &mb));
    dnnl_post_ops_t po = NULL;
    if (op->relu) {
        SS_DNNL(dnnl_post_ops_create(&po), "post-op creation");
        dnnl_status_t st =
            dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0, 0);
        if (st != dnnl_success) {
            dnnl_post_ops_destroy(po);
            SS_DNNL(st, "ReLU post-op");
        }
    }
    dnnl_primitive_attr_t attr;
    selfsup_status s = selfsup__attr_create(&attr, po);
    if (po)
        dnnl_post_ops_destroy(po);
    SS_TRY(s);
    dnnl_binary_desc_t bd;
    dnnl_status_t st =
        dnnl_binary_desc_init(&bd, dnnl_binary_add, &ma, &mb, &ma);
    if (st == dnnl_success)
        s = selfsup__prim_create(&o->fwd, &bd, attr, NULL);
    dnnl_primitive_attr_destroy(attr);
    SS_DNNL(st, "binary add descriptor");
    SS_TRY(s);
    p->md[d] = p->md[a];
    if (!p->backward || !op->relu)
        return SELFSUP_OK;
    /* The backward of the fused ReLU needs an eltwise forward as hint. */
    dnnl_eltwise_desc_t hd;
    SS_DNNL(dnnl_eltwise_forward_desc_init(&hd, dnnl_forward_training,
                                           dnnl_eltwise_relu_use_dst_for_bwd,
                                           &p->md[d], 0.0f, 0.0f),
            "ReLU hint descriptor");
    dnnl_engine_t eng;
    SS_TRY(selfsup__dnnl_engine(&eng));
    dnnl_primitive_desc_t hint;
    SS_DNNL(dnnl_primitive_desc_create(&hint, &hd, NULL, eng, NULL),
            "ReLU hint");
    s = build_relu_bwd(p, o, &p->md[d], hint);
    dnnl_primitive_desc_destroy(hint);
    return s;
}

static selfsup_status build_pool(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                 const selfsup__op *op, selfsup__op_plan *o)
{
    int s = op->src[0], d = op->dst;
    dnnl_memory_desc_t src, dst_any;
    SS_TRY(src_md(p, ctx, s, 0, &src));
    SS_TRY(selfsup__md_any(&dst_any, 4, p->dims[d], p->dt));
    int global = op->pool == SS_POOL_GLOBAL_AVG;
    dnnl_dims_t kernel = {op->kernel, op->kernel};
    dnnl_dims_t strides = {op->stride, op->stride};
    dnnl_dims_t pad = {op->pad, op->pad};
    dnnl_dims_t dilation = {0, 0};
    if (global) {
        kernel[0] = strides[0] = p->dims[s][2];
        kernel[1] = strides[1] = p->dims[s][3];
        pad[0] = pad[1] = 0;
    }
    int grid = op->pool == SS_POOL_GRID_AVG;
    for (int k = 0; grid && k < 2; k++) {
        int kk, ss;
        /* infer_dims refused the sizes this cannot split */
        selfsup__grid_window(p->dims[s][2 + k], op->kernel, &kk, &ss);
        kernel[k] = kk;
        strides[k] = ss;
        pad[k] = 0;
    }
    dnnl_alg_kind_t alg = op->pool == SS_POOL_MAX ? dnnl_pooling_max
                          : global || grid ? dnnl_pooling_avg_exclude_padding
                                           : dnnl_pooling_avg_include_padding;
    dnnl_pooling_v2_desc_t fd, bd;
    SS_DNNL(dnnl_pooling_v2_forward_desc_init(
                &fd,
                p->training ? dnnl_forward_training : dnnl_forward_inference,
                alg, &src, &dst_any, strides, kernel, dilation, pad, pad),
            "pooling forward descriptor");
    SS_TRY(selfsup__prim_create(&o->fwd, &fd, NULL, NULL));
    p->md[d] = *selfsup__pd_md(&o->fwd, dnnl_query_dst_md);
    if (!p->training)
        return SELFSUP_OK;
    const dnnl_memory_desc_t *ws =
        selfsup__pd_md(&o->fwd, dnnl_query_workspace_md);
    o->ws_bytes = ws ? dnnl_memory_desc_get_size(ws) : 0;
    if (!p->backward)
        return SELFSUP_OK;
    SS_DNNL(dnnl_pooling_v2_backward_desc_init(&bd, alg, &p->md[s], &p->md[d],
                                               strides, kernel, dilation, pad,
                                               pad),
            "pooling backward descriptor");
    return selfsup__prim_create(&o->bwd, &bd, NULL, o->fwd.pd);
}

selfsup_status selfsup__op_build(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                 int i)
{
    const selfsup__op *op = &ctx->g->ops[i];
    selfsup__op_plan *o = &p->ops[i];
    switch (op->kind) {
    case SS_OP_CONV:
        return build_conv(p, ctx, op, o);
    case SS_OP_LINEAR:
        return build_linear(p, ctx, op, o);
    case SS_OP_BN:
        return build_bn(p, ctx, op, o);
    case SS_OP_RELU:
        return build_relu(p, ctx, op, o);
    case SS_OP_ADD:
        return build_add(p, ctx, op, o);
    case SS_OP_POOL:
        return build_pool(p, ctx, op, o);
    }
    return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "op %d has an unknown kind",
                   i);
}

/* ---- parameter bindings ---- */

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* The weight and bias gradients' share of the gradient scratch, where a
 * widened convolution's float32 copies start. */
static size_t widened_offset(const selfsup__op *op, const selfsup__op_plan *o)
{
    return align64(dnnl_memory_desc_get_size(
               selfsup__pd_md(&o->bwd_weights, dnnl_query_diff_weights_md))) +
           align64((size_t)op->out_channels * sizeof(float));
}

/* A memory object of layout want over the flat buffer at user (PyTorch
 * layout user_md) if the layouts agree, else over an owned copy made by a
 * reorder (*copy, *reorder). */
static selfsup_status bind_weights(dnnl_memory_t *mem, void **copy,
                                   selfsup__prim *reorder,
                                   const dnnl_memory_desc_t *want,
                                   const dnnl_memory_desc_t *user_md,
                                   void *user)
{
    if (dnnl_memory_desc_equal(want, user_md))
        return selfsup__mem_create(mem, want, user);
    *copy = selfsup__malloc(dnnl_memory_desc_get_size(want));
    if (!*copy)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate a weight copy of %zu bytes",
                       dnnl_memory_desc_get_size(want));
    SS_TRY(selfsup__mem_create(mem, want, *copy));
    return selfsup__prim_reorder(reorder, user_md, want, 0);
}

static selfsup_status bind_weighted(selfsup__plan *p,
                                    const selfsup__plan_ctx *ctx,
                                    const selfsup__op *op, selfsup__op_plan *o)
{
    const selfsup__param_info *w = &ctx->g->params[op->param_weight];
    dnnl_memory_desc_t user_md;
    SS_TRY(selfsup__md_plain(&user_md, w->ndim, w->dims, dnnl_f32));
    SS_TRY(selfsup__mem_create(&o->w_user, &user_md, ctx->params + w->offset));
    const dnnl_memory_desc_t *fwd_md =
        selfsup__pd_md(&o->fwd, dnnl_query_weights_md);
    SS_TRY(bind_weights(&o->w_fwd, &o->w_fwd_copy, &o->w_fwd_reorder, fwd_md,
                        &user_md, ctx->params + w->offset));
    dnnl_memory_desc_t bias_md;
    if (op->param_bias >= 0) {
        const selfsup__param_info *b = &ctx->g->params[op->param_bias];
        SS_TRY(selfsup__md_plain(&bias_md, 1, b->dims, dnnl_f32));
        SS_TRY(
            selfsup__mem_create(&o->bias, &bias_md, ctx->params + b->offset));
    }
    if (!p->backward)
        return SELFSUP_OK;
    const dnnl_memory_desc_t *bwd_md =
        selfsup__pd_md(&o->bwd, dnnl_query_weights_md);
    if (!dnnl_memory_desc_equal(bwd_md, fwd_md))
        SS_TRY(bind_weights(&o->w_bwd, &o->w_bwd_copy, &o->w_bwd_reorder,
                            bwd_md, &user_md, ctx->params + w->offset));
    const dnnl_memory_desc_t *dw_md =
        selfsup__pd_md(&o->bwd_weights, dnnl_query_diff_weights_md);
    SS_TRY(selfsup__mem_create(&o->dw, dw_md, p->grad_tmp));
    SS_TRY(selfsup__mem_create(&o->g_w, &user_md, ctx->grads + w->offset));
    SS_TRY(selfsup__prim_reorder(&o->dw_reorder, dw_md, &user_md, 1));
    if (op->param_bias >= 0) {
        const selfsup__param_info *b = &ctx->g->params[op->param_bias];
        char *tmp =
            (char *)p->grad_tmp + align64(dnnl_memory_desc_get_size(dw_md));
        SS_TRY(selfsup__mem_create(&o->dbias, &bias_md, tmp));
        SS_TRY(
            selfsup__mem_create(&o->g_bias, &bias_md, ctx->grads + b->offset));
        SS_TRY(selfsup__prim_reorder(&o->db_reorder, &bias_md, &bias_md, 1));
    }
    if (o->widen_src.prim) {
        char *tmp = (char *)p->grad_tmp + widened_offset(op, o);
        SS_TRY(selfsup__mem_create(&o->src_wide, &o->src_wide_md, tmp));
        tmp += align64(dnnl_memory_desc_get_size(&o->src_wide_md));
        SS_TRY(selfsup__mem_create(&o->dd_wide, &o->dd_wide_md, tmp));
    }
    return SELFSUP_OK;
}

static selfsup_status bind_bn(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                              const selfsup__op *op, selfsup__op_plan *o)
{
    const selfsup__param_info *m = &ctx->g->buffers[op->buffer_mean];
    const selfsup__param_info *v = &ctx->g->buffers[op->buffer_var];
    SS_TRY(selfsup__mem_create(&o->run_mean, &o->stat_md,
                               ctx->buffers + m->offset));
    SS_TRY(selfsup__mem_create(&o->run_var, &o->stat_md,
                               ctx->buffers + v->offset));
    if (!op->affine)
        return SELFSUP_OK;
    const selfsup__param_info *w = &ctx->g->params[op->param_weight];
    const selfsup__param_info *b = &ctx->g->params[op->param_bias];
    SS_TRY(
        selfsup__mem_create(&o->scale, &o->stat_md, ctx->params + w->offset));
    SS_TRY(selfsup__mem_create(&o->bias, &o->stat_md, ctx->params + b->offset));
    if (!p->backward)
        return SELFSUP_OK;
    size_t bytes = align64(dnnl_memory_desc_get_size(&o->stat_md));
    SS_TRY(selfsup__mem_create(&o->dscale, &o->stat_md, p->grad_tmp));
    SS_TRY(selfsup__mem_create(&o->dbias, &o->stat_md,
                               (char *)p->grad_tmp + bytes));
    SS_TRY(
        selfsup__mem_create(&o->g_scale, &o->stat_md, ctx->grads + w->offset));
    SS_TRY(
        selfsup__mem_create(&o->g_bias, &o->stat_md, ctx->grads + b->offset));
    return selfsup__prim_reorder(&o->db_reorder, &o->stat_md, &o->stat_md, 1);
}

size_t selfsup__op_grad_tmp_bytes(const selfsup__plan *p,
                                  const selfsup__plan_ctx *ctx, int i)
{
    const selfsup__op *op = &ctx->g->ops[i];
    const selfsup__op_plan *o = &p->ops[i];
    if (!p->backward)
        return 0;
    if (op->kind == SS_OP_CONV || op->kind == SS_OP_LINEAR) {
        size_t n = widened_offset(op, o);
        if (o->widen_src.prim)
            n += align64(dnnl_memory_desc_get_size(&o->src_wide_md)) +
                 dnnl_memory_desc_get_size(&o->dd_wide_md);
        return n;
    }
    if (op->kind == SS_OP_BN)
        return 2 * align64(dnnl_memory_desc_get_size(&o->stat_md));
    return 0;
}

selfsup_status selfsup__op_bind(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                int i)
{
    const selfsup__op *op = &ctx->g->ops[i];
    selfsup__op_plan *o = &p->ops[i];
    if (op->kind == SS_OP_CONV || op->kind == SS_OP_LINEAR)
        return bind_weighted(p, ctx, op, o);
    if (op->kind == SS_OP_BN)
        return bind_bn(p, ctx, op, o);
    return SELFSUP_OK;
}

static void destroy_mem(dnnl_memory_t *m)
{
    if (*m)
        dnnl_memory_destroy(*m);
    *m = NULL;
}

selfsup_status selfsup__op_build_recompute(selfsup__plan *p,
                                           const selfsup__plan_ctx *ctx, int i)
{
    selfsup__op_plan *o = &p->ops[i];
    if (o->recompute.prim)
        return SELFSUP_OK;
    const selfsup__op *op = &ctx->g->ops[i];
    unsigned flags = dnnl_use_global_stats |
                     (op->affine ? dnnl_use_scale | dnnl_use_shift : 0u) |
                     (op->relu ? dnnl_fuse_norm_relu : 0u);
    const dnnl_memory_desc_t *data = selfsup__pd_md(&o->fwd, dnnl_query_src_md);
    dnnl_batch_normalization_desc_t fd;
    SS_DNNL(dnnl_batch_normalization_forward_desc_init(
                &fd, dnnl_forward_inference, data, SELFSUP__BN_EPS, flags),
            "batch-norm recompute descriptor");
    SS_TRY(selfsup__prim_create(&o->recompute, &fd, NULL, NULL));
    return selfsup__mem_create(&o->recomputed, &p->md[op->dst],
                               p->recompute_buf);
}

void selfsup__op_plan_free(selfsup__op_plan *o)
{
    selfsup__prim_destroy(&o->fwd);
    selfsup__prim_destroy(&o->bwd);
    selfsup__prim_destroy(&o->bwd_weights);
    selfsup__prim_destroy(&o->w_fwd_reorder);
    selfsup__prim_destroy(&o->w_bwd_reorder);
    selfsup__prim_destroy(&o->dw_reorder);
    selfsup__prim_destroy(&o->db_reorder);
    selfsup__prim_destroy(&o->widen_src);
    selfsup__prim_destroy(&o->widen_dd);
    selfsup__prim_destroy(&o->recompute);
    dnnl_memory_t *mems[] = {
        &o->w_user,  &o->w_fwd,    &o->w_bwd,   &o->dw,
        &o->g_w,     &o->bias,     &o->dbias,   &o->g_bias,
        &o->scale,   &o->dscale,   &o->g_scale, &o->run_mean,
        &o->run_var, &o->src_wide, &o->dd_wide, &o->recomputed};
    for (size_t k = 0; k < sizeof mems / sizeof *mems; k++)
        destroy_mem(mems[k]);
    selfsup__free(o->w_fwd_copy);
    selfsup__free(o->w_bwd_copy);
    o->w_fwd_copy = o->w_bwd_copy = NULL;
}
