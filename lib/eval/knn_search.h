/* Internal: exact k-nearest-neighbour search by cosine similarity.
 *
 * The scores of a block of query rows against a tile of database rows come
 * from one GEMM of the l2-normalised rows; each query keeps its k best in a
 * bounded heap (topk.h) while the tiles stream past, so memory stays at
 * one score tile plus k entries per query of the block, whatever the
 * database size.
 * Workers (OpenMP threads) take whole query blocks, each running its own
 * single-threaded GEMMs and scans: no barrier per tile, and every score
 * tile is scanned from the cache of the core that computed it. */
#ifndef SELFSUP_EVAL_KNN_SEARCH_H
#define SELFSUP_EVAL_KNN_SEARCH_H

#include <stdint.h>

#include "selfsup/status.h"

/* Receives the neighbours of queries [first, first + rows): row r's k
 * neighbours are indices[r * k + i], sims[r * k + i], most similar first;
 * equal similarities keep the lower database row first. Blocks arrive in
 * no particular order and concurrently from the search's workers; worker
 * (0 <= worker < n_workers of the search) identifies the caller, so that a
 * consumer can keep per-worker scratch. It must not start parallel work of
 * its own. A failing status stops the search. */
typedef selfsup_status (*selfsup__knn_consumer)(void *ctx, int worker,
                                                int64_t first, int64_t rows,
                                                int k, const int64_t *indices,
                                                const float *sims);

/* database (n_database, dim), queries (n_queries, dim), row-major floats,
 * all finite; 1 <= k <= n_database; n_workers >= 1 threads (the caller's
 * selfsup__num_threads(), read once, so that it agrees with the caller's
 * per-worker scratch). Rows of zero norm have similarity 0 to everything
 * (cos with max(|x|, 1e-12) in the denominator). where names the public
 * function in messages. Each query's result depends only on the data, not
 * on the thread count. */
selfsup_status selfsup__knn_search(const float *database, int64_t n_database,
                                   const float *queries, int64_t n_queries,
                                   int64_t dim, int k, int n_workers,
                                   selfsup__knn_consumer consume, void *ctx,
                                   const char *where);

/* out[i, :] = x[i, :] / max(|x[i, :]|, 1e-12) for the n rows of x (n, dim),
 * the norm in double; serial. */
void selfsup__l2_normalize_rows(float *out, const float *x, int64_t n,
                                int64_t dim);

#endif
