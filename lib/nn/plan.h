/* Internal: a graph compiled for one input shape and mode.
 *
 * A plan holds every oneDNN primitive of the network for one (input shape,
 * training) pair, created once and reused: each layer's forward and
 * backward primitives, with activations in the layouts the primitives
 * prefer (blocked, nChw16c and the like) from layer to layer; reorders
 * only at the network's input and output and for weights, which live in
 * PyTorch's layout in the flat buffer and are copied into the primitives'
 * layout when they change. Buffers are planned ahead, so a step allocates
 * nothing:
 *   - activations: per view (a view's batch keeps what its backward needs);
 *     a tensor whose value no backward reads shares a buffer once dead;
 *   - gradients of activations: a small pool shared by all views, assigned
 *     by simulating the backward pass once (in-place where oneDNN allows);
 *   - one scratchpad for all primitives (user-managed scratchpad mode). */
#ifndef SELFSUP_NN_PLAN_H
#define SELFSUP_NN_PLAN_H

#include <dnnl.h>
#include <stdint.h>

#include "bn_sync.h"
#include "graph.h"
#include "prim.h"
#include "selfsup/encoder.h"

/* Batch norm's epsilon, PyTorch's default. */
#define SELFSUP__BN_EPS 1e-5f

/* The primitives and parameter bindings of one op in one plan. */
typedef struct selfsup__op_plan {
    selfsup__prim fwd;
    /* conv/linear: backward data; bn, relu, pool: backward; add: the ReLU's
     * backward */
    selfsup__prim bwd;
    selfsup__prim bwd_weights; /* conv, linear */
    /* conv, linear weights: the flat buffer (PyTorch layout) and the
     * layouts the forward and backward-data primitives read */
    dnnl_memory_t w_user, w_fwd, w_bwd;
    void *w_fwd_copy, *w_bwd_copy; /* owned, when a reorder is needed */
    selfsup__prim w_fwd_reorder, w_bwd_reorder;
    /* weight gradients: computed in the primitive's layout on the plan's
     * gradient scratch, then added into the flat gradient buffer */
    dnnl_memory_t dw, g_w;
    selfsup__prim dw_reorder;
    /* bf16 plans, strided convolutions: the weight gradient is computed in
     * float32 on widened copies of the source and the output gradient
     * (op_build.c, widen_bwd_weights); NULL memories otherwise */
    selfsup__prim widen_src, widen_dd;
    dnnl_memory_desc_t src_wide_md, dd_wide_md;
    dnnl_memory_t src_wide, dd_wide;
    dnnl_memory_t bias, dbias, g_bias;    /* conv/linear bias; bn shift */
    dnnl_memory_t scale, dscale, g_scale; /* bn scale */
    selfsup__prim db_reorder;             /* g += d for bias, shift and scale */
    dnnl_memory_t run_mean, run_var;      /* bn running statistics */
    dnnl_memory_desc_t stat_md;           /* bn: (C) f32 */
    size_t ws_bytes;                      /* workspace per view (0: none) */
    int64_t stat_count;                   /* bn: values per channel (N H W) */
    /* bn on (N, C): oneDNN's fast kernels take (N, C, 1, 1) in nChw16c,
     * the same bytes when 16 divides C, so the primitive sees that view of
     * the tensors (its plain 2-D kernel is a slow reference one) */
    int as_image;
    dnnl_memory_desc_t image_md;
    selfsup__bn_layout sync_layout; /* bn in a synchronised plan */
    /* bn whose output the backward recomputes rather than keeps: the
     * forward again with the view's batch statistics given, into the
     * plan's recompute buffer (plan.c, mark_recomputed) */
    selfsup__prim recompute;
    dnnl_memory_t recomputed;
} selfsup__op_plan;

/* What one view's forward keeps for its backward. */
typedef struct selfsup__view_store {
    void **bufs;
    int n_bufs;
    dnnl_memory_t *act;        /* per tensor */
    dnnl_memory_t *ws;         /* per op, NULL if none */
    dnnl_memory_t *mean, *var; /* per op (bn, training) */
    dnnl_memory_t *image;      /* per op, src and dst as image_md (bn) */
    float *stats;              /* batch means and variances */
    void *ws_buf;
} selfsup__view_store;

typedef enum selfsup__step_kind {
    SS_STEP_OP,       /* an op's backward (weights, then data) */
    SS_STEP_RELU_BWD, /* the ReLU after an add */
    SS_STEP_ACCUM,    /* out = a + b (a gradient with several consumers) */
    SS_STEP_REORDER   /* out = a in another layout (an add's inputs) */
} selfsup__step_kind;

typedef struct selfsup__bwd_step {
    selfsup__step_kind kind;
    int op;
    int to_input; /* only serves the input gradient: skipped without one */
    int diff_dst, diff_src; /* slots (indices into diff_mem); -1 none */
    int a, b, out;          /* ACCUM / REORDER slots */
    dnnl_memory_t image_dd, image_ds; /* OP on an as_image bn */
    selfsup__prim accum;              /* the sum or the reorder */
} selfsup__bwd_step;

typedef struct selfsup__plan {
    struct selfsup__plan *next;
    int in_rank;
    int64_t in_dims[4];
    int training; /* batch-norm batch statistics (and running updates) */
    int backward; /* activations kept and backward primitives built */
    int threads;  /* oneDNN sizes some kernels' scratch by the thread count */
    dnnl_data_type_t dt;
    /* layout of the convolutions' 4-D activations: any (the primitives
     * choose, blocked nChw16c and the like) or a fixed tag, tried when the
     * chosen layouts leave some convolution to oneDNN's reference kernel
     * (channel counts that are not multiples of 16): nhwc */
    dnnl_format_tag_t act_tag;
    int n_tensors, n_ops;
    int64_t (*dims)[4];     /* per tensor; rank from the graph */
    dnnl_memory_desc_t *md; /* per tensor: activation and its gradient */
    selfsup__op_plan *ops;
    /* the network's edges: user tensors (plain f32) <-> md */
    selfsup__prim in_reorder, out_reorder, gout_reorder, gin_reorder;
    dnnl_memory_t in_user, out_user, gout_user, gin_user;
    /* activation buffers: tensor -> buffer, and buffer sizes */
    int *act_buf;
    /* tensor -> the bn op whose output the backward recomputes instead of
     * keeping it (-1: kept, or not read by the backward); one buffer of
     * the largest such output serves every view */
    int *recompute_op;
    void *recompute_buf;
    size_t *act_size;
    int n_act_bufs;
    selfsup__view_store *views[SELFSUP_ENCODER_MAX_VIEWS];
    /* backward schedule over a pool of gradient buffers */
    selfsup__bwd_step *steps;
    int n_steps;
    void **diff_bufs;
    int n_diff_bufs;
    dnnl_memory_t *diff_mem;
    int n_diff_mem;
    int gout_slot, gin_slot;
    /* shared scratch */
    void *scratch;
    void *grad_tmp;
    /* training with batch-norm statistics over the ranks of comm (NULL:
     * this process's batch), and the statistics' scratch (4 C doubles) */
    selfsup_comm *comm;
    double *sync_scratch;
    uint64_t w_fwd_version, w_bwd_version; /* of the weight copies */
    uint64_t last_use;
} selfsup__plan;

/* What a plan binds to: the network and its flat buffers. */
typedef struct selfsup__plan_ctx {
    const selfsup__graph *g;
    float *params, *grads, *buffers;
    dnnl_data_type_t dt;
    selfsup_comm *comm; /* training plans synchronise batch norm over it */
} selfsup__plan_ctx;

/* What a plan is for: mode values of selfsup__plan_create. */
enum {
    SELFSUP__PLAN_INFERENCE = 0, /* running statistics; buffers reused */
    SELFSUP__PLAN_TRAINING = 1,  /* batch statistics; kept for backward */
    /* batch statistics, forward only: a network that is never
     * differentiated but normalises as in training (BYOL's target); the
     * same forward primitives as TRAINING, buffers reused as INFERENCE */
    SELFSUP__PLAN_FORWARD_TRAINING = 2
};

/* Builds the plan for input dims (rank 4 or 2) in a mode above, in the
 * activation layout that keeps oneDNN's jit kernels (fewest reference
 * primitives). SELFSUP_ERR_SHAPE if the shape cannot flow through the
 * network. */
selfsup_status selfsup__plan_create(selfsup__plan **out,
                                    const selfsup__plan_ctx *ctx,
                                    const int64_t *in_dims, int mode);
void selfsup__plan_destroy(selfsup__plan *p);

/* The same with the convolutions' activations in a fixed layout act_tag
 * (dnnl_format_tag_any: the primitives choose), whatever kernels that
 * leaves; for tests. */
selfsup_status selfsup__plan_create_layout(selfsup__plan **out,
                                           const selfsup__plan_ctx *ctx,
                                           const int64_t *in_dims, int mode,
                                           dnnl_format_tag_t act_tag);

/* How many of the primitives a training or inference step runs are
 * oneDNN's reference kernels (the input gradient's excepted). */
int selfsup__plan_reference_count(const selfsup__plan *p,
                                  const selfsup__graph *g);

/* Test hook: with keep 1, plans built from now on keep every activation
 * their backward reads instead of recomputing batch-norm outputs (the
 * plan as it was before recomputation; 0 restores the default). */
void selfsup__plan_keep_activations(int keep);

/* The view's activation store, made on first use. */
selfsup_status selfsup__plan_view(selfsup__plan *p, const selfsup__graph *g,
                                  int view, selfsup__view_store **out);

/* Per-op primitive creation (op_build.c): fills p->ops[i] and p->md[dst]
 * (and p->md[src] when the op picks the network input's layout). */
selfsup_status selfsup__op_build(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                 int i);
/* Binds op i's parameters (weights, copies, gradient targets) once the
 * plan's scratch exists (op_build.c). */
selfsup_status selfsup__op_bind(selfsup__plan *p, const selfsup__plan_ctx *ctx,
                                int i);
/* Op i's (a bn's) forward again with the view's batch statistics, writing
 * into p->recompute_buf: the output the backward recomputes. */
selfsup_status selfsup__op_build_recompute(selfsup__plan *p,
                                           const selfsup__plan_ctx *ctx, int i);
void selfsup__op_plan_free(selfsup__op_plan *o);
/* Bytes of the plan's gradient scratch op i needs (weight / bias / scale
 * gradients before they are added into the flat buffer). */
size_t selfsup__op_grad_tmp_bytes(const selfsup__plan *p,
                                  const selfsup__plan_ctx *ctx, int i);

/* Execution (exec.c). in / out are plain float32 buffers of the user's. */
selfsup_status selfsup__plan_forward(selfsup__plan *p,
                                     const selfsup__plan_ctx *ctx, int view,
                                     uint64_t version, const float *in,
                                     float *out);
selfsup_status selfsup__plan_backward(selfsup__plan *p,
                                      const selfsup__plan_ctx *ctx, int view,
                                      uint64_t version, const float *gout,
                                      float *gin);

#endif
