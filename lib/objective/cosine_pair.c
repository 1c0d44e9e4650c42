/* BYOL and SimSiam: losses on the cosine of each online row with the other
 * view's target row, both directions,
 *     L = base + scale * (1/N) sum_i [c0_i + c1_i],
 *     c0_i = cos(online[0]_i, target[1]_i), c1_i = cos(online[1]_i,
 *     target[0]_i),
 * BYOL: base 4, scale -2 (the mean of (2 - 2 c0) + (2 - 2 c1));
 * SimSiam: base 0, scale -1/2. */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "objective_impl.h"

/* c = cos(a, b); with ga != NULL, ga = coef * dc/da:
 * dc/da = b / (Na Nb) - c a / Na^2 when |a| > eps (Na = |a|), else
 * b / (eps Nb). */
static double cosine_row(const float *a, const float *b, int64_t d, double coef,
                         float *ga)
{
    double ab = selfsup__dot(a, b, d);
    double na = sqrt(selfsup__dot(a, a, d));
    double nb = sqrt(selfsup__dot(b, b, d));
    double ca = fmax(na, SELFSUP__COS_EPS), cb = fmax(nb, SELFSUP__COS_EPS);
    double c = ab / (ca * cb);
    if (ga) {
        double wb = coef / (ca * cb);
        double wa = na > SELFSUP__COS_EPS ? coef * c / (ca * ca) : 0.0;
        for (int64_t k = 0; k < d; k++)
            ga[k] = (float)(wb * b[k] - wa * a[k]);
    }
    return c;
}

static selfsup_status cosine_pair(const selfsup__objective_batch *b,
                                  selfsup__objective_result *r, double base,
                                  double scale)
{
    int64_t n = b->n, d = b->d;
    double *c = selfsup__malloc(2 * (size_t)n * sizeof *c);
    if (!c)
        return SS_OBJ_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot allocate %lld doubles", (long long)(2 * n));
    double coef = scale / (double)n; /* dL/dc of each cosine */
#pragma omp parallel for schedule(static) if (4 * n * d >=                     \
                                              SELFSUP__PARALLEL_WORK)
    for (int64_t i = 0; i < n; i++) {
        for (int v = 0; v < 2; v++) {
            const float *a = b->online[v] + i * d;
            const float *t = b->target[1 - v] + i * d;
            c[2 * i + v] =
                cosine_row(a, t, d, coef, r->grad ? r->grad[v] + i * d : NULL);
        }
    }
    double sum = 0; /* in a fixed order: the same bits on any thread count */
    for (int64_t i = 0; i < 2 * n; i++)
        sum += c[i];
    selfsup__free(c);
    r->loss = base + scale * sum / (double)n;
    r->diag[SELFSUP__OBJ_DIAG_OWN] = sum / (double)(2 * n);
    return SELFSUP_OK;
}

static selfsup_status byol_compute(const selfsup_objective *o,
                                   const selfsup__objective_batch *b,
                                   selfsup__objective_result *r)
{
    (void)o;
    return cosine_pair(b, r, 4.0, -2.0);
}

static selfsup_status simsiam_compute(const selfsup_objective *o,
                                      const selfsup__objective_batch *b,
                                      selfsup__objective_result *r)
{
    (void)o;
    return cosine_pair(b, r, 0.0, -0.5);
}

static const char *const cosine_diag[] = {"cos"};

const selfsup__objective_kind selfsup__objective_byol = {
    .name = "byol",
    .min_views = 2,
    .max_views = 2,
    .target = SELFSUP_TARGET_REQUIRED,
    .diag_count = 1,
    .diag_names = cosine_diag,
    .compute = byol_compute};

const selfsup__objective_kind selfsup__objective_simsiam = {
    .name = "simsiam",
    .min_views = 2,
    .max_views = 2,
    .target = SELFSUP_TARGET_REQUIRED,
    .diag_count = 1,
    .diag_names = cosine_diag,
    .compute = simsiam_compute};
