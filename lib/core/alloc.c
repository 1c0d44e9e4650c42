#include "alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

enum { ALIGNMENT = 64 };

static selfsup__fault alloc_fault;
static atomic_long alloc_live;

void *selfsup__malloc(size_t size)
{
    if (selfsup__fault_tick(&alloc_fault))
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
    selfsup__fault_arm(&alloc_fault, k);
}

long selfsup__alloc_count(void)
{
    return selfsup__fault_count(&alloc_fault);
}

long selfsup__alloc_live(void)
{
    return atomic_load(&alloc_live);
}
