/* Making, querying and destroying a learner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/spec.h"
#include "core/tensor_impl.h"
#include "learner_impl.h"
#include "nn/encoder_internal.h"
#include "train_parts.h"

/* Seeds of the networks: independent streams of the user's seed. */
enum { SEED_ENCODER = 1, SEED_PROJECTOR = 2, SEED_PREDICTOR = 3 };

/* spec with key=value added, or checked against value if already there. */
static selfsup_status spec_with(const char *spec, const char *key, long value,
                                char *out, size_t cap)
{
    selfsup__spec s;
    selfsup_status st = selfsup__spec_parse(&s, spec, "selfsup_learner_create");
    const char *given = NULL;
    if (st == SELFSUP_OK)
        st = selfsup__spec_string(&s, key, &given);
    if (st == SELFSUP_OK && given && strtol(given, NULL, 10) != value)
        st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                     "\"%s\" sets %s = %s, but the network feeding it gives "
                     "%ld",
                     spec, key, given, value);
    selfsup__spec_free(&s);
    SS_TRY(st);
    char text[32];
    snprintf(text, sizeof text, "%ld", value);
    return selfsup__spec_format_with(spec, key, text, 1, out, cap,
                                     "selfsup_learner_create");
}

/* spec in the run's precision, unless it names its own. */
static selfsup_status spec_in_precision(const selfsup_learner_config *c,
                                        const char *spec, char *out, size_t cap)
{
    return selfsup__spec_format_with(
        spec, "precision", selfsup__config_text(c, SELFSUP__KEY_PRECISION), 1,
        out, cap, "selfsup_learner_create");
}

/* Whether the spec names key (to leave the user's value alone). */
static int spec_has(const char *spec, const char *key)
{
    selfsup__spec s;
    const char *v = NULL;
    if (selfsup__spec_parse(&s, spec, "selfsup_learner_create") == SELFSUP_OK)
        selfsup__spec_string(&s, key, &v);
    selfsup__spec_free(&s);
    return v != NULL;
}

static selfsup_status make_networks(selfsup_learner *l)
{
    const selfsup_learner_config *c = &l->config;
    uint64_t seed = selfsup__config_u64(c, SELFSUP__KEY_SEED);
    char spec[2 * SELFSUP__CONFIG_TEXT_MAX], full[2 * SELFSUP__CONFIG_TEXT_MAX];
    SS_TRY(spec_in_precision(c, selfsup__config_text(c, SELFSUP__KEY_ENCODER),
                             full, sizeof full));
    SS_TRY(
        selfsup_encoder_create(&l->online[NET_ENCODER], full,
                               selfsup__rng_stream(seed, SEED_ENCODER, 0, 0)));
    long features = (long)selfsup_encoder_output_dim(l->online[NET_ENCODER]);

    const char *projector = selfsup__config_text(c, SELFSUP__KEY_PROJECTOR);
    SS_TRY(spec_in_precision(c, projector, spec, sizeof spec));
    if (c->method == SELFSUP__GROCO && !spec_has(projector, "hidden")) {
        SS_TRY(spec_with(spec, "hidden", features, full, sizeof full));
        snprintf(spec, sizeof spec, "%s", full);
    }
    SS_TRY(spec_with(spec, "in", features, full, sizeof full));
    SS_TRY(selfsup_encoder_create(
        &l->online[NET_PROJECTOR], full,
        selfsup__rng_stream(seed, SEED_PROJECTOR, 0, 0)));

    const char *predictor = selfsup__config_text(c, SELFSUP__KEY_PREDICTOR);
    if (strcmp(predictor, "none") != 0) {
        long proj = (long)selfsup_encoder_output_dim(l->online[NET_PROJECTOR]);
        SS_TRY(spec_in_precision(c, predictor, spec, sizeof spec));
        SS_TRY(spec_with(spec, "in", proj, full, sizeof full));
        SS_TRY(selfsup_encoder_create(
            &l->online[NET_PREDICTOR], full,
            selfsup__rng_stream(seed, SEED_PREDICTOR, 0, 0)));
        if (selfsup_encoder_output_dim(l->online[NET_PREDICTOR]) != proj)
            return SS_FAIL(
                SELFSUP_ERR_INVALID_ARGUMENT,
                "the predictor outputs %lld features but must "
                "match the projector's %ld",
                (long long)selfsup_encoder_output_dim(l->online[NET_PREDICTOR]),
                proj);
    }
    if (c->method == SELFSUP__BYOL) {
        /* The target starts as an exact copy of the online network. */
        SS_TRY(selfsup_encoder_clone(&l->target[NET_ENCODER],
                                     l->online[NET_ENCODER]));
        SS_TRY(selfsup_encoder_clone(&l->target[NET_PROJECTOR],
                                     l->online[NET_PROJECTOR]));
    }
    for (int k = 0; k < NET_COUNT; k++)
        if (l->online[k])
            SS_TRY(selfsup_encoder_set_training(l->online[k], 1));
    /* In training mode, as BYOL's reference runs it (batch statistics),
     * but never differentiated: it keeps nothing for a backward, as the
     * reference's no_grad keeps nothing. */
    for (int k = 0; k < 2; k++)
        if (l->target[k]) {
            SS_TRY(selfsup_encoder_set_training(l->target[k], 1));
            selfsup__encoder_set_forward_only(l->target[k], 1);
        }
    return SELFSUP_OK;
}

/* The objective, and whether it fits the method's wiring. */
static selfsup_status make_objective(selfsup_learner *l)
{
    const selfsup_learner_config *c = &l->config;
    SS_TRY(selfsup_objective_create(
        &l->objective, selfsup__config_text(c, SELFSUP__KEY_OBJECTIVE)));
    int gives_target = c->method == SELFSUP__BYOL || l->online[NET_PREDICTOR];
    selfsup_target_rule rule = selfsup_objective_target_rule(l->objective);
    if ((gives_target && rule == SELFSUP_TARGET_NONE) ||
        (!gives_target && rule == SELFSUP_TARGET_REQUIRED))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "objective \"%s\" %s a target, but method %s %s one",
                       selfsup_objective_name(l->objective),
                       rule == SELFSUP_TARGET_NONE ? "takes no" : "needs",
                       selfsup__method_name(c->method),
                       gives_target ? "gives" : "has no");
    if (l->n_views < selfsup_objective_min_views(l->objective) ||
        l->n_views > selfsup_objective_max_views(l->objective))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "views = %d, but objective \"%s\" takes %d to %d",
                       l->n_views, selfsup_objective_name(l->objective),
                       selfsup_objective_min_views(l->objective),
                       selfsup_objective_max_views(l->objective));
    return SELFSUP_OK;
}

/* The schedules' lengths, from the config's total_steps. */
static void plan_schedules(selfsup_learner *l)
{
    const selfsup_learner_config *c = &l->config;
    l->total_steps = selfsup__config_int(c, SELFSUP__KEY_TOTAL_STEPS);
    l->warmup_steps =
        (int64_t)(selfsup__config_double(c, SELFSUP__KEY_WARMUP_FRACTION) *
                      (double)l->total_steps +
                  0.5);
}

selfsup_status selfsup_learner_create(selfsup_learner **out,
                                      const selfsup_learner_config *c)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(c);
    int views = (int)selfsup__config_int(c, SELFSUP__KEY_VIEWS);
    if (views > SELFSUP__LEARNER_MAX_VIEWS)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "views = %d is more than the %d a learner handles",
                       views, SELFSUP__LEARNER_MAX_VIEWS);
    selfsup_learner *l = selfsup__calloc(1, sizeof *l);
    if (!l)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the learner");
    l->config = *c;
    selfsup__config_resolve(&l->config);
    c = &l->config;
    l->n_views = views;
    plan_schedules(l);
    l->peak_lr = selfsup__config_peak_lr(c);
    l->final_lr =
        l->peak_lr * selfsup__config_double(c, SELFSUP__KEY_FINAL_LR_RATIO);

    selfsup_status s = make_networks(l);
    if (s == SELFSUP_OK)
        s = make_objective(l);
    if (s == SELFSUP_OK)
        s = selfsup__learner_make_optimizers(l);
    if (s != SELFSUP_OK) {
        selfsup_learner_destroy(l);
        return s;
    }
    *out = l;
    return SELFSUP_OK;
}

void selfsup__learner_free_view_buffers(selfsup_learner *l)
{
    for (int v = 0; v < SELFSUP__LEARNER_MAX_VIEWS; v++) {
        selfsup__view_buffers *b = &l->views[v];
        selfsup_tensor *all[] = {
            b->features,        b->projection,        b->prediction,
            b->target_features, b->target_projection, b->grad_prediction,
            b->grad_projection, b->grad_features,     b->grad_extra,
            b->all_online,      b->all_target,        b->all_grad,
            b->all_grad_extra};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            selfsup_tensor_destroy(all[i]);
        memset(b, 0, sizeof *b);
    }
    l->batch_n = 0;
}

void selfsup_learner_destroy(selfsup_learner *l)
{
    if (!l)
        return;
    selfsup__learner_free_view_buffers(l);
    selfsup__learner_free_optimizers(l);
    selfsup_objective_destroy(l->objective);
    for (int k = 0; k < NET_COUNT; k++)
        selfsup_encoder_destroy(l->online[k]);
    for (int k = 0; k < 2; k++)
        selfsup_encoder_destroy(l->target[k]);
    selfsup__free(l->buffer_snapshot);
    selfsup__free(l);
}

/* Copies every network's BN running statistics into the snapshot
 * (to_snapshot) or back from it; returns how many floats that is. */
static int64_t copy_buffers(const selfsup_learner *l, int to_snapshot)
{
    int64_t at = 0;
    for (int role = 0; role < SELFSUP__ROLE_COUNT; role++) {
        selfsup_encoder *net = selfsup__learner_role(l, role);
        if (!net)
            continue;
        float *values;
        int64_t count;
        const selfsup__param_info *table;
        int entries;
        selfsup__encoder_buffers(net, &values, &count, &table, &entries);
        if (to_snapshot >= 0) {
            float *saved = l->buffer_snapshot + at;
            memcpy(to_snapshot ? saved : values, to_snapshot ? values : saved,
                   (size_t)count * sizeof(float));
        }
        at += count;
    }
    return at;
}

selfsup_status selfsup__learner_snapshot_buffers(selfsup_learner *l)
{
    int64_t total = copy_buffers(l, -1); /* -1: only count */
    if (total > l->buffer_snapshot_count) {
        float *grown = selfsup__malloc((size_t)total * sizeof(float));
        if (!grown)
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot allocate %lld floats for the BN snapshot",
                           (long long)total);
        selfsup__free(l->buffer_snapshot);
        l->buffer_snapshot = grown;
        l->buffer_snapshot_count = total;
    }
    copy_buffers(l, 1);
    return SELFSUP_OK;
}

void selfsup__learner_restore_buffers(const selfsup_learner *l)
{
    copy_buffers(l, 0);
}

selfsup_status selfsup_learner_embed(const selfsup_learner *l,
                                     const selfsup_tensor *images,
                                     selfsup_tensor *features)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    return selfsup_encoder_infer(l->online[NET_ENCODER], images, features);
}

int64_t selfsup_learner_feature_dim(const selfsup_learner *l)
{
    return l ? selfsup_encoder_output_dim(l->online[NET_ENCODER]) : 0;
}

const char *selfsup_learner_method(const selfsup_learner *l)
{
    return l ? selfsup__method_name(l->config.method) : "";
}

selfsup_status selfsup_learner_config_value(const selfsup_learner *l,
                                            const char *key, char *buf,
                                            size_t cap)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    return selfsup_learner_config_get(&l->config, key, buf, cap);
}

int64_t selfsup_learner_steps(const selfsup_learner *l)
{
    return l ? l->step : 0;
}

selfsup_status selfsup_learner_set_total_steps(selfsup_learner *l,
                                               int64_t total_steps)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    if (total_steps < 1 || total_steps < l->step)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "total_steps = %lld: must be at least 1 and at least "
                       "the %lld steps already taken",
                       (long long)total_steps, (long long)l->step);
    char number[32];
    snprintf(number, sizeof number, "%lld", (long long)total_steps);
    /* The stored config is what checkpoints record, so a resumed run
     * follows the new length too. Its recipe was resolved at creation and
     * stays: a run does not change optimizer halfway. */
    selfsup_status s =
        selfsup_learner_config_set(&l->config, "total_steps", number);
    if (s != SELFSUP_OK)
        return SS_FAIL(s, "total_steps = %lld is out of range",
                       (long long)total_steps);
    plan_schedules(l);
    return SELFSUP_OK;
}

const selfsup_encoder *selfsup_learner_encoder(const selfsup_learner *l)
{
    return l ? l->online[NET_ENCODER] : NULL;
}

const char *const selfsup__role_names[SELFSUP__ROLE_COUNT] = {
    "online.encoder", "online.projector", "online.predictor", "target.encoder",
    "target.projector"};

selfsup_encoder *selfsup__learner_role(const selfsup_learner *l, int role)
{
    return role < NET_COUNT ? l->online[role] : l->target[role - NET_COUNT];
}

selfsup_status selfsup_learner_network(selfsup_learner *l, const char *role,
                                       selfsup_encoder **network)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(role);
    SS_CHECK_NOT_NULL(network);
    char have[160] = "";
    size_t used = 0;
    for (int r = 0; r < SELFSUP__ROLE_COUNT; r++) {
        selfsup_encoder *net = selfsup__learner_role(l, r);
        if (!net)
            continue;
        if (strcmp(role, selfsup__role_names[r]) == 0) {
            *network = net;
            return SELFSUP_OK;
        }
        int n = snprintf(have + used, sizeof have - used, "%s%s",
                         used ? ", " : "", selfsup__role_names[r]);
        if (n > 0 && (size_t)n < sizeof have - used)
            used += (size_t)n;
    }
    return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                   "role \"%s\": a %s learner has %s", role,
                   selfsup__method_name(l->config.method), have);
}

selfsup_status selfsup_learner_warm_start(selfsup_learner *l,
                                          const selfsup_encoder *e)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(e);
    if (l->step > 0)
        return SS_FAIL(SELFSUP_ERR_STATE,
                       "the learner has taken %lld steps: a warm start comes "
                       "before the first",
                       (long long)l->step);
    /* The target first: a mismatch then fails before anything changed. */
    if (l->target[NET_ENCODER])
        SS_TRY(selfsup_encoder_copy_state(l->target[NET_ENCODER], e));
    return selfsup_encoder_copy_state(l->online[NET_ENCODER], e);
}

selfsup_status selfsup_learner_diagnostic(const selfsup_learner *l,
                                          const char *name, double *value)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(name);
    SS_CHECK_NOT_NULL(value);
    if (l->step == 0)
        return SS_FAIL(SELFSUP_ERR_STATE,
                       "no step has been taken yet, so \"%s\" has no value",
                       name);
    const struct {
        const char *name;
        double value;
    } own[] = {{"loss", l->last_loss},
               {"lr", l->last_lr},
               {"tau", l->last_tau},
               {"collapse_std", l->last_collapse}};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (strcmp(name, own[i].name) == 0) {
            *value = own[i].value;
            return SELFSUP_OK;
        }
    return selfsup_objective_diagnostic(l->objective, name, value);
}
