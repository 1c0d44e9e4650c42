/* The public encoder: a graph, its flat buffers, and plans per input
 * shape. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "core/alloc.h"
#include "core/comm.h"
#include "core/dnnl_ctx.h"
#include "core/error.h"
#include "core/spec.h"
#include "core/tensor_impl.h"
#include "core/threads.h"
#include "encoder_internal.h"
#include "selfsup/whitening.h"
#include "graph.h"
#include "init.h"
#include "plan.h"

/* Plans kept at once (input shapes x modes); the least recently used one
 * without a pending backward goes first. */
enum { MAX_PLANS = 6 };

struct selfsup_encoder {
    selfsup__graph g;
    char *spec;
    dnnl_data_type_t dt;
    float *params, *grads, *buffers;
    uint64_t version; /* bumped by every write of parameter values */
    int training;
    int forward_only; /* training forwards keep nothing for a backward */
    selfsup__plan *plans;
    int n_plans;
    uint64_t clock;
    selfsup__plan *pending[SELFSUP_ENCODER_MAX_VIEWS];
    float *input_mean, *input_std; /* NULL: not recorded; C values each */
    selfsup_whitening *whitening;  /* NULL: not recorded */
    selfsup_comm *comm; /* training normalises over its ranks (NULL: none) */
};

static selfsup__plan_ctx ctx_of(const selfsup_encoder *e)
{
    return (selfsup__plan_ctx){&e->g,      e->params, e->grads,
                               e->buffers, e->dt,     e->comm};
}

void selfsup_encoder_destroy(selfsup_encoder *e)
{
    if (!e)
        return;
    while (e->plans) {
        selfsup__plan *next = e->plans->next;
        selfsup__plan_destroy(e->plans);
        e->plans = next;
    }
    selfsup__graph_free(&e->g);
    selfsup__free(e->spec);
    selfsup__free(e->params);
    selfsup__free(e->grads);
    selfsup__free(e->buffers);
    selfsup__free(e->input_mean);
    selfsup_whitening_destroy(e->whitening);
    selfsup__free(e);
}

/* Takes g over; allocates the flat buffers (zeroed). */
static selfsup_status encoder_alloc(selfsup_encoder **out, selfsup__graph *g,
                                    const char *spec, dnnl_data_type_t dt)
{
    selfsup_encoder *e = selfsup__calloc(1, sizeof *e);
    if (!e) {
        selfsup__graph_free(g);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the encoder");
    }
    e->g = *g;
    memset(g, 0, sizeof *g);
    e->dt = dt;
    e->training = 1;
    e->spec = selfsup__strdup(spec);
    size_t np = (size_t)(e->g.param_floats ? e->g.param_floats : 1);
    size_t nb = (size_t)(e->g.buffer_floats ? e->g.buffer_floats : 1);
    e->params = selfsup__calloc(np, sizeof(float));
    e->grads = selfsup__calloc(np, sizeof(float));
    e->buffers = selfsup__calloc(nb, sizeof(float));
    if (!e->spec || !e->params || !e->grads || !e->buffers) {
        selfsup_encoder_destroy(e);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %zu parameters", np);
    }
    *out = e;
    return SELFSUP_OK;
}

static const char *const PRECISIONS[] = {"f32", "bf16"};

static selfsup_status parse_spec(selfsup__spec *s, selfsup__graph *g,
                                 char *canon, size_t cap, int *bf16)
{
    int precision = 0;
    if (strcmp(s->name, "resnet18") == 0) {
        long width = 16, in_channels = 1, stem_stride = 1, grid = 1;
        SS_TRY(selfsup__spec_int(s, "width", 1, 4096, &width));
        SS_TRY(selfsup__spec_int(s, "in_channels", 1, 4096, &in_channels));
        SS_TRY(selfsup__spec_int(s, "stem_stride", 1, 2, &stem_stride));
        SS_TRY(selfsup__spec_int(s, "grid", 1, 8, &grid));
        SS_TRY(selfsup__spec_choice(s, "precision", PRECISIONS, 2, &precision));
        SS_TRY(selfsup__spec_finish(s));
        /* stem_stride and grid are spelled out only when they are not 1,
         * so the specs that checkpoints recorded before the keys existed
         * stay canonical */
        char extra[64] = "";
        int n = 0;
        if (stem_stride != 1)
            n += snprintf(extra + n, sizeof extra - (size_t)n,
                          ",stem_stride=%ld", stem_stride);
        if (grid != 1)
            snprintf(extra + n, sizeof extra - (size_t)n, ",grid=%ld", grid);
        snprintf(canon, cap,
                 "resnet18:width=%ld,in_channels=%ld%s,precision=%s", width,
                 in_channels, extra, PRECISIONS[precision]);
        *bf16 = precision;
        return selfsup__resnet18_graph(g, width, in_channels, (int)stem_stride,
                                       (int)grid);
    }
    if (strcmp(s->name, "mlp") == 0) {
        long in = 512, hidden = 4096, out = 256, layers = 2;
        int last_bn = 0, bias = 1;
        SS_TRY(selfsup__spec_int(s, "in", 1, 1L << 20, &in));
        SS_TRY(selfsup__spec_int(s, "hidden", 1, 1L << 20, &hidden));
        SS_TRY(selfsup__spec_int(s, "out", 1, 1L << 20, &out));
        SS_TRY(selfsup__spec_int(s, "layers", 1, 64, &layers));
        SS_TRY(selfsup__spec_bool(s, "last_bn", &last_bn));
        SS_TRY(selfsup__spec_bool(s, "bias", &bias));
        SS_TRY(selfsup__spec_choice(s, "precision", PRECISIONS, 2, &precision));
        SS_TRY(selfsup__spec_finish(s));
        snprintf(canon, cap,
                 "mlp:in=%ld,hidden=%ld,out=%ld,layers=%ld,last_bn=%d,bias=%d,"
                 "precision=%s",
                 in, hidden, out, layers, last_bn, bias, PRECISIONS[precision]);
        *bf16 = precision;
        return selfsup__mlp_graph(g, in, hidden, out, (int)layers, last_bn,
                                  bias);
    }
    return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                         "unknown encoder \"%s\" (known: resnet18, mlp)",
                         s->name);
}

/* The graph, canonical spec and precision of spec; on failure g is freed. */
static selfsup_status graph_of(const char *spec, const char *where,
                               selfsup__graph *g, char *canon, size_t cap,
                               int *bf16)
{
    selfsup__spec s;
    memset(g, 0, sizeof *g);
    *bf16 = 0;
    selfsup_status st = selfsup__spec_parse(&s, spec, where);
    if (st == SELFSUP_OK)
        st = parse_spec(&s, g, canon, cap, bf16);
    selfsup__spec_free(&s);
    if (st != SELFSUP_OK)
        selfsup__graph_free(g);
    return st;
}

/* selfsup_encoder_create for the public call `where`. */
static selfsup_status create_for(selfsup_encoder **out, const char *spec,
                                 uint64_t seed, const char *where)
{
    selfsup__graph g;
    char canon[256];
    int bf16;
    SS_TRY(graph_of(spec, where, &g, canon, sizeof canon, &bf16));
    selfsup_encoder *e;
    SS_TRY(encoder_alloc(&e, &g, canon, bf16 ? dnnl_bf16 : dnnl_f32));
    selfsup__init_params(&e->g, e->params, e->buffers, seed);
    *out = e;
    return SELFSUP_OK;
}

selfsup_status selfsup__encoder_spec_check(const char *spec, const char *where)
{
    selfsup__graph g;
    char canon[256];
    int bf16;
    SS_TRY(graph_of(spec, where, &g, canon, sizeof canon, &bf16));
    selfsup__graph_free(&g);
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_create(selfsup_encoder **out, const char *spec,
                                      uint64_t seed)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    return create_for(out, spec, seed, __func__);
}

selfsup_status selfsup__encoder_from_graph(selfsup_encoder **out,
                                           struct selfsup__graph *g,
                                           uint64_t seed, int bf16)
{
    selfsup_encoder *e;
    SS_TRY(encoder_alloc(&e, g, bf16 ? "graph:precision=bf16" : "graph",
                         bf16 ? dnnl_bf16 : dnnl_f32));
    selfsup__init_params(&e->g, e->params, e->buffers, seed);
    *out = e;
    return SELFSUP_OK;
}

const struct selfsup__graph *selfsup__encoder_graph(const selfsup_encoder *e)
{
    return &e->g;
}

selfsup_status selfsup_encoder_clone(selfsup_encoder **out,
                                     const selfsup_encoder *e)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(e);
    selfsup__graph g;
    SS_TRY(selfsup__graph_copy(&g, &e->g));
    selfsup_encoder *c;
    SS_TRY(encoder_alloc(&c, &g, e->spec, e->dt));
    memcpy(c->params, e->params, (size_t)e->g.param_floats * sizeof(float));
    memcpy(c->buffers, e->buffers, (size_t)e->g.buffer_floats * sizeof(float));
    c->training = e->training;
    selfsup_status st = SELFSUP_OK;
    if (e->input_mean)
        st = selfsup_encoder_set_input_normalization(c, e->input_mean,
                                                     e->input_std);
    if (st == SELFSUP_OK && e->whitening)
        st = selfsup_whitening_clone(&c->whitening, e->whitening);
    if (st != SELFSUP_OK) {
        selfsup_encoder_destroy(c);
        return st;
    }
    *out = c;
    return SELFSUP_OK;
}

/* The first parameter or buffer whose name or shape differs, or -1. */
static int table_mismatch(const selfsup__param_info *a, int na,
                          const selfsup__param_info *b, int nb)
{
    for (int i = 0; i < na || i < nb; i++) {
        if (i >= na || i >= nb || strcmp(a[i].name, b[i].name) != 0 ||
            a[i].ndim != b[i].ndim ||
            memcmp(a[i].dims, b[i].dims,
                   (size_t)a[i].ndim * sizeof a[i].dims[0]))
            return i;
    }
    return -1;
}

/* Fails unless b has exactly a's parameters and buffers (names, shapes and
 * order), naming the first that differs. */
static selfsup_status check_same_tables(const selfsup_encoder *a,
                                        const selfsup_encoder *b,
                                        const char *where)
{
    const selfsup__graph *ga = &a->g, *gb = &b->g;
    int p = table_mismatch(gb->params, gb->n_params, ga->params, ga->n_params);
    int q =
        table_mismatch(gb->buffers, gb->n_buffers, ga->buffers, ga->n_buffers);
    if (p < 0 && q < 0)
        return SELFSUP_OK;
    const selfsup__param_info *t = p >= 0 ? gb->params : gb->buffers;
    int n = p >= 0 ? gb->n_params : gb->n_buffers, i = p >= 0 ? p : q;
    return selfsup__fail(
        SELFSUP_ERR_INVALID_ARGUMENT, where,
        "\"%s\" does not have the parameters of \"%s\" (they differ at "
        "%s): only the pooling, the stem stride or the precision may differ",
        a->spec, b->spec, i < n ? t[i].name : "the end of the list");
}

selfsup_status selfsup_encoder_clone_as(selfsup_encoder **out,
                                        const selfsup_encoder *e,
                                        const char *spec)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(e);
    SS_CHECK_NOT_NULL(spec);
    selfsup_encoder *c;
    SS_TRY(create_for(&c, spec, 0, __func__));
    selfsup_status st = check_same_tables(c, e, __func__);
    if (st != SELFSUP_OK) {
        selfsup_encoder_destroy(c);
        return st;
    }
    const selfsup__graph *a = &e->g;
    memcpy(c->params, e->params, (size_t)a->param_floats * sizeof(float));
    memcpy(c->buffers, e->buffers, (size_t)a->buffer_floats * sizeof(float));
    c->training = e->training;
    if (e->input_mean) {
        st = selfsup_encoder_set_input_normalization(c, e->input_mean,
                                                     e->input_std);
        if (st != SELFSUP_OK) {
            selfsup_encoder_destroy(c);
            return st;
        }
    }
    *out = c;
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_copy_state(selfsup_encoder *dst,
                                          const selfsup_encoder *src)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(dst);
    SS_CHECK_NOT_NULL(src);
    SS_TRY(check_same_tables(dst, src, __func__));
    if (dst == src)
        return SELFSUP_OK;
    memcpy(dst->params, src->params,
           (size_t)src->g.param_floats * sizeof(float));
    memcpy(dst->buffers, src->buffers,
           (size_t)src->g.buffer_floats * sizeof(float));
    dst->version++;
    return SELFSUP_OK;
}

int64_t selfsup_encoder_input_channels(const selfsup_encoder *e)
{
    return e ? e->g.tensors[e->g.input].channels : 0;
}

int64_t selfsup_encoder_output_dim(const selfsup_encoder *e)
{
    return e ? selfsup__graph_output_features(&e->g) : 0;
}

selfsup_status selfsup_encoder_set_training(selfsup_encoder *e, int training)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    e->training = training != 0;
    return SELFSUP_OK;
}

int selfsup_encoder_is_training(const selfsup_encoder *e)
{
    return e ? e->training : 0;
}

selfsup_status selfsup_encoder_set_input_normalization(selfsup_encoder *e,
                                                       const float *mean,
                                                       const float *std)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    if (!mean != !std)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "mean and std are both given or both NULL");
    int64_t c = selfsup_encoder_input_channels(e);
    for (int64_t k = 0; mean && k < c; k++)
        if (!isfinite(mean[k]) || !isfinite(std[k]) || !(std[k] > 0))
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "channel %lld: mean %g and std %g must be finite "
                           "and std > 0",
                           (long long)k, (double)mean[k], (double)std[k]);
    float *both = NULL;
    if (mean) {
        both = selfsup__malloc((size_t)(2 * c) * sizeof *both);
        if (!both)
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot allocate the input normalisation");
        memcpy(both, mean, (size_t)c * sizeof *both);
        memcpy(both + c, std, (size_t)c * sizeof *both);
    }
    selfsup__free(e->input_mean);
    e->input_mean = both;
    e->input_std = both ? both + c : NULL;
    return SELFSUP_OK;
}

void selfsup__encoder_input_norm(const selfsup_encoder *e, const float **mean,
                                 const float **std)
{
    *mean = e->input_mean;
    *std = e->input_std;
}

selfsup_status selfsup_encoder_input_normalization(const selfsup_encoder *e,
                                                   float *mean, float *std)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_CHECK_NOT_NULL(mean);
    SS_CHECK_NOT_NULL(std);
    if (!e->input_mean)
        return SS_FAIL(SELFSUP_ERR_STATE,
                       "the encoder has no recorded input normalisation");
    size_t n = (size_t)selfsup_encoder_input_channels(e) * sizeof *mean;
    memcpy(mean, e->input_mean, n);
    memcpy(std, e->input_std, n);
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_set_whitening(selfsup_encoder *e,
                                             const selfsup_whitening *w)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    selfsup_whitening *copy = NULL;
    if (w) {
        if (selfsup_whitening_input_dim(w) != selfsup_encoder_output_dim(e))
            return SS_FAIL(SELFSUP_ERR_SHAPE,
                           "the whitening takes %lld features, the encoder "
                           "gives %lld",
                           (long long)selfsup_whitening_input_dim(w),
                           (long long)selfsup_encoder_output_dim(e));
        SS_TRY(selfsup_whitening_clone(&copy, w));
    }
    selfsup_whitening_destroy(e->whitening);
    e->whitening = copy;
    return SELFSUP_OK;
}

const selfsup_whitening *selfsup_encoder_whitening(const selfsup_encoder *e)
{
    return e ? e->whitening : NULL;
}

int64_t selfsup_encoder_embedding_dim(const selfsup_encoder *e)
{
    if (!e)
        return 0;
    return e->whitening ? selfsup_whitening_components(e->whitening)
                        : selfsup_encoder_output_dim(e);
}

const char *selfsup_encoder_spec(const selfsup_encoder *e)
{
    return e ? e->spec : NULL;
}

/* ---- forward / backward ---- */

static int plan_pending(const selfsup_encoder *e, const selfsup__plan *p)
{
    for (int v = 0; v < SELFSUP_ENCODER_MAX_VIEWS; v++)
        if (e->pending[v] == p)
            return 1;
    return 0;
}

static void evict_plans(selfsup_encoder *e, const selfsup__plan *keep)
{
    while (e->n_plans > MAX_PLANS) {
        selfsup__plan **victim = NULL;
        for (selfsup__plan **pp = &e->plans; *pp; pp = &(*pp)->next)
            if (*pp != keep && !plan_pending(e, *pp) &&
                (!victim || (*pp)->last_use < (*victim)->last_use))
                victim = pp;
        if (!victim)
            return;
        selfsup__plan *p = *victim;
        *victim = p->next;
        selfsup__plan_destroy(p);
        e->n_plans--;
    }
}

/* The plan cache is internal state: inference through a const encoder
 * (selfsup_encoder_infer) builds and evicts plans too, under the rule that
 * one thread uses an encoder at a time. */
static selfsup_status get_plan(selfsup_encoder *e, const int64_t *dims,
                               int mode, selfsup__plan **out)
{
    int training = mode != SELFSUP__PLAN_INFERENCE;
    int backward = mode == SELFSUP__PLAN_TRAINING;
    int rank = e->g.tensors[e->g.input].rank;
    int threads = selfsup__num_threads();
    for (selfsup__plan **pp = &e->plans; *pp;) {
        /* primitives made for another thread count are rebuilt */
        selfsup__plan *p = *pp;
        if (p->threads != threads && !plan_pending(e, p)) {
            *pp = p->next;
            selfsup__plan_destroy(p);
            e->n_plans--;
        } else {
            pp = &p->next;
        }
    }
    for (selfsup__plan *p = e->plans; p; p = p->next) {
        if (p->training == training && p->backward == backward &&
            p->threads == threads &&
            p->comm ==
                (training && selfsup__comm_active(e->comm) ? e->comm : NULL) &&
            memcmp(p->in_dims, dims, (size_t)rank * sizeof *dims) == 0) {
            p->last_use = ++e->clock;
            *out = p;
            return SELFSUP_OK;
        }
    }
    selfsup__plan_ctx ctx = ctx_of(e);
    selfsup__plan *p;
    SS_TRY(selfsup__plan_create(&p, &ctx, dims, mode));
    p->last_use = ++e->clock;
    p->next = e->plans;
    e->plans = p;
    e->n_plans++;
    evict_plans(e, p);
    *out = p;
    return SELFSUP_OK;
}

static selfsup_status check_view(const char *where, int view)
{
    if (view < 0 || view >= SELFSUP_ENCODER_MAX_VIEWS)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "view = %d is outside 0..%d", view,
                             SELFSUP_ENCODER_MAX_VIEWS - 1);
    return SELFSUP_OK;
}

static selfsup_status check_input(const selfsup_encoder *e, const char *where,
                                  const char *name, const selfsup_tensor *x)
{
    int rank = e->g.tensors[e->g.input].rank;
    long long c = (long long)e->g.tensors[e->g.input].channels;
    if (x->ndim == rank && x->dims[1] == c)
        return SELFSUP_OK;
    char got[96], want[64];
    selfsup__shape_format(got, sizeof got, x->ndim, x->dims);
    if (rank == 4)
        snprintf(want, sizeof want, "(N, %lld, H, W)", c);
    else
        snprintf(want, sizeof want, "(N, %lld)", c);
    return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                         "%s has shape %s, but the encoder takes %s", name, got,
                         want);
}

/* oneDNN refuses bf16 primitives below AVX-512 only when a plan is built;
 * say so by name, before anything runs. */
static selfsup_status check_precision(const selfsup_encoder *e,
                                      const char *where)
{
    if (e->dt != dnnl_bf16 || selfsup__dnnl_has_bf16())
        return SELFSUP_OK;
    return selfsup__fail(SELFSUP_ERR_UNSUPPORTED, where,
                         "precision=bf16 needs oneDNN's AVX-512 kernels, but "
                         "this CPU runs oneDNN at %s: use precision=f32",
                         selfsup__dnnl_isa_name());
}

static selfsup_status check_rows(const selfsup_encoder *e, const char *where,
                                 const char *name, const selfsup_tensor *y,
                                 int64_t n)
{
    int64_t dims[2] = {n, selfsup_encoder_output_dim(e)};
    return selfsup__tensor_expect_shape(y, where, name, 2, dims);
}

selfsup_status selfsup_encoder_forward_view(selfsup_encoder *e, int view,
                                            const selfsup_tensor *input,
                                            selfsup_tensor *output)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_TRY(check_view(__func__, view));
    SS_CHECK_NOT_NULL(input);
    SS_CHECK_NOT_NULL(output);
    SS_TRY(check_input(e, __func__, "input", input));
    SS_TRY(check_rows(e, __func__, "output", output, input->dims[0]));
    SS_TRY(selfsup__tensor_check_finite(input, __func__, "input"));
    SS_TRY(check_precision(e, __func__));
    selfsup__threads_apply();
    int mode = !e->training      ? SELFSUP__PLAN_INFERENCE
               : e->forward_only ? SELFSUP__PLAN_FORWARD_TRAINING
                                 : SELFSUP__PLAN_TRAINING;
    selfsup__plan *p;
    SS_TRY(get_plan(e, input->dims, mode, &p));
    if (e->training)
        e->pending[view] = NULL;
    selfsup__plan_ctx ctx = ctx_of(e);
    SS_TRY(selfsup__plan_forward(p, &ctx, view, e->version, input->data,
                                 output->data));
    if (mode == SELFSUP__PLAN_TRAINING)
        e->pending[view] = p;
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_forward(selfsup_encoder *e,
                                       const selfsup_tensor *input,
                                       selfsup_tensor *output)
{
    SS_ENTRY();
    return selfsup_encoder_forward_view(e, 0, input, output);
}

selfsup_status selfsup_encoder_infer(const selfsup_encoder *e,
                                     const selfsup_tensor *input,
                                     selfsup_tensor *output)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_CHECK_NOT_NULL(input);
    SS_CHECK_NOT_NULL(output);
    SS_TRY(check_input(e, __func__, "input", input));
    SS_TRY(check_rows(e, __func__, "output", output, input->dims[0]));
    SS_TRY(selfsup__tensor_check_finite(input, __func__, "input"));
    SS_TRY(check_precision(e, __func__));
    selfsup__threads_apply();
    selfsup_encoder *cache =
        (selfsup_encoder *)e; /* plans only, see get_plan */
    selfsup__plan *p;
    SS_TRY(get_plan(cache, input->dims, SELFSUP__PLAN_INFERENCE, &p));
    selfsup__plan_ctx ctx = ctx_of(e);
    return selfsup__plan_forward(p, &ctx, 0, e->version, input->data,
                                 output->data);
}

selfsup_status selfsup_encoder_backward_view(selfsup_encoder *e, int view,
                                             const selfsup_tensor *grad_output,
                                             selfsup_tensor *grad_input)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_TRY(check_view(__func__, view));
    SS_CHECK_NOT_NULL(grad_output);
    selfsup__plan *p = e->pending[view];
    if (!p)
        return SS_FAIL(SELFSUP_ERR_STATE,
                       "view %d has no training forward pending (run "
                       "selfsup_encoder_forward_view in training mode first; "
                       "a backward consumes it)",
                       view);
    SS_TRY(check_rows(e, __func__, "grad_output", grad_output, p->in_dims[0]));
    if (grad_input)
        SS_TRY(selfsup__tensor_expect_shape(grad_input, __func__, "grad_input",
                                            p->in_rank, p->in_dims));
    SS_TRY(selfsup__tensor_check_finite(grad_output, __func__, "grad_output"));
    selfsup__threads_apply();
    selfsup__plan_ctx ctx = ctx_of(e);
    SS_TRY(selfsup__plan_backward(p, &ctx, view, e->version, grad_output->data,
                                  grad_input ? grad_input->data : NULL));
    e->pending[view] = NULL;
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_backward(selfsup_encoder *e,
                                        const selfsup_tensor *grad_output,
                                        selfsup_tensor *grad_input)
{
    SS_ENTRY();
    return selfsup_encoder_backward_view(e, 0, grad_output, grad_input);
}

selfsup_status selfsup_encoder_zero_grad(selfsup_encoder *e)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    memset(e->grads, 0, (size_t)e->g.param_floats * sizeof(float));
    return SELFSUP_OK;
}

/* ---- named tensors ---- */

int selfsup_encoder_param_count(const selfsup_encoder *e)
{
    return e ? e->g.n_params + e->g.n_buffers : 0;
}

static const selfsup__param_info *entry(const selfsup_encoder *e, int index)
{
    if (!e || index < 0 || index >= e->g.n_params + e->g.n_buffers)
        return NULL;
    return index < e->g.n_params ? &e->g.params[index]
                                 : &e->g.buffers[index - e->g.n_params];
}

static float *values_of(const selfsup_encoder *e, int index)
{
    const selfsup__param_info *p = entry(e, index);
    return (index < e->g.n_params ? e->params : e->buffers) + p->offset;
}

const char *selfsup_encoder_param_name(const selfsup_encoder *e, int index)
{
    const selfsup__param_info *p = entry(e, index);
    return p ? p->name : NULL;
}

selfsup_status selfsup_encoder_param_find(const selfsup_encoder *e,
                                          const char *name, int *index)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_CHECK_NOT_NULL(name);
    SS_CHECK_NOT_NULL(index);
    int n = selfsup_encoder_param_count(e);
    for (int i = 0; i < n; i++) {
        if (strcmp(entry(e, i)->name, name) == 0) {
            *index = i;
            return SELFSUP_OK;
        }
    }
    return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                   "name = \"%s\" is not a parameter or buffer of %s", name,
                   e->spec);
}

static selfsup_status check_index(const selfsup_encoder *e, const char *where,
                                  int index)
{
    if (!entry(e, index))
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "index = %d is outside 0..%d", index,
                             selfsup_encoder_param_count(e) - 1);
    return SELFSUP_OK;
}

static selfsup_status check_count(const selfsup_encoder *e, const char *where,
                                  int index, int64_t count)
{
    const selfsup__param_info *p = entry(e, index);
    if (count != p->numel)
        return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                             "count = %lld but %s has %lld elements",
                             (long long)count, p->name, (long long)p->numel);
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_param_shape(const selfsup_encoder *e, int index,
                                           int *ndim, int64_t dims[4])
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_TRY(check_index(e, __func__, index));
    SS_CHECK_NOT_NULL(ndim);
    SS_CHECK_NOT_NULL(dims);
    const selfsup__param_info *p = entry(e, index);
    *ndim = p->ndim;
    for (int i = 0; i < p->ndim; i++)
        dims[i] = p->dims[i];
    return SELFSUP_OK;
}

int selfsup_encoder_param_is_trainable(const selfsup_encoder *e, int index)
{
    return entry(e, index) != NULL && index < e->g.n_params;
}

selfsup_status selfsup_encoder_param_read(const selfsup_encoder *e, int index,
                                          float *dst, int64_t count)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_TRY(check_index(e, __func__, index));
    SS_CHECK_NOT_NULL(dst);
    SS_TRY(check_count(e, __func__, index, count));
    memcpy(dst, values_of(e, index), (size_t)count * sizeof(float));
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_param_write(selfsup_encoder *e, int index,
                                           const float *src, int64_t count)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_TRY(check_index(e, __func__, index));
    SS_CHECK_NOT_NULL(src);
    SS_TRY(check_count(e, __func__, index, count));
    memmove(values_of(e, index), src, (size_t)count * sizeof(float));
    e->version++;
    return SELFSUP_OK;
}

selfsup_status selfsup_encoder_grad_read(const selfsup_encoder *e, int index,
                                         float *dst, int64_t count)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(e);
    SS_TRY(check_index(e, __func__, index));
    if (index >= e->g.n_params)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "index = %d (%s) is a buffer, which has no gradient",
                       index, entry(e, index)->name);
    SS_CHECK_NOT_NULL(dst);
    SS_TRY(check_count(e, __func__, index, count));
    memcpy(dst, e->grads + e->g.params[index].offset,
           (size_t)count * sizeof(float));
    return SELFSUP_OK;
}

/* ---- internal access ---- */

void selfsup__encoder_params(selfsup_encoder *e, float **values, float **grads,
                             int64_t *count, const selfsup__param_info **table,
                             int *n)
{
    *values = e->params;
    *grads = e->grads;
    *count = e->g.param_floats;
    *table = e->g.params;
    *n = e->g.n_params;
}

void selfsup__encoder_buffers(selfsup_encoder *e, float **values,
                              int64_t *count, const selfsup__param_info **table,
                              int *n)
{
    *values = e->buffers;
    *count = e->g.buffer_floats;
    *table = e->g.buffers;
    *n = e->g.n_buffers;
}

void selfsup__encoder_state(const selfsup_encoder *e, const float **params,
                            int64_t *param_count, const float **buffers,
                            int64_t *buffer_count)
{
    *params = e->params;
    *param_count = e->g.param_floats;
    *buffers = e->buffers;
    *buffer_count = e->g.buffer_floats;
}

void selfsup__encoder_table(const selfsup_encoder *e,
                            const selfsup__param_info **table, int *n,
                            int64_t *count)
{
    *table = e->g.params;
    *n = e->g.n_params;
    *count = e->g.param_floats;
}

void selfsup__encoder_params_changed(selfsup_encoder *e)
{
    e->version++;
}

void selfsup__encoder_set_forward_only(selfsup_encoder *e, int forward_only)
{
    e->forward_only = forward_only != 0;
}

selfsup_status selfsup__encoder_set_comm(selfsup_encoder *e, selfsup_comm *comm)
{
    /* Plans remember the communicator they were built with, and the next
     * forward picks one built with this one: a backward already pending
     * finishes on its own plan. */
    if (selfsup__comm_active(comm) && e->dt != dnnl_f32)
        return SS_FAIL(SELFSUP_ERR_UNSUPPORTED,
                       "batch norm over %d ranks needs precision=f32 (the "
                       "learner's precision key; auto chooses bf16 on CPUs "
                       "with bf16 instructions)",
                       selfsup_comm_size(comm));
    e->comm = comm;
    return SELFSUP_OK;
}
