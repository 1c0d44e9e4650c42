/* Symmetric eigendecomposition: tridiagonalise, then QR-iterate. */
#include "symeig.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

/* Householder reflections H_k = I - 2 v v^T zero a's column k below the
 * subdiagonal, k = 0 .. n-3; the trailing block becomes H A H and q
 * accumulates the product of the reflections, so that A = q T q^T with T
 * tridiagonal (diagonal d, subdiagonal e[0 .. n-2]). a is read from its
 * lower triangle and used as scratch. v and p are n doubles each. */
static void tridiagonalize(double *a, int64_t n, double *q, double *d,
                           double *e, double *v, double *p)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++)
            a[i * n + j] = a[j * n + i];
    for (int64_t i = 0; i < n * n; i++)
        q[i] = 0;
    for (int64_t i = 0; i < n; i++)
        q[i * n + i] = 1;
    for (int64_t k = 0; k + 2 < n; k++) {
        /* x = a[k+1 .., k]; the reflection maps it to (alpha, 0, ..). */
        int64_t m = n - k - 1;
        double norm = 0;
        for (int64_t i = 0; i < m; i++)
            norm = hypot(norm, a[(k + 1 + i) * n + k]);
        if (norm == 0) {
            e[k] = 0;
            continue;
        }
        double x0 = a[(k + 1) * n + k];
        double alpha = x0 > 0 ? -norm : norm;
        for (int64_t i = 0; i < m; i++)
            v[i] = a[(k + 1 + i) * n + k];
        v[0] -= alpha;
        double vnorm = 0;
        for (int64_t i = 0; i < m; i++)
            vnorm = hypot(vnorm, v[i]);
        for (int64_t i = 0; i < m; i++)
            v[i] /= vnorm;
        /* B = a[k+1.., k+1..]: H B H = B - 2 v w^T - 2 w v^T with
         * p = B v and w = p - (v^T p) v. */
        double vp = 0;
        for (int64_t i = 0; i < m; i++) {
            const double *row = a + (k + 1 + i) * n + k + 1;
            double s = 0;
            for (int64_t j = 0; j < m; j++)
                s += row[j] * v[j];
            p[i] = s;
            vp += v[i] * s;
        }
        for (int64_t i = 0; i < m; i++)
            p[i] -= vp * v[i];
        for (int64_t i = 0; i < m; i++) {
            double *row = a + (k + 1 + i) * n + k + 1;
            for (int64_t j = 0; j < m; j++)
                row[j] -= 2 * (v[i] * p[j] + p[i] * v[j]);
        }
        e[k] = alpha;
        /* q <- q H on columns k+1 ..: each row r of q loses 2 (r . v) v. */
        for (int64_t r = 0; r < n; r++) {
            double *row = q + r * n + k + 1;
            double s = 0;
            for (int64_t j = 0; j < m; j++)
                s += row[j] * v[j];
            for (int64_t j = 0; j < m; j++)
                row[j] -= 2 * s * v[j];
        }
    }
    if (n >= 2)
        e[n - 2] = a[(n - 1) * n + n - 2];
    for (int64_t i = 0; i < n; i++)
        d[i] = a[i * n + i];
}

/* (c, s) with [c s; -s c]^T (x, z) = (r, 0). */
static void givens(double x, double z, double *c, double *s)
{
    if (z == 0) {
        *c = 1;
        *s = 0;
    } else if (fabs(z) > fabs(x)) {
        double t = -x / z;
        *s = 1 / sqrt(1 + t * t);
        *c = *s * t;
    } else {
        double t = -z / x;
        *c = 1 / sqrt(1 + t * t);
        *s = *c * t;
    }
}

/* One implicit QR step with a Wilkinson shift on the unreduced block
 * lo .. hi of (d, e): rotations G_k in the planes (k, k+1) chase the bulge
 * that the shifted first rotation makes down the band; q's columns take
 * the same rotations. */
static void qr_step(double *d, double *e, int64_t lo, int64_t hi, double *q,
                    int64_t n)
{
    double delta = (d[hi - 1] - d[hi]) / 2, b = e[hi - 1];
    double mu = d[hi] - b * b / (delta + copysign(hypot(delta, b), delta));
    double x = d[lo] - mu, z = e[lo];
    for (int64_t k = lo; k < hi; k++) {
        double c, s;
        givens(x, z, &c, &s);
        if (k > lo)
            e[k - 1] = c * x - s * z;
        double a0 = d[k], b0 = e[k], a1 = d[k + 1];
        d[k] = c * c * a0 - 2 * c * s * b0 + s * s * a1;
        d[k + 1] = s * s * a0 + 2 * c * s * b0 + c * c * a1;
        e[k] = c * s * (a0 - a1) + (c * c - s * s) * b0;
        if (k + 1 < hi) {
            z = -s * e[k + 1];
            e[k + 1] *= c;
            x = e[k];
        }
        for (int64_t r = 0; r < n; r++) {
            double *row = q + r * n;
            double u = row[k], w = row[k + 1];
            row[k] = c * u - s * w;
            row[k + 1] = s * u + c * w;
        }
    }
}

/* Diagonalises (d, e) in place, rotating q; 0 when it converged. */
static int qr_iterate(double *d, double *e, double *q, int64_t n)
{
    /* Each eigenvalue takes two or three steps in practice; the limit
     * only stops a (never seen) failure to converge. */
    int64_t budget = 30 * n + 30;
    int64_t hi = n - 1;
    while (hi > 0) {
        for (int64_t i = 0; i < hi; i++)
            if (fabs(e[i]) <= DBL_EPSILON * (fabs(d[i]) + fabs(d[i + 1])))
                e[i] = 0;
        while (hi > 0 && e[hi - 1] == 0)
            hi--;
        if (hi == 0)
            break;
        int64_t lo = hi - 1;
        while (lo > 0 && e[lo - 1] != 0)
            lo--;
        if (budget-- == 0)
            return -1;
        qr_step(d, e, lo, hi, q, n);
    }
    return 0;
}

/* Descending values; columns of q follow; signs fixed. a receives q. */
static void sort_and_sign(double *a, const double *q, const double *d,
                          int64_t n, double *values, int64_t *order)
{
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    /* insertion sort: n is at most a few thousand and this is O(n^2) at
     * worst beside the O(n^3) above; stable, so ties keep their order */
    for (int64_t i = 1; i < n; i++) {
        int64_t o = order[i], j = i;
        while (j > 0 && d[order[j - 1]] < d[o]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = o;
    }
    for (int64_t j = 0; j < n; j++) {
        int64_t src = order[j];
        values[j] = d[src];
        int64_t big = 0;
        for (int64_t r = 1; r < n; r++)
            if (fabs(q[r * n + src]) > fabs(q[big * n + src]))
                big = r;
        double sign = q[big * n + src] < 0 ? -1 : 1;
        for (int64_t r = 0; r < n; r++)
            a[r * n + j] = sign * q[r * n + src];
    }
}

selfsup_status selfsup__symeig(double *a, int64_t n, double *values,
                               const char *where)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j <= i; j++)
            if (!isfinite(a[i * n + j]))
                return selfsup__fail(SELFSUP_ERR_NUMERIC, where,
                                     "entry (%lld, %lld) of the matrix is %g",
                                     (long long)i, (long long)j, a[i * n + j]);
    size_t nn = (size_t)n * (size_t)n;
    double *q = selfsup__malloc(nn * sizeof *q);
    double *work = selfsup__malloc((size_t)(4 * n + 1) * sizeof *work);
    int64_t *order = selfsup__malloc((size_t)n * sizeof *order);
    if (!q || !work || !order) {
        selfsup__free(q);
        selfsup__free(work);
        selfsup__free(order);
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the workspace of a %lld x %lld "
                             "eigendecomposition",
                             (long long)n, (long long)n);
    }
    double *d = work, *e = work + n, *v = work + 2 * n, *p = work + 3 * n;
    tridiagonalize(a, n, q, d, e, v, p);
    selfsup_status s = SELFSUP_OK;
    if (qr_iterate(d, e, q, n) != 0)
        s = selfsup__fail(SELFSUP_ERR_NUMERIC, where,
                          "the symmetric QR iteration did not converge "
                          "(%lld x %lld matrix)",
                          (long long)n, (long long)n);
    else
        sort_and_sign(a, q, d, n, values, order);
    selfsup__free(q);
    selfsup__free(work);
    selfsup__free(order);
    return s;
}
