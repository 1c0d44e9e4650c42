/* Internal: a deterministic full-batch L-BFGS minimiser for smooth convex
 * objectives (Nocedal & Wright, Numerical Optimization, 2nd ed., alg. 7.4
 * and 7.5), with a line search that accepts the Wolfe conditions or, once
 * the objective's differences sink below its rounding, the approximate Wolfe
 * conditions of Hager & Zhang (SIAM J. Optim. 16, 2005), which rely on the
 * directional derivative only. */
#ifndef SELFSUP_EVAL_LBFGS_H
#define SELFSUP_EVAL_LBFGS_H

#include <stdint.h>

#include "selfsup/status.h"

/* f(x) and its gradient g (n values). A failing status stops the run. */
typedef selfsup_status (*selfsup__lbfgs_objective)(void *ctx, const double *x,
                                                   double *f, double *g);

typedef enum selfsup__lbfgs_stop {
    SELFSUP__LBFGS_CONVERGED = 0,   /* max |g_j| <= grad_tolerance */
    SELFSUP__LBFGS_NO_PROGRESS = 1, /* the line search found no step, also
                                       along -g: rounding has won */
    SELFSUP__LBFGS_MAX_ITER = 2
} selfsup__lbfgs_stop;

typedef struct selfsup__lbfgs_options {
    int history;           /* (s, y) pairs kept, >= 1 */
    int max_iter;          /* >= 0 */
    double grad_tolerance; /* on the max-norm of the gradient */
} selfsup__lbfgs_options;

typedef struct selfsup__lbfgs_report {
    int iterations;  /* accepted steps */
    int evaluations; /* calls of the objective */
    double f;        /* at the returned x */
    double grad_max; /* max |g_j| there */
    selfsup__lbfgs_stop stop;
} selfsup__lbfgs_report;

/* Minimises from x (n values), leaving the minimiser in x. The objective
 * must be finite at the start (SELFSUP_ERR_NUMERIC otherwise); trial points
 * where it is not are treated as too long a step. */
selfsup_status selfsup__lbfgs_minimize(selfsup__lbfgs_objective objective,
                                       void *ctx, double *x, int64_t n,
                                       const selfsup__lbfgs_options *options,
                                       selfsup__lbfgs_report *report,
                                       const char *where);

#endif
