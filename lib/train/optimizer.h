/* Internal: optimizers over a network's flat parameter buffer.
 *
 * An optimizer sees the network only through the table of core/param_info.h
 * (names, kinds, offsets into one float buffer) and updates the whole
 * buffer in one parallel pass per step. Its spec follows core/spec.h:
 *
 *   sgd:momentum=0.9,nesterov=0,weight_decay=5e-4,exclude_bias_and_norm=0
 *   lars:momentum=0.9,weight_decay=1e-6,eta=0.001,exclude_bias_and_norm=1
 *   adamw:beta1=0.9,beta2=0.999,eps=1e-8,weight_decay=0.01,
 *         exclude_bias_and_norm=0
 *
 * (the values shown are the defaults). For each parameter tensor, with lr
 * its learning rate (see groups below), g its gradient, p its values and wd
 * its weight decay (0 for biases and norms when exclude_bias_and_norm):
 *
 *   sgd   PyTorch's torch.optim.SGD with dampening 0:
 *         d = g + wd p;  buf = momentum buf + d;
 *         p -= lr (nesterov ? d + momentum buf : buf)
 *   lars  the LARS of the BYOL, VICReg and Barlow Twins reference code:
 *         d = g + wd p;  if adapted: d *= eta |p| / |d| when |p| > 0 and
 *         |d| > 0 (else 1);  buf = momentum buf + d;  p -= lr buf.
 *         Biases and norms are excluded from both weight decay and
 *         adaptation by default (the references' exclude_bias_and_norm).
 *         Norms are per tensor, accumulated in double.
 *   adamw PyTorch's torch.optim.AdamW (decoupled weight decay, bias
 *         correction, no amsgrad): p *= 1 - lr wd;
 *         m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *         p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * Every element's update is independent and per-tensor norms are summed in
 * a fixed order, so results are bitwise the same on any thread count. */
#ifndef SELFSUP_TRAIN_OPTIMIZER_H
#define SELFSUP_TRAIN_OPTIMIZER_H

#include <stdint.h>

#include "core/param_info.h"
#include "selfsup/status.h"
#include "io/checkpoint_file.h"

typedef struct selfsup__optimizer selfsup__optimizer;

/* Makes an optimizer for a flat buffer of total floats divided by table[0..n)
 * (copied). Tensors must lie inside the buffer, not overlap, and hold
 * numel = product of dims elements; elements outside every tensor are never
 * touched. State (momentum, Adam moments) starts at zero.
 * SELFSUP_ERR_INVALID_ARGUMENT for a bad spec or table. */
selfsup_status selfsup__optimizer_create(selfsup__optimizer **out,
                                         const char *spec,
                                         const selfsup__param_info *table,
                                         int n, int64_t total);

/* Checks spec as selfsup__optimizer_create would (the learner's config
 * checks its optimizer key with it). */
selfsup_status selfsup__optimizer_spec_check(const char *spec);

/* NULL is accepted. */
void selfsup__optimizer_destroy(selfsup__optimizer *opt);

/* A group gives some tensors a learning rate (and weight decay) of their
 * own. It selects every tensor that lies inside the elements [begin, end)
 * of the flat buffer, whose name starts with prefix (NULL or "": any) and
 * whose kind is in kinds (a mask of 1u << selfsup__param_kind; 0: any).
 * A range that cuts a tensor in two, or a group that selects nothing, is
 * SELFSUP_ERR_INVALID_ARGUMENT. Later groups override earlier ones. */
typedef struct selfsup__param_group {
    int64_t begin, end;
    const char *prefix;
    unsigned kinds;
    /* 0: the tensors' lr is lr_value times the lr given to step (a scale,
     *    e.g. Barlow Twins' 0.2 for weights and 0.0048 for biases);
     * 1: their lr is lr_value whatever step is given (SimSiam's fixed
     *    predictor learning rate). */
    int fixed_lr;
    double lr_value;
    /* NAN keeps the spec's weight decay; otherwise the group's own.
     * Tensors excluded by exclude_bias_and_norm stay at 0. */
    double weight_decay;
} selfsup__param_group;

selfsup_status selfsup__optimizer_add_group(selfsup__optimizer *opt,
                                            const selfsup__param_group *group);

/* One update of params (total floats) from grads with learning rate lr >= 0
 * (after the groups' scales). A NaN or Inf gradient is
 * SELFSUP_ERR_NUMERIC, naming the tensor and element, and leaves params and
 * the state untouched. Never allocates. */
selfsup_status selfsup__optimizer_step(selfsup__optimizer *opt, float *params,
                                       const float *grads, double lr);

/* "sgd", "lars" or "adamw". */
const char *selfsup__optimizer_name(const selfsup__optimizer *opt);
/* Steps taken (AdamW's t; restored by load). */
int64_t selfsup__optimizer_steps(const selfsup__optimizer *opt);
/* The L2 norm of all gradients given to the last successful step (0 before
 * any), for logging. */
double selfsup__optimizer_grad_norm(const selfsup__optimizer *opt);
/* The learning rate step(lr) gives tensor i of the table. */
double selfsup__optimizer_tensor_lr(const selfsup__optimizer *opt, int i,
                                    double lr);

/* The state: count buffers of total floats each, in the layout of the
 * parameters ("momentum" for sgd and lars; "exp_avg", "exp_avg_sq" for
 * adamw). */
int selfsup__optimizer_state_count(const selfsup__optimizer *opt);
const char *selfsup__optimizer_state_name(const selfsup__optimizer *opt, int i);
float *selfsup__optimizer_state(selfsup__optimizer *opt, int i);

/* Stores the state as sections named prefix + "kind" (string), "layout"
 * (i64: offset and numel of every tensor), "steps" (i64) and one f32
 * section per state buffer ("momentum", ...). */
selfsup_status selfsup__optimizer_save(const selfsup__optimizer *opt,
                                       selfsup__ckpt_writer *w,
                                       const char *prefix);

/* Restores what save stored. Another kind of optimizer or another layout
 * is SELFSUP_ERR_INVALID_ARGUMENT / SELFSUP_ERR_SHAPE; every section is
 * checked before anything changes, so on failure the optimizer is as it
 * was. Hyperparameters and groups are not stored: they come from the spec
 * and the caller, and may differ on resume. */
selfsup_status selfsup__optimizer_load(selfsup__optimizer *opt,
                                       const selfsup__ckpt_reader *r,
                                       const char *prefix);

#endif
