#include "ema.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/threads.h"

/* target, online: n floats. */
static void ema_forward(float *target, const float *online, int64_t n,
                        float rate)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        target[i] += rate * (online[i] - target[i]);
}

selfsup_status selfsup__ema_update(float *target, const float *online,
                                   int64_t n, double tau)
{
    SS_CHECK_NOT_NULL(target);
    SS_CHECK_NOT_NULL(online);
    if (n < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "n = %lld is negative",
                       (long long)n);
    if (!(tau >= 0 && tau <= 1))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "tau = %g is outside [0, 1]", tau);
    uintptr_t t = (uintptr_t)target, o = (uintptr_t)online;
    uintptr_t bytes = (uintptr_t)n * sizeof(float);
    if (n > 0 && t < o + bytes && o < t + bytes)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "target and online overlap");
    selfsup__threads_apply();
    ema_forward(target, online, n, (float)(1.0 - tau));
    return SELFSUP_OK;
}
