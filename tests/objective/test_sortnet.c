/* The differentiable sorting network: reference values, exact sorting at
 * high steepness, doubly stochastic P, gradients against finite
 * differences, the networks' structure, and its error paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "helpers.h"
#include "objective/sortnet_impl.h"
#include "suites.h"

static const char *const networks[] = {"odd_even", "bitonic"};
static const char *const relaxes[] = {"cauchy", "logistic", "optimal"};

static selfsup_sortnet *sortnet(const char *network, int n, const char *relax,
                                double steepness)
{
    char spec[128];
    snprintf(spec, sizeof spec, "%s:n=%d,relax=%s,steepness=%.17g", network, n,
             relax, steepness);
    selfsup_sortnet *s = NULL;
    ss_assert_ok(selfsup_sortnet_create(&s, spec));
    ck_assert_int_eq(selfsup_sortnet_wires(s), n);
    return s;
}

/* ------------------------------------------------------------ reference */

/* tests/reference/objectives.py SORT_CASES: every network and relaxation
 * with (n, steepness) in this list, 3 rows each. n = 11 and 22 are where
 * the bitonic network's padding matters (see docs/objectives.md). */
static const struct {
    int n;
    double steepness;
} sort_sizes[] = {{3, 1.0}, {8, 1.0}, {11, 1.0}, {11, 4.0}, {22, 1.0}};
enum { SORT_SIZES = 5, SORT_ROWS = 3 };

START_TEST(sortnet_matches_reference)
{
    const char *network = networks[_i / (3 * SORT_SIZES)];
    const char *relax = relaxes[(_i / SORT_SIZES) % 3];
    int n = sort_sizes[_i % SORT_SIZES].n;
    double steep = sort_sizes[_i % SORT_SIZES].steepness;
    char prefix[96], name[128];
    snprintf(prefix, sizeof prefix, "sort_%s_%s_%d_%d", network, relax, n,
             (int)steep);
    const ss_golden *g = golden();
#define GOLD(suffix, count)                                                    \
    (snprintf(name, sizeof name, "%s_%s", prefix, suffix),                     \
     ss_golden_get(g, name, (count)))
    selfsup_tensor *x = tensor_2d(SORT_ROWS, n, GOLD("x", SORT_ROWS * n));
    selfsup_tensor *wy = tensor_2d(SORT_ROWS, n, GOLD("wy", SORT_ROWS * n));
    selfsup_tensor *wp =
        tensor_3d(SORT_ROWS, n, n, GOLD("wp", SORT_ROWS * n * n));
    selfsup_tensor *y = tensor_2d(SORT_ROWS, n, NULL);
    selfsup_tensor *p = tensor_3d(SORT_ROWS, n, n, NULL);
    selfsup_tensor *gx = tensor_2d(SORT_ROWS, n, NULL);
    selfsup_sortnet *s = sortnet(network, n, relax, steep);

    ss_assert_ok(selfsup_sortnet_forward(s, x, y, p));
    /* double inside, float out: only the final rounding (6e-8) and the
     * float inputs' ulp remain */
    ss_assert_all_close(selfsup_tensor_data(y), GOLD("sorted", SORT_ROWS * n),
                        SORT_ROWS * n, 1e-6, 1e-6);
    ss_assert_all_close(selfsup_tensor_data(p), GOLD("perm", SORT_ROWS * n * n),
                        SORT_ROWS * n * n, 1e-6, 1e-6);
    ss_assert_ok(selfsup_sortnet_backward(s, x, wy, wp, gx));
    ss_assert_all_close(selfsup_tensor_data(gx), GOLD("grad", SORT_ROWS * n),
                        SORT_ROWS * n, 2e-6, 2e-6);
#undef GOLD
    /* either output alone gives the same numbers */
    selfsup_tensor *y2 = tensor_2d(SORT_ROWS, n, NULL);
    ss_assert_ok(selfsup_sortnet_forward(s, x, y2, NULL));
    ck_assert(memcmp(selfsup_tensor_data(y), selfsup_tensor_data(y2),
                     sizeof(float) * SORT_ROWS * n) == 0);
    selfsup_sortnet_destroy(s);
    selfsup_tensor *all[] = {x, wy, wp, y, p, gx, y2};
    tensors_free(all, 7);
}
END_TEST

/* -------------------------------------------------------- sorting exactly */

/* At the steepest setting every comparator is a hard min/max for inputs
 * 0.04 apart (cauchy's alpha is then within 1/(pi 4e7) of 0 or 1): the
 * values come out ascending and P is the permutation matrix of the sort. */
START_TEST(sorts_exactly_at_high_steepness)
{
    const char *network = networks[_i];
    selfsup__rng r;
    selfsup__rng_init(&r, 7, (uint64_t)_i);
    for (int n = 2; n <= 40; n++) {
        float xv[40];
        int order[40];
        for (int i = 0; i < n; i++)
            order[i] = i;
        for (int i = n - 1; i > 0; i--) { /* random ranks */
            int j = (int)selfsup__rng_below(&r, (uint32_t)i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < n; i++)
            xv[i] = 0.05f * (float)order[i] - 1.0f +
                    0.01f * selfsup__rng_uniform(&r);
        for (int k = 0; k < 3; k++) {
            selfsup_sortnet *s = sortnet(network, n, relaxes[k], 1e9);
            selfsup_tensor *x = tensor_2d(1, n, xv);
            selfsup_tensor *y = tensor_2d(1, n, NULL);
            selfsup_tensor *p = tensor_3d(1, n, n, NULL);
            ss_assert_ok(selfsup_sortnet_forward(s, x, y, p));
            const float *yd = selfsup_tensor_data(y);
            const float *pd = selfsup_tensor_data(p);
            /* input i has rank order[i]: sorted[order[i]] = x[i] and P
             * is 1 exactly at (i, order[i]) */
            float want_y[40], want_p[40 * 40] = {0};
            for (int i = 0; i < n; i++) {
                want_y[order[i]] = xv[i];
                want_p[i * n + order[i]] = 1.0f;
            }
            ss_assert_all_close(yd, want_y, n, 1e-5, 0);
            ss_assert_all_close(pd, want_p, n * n, 1e-5, 0);
            selfsup_sortnet_destroy(s);
            selfsup_tensor *all[] = {x, y, p};
            tensors_free(all, 3);
        }
    }
}
END_TEST

/* The 0-1 principle: a comparator network sorts every input iff it sorts
 * every 0/1 input. Exhaustive up to 16 wires, with hard comparators. */
START_TEST(networks_sort_every_zero_one_input)
{
    for (int net = 0; net < 2; net++)
        for (int n = 1; n <= 16; n++) {
            selfsup_sortnet *s = sortnet(networks[net], n, "cauchy", 1);
            int64_t count = selfsup_sortnet_comparator_count(s);
            int *lo = malloc(sizeof(int) * (size_t)(count + 1));
            int *hi = malloc(sizeof(int) * (size_t)(count + 1));
            for (int64_t k = 0; k < count; k++)
                ss_assert_ok(selfsup_sortnet_comparator(s, k, &lo[k], &hi[k]));
            long unsorted = -1; /* the first input left unsorted */
            for (uint32_t bits = 0; bits < (1u << n) && unsorted < 0; bits++) {
                int v[16];
                for (int i = 0; i < n; i++)
                    v[i] = (bits >> i) & 1;
                for (int64_t k = 0; k < count; k++)
                    if (v[lo[k]] > v[hi[k]]) {
                        int t = v[lo[k]];
                        v[lo[k]] = v[hi[k]];
                        v[hi[k]] = t;
                    }
                for (int i = 1; i < n; i++)
                    if (v[i - 1] > v[i])
                        unsorted = (long)bits;
            }
            ck_assert_msg(unsorted < 0, "%s n=%d does not sort input 0x%lx",
                          networks[net], n, unsorted);
            free(lo);
            free(hi);
            selfsup_sortnet_destroy(s);
        }
}
END_TEST

/* The layouts the contract states: odd_even has n layers with
 * (s, s+1), (s+2, s+3), ... from s = l mod 2; bitonic on a power of two has
 * log2(n)(log2(n)+1)/2 layers of n/2 comparators; in both every layer
 * touches each wire at most once and every comparator has lo < hi. */
START_TEST(network_layouts)
{
    for (int n = 1; n <= 40; n++) {
        selfsup_sortnet *s = sortnet("odd_even", n, "cauchy", 1);
        ck_assert_int_eq(selfsup_sortnet_layer_count(s), n);
        int64_t k = 0, wrong = -1;
        for (int l = 0; l < n; l++)
            for (int w = l % 2; w + 1 < n; w += 2, k++) {
                int lo = -1, hi = -1;
                if (selfsup_sortnet_comparator(s, k, &lo, &hi) != SELFSUP_OK ||
                    lo != w || hi != w + 1)
                    wrong = wrong < 0 ? k : wrong;
            }
        ck_assert_msg(wrong < 0, "odd_even n=%d: comparator %lld is wrong", n,
                      (long long)wrong);
        ck_assert_int_eq(selfsup_sortnet_comparator_count(s), k);
        selfsup_sortnet_destroy(s);

        s = sortnet("bitonic", n, "cauchy", 1);
        int log_w = 0;
        while ((1 << log_w) < n)
            log_w++;
        int layers = log_w * (log_w + 1) / 2;
        ck_assert_int_eq(selfsup_sortnet_layer_count(s), layers);
        int64_t count = selfsup_sortnet_comparator_count(s);
        if (n == 1 << log_w)
            ck_assert_int_eq(count, (int64_t)layers * (n / 2));
        else
            ck_assert_int_lt(count, (int64_t)layers << (log_w - 1));
        selfsup_sortnet_destroy(s);
    }
}
END_TEST

/* Comparators of one layer touch each wire at most once, and every
 * comparator has lo < hi (the bitonic network is built ascending). */
START_TEST(layers_are_disjoint_and_ascending)
{
    for (int net = 0; net < 2; net++)
        for (int n = 1; n <= 40; n++) {
            const selfsup_sortnet *s = sortnet(networks[net], n, "cauchy", 1);
            int64_t bad = -1;
            for (int l = 0; l < s->layers; l++) {
                char used[40] = {0};
                for (int64_t q = s->layer_start[l]; q < s->layer_start[l + 1];
                     q++) {
                    int lo = s->lo[q], hi = s->hi[q];
                    if (!(0 <= lo && lo < hi && hi < n) || used[lo] || used[hi])
                        bad = bad < 0 ? q : bad;
                    else
                        used[lo] = used[hi] = 1;
                }
            }
            ck_assert_int_eq(s->layer_start[s->layers], s->count);
            ck_assert_msg(bad < 0, "%s n=%d: comparator %lld breaks a layer",
                          networks[net], n, (long long)bad);
            selfsup_sortnet_destroy((selfsup_sortnet *)s);
        }
}
END_TEST

/* ------------------------------------------------------ doubly stochastic */

/* Each comparator mixes two columns with weights (alpha, 1 - alpha) that
 * sum to 1 both ways, so P stays doubly stochastic at any steepness, and
 * the relaxed values are exactly x P. */
START_TEST(perm_is_doubly_stochastic)
{
    static const int sizes[] = {2, 7, 16, 33};
    static const double steeps[] = {0.01, 1.0, 100.0};
    enum { ROWS = 4 };
    for (int net = 0; net < 2; net++)
        for (int k = 0; k < 3; k++)
            for (int si = 0; si < 4; si++)
                for (int st = 0; st < 3; st++) {
                    int n = sizes[si];
                    float xv[ROWS * 33];
                    fill_normal(
                        xv, ROWS * n,
                        (uint64_t)(net * 100 + k * 10 + si + st * 1000));
                    selfsup_sortnet *s =
                        sortnet(networks[net], n, relaxes[k], steeps[st]);
                    selfsup_tensor *x = tensor_2d(ROWS, n, xv);
                    selfsup_tensor *y = tensor_2d(ROWS, n, NULL);
                    selfsup_tensor *p = tensor_3d(ROWS, n, n, NULL);
                    ss_assert_ok(selfsup_sortnet_forward(s, x, y, p));
                    const float *pd = selfsup_tensor_data(p);
                    const float *yd = selfsup_tensor_data(y);
                    for (int r = 0; r < ROWS; r++) {
                        const float *m = pd + r * n * n;
                        double worst_sum = 0, worst_xp = 0;
                        float lo = 1, hi = 0;
                        for (int i = 0; i < n; i++) {
                            double row = 0, col = 0, xp = 0;
                            for (int j = 0; j < n; j++) {
                                lo = fminf(lo, m[i * n + j]);
                                hi = fmaxf(hi, m[i * n + j]);
                                row += m[i * n + j];
                                col += m[j * n + i];
                                xp += (double)xv[r * n + j] * m[j * n + i];
                            }
                            worst_sum = fmax(worst_sum, fabs(row - 1.0));
                            worst_sum = fmax(worst_sum, fabs(col - 1.0));
                            worst_xp = fmax(worst_xp, fabs(yd[r * n + i] - xp));
                        }
                        /* n float32 roundings of entries <= 1 */
                        ck_assert_msg(worst_sum < 1e-6 && worst_xp < 1e-5 &&
                                          lo >= 0.0f && hi <= 1.0f,
                                      "%s/%s n=%d steep=%g: |sum - 1| %.3g, "
                                      "|y - xP| %.3g, entries in [%g, %g]",
                                      networks[net], relaxes[k], n, steeps[st],
                                      worst_sum, worst_xp, lo, hi);
                    }
                    selfsup_sortnet_destroy(s);
                    selfsup_tensor *all[] = {x, y, p};
                    tensors_free(all, 3);
                }
}
END_TEST

/* ---------------------------------------------------- finite differences */

/* L(x) = wy . sorted(x) + sum wp * P(x), in double through the row
 * kernels. */
static double row_loss(const selfsup_sortnet *s, const double *x,
                       const double *wy, const double *wp, double *work)
{
    int n = s->n;
    double *y = work, *tape = y + n, *pt = tape + 3 * s->count;
    memcpy(y, x, sizeof(double) * (size_t)n);
    selfsup__sortnet_values_forward(s, y, tape);
    selfsup__sortnet_perm_forward(s, tape, pt);
    double l = 0;
    for (int i = 0; i < n; i++) {
        l += wy[i] * y[i];
        for (int c = 0; c < n; c++)
            l += wp[i * n + c] * pt[c * n + i];
    }
    return l;
}

/* Central differences with h = 1e-6 in double: truncation h^2 |L'''| ~
 * 1e-11 and rounding 1e-16 |L| / h ~ 1e-9 for these O(10) losses, so
 * 1e-6 absolute leaves a wide margin while a wrong term (O(0.1) or more)
 * cannot pass. */
START_TEST(backward_matches_finite_differences)
{
    static const int sizes[] = {2, 5, 9, 16};
    static const double steeps[] = {0.5, 3.0};
    const char *network = networks[_i / 3];
    const char *relax = relaxes[_i % 3];
    for (int si = 0; si < 4; si++)
        for (int st = 0; st < 2; st++) {
            int n = sizes[si];
            selfsup_sortnet *s = sortnet(network, n, relax, steeps[st]);
            float buf[16 + 16 + 256];
            fill_normal(buf, 2 * n + n * n,
                        (uint64_t)(_i * 100 + si * 10 + st));
            double x[16], wy[16], wp[256], gx[16], gx1[16];
            for (int i = 0; i < n; i++) {
                x[i] = buf[i];
                wy[i] = buf[n + i];
            }
            for (int i = 0; i < n * n; i++)
                wp[i] = buf[2 * n + i];
            double *work = malloc(sizeof(double) *
                                  (size_t)(selfsup__sortnet_backward_work(s) +
                                           4 * n + 3 * s->count + n * n));
            selfsup__sortnet_backward_row(s, x, wy, wp, gx, work);
            /* each part alone adds up to the whole */
            selfsup__sortnet_backward_row(s, x, wy, NULL, gx1, work);
            double gx2[16];
            selfsup__sortnet_backward_row(s, x, NULL, wp, gx2, work);
            double worst_split = 0;
            for (int i = 0; i < n; i++) {
                worst_split = fmax(worst_split, fabs(gx1[i] + gx2[i] - gx[i]));
                double xp[16], xm[16], h = 1e-6;
                memcpy(xp, x, sizeof xp);
                memcpy(xm, x, sizeof xm);
                xp[i] += h;
                xm[i] -= h;
                double fd = (row_loss(s, xp, wy, wp, work) -
                             row_loss(s, xm, wy, wp, work)) /
                            (2 * h);
                if (!(fabs(fd - gx[i]) < 1e-6 + 1e-6 * fabs(fd)))
                    ck_abort_msg("%s/%s n=%d steep=%g: dL/dx[%d] = %.12g, "
                                 "finite difference %.12g",
                                 network, relax, n, steeps[st], i, gx[i], fd);
            }
            ck_assert_msg(worst_split < 1e-12 * (1 + fabs(gx[0])),
                          "values and P parts do not add up: %.3g",
                          worst_split);
            free(work);
            selfsup_sortnet_destroy(s);
        }
}
END_TEST

/* GroCo's path: L = g^T P m through perm_apply (P m in one reverse pass)
 * and the rank-1 backward, against the dense P and finite differences. */
START_TEST(rank_one_path_matches_dense)
{
    const char *network = networks[_i / 3];
    const char *relax = relaxes[_i % 3];
    int n = 13;
    selfsup_sortnet *s = sortnet(network, n, relax, 2.0);
    float buf[3 * 13];
    fill_normal(buf, 3 * n, 99 + (uint64_t)_i);
    double x[13], g[13], m[13];
    for (int i = 0; i < n; i++) {
        x[i] = buf[i];
        g[i] = buf[n + i];
        m[i] = buf[2 * n + i];
    }
    int64_t count = s->count;
    double *tape = malloc(sizeof(double) * (size_t)(3 * count));
    double *dbeta = malloc(sizeof(double) * (size_t)count);
    double *galpha = calloc((size_t)count, sizeof(double));
    double *pt = malloc(sizeof(double) * (size_t)(n * n));
    double y[13], beta[13], gamma[13];
    memcpy(y, x, sizeof y);
    selfsup__sortnet_values_forward(s, y, tape);
    selfsup__sortnet_perm_forward(s, tape, pt);
    memcpy(beta, m, sizeof beta);
    selfsup__sortnet_perm_apply(s, tape, beta, dbeta);
    double wp[13 * 13];
    for (int r = 0; r < n; r++) {
        double pm = 0;
        for (int c = 0; c < n; c++) {
            pm += pt[c * n + r] * m[c];
            wp[r * n + c] = g[r] * m[c]; /* dense dL/dP = g m^T */
        }
        ss_assert_close(beta[r], pm, 1e-13, 1e-12);
    }
    memcpy(gamma, g, sizeof gamma);
    selfsup__sortnet_perm_rank1_backward(s, tape, gamma, dbeta, galpha);
    double lambda[13] = {0};
    selfsup__sortnet_values_backward(s, tape, lambda, galpha);
    double *work =
        malloc(sizeof(double) * (size_t)selfsup__sortnet_backward_work(s));
    double dense[13];
    selfsup__sortnet_backward_row(s, x, NULL, wp, dense, work);
    for (int i = 0; i < n; i++)
        ss_assert_close(lambda[i], dense[i], 1e-12, 1e-10);
    free(work);
    free(tape);
    free(dbeta);
    free(galpha);
    free(pt);
    selfsup_sortnet_destroy(s);
}
END_TEST

TCase *sortnet_tcase(void)
{
    TCase *tc = tcase_create("sortnet");
    tcase_add_unchecked_fixture(tc, golden_setup, golden_teardown);
    tcase_add_loop_test(tc, sortnet_matches_reference, 0, 2 * 3 * SORT_SIZES);
    tcase_add_loop_test(tc, sorts_exactly_at_high_steepness, 0, 2);
    tcase_add_test(tc, networks_sort_every_zero_one_input);
    tcase_add_test(tc, network_layouts);
    tcase_add_test(tc, layers_are_disjoint_and_ascending);
    tcase_add_test(tc, perm_is_doubly_stochastic);
    tcase_add_loop_test(tc, backward_matches_finite_differences, 0, 6);
    tcase_add_loop_test(tc, rank_one_path_matches_dense, 0, 6);
    return tc;
}

/* ------------------------------------------------------------- errors */

static void expect_create_error(const char *spec, const char *needle)
{
    selfsup_sortnet *s = (selfsup_sortnet *)(uintptr_t)0x5a;
    ss_assert_fails(selfsup_sortnet_create(&s, spec),
                    SELFSUP_ERR_INVALID_ARGUMENT, needle);
    ck_assert_ptr_eq(s, (selfsup_sortnet *)(uintptr_t)0x5a);
}

START_TEST(sortnet_create_errors)
{
    ss_assert_fails(selfsup_sortnet_create(NULL, "odd_even:n=3"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    expect_create_error(NULL, "spec is NULL");
    expect_create_error("", "not a name");
    expect_create_error("quicksort:n=4", "unknown network \"quicksort\"");
    expect_create_error("odd_even", "lacks the number of wires n");
    expect_create_error("bitonic:relax=cauchy", "lacks the number of wires");
    expect_create_error("odd_even:n=0", "n = 0 is outside [1, 1024]");
    expect_create_error("bitonic:n=1025", "n = 1025 is outside [1, 1024]");
    expect_create_error("odd_even:n=four", "n = \"four\" is not an integer");
    expect_create_error("odd_even:n=4,relax=soft",
                        "relax = \"soft\" is not one of cauchy, logistic, "
                        "optimal");
    expect_create_error("odd_even:n=4,steepness=0", "steepness = 0 is outside");
    expect_create_error("odd_even:n=4,steepness=-2", "steepness = -2");
    expect_create_error("odd_even:n=4,steepness=nan", "not a finite number");
    expect_create_error("odd_even:n=4,steepness=1e10", "steepness = 1e+10");
    expect_create_error("odd_even:n=4,temperature=1",
                        "unknown key \"temperature\"");
    ck_assert_int_eq(selfsup_sortnet_wires(NULL), 0);
    ck_assert_int_eq(selfsup_sortnet_comparator_count(NULL), 0);
    ck_assert_int_eq(selfsup_sortnet_layer_count(NULL), 0);
    selfsup_sortnet_destroy(NULL);

    selfsup_sortnet *s = sortnet("odd_even", 4, "cauchy", 1);
    int lo = -7, hi = -7;
    ss_assert_fails(selfsup_sortnet_comparator(NULL, 0, &lo, &hi),
                    SELFSUP_ERR_INVALID_ARGUMENT, "s is NULL");
    ss_assert_fails(selfsup_sortnet_comparator(s, 6, &lo, &hi),
                    SELFSUP_ERR_INVALID_ARGUMENT, "k = 6 is outside 0..5");
    ss_assert_fails(selfsup_sortnet_comparator(s, -1, &lo, &hi),
                    SELFSUP_ERR_INVALID_ARGUMENT, "k = -1");
    ss_assert_fails(selfsup_sortnet_comparator(s, 0, NULL, &hi),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lo is NULL");
    ck_assert(lo == -7 && hi == -7);
    selfsup_sortnet_destroy(s);
}
END_TEST

static int all_equal(const selfsup_tensor *t, float value)
{
    const float *d = selfsup_tensor_data(t);
    for (int64_t i = 0; i < selfsup_tensor_numel(t); i++)
        if (d[i] != value)
            return 0;
    return 1;
}

START_TEST(sortnet_forward_backward_errors)
{
    selfsup_sortnet *s = sortnet("bitonic", 5, "logistic", 2);
    float xv[10] = {3, 1, 2, 5, 4, 0, -1, 2, 7, 1};
    selfsup_tensor *x = tensor_2d(2, 5, xv);
    selfsup_tensor *y = tensor_2d(2, 5, NULL);
    selfsup_tensor *p = tensor_3d(2, 5, 5, NULL);
    selfsup_tensor *gx = tensor_2d(2, 5, NULL);
    selfsup_tensor *bad = tensor_2d(2, 4, NULL);
    selfsup_tensor *bad3 = tensor_3d(2, 5, 4, NULL);
    selfsup_tensor *rows3 = tensor_2d(3, 5, NULL);
    selfsup_tensor *flat = NULL;
    ss_assert_ok(selfsup_tensor_create(&flat, 1, (int64_t[]){5}));
    ss_assert_ok(selfsup_tensor_fill(y, 42.0f));
    ss_assert_ok(selfsup_tensor_fill(p, 42.0f));
    ss_assert_ok(selfsup_tensor_fill(gx, 42.0f));

    ss_assert_fails(selfsup_sortnet_forward(NULL, x, y, p),
                    SELFSUP_ERR_INVALID_ARGUMENT, "s is NULL");
    ss_assert_fails(selfsup_sortnet_forward(s, NULL, y, p),
                    SELFSUP_ERR_INVALID_ARGUMENT, "x is NULL");
    ss_assert_fails(selfsup_sortnet_forward(s, bad, y, p), SELFSUP_ERR_SHAPE,
                    "x has shape (2, 4), not (rows, 5)");
    ss_assert_fails(selfsup_sortnet_forward(s, flat, y, p), SELFSUP_ERR_SHAPE,
                    "x has shape (5), not (rows, 5)");
    ss_assert_fails(selfsup_sortnet_forward(s, x, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "both NULL");
    ss_assert_fails(selfsup_sortnet_forward(s, x, rows3, p), SELFSUP_ERR_SHAPE,
                    "sorted has shape (3, 5), not (2, 5)");
    ss_assert_fails(selfsup_sortnet_forward(s, x, y, bad3), SELFSUP_ERR_SHAPE,
                    "perm has shape (2, 5, 4), not (2, 5, 5)");
    xv[7] = NAN;
    selfsup_tensor *xnan = tensor_2d(2, 5, xv);
    ss_assert_fails(selfsup_sortnet_forward(s, xnan, y, p), SELFSUP_ERR_NUMERIC,
                    "x[7] = nan is not finite");
    ck_assert(all_equal(y, 42.0f) && all_equal(p, 42.0f));

    ss_assert_fails(selfsup_sortnet_backward(NULL, x, y, p, gx),
                    SELFSUP_ERR_INVALID_ARGUMENT, "s is NULL");
    ss_assert_fails(selfsup_sortnet_backward(s, NULL, y, p, gx),
                    SELFSUP_ERR_INVALID_ARGUMENT, "x is NULL");
    ss_assert_fails(selfsup_sortnet_backward(s, bad, y, p, gx),
                    SELFSUP_ERR_SHAPE, "x has shape (2, 4)");
    ss_assert_fails(selfsup_sortnet_backward(s, x, NULL, NULL, gx),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "grad_sorted and grad_perm are both NULL");
    ss_assert_fails(selfsup_sortnet_backward(s, x, rows3, p, gx),
                    SELFSUP_ERR_SHAPE, "grad_sorted has shape (3, 5)");
    ss_assert_fails(selfsup_sortnet_backward(s, x, y, bad3, gx),
                    SELFSUP_ERR_SHAPE, "grad_perm has shape (2, 5, 4)");
    ss_assert_fails(selfsup_sortnet_backward(s, x, y, p, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "grad_x is NULL");
    ss_assert_fails(selfsup_sortnet_backward(s, x, y, p, bad),
                    SELFSUP_ERR_SHAPE, "grad_x has shape (2, 4), not (2, 5)");
    ss_assert_fails(selfsup_sortnet_backward(s, xnan, y, p, gx),
                    SELFSUP_ERR_NUMERIC, "x[7] = nan");
    ss_assert_fails(selfsup_sortnet_backward(s, x, xnan, p, gx),
                    SELFSUP_ERR_NUMERIC, "grad_sorted[7] = nan");
    ck_assert(all_equal(gx, 42.0f));

    /* backward may write over its own inputs */
    selfsup_tensor *g2 = tensor_2d(2, 5, NULL);
    ss_assert_ok(selfsup_sortnet_backward(s, x, y, p, g2));
    ss_assert_ok(selfsup_sortnet_backward(s, x, y, p, y));
    ck_assert(memcmp(selfsup_tensor_data(g2), selfsup_tensor_data(y),
                     sizeof(float) * 10) == 0);

    selfsup_sortnet_destroy(s);
    selfsup_tensor *all[] = {x, y, p, gx, bad, bad3, rows3, flat, xnan, g2};
    tensors_free(all, 10);
}
END_TEST

TCase *sortnet_errors_tcase(void)
{
    TCase *tc = tcase_create("sortnet_errors");
    tcase_add_test(tc, sortnet_create_errors);
    tcase_add_test(tc, sortnet_forward_backward_errors);
    return tc;
}
