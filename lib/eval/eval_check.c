#include "eval_check.h"

#include "core/error.h"
#include "core/tensor_impl.h"

selfsup_status selfsup__eval_check_matrix(const selfsup_tensor *t,
                                          const char *where, const char *name,
                                          int64_t width)
{
    char have[160];
    selfsup__shape_format(have, sizeof have, t->ndim, t->dims);
    if (t->ndim != 2)
        return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                             "%s has shape %s, not (rows, dim)", name, have);
    if (width > 0 && t->dims[1] != width)
        return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                             "%s has shape %s, not (rows, %lld) like the "
                             "first features",
                             name, have, (long long)width);
    return SELFSUP_OK;
}

selfsup_status selfsup__eval_check_labels(const int32_t *labels, int64_t count,
                                          int n_classes, const char *where,
                                          const char *name)
{
    for (int64_t i = 0; i < count; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                 "%s[%lld] = %d is outside [0, n_classes = "
                                 "%d)",
                                 name, (long long)i, (int)labels[i], n_classes);
    return SELFSUP_OK;
}
