/* Internal: the exponential moving average behind BYOL's target network.
 *
 * target <- tau target + (1 - tau) online, written as the BYOL reference
 * writes it, target + (1 - tau) (online - target), over a flat parameter
 * buffer. It covers parameters only. In the BYOL reference
 * (byol_experiment.py) the target's batch-norm statistics are neither copied
 * from the online network nor averaged: they are the target network's own
 * state, updated by its own forward pass in training mode on every batch;
 * the learner does the same. */
#ifndef SELFSUP_TRAIN_EMA_H
#define SELFSUP_TRAIN_EMA_H

#include <stdint.h>

#include "selfsup/status.h"

/* target, online: n floats each (they may not overlap); 0 <= tau <= 1.
 * tau = 1 leaves target bitwise unchanged. Bitwise the same on any thread
 * count. */
selfsup_status selfsup__ema_update(float *target, const float *online,
                                   int64_t n, double tau);

#endif
