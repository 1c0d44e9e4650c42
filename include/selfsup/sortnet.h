/* libselfsup: differentiable sorting networks (Petersen et al., ICML 2021,
 * ICLR 2022), the relaxed sort inside the GroCo objective, usable alone. */
#ifndef SELFSUP_SORTNET_H
#define SELFSUP_SORTNET_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A fixed network of comparators on n wires with a relaxation of the
 * comparator. Comparator (lo, hi) on values a = x[lo], b = x[hi] with
 * alpha = f(steepness * (b - a)) writes
 *     x[lo] = alpha a + (1 - alpha) b,   x[hi] = (1 - alpha) a + alpha b,
 * so lo receives the soft minimum; the same mix is applied to the columns
 * lo and hi of the relaxed permutation matrix P, which starts as the
 * identity. At the end P[r][c] is the probability that input r ends at
 * ascending rank c, and sorted = x P.
 *
 * The handle is immutable after creation: forward and backward may run on
 * it from several threads at once. */
typedef struct selfsup_sortnet selfsup_sortnet;

/* spec: "<network>:n=<wires>[,relax=<f>][,steepness=<s>]", e.g.
 * "bitonic:n=12,relax=logistic,steepness=4".
 *   network  odd_even   n layers; layer l compares (s, s+1), (s+2, s+3),
 *                       ... with s = l mod 2.
 *            bitonic    the bitonic network on 2^ceil(log2 n) wires with
 *                       every comparator ascending (each merge starts by
 *                       comparing wire i with its mirror in the block); the
 *                       extra wires are the first ones, act as -inf, and
 *                       every comparator that touches one is dropped (with
 *                       all comparators ascending, a -inf wire is always
 *                       the lo side, so dropping is exact).
 *   n        wires, 1..1024 (required).
 *   relax    cauchy (default)  f(v) = atan(v)/pi + 1/2
 *            logistic          f(v) = 1/(1 + exp(-v))
 *            optimal           f(v) = -1/(16v) for v < -1/4, v + 1/2 for
 *                              |v| <= 1/4, 1 - 1/(16v) for v > 1/4
 *   steepness  > 0 and <= 1e9 (default 1).
 * SELFSUP_ERR_INVALID_ARGUMENT names an unknown network, key or a bad
 * value. */
SELFSUP_API selfsup_status selfsup_sortnet_create(selfsup_sortnet **out,
                                                  const char *spec);

/* Frees s; NULL is accepted. */
SELFSUP_API void selfsup_sortnet_destroy(selfsup_sortnet *s);

/* The number of wires n; 0 for NULL. */
SELFSUP_API int selfsup_sortnet_wires(const selfsup_sortnet *s);

/* The number of comparators (after dropping); 0 for NULL. */
SELFSUP_API int64_t selfsup_sortnet_comparator_count(const selfsup_sortnet *s);

/* The number of layers (comparators of one layer touch disjoint wires). */
SELFSUP_API int selfsup_sortnet_layer_count(const selfsup_sortnet *s);

/* The k-th comparator in execution order (0 <= k < count): *lo receives
 * the soft minimum, *hi the soft maximum. */
SELFSUP_API selfsup_status selfsup_sortnet_comparator(const selfsup_sortnet *s,
                                                      int64_t k, int *lo,
                                                      int *hi);

/* Runs every row of x (rows, n) through the network. sorted (rows, n)
 * receives the relaxed sorted values, perm (rows, n, n) the relaxed
 * permutation matrices P (row-major: perm[row][r][c]); either may be NULL,
 * not both. Rows are independent and run in parallel. Internally in double
 * precision; nothing is kept in the handle (backward recomputes the
 * comparator weights from x, which costs one comparator pass per row).
 * SELFSUP_ERR_SHAPE for shapes that do not fit n, SELFSUP_ERR_NUMERIC for
 * NaN/Inf in x. */
SELFSUP_API selfsup_status selfsup_sortnet_forward(const selfsup_sortnet *s,
                                                   const selfsup_tensor *x,
                                                   selfsup_tensor *sorted,
                                                   selfsup_tensor *perm);

/* The gradient of a loss L(sorted, perm) with respect to x, given
 * grad_sorted = dL/dsorted (rows, n) and grad_perm = dL/dperm (rows, n, n),
 * either of which may be NULL (not both); grad_x (rows, n) is overwritten.
 * x must be the input of the forward pass whose outputs L was computed
 * from. Cost per row: O(count) for the values and O(n count) for the
 * permutation (n passes of O(1) per comparator, memory O(count)), never a
 * dense n x n product per comparator. */
SELFSUP_API selfsup_status selfsup_sortnet_backward(
    const selfsup_sortnet *s, const selfsup_tensor *x,
    const selfsup_tensor *grad_sorted, const selfsup_tensor *grad_perm,
    selfsup_tensor *grad_x);

#ifdef __cplusplus
}
#endif

#endif
