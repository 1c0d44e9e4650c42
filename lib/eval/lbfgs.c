#include "lbfgs.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* Sufficient decrease (delta) and curvature (sigma) constants, and the
 * relative rise of f the approximate Wolfe test tolerates (Hager & Zhang's
 * epsilon, their default). */
#define ARMIJO_C1      1e-4
#define CURVATURE_C2   0.9
#define APPROX_F_SLACK 1e-6
enum { LINE_SEARCH_TRIALS = 30 };

static double dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

typedef struct lbfgs_state {
    int64_t n;
    int history, stored, newest; /* pairs kept; the newest at s[newest] */
    double *s, *y;               /* (history, n) */
    double *rho;                 /* 1 / (s . y) */
    double *alpha;               /* (history) two-loop scratch */
} lbfgs_state;

/* d = -H g by the two-loop recursion, H0 = (s.y / y.y) I from the newest
 * pair, or d = -g without pairs. */
static void lbfgs_direction(const lbfgs_state *st, const double *g, double *d)
{
    int64_t n = st->n;
    for (int64_t i = 0; i < n; i++)
        d[i] = -g[i];
    if (st->stored == 0)
        return;
    int j = st->newest;
    for (int m = 0; m < st->stored; m++) {
        const double *s = st->s + (int64_t)j * n, *y = st->y + (int64_t)j * n;
        st->alpha[j] = st->rho[j] * dot(s, d, n);
        for (int64_t i = 0; i < n; i++)
            d[i] -= st->alpha[j] * y[i];
        j = (j + st->history - 1) % st->history;
    }
    const double *s_new = st->s + (int64_t)st->newest * n;
    const double *y_new = st->y + (int64_t)st->newest * n;
    double gamma = dot(s_new, y_new, n) / dot(y_new, y_new, n);
    for (int64_t i = 0; i < n; i++)
        d[i] *= gamma;
    j = (st->newest + st->history - st->stored + 1) % st->history;
    for (int m = 0; m < st->stored; m++) {
        const double *s = st->s + (int64_t)j * n, *y = st->y + (int64_t)j * n;
        double beta = st->rho[j] * dot(y, d, n);
        for (int64_t i = 0; i < n; i++)
            d[i] += (st->alpha[j] - beta) * s[i];
        j = (j + 1) % st->history;
    }
}

/* Keeps the pair (x_new - x, g_new - g) if its curvature s.y is positive
 * (always so for a strictly convex f, barring rounding); a refused pair
 * leaves the stored ones alone. */
static void lbfgs_remember(lbfgs_state *st, const double *x,
                           const double *x_new, const double *g,
                           const double *g_new)
{
    int64_t n = st->n;
    double sy = 0.0, ss = 0.0, yy = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double s = x_new[i] - x[i], y = g_new[i] - g[i];
        sy += s * y;
        ss += s * s;
        yy += y * y;
    }
    if (!(sy > 1e-12 * sqrt(ss * yy)))
        return;
    int slot = (st->newest + 1) % st->history;
    double *s = st->s + (int64_t)slot * n, *y = st->y + (int64_t)slot * n;
    for (int64_t i = 0; i < n; i++) {
        s[i] = x_new[i] - x[i];
        y[i] = g_new[i] - g[i];
    }
    st->rho[slot] = 1.0 / sy;
    st->newest = slot;
    if (st->stored < st->history)
        st->stored++;
}

typedef struct line_point {
    double *x, *g;   /* (n) */
    double f, slope; /* f and g . d there */
} line_point;

/* Searches t > 0 along d from (x, f0, g0) with slope0 = g0 . d < 0, first
 * trying t. *found is 1 when a step was accepted (then *out holds that
 * point), 0 when none was; a failing objective is passed on. phi'(t) =
 * g(x + t d) . d is increasing for a convex f, so [lo, hi] brackets the
 * target once hi is known, and the next trial is the secant root of phi'
 * in it. */
static selfsup_status line_search(selfsup__lbfgs_objective objective, void *ctx,
                                  int64_t n, const double *x, double f0,
                                  double slope0, const double *d, double t,
                                  line_point *out,
                                  selfsup__lbfgs_report *report, int *found)
{
    double lo = 0.0, slope_lo = slope0, hi = INFINITY, slope_hi = NAN;
    *found = 0;
    for (int trial = 0; trial < LINE_SEARCH_TRIALS; trial++) {
        for (int64_t i = 0; i < n; i++)
            out->x[i] = x[i] + t * d[i];
        SS_TRY(objective(ctx, out->x, &out->f, out->g));
        report->evaluations++;
        out->slope = dot(out->g, d, n);
        int finite = isfinite(out->f) && isfinite(out->slope);
        int armijo = finite && out->f <= f0 + ARMIJO_C1 * t * slope0;
        int curvature = finite && out->slope >= CURVATURE_C2 * slope0;
        int approx = finite && curvature &&
                     out->f <= f0 + APPROX_F_SLACK * fabs(f0) &&
                     out->slope <= (2.0 * ARMIJO_C1 - 1.0) * slope0;
        if ((armijo && curvature) || approx) {
            *found = 1;
            return SELFSUP_OK;
        }
        if (!finite || out->slope >= 0.0 || !armijo) {
            hi = t; /* past the minimum along d, or too long for Armijo */
            slope_hi = finite ? out->slope : NAN;
        } else {
            lo = t; /* descending steeply still: go further */
            slope_lo = out->slope;
        }
        if (isinf(hi)) {
            t *= 4.0;
            continue;
        }
        double width = hi - lo, next = lo + 0.5 * width;
        if (isfinite(slope_hi) && slope_hi > slope_lo)
            next = lo + width * slope_lo / (slope_lo - slope_hi);
        double margin = 0.1 * width;
        if (next < lo + margin)
            next = lo + margin;
        if (next > hi - margin)
            next = hi - margin;
        if (!(next > lo && next < hi)) /* the bracket is below rounding */
            return SELFSUP_OK;
        t = next;
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__lbfgs_minimize(selfsup__lbfgs_objective objective,
                                       void *ctx, double *x, int64_t n,
                                       const selfsup__lbfgs_options *options,
                                       selfsup__lbfgs_report *report,
                                       const char *where)
{
    memset(report, 0, sizeof *report);
    int m = options->history;
    lbfgs_state st = {.n = n, .history = m, .newest = m - 1};
    st.s = selfsup__malloc((size_t)m * (size_t)n * sizeof(double));
    st.y = selfsup__malloc((size_t)m * (size_t)n * sizeof(double));
    st.rho = selfsup__malloc((size_t)m * sizeof(double));
    st.alpha = selfsup__malloc((size_t)m * sizeof(double));
    double *g = selfsup__malloc((size_t)n * sizeof *g);
    double *d = selfsup__malloc((size_t)n * sizeof *d);
    line_point next = {.x = selfsup__malloc((size_t)n * sizeof(double)),
                       .g = selfsup__malloc((size_t)n * sizeof(double))};
    selfsup_status status = SELFSUP_OK;
    if (!st.s || !st.y || !st.rho || !st.alpha || !g || !d || !next.x ||
        !next.g) {
        status = selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                               "cannot allocate L-BFGS memory (%d pairs of "
                               "%lld values)",
                               m, (long long)n);
        goto done;
    }

    double f;
    status = objective(ctx, x, &f, g);
    if (status != SELFSUP_OK)
        goto done;
    report->evaluations = 1;
    if (!isfinite(f)) {
        status = selfsup__fail(SELFSUP_ERR_NUMERIC, where,
                               "the objective is %g at the start", f);
        goto done;
    }
    for (;;) {
        report->f = f;
        report->grad_max = max_abs(g, n);
        if (report->grad_max <= options->grad_tolerance) {
            report->stop = SELFSUP__LBFGS_CONVERGED;
            break;
        }
        if (report->iterations >= options->max_iter) {
            report->stop = SELFSUP__LBFGS_MAX_ITER;
            break;
        }
        lbfgs_direction(&st, g, d);
        double slope = dot(g, d, n);
        if (!(slope < 0.0)) { /* not a descent direction: start afresh */
            st.stored = 0;
            lbfgs_direction(&st, g, d);
            slope = dot(g, d, n);
        }
        /* Without curvature pairs the step along -g has no scale: the
         * first trial moves no parameter by more than 1 (PyTorch's LBFGS
         * scales its first step by 1 / |g|_1 for the same reason). */
        double t = st.stored ? 1.0 : 1.0 / max_abs(g, n);
        int found;
        status = line_search(objective, ctx, n, x, f, slope, d, t, &next,
                             report, &found);
        if (status != SELFSUP_OK)
            goto done;
        if (!found) {
            if (st.stored) { /* retry once along -g before giving up */
                st.stored = 0;
                continue;
            }
            report->stop = SELFSUP__LBFGS_NO_PROGRESS;
            break;
        }
        lbfgs_remember(&st, x, next.x, g, next.g);
        memcpy(x, next.x, (size_t)n * sizeof *x);
        memcpy(g, next.g, (size_t)n * sizeof *g);
        f = next.f;
        report->iterations++;
    }
done:
    selfsup__free(next.g);
    selfsup__free(next.x);
    selfsup__free(d);
    selfsup__free(g);
    selfsup__free(st.alpha);
    selfsup__free(st.rho);
    selfsup__free(st.y);
    selfsup__free(st.s);
    return status;
}
