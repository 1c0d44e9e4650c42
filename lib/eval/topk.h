/* Internal: a query's k most similar rows out of a stream of scores.
 *
 * A bounded heap of k entries with the worst at its root: a score enters
 * only if it beats the root. Rows arrive in increasing order, so among
 * equal similarities the earlier row is already in and the newcomer, the
 * later row, loses: one comparison against the root decides, and the total
 * order (more similar first, then the lower row) makes the result
 * independent of how the stream is cut into tiles. A random stream of n
 * scores makes about k ln(n / k) insertions of log2 k steps each.
 * (A buffer of 2k candidates shrunk by quickselect was measured too: no
 * faster at k = 200, so the simpler heap stays.) */
#ifndef SELFSUP_EVAL_TOPK_H
#define SELFSUP_EVAL_TOPK_H

#include <stdint.h>

typedef struct selfsup__topk {
    float *sim;   /* (k) */
    int64_t *row; /* (k) */
    int64_t k;
    int64_t count; /* entries in the heap */
} selfsup__topk;

/* Starts an empty selection over the k-entry buffers sim and row. */
void selfsup__topk_init(selfsup__topk *t, int64_t k, float *sim, int64_t *row);

/* Offers the scores of rows [first, first + count); first is above every
 * row offered before. Scores must not be NaN. */
void selfsup__topk_offer(selfsup__topk *t, const float *scores, int64_t count,
                         int64_t first);

/* Sorts the entries best first in sim and row and returns how many there
 * are: min(k, rows offered). */
int64_t selfsup__topk_finish(selfsup__topk *t);

#endif
