/* Internal: a counter-based random generator (Philox4x32-10).
 *
 * A draw is a pure function of (seed, stream, counter): no state is shared
 * between threads, so results never depend on the thread count or on the
 * order in which samples are processed. Modules derive a stream from what
 * identifies a draw, e.g. (epoch, sample index, view, op), with
 * selfsup__rng_stream(). */
#ifndef SELFSUP_CORE_RNG_H
#define SELFSUP_CORE_RNG_H

#include <stdint.h>

/* One Philox4x32-10 block: four 32-bit words from a 128-bit counter and a
 * 64-bit key. */
void selfsup__philox4x32(const uint32_t counter[4], uint64_t key,
                         uint32_t out[4]);

/* Mixes up to four identifiers into one stream number (splitmix64 finaliser
 * chained over the values). */
uint64_t selfsup__rng_stream(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/* A sequential reader over one (seed, stream): draws counter 0, 1, 2, ...
 * A plain value type: copy it to fork, store it to checkpoint. */
typedef struct selfsup__rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t counter; /* next block to generate */
    uint32_t block[4];
    int used; /* words of block already handed out; 4 = none left */
} selfsup__rng;

void selfsup__rng_init(selfsup__rng *r, uint64_t seed, uint64_t stream);
uint32_t selfsup__rng_u32(selfsup__rng *r);
/* Uniform in [0, 1) with 24 random bits. */
float selfsup__rng_uniform(selfsup__rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double selfsup__rng_uniform_double(selfsup__rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint32_t selfsup__rng_below(selfsup__rng *r, uint32_t n);
/* Standard normal (Box-Muller on two doubles). */
double selfsup__rng_normal(selfsup__rng *r);

/* Maps 32 random bits to [0, 1) with 24 bits of precision. */
static inline float selfsup__u32_to_unit_float(uint32_t x)
{
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

#endif
