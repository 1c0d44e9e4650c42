/* Internal: what the objective dispatcher shares with each loss. */
#ifndef SELFSUP_OBJECTIVE_OBJECTIVE_IMPL_H
#define SELFSUP_OBJECTIVE_OBJECTIVE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/spec.h"
#include "selfsup/objective.h"
#include "sortnet_impl.h"

enum {
    SELFSUP__OBJ_MAX_DIAG = 8,
    /* the common diagnostics come first: loss, collapse_std */
    SELFSUP__OBJ_DIAG_LOSS = 0,
    SELFSUP__OBJ_DIAG_COLLAPSE = 1,
    SELFSUP__OBJ_DIAG_OWN = 2
};

/* The validated inputs of one compute. */
typedef struct selfsup__objective_batch {
    int views;
    int64_t n, d;
    const float *const *online; /* views pointers to (n, d) */
    const float *const *target; /* views pointers, or NULL */
} selfsup__objective_batch;

/* What a loss produces; the dispatcher publishes it only on success. */
typedef struct selfsup__objective_result {
    double loss;
    float **grad; /* views scratch buffers (n, d), or NULL: loss only */
    double diag[SELFSUP__OBJ_MAX_DIAG]; /* own diagnostics at OBJ_DIAG_OWN+ */
} selfsup__objective_result;

typedef struct selfsup__objective_kind selfsup__objective_kind;

struct selfsup_objective {
    const selfsup__objective_kind *kind;
    union {
        struct {
            double sim, var, cov, eps;
        } vicreg;
        struct {
            double temperature;
        } simclr;
        struct {
            double lambda, eps;
        } barlow;
        struct {
            long topk;
            double steepness;
            selfsup__sortnet_network network;
            selfsup__sortnet_relax relax;
        } groco;
    } p;
    int has_diag;
    double diag[SELFSUP__OBJ_MAX_DIAG];
};

struct selfsup__objective_kind {
    const char *name;
    int min_views, max_views;
    selfsup_target_rule target;
    int diag_count;                /* own diagnostics */
    const char *const *diag_names; /* diag_count names */
    /* reads the keys into o->p (defaults set beforehand by configure) */
    selfsup_status (*configure)(selfsup_objective *o, selfsup__spec *spec);
    /* extra shape rules (groco's topk), or NULL; where = public function */
    selfsup_status (*check)(const selfsup_objective *o, int views, int64_t n,
                            const char *where);
    selfsup_status (*compute)(const selfsup_objective *o,
                              const selfsup__objective_batch *b,
                              selfsup__objective_result *r);
};

extern const selfsup__objective_kind selfsup__objective_byol;
extern const selfsup__objective_kind selfsup__objective_simsiam;
extern const selfsup__objective_kind selfsup__objective_vicreg;
extern const selfsup__objective_kind selfsup__objective_simclr;
extern const selfsup__objective_kind selfsup__objective_barlow;
extern const selfsup__objective_kind selfsup__objective_groco;

/* Failures inside a loss carry the public function's name. */
#define SS_OBJ_FAIL(status, ...)                                               \
    selfsup__fail((status), "selfsup_objective_compute", __VA_ARGS__)

/* Loops with less work than this (in multiply-adds) run on the calling
 * thread: waking the team costs more than it saves. */
#define SELFSUP__PARALLEL_WORK (INT64_C(1) << 15)

/* Carving one allocation into 64-byte aligned pieces: first add every
 * piece's size to get offsets, then allocate the total once (one failure
 * point, one free). */
static inline size_t selfsup__carve(size_t *total, size_t bytes)
{
    size_t offset = *total;
    *total += (bytes + 63) & ~(size_t)63;
    return offset;
}

/* cos(a, b) = a.b / (max(|a|, eps) max(|b|, eps)), the contract's. */
#define SELFSUP__COS_EPS 1e-12

/* Column statistics of x (n, d) in double: mean[j], and sumsq[j] the sum
 * over rows of (x[i][j] - mean[j])^2 (divide by n or n - 1 for the biased
 * or unbiased variance). When centred is not NULL it receives x - mean. */
void selfsup__column_moments(double *mean, double *sumsq, float *centred,
                             const float *x, int64_t n, int64_t d);

/* |x| of each of n rows of length d, accumulated in double. */
void selfsup__row_norms(double *norm, const float *x, int64_t n, int64_t d);

/* out (n, d) = x_i / max(|x_i|, eps), from norms of selfsup__row_norms. */
void selfsup__rows_normalize(float *out, const float *x, const double *norm,
                             int64_t n, int64_t d);

/* dx (d) = d/dx of g.(x / max(|x|, eps)) for one row of norm |x|:
 * (g - xhat (xhat.g)) / |x| when |x| > eps, else g / eps. g is float (gf)
 * or double (gd); one of them is NULL. dx may alias gf. */
void selfsup__normalize_backward_row(float *dx, const float *x, double norm,
                                     const float *gf, const double *gd,
                                     int64_t d);

/* The dot product of two float rows in double. */
double selfsup__dot(const float *a, const float *b, int64_t d);

#endif
