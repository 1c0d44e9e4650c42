#include "knn_search.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/gemm.h"
#include "core/threads.h"
#include "topk.h"

/* Query rows per GEMM and database rows per tile: a 256 x 4096 score tile
 * is 4 MiB per worker, read back from cache right after the GEMM wrote
 * it; 256 rows keep oneDNN's GEMM near its peak, where 64 lose a fifth of
 * the speed (docs/benchmarks.md). A block's selections (k entries per
 * query) stay below 2^22 entries, 48 MiB. */
#ifndef QUERY_BLOCK
#define QUERY_BLOCK 256
#endif
#ifndef DATABASE_TILE
#define DATABASE_TILE 4096
#endif
#define SELECTION_ENTRIES_MAX (INT64_C(1) << 22)

void selfsup__l2_normalize_rows(float *out, const float *x, int64_t n,
                                int64_t dim)
{
    for (int64_t i = 0; i < n; i++) {
        const float *row = x + i * dim;
        double sum_sq = 0.0;
        for (int64_t j = 0; j < dim; j++)
            sum_sq += (double)row[j] * (double)row[j];
        double norm = sqrt(sum_sq);
        double inv = 1.0 / (norm > 1e-12 ? norm : 1e-12);
        for (int64_t j = 0; j < dim; j++)
            out[i * dim + j] = (float)((double)row[j] * inv);
    }
}

/* One worker's scratch: a block of normalised queries, its score tile and
 * one top-k selection per query. */
typedef struct knn_worker {
    float *queries;      /* (block, dim) */
    float *scores;       /* (block, tile) */
    float *best_sim;     /* (block, k) */
    int64_t *best_row;   /* (block, k) */
    selfsup__topk *topk; /* (block) */
} knn_worker;

/* The k nearest database rows of queries [q0, q0 + rows), handed to the
 * consumer. Runs on one thread: the GEMM inside a parallel region is
 * single-threaded (oneDNN checks omp_in_parallel). */
static selfsup_status search_block(knn_worker *w, const float *db,
                                   int64_t n_database, const float *queries,
                                   int64_t q0, int64_t rows, int64_t dim, int k,
                                   int64_t tile, int worker,
                                   selfsup__knn_consumer consume, void *ctx)
{
    selfsup__l2_normalize_rows(w->queries, queries + q0 * dim, rows, dim);
    for (int64_t r = 0; r < rows; r++)
        selfsup__topk_init(&w->topk[r], k, w->best_sim + r * k,
                           w->best_row + r * k);
    for (int64_t c0 = 0; c0 < n_database; c0 += tile) {
        int64_t cols = n_database - c0 < tile ? n_database - c0 : tile;
        /* scores (rows, cols) = queries (rows, dim) . db[c0 : c0 + cols]^T */
        SS_TRY(selfsup__sgemm(0, 1, rows, cols, dim, 1.0f, w->queries, dim,
                              db + c0 * dim, dim, 0.0f, w->scores, cols));
        for (int64_t r = 0; r < rows; r++)
            selfsup__topk_offer(&w->topk[r], w->scores + r * cols, cols, c0);
    }
    for (int64_t r = 0; r < rows; r++)
        selfsup__topk_finish(&w->topk[r]);
    return consume(ctx, worker, q0, rows, k, w->best_row, w->best_sim);
}

selfsup_status selfsup__knn_search(const float *database, int64_t n_database,
                                   const float *queries, int64_t n_queries,
                                   int64_t dim, int k, int n_workers,
                                   selfsup__knn_consumer consume, void *ctx,
                                   const char *where)
{
    selfsup__threads_apply();
    int64_t block = QUERY_BLOCK;
    if (block * k > SELECTION_ENTRIES_MAX)
        block = SELECTION_ENTRIES_MAX / k > 0 ? SELECTION_ENTRIES_MAX / k : 1;
    if (block > n_queries)
        block = n_queries;
    const int64_t tile =
        n_database < DATABASE_TILE ? n_database : DATABASE_TILE;
    const int64_t n_blocks = (n_queries + block - 1) / block;

    float *db = selfsup__malloc((size_t)(n_database * dim) * sizeof *db);
    knn_worker *workers = selfsup__calloc((size_t)n_workers, sizeof *workers);
    selfsup_status status = SELFSUP_OK;
    int ready = db && workers;
    for (int t = 0; ready && t < n_workers; t++) {
        knn_worker *w = &workers[t];
        w->queries = selfsup__malloc((size_t)(block * dim) * sizeof(float));
        w->scores = selfsup__malloc((size_t)(block * tile) * sizeof(float));
        w->best_sim = selfsup__malloc((size_t)(block * k) * sizeof(float));
        w->best_row = selfsup__malloc((size_t)(block * k) * sizeof(int64_t));
        w->topk = selfsup__malloc((size_t)block * sizeof(selfsup__topk));
        ready =
            w->queries && w->scores && w->best_sim && w->best_row && w->topk;
    }
    if (!ready) {
        status = selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                               "cannot allocate the kNN scratch (%lld x %lld "
                               "database, blocks of %lld queries, k = %d, %d "
                               "threads)",
                               (long long)n_database, (long long)dim,
                               (long long)block, k, n_workers);
        goto done;
    }
#pragma omp parallel for num_threads(n_workers) schedule(static)
    for (int64_t i = 0; i < n_database; i++)
        selfsup__l2_normalize_rows(db + i * dim, database + i * dim, 1, dim);

    /* Blocks go to whichever worker is free (a dynamic schedule: on a busy
     * machine a static split waits for the slowest thread); each block's
     * result depends on its rows only, so the assignment changes nothing.
     * A failure is kept with its message and stops the remaining blocks. */
    char message[512] = "";
#pragma omp parallel for num_threads(n_workers) schedule(dynamic, 1)
    for (int64_t b = 0; b < n_blocks; b++) {
        int stop;
#pragma omp critical(selfsup__knn_status)
        stop = status != SELFSUP_OK;
        if (stop)
            continue;
        int64_t q0 = b * block;
        int64_t rows = n_queries - q0 < block ? n_queries - q0 : block;
        int worker = omp_get_thread_num();
        selfsup_status s =
            search_block(&workers[worker], db, n_database, queries, q0, rows,
                         dim, k, tile, worker, consume, ctx);
        if (s != SELFSUP_OK) {
#pragma omp critical(selfsup__knn_status)
            if (status == SELFSUP_OK) {
                status = s;
                snprintf(message, sizeof message, "%s", selfsup__last_detail());
            }
        }
    }
    if (status != SELFSUP_OK)
        selfsup__fail(status, where, "%s", message);
done:
    for (int t = 0; workers && t < n_workers; t++) {
        selfsup__free(workers[t].topk);
        selfsup__free(workers[t].best_row);
        selfsup__free(workers[t].best_sim);
        selfsup__free(workers[t].scores);
        selfsup__free(workers[t].queries);
    }
    selfsup__free(workers);
    selfsup__free(db);
    return status;
}
