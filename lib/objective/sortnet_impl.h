/* Internal: the sorting network's layout and its per-row kernels.
 *
 * The kernels work on one row in double precision. A forward pass over the
 * values records a tape of three doubles per comparator k:
 *     tape[3k]     alpha = f(steepness (b - a))
 *     tape[3k + 1] dalpha = d alpha / d b = -d alpha / d a
 *     tape[3k + 2] a - b
 * which is all that the permutation and the backward passes need: P is a
 * product of 2x2 mixes whose weights are the alphas, so gradients through P
 * reach x only through the alphas.
 *
 * Row-vector convention: comparator k is the n x n matrix M_k, the identity
 * but for the block [[alpha, 1 - alpha], [1 - alpha, alpha]] on (lo, hi);
 * sorted = x M_1 ... M_K and P = M_1 ... M_K. */
#ifndef SELFSUP_OBJECTIVE_SORTNET_IMPL_H
#define SELFSUP_OBJECTIVE_SORTNET_IMPL_H

#include <stdint.h>

#include "selfsup/sortnet.h"

enum { SELFSUP__SORTNET_MAX_WIRES = 1024 };

typedef enum selfsup__sortnet_network {
    SELFSUP__SORTNET_ODD_EVEN = 0,
    SELFSUP__SORTNET_BITONIC = 1
} selfsup__sortnet_network;

typedef enum selfsup__sortnet_relax {
    SELFSUP__RELAX_CAUCHY = 0,
    SELFSUP__RELAX_LOGISTIC = 1,
    SELFSUP__RELAX_OPTIMAL = 2
} selfsup__sortnet_relax;

/* The names, in enum order, as the spec strings spell them. */
extern const char *const selfsup__sortnet_network_names[2];
extern const char *const selfsup__sortnet_relax_names[3];

struct selfsup_sortnet {
    int n;
    selfsup__sortnet_network network;
    selfsup__sortnet_relax relax;
    double steepness;
    int64_t count; /* comparators */
    int layers;
    int32_t *lo, *hi;     /* count each, in execution order */
    int64_t *layer_start; /* layers + 1: layer l is [start[l], start[l+1]) */
};

/* Builds a network without parsing a spec (GroCo's path). n in
 * 1..SELFSUP__SORTNET_MAX_WIRES, steepness > 0; where names the public
 * function for messages. */
selfsup_status selfsup__sortnet_make(selfsup_sortnet **out, int n,
                                     selfsup__sortnet_network network,
                                     selfsup__sortnet_relax relax,
                                     double steepness, const char *where);

/* alpha = f(v) and *dfdv = f'(v). */
double selfsup__sortnet_relax_eval(selfsup__sortnet_relax relax, double v,
                                   double *dfdv);

/* x (n): in the inputs, out the relaxed sorted values; tape (3 count). */
void selfsup__sortnet_values_forward(const selfsup_sortnet *s, double *x,
                                     double *tape);

/* pt (n x n) = P transposed, pt[c * n + r] = P[r][c]: the columns of P are
 * contiguous, so each comparator mixes two contiguous rows of pt. */
void selfsup__sortnet_perm_forward(const selfsup_sortnet *s, const double *tape,
                                   double *pt);

/* beta (n): in m, out P m, by one reverse pass (O(1) per comparator).
 * dbeta (count) receives beta[lo] - beta[hi] just after each comparator,
 * which selfsup__sortnet_perm_rank1_backward needs; may be NULL. */
void selfsup__sortnet_perm_apply(const selfsup_sortnet *s, const double *tape,
                                 double *beta, double *dbeta);

/* For L = g^T P m: galpha[k] += dL/dalpha_k, by one forward pass of
 * gamma = g through the comparators (gamma is overwritten); dbeta from
 * selfsup__sortnet_perm_apply with the same m. */
void selfsup__sortnet_perm_rank1_backward(const selfsup_sortnet *s,
                                          const double *tape, double *gamma,
                                          const double *dbeta, double *galpha);

/* lambda (n): in dL/dsorted (zeros if L does not use the values), out
 * dL/dx; galpha (count) holds dL/dalpha from the permutation, or NULL. */
void selfsup__sortnet_values_backward(const selfsup_sortnet *s,
                                      const double *tape, double *lambda,
                                      const double *galpha);

/* Doubles of work space selfsup__sortnet_backward_row needs. */
int64_t selfsup__sortnet_backward_work(const selfsup_sortnet *s);

/* The whole backward of one row: gx (n) = dL/dx given x (n), gy = dL/dsorted
 * (n) and gp = dL/dP (n x n, row-major); gy or gp may be NULL. */
void selfsup__sortnet_backward_row(const selfsup_sortnet *s, const double *x,
                                   const double *gy, const double *gp,
                                   double *gx, double *work);

#endif
