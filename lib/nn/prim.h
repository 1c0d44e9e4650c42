/* Internal: one oneDNN primitive with its descriptor and a user-managed
 * scratchpad, and the memory-object helpers the plans use. */
#ifndef SELFSUP_NN_PRIM_H
#define SELFSUP_NN_PRIM_H

#include <dnnl.h>
#include <stddef.h>

#include "selfsup/status.h"

typedef struct selfsup__prim {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t scratch; /* bound to the plan's scratchpad; NULL if none */
} selfsup__prim;

/* An attribute set to the user-managed scratchpad mode (so a primitive never
 * allocates while it runs), optionally with post-ops; destroy it with
 * dnnl_primitive_attr_destroy. */
selfsup_status selfsup__attr_create(dnnl_primitive_attr_t *attr,
                                    const_dnnl_post_ops_t post_ops);

/* Creates p from an op descriptor (attr NULL: plain attributes with the
 * user scratchpad). hint is the forward descriptor of backward ops. */
selfsup_status selfsup__prim_create(selfsup__prim *p, const_dnnl_op_desc_t desc,
                                    const_dnnl_primitive_attr_t attr,
                                    const_dnnl_primitive_desc_t hint);

/* As selfsup__prim_create with plain attributes, but never with an
 * implementation whose name starts with avoid (oneDNN's implementation
 * list is tried in its order of preference). */
selfsup_status selfsup__prim_create_avoiding(selfsup__prim *p,
                                             const_dnnl_op_desc_t desc,
                                             const_dnnl_primitive_desc_t hint,
                                             const char *avoid);

/* A reorder src -> dst; with accumulate, dst += src (a sum post-op). */
selfsup_status selfsup__prim_reorder(selfsup__prim *p,
                                     const dnnl_memory_desc_t *src,
                                     const dnnl_memory_desc_t *dst,
                                     int accumulate);

void selfsup__prim_destroy(selfsup__prim *p);

/* Bytes of scratchpad p needs (0 for an empty p). */
size_t selfsup__prim_scratch_size(const selfsup__prim *p);

/* Binds p's scratchpad memory to buf (at least scratch_size bytes). */
selfsup_status selfsup__prim_bind_scratch(selfsup__prim *p, void *buf);

/* Runs p with args; args must have room for one more entry (the
 * scratchpad is appended). */
selfsup_status selfsup__prim_exec(const selfsup__prim *p, dnnl_stream_t s,
                                  int nargs, dnnl_exec_arg_t *args);

/* A memory object over ptr (not owned) with descriptor md. */
selfsup_status selfsup__mem_create(dnnl_memory_t *m,
                                   const dnnl_memory_desc_t *md, void *ptr);

/* A descriptor in a plain row-major layout (nchw / nc / a / oihw). */
selfsup_status selfsup__md_plain(dnnl_memory_desc_t *md, int ndims,
                                 const int64_t *dims, dnnl_data_type_t dt);

/* A descriptor of the same shape with any layout, for primitives to choose. */
selfsup_status selfsup__md_any(dnnl_memory_desc_t *md, int ndims,
                               const int64_t *dims, dnnl_data_type_t dt);

/* 1 if p runs oneDNN's reference implementation (plain C loops, often
 * 10-100x slower than its jit kernels); 0 for an empty p. */
int selfsup__prim_is_reference(const selfsup__prim *p);

/* 1 if p's implementation name starts with prefix ("jit_bf16:"). */
int selfsup__prim_impl_is(const selfsup__prim *p, const char *prefix);

/* The floating-point operations of one run of p: the multiply-adds of
 * convolutions and inner products (the same count forward, backward-data
 * and backward-weights); 0 for the rest, whose cost is memory traffic. */
double selfsup__prim_flop(const selfsup__prim *p);

/* Test hooks. After selfsup__prim_fail_at(k) with k >= 1 the k-th
 * primitive creation from now fails (once), as for a descriptor oneDNN has
 * no implementation of; k == 0 disarms. */
void selfsup__prim_fail_at(long k);
/* Primitive creations since the process started (failed ones included). */
long selfsup__prim_count(void);

/* The descriptor pd uses for what (dnnl_query_src_md, ...). */
const dnnl_memory_desc_t *selfsup__pd_md(const selfsup__prim *p,
                                         dnnl_query_t what);

#endif
