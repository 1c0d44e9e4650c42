/* libselfsup: a learner trains an encoder without labels, one call a batch.
 *
 * A learner wires what a method's paper wires: the online encoder and its
 * heads, BYOL's moving-average target, the objective, the optimizer and its
 * schedules. Its settings are a config of string keys (below), filled with
 * the method's published defaults and overridable one by one, so adding a
 * setting never changes the ABI. */
#ifndef SELFSUP_LEARNER_H
#define SELFSUP_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "comm.h"
#include "encoder.h"
#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct selfsup_learner_config selfsup_learner_config;
typedef struct selfsup_learner selfsup_learner;

/* A config holding method's defaults: "byol", "simsiam", "vicreg",
 * "simclr", "barlow" or "groco". docs/training.md lists every key, its
 * default per method and where the default comes from. */
SELFSUP_API selfsup_status
selfsup_learner_config_create(selfsup_learner_config **out, const char *method);
SELFSUP_API void selfsup_learner_config_destroy(selfsup_learner_config *c);

/* Sets one key from its text, checked at once: unknown keys and bad values
 * give SELFSUP_ERR_INVALID_ARGUMENT naming both; spec values (networks,
 * objective, optimizer) are parsed whole, as the learner will parse them,
 * the heads' `in` aside, which the learner fills in.
 * Keys (docs/training.md):
 * encoder, projector, predictor, objective, optimizer, lr, lr_batch,
 * batch_size, total_steps, warmup_fraction, final_lr_ratio, ema_base,
 * views, seed, predictor_fixed_lr, stop_gradient, recipe, dataset_size,
 * sync_batch_norm, precision.
 *
 * recipe is "paper", "short" or "auto" (the default): which of the
 * method's recipes fills the keys the caller does not set. "auto" takes
 * the short-run recipe when total_steps x batch_size / dataset_size is at
 * most the method's limit (40 epochs for VICReg, SimCLR and Barlow Twins,
 * 20 for BYOL and SimSiam, 3 for GroCo), and the paper's when it is
 * longer or dataset_size is 0 (unknown, the default). A key set here always
 * keeps its value.
 *
 * precision is "f32", "bf16" or "auto" (the default): the precision of
 * every network whose spec does not name its own (encoder.h: bf16
 * activations and weight copies, float32 master weights, gradients,
 * optimizer state, batch-norm statistics and objective). "auto" is bf16
 * where oneDNN runs bf16 natively (AVX512_BF16 or AMX, under
 * ONEDNN_MAX_CPU_ISA) and f32 elsewhere; checkpoints record what it chose.
 * Batch norm synchronised over ranks needs f32. */
SELFSUP_API selfsup_status selfsup_learner_config_set(selfsup_learner_config *c,
                                                      const char *key,
                                                      const char *value);

/* Copies the key's current text (NUL-terminated) into buf: the value a
 * learner made from c now would run with (recipe resolved to "paper" or
 * "short", precision to "f32" or "bf16"). Fails with
 * SELFSUP_ERR_INVALID_ARGUMENT if it does not fit in cap bytes. */
SELFSUP_API selfsup_status selfsup_learner_config_get(
    const selfsup_learner_config *c, const char *key, char *buf, size_t cap);

/* The number of keys, and the name of key i (NULL out of range). */
SELFSUP_API int selfsup_learner_config_count(const selfsup_learner_config *c);
SELFSUP_API const char *
selfsup_learner_config_key(const selfsup_learner_config *c, int index);

/* Builds the networks (initialised from the config's seed), the objective
 * and the optimizer. The config may be destroyed afterwards. */
SELFSUP_API selfsup_status
selfsup_learner_create(selfsup_learner **out, const selfsup_learner_config *c);
SELFSUP_API void selfsup_learner_destroy(selfsup_learner *l);

/* One training step on n_views augmented views of one batch, each
 * (N, C, H, W) with the same shape. Writes the loss. On a non-finite loss
 * or gradient it returns SELFSUP_ERR_NUMERIC naming the step and the
 * tensor, and the learner is exactly as before the call. */
SELFSUP_API selfsup_status
selfsup_learner_step(selfsup_learner *l, int n_views,
                     const selfsup_tensor *const *views, float *loss);

/* Spreads the learner's steps over the ranks of comm (docs/distributed.md),
 * or back to this process alone with NULL (or a communicator of one rank).
 * Collective: every rank calls it, with learners made from the same config
 * (every key, the step and the library version are compared, and a
 * difference fails on every rank naming the key). Rank 0's weights and
 * batch-norm statistics are then copied to every rank. Afterwards each
 * rank passes its own N = batch_size / R images of every batch to
 * selfsup_learner_step, rank r the rows r N .. r N + N - 1 of the batch
 * one process would take, and every rank's step is the one process's step
 * on the whole batch: batch norm normalises over all ranks (config key
 * sync_batch_norm, 1 by default; 0 keeps each rank's statistics), the
 * objective sees every rank's embeddings, the gradients are summed. A rank
 * that fails before the step's collectives makes every rank fail with its
 * status and message ("rank R: ..."). comm must outlive its use here. */
SELFSUP_API selfsup_status selfsup_learner_set_comm(selfsup_learner *l,
                                                    selfsup_comm *comm);

/* Runs the online encoder in inference mode: images (N, C, H, W) ->
 * features (N, D), D = selfsup_learner_feature_dim(l). */
SELFSUP_API selfsup_status selfsup_learner_embed(const selfsup_learner *l,
                                                 const selfsup_tensor *images,
                                                 selfsup_tensor *features);
SELFSUP_API int64_t selfsup_learner_feature_dim(const selfsup_learner *l);

/* The method the learner was made for ("byol", ...); "" for NULL. */
SELFSUP_API const char *selfsup_learner_method(const selfsup_learner *l);

/* The current text of a config key of the learner (as
 * selfsup_learner_config_get), e.g. "total_steps" or "batch_size". */
SELFSUP_API selfsup_status selfsup_learner_config_value(
    const selfsup_learner *l, const char *key, char *buf, size_t cap);

/* Steps taken so far. */
SELFSUP_API int64_t selfsup_learner_steps(const selfsup_learner *l);

/* Changes the run's planned length (the config's total_steps) to
 * total_steps, at least 1 and at least the steps already taken: from the
 * next step on, the schedules (warmup, cosine learning rate, BYOL's tau)
 * are those of a run of the new length, at the step reached; the steps
 * taken are not replayed. The recipe chosen at creation stays, and
 * checkpoints record the new length. For runs that plan themselves to a
 * time budget and re-plan once real steps are timed; change the length
 * early, since the schedules jump by the difference. */
SELFSUP_API selfsup_status selfsup_learner_set_total_steps(selfsup_learner *l,
                                                           int64_t total_steps);

/* The online encoder (owned by the learner; valid until it is destroyed).
 * Use it read-only while the learner trains. */
SELFSUP_API const selfsup_encoder *
selfsup_learner_encoder(const selfsup_learner *l);
/* The learner's network in role: "online.encoder", "online.projector",
 * "online.predictor" (BYOL, SimSiam), "target.encoder" or
 * "target.projector" (BYOL), the names checkpoints give them. Owned by the
 * learner, valid until it is destroyed. Read and write its parameters by
 * name (selfsup_encoder_param_find, _read, _write, copy_state): the next
 * step trains from what was written; the optimizer's state (momentum) is
 * not reset. Do not change its mode or run it while a step could be
 * pending. SELFSUP_ERR_INVALID_ARGUMENT for an unknown role or one the
 * method does not have (the message lists the method's roles). */
SELFSUP_API selfsup_status selfsup_learner_network(selfsup_learner *l,
                                                   const char *role,
                                                   selfsup_encoder **network);
/* A warm start: copies e's parameters and batch-norm statistics into the
 * online encoder and, for BYOL, the target encoder, so that training
 * continues from e (an export of selfsup_learner_export_encoder, the
 * online encoder of a checkpoint, a network brought in from PyTorch by
 * parameter name). e must have the online encoder's parameters (names and
 * shapes; the pooling, stem stride or precision may differ). The heads
 * keep their initialisation. Only before the first step:
 * SELFSUP_ERR_STATE after it. */
SELFSUP_API selfsup_status selfsup_learner_warm_start(selfsup_learner *l,
                                                      const selfsup_encoder *e);

/* Values of the last step: "loss", "lr", "tau" (BYOL), "collapse_std" and
 * the objective's own diagnostics (see selfsup_objective_diagnostic). */
SELFSUP_API selfsup_status selfsup_learner_diagnostic(const selfsup_learner *l,
                                                      const char *name,
                                                      double *value);

/* Everything needed to resume, written atomically (a crash never loses the
 * previous file at path). docs/checkpoint-format.md has the layout. */
SELFSUP_API selfsup_status selfsup_learner_save(const selfsup_learner *l,
                                                const char *path);

/* A learner from a checkpoint, exactly where it stopped: N steps, save,
 * load, M steps gives the bits of N + M steps in one run. */
SELFSUP_API selfsup_status selfsup_learner_load(selfsup_learner **out,
                                                const char *path);

/* Records the per-channel normalisation the host applies to its views
 * (selfsup_views_normalization) on the learner's encoders, so that saved
 * checkpoints and encoder exports tell embedding programs how to prepare
 * images (selfsup_encoder_input_normalization). Same arguments as
 * selfsup_encoder_set_input_normalization. */
SELFSUP_API selfsup_status selfsup_learner_set_input_normalization(
    selfsup_learner *l, const float *mean, const float *std);

/* Writes the online encoder alone (spec, parameters, BN statistics, the
 * recorded input normalisation), for inference with selfsup_encoder_load:
 * selfsup_encoder_save of selfsup_learner_encoder(l), in precision=f32
 * whatever the learner's precision (the parameters are float32 either
 * way), so that the export runs on any CPU; a host with bf16 kernels may
 * selfsup_encoder_clone_as it with precision=bf16. */
SELFSUP_API selfsup_status
selfsup_learner_export_encoder(const selfsup_learner *l, const char *path);

#ifdef __cplusplus
}
#endif

#endif
