/* Internal: the learner's pieces shared between its source files. */
#ifndef SELFSUP_TRAIN_TRAIN_PARTS_H
#define SELFSUP_TRAIN_TRAIN_PARTS_H

#include "learner_impl.h"

void selfsup__learner_free_view_buffers(selfsup_learner *l);

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
