/* Batch norm over the ranks of a communicator: the statistics and the
 * backward's correction (bn_sync.h has the math). */
#include "bn_sync.h"

#include <math.h>
#include <string.h>

#include "core/comm.h"
#include "core/dnnl_ctx.h"
#include "core/error.h"

selfsup_status selfsup__bn_layout_of(selfsup__bn_layout *out,
                                     const dnnl_memory_desc_t *md,
                                     const char *layer)
{
    if (md->data_type != dnnl_f32)
        return SS_FAIL(SELFSUP_ERR_UNSUPPORTED,
                       "batch norm %s: synchronised statistics need float32 "
                       "activations (precision=f32)",
                       layer);
    int rank = md->ndims;
    int64_t n = md->dims[0], c = md->dims[1], s = 1;
    for (int k = 2; k < rank; k++)
        s *= md->dims[k];
    static const struct {
        int rank;
        dnnl_format_tag_t tag;
        int64_t block; /* 0: all channels */
    } known[] = {{2, dnnl_nc, 0},
                 {4, dnnl_nchw, 1},
                 {4, dnnl_nhwc, 0},
                 {4, dnnl_nChw8c, 8},
                 {4, dnnl_nChw16c, 16}};
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        if (known[k].rank != rank)
            continue;
        dnnl_memory_desc_t want;
        if (dnnl_memory_desc_init_by_tag(&want, rank, md->dims, dnnl_f32,
                                         known[k].tag) != dnnl_success ||
            !dnnl_memory_desc_equal(&want, md))
            continue;
        int64_t block = known[k].block ? known[k].block : c;
        *out = (selfsup__bn_layout){n, c, s, block, (c + block - 1) / block};
        return SELFSUP_OK;
    }
    return SS_FAIL(SELFSUP_ERR_UNSUPPORTED,
                   "batch norm %s: synchronised statistics do not know the "
                   "activations' memory layout (oneDNN format kind %d)",
                   layer, (int)md->format_kind);
}

/* The work is split into lanes of up to LANE channels within one block,
 * each summed by one thread in a fixed order: the sums are the same bits
 * whatever the thread count. */
enum { LANE = 16 };

static int64_t lane_count(const selfsup__bn_layout *l)
{
    return l->blocks * ((l->block + LANE - 1) / LANE);
}

/* Lane k: block cb, channels lo .. hi-1 within the block. */
static void lane_of(const selfsup__bn_layout *l, int64_t k, int64_t *cb,
                    int64_t *lo, int64_t *hi)
{
    int64_t per = (l->block + LANE - 1) / LANE;
    *cb = k / per;
    *lo = (k % per) * LANE;
    *hi = *lo + LANE < l->block ? *lo + LANE : l->block;
    if (*cb * l->block + *hi > l->c) /* padded channels of the last block */
        *hi = l->c - *cb * l->block;
}

static const float *row(const selfsup__bn_layout *l, const float *x, int64_t n,
                        int64_t cb, int64_t s)
{
    return x + ((n * l->blocks + cb) * l->s + s) * l->block;
}

/* sum[c] = sum x, and when mean is given sq[c] = sum (x - mean)^2. */
static void channel_sums(const selfsup__bn_layout *l, const float *x,
                         const float *mean, double *sum, double *sq)
{
    int64_t lanes = lane_count(l);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < lanes; k++) {
        int64_t cb, lo, hi;
        lane_of(l, k, &cb, &lo, &hi);
        double a[LANE] = {0}, b[LANE] = {0};
        for (int64_t n = 0; n < l->n; n++)
            for (int64_t s = 0; s < l->s; s++) {
                const float *r = row(l, x, n, cb, s);
                for (int64_t i = lo; i < hi; i++) {
                    double v = r[i];
                    if (mean) {
                        v -= mean[cb * l->block + i];
                        b[i - lo] += v * v;
                    }
                    a[i - lo] += v;
                }
            }
        for (int64_t i = lo; i < hi; i++) {
            sum[cb * l->block + i] = a[i - lo];
            if (mean)
                sq[cb * l->block + i] = b[i - lo];
        }
    }
}

/* For a layer without scale: S1 = sigma sum dx0, S2 = sum dx0 (x - mean). */
static void plain_sums(const selfsup__bn_layout *l, const float *dx,
                       const float *x, const float *mean, const float *var,
                       float eps, double *s1, double *s2)
{
    int64_t lanes = lane_count(l);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < lanes; k++) {
        int64_t cb, lo, hi;
        lane_of(l, k, &cb, &lo, &hi);
        double a[LANE] = {0}, b[LANE] = {0};
        for (int64_t n = 0; n < l->n; n++)
            for (int64_t s = 0; s < l->s; s++) {
                const float *d = row(l, dx, n, cb, s);
                const float *r = row(l, x, n, cb, s);
                for (int64_t i = lo; i < hi; i++) {
                    a[i - lo] += d[i];
                    b[i - lo] +=
                        (double)d[i] * (r[i] - mean[cb * l->block + i]);
                }
            }
        for (int64_t i = lo; i < hi; i++) {
            int64_t c = cb * l->block + i;
            s1[c] = a[i - lo] * sqrt((double)var[c] + eps);
            s2[c] = b[i - lo];
        }
    }
}

/* dx -= k1[c] + k2[c] (x - mean[c]) */
static void correct(const selfsup__bn_layout *l, float *dx, const float *x,
                    const float *mean, const float *k1, const float *k2)
{
    int64_t lanes = lane_count(l);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < lanes; k++) {
        int64_t cb, lo, hi;
        lane_of(l, k, &cb, &lo, &hi);
        const int64_t c0 = cb * l->block;
        for (int64_t n = 0; n < l->n; n++)
            for (int64_t s = 0; s < l->s; s++) {
                float *d = (float *)row(l, dx, n, cb, s);
                const float *r = row(l, x, n, cb, s);
                for (int64_t i = lo; i < hi; i++)
                    d[i] -= k1[c0 + i] + k2[c0 + i] * (r[i] - mean[c0 + i]);
            }
    }
}

selfsup_status selfsup__bn_sync_stats(selfsup_comm *comm,
                                      const selfsup__bn_layout *lay,
                                      const float *x, float *mean, float *var,
                                      double *scratch)
{
    const int64_t c = lay->c;
    const double m =
        (double)lay->n * (double)lay->s * (double)selfsup_comm_size(comm);
    double *sum = scratch, *sq = scratch + c;
    channel_sums(lay, x, NULL, sum, NULL);
    for (int64_t k = 0; k < c; k++)
        mean[k] = (float)sum[k];
    SS_TRY(selfsup__comm_allreduce(comm, mean, c, "batch-norm sums"));
    for (int64_t k = 0; k < c; k++)
        mean[k] = (float)(mean[k] / m);
    channel_sums(lay, x, mean, sum, sq);
    for (int64_t k = 0; k < c; k++)
        var[k] = (float)sq[k];
    SS_TRY(selfsup__comm_allreduce(comm, var, c, "batch-norm squares"));
    for (int64_t k = 0; k < c; k++)
        var[k] = (float)(var[k] / m);
    return SELFSUP_OK;
}

selfsup_status selfsup__bn_sync_backward(selfsup_comm *comm,
                                         const selfsup__bn_layout *lay,
                                         const float *x, const float *mean,
                                         const float *var, const float *gamma,
                                         const float *dshift,
                                         const float *dscale, float eps,
                                         float *dx, double *scratch)
{
    const int64_t c = lay->c;
    const double m =
        (double)lay->n * (double)lay->s * (double)selfsup_comm_size(comm);
    float *sums = (float *)(scratch + 2 * c); /* [S1 | S2], reduced */
    if (gamma) {
        memcpy(sums, dshift, (size_t)c * sizeof *sums);
        memcpy(sums + c, dscale, (size_t)c * sizeof *sums);
    } else {
        plain_sums(lay, dx, x, mean, var, eps, scratch, scratch + c);
        for (int64_t k = 0; k < 2 * c; k++)
            sums[k] = (float)scratch[k];
    }
    SS_TRY(
        selfsup__comm_allreduce(comm, sums, 2 * c, "batch-norm gradient sums"));
    float *k1 = sums + 2 * c, *k2 = sums + 3 * c;
    for (int64_t k = 0; k < c; k++) {
        double inv = 1.0 / sqrt((double)var[k] + eps);
        double g = (gamma ? gamma[k] : 1.0) * inv;
        k1[k] = (float)(g * sums[k] / m);
        k2[k] = (float)(g * inv * sums[c + k] / m);
    }
    correct(lay, dx, x, mean, k1, k2);
    return SELFSUP_OK;
}
