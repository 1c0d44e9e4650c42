/* Saving a learner whole, loading it back exactly, and the encoder-only
 * export. Section names are listed in docs/checkpoint-format.md. */
#include <stdio.h>
#include <string.h>

#include "io/checkpoint_file.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/spec.h"
#include "nn/encoder_internal.h"
#include "optimizer.h"
#include "selfsup/whitening.h"
#include "train_parts.h"

#define LEARNER_FORMAT "selfsup-learner-1"
#define ENCODER_FORMAT "selfsup-encoder-1"

/* zlib level: 6 compresses float weights ~10% at a fraction of 9's cost. */
enum { CKPT_LEVEL = 6 };

static selfsup_status put_whitening(selfsup__ckpt_writer *w, const char *role,
                                    const selfsup_whitening *white)
{
    if (!white)
        return SELFSUP_OK;
    int64_t d = selfsup_whitening_input_dim(white);
    int64_t k = selfsup_whitening_components(white);
    float *values = selfsup__malloc((size_t)((k + 1) * d) * sizeof *values);
    if (!values)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate a copy of the whitening");
    char name[128];
    selfsup_status s = selfsup_whitening_read(white, values, values + d);
    snprintf(name, sizeof name, "net/%s/whitening/components", role);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_put_i64(w, name, &k, 1);
    snprintf(name, sizeof name, "net/%s/whitening/mean", role);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_put_f32(w, name, values, d);
    snprintf(name, sizeof name, "net/%s/whitening/projection", role);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_put_f32(w, name, values + d, k * d);
    selfsup__free(values);
    return s;
}

static selfsup_status put_network(selfsup__ckpt_writer *w, const char *role,
                                  const selfsup_encoder *e)
{
    char name[128];
    const float *params, *buffers;
    int64_t param_count, buffer_count;
    selfsup__encoder_state(e, &params, &param_count, &buffers, &buffer_count);
    snprintf(name, sizeof name, "net/%s/spec", role);
    SS_TRY(selfsup__ckpt_put_string(w, name, selfsup_encoder_spec(e)));
    snprintf(name, sizeof name, "net/%s/params", role);
    SS_TRY(selfsup__ckpt_put_f32(w, name, params, param_count));
    snprintf(name, sizeof name, "net/%s/buffers", role);
    SS_TRY(selfsup__ckpt_put_f32(w, name, buffers, buffer_count));
    const float *mean, *std;
    selfsup__encoder_input_norm(e, &mean, &std);
    if (mean) {
        int64_t c = selfsup_encoder_input_channels(e);
        snprintf(name, sizeof name, "net/%s/input_mean", role);
        SS_TRY(selfsup__ckpt_put_f32(w, name, mean, c));
        snprintf(name, sizeof name, "net/%s/input_std", role);
        SS_TRY(selfsup__ckpt_put_f32(w, name, std, c));
    }
    return put_whitening(w, role, selfsup_encoder_whitening(e));
}

/* The optional input normalisation of a network (files written before it
 * existed, or by programs that did not record it, have none). */
static selfsup_status get_input_norm(const selfsup__ckpt_reader *r,
                                     const char *path, const char *role,
                                     selfsup_encoder *e)
{
    char mean_name[128], std_name[128];
    snprintf(mean_name, sizeof mean_name, "net/%s/input_mean", role);
    snprintf(std_name, sizeof std_name, "net/%s/input_std", role);
    if (selfsup__ckpt_find(r, mean_name) < 0 &&
        selfsup__ckpt_find(r, std_name) < 0)
        return SELFSUP_OK;
    int64_t c = selfsup_encoder_input_channels(e);
    float *both = selfsup__malloc((size_t)(2 * c) * sizeof *both);
    if (!both)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the input normalisation");
    selfsup_status s = selfsup__ckpt_get_f32(r, mean_name, both, c);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_get_f32(r, std_name, both + c, c);
    if (s == SELFSUP_OK) {
        s = selfsup_encoder_set_input_normalization(e, both, both + c);
        if (s != SELFSUP_OK) {
            /* the message is rewritten in place: copy it first */
            char why[256];
            snprintf(why, sizeof why, "%s", selfsup__last_detail());
            s = SS_FAIL(SELFSUP_ERR_CORRUPT, "%s: %s: %s", path, mean_name,
                        why);
        }
    }
    selfsup__free(both);
    return s;
}

/* The optional whitening of a network's features (files written before it
 * existed, and networks that were never whitened, have none). */
static selfsup_status get_whitening(const selfsup__ckpt_reader *r,
                                    const char *path, const char *role,
                                    selfsup_encoder *e)
{
    char k_name[128], mean_name[128], proj_name[128];
    snprintf(k_name, sizeof k_name, "net/%s/whitening/components", role);
    snprintf(mean_name, sizeof mean_name, "net/%s/whitening/mean", role);
    snprintf(proj_name, sizeof proj_name, "net/%s/whitening/projection", role);
    if (selfsup__ckpt_find(r, k_name) < 0 &&
        selfsup__ckpt_find(r, mean_name) < 0 &&
        selfsup__ckpt_find(r, proj_name) < 0)
        return selfsup_encoder_set_whitening(e, NULL);
    int64_t k, d = selfsup_encoder_output_dim(e);
    SS_TRY(selfsup__ckpt_get_i64(r, k_name, &k, 1));
    if (k < 1 || k > d)
        return SS_FAIL(SELFSUP_ERR_CORRUPT,
                       "%s: %s = %lld, outside [1, %lld] for the network's "
                       "%lld features",
                       path, k_name, (long long)k, (long long)d, (long long)d);
    float *values = selfsup__malloc((size_t)((k + 1) * d) * sizeof *values);
    if (!values)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the whitening");
    selfsup_status s = selfsup__ckpt_get_f32(r, mean_name, values, d);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_get_f32(r, proj_name, values + d, k * d);
    selfsup_whitening *white = NULL;
    if (s == SELFSUP_OK) {
        s = selfsup_whitening_create(&white, d, k, values, values + d);
        if (s == SELFSUP_ERR_NUMERIC) {
            char why[256];
            snprintf(why, sizeof why, "%s", selfsup__last_detail());
            s = SS_FAIL(SELFSUP_ERR_CORRUPT, "%s: the whitening: %s", path,
                        why);
        }
    }
    if (s == SELFSUP_OK)
        s = selfsup_encoder_set_whitening(e, white);
    selfsup_whitening_destroy(white);
    selfsup__free(values);
    return s;
}

static selfsup_status write_learner(const selfsup_learner *l,
                                    selfsup__ckpt_writer *w)
{
    SS_TRY(selfsup__ckpt_put_string(w, "learner/format", LEARNER_FORMAT));
    SS_TRY(selfsup__ckpt_put_string(w, "learner/method",
                                    selfsup__method_name(l->config.method)));
    for (int k = 0; k < SELFSUP__KEY_COUNT; k++) {
        char name[128];
        snprintf(name, sizeof name, "learner/config/%s",
                 selfsup_learner_config_key(&l->config, k));
        SS_TRY(selfsup__ckpt_put_string(w, name, l->config.text[k]));
    }
    SS_TRY(selfsup__ckpt_put_i64(w, "learner/step", &l->step, 1));
    for (int role = 0; role < SELFSUP__ROLE_COUNT; role++) {
        selfsup_encoder *e = selfsup__learner_role(l, role);
        if (!e)
            continue;
        SS_TRY(put_network(w, selfsup__role_names[role], e));
        if (role < NET_COUNT) {
            char prefix[128];
            snprintf(prefix, sizeof prefix, "optim/%s/",
                     selfsup__role_names[role]);
            SS_TRY(selfsup__optimizer_save(l->optimizer[role], w, prefix));
        }
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_learner_save(const selfsup_learner *l, const char *path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(path);
    selfsup__ckpt_writer *w;
    SS_TRY(selfsup__ckpt_writer_create(&w, path, CKPT_LEVEL, __func__));
    selfsup_status s = write_learner(l, w);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_writer_commit(w);
    selfsup__ckpt_writer_destroy(w);
    return s;
}

/* Restores one network's values from sections, after checking that the
 * file's network is the one the config builds. */
static selfsup_status get_network(const selfsup__ckpt_reader *r,
                                  const char *path, const char *role,
                                  selfsup_encoder *e, int any_precision)
{
    char name[128], f32[512];
    const char *spec;
    snprintf(name, sizeof name, "net/%s/spec", role);
    SS_TRY(selfsup__ckpt_get_string(r, name, &spec));
    /* the parameters are float32 in every precision */
    if (any_precision &&
        selfsup__spec_format_with(spec, "precision", "f32", 0, f32, sizeof f32,
                                  "selfsup_encoder_load") == SELFSUP_OK)
        spec = f32;
    if (strcmp(spec, selfsup_encoder_spec(e)) != 0)
        return SS_FAIL(SELFSUP_ERR_CORRUPT,
                       "%s: %s is \"%s\" but its config builds \"%s\"", path,
                       role, spec, selfsup_encoder_spec(e));
    float *values, *grads;
    int64_t count;
    const selfsup__param_info *table;
    int n;
    selfsup__encoder_params(e, &values, &grads, &count, &table, &n);
    snprintf(name, sizeof name, "net/%s/params", role);
    SS_TRY(selfsup__ckpt_get_f32(r, name, values, count));
    selfsup__encoder_buffers(e, &values, &count, &table, &n);
    snprintf(name, sizeof name, "net/%s/buffers", role);
    SS_TRY(selfsup__ckpt_get_f32(r, name, values, count));
    SS_TRY(get_input_norm(r, path, role, e));
    SS_TRY(get_whitening(r, path, role, e));
    selfsup__encoder_params_changed(e);
    return SELFSUP_OK;
}

static selfsup_status expect_format(const selfsup__ckpt_reader *r,
                                    const char *path, const char *section,
                                    const char *format)
{
    const char *text;
    if (selfsup__ckpt_find(r, section) < 0)
        return SS_FAIL(SELFSUP_ERR_CORRUPT,
                       "%s: a libselfsup checkpoint, but without section %s "
                       "(not a %s file)",
                       path, section, format);
    SS_TRY(selfsup__ckpt_get_string(r, section, &text));
    if (strcmp(text, format) != 0)
        return SS_FAIL(SELFSUP_ERR_VERSION,
                       "%s: content format \"%s\", this library reads \"%s\"",
                       path, text, format);
    return SELFSUP_OK;
}

static selfsup_status config_from_file(const selfsup__ckpt_reader *r,
                                       selfsup_learner_config **out)
{
    const char *method;
    SS_TRY(selfsup__ckpt_get_string(r, "learner/method", &method));
    selfsup_learner_config *c;
    SS_TRY(selfsup_learner_config_create(&c, method));
    for (int k = 0; k < SELFSUP__KEY_COUNT; k++) {
        char name[128];
        const char *value;
        const char *key = selfsup_learner_config_key(c, k);
        snprintf(name, sizeof name, "learner/config/%s", key);
        selfsup_status s = SELFSUP_OK;
        if ((k == SELFSUP__KEY_RECIPE || k == SELFSUP__KEY_DATASET_SIZE ||
             k == SELFSUP__KEY_SYNC_BATCH_NORM ||
             k == SELFSUP__KEY_PRECISION) &&
            selfsup__ckpt_find(r, name) < 0)
            /* Files from before these keys hold every resolved value: the
             * recipe they name is the one they ran; they ran on one rank,
             * in the precision their network specs name (f32 unless the
             * spec says otherwise, and a spec's own precision wins). */
            value = k == SELFSUP__KEY_RECIPE            ? "paper"
                    : k == SELFSUP__KEY_SYNC_BATCH_NORM ? "1"
                    : k == SELFSUP__KEY_PRECISION       ? "f32"
                                                        : "0";
        else
            s = selfsup__ckpt_get_string(r, name, &value);
        if (s == SELFSUP_OK)
            s = selfsup_learner_config_set(c, key, value);
        if (s != SELFSUP_OK) {
            selfsup_learner_config_destroy(c);
            return s;
        }
    }
    *out = c;
    return SELFSUP_OK;
}

static selfsup_status restore(selfsup_learner *l, const selfsup__ckpt_reader *r,
                              const char *path)
{
    SS_TRY(selfsup__ckpt_get_i64(r, "learner/step", &l->step, 1));
    if (l->step < 0)
        return SS_FAIL(SELFSUP_ERR_CORRUPT, "%s: learner/step = %lld", path,
                       (long long)l->step);
    for (int role = 0; role < SELFSUP__ROLE_COUNT; role++) {
        selfsup_encoder *e = selfsup__learner_role(l, role);
        if (!e)
            continue;
        SS_TRY(get_network(r, path, selfsup__role_names[role], e, 0));
        if (role < NET_COUNT) {
            char prefix[128];
            snprintf(prefix, sizeof prefix, "optim/%s/",
                     selfsup__role_names[role]);
            SS_TRY(selfsup__optimizer_load(l->optimizer[role], r, prefix));
        }
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_learner_load(selfsup_learner **out, const char *path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(path);
    selfsup__ckpt_reader *r;
    SS_TRY(selfsup__ckpt_reader_open(&r, path, __func__));
    selfsup_learner_config *c = NULL;
    selfsup_learner *l = NULL;
    selfsup_status s = expect_format(r, path, "learner/format", LEARNER_FORMAT);
    if (s == SELFSUP_OK)
        s = config_from_file(r, &c);
    if (s == SELFSUP_OK)
        s = selfsup_learner_create(&l, c);
    if (s == SELFSUP_OK)
        s = restore(l, r, path);
    selfsup_learner_config_destroy(c);
    selfsup__ckpt_reader_close(r);
    if (s != SELFSUP_OK) {
        selfsup_learner_destroy(l);
        return s;
    }
    *out = l;
    return SELFSUP_OK;
}

selfsup_status selfsup_learner_set_input_normalization(selfsup_learner *l,
                                                       const float *mean,
                                                       const float *std)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    selfsup_encoder *online = l->online[NET_ENCODER];
    selfsup_encoder *target = l->target[NET_ENCODER];
    /* The online encoder validates; the target, when there is one, can
     * then only fail to allocate, and the online one gets back the values
     * both had (the target still holds them). */
    SS_TRY(selfsup_encoder_set_input_normalization(online, mean, std));
    if (!target)
        return SELFSUP_OK;
    selfsup_status s =
        selfsup_encoder_set_input_normalization(target, mean, std);
    if (s != SELFSUP_OK) {
        const float *old_mean, *old_std;
        selfsup__encoder_input_norm(target, &old_mean, &old_std);
        (void)selfsup_encoder_set_input_normalization(online, old_mean,
                                                      old_std);
    }
    return s;
}

/* The encoder export; where names the public call in messages. */
static selfsup_status save_encoder(const selfsup_encoder *e, const char *path,
                                   const char *where)
{
    selfsup__ckpt_writer *w;
    SS_TRY(selfsup__ckpt_writer_create(&w, path, CKPT_LEVEL, where));
    selfsup_status s =
        selfsup__ckpt_put_string(w, "encoder/format", ENCODER_FORMAT);
    if (s == SELFSUP_OK)
        s = put_network(w, "online.encoder", e);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_writer_commit(w);
    selfsup__ckpt_writer_destroy(w);
    return s;
}

selfsup_status selfsup_encoder_save(const selfsup_encoder *e, const char *path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_CHECK_NOT_NULL(path);
    return save_encoder(e, path, __func__);
}

selfsup_status selfsup_learner_export_encoder(const selfsup_learner *l,
                                              const char *path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(path);
    /* An export runs wherever it is loaded: in float32, whatever precision
     * trained it (the weights are float32 masters either way). */
    const selfsup_encoder *online = l->online[NET_ENCODER];
    char spec[512];
    SS_TRY(selfsup__spec_format_with(selfsup_encoder_spec(online), "precision",
                                     "f32", 0, spec, sizeof spec, __func__));
    selfsup_encoder *e;
    SS_TRY(selfsup_encoder_clone_as(&e, online, spec));
    selfsup_status s = save_encoder(e, path, __func__);
    selfsup_encoder_destroy(e);
    return s;
}

selfsup_status selfsup_encoder_load(selfsup_encoder **out, const char *path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(path);
    selfsup__ckpt_reader *r;
    SS_TRY(selfsup__ckpt_reader_open(&r, path, __func__));
    selfsup_status s = SELFSUP_OK;
    /* An encoder export, or the online encoder of a full checkpoint: that
     * one in float32, as its export would be, whatever trained it. */
    int export = selfsup__ckpt_find(r, "encoder/format") >= 0;
    if (export)
        s = expect_format(r, path, "encoder/format", ENCODER_FORMAT);
    else
        s = expect_format(r, path, "learner/format", LEARNER_FORMAT);
    const char *spec = NULL;
    char f32[512];
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_get_string(r, "net/online.encoder/spec", &spec);
    if (s == SELFSUP_OK && !export) {
        s = selfsup__spec_format_with(spec, "precision", "f32", 0, f32,
                                      sizeof f32, __func__);
        spec = f32;
    }
    selfsup_encoder *e = NULL;
    if (s == SELFSUP_OK)
        s = selfsup_encoder_create(&e, spec, 0);
    if (s == SELFSUP_OK)
        s = get_network(r, path, "online.encoder", e, !export);
    if (s == SELFSUP_OK)
        s = selfsup_encoder_set_training(e, 0);
    selfsup__ckpt_reader_close(r);
    if (s != SELFSUP_OK) {
        selfsup_encoder_destroy(e);
        return s;
    }
    *out = e;
    return SELFSUP_OK;
}
