/* Internal: what the learner, optimizers, checkpoints and BYOL's EMA see of
 * an encoder besides the public API. */
#ifndef SELFSUP_NN_ENCODER_INTERNAL_H
#define SELFSUP_NN_ENCODER_INTERNAL_H

#include <stdint.h>

#include "core/param_info.h"
#include "selfsup/comm.h"
#include "selfsup/encoder.h"

/* The flat parameter and gradient buffers (same layout, count floats) and
 * the table that divides them; pointers valid for the encoder's life. */
void selfsup__encoder_params(selfsup_encoder *e, float **values, float **grads,
                             int64_t *count, const selfsup__param_info **table,
                             int *n);

/* The batch-norm running statistics and their table. */
void selfsup__encoder_buffers(selfsup_encoder *e, float **values,
                              int64_t *count, const selfsup__param_info **table,
                              int *n);

/* Checks spec as selfsup_encoder_create would, without making the
 * network: the learner's config checks its network keys with it. */
selfsup_status selfsup__encoder_spec_check(const char *spec, const char *where);

/* The parameter values and batch-norm statistics, read-only, for writers
 * of a const encoder (checkpoints, exports). */
void selfsup__encoder_state(const selfsup_encoder *e, const float **params,
                            int64_t *param_count, const float **buffers,
                            int64_t *buffer_count);

/* The parameter table and the parameter buffer's length, read-only. */
void selfsup__encoder_table(const selfsup_encoder *e,
                            const selfsup__param_info **table, int *n,
                            int64_t *count);

/* Call after writing parameter values directly (optimizer step, EMA,
 * checkpoint load): the layers' cached weight copies are refreshed on the
 * next forward. */
void selfsup__encoder_params_changed(selfsup_encoder *e);

/* The recorded input normalisation (input_channels values each), or NULL,
 * NULL when none was recorded. */
void selfsup__encoder_input_norm(const selfsup_encoder *e, const float **mean,
                                 const float **std);

/* forward_only != 0: e's training forwards normalise with batch statistics
 * (and move the running ones) as before but keep nothing for a backward,
 * reusing activation buffers as inference does; a backward then finds no
 * pending forward (SELFSUP_ERR_STATE). For networks never differentiated
 * (BYOL's moving-average target): the same outputs, a fraction of the
 * memory. */
void selfsup__encoder_set_forward_only(selfsup_encoder *e, int forward_only);

/* Training passes from the next forward on normalise batch norm over the
 * ranks of comm (NULL or one rank: this process's batch); comm outlives
 * its use here. Float32 only (SELFSUP_ERR_UNSUPPORTED). */
selfsup_status selfsup__encoder_set_comm(selfsup_encoder *e,
                                         selfsup_comm *comm);

/* For tests: an encoder over a hand-built graph (taken over, also on
 * failure), initialised from seed; bf16 selects bfloat16 compute. */
struct selfsup__graph;
selfsup_status selfsup__encoder_from_graph(selfsup_encoder **out,
                                           struct selfsup__graph *g,
                                           uint64_t seed, int bf16);

/* For tests: the graph behind an encoder. */
const struct selfsup__graph *selfsup__encoder_graph(const selfsup_encoder *e);

#endif
