/* One training step: views -> online (and target) networks -> objective ->
 * backward -> guard -> optimizer -> EMA. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/comm.h"
#include "core/error.h"
#include "core/profile.h"
#include "core/tensor_impl.h"
#include "learner_impl.h"
#include "nn/encoder_internal.h"
#include "train_parts.h"

/* (Re)sizes the per-view buffers for batch size n. */
static selfsup_status ensure_view_buffers(selfsup_learner *l, int64_t n)
{
    if (l->batch_n == n)
        return SELFSUP_OK;
    selfsup__learner_free_view_buffers(l);
    int64_t feat = selfsup_encoder_output_dim(l->online[NET_ENCODER]);
    int64_t proj = selfsup_encoder_output_dim(l->online[NET_PROJECTOR]);
    int64_t pred = l->online[NET_PREDICTOR]
                       ? selfsup_encoder_output_dim(l->online[NET_PREDICTOR])
                       : 0;
    for (int v = 0; v < l->n_views; v++) {
        selfsup__view_buffers *b = &l->views[v];
        const int64_t fd[2] = {n, feat}, pd[2] = {n, proj}, qd[2] = {n, pred};
        selfsup_status s = SELFSUP_OK;
        if (s == SELFSUP_OK)
            s = selfsup_tensor_create(&b->features, 2, fd);
        if (s == SELFSUP_OK)
            s = selfsup_tensor_create(&b->grad_features, 2, fd);
        if (s == SELFSUP_OK)
            s = selfsup_tensor_create(&b->projection, 2, pd);
        if (s == SELFSUP_OK)
            s = selfsup_tensor_create(&b->grad_projection, 2, pd);
        if (s == SELFSUP_OK && pred) {
            s = selfsup_tensor_create(&b->prediction, 2, qd);
            if (s == SELFSUP_OK)
                s = selfsup_tensor_create(&b->grad_prediction, 2, qd);
        }
        if (s == SELFSUP_OK && l->target[NET_ENCODER]) {
            s = selfsup_tensor_create(&b->target_features, 2, fd);
            if (s == SELFSUP_OK)
                s = selfsup_tensor_create(&b->target_projection, 2, pd);
        }
        int extra =
            !selfsup__config_int(&l->config, SELFSUP__KEY_STOP_GRADIENT);
        if (s == SELFSUP_OK && extra)
            s = selfsup_tensor_create(&b->grad_extra, 2, pd);
        if (s == SELFSUP_OK && selfsup__comm_active(l->comm)) {
            int64_t rows = n * selfsup_comm_size(l->comm);
            const int64_t od[2] = {rows, pred ? pred : proj},
                          td[2] = {rows, proj};
            s = selfsup_tensor_create(&b->all_online, 2, od);
            if (s == SELFSUP_OK)
                s = selfsup_tensor_create(&b->all_grad, 2, od);
            if (s == SELFSUP_OK && (pred || l->target[NET_ENCODER]))
                s = selfsup_tensor_create(&b->all_target, 2, td);
            if (s == SELFSUP_OK && extra)
                s = selfsup_tensor_create(&b->all_grad_extra, 2, td);
        }
        if (s != SELFSUP_OK) {
            selfsup__learner_free_view_buffers(l);
            return s;
        }
    }
    l->batch_n = n;
    return SELFSUP_OK;
}

/* Validates the views: count, rank, equal shapes, channels, finiteness. */
static selfsup_status check_views(const selfsup_learner *l, int n_views,
                                  const selfsup_tensor *const *views)
{
    if (n_views != l->n_views)
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "n_views = %d but the learner was made for %d views",
                       n_views, l->n_views);
    SS_CHECK_NOT_NULL(views);
    for (int v = 0; v < n_views; v++) {
        if (!views[v])
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "views[%d] is NULL",
                           v);
        if (views[v]->ndim != 4)
            return SS_FAIL(SELFSUP_ERR_SHAPE,
                           "views[%d] has %d axes, not 4 (N, C, H, W)", v,
                           views[v]->ndim);
        char name[32];
        snprintf(name, sizeof name, "views[%d]", v);
        if (v > 0)
            SS_TRY(selfsup__tensor_expect_shape(
                views[v], "selfsup_learner_step", name, 4, views[0]->dims));
    }
    if (views[0]->dims[0] < 2)
        return SS_FAIL(SELFSUP_ERR_SHAPE,
                       "the batch has N = %lld images; at least 2 are needed",
                       (long long)views[0]->dims[0]);
    return SELFSUP_OK;
}

/* Forward through the online (and target) networks for every view. */
static selfsup_status forward_all(selfsup_learner *l,
                                  const selfsup_tensor *const *views)
{
    for (int v = 0; v < l->n_views; v++) {
        selfsup__view_buffers *b = &l->views[v];
        SS_TRY(selfsup_encoder_forward_view(l->online[NET_ENCODER], v, views[v],
                                            b->features));
        SS_TRY(selfsup_encoder_forward_view(l->online[NET_PROJECTOR], v,
                                            b->features, b->projection));
        if (l->online[NET_PREDICTOR])
            SS_TRY(selfsup_encoder_forward_view(l->online[NET_PREDICTOR], v,
                                                b->projection, b->prediction));
        if (l->target[NET_ENCODER]) {
            SS_TRY(selfsup_encoder_forward_view(l->target[NET_ENCODER], v,
                                                views[v], b->target_features));
            SS_TRY(selfsup_encoder_forward_view(l->target[NET_PROJECTOR], v,
                                                b->target_features,
                                                b->target_projection));
        }
    }
    return SELFSUP_OK;
}

/* The objective, on this process's rows or on every rank's. */
static selfsup_status compare(selfsup_learner *l,
                              const selfsup_tensor *const *online,
                              const selfsup_tensor *const *target, float *loss,
                              selfsup_tensor **grads, int extra)
{
    if (selfsup__comm_active(l->comm))
        return selfsup__learner_objective_over_ranks(l, online, target, loss,
                                                     grads, extra);
    return selfsup_objective_compute(l->objective, l->n_views, online, target,
                                     loss, grads);
}

/* The objective on what the method compares, and dL/d(online outputs). */
static selfsup_status objective_all(selfsup_learner *l, float *loss)
{
    const selfsup_tensor *online[SELFSUP__LEARNER_MAX_VIEWS];
    const selfsup_tensor *target[SELFSUP__LEARNER_MAX_VIEWS];
    selfsup_tensor *grads[SELFSUP__LEARNER_MAX_VIEWS];
    int has_predictor = l->online[NET_PREDICTOR] != NULL;
    int has_target = 0;
    for (int v = 0; v < l->n_views; v++) {
        selfsup__view_buffers *b = &l->views[v];
        online[v] = has_predictor ? b->prediction : b->projection;
        grads[v] = has_predictor ? b->grad_prediction : b->grad_projection;
        if (l->target[NET_ENCODER]) { /* BYOL: the EMA network's output */
            target[v] = b->target_projection;
            has_target = 1;
        } else if (has_predictor) { /* SimSiam: own projections, constant */
            target[v] = b->projection;
            has_target = 1;
        }
    }
    SS_TRY(compare(l, online, has_target ? target : NULL, loss, grads, 0));
    if (has_predictor && !l->target[NET_ENCODER] &&
        !selfsup__config_int(&l->config, SELFSUP__KEY_STOP_GRADIENT)) {
        /* The test-only switch: let gradient through SimSiam's target
         * branch too. The loss is symmetric in (p, z), so the objective
         * with the roles swapped gives exactly dL/dz of that branch. */
        const selfsup_tensor *z[SELFSUP__LEARNER_MAX_VIEWS];
        const selfsup_tensor *p[SELFSUP__LEARNER_MAX_VIEWS];
        selfsup_tensor *gz[SELFSUP__LEARNER_MAX_VIEWS];
        for (int v = 0; v < l->n_views; v++) {
            z[v] = l->views[v].projection;
            p[v] = l->views[v].prediction;
            gz[v] = l->views[v].grad_extra;
        }
        float same_loss;
        SS_TRY(compare(l, z, p, &same_loss, gz, 1));
    }
    return SELFSUP_OK;
}

static selfsup_status backward_all(selfsup_learner *l)
{
    for (int v = 0; v < l->n_views; v++) {
        selfsup__view_buffers *b = &l->views[v];
        if (l->online[NET_PREDICTOR])
            SS_TRY(selfsup_encoder_backward_view(l->online[NET_PREDICTOR], v,
                                                 b->grad_prediction,
                                                 b->grad_projection));
        if (b->grad_extra) {
            float *g = selfsup__tensor_mut(b->grad_projection);
            const float *e = b->grad_extra->data;
            for (int64_t i = 0; i < b->grad_projection->numel; i++)
                g[i] += e[i];
        }
        SS_TRY(selfsup_encoder_backward_view(
            l->online[NET_PROJECTOR], v, b->grad_projection, b->grad_features));
        SS_TRY(selfsup_encoder_backward_view(l->online[NET_ENCODER], v,
                                             b->grad_features, NULL));
    }
    return SELFSUP_OK;
}

/* The numerics guard: SELFSUP_ERR_NUMERIC naming the first non-finite
 * gradient, before anything is updated. */
static selfsup_status check_gradients(const selfsup_learner *l)
{
    static const char *const NET_NAMES[NET_COUNT] = {"encoder", "projector",
                                                     "predictor"};
    for (int k = 0; k < NET_COUNT; k++) {
        if (!l->online[k])
            continue;
        float *values, *grads;
        int64_t count;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(l->online[k], &values, &grads, &count, &table,
                                &n);
        for (int p = 0; p < n; p++) {
            const float *g = grads + table[p].offset;
            for (int64_t i = 0; i < table[p].numel; i++)
                if (!isfinite(g[i]))
                    return SS_FAIL(SELFSUP_ERR_NUMERIC,
                                   "step %lld: the gradient of %s.%s has "
                                   "a non-finite value (%g at %lld)",
                                   (long long)l->step, NET_NAMES[k],
                                   table[p].name, (double)g[i], (long long)i);
        }
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_learner_step(selfsup_learner *l, int n_views,
                                    const selfsup_tensor *const *views,
                                    float *loss)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(loss);
    double step_started = selfsup__profile_begin();
    /* Every rank agrees that it can step before the first collective, so
     * that one rank's error stops all of them instead of leaving the
     * others waiting in a collective. */
    selfsup_status ready = check_views(l, n_views, views);
    if (ready == SELFSUP_OK)
        ready = ensure_view_buffers(l, views[0]->dims[0]);
    /* Forward passes move BN running statistics; keep them to undo a step
     * that fails. */
    if (ready == SELFSUP_OK)
        ready = selfsup__learner_snapshot_buffers(l);
    SS_TRY(selfsup__comm_agree(l->comm, ready));
    if (selfsup__comm_active(l->comm))
        SS_TRY(selfsup__learner_check_batch(l, views[0]->dims[0]));

    for (int k = 0; k < NET_COUNT; k++)
        if (l->online[k])
            SS_TRY(selfsup_encoder_zero_grad(l->online[k]));

    float value = 0;
    double t = selfsup__profile_begin();
    selfsup_status s = forward_all(l, views);
    selfsup__profile_end("step: forward", t);
    if (s == SELFSUP_OK) {
        t = selfsup__profile_begin();
        s = objective_all(l, &value);
        selfsup__profile_end("step: objective", t);
    }
    if (s == SELFSUP_OK && !isfinite(value))
        s = SS_FAIL(SELFSUP_ERR_NUMERIC, "step %lld: the loss is %g",
                    (long long)l->step, (double)value);
    if (selfsup__comm_active(l->comm)) /* the backward's collectives next */
        s = selfsup__comm_agree(l->comm, s);
    if (s == SELFSUP_OK) {
        t = selfsup__profile_begin();
        s = backward_all(l);
        selfsup__profile_end("step: backward", t);
    }
    if (s == SELFSUP_OK && selfsup__comm_active(l->comm)) {
        t = selfsup__profile_begin();
        s = selfsup__learner_sum_gradients(l);
        selfsup__profile_end("step: gradient sum over ranks", t);
    }
    if (s == SELFSUP_OK) {
        t = selfsup__profile_begin();
        s = check_gradients(l);
        selfsup__profile_end("step: gradient check", t);
    }
    if (s != SELFSUP_OK) {
        selfsup__learner_restore_buffers(l);
        return s;
    }

    double lr = selfsup__learner_lr_at(l, l->step);
    t = selfsup__profile_begin();
    SS_TRY(selfsup__learner_apply_update(l, lr));
    selfsup__profile_end("step: optimizer", t);
    double tau = 0;
    if (l->target[NET_ENCODER]) {
        t = selfsup__profile_begin();
        SS_TRY(selfsup__learner_update_target(l, &tau));
        selfsup__profile_end("step: target average", t);
    }

    double collapse = NAN;
    selfsup_objective_diagnostic(l->objective, "collapse_std", &collapse);
    l->last_loss = value;
    l->last_lr = lr;
    l->last_tau = tau;
    l->last_collapse = collapse;
    l->step++;
    *loss = value;
    selfsup__profile_end("step", step_started);
    return SELFSUP_OK;
}
