/* PCA whitening: numpy's fit and output (tests/reference/whitening.py),
 * the whitened train rows' covariance, the encoder's recorded copy, error
 * paths and allocation failures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_test.h"
#include "test_support.h"

enum { N = 500, D = 12, N_TEST = 40 };

static selfsup_tensor *golden_tensor(const ss_golden *g, const char *name,
                                     int64_t rows, int64_t cols)
{
    const int64_t dims[2] = {rows, cols};
    selfsup_tensor *t = nn_tensor(2, dims);
    ss_assert_ok(selfsup_tensor_write(t, ss_golden_get(g, name, rows * cols),
                                      rows * cols));
    return t;
}

/* Fits with options and compares the projection and the whitened test
 * rows to numpy's. */
static void check_fit(const ss_golden *g, const char *options, int64_t k,
                      const char *proj_name, const char *out_name)
{
    selfsup_tensor *x = golden_tensor(g, "white_x", N, D);
    selfsup_tensor *x_test = golden_tensor(g, "white_x_test", N_TEST, D);
    selfsup_whitening *w = NULL;
    ss_assert_ok(selfsup_whitening_fit(&w, x, options));
    ck_assert_int_eq(selfsup_whitening_input_dim(w), D);
    ck_assert_int_eq(selfsup_whitening_components(w), k);
    float mean[D], *proj = malloc((size_t)(k * D) * sizeof *proj);
    ss_assert_ok(selfsup_whitening_read(w, mean, proj));
    /* mean: a float32 rounding of a double sum */
    ss_assert_all_close(mean, ss_golden_get(g, "white_mean", D), D, 1e-6f,
                        1e-6f);
    /* The covariance is accumulated in float32 GEMMs (relative 1e-6 of its
     * largest entry); the smallest component's scale 1/sqrt(lambda) and
     * direction move by that over lambda and over the eigengap: up to 4e-5
     * in the outputs here (|y| ~ 1). */
    ss_assert_all_close(proj, ss_golden_get(g, proj_name, k * D), k * D, 2e-4f,
                        2e-4f);
    const int64_t od[2] = {N_TEST, k};
    selfsup_tensor *y = nn_tensor(2, od);
    ss_assert_ok(selfsup_whitening_apply(w, x_test, y));
    ss_assert_all_close(selfsup_tensor_data(y),
                        ss_golden_get(g, out_name, N_TEST * k), N_TEST * k,
                        2e-4f, 2e-4f);
    free(proj);
    selfsup_tensor_destroy(y);
    selfsup_whitening_destroy(w);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(x_test);
}

START_TEST(fit_matches_numpy)
{
    ss_golden *g = ss_golden_load("whitening.txt");
    /* the default keeps all 12 components (fewer than 256), epsilon 1e-5 */
    check_fit(g, NULL, D, "white_projection_k12", "white_test_k12");
    check_fit(g, "pca:components=5,epsilon=1e-2", 5, "white_projection_k5",
              "white_test_k5");
    /* more components than features means all of them */
    check_fit(g, "pca:components=1000", D, "white_projection_k12",
              "white_test_k12");
    ss_golden_free(g);
}
END_TEST

/* The whitened train rows are centred with covariance
 * diag(lambda / (lambda + eps)): the identity up to epsilon. */
START_TEST(whitened_rows_have_identity_covariance)
{
    ss_golden *g = ss_golden_load("whitening.txt");
    selfsup_tensor *x = golden_tensor(g, "white_x", N, D);
    selfsup_whitening *w;
    ss_assert_ok(selfsup_whitening_fit(&w, x, "pca:epsilon=0"));
    const int64_t od[2] = {N, D};
    selfsup_tensor *y = nn_tensor(2, od);
    ss_assert_ok(selfsup_whitening_apply(w, x, y));
    const float *v = selfsup_tensor_data(y);
    for (int a = 0; a < D; a++) {
        double mean = 0;
        for (int i = 0; i < N; i++)
            mean += v[i * D + a];
        ck_assert_msg(fabs(mean / N) < 1e-4, "mean of column %d: %g", a,
                      mean / N);
        for (int b = 0; b <= a; b++) {
            double c = 0;
            for (int i = 0; i < N; i++)
                c += (double)v[i * D + a] * v[i * D + b];
            c /= N - 1;
            ck_assert_msg(fabs(c - (a == b)) < 1e-3, "cov[%d][%d] = %g", a, b,
                          c);
        }
    }
    selfsup_tensor_destroy(y);
    selfsup_whitening_destroy(w);
    selfsup_tensor_destroy(x);
    ss_golden_free(g);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    selfsup_whitening *w = (selfsup_whitening *)&w, *keep = w;
    const int64_t d2[2] = {6, 3}, d1[1] = {6}, one[2] = {1, 3};
    selfsup_tensor *x = nn_random_tensor(2, d2, 1, -1, 1);
    selfsup_tensor *flat = nn_tensor(1, d1), *single = nn_tensor(2, one);
    ss_assert_fails(selfsup_whitening_fit(NULL, x, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ss_assert_fails(selfsup_whitening_fit(&w, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "features");
    ss_assert_fails(selfsup_whitening_fit(&w, flat, NULL), SELFSUP_ERR_SHAPE,
                    "(N, D)");
    ss_assert_fails(selfsup_whitening_fit(&w, single, NULL), SELFSUP_ERR_SHAPE,
                    "N >= 2");
    ss_assert_fails(selfsup_whitening_fit(&w, x, "zca"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not pca");
    ss_assert_fails(selfsup_whitening_fit(&w, x, "pca:components=0"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "components");
    ss_assert_fails(selfsup_whitening_fit(&w, x, "pca:epsilon=2"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "epsilon");
    ss_assert_fails(selfsup_whitening_fit(&w, x, "pca:shrink=1"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "shrink");
    float v[18];
    ss_assert_ok(selfsup_tensor_read(x, v, 18));
    float saved = v[4];
    v[4] = NAN;
    ss_assert_ok(selfsup_tensor_write(x, v, 18));
    ss_assert_fails(selfsup_whitening_fit(&w, x, NULL), SELFSUP_ERR_NUMERIC,
                    "features");
    v[4] = saved;
    ss_assert_ok(selfsup_tensor_write(x, v, 18));
    /* constant rows: nothing to whiten */
    selfsup_tensor *same = nn_tensor(2, d2);
    ss_assert_fails(selfsup_whitening_fit(&w, same, NULL), SELFSUP_ERR_NUMERIC,
                    "do not vary");
    /* rank 1 and no epsilon: the second component has no variance */
    float rank1[18];
    for (int i = 0; i < 18; i++)
        rank1[i] = (float)(i / 3) * (float)(1 + i % 3);
    ss_assert_ok(selfsup_tensor_write(same, rank1, 18));
    ss_assert_fails(selfsup_whitening_fit(&w, same, "pca:epsilon=0"),
                    SELFSUP_ERR_NUMERIC, "component 1 has no variance");
    ss_assert_ok(selfsup_whitening_fit(&w, same, NULL));
    selfsup_whitening_destroy(w);
    w = keep;

    const float mean[3] = {0, 0, 0}, proj[6] = {1, 0, 0, 0, 1, 0};
    float bad[6] = {1, 0, 0, 0, INFINITY, 0};
    ss_assert_fails(selfsup_whitening_create(&w, 3, 4, mean, proj),
                    SELFSUP_ERR_INVALID_ARGUMENT, "components 4");
    ss_assert_fails(selfsup_whitening_create(&w, 0, 1, mean, proj),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dim 0");
    ss_assert_fails(selfsup_whitening_create(&w, 3, 2, NULL, proj),
                    SELFSUP_ERR_INVALID_ARGUMENT, "mean");
    ss_assert_fails(selfsup_whitening_create(&w, 3, 2, mean, bad),
                    SELFSUP_ERR_NUMERIC, "projection[4]");
    ck_assert(w == keep);

    selfsup_whitening *p;
    ss_assert_ok(selfsup_whitening_create(&p, 3, 2, mean, proj));
    const int64_t wrong[2] = {6, 3}, out_dims[2] = {6, 2};
    selfsup_tensor *out = nn_tensor(2, out_dims), *out3 = nn_tensor(2, wrong);
    ss_assert_fails(selfsup_whitening_apply(p, flat, out), SELFSUP_ERR_SHAPE,
                    "(N, 3)");
    ss_assert_fails(selfsup_whitening_apply(p, x, out3), SELFSUP_ERR_SHAPE,
                    "out");
    ss_assert_ok(selfsup_whitening_apply(p, x, out));
    /* the projection picks the first two features */
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 2; k++)
            ck_assert(selfsup_tensor_data(out)[i * 2 + k] == v[i * 3 + k]);
    ck_assert_int_eq(selfsup_whitening_input_dim(NULL), 0);
    ck_assert_int_eq(selfsup_whitening_components(NULL), 0);
    selfsup_whitening_destroy(NULL);
    selfsup_whitening_destroy(p);
    selfsup_tensor_destroy(out);
    selfsup_tensor_destroy(out3);
    selfsup_tensor_destroy(same);
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(flat);
    selfsup_tensor_destroy(single);
}
END_TEST

/* The encoder keeps its own copy, clones copy it, NULL forgets it, and
 * the embedding width follows it. */
START_TEST(encoder_records_a_copy)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_encoder_create(&e, "mlp:in=4,hidden=8,out=3", 1));
    ck_assert_ptr_null(selfsup_encoder_whitening(e));
    ck_assert_int_eq(selfsup_encoder_embedding_dim(e), 3);
    const float mean[4] = {1, 2, 3, 4};
    float proj[8] = {1, 0, 0, 0, 0, 0, 0, 2};
    selfsup_whitening *w4, *w3;
    ss_assert_ok(selfsup_whitening_create(&w4, 4, 2, mean, proj));
    ss_assert_ok(selfsup_whitening_create(&w3, 3, 2, mean, proj));
    ss_assert_fails(selfsup_encoder_set_whitening(e, w4), SELFSUP_ERR_SHAPE,
                    "takes 4 features, the encoder gives 3");
    ss_assert_fails(selfsup_encoder_set_whitening(NULL, w3),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e");
    ss_assert_ok(selfsup_encoder_set_whitening(e, w3));
    selfsup_whitening_destroy(w3);
    const selfsup_whitening *got = selfsup_encoder_whitening(e);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(selfsup_encoder_embedding_dim(e), 2);
    float m[3], p[6];
    ss_assert_ok(selfsup_whitening_read(got, m, p));
    ck_assert(memcmp(m, mean, sizeof m) == 0 && memcmp(p, proj, sizeof p) == 0);
    selfsup_encoder *c;
    ss_assert_ok(selfsup_encoder_clone(&c, e));
    ck_assert_ptr_nonnull(selfsup_encoder_whitening(c));
    ck_assert(selfsup_encoder_whitening(c) != got);
    ck_assert_int_eq(selfsup_encoder_embedding_dim(c), 2);
    ss_assert_ok(selfsup_encoder_set_whitening(e, NULL));
    ck_assert_ptr_null(selfsup_encoder_whitening(e));
    ck_assert_int_eq(selfsup_encoder_embedding_dim(e), 3);
    ck_assert_int_eq(selfsup_encoder_embedding_dim(c), 2);
    ck_assert_int_eq(selfsup_encoder_embedding_dim(NULL), 0);
    ck_assert_ptr_null(selfsup_encoder_whitening(NULL));
    selfsup_encoder_destroy(c);
    selfsup_encoder_destroy(e);
    selfsup_whitening_destroy(w4);
}
END_TEST

static selfsup_status fit_apply_record(void *ctx)
{
    const selfsup_tensor *x = ctx;
    selfsup_whitening *w = NULL;
    selfsup_encoder *e = NULL, *c = NULL;
    selfsup_tensor *y = NULL;
    const int64_t od[2] = {selfsup_tensor_dim(x, 0), 3};
    selfsup_status s = selfsup_whitening_fit(&w, x, "pca:components=3");
    if (s == SELFSUP_OK)
        s = selfsup_tensor_create(&y, 2, od);
    if (s == SELFSUP_OK)
        s = selfsup_whitening_apply(w, x, y);
    if (s == SELFSUP_OK)
        s = selfsup_encoder_create(&e, "mlp:in=4,hidden=8,out=5", 1);
    if (s == SELFSUP_OK)
        s = selfsup_encoder_set_whitening(e, w);
    if (s == SELFSUP_OK)
        s = selfsup_encoder_clone(&c, e);
    selfsup_encoder_destroy(c);
    selfsup_encoder_destroy(e);
    selfsup_tensor_destroy(y);
    selfsup_whitening_destroy(w);
    return s;
}

START_TEST(allocation_failures_are_clean)
{
    const int64_t d[2] = {50, 5};
    selfsup_tensor *x = nn_random_tensor(2, d, 3, -1, 1);
    ss_sweep_alloc_failures(fit_apply_record, x, SELFSUP_OK);
    selfsup_tensor_destroy(x);
}
END_TEST

TCase *whitening_tcase(void)
{
    TCase *tc = tcase_create("whitening");
    tcase_add_test(tc, fit_matches_numpy);
    tcase_add_test(tc, whitened_rows_have_identity_covariance);
    tcase_add_test(tc, bad_arguments_are_refused);
    tcase_add_test(tc, encoder_records_a_copy);
    tcase_add_test(tc, allocation_failures_are_clean);
    return tc;
}
