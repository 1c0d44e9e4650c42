/* SGD, LARS and AdamW over a flat parameter buffer (see optimizer.h). */
#include "optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/spec.h"
#include "core/threads.h"

/* The buffer is cut into chunks of at most this many elements, each inside
 * one tensor: the unit of parallel work and of the norms' partial sums,
 * which are combined in chunk order so that they do not depend on the
 * thread count. */
enum { CHUNK = 16384 };

typedef enum opt_kind { OPT_SGD, OPT_LARS, OPT_ADAMW } opt_kind;

static const char *const KIND_NAMES[] = {"sgd", "lars", "adamw"};

/* What one parameter tensor gets: set from the spec, then by groups. */
typedef struct tensor_rule {
    int fixed_lr;
    double lr_value; /* a scale of step's lr, or the lr itself if fixed */
    double weight_decay;
    int excluded; /* a bias or norm under exclude_bias_and_norm */
} tensor_rule;

typedef struct chunk {
    int64_t begin, end; /* elements of the flat buffer */
    int tensor;
} chunk;

struct selfsup__optimizer {
    opt_kind kind;
    double momentum, eta, beta1, beta2, eps, weight_decay;
    int nesterov, exclude_bias_and_norm;
    int n;
    int64_t total;
    selfsup__param_info *table;
    tensor_rule *rules;
    int *first_chunk; /* n + 1 entries: tensor t has chunks [f[t], f[t+1]) */
    int nchunks;
    chunk *chunks;
    double *sums;  /* per chunk: sum g^2, sum p^2, sum d^2 (LARS) */
    double *trust; /* per tensor: this step's LARS trust ratio */
    int nstate;
    float *state[2];
    int64_t steps;
    double grad_norm;
};

/* ---- the update kernels, one chunk of one tensor each ----------------- */

/* p, buf, g: n floats. PyTorch's SGD with dampening 0. */
static void sgd_update(float *p, float *buf, const float *g, int64_t n,
                       float lr, float wd, float momentum, int nesterov)
{
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float b = momentum * buf[i] + d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + momentum * b : b);
    }
}

/* p, buf, g: n floats; trust is the tensor's eta |p| / |d| (or 1). */
static void lars_update(float *p, float *buf, const float *g, int64_t n,
                        float lr, float wd, float trust, float momentum)
{
    for (int64_t i = 0; i < n; i++) {
        float d = (g[i] + wd * p[i]) * trust;
        float b = momentum * buf[i] + d;
        buf[i] = b;
        p[i] -= lr * b;
    }
}

/* p, m, v, g: n floats. The scalars are PyTorch's, rounded to float as its
 * kernels round them: decay = 1 - lr wd, step = lr / (1 - b1^t),
 * bc2_sqrt = sqrt(1 - b2^t). */
static void adamw_update(float *p, float *m, float *v, const float *g,
                         int64_t n, float decay, float b1, float b1c, float b2,
                         float b2c, float step, float bc2_sqrt, float eps)
{
    for (int64_t i = 0; i < n; i++) {
        float mi = m[i] * b1 + b1c * g[i];
        float vi = v[i] * b2 + b2c * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = p[i] * decay + (-step * mi) / denom;
    }
}

/* ---- creation ---------------------------------------------------------- */

static selfsup_status parse_spec(selfsup__optimizer *o, const char *spec)
{
    static const char *const where = "selfsup__optimizer_create";
    selfsup__spec s;
    selfsup_status st = selfsup__spec_parse(&s, spec, where);
    if (st != SELFSUP_OK) {
        selfsup__spec_free(&s);
        return st;
    }
    int kind = -1;
    for (int k = 0; k < 3; k++)
        if (strcmp(s.name, KIND_NAMES[k]) == 0)
            kind = k;
    if (kind < 0) {
        st = selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                           "unknown optimizer \"%s\" (known: sgd, lars, "
                           "adamw)",
                           s.name);
        selfsup__spec_free(&s);
        return st;
    }
    o->kind = (opt_kind)kind;
    o->momentum = 0.9;
    o->eta = 0.001;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = o->kind == OPT_ADAMW ? 0.01 : 0.0;
    o->exclude_bias_and_norm = o->kind == OPT_LARS;
    if (o->kind != OPT_ADAMW)
        st = selfsup__spec_double(&s, "momentum", 0, 1, SS_SPEC_OPEN_HI,
                                  &o->momentum);
    if (st == SELFSUP_OK && o->kind == OPT_SGD)
        st = selfsup__spec_bool(&s, "nesterov", &o->nesterov);
    if (st == SELFSUP_OK && o->kind == OPT_LARS)
        st = selfsup__spec_double(&s, "eta", 0, 1, SS_SPEC_OPEN_LO, &o->eta);
    if (st == SELFSUP_OK && o->kind == OPT_ADAMW)
        st =
            selfsup__spec_double(&s, "beta1", 0, 1, SS_SPEC_OPEN_HI, &o->beta1);
    if (st == SELFSUP_OK && o->kind == OPT_ADAMW)
        st =
            selfsup__spec_double(&s, "beta2", 0, 1, SS_SPEC_OPEN_HI, &o->beta2);
    if (st == SELFSUP_OK && o->kind == OPT_ADAMW)
        st = selfsup__spec_double(&s, "eps", 0, 1, SS_SPEC_OPEN_LO, &o->eps);
    if (st == SELFSUP_OK)
        st = selfsup__spec_double(&s, "weight_decay", 0, 1, SS_SPEC_CLOSED,
                                  &o->weight_decay);
    if (st == SELFSUP_OK)
        st = selfsup__spec_bool(&s, "exclude_bias_and_norm",
                                &o->exclude_bias_and_norm);
    if (st == SELFSUP_OK)
        st = selfsup__spec_finish(&s);
    if (st == SELFSUP_OK && o->nesterov && o->momentum == 0)
        st = selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                           "sgd: nesterov = 1 needs momentum > 0");
    selfsup__spec_free(&s);
    return st;
}

selfsup_status selfsup__optimizer_spec_check(const char *spec)
{
    selfsup__optimizer o;
    memset(&o, 0, sizeof o);
    return parse_spec(&o, spec);
}

typedef struct span {
    int64_t offset, numel;
    int index;
} span;

static int by_offset(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static selfsup_status check_table(const selfsup__param_info *table, int n,
                                  int64_t total)
{
    if (!table)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "table is NULL");
    if (n < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "n = %d is not positive",
                       n);
    if (total < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "total = %lld is not positive", (long long)total);
    for (int i = 0; i < n; i++) {
        const selfsup__param_info *t = &table[i];
        if (!memchr(t->name, '\0', sizeof t->name))
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "table[%d].name is not NUL-terminated", i);
        if (t->ndim < 1 || t->ndim > SELFSUP__PARAM_MAX_DIMS)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "table[%d] (%s): ndim = %d is outside 1..%d", i,
                           t->name, t->ndim, SELFSUP__PARAM_MAX_DIMS);
        int64_t product = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->dims[d] < 1 || t->dims[d] > total / product)
                return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                               "table[%d] (%s): dims[%d] = %lld does not fit "
                               "a buffer of %lld",
                               i, t->name, d, (long long)t->dims[d],
                               (long long)total);
            product *= t->dims[d];
        }
        if (t->numel != product)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "table[%d] (%s): numel = %lld, but its dims hold "
                           "%lld",
                           i, t->name, (long long)t->numel, (long long)product);
        if (t->offset < 0 || t->offset > total - t->numel)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "table[%d] (%s): elements [%lld, %lld) lie outside "
                           "the buffer of %lld",
                           i, t->name, (long long)t->offset,
                           (long long)(t->offset + t->numel), (long long)total);
        if (t->kind != SELFSUP__PARAM_WEIGHT &&
            t->kind != SELFSUP__PARAM_BIAS && t->kind != SELFSUP__PARAM_NORM)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "table[%d] (%s): kind = %d is not a parameter "
                           "kind",
                           i, t->name, (int)t->kind);
    }
    span *spans = selfsup__malloc((size_t)n * sizeof *spans);
    if (!spans)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %d spans to check the table", n);
    for (int i = 0; i < n; i++)
        spans[i] = (span){table[i].offset, table[i].numel, i};
    qsort(spans, (size_t)n, sizeof *spans, by_offset);
    selfsup_status st = SELFSUP_OK;
    for (int i = 1; i < n && st == SELFSUP_OK; i++)
        if (spans[i].offset < spans[i - 1].offset + spans[i - 1].numel)
            st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                         "table[%d] (%s) overlaps table[%d] (%s)",
                         spans[i].index, table[spans[i].index].name,
                         spans[i - 1].index, table[spans[i - 1].index].name);
    selfsup__free(spans);
    return st;
}

static void reset_rules(selfsup__optimizer *o)
{
    for (int t = 0; t < o->n; t++) {
        int excluded = o->exclude_bias_and_norm &&
                       o->table[t].kind != SELFSUP__PARAM_WEIGHT;
        o->rules[t] =
            (tensor_rule){.fixed_lr = 0,
                          .lr_value = 1.0,
                          .weight_decay = excluded ? 0.0 : o->weight_decay,
                          .excluded = excluded};
    }
}

static selfsup_status build_chunks(selfsup__optimizer *o)
{
    int64_t count = 0;
    for (int t = 0; t < o->n; t++)
        count += (o->table[t].numel + CHUNK - 1) / CHUNK;
    if (count > 0x7FFFFFFF)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "the buffer needs %lld chunks, too many",
                       (long long)count);
    o->nchunks = (int)count;
    o->chunks = selfsup__malloc((size_t)count * sizeof *o->chunks);
    o->sums = selfsup__calloc((size_t)count * 3, sizeof *o->sums);
    o->first_chunk = selfsup__malloc((size_t)(o->n + 1) * sizeof(int));
    o->trust = selfsup__calloc((size_t)o->n, sizeof *o->trust);
    if (!o->chunks || !o->sums || !o->first_chunk || !o->trust)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the work plan of %lld chunks",
                       (long long)count);
    int c = 0;
    for (int t = 0; t < o->n; t++) {
        o->first_chunk[t] = c;
        const selfsup__param_info *info = &o->table[t];
        for (int64_t b = 0; b < info->numel; b += CHUNK) {
            int64_t e = b + CHUNK < info->numel ? b + CHUNK : info->numel;
            o->chunks[c++] = (chunk){info->offset + b, info->offset + e, t};
        }
    }
    o->first_chunk[o->n] = c;
    return SELFSUP_OK;
}

selfsup_status selfsup__optimizer_create(selfsup__optimizer **out,
                                         const char *spec,
                                         const selfsup__param_info *table,
                                         int n, int64_t total)
{
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(spec);
    SS_TRY(check_table(table, n, total));
    selfsup__optimizer *o = selfsup__calloc(1, sizeof *o);
    if (!o)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the optimizer");
    selfsup_status st = parse_spec(o, spec);
    if (st == SELFSUP_OK) {
        o->n = n;
        o->total = total;
        o->table = selfsup__malloc((size_t)n * sizeof *table);
        o->rules = selfsup__malloc((size_t)n * sizeof *o->rules);
        if (!o->table || !o->rules)
            st = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                         "cannot copy a table of %d tensors", n);
    }
    if (st == SELFSUP_OK) {
        memcpy(o->table, table, (size_t)n * sizeof *table);
        reset_rules(o);
        st = build_chunks(o);
    }
    if (st == SELFSUP_OK) {
        o->nstate = o->kind == OPT_ADAMW ? 2 : 1;
        for (int i = 0; i < o->nstate && st == SELFSUP_OK; i++) {
            o->state[i] = selfsup__calloc((size_t)total, sizeof(float));
            if (!o->state[i])
                st = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                             "cannot allocate %s state of %lld floats",
                             KIND_NAMES[o->kind], (long long)total);
        }
    }
    if (st != SELFSUP_OK) {
        selfsup__optimizer_destroy(o);
        return st;
    }
    *out = o;
    return SELFSUP_OK;
}

void selfsup__optimizer_destroy(selfsup__optimizer *opt)
{
    if (!opt)
        return;
    for (int i = 0; i < 2; i++)
        selfsup__free(opt->state[i]);
    selfsup__free(opt->trust);
    selfsup__free(opt->first_chunk);
    selfsup__free(opt->sums);
    selfsup__free(opt->chunks);
    selfsup__free(opt->rules);
    selfsup__free(opt->table);
    selfsup__free(opt);
}

/* ---- groups ------------------------------------------------------------ */

selfsup_status selfsup__optimizer_add_group(selfsup__optimizer *opt,
                                            const selfsup__param_group *group)
{
    SS_CHECK_NOT_NULL(opt);
    SS_CHECK_NOT_NULL(group);
    const selfsup__param_group *g = group;
    if (g->begin < 0 || g->end > opt->total || g->begin > g->end)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "group range [%lld, %lld) is not inside [0, %lld)",
                       (long long)g->begin, (long long)g->end,
                       (long long)opt->total);
    if (g->fixed_lr != 0 && g->fixed_lr != 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "group fixed_lr = %d is not 0 or 1", g->fixed_lr);
    if (!isfinite(g->lr_value) || g->lr_value < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "group lr_value = %g is not a finite number >= 0",
                       g->lr_value);
    if (!isnan(g->weight_decay) &&
        (!isfinite(g->weight_decay) || g->weight_decay < 0))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "group weight_decay = %g is not NAN or a finite "
                       "number >= 0",
                       g->weight_decay);
    const unsigned all_kinds = (1u << SELFSUP__PARAM_WEIGHT) |
                               (1u << SELFSUP__PARAM_BIAS) |
                               (1u << SELFSUP__PARAM_NORM);
    if (g->kinds & ~all_kinds)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "group kinds = 0x%x has bits of no parameter kind",
                       g->kinds);
    const char *prefix = g->prefix ? g->prefix : "";
    size_t prefix_length = strlen(prefix);
    unsigned kinds = g->kinds ? g->kinds : all_kinds;
    int selected = 0;
    for (int t = 0; t < opt->n; t++) {
        const selfsup__param_info *info = &opt->table[t];
        int64_t lo = info->offset, hi = info->offset + info->numel;
        int inside = lo >= g->begin && hi <= g->end;
        if (!inside && lo < g->end && hi > g->begin)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "group range [%lld, %lld) cuts tensor %s [%lld, "
                           "%lld)",
                           (long long)g->begin, (long long)g->end, info->name,
                           (long long)lo, (long long)hi);
        selected += inside && strncmp(info->name, prefix, prefix_length) == 0 &&
                    (kinds & (1u << info->kind));
    }
    if (selected == 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "group [%lld, %lld), prefix \"%s\", kinds 0x%x "
                       "selects no tensor",
                       (long long)g->begin, (long long)g->end, prefix,
                       g->kinds);
    for (int t = 0; t < opt->n; t++) {
        const selfsup__param_info *info = &opt->table[t];
        if (info->offset < g->begin || info->offset + info->numel > g->end ||
            strncmp(info->name, prefix, prefix_length) != 0 ||
            !(kinds & (1u << info->kind)))
            continue;
        tensor_rule *r = &opt->rules[t];
        r->fixed_lr = g->fixed_lr;
        r->lr_value = g->lr_value;
        if (!isnan(g->weight_decay) && !r->excluded)
            r->weight_decay = g->weight_decay;
    }
    return SELFSUP_OK;
}

/* ---- the step ---------------------------------------------------------- */

static double rule_lr(const tensor_rule *r, double lr)
{
    return r->fixed_lr ? r->lr_value : r->lr_value * lr;
}

/* Names the first non-finite gradient of chunk c. */
static selfsup_status non_finite_gradient(const selfsup__optimizer *o,
                                          const float *grads, int c)
{
    const chunk *ch = &o->chunks[c];
    const selfsup__param_info *info = &o->table[ch->tensor];
    int64_t i = ch->begin;
    while (i < ch->end - 1 && isfinite(grads[i]))
        i++;
    return selfsup__fail(SELFSUP_ERR_NUMERIC, "selfsup__optimizer_step",
                         "grads[%lld] = %g (element %lld of %s) is not "
                         "finite; nothing was updated",
                         (long long)i, (double)grads[i],
                         (long long)(i - info->offset), info->name);
}

/* Sums of squares per chunk: g always; p and d = g + wd p for LARS. */
static void chunk_sums(selfsup__optimizer *o, const float *params,
                       const float *grads)
{
    const int lars = o->kind == OPT_LARS;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < o->nchunks; c++) {
        const chunk *ch = &o->chunks[c];
        const float *g = grads + ch->begin, *p = params + ch->begin;
        int64_t n = ch->end - ch->begin;
        double gg = 0, pp = 0, dd = 0;
        if (lars) {
            float wd = (float)o->rules[ch->tensor].weight_decay;
            for (int64_t i = 0; i < n; i++) {
                float d = g[i] + wd * p[i];
                gg += (double)g[i] * g[i];
                pp += (double)p[i] * p[i];
                dd += (double)d * d;
            }
        } else {
            for (int64_t i = 0; i < n; i++)
                gg += (double)g[i] * g[i];
        }
        o->sums[3 * c] = gg;
        o->sums[3 * c + 1] = pp;
        o->sums[3 * c + 2] = dd;
    }
}

/* LARS trust ratios from the chunk sums, in chunk order. */
static selfsup_status lars_trust(selfsup__optimizer *o)
{
    for (int t = 0; t < o->n; t++) {
        double pp = 0, dd = 0;
        for (int c = o->first_chunk[t]; c < o->first_chunk[t + 1]; c++) {
            pp += o->sums[3 * c + 1];
            dd += o->sums[3 * c + 2];
        }
        if (!isfinite(pp) || !isfinite(dd))
            return selfsup__fail(SELFSUP_ERR_NUMERIC, "selfsup__optimizer_step",
                                 "the parameters of %s are not finite; "
                                 "nothing was updated",
                                 o->table[t].name);
        double p_norm = sqrt(pp), d_norm = sqrt(dd);
        o->trust[t] = !o->rules[t].excluded && p_norm > 0 && d_norm > 0
                          ? o->eta * p_norm / d_norm
                          : 1.0;
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__optimizer_step(selfsup__optimizer *opt, float *params,
                                       const float *grads, double lr)
{
    SS_CHECK_NOT_NULL(opt);
    SS_CHECK_NOT_NULL(params);
    SS_CHECK_NOT_NULL(grads);
    if (!isfinite(lr) || lr < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "lr = %g is not a finite number >= 0", lr);
    selfsup__threads_apply();
    selfsup__optimizer *o = opt;

    chunk_sums(o, params, grads);
    double gg = 0;
    for (int c = 0; c < o->nchunks; c++) {
        if (!isfinite(o->sums[3 * c]))
            return non_finite_gradient(o, grads, c);
        gg += o->sums[3 * c];
    }
    if (o->kind == OPT_LARS)
        SS_TRY(lars_trust(o));

    /* AdamW's bias corrections, in double as PyTorch computes them. */
    const double t = (double)(o->steps + 1);
    const double bc1 = 1.0 - pow(o->beta1, t);
    const double bc2_sqrt = sqrt(1.0 - pow(o->beta2, t));
    const float momentum = (float)o->momentum;

#pragma omp parallel for schedule(static)
    for (int c = 0; c < o->nchunks; c++) {
        const chunk *ch = &o->chunks[c];
        const tensor_rule *r = &o->rules[ch->tensor];
        const double tensor_lr = rule_lr(r, lr);
        float *p = params + ch->begin;
        const float *g = grads + ch->begin;
        float *s0 = o->state[0] + ch->begin;
        int64_t n = ch->end - ch->begin;
        switch (o->kind) {
        case OPT_SGD:
            sgd_update(p, s0, g, n, (float)tensor_lr, (float)r->weight_decay,
                       momentum, o->nesterov);
            break;
        case OPT_LARS:
            lars_update(p, s0, g, n, (float)tensor_lr, (float)r->weight_decay,
                        (float)o->trust[ch->tensor], momentum);
            break;
        case OPT_ADAMW:
            adamw_update(p, s0, o->state[1] + ch->begin, g, n,
                         (float)(1.0 - tensor_lr * r->weight_decay),
                         (float)o->beta1, (float)(1.0 - o->beta1),
                         (float)o->beta2, (float)(1.0 - o->beta2),
                         (float)(tensor_lr / bc1), (float)bc2_sqrt,
                         (float)o->eps);
            break;
        }
    }
    o->steps++;
    o->grad_norm = sqrt(gg);
    return SELFSUP_OK;
}

/* ---- accessors --------------------------------------------------------- */

const char *selfsup__optimizer_name(const selfsup__optimizer *opt)
{
    return opt ? KIND_NAMES[opt->kind] : "";
}

int64_t selfsup__optimizer_steps(const selfsup__optimizer *opt)
{
    return opt ? opt->steps : 0;
}

double selfsup__optimizer_grad_norm(const selfsup__optimizer *opt)
{
    return opt ? opt->grad_norm : 0.0;
}

double selfsup__optimizer_tensor_lr(const selfsup__optimizer *opt, int i,
                                    double lr)
{
    if (!opt || i < 0 || i >= opt->n)
        return 0.0;
    return rule_lr(&opt->rules[i], lr);
}

int selfsup__optimizer_state_count(const selfsup__optimizer *opt)
{
    return opt ? opt->nstate : 0;
}

static const char *state_name(opt_kind kind, int i)
{
    if (kind == OPT_ADAMW)
        return i == 0 ? "exp_avg" : "exp_avg_sq";
    return "momentum";
}

const char *selfsup__optimizer_state_name(const selfsup__optimizer *opt, int i)
{
    if (!opt || i < 0 || i >= opt->nstate)
        return NULL;
    return state_name(opt->kind, i);
}

float *selfsup__optimizer_state(selfsup__optimizer *opt, int i)
{
    if (!opt || i < 0 || i >= opt->nstate)
        return NULL;
    return opt->state[i];
}

/* ---- checkpoints ------------------------------------------------------- */

static selfsup_status section_name(char *buf, size_t size, const char *prefix,
                                   const char *key)
{
    int n = snprintf(buf, size, "%s%s", prefix, key);
    if (n < 0 || (size_t)n >= size)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "prefix \"%.40s...\" makes a section name longer "
                       "than %d bytes",
                       prefix, SELFSUP__CKPT_NAME_MAX);
    return SELFSUP_OK;
}

selfsup_status selfsup__optimizer_save(const selfsup__optimizer *opt,
                                       selfsup__ckpt_writer *w,
                                       const char *prefix)
{
    SS_CHECK_NOT_NULL(opt);
    SS_CHECK_NOT_NULL(w);
    if (!prefix)
        prefix = "";
    char name[SELFSUP__CKPT_NAME_MAX + 1];
    SS_TRY(section_name(name, sizeof name, prefix, "kind"));
    SS_TRY(selfsup__ckpt_put_string(w, name, KIND_NAMES[opt->kind]));

    int64_t *layout = selfsup__malloc((size_t)opt->n * 2 * sizeof *layout);
    if (!layout)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the layout of %d tensors", opt->n);
    for (int t = 0; t < opt->n; t++) {
        layout[2 * t] = opt->table[t].offset;
        layout[2 * t + 1] = opt->table[t].numel;
    }
    selfsup_status st = section_name(name, sizeof name, prefix, "layout");
    if (st == SELFSUP_OK)
        st = selfsup__ckpt_put_i64(w, name, layout, 2 * (int64_t)opt->n);
    selfsup__free(layout);
    SS_TRY(st);

    SS_TRY(section_name(name, sizeof name, prefix, "steps"));
    SS_TRY(selfsup__ckpt_put_i64(w, name, &opt->steps, 1));
    for (int i = 0; i < opt->nstate; i++) {
        SS_TRY(
            section_name(name, sizeof name, prefix, state_name(opt->kind, i)));
        SS_TRY(selfsup__ckpt_put_f32(w, name, opt->state[i], opt->total));
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__optimizer_load(selfsup__optimizer *opt,
                                       const selfsup__ckpt_reader *r,
                                       const char *prefix)
{
    SS_CHECK_NOT_NULL(opt);
    SS_CHECK_NOT_NULL(r);
    if (!prefix)
        prefix = "";
    char name[SELFSUP__CKPT_NAME_MAX + 1];

    /* Check everything first: a failed load leaves the optimizer as is. */
    const char *kind;
    SS_TRY(section_name(name, sizeof name, prefix, "kind"));
    SS_TRY(selfsup__ckpt_get_string(r, name, &kind));
    if (strcmp(kind, KIND_NAMES[opt->kind]) != 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "the checkpoint holds the state of %.40s, this "
                       "optimizer is %s",
                       kind, KIND_NAMES[opt->kind]);

    SS_TRY(section_name(name, sizeof name, prefix, "layout"));
    SS_TRY(
        selfsup__ckpt_expect(r, name, SELFSUP__CKPT_I64, 2 * (int64_t)opt->n));
    const int64_t *layout =
        selfsup__ckpt_section_data(r, selfsup__ckpt_find(r, name));
    for (int t = 0; t < opt->n; t++)
        if (layout[2 * t] != opt->table[t].offset ||
            layout[2 * t + 1] != opt->table[t].numel)
            return SS_FAIL(
                SELFSUP_ERR_SHAPE,
                "tensor %d (%s) holds elements [%lld, +%lld), the "
                "checkpoint's [%lld, +%lld)",
                t, opt->table[t].name, (long long)opt->table[t].offset,
                (long long)opt->table[t].numel, (long long)layout[2 * t],
                (long long)layout[2 * t + 1]);

    int64_t steps;
    SS_TRY(section_name(name, sizeof name, prefix, "steps"));
    SS_TRY(selfsup__ckpt_get_i64(r, name, &steps, 1));
    if (steps < 0)
        return SS_FAIL(SELFSUP_ERR_CORRUPT, "section %s = %lld is negative",
                       name, (long long)steps);
    for (int i = 0; i < opt->nstate; i++) {
        SS_TRY(
            section_name(name, sizeof name, prefix, state_name(opt->kind, i)));
        SS_TRY(selfsup__ckpt_expect(r, name, SELFSUP__CKPT_F32, opt->total));
    }

    for (int i = 0; i < opt->nstate; i++) {
        SS_TRY(
            section_name(name, sizeof name, prefix, state_name(opt->kind, i)));
        SS_TRY(selfsup__ckpt_get_f32(r, name, opt->state[i], opt->total));
    }
    opt->steps = steps;
    return SELFSUP_OK;
}
