#include <math.h>

#include "core/rng.h"
#include "suites.h"
#include "test_support.h"

/* Known-answer vectors of Philox4x32-10 as published with the Random123
 * library (kat_vectors): counter, key (k1:k0), expected output. */
START_TEST(philox_known_answers)
{
    static const struct {
        uint32_t ctr[4];
        uint64_t key;
        uint32_t out[4];
    } kat[] = {
        {{0, 0, 0, 0}, 0, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         0xffffffffffffffffull,
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         0x299f31d0a4093822ull,
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (unsigned i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        selfsup__philox4x32(kat[i].ctr, kat[i].key, out);
        for (int w = 0; w < 4; w++)
            ck_assert_msg(out[w] == kat[i].out[w],
                          "vector %u word %d: %08x, expected %08x", i, w,
                          out[w], kat[i].out[w]);
    }
}
END_TEST

START_TEST(reader_is_a_pure_function_of_seed_and_stream)
{
    selfsup__rng a, b, c;
    selfsup__rng_init(&a, 11, 3);
    selfsup__rng_init(&b, 11, 3);
    selfsup__rng_init(&c, 11, 4);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = selfsup__rng_u32(&a);
        ck_assert_uint_eq(x, selfsup__rng_u32(&b));
        differ += x != selfsup__rng_u32(&c);
    }
    ck_assert_int_ge(differ, 98);
    /* Word i of the reader is word i % 4 of block i / 4. */
    selfsup__rng_init(&a, 11, 3);
    uint32_t block[4];
    const uint32_t ctr[4] = {2, 0, 3, 0};
    selfsup__philox4x32(ctr, 11, block);
    for (int i = 0; i < 8; i++)
        selfsup__rng_u32(&a);
    for (int w = 0; w < 4; w++)
        ck_assert_uint_eq(selfsup__rng_u32(&a), block[w]);
}
END_TEST

START_TEST(streams_mix_all_inputs)
{
    uint64_t base = selfsup__rng_stream(1, 2, 3, 4);
    ck_assert(base != selfsup__rng_stream(2, 1, 3, 4));
    ck_assert(base != selfsup__rng_stream(1, 2, 3, 5));
    ck_assert(base != selfsup__rng_stream(1, 2, 4, 3));
    ck_assert(base == selfsup__rng_stream(1, 2, 3, 4));
}
END_TEST

START_TEST(below_is_unbiased)
{
    selfsup__rng r;
    selfsup__rng_init(&r, 2024, 0);
    enum { N = 7, DRAWS = 70000 };
    int bins[N] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint32_t v = selfsup__rng_below(&r, N);
        ck_assert_uint_lt(v, N);
        bins[v]++;
    }
    double chi2 = 0, e = DRAWS / (double)N;
    for (int b = 0; b < N; b++)
        chi2 += (bins[b] - e) * (bins[b] - e) / e;
    ck_assert_msg(chi2 < 22.46, "chi2 = %g over 6 dof (p < 0.001)", chi2);
    ck_assert_uint_eq(selfsup__rng_below(&r, 1), 0);
}
END_TEST

START_TEST(uniform_and_normal_moments)
{
    selfsup__rng r;
    selfsup__rng_init(&r, 5, 77);
    enum { DRAWS = 100000 };
    double s = 0, s2 = 0, n1 = 0, n2 = 0, n4 = 0;
    for (int i = 0; i < DRAWS; i++) {
        double u = selfsup__rng_uniform(&r);
        double d = selfsup__rng_uniform_double(&r);
        ck_assert(u >= 0 && u < 1 && d >= 0 && d < 1);
        s += d;
        s2 += d * d;
        double z = selfsup__rng_normal(&r);
        ck_assert(isfinite(z));
        n1 += z;
        n2 += z * z;
        n4 += z * z * z * z;
    }
    ss_assert_close(s / DRAWS, 0.5, 0.005, 0);
    ss_assert_close(s2 / DRAWS, 1.0 / 3, 0.005, 0);
    ss_assert_close(n1 / DRAWS, 0.0, 0.016, 0);
    ss_assert_close(n2 / DRAWS, 1.0, 0.03, 0);
    ss_assert_close(n4 / DRAWS, 3.0, 0.15, 0); /* Gaussian kurtosis */
}
END_TEST

TCase *rng_tcase(void)
{
    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, philox_known_answers);
    tcase_add_test(tc, reader_is_a_pure_function_of_seed_and_stream);
    tcase_add_test(tc, streams_mix_all_inputs);
    tcase_add_test(tc, below_is_unbiased);
    tcase_add_test(tc, uniform_and_normal_moments);
    return tc;
}
