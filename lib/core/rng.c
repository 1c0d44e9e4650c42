#include "rng.h"

#include <math.h>

enum { PHILOX_ROUNDS = 10 };

static const uint32_t PHILOX_M0 = 0xD2511F53u;
static const uint32_t PHILOX_M1 = 0xCD9E8D57u;
static const uint32_t PHILOX_W0 = 0x9E3779B9u; /* golden ratio */
static const uint32_t PHILOX_W1 = 0xBB67AE85u; /* sqrt(3) - 1 */

void selfsup__philox4x32(const uint32_t counter[4], uint64_t key,
                         uint32_t out[4])
{
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2],
             c3 = counter[3];
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < PHILOX_ROUNDS; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t selfsup__rng_stream(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t h = splitmix64(a);
    h = splitmix64(h ^ b);
    h = splitmix64(h ^ c);
    return splitmix64(h ^ d);
}

void selfsup__rng_init(selfsup__rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->counter = 0;
    r->used = 4;
}

uint32_t selfsup__rng_u32(selfsup__rng *r)
{
    if (r->used == 4) {
        uint32_t ctr[4] = {(uint32_t)r->counter, (uint32_t)(r->counter >> 32),
                           (uint32_t)r->stream, (uint32_t)(r->stream >> 32)};
        selfsup__philox4x32(ctr, r->seed, r->block);
        r->counter++;
        r->used = 0;
    }
    return r->block[r->used++];
}

float selfsup__rng_uniform(selfsup__rng *r)
{
    return selfsup__u32_to_unit_float(selfsup__rng_u32(r));
}

double selfsup__rng_uniform_double(selfsup__rng *r)
{
    uint64_t hi = selfsup__rng_u32(r) >> 5; /* 27 bits */
    uint64_t lo = selfsup__rng_u32(r) >> 6; /* 26 bits */
    return (double)(hi * 67108864u + lo) * (1.0 / 9007199254740992.0);
}

uint32_t selfsup__rng_below(selfsup__rng *r, uint32_t n)
{
    /* Lemire's multiply-and-reject: exact, and rarely draws twice. */
    uint64_t m = (uint64_t)selfsup__rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)selfsup__rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double selfsup__rng_normal(selfsup__rng *r)
{
    double u1 = 1.0 - selfsup__rng_uniform_double(r); /* (0, 1]: log is finite */
    double u2 = selfsup__rng_uniform_double(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
