/* A double-precision interpreter of a network graph: the reference the
 * finite-difference checks differentiate. Plain layouts, naive loops. */
#ifndef SELFSUP_TEST_NN_REF_NET_H
#define SELFSUP_TEST_NN_REF_NET_H

#include <stdint.h>

#include "nn/graph.h"

typedef struct ref_out {
    int64_t dims[4]; /* rank-2 outputs have dims[2] = dims[3] = 1 */
    double *y;       /* malloc'd */
    double *batch_mean, *batch_var; /* per buffer entry (bn, training) */
    double *batch_count; /* values per channel, at the mean's offsets */
} ref_out;

/* Runs g on x (dims in_dims, rank from the graph) with params and the
 * running statistics in buffers; training uses batch statistics (and
 * reports them, biased, in out->batch_mean / batch_var laid out like the
 * buffer table). */
void ref_forward(const selfsup__graph *g, const double *params,
                 const double *buffers, int training, const int64_t *in_dims,
                 const double *x, ref_out *out);
void ref_out_free(ref_out *o);

/* sum(y * r) for the forward above. */
double ref_loss(const selfsup__graph *g, const double *params,
                const double *buffers, int training, const int64_t *in_dims,
                const double *x, const double *r);

#endif
