/* libselfsup: dense float32 tensors. */
#ifndef SELFSUP_TENSOR_H
#define SELFSUP_TENSOR_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most axes a tensor may have. */
#define SELFSUP_TENSOR_MAX_DIMS 8

/* A dense float32 tensor, row-major (images are NCHW), zero-filled at
 * creation. Opaque: the library may change how it stores one. */
typedef struct selfsup_tensor selfsup_tensor;

/* Makes a tensor of ndim axes (1..SELFSUP_TENSOR_MAX_DIMS), each dims[i] >= 1.
 * SELFSUP_ERR_INVALID_ARGUMENT for NULL pointers or bad dims,
 * SELFSUP_ERR_OUT_OF_MEMORY when the element count cannot be allocated. */
SELFSUP_API selfsup_status selfsup_tensor_create(selfsup_tensor **out,
                                                 int ndim,
                                                 const int64_t *dims);

/* Frees t; NULL is accepted. */
SELFSUP_API void selfsup_tensor_destroy(selfsup_tensor *t);

/* The number of axes; 0 for NULL. */
SELFSUP_API int selfsup_tensor_ndim(const selfsup_tensor *t);

/* The extent of one axis; a negative axis counts from the end (-1 is the
 * last). 0 for NULL or an axis out of range (no real axis has extent 0). */
SELFSUP_API int64_t selfsup_tensor_dim(const selfsup_tensor *t, int axis);

/* The number of elements; 0 for NULL. */
SELFSUP_API int64_t selfsup_tensor_numel(const selfsup_tensor *t);

/* Copies count == numel floats from src into t, row-major. */
SELFSUP_API selfsup_status selfsup_tensor_write(selfsup_tensor *t,
                                                const float *src,
                                                int64_t count);

/* Copies the count == numel elements of t into dst, row-major. */
SELFSUP_API selfsup_status selfsup_tensor_read(const selfsup_tensor *t,
                                               float *dst, int64_t count);

/* A read-only view of the elements, row-major, valid until t is destroyed or
 * reshaped; NULL for NULL. */
SELFSUP_API const float *selfsup_tensor_data(const selfsup_tensor *t);

/* Sets every element to value. */
SELFSUP_API selfsup_status selfsup_tensor_fill(selfsup_tensor *t, float value);

/* Fills with independent draws from U[lo, hi) (lo < hi, both finite). The
 * value of element i depends only on (seed, i): the same on any thread
 * count and for any shape of the same size. */
SELFSUP_API selfsup_status selfsup_tensor_fill_uniform(selfsup_tensor *t,
                                                       uint64_t seed,
                                                       float lo, float hi);

/* Fills with independent draws from N(mean, std^2) (std >= 0, both finite),
 * keyed like selfsup_tensor_fill_uniform. */
SELFSUP_API selfsup_status selfsup_tensor_fill_normal(selfsup_tensor *t,
                                                      uint64_t seed,
                                                      float mean, float std);

/* Makes *out a new tensor with the shape and elements of src. */
SELFSUP_API selfsup_status selfsup_tensor_clone(selfsup_tensor **out,
                                                const selfsup_tensor *src);

/* Copies the elements of src into dst; both must have the same shape
 * (SELFSUP_ERR_SHAPE otherwise). */
SELFSUP_API selfsup_status selfsup_tensor_copy(selfsup_tensor *dst,
                                               const selfsup_tensor *src);

/* Gives t a new shape with the same element count (SELFSUP_ERR_SHAPE
 * otherwise); the elements keep their row-major order. */
SELFSUP_API selfsup_status selfsup_tensor_reshape(selfsup_tensor *t, int ndim,
                                                  const int64_t *dims);

#ifdef __cplusplus
}
#endif

#endif
