#include "alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ALIGNMENT = 64 };

static atomic_long alloc_count;
static atomic_long alloc_live;
/* Allocations left before the armed failure; 0 when disarmed. */
static atomic_long fail_countdown;

static int should_fail(void)
{
    atomic_fetch_add(&alloc_count, 1);
    long left = atomic_load(&fail_countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &left, left - 1))
            return left == 1;
    }
    return 0;
}

void *selfsup__malloc(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, ALIGNMENT, size ? size : 1) != 0)
        return NULL;
    atomic_fetch_add(&alloc_live, 1);
    return p;
}

void *selfsup__calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = selfsup__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void selfsup__free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub(&alloc_live, 1);
    free(p);
}

char *selfsup__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = selfsup__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void selfsup__alloc_fail_at(long k)
{
    atomic_store(&fail_countdown, k > 0 ? k : 0);
}

long selfsup__alloc_count(void)
{
    return atomic_load(&alloc_count);
}

long selfsup__alloc_live(void)
{
    return atomic_load(&alloc_live);
}
