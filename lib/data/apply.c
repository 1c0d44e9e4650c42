/* The augmentation entry points that read a dataset. They live in data/
 * so that augment/ needs nothing from data/: the dependency runs one way,
 * data -> augment -> core. */
#include <stdio.h>
#include <string.h>

#include "augment/views.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "dataset_impl.h"

selfsup_status selfsup_views_apply(const selfsup_views *v,
                                   const selfsup_dataset *d,
                                   const int64_t *indices, int64_t n,
                                   uint64_t seed, int64_t epoch,
                                   selfsup_tensor *const *out)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(v);
    SS_CHECK_NOT_NULL(d);
    SS_CHECK_NOT_NULL(indices);
    if (n < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "n = %lld is not positive",
                       (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (indices[i] < 0 || indices[i] >= d->count)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "indices[%lld] = %lld is outside 0..%lld",
                           (long long)i, (long long)indices[i],
                           (long long)d->count - 1);
    if (epoch < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "epoch = %lld is negative",
                       (long long)epoch);
    SS_CHECK_NOT_NULL(out);
    const int64_t want[4] = {n, d->channels, v->out_size, v->out_size};
    for (int i = 0; i < v->n_views; i++) {
        if (!out[i])
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "out[%d] is NULL", i);
        char name[32];
        snprintf(name, sizeof name, "out[%d]", i);
        SS_TRY(selfsup__tensor_expect_shape(out[i], __func__, name, 4, want));
    }
    SS_TRY(selfsup__views_check(v, d->channels, d->height, d->width, __func__));
    float *dst[SS_VIEWS_MAX];
    for (int i = 0; i < v->n_views; i++)
        dst[i] = selfsup__tensor_mut(out[i]);
    return selfsup__views_run(v, d->pixels, d->channels, d->height, d->width,
                              indices, n, seed, epoch, d->mean, d->std, dst,
                              __func__);
}

selfsup_status selfsup_augment_apply(const selfsup_augment *a,
                                     const selfsup_dataset *d, int64_t index,
                                     uint64_t seed, int64_t epoch, int view,
                                     selfsup_tensor *out)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(a);
    SS_CHECK_NOT_NULL(d);
    if (index < 0 || index >= d->count)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "index = %lld is outside 0..%lld", (long long)index,
                       (long long)d->count - 1);
    if (epoch < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "epoch = %lld is negative",
                       (long long)epoch);
    if (view < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "view = %d is negative",
                       view);
    SS_CHECK_NOT_NULL(out);
    SS_TRY(
        selfsup__augment_check(a, d->channels, d->height, d->width, __func__));
    int oh, ow;
    selfsup__augment_output_size(a, d->height, d->width, &oh, &ow);
    const int64_t want[3] = {d->channels, oh, ow};
    SS_TRY(selfsup__tensor_expect_shape(out, __func__, "out", 3, want));
    int64_t need =
        selfsup__augment_scratch(a, d->channels, d->height, d->width);
    float *scratch = selfsup__malloc(sizeof(float) * (size_t)need);
    if (!scratch)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %lld floats of scratch",
                       (long long)need);
    selfsup__augment_run(a, selfsup__tensor_mut(out), scratch,
                         d->pixels + index * selfsup__dataset_image_bytes(d),
                         d->channels, d->height, d->width, seed, epoch, index,
                         view, d->mean, d->std, NULL);
    selfsup__free(scratch);
    return SELFSUP_OK;
}

selfsup_status selfsup_views_normalization(const selfsup_views *v,
                                           const selfsup_dataset *d,
                                           float *mean, float *std)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(v);
    SS_CHECK_NOT_NULL(d);
    SS_CHECK_NOT_NULL(mean);
    SS_CHECK_NOT_NULL(std);
    SS_TRY(selfsup__views_check(v, d->channels, d->height, d->width, __func__));
    /* Successive normalisations compose: (((x - m1) / s1) - m2) / s2 is
     * (x - (m1 + m2 s1)) / (s1 s2). */
    double m[3] = {0, 0, 0}, s[3] = {1, 1, 1};
    const selfsup_augment *a = &v->pipelines[0];
    for (int k = 0; k < a->n_ops; k++) {
        const selfsup__aug_op *op = &a->ops[k];
        if (op->kind != SS_AUG_NORMALIZE)
            continue;
        for (int ch = 0; ch < d->channels; ch++) {
            int j = op->norm_count == 3 ? ch : 0;
            double mk = op->norm_auto ? d->mean[ch] : op->mean[j];
            double sk = op->norm_auto ? d->std[ch] : op->std[j];
            m[ch] += mk * s[ch];
            s[ch] *= sk;
        }
    }
    for (int ch = 0; ch < d->channels; ch++) {
        mean[ch] = (float)m[ch];
        std[ch] = (float)s[ch];
    }
    return SELFSUP_OK;
}
