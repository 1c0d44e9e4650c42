/* The learner's optimizers, schedules and BYOL's moving-average target. */
#include <math.h>

#include "core/error.h"
#include "ema.h"
#include "nn/encoder_internal.h"
#include "optimizer.h"
#include "schedule.h"
#include "train_parts.h"

selfsup_status selfsup__learner_make_optimizers(selfsup_learner *l)
{
    const char *spec = selfsup__config_text(&l->config, SELFSUP__KEY_OPTIMIZER);
    for (int k = 0; k < NET_COUNT; k++) {
        if (!l->online[k])
            continue;
        float *values, *grads;
        int64_t count;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(l->online[k], &values, &grads, &count, &table,
                                &n);
        SS_TRY(
            selfsup__optimizer_create(&l->optimizer[k], spec, table, n, count));
        if (l->config.method == SELFSUP__BARLOW) {
            /* Barlow Twins' reference: biases and BN parameters learn at
             * 0.0048 where weights learn at 0.2. */
            selfsup__param_group norms = {
                0,    count,
                NULL, (1u << SELFSUP__PARAM_BIAS) | (1u << SELFSUP__PARAM_NORM),
                0,    0.0048 / 0.2,
                NAN};
            SS_TRY(selfsup__optimizer_add_group(l->optimizer[k], &norms));
        }
        if (k == NET_PREDICTOR &&
            selfsup__config_int(&l->config, SELFSUP__KEY_PREDICTOR_FIXED_LR)) {
            /* SimSiam: the predictor keeps the peak learning rate while the
             * rest follows the schedule. */
            selfsup__param_group all = {0, count, NULL, 0, 1, l->peak_lr, NAN};
            SS_TRY(selfsup__optimizer_add_group(l->optimizer[k], &all));
        }
    }
    return SELFSUP_OK;
}

void selfsup__learner_free_optimizers(selfsup_learner *l)
{
    for (int k = 0; k < NET_COUNT; k++) {
        selfsup__optimizer_destroy(l->optimizer[k]);
        l->optimizer[k] = NULL;
    }
}

double selfsup__learner_lr_at(const selfsup_learner *l, int64_t step)
{
    selfsup__cosine_schedule s;
    int64_t total = l->total_steps;
    int64_t warmup = l->warmup_steps < total ? l->warmup_steps : total;
    if (selfsup__cosine_schedule_init(&s, l->peak_lr, l->final_lr, warmup,
                                      total) != SELFSUP_OK)
        return l->peak_lr;
    /* Past the planned end the rate stays at its final value. */
    return selfsup__cosine_schedule_at(&s, step < total ? step : total);
}

selfsup_status selfsup__learner_apply_update(selfsup_learner *l, double lr)
{
    for (int k = 0; k < NET_COUNT; k++) {
        if (!l->online[k])
            continue;
        float *values, *grads;
        int64_t count;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(l->online[k], &values, &grads, &count, &table,
                                &n);
        SS_TRY(selfsup__optimizer_step(l->optimizer[k], values, grads, lr));
        selfsup__encoder_params_changed(l->online[k]);
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__learner_update_target(selfsup_learner *l, double *tau)
{
    double base = selfsup__config_double(&l->config, SELFSUP__KEY_EMA_BASE);
    int64_t total = l->total_steps;
    double t =
        selfsup__byol_tau(base, l->step < total ? l->step : total, total);
    for (int k = 0; k < 2; k++) {
        float *target, *online, *grads;
        int64_t tcount, ocount;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(l->target[k], &target, &grads, &tcount, &table,
                                &n);
        selfsup__encoder_params(l->online[k], &online, &grads, &ocount, &table,
                                &n);
        /* The target's BN running statistics are its own, moved by its own
         * forward passes, as in BYOL's reference: only parameters are
         * averaged. */
        SS_TRY(selfsup__ema_update(target, online, tcount, t));
        selfsup__encoder_params_changed(l->target[k]);
    }
    *tau = t;
    return SELFSUP_OK;
}
