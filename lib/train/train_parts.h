/* Internal: the learner's pieces shared between its source files. */
#ifndef SELFSUP_TRAIN_TRAIN_PARTS_H
#define SELFSUP_TRAIN_TRAIN_PARTS_H

#include "learner_impl.h"

void selfsup__learner_free_view_buffers(selfsup_learner *l);

/* Over ranks (learner_comm.c): the objective on every rank's rows, the
 * gradient of this rank's rows back in grads; the gradients summed. */
selfsup_status selfsup__learner_objective_over_ranks(
    selfsup_learner *l, const selfsup_tensor *const *online,
    const selfsup_tensor *const *target, float *loss, selfsup_tensor **grads,
    int extra);
selfsup_status selfsup__learner_sum_gradients(selfsup_learner *l);
/* SELFSUP_ERR_SHAPE on every rank unless all ranks step n images. */
selfsup_status selfsup__learner_check_batch(selfsup_learner *l, int64_t n);

/* Copies every network's BN running statistics aside / back. */
selfsup_status selfsup__learner_snapshot_buffers(selfsup_learner *l);
void selfsup__learner_restore_buffers(const selfsup_learner *l);

/* Optimizers: made for the online networks at create time (they never
 * allocate while stepping), and the schedules. */
selfsup_status selfsup__learner_make_optimizers(selfsup_learner *l);
void selfsup__learner_free_optimizers(selfsup_learner *l);
double selfsup__learner_lr_at(const selfsup_learner *l, int64_t step);
selfsup_status selfsup__learner_apply_update(selfsup_learner *l, double lr);
/* BYOL: target <- tau target + (1 - tau) online; reports tau. */
selfsup_status selfsup__learner_update_target(selfsup_learner *l, double *tau);

#endif
