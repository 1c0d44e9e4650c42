/* libselfsup: objectives, the self-supervised losses on the embeddings of V
 * views of one batch, with their gradients (docs/objectives.md). */
#ifndef SELFSUP_OBJECTIVE_H
#define SELFSUP_OBJECTIVE_H

#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct selfsup_objective selfsup_objective;

/* spec is "name" or "name:key=value,...":
 *   byol                                      n_views 2, target required
 *   simsiam                                   n_views 2, target required
 *   vicreg:sim=25,var=25,cov=1,eps=1e-4       n_views 2, target NULL
 *   simclr:temperature=0.5                    n_views 2, target NULL
 *   barlow:lambda=0.0051,eps=0                n_views 2, target NULL
 *   groco:topk=10,steepness=1,network=odd_even,relax=cauchy
 *                                             n_views >= 2, target optional
 * (the values shown are the defaults). Ranges: vicreg sim, var, cov in
 * [0, 1e9], eps in (0, 1]; simclr temperature in [1e-4, 1e4]; barlow lambda
 * in [0, 1e9], eps in [0, 1] (an addition to the contract: the contract's
 * "standardised by the biased std" is eps = 0; eps = 1e-5 is the reference
 * code's BatchNorm1d); groco topk in 1..1000, steepness in (0, 1e9],
 * network odd_even | bitonic, relax cauchy | logistic | optimal.
 * An unknown name or key, a value out of range or a malformed spec gives
 * SELFSUP_ERR_INVALID_ARGUMENT naming the offender. */
SELFSUP_API selfsup_status selfsup_objective_create(selfsup_objective **out,
                                                    const char *spec);

/* Frees o; NULL is accepted. */
SELFSUP_API void selfsup_objective_destroy(selfsup_objective *o);

/* The loss on online[0..n_views) (each (N, D)) and, unless grad_online is
 * NULL, its gradient: grad_online[v] (N, D) is overwritten with
 * dL/d online[v]. target[v] never gets gradient (stop-gradient). The loss
 * and the gradients are computed into scratch and published only on
 * success, so a grad_online tensor may be the same as an input.
 *
 * Checks, in this order: o, online or loss NULL -> INVALID_ARGUMENT; a
 * wrong n_views -> SHAPE; online[v] NULL -> INVALID_ARGUMENT; online[v] not
 * 2-D, shapes that differ between views, N < 2 (groco: N - 1 < topk) ->
 * SHAPE; a missing required target or a target where the objective takes
 * none -> INVALID_ARGUMENT, target[v] NULL -> INVALID_ARGUMENT, target[v]
 * not of online's shape -> SHAPE; grad_online[v] NULL -> INVALID_ARGUMENT,
 * not of online's shape -> SHAPE; then NaN/Inf in online, then in target
 * -> NUMERIC. A non-finite loss or gradient (overflow; barlow with eps = 0
 * and a constant column) -> NUMERIC. Every output is untouched on
 * failure. */
SELFSUP_API selfsup_status selfsup_objective_compute(
    selfsup_objective *o, int n_views, const selfsup_tensor *const *online,
    const selfsup_tensor *const *target, float *loss,
    selfsup_tensor *const *grad_online);

/* The objective's name ("byol", ...); "" for NULL. */
SELFSUP_API const char *selfsup_objective_name(const selfsup_objective *o);

/* What an objective expects of target. */
typedef enum selfsup_target_rule {
    SELFSUP_TARGET_NONE = 0,     /* target must be NULL */
    SELFSUP_TARGET_REQUIRED = 1, /* target must be given */
    SELFSUP_TARGET_OPTIONAL = 2  /* either (groco: online as a constant) */
} selfsup_target_rule;

SELFSUP_API selfsup_target_rule
selfsup_objective_target_rule(const selfsup_objective *o);

/* The range of n_views the objective accepts (groco: 2 up to the most its
 * sorting network of topk + n_views - 1 wires allows); 0 for NULL. */
SELFSUP_API int selfsup_objective_min_views(const selfsup_objective *o);
SELFSUP_API int selfsup_objective_max_views(const selfsup_objective *o);

/* Diagnostics of the last successful compute, by name. Every objective has
 *   loss          the loss in double precision
 *   collapse_std  the std over the batch (unbiased) of the l2-normalised
 *                 rows of online[0], averaged over dimensions: about
 *                 1/sqrt(D) when healthy, 0 when collapsed
 * and its own (docs/objectives.md):
 *   byol, simsiam  cos          mean cosine of the pairs in the loss
 *   vicreg         invariance   mse(x, y)
 *                  variance     the hinge term [mean relu(1 - std)]/2 over
 *                               both views, before its coefficient
 *                  covariance   the covariance term before its coefficient
 *                  std          mean std over dimensions and both views
 *   barlow         on_diag      sum (1 - C_ii)^2
 *                  off_diag     sum_{i != j} C_ij^2 (before lambda)
 *   simclr         pos_sim      mean cosine of the positive pairs
 *                  top1         fraction of rows whose positive is the
 *                               largest logit
 *   groco          pos_sim      mean positive cosine
 *                  neg_sim      mean cosine over all negatives (j != i)
 *                  hard_neg_sim mean cosine over the topk kept negatives
 *                  ordered      fraction of anchors whose positives all
 *                               rank above all their negatives
 *                  margin       mean over anchors of the smallest positive
 *                               minus the largest negative cosine (> 0:
 *                               ordered with room; GroCo's health figure)
 * The count and the names do not depend on computes having run;
 * selfsup_objective_diagnostic gives SELFSUP_ERR_STATE before the first
 * successful compute and SELFSUP_ERR_INVALID_ARGUMENT for an unknown
 * name. */
SELFSUP_API int selfsup_objective_diagnostic_count(const selfsup_objective *o);
/* The i-th name, 0 <= i < count; NULL otherwise. */
SELFSUP_API const char *
selfsup_objective_diagnostic_name(const selfsup_objective *o, int i);
SELFSUP_API selfsup_status selfsup_objective_diagnostic(
    const selfsup_objective *o, const char *name, double *value);

#ifdef __cplusplus
}
#endif

#endif
