/* The roof a training step's GFLOP/s is measured against: one oneDNN
 * convolution alone (selfsup/profile.h). */
#include <string.h>

#include <dnnl.h>

#include "dnnl_ctx.h"
#include "error.h"
#include "profile.h"
#include "threads.h"

enum { IMAGES = 64, CHANNELS = 64, SIDE = 16 };

const char *selfsup_profile_isa(void)
{
    return selfsup__dnnl_isa_name();
}

typedef struct roof_conv {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t src, weights, dst;
} roof_conv;

static void roof_conv_free(roof_conv *c)
{
    if (c->src)
        dnnl_memory_destroy(c->src);
    if (c->weights)
        dnnl_memory_destroy(c->weights);
    if (c->dst)
        dnnl_memory_destroy(c->dst);
    if (c->prim)
        dnnl_primitive_destroy(c->prim);
    if (c->pd)
        dnnl_primitive_desc_destroy(c->pd);
}

/* The convolution in the layouts oneDNN prefers, its tensors zero (the
 * kernels' speed does not depend on the values). */
static selfsup_status roof_conv_make(roof_conv *c, dnnl_engine_t eng,
                                     dnnl_data_type_t dt)
{
    dnnl_memory_desc_t src, w, dst;
    const dnnl_dims_t sd = {IMAGES, CHANNELS, SIDE, SIDE};
    const dnnl_dims_t wd = {CHANNELS, CHANNELS, 3, 3};
    const dnnl_dims_t one = {1, 1}, pad = {1, 1};
    SS_DNNL(dnnl_memory_desc_init_by_tag(&src, 4, sd, dt, dnnl_format_tag_any),
            "memory descriptor");
    SS_DNNL(dnnl_memory_desc_init_by_tag(&w, 4, wd, dt, dnnl_format_tag_any),
            "memory descriptor");
    dst = src;
    dnnl_convolution_desc_t desc;
    SS_DNNL(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training,
                                               dnnl_convolution_direct, &src,
                                               &w, NULL, &dst, one, pad, pad),
            "convolution descriptor");
    SS_DNNL(dnnl_primitive_desc_create(&c->pd, &desc, NULL, eng, NULL),
            "convolution primitive descriptor");
    SS_DNNL(dnnl_primitive_create(&c->prim, c->pd), "convolution primitive");
    const dnnl_query_t q[3] = {dnnl_query_src_md, dnnl_query_weights_md,
                               dnnl_query_dst_md};
    dnnl_memory_t *m[3] = {&c->src, &c->weights, &c->dst};
    for (int i = 0; i < 3; i++) {
        const dnnl_memory_desc_t *md =
            dnnl_primitive_desc_query_md(c->pd, q[i], 0);
        SS_DNNL(dnnl_memory_create(m[i], md, eng, DNNL_MEMORY_ALLOCATE),
                "convolution memory");
        void *h = NULL;
        SS_DNNL(dnnl_memory_get_data_handle(*m[i], &h), "memory handle");
        memset(h, 0, dnnl_memory_desc_get_size(md));
    }
    return SELFSUP_OK;
}

static selfsup_status roof_conv_time(const roof_conv *c, dnnl_stream_t s,
                                     double seconds, double *fastest)
{
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, c->src},
                               {DNNL_ARG_WEIGHTS, c->weights},
                               {DNNL_ARG_DST, c->dst}};
    double best = 0, until = 0;
    for (int run = 0; run < 3 || selfsup__profile_clock() < until; run++) {
        double t0 = selfsup__profile_clock();
        SS_DNNL(dnnl_primitive_execute(c->prim, s, 3, args),
                "convolution execution");
        SS_DNNL(dnnl_stream_wait(s), "stream wait");
        double dt = selfsup__profile_clock() - t0;
        if (run == 0) /* first touch of the buffers: not counted */
            until = selfsup__profile_clock() + seconds;
        else if (best == 0 || dt < best)
            best = dt;
    }
    *fastest = best;
    return SELFSUP_OK;
}

/* The roof in data type dt; where names the public call. */
static selfsup_status roof_in(dnnl_data_type_t dt, double seconds,
                              double *gflops, const char *where)
{
    if (!(seconds >= 0.05 && seconds <= 60))
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "seconds = %g is outside 0.05..60", seconds);
    if (dt == dnnl_bf16 && !selfsup__dnnl_has_bf16())
        return selfsup__fail(SELFSUP_ERR_UNSUPPORTED, where,
                             "bf16 needs oneDNN's AVX-512 kernels, but this "
                             "CPU runs oneDNN at %s",
                             selfsup__dnnl_isa_name());
    selfsup__threads_apply();
    dnnl_engine_t eng;
    dnnl_stream_t s;
    SS_TRY(selfsup__dnnl_engine(&eng));
    SS_TRY(selfsup__dnnl_stream(&s));
    roof_conv c = {0};
    selfsup_status st = roof_conv_make(&c, eng, dt);
    double fastest = 0;
    if (st == SELFSUP_OK)
        st = roof_conv_time(&c, s, seconds, &fastest);
    roof_conv_free(&c);
    if (st != SELFSUP_OK)
        return st;
    const double flops =
        2.0 * IMAGES * SIDE * SIDE * CHANNELS * (double)CHANNELS * 9;
    *gflops = flops / fastest * 1e-9;
    return SELFSUP_OK;
}

selfsup_status selfsup_profile_roof(double seconds, double *gflops)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(gflops);
    return roof_in(dnnl_f32, seconds, gflops, __func__);
}

selfsup_status selfsup_profile_roof_precision(const char *precision,
                                              double seconds, double *gflops)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(precision);
    SS_CHECK_NOT_NULL(gflops);
    dnnl_data_type_t dt;
    if (strcmp(precision, "f32") == 0)
        dt = dnnl_f32;
    else if (strcmp(precision, "bf16") == 0)
        dt = dnnl_bf16;
    else
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "precision \"%s\" is not f32 or bf16", precision);
    return roof_in(dt, seconds, gflops, __func__);
}
