/* Internal: every heap allocation of the library goes through here, so that
 * tests can make the k-th one fail and can count what is still live. */
#ifndef SELFSUP_CORE_ALLOC_H
#define SELFSUP_CORE_ALLOC_H

#include <stddef.h>

/* 64-byte aligned (a cache line and an AVX-512 vector); NULL on failure or
 * when the test hook says so. size 0 allocates one byte. */
void *selfsup__malloc(size_t size);
/* Zeroed; NULL also when count * size overflows. */
void *selfsup__calloc(size_t count, size_t size);
void selfsup__free(void *p);
char *selfsup__strdup(const char *s);

/* Test hooks. After selfsup__alloc_fail_at(k) with k >= 1 the k-th
 * allocation from now fails (once); k == 0 disarms. */
void selfsup__alloc_fail_at(long k);
/* Allocations made since the process started (failed ones included). */
long selfsup__alloc_count(void);
/* Allocations not yet freed. */
long selfsup__alloc_live(void);

#endif
