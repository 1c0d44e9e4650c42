/* The objective handle: spec parsing, the argument checks every loss
 * shares, scratch for the gradients, publishing results and diagnostics. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collapse.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "core/threads.h"
#include "objective_impl.h"

static const selfsup__objective_kind *const kinds[] = {
    &selfsup__objective_byol,   &selfsup__objective_simsiam,
    &selfsup__objective_vicreg, &selfsup__objective_simclr,
    &selfsup__objective_barlow, &selfsup__objective_groco};
enum { KIND_COUNT = sizeof kinds / sizeof kinds[0] };

static const char *const common_diag_names[SELFSUP__OBJ_DIAG_OWN] = {
    "loss", "collapse_std"};

selfsup_status selfsup_objective_create(selfsup_objective **out,
                                        const char *spec)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    selfsup__spec p;
    selfsup_status st = selfsup__spec_parse(&p, spec, __func__);
    const selfsup__objective_kind *kind = NULL;
    selfsup_objective o;
    memset(&o, 0, sizeof o);
    if (st == SELFSUP_OK) {
        for (int i = 0; i < KIND_COUNT; i++)
            if (strcmp(p.name, kinds[i]->name) == 0)
                kind = kinds[i];
        if (!kind)
            st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                         "unknown objective \"%s\" (known: byol, simsiam, "
                         "vicreg, simclr, barlow, groco)",
                         p.name);
    }
    if (st == SELFSUP_OK) {
        o.kind = kind;
        if (kind->configure)
            st = kind->configure(&o, &p);
    }
    if (st == SELFSUP_OK)
        st = selfsup__spec_finish(&p);
    selfsup__spec_free(&p);
    if (st != SELFSUP_OK)
        return st;
    selfsup_objective *made = selfsup__malloc(sizeof *made);
    if (!made)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the objective");
    *made = o;
    *out = made;
    return SELFSUP_OK;
}

void selfsup_objective_destroy(selfsup_objective *o)
{
    selfsup__free(o);
}

const char *selfsup_objective_name(const selfsup_objective *o)
{
    return o ? o->kind->name : "";
}

selfsup_target_rule selfsup_objective_target_rule(const selfsup_objective *o)
{
    return o ? o->kind->target : SELFSUP_TARGET_NONE;
}

int selfsup_objective_min_views(const selfsup_objective *o)
{
    return o ? o->kind->min_views : 0;
}

int selfsup_objective_max_views(const selfsup_objective *o)
{
    if (!o)
        return 0;
    if (o->kind == &selfsup__objective_groco) /* wires = topk + views - 1 */
        return SELFSUP__SORTNET_MAX_WIRES + 1 - (int)o->p.groco.topk;
    return o->kind->max_views;
}

/* The structural checks of compute, in the order the header documents. */
static selfsup_status check_arguments(const selfsup_objective *o, int n_views,
                                      const selfsup_tensor *const *online,
                                      const selfsup_tensor *const *target,
                                      selfsup_tensor *const *grad_online,
                                      const char *where)
{
    const selfsup__objective_kind *k = o->kind;
    int max_views = selfsup_objective_max_views(o);
    if (n_views < k->min_views || n_views > max_views) {
        if (k->min_views == max_views)
            return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                                 "n_views = %d, but %s takes %d views", n_views,
                                 k->name, k->min_views);
        return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                             "n_views = %d, but %s takes %d to %d views",
                             n_views, k->name, k->min_views, max_views);
    }
    for (int v = 0; v < n_views; v++) {
        char name[32];
        snprintf(name, sizeof name, "online[%d]", v);
        const selfsup_tensor *t = online[v];
        if (!t)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                 "%s is NULL", name);
        if (t->ndim != 2) {
            char have[160];
            selfsup__shape_format(have, sizeof have, t->ndim, t->dims);
            return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                                 "%s has shape %s, not (N, D)", name, have);
        }
        if (v > 0)
            SS_TRY(selfsup__tensor_expect_shape(t, where, name, 2,
                                                online[0]->dims));
    }
    int64_t n = online[0]->dims[0];
    if (n < 2)
        return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                             "online[0] has N = %lld rows; %s needs N >= 2",
                             (long long)n, k->name);
    if (k->check)
        SS_TRY(k->check(o, n_views, n, where));
    if (k->target == SELFSUP_TARGET_REQUIRED && !target)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "target is NULL, but %s needs the target "
                             "branch's embeddings",
                             k->name);
    if (k->target == SELFSUP_TARGET_NONE && target)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "target is given, but %s takes none (it must "
                             "be NULL)",
                             k->name);
    if (target)
        for (int v = 0; v < n_views; v++) {
            char name[32];
            snprintf(name, sizeof name, "target[%d]", v);
            if (!target[v])
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                     "%s is NULL", name);
            SS_TRY(selfsup__tensor_expect_shape(target[v], where, name, 2,
                                                online[0]->dims));
        }
    if (grad_online)
        for (int v = 0; v < n_views; v++) {
            char name[32];
            snprintf(name, sizeof name, "grad_online[%d]", v);
            if (!grad_online[v])
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                     "%s is NULL", name);
            SS_TRY(selfsup__tensor_expect_shape(grad_online[v], where, name, 2,
                                                online[0]->dims));
        }
    for (int v = 0; v < n_views; v++) {
        char name[32];
        snprintf(name, sizeof name, "online[%d]", v);
        SS_TRY(selfsup__tensor_check_finite(online[v], where, name));
    }
    if (target)
        for (int v = 0; v < n_views; v++) {
            char name[32];
            snprintf(name, sizeof name, "target[%d]", v);
            SS_TRY(selfsup__tensor_check_finite(target[v], where, name));
        }
    return SELFSUP_OK;
}

/* Only the views this limit allows are supported; groco's wire limit keeps
 * n_views far below it. */
enum { MAX_VIEWS = SELFSUP__SORTNET_MAX_WIRES };

selfsup_status selfsup_objective_compute(selfsup_objective *o, int n_views,
                                         const selfsup_tensor *const *online,
                                         const selfsup_tensor *const *target,
                                         float *loss,
                                         selfsup_tensor *const *grad_online)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(o);
    SS_CHECK_NOT_NULL(online);
    SS_CHECK_NOT_NULL(loss);
    SS_TRY(check_arguments(o, n_views, online, target, grad_online, __func__));
    selfsup__threads_apply();

    int64_t n = online[0]->dims[0], d = online[0]->dims[1];
    const float *online_data[MAX_VIEWS];
    const float *target_data[MAX_VIEWS];
    float *grad_data[MAX_VIEWS];
    for (int v = 0; v < n_views; v++) {
        online_data[v] = online[v]->data;
        target_data[v] = target ? target[v]->data : NULL;
    }
    selfsup__objective_batch batch = {n_views, n, d, online_data,
                                      target ? target_data : NULL};
    selfsup__objective_result result;
    memset(&result, 0, sizeof result);

    /* gradients go to one scratch block, views back to back (simclr uses
     * that: its 2N x D product lands on both views at once) */
    size_t view_numel = (size_t)n * (size_t)d;
    float *grad_block = NULL;
    if (grad_online) {
        grad_block =
            selfsup__malloc((size_t)n_views * view_numel * sizeof(float));
        if (!grad_block)
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot allocate %d x %lld x %lld floats for the "
                           "gradients",
                           n_views, (long long)n, (long long)d);
        for (int v = 0; v < n_views; v++)
            grad_data[v] = grad_block + (size_t)v * view_numel;
        result.grad = grad_data;
    }

    selfsup_status st = o->kind->compute(o, &batch, &result);
    if (st == SELFSUP_OK)
        st = selfsup__collapse_std(online_data[0], n, d,
                                   &result.diag[SELFSUP__OBJ_DIAG_COLLAPSE]);
    if (st == SELFSUP_OK && !isfinite((float)result.loss))
        st = SS_FAIL(SELFSUP_ERR_NUMERIC,
                     "%s: the loss is not finite (%g): the inputs overflow "
                     "its arithmetic",
                     o->kind->name, result.loss);
    if (st == SELFSUP_OK && grad_block)
        for (size_t i = 0; i < (size_t)n_views * view_numel; i++)
            if (!isfinite(grad_block[i])) {
                st = SS_FAIL(SELFSUP_ERR_NUMERIC,
                             "%s: the gradient of online[%d] is not finite "
                             "at element %lld",
                             o->kind->name, (int)(i / view_numel),
                             (long long)(i % view_numel));
                break;
            }
    if (st == SELFSUP_OK) {
        *loss = (float)result.loss;
        for (int v = 0; grad_block && v < n_views; v++)
            memcpy(grad_online[v]->data, grad_data[v],
                   view_numel * sizeof(float));
        result.diag[SELFSUP__OBJ_DIAG_LOSS] = result.loss;
        memcpy(o->diag, result.diag, sizeof o->diag);
        o->has_diag = 1;
    }
    selfsup__free(grad_block);
    return st;
}

int selfsup_objective_diagnostic_count(const selfsup_objective *o)
{
    return o ? SELFSUP__OBJ_DIAG_OWN + o->kind->diag_count : 0;
}

const char *selfsup_objective_diagnostic_name(const selfsup_objective *o, int i)
{
    if (!o || i < 0 || i >= selfsup_objective_diagnostic_count(o))
        return NULL;
    return i < SELFSUP__OBJ_DIAG_OWN
               ? common_diag_names[i]
               : o->kind->diag_names[i - SELFSUP__OBJ_DIAG_OWN];
}

selfsup_status selfsup_objective_diagnostic(const selfsup_objective *o,
                                            const char *name, double *value)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(o);
    SS_CHECK_NOT_NULL(name);
    SS_CHECK_NOT_NULL(value);
    int count = selfsup_objective_diagnostic_count(o);
    for (int i = 0; i < count; i++) {
        if (strcmp(name, selfsup_objective_diagnostic_name(o, i)) != 0)
            continue;
        if (!o->has_diag)
            return SS_FAIL(SELFSUP_ERR_STATE,
                           "%s: no successful compute yet, so no \"%s\"",
                           o->kind->name, name);
        *value = o->diag[i];
        return SELFSUP_OK;
    }
    char list[256] = "";
    for (int i = 0; i < count; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                 selfsup_objective_diagnostic_name(o, i));
    }
    return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                   "%s has no diagnostic \"%s\" (it has %s)", o->kind->name,
                   name, list);
}
