/* Internal: batch norm whose statistics span the ranks of a communicator.
 *
 * oneDNN's batch norm computes the statistics of the batch it sees. With
 * R ranks each holding B/R images, the network must normalise with the
 * statistics of all B (what makes R ranks train as one process), so a
 * synchronised layer runs oneDNN's primitive with given statistics
 * (dnnl_use_global_stats) and supplies the rest:
 *   forward:  mean and (biased) variance over every rank's values, two
 *             all-reduces of C floats (the sum, then the centred squares,
 *             as accurate as one process's two-pass statistics);
 *   backward: the primitive with given statistics returns
 *             dx0 = gamma / sigma * dy' (dy' the gradient behind the fused
 *             ReLU) and the rank's sums S1 = sum dy', S2 = sum dy' xhat;
 *             after one all-reduce of [S1, S2], the terms that flow
 *             through the statistics are subtracted:
 *             dx = dx0 - gamma / sigma * (S1 / M + xhat * S2 / M),
 *             M the values per channel over every rank. */
#ifndef SELFSUP_NN_BN_SYNC_H
#define SELFSUP_NN_BN_SYNC_H

#include <dnnl.h>
#include <stdint.h>

#include "selfsup/comm.h"

/* Where value (n, c, s) of an (N, C, spatial S) tensor lives: at
 * ((n * blocks + c / block) * S + s) * block + c % block, which covers
 * plain nchw (block 1), nhwc and (N, C) (block C), and oneDNN's nChw8c and
 * nChw16c (block 8, 16; padded channels are skipped). */
typedef struct selfsup__bn_layout {
    int64_t n, c, s, block, blocks;
} selfsup__bn_layout;

/* The layout of md (f32, dims (N, C[, H, W])), or SELFSUP_ERR_UNSUPPORTED
 * naming the layer when it is none of the above. */
selfsup_status selfsup__bn_layout_of(selfsup__bn_layout *out,
                                     const dnnl_memory_desc_t *md,
                                     const char *layer);

/* Forward: writes the statistics over every rank of x into mean and var
 * (C floats each). scratch: 2 C doubles. */
selfsup_status selfsup__bn_sync_stats(selfsup_comm *comm,
                                      const selfsup__bn_layout *lay,
                                      const float *x, float *mean, float *var,
                                      double *scratch);

/* Backward, after the primitive with given statistics wrote dx (dx0).
 * gamma, dshift, dscale: the layer's scale and the rank's S1 and S2
 * (oneDNN's diff_shift and diff_scale) when the layer is affine; all NULL
 * when it is not (then gamma is 1 and the sums
 * are computed here from dx0). scratch: 4 C doubles. */
selfsup_status selfsup__bn_sync_backward(selfsup_comm *comm,
                                         const selfsup__bn_layout *lay,
                                         const float *x, const float *mean,
                                         const float *var, const float *gamma,
                                         const float *dshift,
                                         const float *dscale, float eps,
                                         float *dx, double *scratch);

#endif
