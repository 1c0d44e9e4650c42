/* libselfsup: the parts of a training step for a host's own loop.
 *
 * selfsup_learner_step runs a method's whole step. A host with its own
 * loop (its own data order, schedule, networks or objective) puts the same
 * step together from encoders (encoder.h), an objective (objective.h) and
 * what is here: an optimizer over one network's parameters, the learner's
 * schedules, and BYOL's moving average. Used as the learner uses them they
 * give its results bit for bit (examples/own_loop.c checks that). */
#ifndef SELFSUP_OPTIMIZER_H
#define SELFSUP_OPTIMIZER_H

#include <stdint.h>

#include "encoder.h"
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct selfsup_optimizer selfsup_optimizer;

/* An optimizer over the trainable parameters of network (an encoder or a
 * head), from the spec the learner's `optimizer` key takes
 * (docs/optimizers.md):
 *
 *   sgd:momentum=0.9,nesterov=0,weight_decay=0,exclude_bias_and_norm=0
 *   lars:momentum=0.9,weight_decay=0,eta=0.001,exclude_bias_and_norm=1
 *   adamw:beta1=0.9,beta2=0.999,eps=1e-8,weight_decay=0.01,
 *         exclude_bias_and_norm=0
 *
 * The state (momentum, moments) starts at zero. The optimizer is tied to
 * network's parameter list: selfsup_optimizer_step takes that network or
 * one with the same parameters (a clone). SELFSUP_ERR_INVALID_ARGUMENT for
 * a bad spec, naming the key. */
SELFSUP_API selfsup_status selfsup_optimizer_create(
    selfsup_optimizer **out, const char *spec, const selfsup_encoder *network);

/* NULL is accepted. */
SELFSUP_API void selfsup_optimizer_destroy(selfsup_optimizer *o);

/* A parameter group: every trainable tensor whose name starts with prefix
 * ("" for all) and whose kind is in kinds ("all", or any of "weight",
 * "bias", "norm" joined by '+') learns at lr times the rate given to step
 * (fixed = 0: Barlow Twins' 0.0048 / 0.2 for biases and norms) or at lr
 * whatever rate step is given (fixed = 1: SimSiam's predictor). Later
 * groups override earlier ones. SELFSUP_ERR_INVALID_ARGUMENT for a group
 * that selects no tensor or an lr that is negative or not finite. */
SELFSUP_API selfsup_status selfsup_optimizer_add_group(selfsup_optimizer *o,
                                                       const char *prefix,
                                                       const char *kinds,
                                                       int fixed, double lr);

/* One update of network's parameters from the gradients its backward
 * passes accumulated, at learning rate lr >= 0. A NaN or Inf gradient is
 * SELFSUP_ERR_NUMERIC, naming the tensor, and changes nothing; a network
 * whose parameters are not the optimizer's is
 * SELFSUP_ERR_INVALID_ARGUMENT. The gradients are left as they are (zero
 * them with selfsup_encoder_zero_grad before the next step's backward). */
SELFSUP_API selfsup_status selfsup_optimizer_step(selfsup_optimizer *o,
                                                  selfsup_encoder *network,
                                                  double lr);

/* Steps taken (restored by load); 0 for NULL. */
SELFSUP_API int64_t selfsup_optimizer_steps(const selfsup_optimizer *o);

/* The state (kind, layout, steps, momentum or moments) as a file in the
 * checkpoint container's format, written atomically (as selfsup_learner_save
 * is). load restores it into an optimizer of the same kind over the same
 * parameters; hyperparameters and groups come from the spec and the
 * calls, not the file. On failure load changes nothing. */
SELFSUP_API selfsup_status selfsup_optimizer_save(const selfsup_optimizer *o,
                                                  const char *path);
SELFSUP_API selfsup_status selfsup_optimizer_load(selfsup_optimizer *o,
                                                  const char *path);

/* The learner's learning rate at step: a linear warmup from 0 over warmup
 * steps, then a half cosine from peak to final at total, final after it:
 *   step < warmup:  peak * step / warmup
 *   otherwise:      final + (peak - final) (1 + cos(pi s)) / 2,
 *                   s = (min(step, total) - warmup) / (total - warmup)
 * The learner's peak is lr x batch_size / lr_batch, its final peak x
 * final_lr_ratio and its warmup round(warmup_fraction x total_steps)
 * (docs/training.md). NaN for arguments outside 0 <= warmup <= total,
 * total >= 1, peak and final finite and >= 0. */
SELFSUP_API double selfsup_cosine_lr(double peak, double final, int64_t warmup,
                                     int64_t total, int64_t step);

/* BYOL's target momentum at step of total: 1 - (1 - base)(cos(pi k / K) +
 * 1) / 2 with k = min(step, total), from base up to 1. */
SELFSUP_API double selfsup_byol_tau(double base, int64_t step, int64_t total);

/* BYOL's target update, target <- target + (1 - tau)(online - target),
 * over the trainable parameters (the batch-norm statistics of a target are
 * its own, as in the BYOL reference). The two networks must have the same
 * parameters; 0 <= tau <= 1. */
SELFSUP_API selfsup_status selfsup_encoder_ema_update(
    selfsup_encoder *target, const selfsup_encoder *online, double tau);

#ifdef __cplusplus
}
#endif

#endif
