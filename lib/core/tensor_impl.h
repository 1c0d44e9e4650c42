/* Internal: the tensor's layout, for the modules that compute on tensors. */
#ifndef SELFSUP_CORE_TENSOR_IMPL_H
#define SELFSUP_CORE_TENSOR_IMPL_H

#include <stddef.h>

#include "selfsup/tensor.h"

struct selfsup_tensor {
    int ndim;
    int64_t dims[SELFSUP_TENSOR_MAX_DIMS];
    int64_t numel;
    float *data; /* numel floats, row-major, 64-byte aligned, owned */
};

/* Writable access for the library's own kernels. */
static inline float *selfsup__tensor_mut(selfsup_tensor *t)
{
    return t->data;
}

/* SELFSUP_OK when t has exactly this shape, else SELFSUP_ERR_SHAPE with a
 * message naming the argument (name) and both shapes. */
selfsup_status selfsup__tensor_expect_shape(const selfsup_tensor *t,
                                            const char *where,
                                            const char *name, int ndim,
                                            const int64_t *dims);

/* Writes "(2, 3, 4)" into buf. */
void selfsup__shape_format(char *buf, size_t cap, int ndim,
                           const int64_t *dims);

/* SELFSUP_ERR_NUMERIC naming the first non-finite element, else OK. */
selfsup_status selfsup__tensor_check_finite(const selfsup_tensor *t,
                                            const char *where,
                                            const char *name);

#endif
