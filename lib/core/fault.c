#include "fault.h"

long selfsup__fault_next(selfsup__fault *f)
{
    return atomic_fetch_add(&f->count, 1) + 1;
}

int selfsup__fault_fires(selfsup__fault *f)
{
    long left = atomic_load(&f->countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&f->countdown, &left, left - 1))
            return left == 1;
    }
    return 0;
}

int selfsup__fault_tick(selfsup__fault *f)
{
    selfsup__fault_next(f);
    return selfsup__fault_fires(f);
}

void selfsup__fault_arm(selfsup__fault *f, long k)
{
    atomic_store(&f->countdown, k > 0 ? k : 0);
}

long selfsup__fault_count(selfsup__fault *f)
{
    return atomic_load(&f->count);
}
