#include "prim.h"

#include <stdio.h>
#include <string.h>

#include <dnnl_debug.h>

#include "core/dnnl_ctx.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/profile.h"

selfsup_status selfsup__attr_create(dnnl_primitive_attr_t *attr,
                                    const_dnnl_post_ops_t post_ops)
{
    dnnl_primitive_attr_t a;
    SS_DNNL(dnnl_primitive_attr_create(&a), "attribute creation");
    dnnl_status_t st =
        dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && post_ops)
        st = dnnl_primitive_attr_set_post_ops(a, post_ops);
    if (st != dnnl_success) {
        dnnl_primitive_attr_destroy(a);
        return selfsup__dnnl_check(st, __func__, "attribute setup");
    }
    *attr = a;
    return SELFSUP_OK;
}

static selfsup__fault create_fault;

void selfsup__prim_fail_at(long k)
{
    selfsup__fault_arm(&create_fault, k);
}

long selfsup__prim_count(void)
{
    return selfsup__fault_count(&create_fault);
}

/* Every creation ends here, so the test hook fails them all alike, as
 * oneDNN does for a descriptor it has no implementation of. */
static selfsup_status finish_create(selfsup__prim *p, dnnl_primitive_desc_t pd)
{
    dnnl_primitive_t prim;
    dnnl_status_t st = selfsup__fault_tick(&create_fault)
                           ? dnnl_unimplemented
                           : dnnl_primitive_create(&prim, pd);
    if (st != dnnl_success) {
        dnnl_primitive_desc_destroy(pd);
        return selfsup__dnnl_check(st, __func__, "primitive creation");
    }
    p->pd = pd;
    p->prim = prim;
    p->scratch = NULL;
    return SELFSUP_OK;
}

selfsup_status selfsup__prim_create(selfsup__prim *p, const_dnnl_op_desc_t desc,
                                    const_dnnl_primitive_attr_t attr,
                                    const_dnnl_primitive_desc_t hint)
{
    dnnl_engine_t eng;
    SS_TRY(selfsup__dnnl_engine(&eng));
    dnnl_primitive_attr_t own = NULL;
    if (!attr) {
        SS_TRY(selfsup__attr_create(&own, NULL));
        attr = own;
    }
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, desc, attr, eng, hint);
    if (own)
        dnnl_primitive_attr_destroy(own);
    SS_DNNL(st, "primitive descriptor creation");
    return finish_create(p, pd);
}

selfsup_status selfsup__prim_create_avoiding(selfsup__prim *p,
                                             const_dnnl_op_desc_t desc,
                                             const_dnnl_primitive_desc_t hint,
                                             const char *avoid)
{
    dnnl_engine_t eng;
    SS_TRY(selfsup__dnnl_engine(&eng));
    dnnl_primitive_attr_t attr;
    SS_TRY(selfsup__attr_create(&attr, NULL));
    dnnl_primitive_desc_iterator_t it;
    dnnl_status_t st =
        dnnl_primitive_desc_iterator_create(&it, desc, attr, eng, hint);
    dnnl_primitive_attr_destroy(attr);
    SS_DNNL(st, "primitive descriptor iteration");
    size_t n = strlen(avoid);
    do {
        dnnl_primitive_desc_t pd = dnnl_primitive_desc_iterator_fetch(it);
        if (!pd)
            continue;
        const char *impl = "";
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        if (strncmp(impl, avoid, n) != 0) {
            dnnl_primitive_desc_iterator_destroy(it);
            return finish_create(p, pd);
        }
        dnnl_primitive_desc_destroy(pd);
    } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    return SS_FAIL(SELFSUP_ERR_UNSUPPORTED,
                   "oneDNN has no implementation of this primitive besides "
                   "\"%s\"",
                   avoid);
}

selfsup_status selfsup__prim_reorder(selfsup__prim *p,
                                     const dnnl_memory_desc_t *src,
                                     const dnnl_memory_desc_t *dst,
                                     int accumulate)
{
    dnnl_engine_t eng;
    SS_TRY(selfsup__dnnl_engine(&eng));
    dnnl_post_ops_t po = NULL;
    if (accumulate) {
        SS_DNNL(dnnl_post_ops_create(&po), "post-op creation");
        dnnl_status_t st = dnnl_post_ops_append_sum(po, 1.0f);
        if (st != dnnl_success) {
            dnnl_post_ops_destroy(po);
            SS_DNNL(st, "sum post-op");
        }
    }
    dnnl_primitive_attr_t attr;
    selfsup_status s = selfsup__attr_create(&attr, po);
    if (po)
        dnnl_post_ops_destroy(po);
    SS_TRY(s);
    dnnl_primitive_desc_t pd;
    dnnl_status_t st =
        dnnl_reorder_primitive_desc_create(&pd, src, eng, dst, eng, attr);
    dnnl_primitive_attr_destroy(attr);
    SS_DNNL(st, "reorder descriptor creation");
    return finish_create(p, pd);
}

void selfsup__prim_destroy(selfsup__prim *p)
{
    if (p->scratch)
        dnnl_memory_destroy(p->scratch);
    if (p->prim)
        dnnl_primitive_destroy(p->prim);
    if (p->pd)
        dnnl_primitive_desc_destroy(p->pd);
    memset(p, 0, sizeof *p);
}

size_t selfsup__prim_scratch_size(const selfsup__prim *p)
{
    if (!p->pd)
        return 0;
    const dnnl_memory_desc_t *md =
        dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

selfsup_status selfsup__prim_bind_scratch(selfsup__prim *p, void *buf)
{
    if (selfsup__prim_scratch_size(p) == 0)
        return SELFSUP_OK;
    const dnnl_memory_desc_t *md =
        dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    return selfsup__mem_create(&p->scratch, md, buf);
}

/* The descriptor of the first of two queries pd answers (NULL if none). */
static const dnnl_memory_desc_t *md_of(const_dnnl_primitive_desc_t pd,
                                       dnnl_query_t what, dnnl_query_t or_what)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, 0);
    if (!md || md->ndims == 0)
        md = dnnl_primitive_desc_query_md(pd, or_what, 0);
    return md && md->ndims > 0 ? md : NULL;
}

static double elements(const dnnl_memory_desc_t *md)
{
    double n = 1;
    for (int i = 0; md && i < md->ndims; i++)
        n *= (double)md->dims[i];
    return md ? n : 0;
}

/* " 256x16x20x20" (and " bf16" when not f32) at the end of buf. */
static void append_dims(char *buf, size_t cap, const char *label,
                        const dnnl_memory_desc_t *md)
{
    size_t n = strlen(buf);
    if (!md || n + 1 >= cap)
        return;
    n += (size_t)snprintf(buf + n, cap - n, "%s", label);
    for (int i = 0; i < md->ndims && n + 1 < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? "x" : "",
                              (long long)md->dims[i]);
    if (md->data_type != dnnl_f32 && n + 1 < cap)
        snprintf(buf + n, cap - n, " %s", dnnl_dt2str(md->data_type));
}

double selfsup__prim_flop(const selfsup__prim *p)
{
    if (!p->pd)
        return 0;
    dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
    dnnl_primitive_desc_query(p->pd, dnnl_query_primitive_kind, 0, &kind);
    const dnnl_memory_desc_t *w =
        md_of(p->pd, dnnl_query_weights_md, dnnl_query_diff_weights_md);
    const dnnl_memory_desc_t *dst =
        md_of(p->pd, dnnl_query_dst_md, dnnl_query_diff_dst_md);
    if (!w || !dst || dst->ndims < 2)
        return 0;
    if (kind == dnnl_convolution || kind == dnnl_deconvolution)
        return 2.0 * elements(dst) / (double)dst->dims[1] * elements(w);
    if (kind == dnnl_inner_product)
        return 2.0 * (double)dst->dims[0] * elements(w);
    return 0;
}

/* The profile's name of a primitive ("convolution backward_weights w
 * 32x16x3x3 out 256x32x10x10 (jit:avx2)") and the floating-point operations
 * of one run: the multiply-adds of convolutions and inner products (the
 * same count forward, backward-data and backward-weights); 0 for the rest,
 * whose cost is memory traffic. */
static double describe(const selfsup__prim *p, char *name, size_t cap)
{
    dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
    dnnl_prop_kind_t prop = dnnl_prop_kind_undef;
    const char *impl = "";
    dnnl_primitive_desc_query(p->pd, dnnl_query_primitive_kind, 0, &kind);
    dnnl_primitive_desc_query(p->pd, dnnl_query_prop_kind, 0, &prop);
    dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &impl);
    const dnnl_memory_desc_t *w =
        md_of(p->pd, dnnl_query_weights_md, dnnl_query_diff_weights_md);
    const dnnl_memory_desc_t *src =
        md_of(p->pd, dnnl_query_src_md, dnnl_query_diff_src_md);
    const dnnl_memory_desc_t *dst =
        md_of(p->pd, dnnl_query_dst_md, dnnl_query_diff_dst_md);
    snprintf(name, cap, "%s", dnnl_prim_kind2str(kind));
    if (prop != dnnl_prop_kind_undef) {
        size_t n = strlen(name);
        snprintf(name + n, cap - n, " %s", dnnl_prop_kind2str(prop));
    }
    if (w)
        append_dims(name, cap, " w ", w);
    append_dims(name, cap, w ? " out " : " ", w ? dst : (src ? src : dst));
    size_t n = strlen(name);
    snprintf(name + n, cap - n, " (%s)", impl ? impl : "?");

    return selfsup__prim_flop(p);
}

/* selfsup__prim_exec while the profile is on: the run timed to its end. */
static selfsup_status run_profiled(const selfsup__prim *p, dnnl_stream_t s,
                                   int nargs, const dnnl_exec_arg_t *args)
{
    double t0 = selfsup__profile_clock();
    dnnl_status_t st = dnnl_primitive_execute(p->prim, s, nargs, args);
    if (st == dnnl_success)
        st = dnnl_stream_wait(s);
    double seconds = selfsup__profile_clock() - t0;
    SS_DNNL(st, "primitive execution");
    char name[128];
    double flops = describe(p, name, sizeof name);
    selfsup__profile_add(SELFSUP_PROFILE_OPERATION, name, seconds, flops);
    return SELFSUP_OK;
}

selfsup_status selfsup__prim_exec(const selfsup__prim *p, dnnl_stream_t s,
                                  int nargs, dnnl_exec_arg_t *args)
{
    if (p->scratch)
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratch};
    if (selfsup__profile_on())
        return run_profiled(p, s, nargs, args);
    SS_DNNL(dnnl_primitive_execute(p->prim, s, nargs, args),
            "primitive execution");
    return SELFSUP_OK;
}

selfsup_status selfsup__mem_create(dnnl_memory_t *m,
                                   const dnnl_memory_desc_t *md, void *ptr)
{
    dnnl_engine_t eng;
    SS_TRY(selfsup__dnnl_engine(&eng));
    SS_DNNL(dnnl_memory_create(m, md, eng, ptr ? ptr : DNNL_MEMORY_NONE),
            "memory object creation");
    return SELFSUP_OK;
}

static dnnl_format_tag_t plain_tag(int ndims)
{
    switch (ndims) {
    case 1:
        return dnnl_a;
    case 2:
        return dnnl_ab;
    case 3:
        return dnnl_abc;
    case 4:
        return dnnl_abcd;
    default:
        return dnnl_abcde;
    }
}

selfsup_status selfsup__md_plain(dnnl_memory_desc_t *md, int ndims,
                                 const int64_t *dims, dnnl_data_type_t dt)
{
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++)
        d[i] = dims[i];
    SS_DNNL(dnnl_memory_desc_init_by_tag(md, ndims, d, dt, plain_tag(ndims)),
            "memory descriptor");
    return SELFSUP_OK;
}

selfsup_status selfsup__md_any(dnnl_memory_desc_t *md, int ndims,
                               const int64_t *dims, dnnl_data_type_t dt)
{
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++)
        d[i] = dims[i];
    SS_DNNL(dnnl_memory_desc_init_by_tag(md, ndims, d, dt, dnnl_format_tag_any),
            "memory descriptor");
    return SELFSUP_OK;
}

const dnnl_memory_desc_t *selfsup__pd_md(const selfsup__prim *p,
                                         dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(p->pd, what, 0);
}

int selfsup__prim_impl_is(const selfsup__prim *p, const char *prefix)
{
    const char *impl = NULL;
    return p->pd &&
           dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0,
                                     &impl) == dnnl_success &&
           impl && strncmp(impl, prefix, strlen(prefix)) == 0;
}

int selfsup__prim_is_reference(const selfsup__prim *p)
{
    const char *impl = NULL;
    if (!p->pd ||
        dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &impl) !=
            dnnl_success ||
        !impl)
        return 0;
    /* "ref:any", and per-primitive names such as batch norm's
     * "bnorm_ref:any" */
    return strncmp(impl, "ref", 3) == 0 || strstr(impl, "_ref:") != NULL;
}
