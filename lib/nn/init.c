/* Initial parameter values, as PyTorch initialises the same modules. */
#include "init.h"

#include <math.h>
#include <string.h>

#include "core/rng.h"

/* FNV-1a: each parameter draws from the stream of its own name, so its
 * values do not depend on the other parameters of the network. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static void fill_uniform(float *x, int64_t n, double bound, uint64_t seed,
                         const char *name)
{
    selfsup__rng r;
    selfsup__rng_init(&r, seed, selfsup__rng_stream(name_hash(name), 0, 0, 0));
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((2.0 * selfsup__rng_uniform_double(&r) - 1.0) * bound);
}

static void fill_normal(float *x, int64_t n, double std, uint64_t seed,
                        const char *name)
{
    selfsup__rng r;
    selfsup__rng_init(&r, seed, selfsup__rng_stream(name_hash(name), 0, 0, 0));
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(std * selfsup__rng_normal(&r));
}

static void fill(float *x, int64_t n, float v)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = v;
}

void selfsup__init_params(const selfsup__graph *g, float *params,
                          float *buffers, uint64_t seed)
{
    for (int i = 0; i < g->n_ops; i++) {
        const selfsup__op *op = &g->ops[i];
        if (op->kind == SS_OP_CONV || op->kind == SS_OP_LINEAR) {
            const selfsup__param_info *w = &g->params[op->param_weight];
            int64_t fan_in = w->numel / w->dims[0];
            int64_t fan_out = w->numel / w->dims[1];
            if (op->init == SS_INIT_KAIMING_FAN_OUT) /* gain sqrt(2) */
                fill_normal(params + w->offset, w->numel,
                            sqrt(2.0 / (double)fan_out), seed, w->name);
            else /* kaiming_uniform(a=sqrt(5)): bound 1/sqrt(fan_in) */
                fill_uniform(params + w->offset, w->numel,
                             1.0 / sqrt((double)fan_in), seed, w->name);
            if (op->param_bias >= 0) {
                const selfsup__param_info *b = &g->params[op->param_bias];
                fill_uniform(params + b->offset, b->numel,
                             1.0 / sqrt((double)fan_in), seed, b->name);
            }
        } else if (op->kind == SS_OP_BN) {
            if (op->affine) {
                const selfsup__param_info *w = &g->params[op->param_weight];
                const selfsup__param_info *b = &g->params[op->param_bias];
                fill(params + w->offset, w->numel, 1.0f);
                fill(params + b->offset, b->numel, 0.0f);
            }
            const selfsup__param_info *m = &g->buffers[op->buffer_mean];
            const selfsup__param_info *v = &g->buffers[op->buffer_var];
            fill(buffers + m->offset, m->numel, 0.0f);
            fill(buffers + v->offset, v->numel, 1.0f);
        }
    }
}
