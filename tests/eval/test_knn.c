#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval_fixtures.h"
#include "suites.h"

/* Against the float64 reference: every prediction the reference marks
 * robust (float32 rounding of the similarities cannot flip it; see
 * tests/reference/eval.py) must match exactly; top-1 and top-5 may differ
 * from the reference only by the rows that are not robust. */
START_TEST(knn_matches_reference)
{
    eval_fixture *f = eval_fixture_load();
    const float *cases = ss_golden_get(f->golden, "knn_cases", 14);
    for (int c = 0; c < 7; c++) {
        int k = (int)cases[2 * c];
        float t = cases[2 * c + 1];
        char name[64];
        int32_t want[REF_TEST], robust[REF_TEST], got[REF_TEST];
        snprintf(name, sizeof name, "knn%d_pred", c);
        golden_ints(f->golden, name, want, REF_TEST);
        snprintf(name, sizeof name, "knn%d_robust", c);
        golden_ints(f->golden, name, robust, REF_TEST);
        ss_assert_ok(selfsup_knn_predict(f->x_train, f->y_train, f->x_test,
                                         REF_CLASSES, k, t, got));
        int fragile = 0, correct = 0;
        for (int i = 0; i < REF_TEST; i++) {
            fragile += !robust[i];
            correct += got[i] == f->y_test[i];
            if (robust[i])
                expect(got[i] == want[i],
                       "k = %d, T = %g: row %d predicted %d, the reference %d",
                       k, (double)t, i, got[i], want[i]);
        }
        ck_assert_int_le(fragile, 5); /* the data has few near-ties */
        double top1 = -1, top5 = -1, slack = (double)fragile / REF_TEST;
        ss_assert_ok(selfsup_knn_evaluate(f->x_train, f->y_train, f->x_test,
                                          f->y_test, REF_CLASSES, k, t, &top1,
                                          &top5));
        snprintf(name, sizeof name, "knn%d_top1", c);
        ss_assert_close(top1, ss_golden_scalar(f->golden, name), slack + 1e-6,
                        0);
        snprintf(name, sizeof name, "knn%d_top5", c);
        ss_assert_close(top5, ss_golden_scalar(f->golden, name), slack + 1e-6,
                        0);
        /* evaluate and predict agree exactly */
        ss_assert_close(top1, (double)correct / REF_TEST, 1e-12, 0);
    }
    eval_fixture_free(f);
}
END_TEST

/* The 10 nearest train rows of each test row: similarities within 2e-6 of
 * float64 (unit vectors of 16 dims: each of the 16 float products and sums
 * rounds by at most 6e-8 relative, so |error| <= ~1e-6, doubled for the
 * normalisation), and the same row wherever the reference's neighbours are
 * more than 1e-5 apart. */
START_TEST(knn_neighbors_match_reference)
{
    eval_fixture *f = eval_fixture_load();
    enum { K = 10 };
    static int64_t idx[REF_TEST * K];
    static float sims[REF_TEST * K];
    static int32_t want_idx[REF_TEST * K], pinned[REF_TEST * K];
    ss_assert_ok(selfsup_knn_neighbors(f->x_train, f->x_test, K, idx, sims));
    golden_ints(f->golden, "nb_indices", want_idx, REF_TEST * K);
    golden_ints(f->golden, "nb_pinned", pinned, REF_TEST * K);
    const float *want_sims = ss_golden_get(f->golden, "nb_sims", REF_TEST * K);
    ss_assert_all_close(sims, want_sims, REF_TEST * K, 2e-6, 0);
    int checked = 0;
    for (int i = 0; i < REF_TEST * K; i++) {
        if (i % K)
            expect(sims[i] <= sims[i - 1], "entry %d out of order", i);
        if (pinned[i]) {
            expect(idx[i] == want_idx[i], "entry %d: row %lld, not %d", i,
                   (long long)idx[i], want_idx[i]);
            checked++;
        }
    }
    ck_assert_int_ge(checked, REF_TEST * K * 9 / 10);
    /* similarities may be omitted */
    static int64_t idx2[REF_TEST * K];
    ss_assert_ok(selfsup_knn_neighbors(f->x_train, f->x_test, K, idx2, NULL));
    ck_assert_int_eq(memcmp(idx, idx2, sizeof idx), 0);
    eval_fixture_free(f);
}
END_TEST

START_TEST(knn_training_row_is_its_own_nearest_neighbor)
{
    eval_fixture *f = eval_fixture_load();
    static int64_t idx[REF_TRAIN];
    static float sims[REF_TRAIN];
    ss_assert_ok(selfsup_knn_neighbors(f->x_train, f->x_train, 1, idx, sims));
    for (int i = 0; i < REF_TRAIN; i++) { /* 1e-6: rounding of |x|^2 */
        expect(idx[i] == i, "row %d: nearest is %lld", i, (long long)idx[i]);
        expect(near(sims[i], 1.0, 1e-6, 0), "row %d: sim %.9g", i, sims[i]);
    }
    eval_fixture_free(f);
}
END_TEST

/* k = 1 is nearest-neighbour classification, whatever the temperature. */
START_TEST(knn_k1_is_nearest_neighbor_classification)
{
    eval_fixture *f = eval_fixture_load();
    int64_t nearest[REF_TEST];
    int32_t pred[REF_TEST];
    ss_assert_ok(
        selfsup_knn_neighbors(f->x_train, f->x_test, 1, nearest, NULL));
    const float temps[3] = {1e-3f, 0.1f, 10.0f};
    for (int t = 0; t < 3; t++) {
        ss_assert_ok(selfsup_knn_predict(f->x_train, f->y_train, f->x_test,
                                         REF_CLASSES, 1, temps[t], pred));
        for (int i = 0; i < REF_TEST; i++)
            expect(pred[i] == f->y_train[nearest[i]], "row %d", i);
    }
    eval_fixture_free(f);
}
END_TEST

/* Reordering the train set changes nothing but exact ties, of which this
 * continuous data has none. */
START_TEST(knn_train_order_does_not_matter)
{
    eval_fixture *f = eval_fixture_load();
    const float *x = selfsup_tensor_data(f->x_train);
    static float shuffled[REF_TRAIN * REF_DIM];
    static int32_t labels[REF_TRAIN], perm[REF_TRAIN];
    for (int i = 0; i < REF_TRAIN; i++)
        perm[i] = i;
    selfsup__rng r;
    selfsup__rng_init(&r, 7, 0);
    for (int i = REF_TRAIN - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)selfsup__rng_below(&r, (uint32_t)i + 1);
        int32_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    for (int i = 0; i < REF_TRAIN; i++) {
        memcpy(shuffled + i * REF_DIM, x + perm[i] * REF_DIM,
               REF_DIM * sizeof(float));
        labels[i] = f->y_train[perm[i]];
    }
    selfsup_tensor *train2 = make_matrix(REF_TRAIN, REF_DIM, shuffled);
    const int ks[3] = {1, 20, 200};
    for (int c = 0; c < 3; c++) {
        int32_t a[REF_TEST], b[REF_TEST];
        ss_assert_ok(selfsup_knn_predict(f->x_train, f->y_train, f->x_test,
                                         REF_CLASSES, ks[c], 0.1f, a));
        ss_assert_ok(selfsup_knn_predict(train2, labels, f->x_test, REF_CLASSES,
                                         ks[c], 0.1f, b));
        ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    }
    selfsup_tensor_destroy(train2);
    eval_fixture_free(f);
}
END_TEST

/* The documented tie rules, on integer features whose similarities are
 * exactly equal: the lower train row wins among equally similar
 * neighbours, the lower class among equal class scores. */
START_TEST(knn_ties_are_broken_as_documented)
{
    const float x[4 * 2] = {1, 0, 1, 0, 0, 1, 0, 1};
    selfsup_tensor *train = make_matrix(4, 2, x);
    const float qx[2] = {3, 0};
    selfsup_tensor *query = make_matrix(1, 2, qx);
    int32_t pred = -1;

    const int32_t labels_a[4] = {1, 0, 2, 2};
    ss_assert_ok(
        selfsup_knn_predict(train, labels_a, query, 3, 1, 0.1f, &pred));
    ck_assert_int_eq(pred, 1); /* row 0 beats the identical row 1 */
    const int32_t labels_b[4] = {0, 1, 2, 2};
    ss_assert_ok(
        selfsup_knn_predict(train, labels_b, query, 3, 1, 0.1f, &pred));
    ck_assert_int_eq(pred, 0);
    /* k = 2: classes 0 and 1 score the same, the lower index wins */
    const int32_t labels_c[4] = {1, 0, 2, 2};
    ss_assert_ok(
        selfsup_knn_predict(train, labels_c, query, 3, 2, 0.1f, &pred));
    ck_assert_int_eq(pred, 0);

    /* A query at 45 degrees is equally similar to all four rows: the
     * first k rows are the neighbours, in row order. */
    const float diag[2] = {2, 2};
    selfsup_tensor *q2 = make_matrix(1, 2, diag);
    int64_t idx[4];
    float sims[4];
    ss_assert_ok(selfsup_knn_neighbors(train, q2, 3, idx, sims));
    ck_assert_int_eq(idx[0], 0);
    ck_assert_int_eq(idx[1], 1);
    ck_assert_int_eq(idx[2], 2);
    ck_assert(sims[0] == sims[2]);
    /* Class 2 has rows 2 and 3, classes 0 and 1 one each: with k = 3 the
     * boundary tie keeps rows 0..2, so every class scores 1 and 0 wins. */
    ss_assert_ok(selfsup_knn_predict(train, labels_a, q2, 3, 3, 0.1f, &pred));
    ck_assert_int_eq(pred, 0);
    ss_assert_ok(selfsup_knn_predict(train, labels_a, q2, 3, 4, 0.1f, &pred));
    ck_assert_int_eq(pred, 2);
    selfsup_tensor_destroy(q2);
    selfsup_tensor_destroy(query);
    selfsup_tensor_destroy(train);
}
END_TEST

/* A zero row has similarity 0 to everything, never NaN. */
START_TEST(knn_zero_rows_are_similarity_zero)
{
    const float x[3 * 2] = {0, 0, 1, 0, -1, 0};
    selfsup_tensor *train = make_matrix(3, 2, x);
    const float q[2 * 2] = {0, 0, 0, 5};
    selfsup_tensor *query = make_matrix(2, 2, q);
    int64_t idx[6];
    float sims[6];
    ss_assert_ok(selfsup_knn_neighbors(train, query, 3, idx, sims));
    for (int i = 0; i < 6; i++) {
        ck_assert(sims[i] == 0.0f);
        ck_assert_int_eq(idx[i], i % 3);
    }
    selfsup_tensor_destroy(query);
    selfsup_tensor_destroy(train);
}
END_TEST

/* Thousands of exact ties (rows repeat six patterns, across tiles): the k
 * nearest are the first k of the full ranking, equal similarities in row
 * order, for every k. */
START_TEST(knn_ties_across_tiles_keep_row_order)
{
    enum { N = 2 * 4096 + 5, Q = 300, D = 4, P = 6 };
    const float patterns[P][D] = {{1, 0, 0, 0}, {1, 1, 0, 0}, {0, 2, 1, 0},
                                  {3, 0, 0, 1}, {1, 1, 1, 1}, {0, 0, 0, 5}};
    float *x = malloc((size_t)N * D * sizeof *x);
    float q[Q * D];
    selfsup__rng r;
    selfsup__rng_init(&r, 21, 0);
    for (int i = 0; i < N; i++)
        memcpy(x + i * D, patterns[selfsup__rng_below(&r, P)],
               sizeof(float) * D);
    for (int i = 0; i < Q; i++)
        memcpy(q + i * D, patterns[selfsup__rng_below(&r, P)],
               sizeof(float) * D);
    selfsup_tensor *db = make_matrix(N, D, x), *qt = make_matrix(Q, D, q);
    int64_t *all = malloc((size_t)Q * N * sizeof *all);
    float *all_sims = malloc((size_t)Q * N * sizeof *all_sims);
    ss_assert_ok(selfsup_knn_neighbors(db, qt, N, all, all_sims));
    int64_t ties = 0;
    for (int64_t i = 0; i < Q; i++)
        for (int64_t j = 1; j < N; j++) {
            float a = all_sims[i * N + j - 1], b = all_sims[i * N + j];
            ties += a == b;
            expect(a > b || (a == b && all[i * N + j - 1] < all[i * N + j]),
                   "query %lld: ranks %lld and %lld out of order", (long long)i,
                   (long long)j - 1, (long long)j);
        }
    /* identical rows score identically: nearly every neighbour ties */
    ck_assert_int_gt(ties, (int64_t)Q * (N - P) * 9 / 10);
    const int ks[3] = {1, 10, 3000};
    int64_t *idx = malloc((size_t)Q * 3000 * sizeof *idx);
    for (int c = 0; c < 3; c++) {
        ss_assert_ok(selfsup_knn_neighbors(db, qt, ks[c], idx, NULL));
        for (int64_t i = 0; i < Q; i++)
            for (int j = 0; j < ks[c]; j++)
                expect(idx[i * ks[c] + j] == all[i * N + j],
                       "k = %d, query %lld, rank %d: row %lld, not %lld", ks[c],
                       (long long)i, j, (long long)idx[i * ks[c] + j],
                       (long long)all[i * N + j]);
    }
    free(idx);
    free(all_sims);
    free(all);
    free(x);
    selfsup_tensor_destroy(qt);
    selfsup_tensor_destroy(db);
}
END_TEST

/* Brute force in double: sims (q, n) of the normalised rows. */
static void brute_force_sims(double *out, const float *db, int64_t n,
                             const float *q, int64_t nq, int64_t d)
{
    for (int64_t i = 0; i < nq; i++) {
        double qn = 0;
        for (int64_t p = 0; p < d; p++)
            qn += (double)q[i * d + p] * q[i * d + p];
        for (int64_t j = 0; j < n; j++) {
            double dot = 0, dn = 0;
            for (int64_t p = 0; p < d; p++) {
                dot += (double)q[i * d + p] * db[j * d + p];
                dn += (double)db[j * d + p] * db[j * d + p];
            }
            out[i * n + j] = dot / (sqrt(qn) * sqrt(dn));
        }
    }
}

/* Sizes that cross the query blocks (256) and the database tiles (4096),
 * with k larger than a tile's share: the blocked search with its heaps
 * equals a brute-force ranking. */
START_TEST(knn_blocked_search_equals_brute_force)
{
    enum { N = 2 * 4096 + 37, Q = 256 + 3, D = 8 };
    selfsup_tensor *db = make_matrix(N, D, NULL);
    selfsup_tensor *q = make_matrix(Q, D, NULL);
    ss_assert_ok(selfsup_tensor_fill_normal(db, 11, 0.0f, 1.0f));
    ss_assert_ok(selfsup_tensor_fill_normal(q, 12, 0.0f, 1.0f));
    double *ref = malloc((size_t)N * Q * sizeof *ref);
    brute_force_sims(ref, selfsup_tensor_data(db), N, selfsup_tensor_data(q), Q,
                     D);
    const int ks[3] = {1, 7, 4200};
    int64_t *idx = malloc((size_t)Q * 4200 * sizeof *idx);
    float *sims = malloc((size_t)Q * 4200 * sizeof *sims);
    for (int c = 0; c < 3; c++) {
        int k = ks[c];
        ss_assert_ok(selfsup_knn_neighbors(db, q, k, idx, sims));
        for (int64_t i = 0; i < Q; i++) {
            const double *row = ref + i * N;
            /* the k-th similarity of the reference, by counting */
            double kth = sims[i * k + k - 1];
            int64_t above = 0;
            for (int64_t j = 0; j < N; j++)
                above += row[j] > kth + 1e-6;
            /* nothing clearly better was missed */
            expect(above < k, "k = %d, query %lld: %lld rows beat the k-th", k,
                   (long long)i, (long long)above);
            for (int r = 0; r < k; r++) {
                int64_t j = idx[i * k + r];
                expect(j >= 0 && j < N, "index %lld", (long long)j);
                /* |float - double| for unit vectors of 8 dims */
                expect(near(sims[i * k + r], row[j], 1e-6, 0),
                       "k = %d, query %lld, rank %d: %.9g vs %.9g", k,
                       (long long)i, r, sims[i * k + r], row[j]);
                if (r > 0) {
                    float prev = sims[i * k + r - 1], cur = sims[i * k + r];
                    expect(prev > cur ||
                               (prev == cur && idx[i * k + r - 1] < j),
                           "k = %d, query %lld: rank %d out of order", k,
                           (long long)i, r);
                }
            }
        }
    }
    free(sims);
    free(idx);
    free(ref);
    selfsup_tensor_destroy(q);
    selfsup_tensor_destroy(db);
}
END_TEST

/* A query's neighbours come from its own block's GEMM and selection, so
 * they are the same bits on any thread count. */
START_TEST(knn_thread_count_does_not_change_results)
{
    eval_fixture *f = eval_fixture_load();
    enum { K = 50 };
    static int64_t idx[2][REF_TEST * K];
    static float sims[2][REF_TEST * K];
    int32_t pred[2][REF_TEST];
    for (int t = 0; t < 2; t++) {
        ss_assert_ok(selfsup_set_num_threads(t + 1));
        ss_assert_ok(
            selfsup_knn_neighbors(f->x_train, f->x_test, K, idx[t], sims[t]));
        ss_assert_ok(selfsup_knn_predict(f->x_train, f->y_train, f->x_test,
                                         REF_CLASSES, 20, 0.1f, pred[t]));
    }
    ss_assert_ok(selfsup_set_num_threads(0));
    ck_assert_int_eq(memcmp(idx[0], idx[1], sizeof idx[0]), 0);
    ck_assert_int_eq(memcmp(sims[0], sims[1], sizeof sims[0]), 0);
    ck_assert_int_eq(memcmp(pred[0], pred[1], sizeof pred[0]), 0);
    eval_fixture_free(f);
}
END_TEST

START_TEST(knn_top5_is_nan_below_five_classes)
{
    const float x[4 * 2] = {1, 0, 0, 1, -1, 0, 0, -1};
    const int32_t labels[4] = {0, 1, 2, 3};
    selfsup_tensor *train = make_matrix(4, 2, x);
    double top1 = -1, top5 = -1;
    ss_assert_ok(selfsup_knn_evaluate(train, labels, train, labels, 4, 1, 0.1f,
                                      &top1, &top5));
    ck_assert(top1 == 1.0);
    ck_assert(isnan(top5));
    top1 = -1;
    ss_assert_ok(selfsup_knn_evaluate(train, labels, train, labels, 5, 2, 0.1f,
                                      &top1, NULL));
    ck_assert(top1 == 1.0);
    ss_assert_ok(selfsup_knn_evaluate(train, labels, train, labels, 5, 2, 0.1f,
                                      &top1, &top5));
    ck_assert(top5 == 1.0);
    selfsup_tensor_destroy(train);
}
END_TEST

START_TEST(knn_refuses_bad_arguments)
{
    const float x[3 * 2] = {1, 0, 0, 1, 1, 1};
    const int32_t labels[3] = {0, 1, 1}, bad[3] = {0, 2, 1},
                  negative[3] = {0, -1, 1};
    selfsup_tensor *a = make_matrix(3, 2, x), *b = make_matrix(3, 2, x);
    selfsup_tensor *wide = make_matrix(3, 3, NULL);
    int64_t d3[3] = {3, 2, 1};
    selfsup_tensor *cube = NULL;
    ss_assert_ok(selfsup_tensor_create(&cube, 3, d3));
    double top1 = 42, top5 = 43;
    const selfsup_status INV = SELFSUP_ERR_INVALID_ARGUMENT;

    ss_assert_fails(
        selfsup_knn_evaluate(NULL, labels, b, labels, 2, 1, 0.1f, &top1, &top5),
        INV, "train_features is NULL");
    ss_assert_fails(
        selfsup_knn_evaluate(a, NULL, b, labels, 2, 1, 0.1f, &top1, &top5), INV,
        "train_labels is NULL");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, NULL, labels, 2, 1, 0.1f, &top1, &top5),
        INV, "test_features is NULL");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, b, NULL, 2, 1, 0.1f, &top1, &top5), INV,
        "test_labels is NULL");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, b, labels, 2, 1, 0.1f, NULL, &top5),
        INV, "top1 is NULL");
    ss_assert_fails(
        selfsup_knn_evaluate(cube, labels, b, labels, 2, 1, 0.1f, &top1, &top5),
        SELFSUP_ERR_SHAPE, "train_features has shape (3, 2, 1)");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, wide, labels, 2, 1, 0.1f, &top1, &top5),
        SELFSUP_ERR_SHAPE, "test_features has shape (3, 3)");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, b, labels, 0, 1, 0.1f, &top1, &top5),
        INV, "n_classes = 0");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, b, labels, 2, 0, 0.1f, &top1, &top5),
        INV, "k = 0");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, b, labels, 2, 4, 0.1f, &top1, &top5),
        INV, "k = 4");
    const float temps[4] = {0.0f, -1.0f, NAN, INFINITY};
    for (int i = 0; i < 4; i++)
        ss_assert_fails(selfsup_knn_evaluate(a, labels, b, labels, 2, 1,
                                             temps[i], &top1, &top5),
                        INV, "temperature");
    ss_assert_fails(
        selfsup_knn_evaluate(a, bad, b, labels, 2, 1, 0.1f, &top1, &top5), INV,
        "train_labels[1] = 2");
    ss_assert_fails(
        selfsup_knn_evaluate(a, labels, b, negative, 2, 1, 0.1f, &top1, &top5),
        INV, "test_labels[1] = -1");
    float nan_x[6] = {1, 0, 0, NAN, 1, 1};
    selfsup_tensor *with_nan = make_matrix(3, 2, nan_x);
    ss_assert_fails(selfsup_knn_evaluate(with_nan, labels, b, labels, 2, 1,
                                         0.1f, &top1, &top5),
                    SELFSUP_ERR_NUMERIC, "train_features[3]");
    ss_assert_fails(selfsup_knn_evaluate(a, labels, with_nan, labels, 2, 1,
                                         0.1f, &top1, &top5),
                    SELFSUP_ERR_NUMERIC, "test_features[3]");
    ck_assert(top1 == 42 && top5 == 43); /* untouched */

    int32_t pred[3] = {7, 7, 7};
    ss_assert_fails(selfsup_knn_predict(a, labels, b, 2, 1, 0.1f, NULL), INV,
                    "predictions is NULL");
    ss_assert_fails(selfsup_knn_predict(a, bad, b, 2, 1, 0.1f, pred), INV,
                    "train_labels[1]");
    ss_assert_fails(selfsup_knn_predict(a, labels, with_nan, 2, 1, 0.1f, pred),
                    SELFSUP_ERR_NUMERIC, "test_features");
    ck_assert(pred[0] == 7 && pred[1] == 7 && pred[2] == 7);

    int64_t idx[3] = {-5, -5, -5};
    float sims[3] = {9, 9, 9};
    ss_assert_fails(selfsup_knn_neighbors(NULL, b, 1, idx, sims), INV,
                    "database is NULL");
    ss_assert_fails(selfsup_knn_neighbors(a, NULL, 1, idx, sims), INV,
                    "queries is NULL");
    ss_assert_fails(selfsup_knn_neighbors(a, wide, 1, idx, sims),
                    SELFSUP_ERR_SHAPE, "queries has shape (3, 3)");
    ss_assert_fails(selfsup_knn_neighbors(cube, b, 1, idx, sims),
                    SELFSUP_ERR_SHAPE, "database");
    ss_assert_fails(selfsup_knn_neighbors(a, b, 0, idx, sims), INV, "k = 0");
    ss_assert_fails(selfsup_knn_neighbors(a, b, 4, idx, sims), INV, "k = 4");
    ss_assert_fails(selfsup_knn_neighbors(a, b, 1, NULL, sims), INV,
                    "indices is NULL");
    ss_assert_fails(selfsup_knn_neighbors(a, with_nan, 1, idx, sims),
                    SELFSUP_ERR_NUMERIC, "queries[3]");
    ck_assert(idx[0] == -5 && sims[0] == 9);
    selfsup_tensor_destroy(with_nan);
    selfsup_tensor_destroy(cube);
    selfsup_tensor_destroy(wide);
    selfsup_tensor_destroy(b);
    selfsup_tensor_destroy(a);
}
END_TEST

TCase *knn_tcase(void)
{
    TCase *tc = tcase_create("knn");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, knn_matches_reference);
    tcase_add_test(tc, knn_neighbors_match_reference);
    tcase_add_test(tc, knn_training_row_is_its_own_nearest_neighbor);
    tcase_add_test(tc, knn_k1_is_nearest_neighbor_classification);
    tcase_add_test(tc, knn_train_order_does_not_matter);
    tcase_add_test(tc, knn_ties_are_broken_as_documented);
    tcase_add_test(tc, knn_zero_rows_are_similarity_zero);
    tcase_add_test(tc, knn_blocked_search_equals_brute_force);
    tcase_add_test(tc, knn_ties_across_tiles_keep_row_order);
    tcase_add_test(tc, knn_thread_count_does_not_change_results);
    tcase_add_test(tc, knn_top5_is_nan_below_five_classes);
    tcase_add_test(tc, knn_refuses_bad_arguments);
    return tc;
}

/* ------------------------------------------------ allocation failures */

typedef struct knn_alloc_ctx {
    selfsup_tensor *train, *test;
    int32_t labels[40];
    int which;
} knn_alloc_ctx;

static selfsup_status knn_alloc_run(void *p)
{
    knn_alloc_ctx *c = p;
    double top1, top5;
    int32_t pred[40];
    int64_t idx[40 * 5];
    float sims[40 * 5];
    switch (c->which) {
    case 0:
        return selfsup_knn_evaluate(c->train, c->labels, c->test, c->labels, 6,
                                    5, 0.1f, &top1, &top5);
    case 1:
        return selfsup_knn_predict(c->train, c->labels, c->test, 6, 5, 0.1f,
                                   pred);
    default:
        return selfsup_knn_neighbors(c->train, c->test, 5, idx, sims);
    }
}

START_TEST(knn_allocation_failures_leak_nothing)
{
    knn_alloc_ctx c;
    c.train = make_matrix(40, 3, NULL);
    c.test = make_matrix(40, 3, NULL);
    ss_assert_ok(selfsup_tensor_fill_normal(c.train, 1, 0.0f, 1.0f));
    ss_assert_ok(selfsup_tensor_fill_normal(c.test, 2, 0.0f, 1.0f));
    for (int i = 0; i < 40; i++)
        c.labels[i] = i % 6;
    for (c.which = 0; c.which < 3; c.which++)
        ck_assert_int_gt(ss_sweep_alloc_failures(knn_alloc_run, &c, SELFSUP_OK),
                         0);
    selfsup_tensor_destroy(c.test);
    selfsup_tensor_destroy(c.train);
}
END_TEST

TCase *knn_alloc_tcase(void)
{
    TCase *tc = tcase_create("knn_alloc");
    tcase_add_test(tc, knn_allocation_failures_leak_nothing);
    return tc;
}
