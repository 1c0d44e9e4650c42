/* Internal: learning-rate and target-momentum schedules, pure functions of
 * the step so that a resumed run needs only the step from its checkpoint. */
#ifndef SELFSUP_TRAIN_SCHEDULE_H
#define SELFSUP_TRAIN_SCHEDULE_H

#include <stdint.h>

#include "selfsup/status.h"

/* Linear warmup from 0, then a half cosine from base down to final:
 *
 *   step < warmup:            lr = base * step / warmup
 *   warmup <= step <= total:  lr = final + (base - final) (1 + cos(pi s)) / 2,
 *                             s = (step - warmup) / (total - warmup)
 *   step > total:             lr = final
 *
 * The schedule of the BYOL reference (final 0) and of VICReg and Barlow
 * Twins (final = 0.001 base); warmup 0 gives SimSiam's plain cosine. Steps
 * before 0 count as 0. */
typedef struct selfsup__cosine_schedule {
    double base, final;
    int64_t warmup, total;
} selfsup__cosine_schedule;

/* base, final finite and >= 0; 0 <= warmup <= total; total >= 1.
 * SELFSUP_ERR_INVALID_ARGUMENT otherwise (s untouched). */
selfsup_status selfsup__cosine_schedule_init(selfsup__cosine_schedule *s,
                                             double base, double final,
                                             int64_t warmup, int64_t total);

double selfsup__cosine_schedule_at(const selfsup__cosine_schedule *s,
                                   int64_t step);

/* BYOL's target momentum: tau(k) = 1 - (1 - tau_base) (cos(pi k / K) + 1)/2,
 * from tau_base at k = 0 up to 1 at k = K (k clamped to [0, K]; K >= 1,
 * else tau_base). */
double selfsup__byol_tau(double tau_base, int64_t k, int64_t K);

/* The linear scaling rule of SimCLR, BYOL, SimSiam and VICReg:
 * lr = base_lr * batch_size / 256. */
double selfsup__scaled_lr(double base_lr, int64_t batch_size);

#endif
