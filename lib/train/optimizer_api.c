/* The public face of the optimizer, the schedules and BYOL's moving
 * average: the learner's own parts (optimizer.h, schedule.h, ema.h) over
 * networks the host holds. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ema.h"
#include "io/checkpoint_file.h"
#include "nn/encoder_internal.h"
#include "optimizer.h"
#include "schedule.h"
#include "selfsup/optimizer.h"

struct selfsup_optimizer {
    selfsup__optimizer *impl;
    int n;                      /* tensors of the network it was made for */
    selfsup__param_info *table; /* a copy of their table */
    int64_t total;              /* floats of its parameter buffer */
};

/* The file format of selfsup_optimizer_save, and its sections' prefix. */
static const char FORMAT_KEY[] = "optimizer/format";
static const char FORMAT[] = "selfsup-optimizer-1";
static const char PREFIX[] = "optim/";

selfsup_status selfsup_optimizer_create(selfsup_optimizer **out,
                                        const char *spec,
                                        const selfsup_encoder *network)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(spec);
    SS_CHECK_NOT_NULL(network);
    int64_t count;
    const selfsup__param_info *table;
    int n;
    selfsup__encoder_table(network, &table, &n, &count);
    selfsup_optimizer *o = selfsup__calloc(1, sizeof *o);
    if (!o)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the optimizer");
    o->table = selfsup__malloc((size_t)(n > 0 ? n : 1) * sizeof *o->table);
    if (!o->table) {
        selfsup__free(o);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the optimizer's table of %d tensors",
                       n);
    }
    memcpy(o->table, table, (size_t)n * sizeof *table);
    o->n = n;
    o->total = count;
    selfsup_status s =
        selfsup__optimizer_create(&o->impl, spec, table, n, count);
    if (s != SELFSUP_OK) {
        selfsup_optimizer_destroy(o);
        return s;
    }
    *out = o;
    return SELFSUP_OK;
}

void selfsup_optimizer_destroy(selfsup_optimizer *o)
{
    if (!o)
        return;
    selfsup__optimizer_destroy(o->impl);
    selfsup__free(o->table);
    selfsup__free(o);
}

/* "all", or kinds joined by '+', as a mask of 1u << selfsup__param_kind. */
static selfsup_status parse_kinds(const char *text, unsigned *mask)
{
    static const char *const NAMES[3] = {"weight", "bias", "norm"};
    if (strcmp(text, "all") == 0) {
        *mask = 0;
        return SELFSUP_OK;
    }
    unsigned m = 0;
    for (const char *p = text;;) {
        size_t len = strcspn(p, "+");
        int found = -1;
        for (int k = 0; k < 3; k++)
            if (len == strlen(NAMES[k]) && strncmp(p, NAMES[k], len) == 0)
                found = k;
        if (found < 0)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "kinds = \"%s\": \"%.*s\" is not weight, bias or "
                           "norm (or use \"all\")",
                           text, (int)len, p);
        m |= 1u << found;
        if (!p[len])
            break;
        p += len + 1;
    }
    *mask = m;
    return SELFSUP_OK;
}

selfsup_status selfsup_optimizer_add_group(selfsup_optimizer *o,
                                           const char *prefix,
                                           const char *kinds, int fixed,
                                           double lr)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(o);
    SS_CHECK_NOT_NULL(prefix);
    SS_CHECK_NOT_NULL(kinds);
    if (fixed != 0 && fixed != 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "fixed = %d is not 0 or 1",
                       fixed);
    unsigned mask = 0;
    SS_TRY(parse_kinds(kinds, &mask));
    selfsup__param_group g = {0, o->total, prefix, mask, fixed, lr, NAN};
    return selfsup__optimizer_add_group(o->impl, &g);
}

/* The network's parameters must be the ones the optimizer was made for. */
static selfsup_status check_network(const selfsup_optimizer *o,
                                    const selfsup__param_info *table, int n,
                                    int64_t count)
{
    if (n != o->n || count != o->total)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "the network has %d parameter tensors (%lld values), "
                       "the optimizer was made for %d (%lld)",
                       n, (long long)count, o->n, (long long)o->total);
    for (int t = 0; t < n; t++)
        if (strcmp(table[t].name, o->table[t].name) != 0 ||
            table[t].offset != o->table[t].offset ||
            table[t].numel != o->table[t].numel)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "the network's tensor %d is %s, the optimizer's "
                           "%s (or their sizes differ)",
                           t, table[t].name, o->table[t].name);
    return SELFSUP_OK;
}

selfsup_status selfsup_optimizer_step(selfsup_optimizer *o,
                                      selfsup_encoder *network, double lr)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(o);
    SS_CHECK_NOT_NULL(network);
    if (!isfinite(lr) || lr < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "lr = %g is not a finite number >= 0", lr);
    float *values, *grads;
    int64_t count;
    const selfsup__param_info *table;
    int n;
    selfsup__encoder_params(network, &values, &grads, &count, &table, &n);
    SS_TRY(check_network(o, table, n, count));
    SS_TRY(selfsup__optimizer_step(o->impl, values, grads, lr));
    selfsup__encoder_params_changed(network);
    return SELFSUP_OK;
}

int64_t selfsup_optimizer_steps(const selfsup_optimizer *o)
{
    return o ? selfsup__optimizer_steps(o->impl) : 0;
}

selfsup_status selfsup_optimizer_save(const selfsup_optimizer *o,
                                      const char *path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(o);
    SS_CHECK_NOT_NULL(path);
    selfsup__ckpt_writer *w;
    SS_TRY(selfsup__ckpt_writer_create(&w, path, -1, __func__));
    selfsup_status s = selfsup__ckpt_put_string(w, FORMAT_KEY, FORMAT);
    if (s == SELFSUP_OK)
        s = selfsup__optimizer_save(o->impl, w, PREFIX);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_writer_commit(w);
    selfsup__ckpt_writer_destroy(w);
    return s;
}

selfsup_status selfsup_optimizer_load(selfsup_optimizer *o, const char *path)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(o);
    SS_CHECK_NOT_NULL(path);
    selfsup__ckpt_reader *r;
    SS_TRY(selfsup__ckpt_reader_open(&r, path, __func__));
    const char *format = NULL;
    selfsup_status s = selfsup__ckpt_get_string(r, FORMAT_KEY, &format);
    if (s == SELFSUP_OK && strcmp(format, FORMAT) != 0)
        s = SS_FAIL(SELFSUP_ERR_VERSION, "%s holds \"%.40s\", not \"%s\"", path,
                    format, FORMAT);
    if (s == SELFSUP_OK)
        s = selfsup__optimizer_load(o->impl, r, PREFIX);
    selfsup__ckpt_reader_close(r);
    return s;
}

double selfsup_cosine_lr(double peak, double final, int64_t warmup,
                         int64_t total, int64_t step)
{
    selfsup__cosine_schedule s;
    if (!isfinite(peak) || peak < 0 || !isfinite(final) || final < 0 ||
        total < 1 || warmup < 0 || warmup > total)
        return NAN;
    s = (selfsup__cosine_schedule){peak, final, warmup, total};
    return selfsup__cosine_schedule_at(&s, step);
}

double selfsup_byol_tau(double base, int64_t step, int64_t total)
{
    return selfsup__byol_tau(base, step, total);
}

selfsup_status selfsup_encoder_ema_update(selfsup_encoder *target,
                                          const selfsup_encoder *online,
                                          double tau)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(target);
    SS_CHECK_NOT_NULL(online);
    float *tv, *tg;
    const float *ov, *obuffers;
    int64_t tcount, ocount, obuffer_count;
    const selfsup__param_info *ttable, *otable;
    int tn, on;
    selfsup__encoder_params(target, &tv, &tg, &tcount, &ttable, &tn);
    selfsup__encoder_table(online, &otable, &on, &ocount);
    selfsup__encoder_state(online, &ov, &ocount, &obuffers, &obuffer_count);
    int same = tn == on && tcount == ocount;
    for (int t = 0; same && t < tn; t++)
        same = strcmp(ttable[t].name, otable[t].name) == 0 &&
               ttable[t].offset == otable[t].offset &&
               ttable[t].numel == otable[t].numel;
    if (!same)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "the target (%s) and the online network (%s) do not "
                       "have the same parameters",
                       selfsup_encoder_spec(target),
                       selfsup_encoder_spec(online));
    if (target == online)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "target and online are the same network");
    SS_TRY(selfsup__ema_update(tv, ov, tcount, tau));
    selfsup__encoder_params_changed(target);
    return SELFSUP_OK;
}
