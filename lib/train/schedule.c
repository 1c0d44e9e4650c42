#include "schedule.h"

#include <math.h>
#include <stddef.h>

#include "core/error.h"

selfsup_status selfsup__cosine_schedule_init(selfsup__cosine_schedule *s,
                                             double base, double final,
                                             int64_t warmup, int64_t total)
{
    SS_CHECK_NOT_NULL(s);
    if (!isfinite(base) || base < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "base = %g is not a finite number >= 0", base);
    if (!isfinite(final) || final < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "final = %g is not a finite number >= 0", final);
    if (total < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "total = %lld is not positive", (long long)total);
    if (warmup < 0 || warmup > total)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "warmup = %lld is outside [0, total = %lld]",
                       (long long)warmup, (long long)total);
    *s = (selfsup__cosine_schedule){base, final, warmup, total};
    return SELFSUP_OK;
}

double selfsup__cosine_schedule_at(const selfsup__cosine_schedule *s,
                                   int64_t step)
{
    if (step < 0)
        step = 0;
    if (step < s->warmup)
        return s->base * (double)step / (double)s->warmup;
    if (step >= s->total)
        return s->final;
    double progress =
        (double)(step - s->warmup) / (double)(s->total - s->warmup);
    return s->final + (s->base - s->final) * 0.5 * (1.0 + cos(M_PI * progress));
}

double selfsup__byol_tau(double tau_base, int64_t k, int64_t K)
{
    if (K < 1)
        return tau_base;
    if (k < 0)
        k = 0;
    if (k > K)
        k = K;
    double c = cos(M_PI * (double)k / (double)K);
    return 1.0 - (1.0 - tau_base) * (c + 1.0) / 2.0;
}

double selfsup__scaled_lr(double base_lr, int64_t batch_size)
{
    return base_lr * (double)batch_size / 256.0;
}
