/* The loader: every index once per epoch, full batches with drop_last,
 * batches equal to the views of their indices, identical bits whatever the
 * prefetch depth or thread count, exact seeking, clean shutdown in any
 * state, allocation failures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "suites.h"
#include "test_support.h"

enum { COUNT = 23, SIDE = 12 };

typedef struct fixture {
    uint8_t *pixels;
    selfsup_dataset *d;
    selfsup_views *v;
} fixture;

static fixture setup(int channels)
{
    fixture f;
    f.pixels = malloc((size_t)COUNT * SIDE * SIDE * channels);
    for (int i = 0; i < COUNT * SIDE * SIDE * channels; i++)
        f.pixels[i] = (uint8_t)(i * 29 + (i >> 5));
    f.d = NULL;
    ss_assert_ok(selfsup_dataset_from_memory(&f.d, f.pixels, COUNT, SIDE, SIDE,
                                             channels, NULL, 0));
    f.v = NULL;
    ss_assert_ok(selfsup_views_create(&f.v, "byol", 2, 10));
    return f;
}

static void teardown(fixture *f)
{
    selfsup_views_destroy(f->v);
    selfsup_dataset_destroy(f->d);
    free(f->pixels);
}

static selfsup_loader *loader(const fixture *f, int64_t batch,
                              const char *options)
{
    selfsup_loader *l = NULL;
    ss_assert_ok(selfsup_loader_create(&l, f->d, f->v, batch, 77, options));
    return l;
}

/* One batch's content, to compare batches from different loaders. */
typedef struct snapshot {
    int64_t epoch, batch, n;
    int64_t indices[COUNT];
    float *views[2];
} snapshot;

static snapshot take(selfsup_loader *l)
{
    snapshot s;
    selfsup_tensor *const *views = NULL;
    ss_assert_ok(selfsup_loader_next(l, &views, &s.epoch, &s.batch));
    const int64_t *idx;
    ss_assert_ok(selfsup_loader_batch_indices(l, &idx, &s.n));
    memcpy(s.indices, idx, (size_t)s.n * sizeof(int64_t));
    for (int v = 0; v < 2; v++) {
        ck_assert_int_eq(selfsup_tensor_dim(views[v], 0), s.n);
        int64_t n = selfsup_tensor_numel(views[v]);
        s.views[v] = malloc(sizeof(float) * (size_t)n);
        memcpy(s.views[v], selfsup_tensor_data(views[v]),
               sizeof(float) * (size_t)n);
    }
    return s;
}

static void drop(snapshot *s)
{
    free(s->views[0]);
    free(s->views[1]);
}

static void assert_same(const snapshot *a, const snapshot *b)
{
    ck_assert_int_eq(a->epoch, b->epoch);
    ck_assert_int_eq(a->batch, b->batch);
    ck_assert_int_eq(a->n, b->n);
    ck_assert(memcmp(a->indices, b->indices, (size_t)a->n * sizeof(int64_t)) ==
              0);
    size_t bytes = sizeof(float) * (size_t)a->n * 1 * 10 * 10;
    for (int v = 0; v < 2; v++)
        ck_assert_msg(memcmp(a->views[v], b->views[v], bytes) == 0,
                      "epoch %lld batch %lld view %d differs",
                      (long long)a->epoch, (long long)a->batch, v);
}

START_TEST(epochs_cover_every_index_once)
{
    fixture f = setup(1);
    selfsup_loader *l = loader(&f, 5, "loader:prefetch=1");
    ck_assert_int_eq(selfsup_loader_batches_per_epoch(l), 5);
    int64_t first_order[COUNT];
    for (int epoch = 0; epoch < 3; epoch++) {
        int seen[COUNT] = {0};
        int64_t pos = 0, order[COUNT];
        for (int b = 0; b < 5; b++) {
            snapshot s = take(l);
            ck_assert_int_eq(s.epoch, epoch);
            ck_assert_int_eq(s.batch, b);
            ck_assert_int_eq(s.n, b < 4 ? 5 : 3);
            for (int i = 0; i < s.n; i++) {
                ck_assert(s.indices[i] >= 0 && s.indices[i] < COUNT);
                seen[s.indices[i]]++;
                order[pos++] = s.indices[i];
            }
            drop(&s);
        }
        for (int i = 0; i < COUNT; i++)
            ck_assert_int_eq(seen[i], 1);
        if (epoch == 0) {
            memcpy(first_order, order, sizeof order);
            int identity = 1;
            for (int i = 0; i < COUNT; i++)
                identity &= order[i] == i;
            ck_assert_msg(!identity, "the order is not shuffled");
        } else {
            ck_assert_msg(memcmp(first_order, order, sizeof order) != 0,
                          "epoch %d repeats epoch 0's order", epoch);
        }
    }
    selfsup_loader_destroy(l);
    /* shuffle=0 keeps the dataset's order. */
    l = loader(&f, 5, "loader:shuffle=0,prefetch=0");
    for (int b = 0; b < 5; b++) {
        snapshot s = take(l);
        for (int i = 0; i < s.n; i++)
            ck_assert_int_eq(s.indices[i], b * 5 + i);
        drop(&s);
    }
    selfsup_loader_destroy(l);
    /* A batch larger than the dataset: one batch of everything. */
    l = loader(&f, 100, "loader:prefetch=0");
    ck_assert_int_eq(selfsup_loader_batches_per_epoch(l), 1);
    snapshot s = take(l);
    ck_assert_int_eq(s.n, COUNT);
    drop(&s);
    s = take(l);
    ck_assert_int_eq(s.epoch, 1);
    drop(&s);
    selfsup_loader_destroy(l);
    teardown(&f);
}
END_TEST

START_TEST(drop_last_gives_full_batches_only)
{
    fixture f = setup(1);
    selfsup_loader *l = loader(&f, 5, "loader:drop_last=1,prefetch=2");
    ck_assert_int_eq(selfsup_loader_batches_per_epoch(l), 4);
    for (int k = 0; k < 12; k++) {
        snapshot s = take(l);
        ck_assert_int_eq(s.n, 5);
        ck_assert_int_eq(s.epoch, k / 4);
        ck_assert_int_eq(s.batch, k % 4);
        drop(&s);
    }
    selfsup_loader_destroy(l);
    teardown(&f);
}
END_TEST

/* A batch is exactly selfsup_views_apply on its indices for its epoch. */
START_TEST(batches_are_the_views_of_their_indices)
{
    fixture f = setup(3);
    selfsup_views_destroy(f.v);
    ss_assert_ok(selfsup_views_create(&f.v, "simclr", 2, 10));
    selfsup_loader *l = loader(&f, 6, "loader:prefetch=2");
    const int64_t dims[4] = {6, 3, 10, 10};
    selfsup_tensor *out[2] = {NULL, NULL};
    ss_assert_ok(selfsup_tensor_create(&out[0], 4, dims));
    ss_assert_ok(selfsup_tensor_create(&out[1], 4, dims));
    for (int k = 0; k < 6; k++) {
        selfsup_tensor *const *views;
        int64_t epoch, batch;
        ss_assert_ok(selfsup_loader_next(l, &views, &epoch, &batch));
        const int64_t *idx;
        int64_t n;
        ss_assert_ok(selfsup_loader_batch_indices(l, &idx, &n));
        if (n != 6)
            continue;
        ss_assert_ok(selfsup_views_apply(f.v, f.d, idx, n, 77, epoch, out));
        for (int v = 0; v < 2; v++)
            ck_assert(memcmp(selfsup_tensor_data(out[v]),
                             selfsup_tensor_data(views[v]),
                             sizeof(float) * 600) == 0);
    }
    selfsup_tensor_destroy(out[0]);
    selfsup_tensor_destroy(out[1]);
    selfsup_loader_destroy(l);
    teardown(&f);
}
END_TEST

enum { RUN = 13 }; /* two and a half epochs of 5 batches */

static void record(const fixture *f, const char *options, int threads,
                   snapshot *out)
{
    ss_assert_ok(selfsup_set_num_threads(threads));
    selfsup_loader *l = loader(f, 5, options);
    for (int k = 0; k < RUN; k++)
        out[k] = take(l);
    selfsup_loader_destroy(l);
    ss_assert_ok(selfsup_set_num_threads(0));
}

START_TEST(prefetch_depth_and_threads_do_not_change_bits)
{
    fixture f = setup(1);
    snapshot ref[RUN], other[RUN];
    record(&f, "loader:prefetch=0", 1, ref);
    const char *options[] = {"loader:prefetch=1", "loader:prefetch=3", NULL};
    const int threads[] = {2, 1, 2};
    for (int o = 0; o < 3; o++) {
        record(&f, options[o], threads[o], other);
        for (int k = 0; k < RUN; k++) {
            assert_same(&ref[k], &other[k]);
            drop(&other[k]);
        }
    }
    for (int k = 0; k < RUN; k++)
        drop(&ref[k]);
    teardown(&f);
}
END_TEST

/* R loaders, one a rank, make the rows of one loader's batches: the same
 * images and the same views, rank r's at rows r N .. r N + N - 1. */
START_TEST(ranks_take_their_rows_of_each_batch)
{
    fixture f = setup(1);
    enum { BATCH = 6, RANKS = 3, N = BATCH / RANKS };
    selfsup_loader *whole = loader(&f, BATCH, "loader:drop_last=1");
    selfsup_loader *part[RANKS];
    for (int r = 0; r < RANKS; r++) {
        char options[128];
        snprintf(options, sizeof options,
                 "loader:drop_last=1,ranks=%d,rank=%d,prefetch=%d", RANKS, r,
                 r); /* the prefetch depth changes nothing */
        part[r] = loader(&f, BATCH, options);
        ck_assert_int_eq(selfsup_loader_batches_per_epoch(part[r]),
                         selfsup_loader_batches_per_epoch(whole));
    }
    for (int k = 0; k < 7; k++) { /* past the first epoch's end */
        snapshot all = take(whole);
        ck_assert_int_eq(all.n, BATCH);
        for (int r = 0; r < RANKS; r++) {
            snapshot mine = take(part[r]);
            ck_assert_int_eq(mine.n, N);
            ck_assert_int_eq(mine.epoch, all.epoch);
            ck_assert_int_eq(mine.batch, all.batch);
            ck_assert(memcmp(mine.indices, all.indices + r * N,
                             N * sizeof(int64_t)) == 0);
            for (int v = 0; v < 2; v++)
                ck_assert(memcmp(mine.views[v], all.views[v] + r * N * 100,
                                 N * 100 * sizeof(float)) == 0);
            drop(&mine);
        }
        drop(&all);
    }
    for (int r = 0; r < RANKS; r++)
        selfsup_loader_destroy(part[r]);
    selfsup_loader_destroy(whole);
    /* what cannot divide is refused by name */
    selfsup_loader *l = NULL;
    ss_assert_fails(
        selfsup_loader_create(&l, f.d, f.v, 5, 1, "loader:drop_last=1,ranks=2"),
        SELFSUP_ERR_INVALID_ARGUMENT,
        "a batch of 5 images does not divide among ranks = 2");
    ss_assert_fails(
        selfsup_loader_create(&l, f.d, f.v, 4, 1, "loader:ranks=2,rank=1"),
        SELFSUP_ERR_INVALID_ARGUMENT,
        "a batch of 3 images does not divide among ranks = 2 "
        "(the epoch's last): set drop_last=1");
    ss_assert_fails(
        selfsup_loader_create(&l, f.d, f.v, 4, 1, "loader:ranks=2,rank=2"),
        SELFSUP_ERR_INVALID_ARGUMENT, "rank = 2 is not below ranks = 2");
    ck_assert_ptr_null(l);
    teardown(&f);
}
END_TEST

START_TEST(seek_reproduces_batches)
{
    fixture f = setup(1);
    snapshot ref[RUN];
    record(&f, "loader:prefetch=0", 2, ref);
    for (int prefetch = 0; prefetch <= 3; prefetch += 3) {
        char options[64];
        snprintf(options, sizeof options, "loader:prefetch=%d", prefetch);
        selfsup_loader *l = loader(&f, 5, options);
        /* Resume in the middle of epoch 1, then jump back and forth, also
         * while batches are being made ahead. */
        ss_assert_ok(selfsup_loader_seek(l, 1, 2));
        for (int k = 7; k < RUN; k++) {
            snapshot s = take(l);
            assert_same(&ref[k], &s);
            drop(&s);
        }
        ss_assert_ok(selfsup_loader_seek(l, 0, 0));
        const int64_t *idx;
        int64_t n;
        ss_assert_fails(selfsup_loader_batch_indices(l, &idx, &n),
                        SELFSUP_ERR_STATE, "no batch");
        snapshot s = take(l);
        assert_same(&ref[0], &s);
        drop(&s);
        ss_assert_ok(selfsup_loader_seek(l, 2, 1));
        ss_assert_ok(selfsup_loader_seek(l, 1, 4));
        s = take(l);
        assert_same(&ref[9], &s);
        drop(&s);
        s = take(l);
        assert_same(&ref[10], &s);
        drop(&s);
        selfsup_loader_destroy(l);
    }
    for (int k = 0; k < RUN; k++)
        drop(&ref[k]);
    teardown(&f);
}
END_TEST

/* Destroy in every state: never started, right after a next (the worker
 * busy making the next batches), after a seek, with the ring full. ASan
 * and the live-allocation count check it. */
START_TEST(destroy_in_any_state)
{
    fixture f = setup(1);
    long live = selfsup__alloc_live();
    for (int prefetch = 0; prefetch <= 3; prefetch++) {
        char options[64];
        snprintf(options, sizeof options, "loader:prefetch=%d", prefetch);
        selfsup_loader *l = loader(&f, 3, options);
        selfsup_loader_destroy(l);
        l = loader(&f, 3, options);
        selfsup_tensor *const *views;
        ss_assert_ok(selfsup_loader_next(l, &views, NULL, NULL));
        selfsup_loader_destroy(l); /* the worker is mid-batch */
        l = loader(&f, 3, options);
        ss_assert_ok(selfsup_loader_next(l, &views, NULL, NULL));
        ss_assert_ok(selfsup_loader_seek(l, 5, 2));
        selfsup_loader_destroy(l);
        l = loader(&f, 3, options);
        ss_assert_ok(selfsup_loader_next(l, &views, NULL, NULL));
        usleep(20000); /* let the ring fill up */
        selfsup_loader_destroy(l);
    }
    selfsup_loader_destroy(NULL);
    ck_assert_int_eq(selfsup__alloc_live(), live);
    teardown(&f);
}
END_TEST

START_TEST(loader_errors)
{
    fixture f = setup(1);
    selfsup_loader *sentinel = (selfsup_loader *)(uintptr_t)0x66;
    selfsup_loader *l = sentinel;
    ss_assert_fails(selfsup_loader_create(NULL, f.d, f.v, 4, 0, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ss_assert_fails(selfsup_loader_create(&l, NULL, f.v, 4, 0, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "d is NULL");
    ss_assert_fails(selfsup_loader_create(&l, f.d, NULL, 4, 0, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "v is NULL");
    ss_assert_fails(selfsup_loader_create(&l, f.d, f.v, 0, 0, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "batch_size = 0");
    ss_assert_fails(
        selfsup_loader_create(&l, f.d, f.v, 24, 0, "loader:drop_last=1"),
        SELFSUP_ERR_INVALID_ARGUMENT, "batch_size = 24 exceeds");
    ss_assert_fails(
        selfsup_loader_create(&l, f.d, f.v, 4, 0, "loader:prefetch=17"),
        SELFSUP_ERR_INVALID_ARGUMENT, "prefetch = 17");
    ss_assert_fails(selfsup_loader_create(&l, f.d, f.v, 4, 0, "loader:speed=1"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "unknown key \"speed\"");
    ss_assert_fails(selfsup_loader_create(&l, f.d, f.v, 4, 0, "load:shuffle=0"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "must be \"loader\"");
    ss_assert_fails(
        selfsup_loader_create(&l, f.d, f.v, 4, 0, "loader:shuffle=2"),
        SELFSUP_ERR_INVALID_ARGUMENT, "shuffle = \"2\"");
    selfsup_views *big = NULL;
    ss_assert_ok(selfsup_views_create(&big, "flip", 2, 16));
    ss_assert_fails(selfsup_loader_create(&l, f.d, big, 4, 0, NULL),
                    SELFSUP_ERR_SHAPE, "not out_size = 16");
    selfsup_views_destroy(big);
    ck_assert_ptr_eq(l, sentinel);

    l = loader(&f, 4, NULL);
    ck_assert_int_eq(selfsup_loader_batches_per_epoch(l), 6);
    ck_assert_int_eq(selfsup_loader_batches_per_epoch(NULL), 0);
    const int64_t *idx;
    int64_t n;
    ss_assert_fails(selfsup_loader_batch_indices(l, &idx, &n),
                    SELFSUP_ERR_STATE, "no batch");
    ss_assert_fails(selfsup_loader_seek(l, 0, 6), SELFSUP_ERR_INVALID_ARGUMENT,
                    "batch_index = 6 is outside 0..5");
    ss_assert_fails(selfsup_loader_seek(l, -1, 0), SELFSUP_ERR_INVALID_ARGUMENT,
                    "epoch = -1");
    ss_assert_fails(selfsup_loader_seek(NULL, 0, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "l is NULL");
    ss_assert_fails(selfsup_loader_next(l, NULL, NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "views is NULL");
    selfsup_loader_destroy(l);
    teardown(&f);
}
END_TEST

TCase *loader_tcase(void)
{
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, epochs_cover_every_index_once);
    tcase_add_test(tc, drop_last_gives_full_batches_only);
    tcase_add_test(tc, batches_are_the_views_of_their_indices);
    tcase_add_test(tc, prefetch_depth_and_threads_do_not_change_bits);
    tcase_add_test(tc, seek_reproduces_batches);
    tcase_add_test(tc, ranks_take_their_rows_of_each_batch);
    tcase_add_test(tc, destroy_in_any_state);
    tcase_add_test(tc, loader_errors);
    return tc;
}

/* ---- allocation failures -------------------------------------------- */

static selfsup_status run_loader(void *ctx)
{
    const fixture *f = ctx;
    selfsup_loader *l = NULL;
    SS_TRY(selfsup_loader_create(&l, f->d, f->v, 5, 3, "loader:prefetch=0"));
    selfsup_tensor *const *views;
    selfsup_status st = SELFSUP_OK;
    for (int k = 0; k < 6 && st == SELFSUP_OK; k++)
        st = selfsup_loader_next(l, &views, NULL, NULL);
    if (st == SELFSUP_OK)
        st = selfsup_loader_seek(l, 3, 1);
    if (st == SELFSUP_OK)
        st = selfsup_loader_next(l, &views, NULL, NULL);
    selfsup_loader_destroy(l);
    return st;
}

/* With a worker: creation (slots, tensors, order) may fail anywhere; the
 * worker's own allocations are covered by the test below. */
static selfsup_status create_threaded(void *ctx)
{
    const fixture *f = ctx;
    selfsup_loader *l = NULL;
    SS_TRY(selfsup_loader_create(&l, f->d, f->v, 5, 3, "loader:prefetch=3"));
    selfsup_loader_destroy(l);
    return SELFSUP_OK;
}

START_TEST(loader_allocation_failures_are_clean)
{
    fixture f = setup(1);
    ck_assert_int_gt(ss_sweep_alloc_failures(run_loader, &f, SELFSUP_OK), 7);
    /* 4 slots x (2 views x (full + tail) tensors of 2 allocations + the
     * indices) + the slot array + the order + the loader + the parsed
     * options. */
    ck_assert_int_eq(ss_sweep_alloc_failures(create_threaded, &f, SELFSUP_OK),
                     4 * (2 * 2 * 2 + 1) + 4);
    teardown(&f);
}
END_TEST

/* A failure on the worker reaches the caller, which gets the same batch on
 * its next call. */
START_TEST(worker_failure_is_reported_and_retried)
{
    fixture f = setup(1);
    snapshot ref[RUN];
    record(&f, "loader:prefetch=0", 2, ref);
    selfsup_loader *l = loader(&f, 5, "loader:prefetch=2");
    selfsup_tensor *const *views = NULL;
    /* The worker starts in the first next; its first allocation is the
     * scratch of batch 0. */
    selfsup__alloc_fail_at(1);
    ss_assert_fails(selfsup_loader_next(l, &views, NULL, NULL),
                    SELFSUP_ERR_OUT_OF_MEMORY, "scratch");
    selfsup__alloc_fail_at(0);
    ck_assert_ptr_null(views);
    for (int k = 0; k < 3; k++) {
        snapshot s = take(l);
        assert_same(&ref[k], &s);
        drop(&s);
    }
    selfsup_loader_destroy(l);
    for (int k = 0; k < RUN; k++)
        drop(&ref[k]);
    teardown(&f);
}
END_TEST

TCase *loader_alloc_tcase(void)
{
    TCase *tc = tcase_create("loader_alloc");
    tcase_add_test(tc, loader_allocation_failures_are_clean);
    tcase_add_test(tc, worker_failure_is_reported_and_retried);
    return tc;
}
