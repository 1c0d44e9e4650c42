/* Every objective's gradient against finite differences of its own loss,
 * element by element, every key exercised.
 *
 * The difference quotient is taken in double on the "loss" diagnostic (the
 * loss before rounding to float). Inputs are multiples of 2^-12 of
 * magnitude < 8, so x + k h (h a power of two >= 2^-12, |k| <= 2) is exact
 * in float: the step is exactly the one divided by. The 4-point stencil
 * (-L(2h) + 8 L(h) - 8 L(-h) + L(-2h)) / 12h has truncation error
 * h^4 |L^(5)| / 30; what remains is the float32 arithmetic inside the loss
 * (normalised rows and GEMM products rounded to float, relative ~1e-7),
 * which the quotient amplifies by about 1.5 / h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "suites.h"

typedef struct fd_case {
    const char *spec;
    int views;
    int64_t n, d;
    int target; /* 1: separate target tensors; 2: target NULL */
    double h;
    double tol;   /* relative to the largest |gradient| of the case */
    float spread; /* vicreg: columns alternate scale 0.3 and this */
} fd_case;

/* tol, relative to the case's largest |gradient|: the float noise above is
 * about |L| 1e-7 * 1.5 / h. Seen: byol, simsiam 3e-8 (double inside but
 * for the inputs: the stencil's own error); vicreg, simclr, barlow up to
 * 2.7e-5 with h = 2^-7, 2^-8; groco up to 2e-4 with h = 2^-10 (its smaller
 * step stays clear of the ties where its sorts switch, see separated()).
 * Each tolerance leaves a margin of 4x or more; a wrong term moves entries
 * by O(1) relative. */
static const fd_case cases[] = {
    {"byol", 2, 5, 4, 1, 0x1p-7, 1e-6, 0},
    {"simsiam", 2, 5, 4, 1, 0x1p-7, 1e-6, 0},
    {"vicreg", 2, 6, 4, 0, 0x1p-7, 1e-4, 3.0f},
    {"vicreg:sim=3,var=7,cov=5,eps=0.1", 2, 7, 3, 0, 0x1p-7, 1e-4, 2.5f},
    {"simclr", 2, 5, 4, 0, 0x1p-7, 1e-4, 0},
    {"simclr:temperature=0.2", 2, 4, 6, 0, 0x1p-8, 1e-4, 0},
    {"barlow", 2, 6, 4, 0, 0x1p-7, 1e-4, 0},
    {"barlow:lambda=0.3,eps=0.01", 2, 5, 3, 0, 0x1p-7, 1e-4, 0},
    /* D > N: vicreg and barlow through their Gram form; vicreg's takes
     * |K|_F^2 - sum var^2 from float products, noisier (the error grew as
     * 1/h: 2.1e-4 relative at 2^-9, 1.8e-5 at 2^-5), so a larger step */
    {"vicreg:cov=3", 2, 4, 7, 0, 0x1p-5, 1e-4, 3.0f},
    {"barlow:lambda=0.2", 2, 4, 9, 0, 0x1p-7, 1e-4, 0},
    {"groco:topk=3", 3, 6, 8, 1, 0x1p-10, 1e-3, 0},
    {"groco:topk=3", 3, 6, 8, 2, 0x1p-10, 1e-3, 0},
    {"groco:topk=4,network=bitonic,relax=logistic,steepness=3", 2, 6, 8, 1,
     0x1p-10, 1e-3, 0},
    {"groco:topk=2,relax=optimal,steepness=2", 4, 5, 8, 2, 0x1p-10, 1e-3, 0},
    {"groco:topk=5,network=bitonic", 2, 6, 8, 2, 0x1p-10, 1e-3, 0},
};
enum { CASES = sizeof cases / sizeof cases[0] };

static float quantise(float x)
{
    return roundf(x * 4096.0f) / 4096.0f;
}

static double cosine(const float *a, const float *b, int64_t d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int64_t k = 0; k < d; k++) {
        ab += (double)a[k] * b[k];
        aa += (double)a[k] * a[k];
        bb += (double)b[k] * b[k];
    }
    return ab / (sqrt(aa) * sqrt(bb));
}

/* GroCo's loss is continuous where two similarities of one group tie, but
 * its derivative jumps there (the pre-sorts reorder), so a difference
 * across a tie measures neither side. A step of 2h = 2^-9 in one element
 * moves a cosine by at most about 2h / |row| ~ 7e-4 (rows of 8 normal
 * values); inputs qualify when every two cosines that share a group differ
 * by more than 0.01, far more than two such moves. */
static int separated(const fd_case *c, float *const *on, float *const *tg)
{
    for (int v = 0; v < c->views; v++)
        for (int64_t i = 0; i < c->n; i++) {
            double val[64];
            int m = 0;
            const float *a = on[v] + i * c->d;
            for (int64_t j = 0; j < c->n; j++)
                if (j != i)
                    val[m++] = cosine(a, tg[v] + j * c->d, c->d);
            int negatives = m;
            for (int u = 0; u < c->views; u++)
                if (u != v)
                    val[m++] = cosine(a, tg[u] + i * c->d, c->d);
            for (int p = 0; p < m; p++)
                for (int q = p + 1; q < m; q++)
                    if ((p < negatives) == (q < negatives) &&
                        fabs(val[p] - val[q]) < 0.01)
                        return 0;
        }
    return 1;
}

static double loss_at(selfsup_objective *o, const fd_case *c,
                      selfsup_tensor **online, selfsup_tensor **target)
{
    float loss;
    ss_assert_ok(selfsup_objective_compute(
        o, c->views, (const selfsup_tensor *const *)online,
        target ? (const selfsup_tensor *const *)target : NULL, &loss, NULL));
    double value;
    ss_assert_ok(selfsup_objective_diagnostic(o, "loss", &value));
    return value;
}

START_TEST(gradient_matches_finite_differences)
{
    const fd_case *c = &cases[_i];
    int64_t numel = c->n * c->d;
    float on[MAX_TEST_VIEWS][256], tg[MAX_TEST_VIEWS][256];
    float *onp[MAX_TEST_VIEWS], *tgp[MAX_TEST_VIEWS];
    int groco = strncmp(c->spec, "groco", 5) == 0;
    uint64_t seed = 1000 * (uint64_t)_i;
    for (int attempt = 0;; attempt++, seed++) {
        ck_assert_msg(attempt < 500, "no inputs with separated cosines");
        for (int v = 0; v < c->views; v++) {
            fill_normal(on[v], numel, seed * 16 + (uint64_t)v);
            fill_normal(tg[v], numel, seed * 16 + 8 + (uint64_t)v);
            for (int64_t e = 0; e < numel; e++) {
                float scale = c->spread > 0 && (e % c->d) % 2 ? c->spread
                              : c->spread > 0                 ? 0.3f
                                                              : 1.0f;
                on[v][e] = quantise(on[v][e] * scale);
                tg[v][e] = quantise(tg[v][e]);
            }
            onp[v] = on[v];
            tgp[v] = c->target == 1 ? tg[v] : on[v];
        }
        if (!groco || separated(c, onp, tgp))
            break;
    }

    selfsup_objective *o = objective(c->spec);
    selfsup_tensor *online[MAX_TEST_VIEWS], *target[MAX_TEST_VIEWS];
    selfsup_tensor *grad[MAX_TEST_VIEWS];
    for (int v = 0; v < c->views; v++) {
        online[v] = tensor_2d(c->n, c->d, on[v]);
        /* without a target GroCo treats online as a constant, so the
         * difference quotient must move the anchors only: differentiate
         * with a frozen copy of online as the target */
        target[v] = c->target ? tensor_2d(c->n, c->d, tgp[v]) : NULL;
        grad[v] = tensor_2d(c->n, c->d, NULL);
    }
    float loss;
    ss_assert_ok(selfsup_objective_compute(
        o, c->views, (const selfsup_tensor *const *)online,
        c->target == 1 ? (const selfsup_tensor *const *)target : NULL, &loss,
        grad));
    double scale = 0;
    for (int v = 0; v < c->views; v++)
        for (int64_t e = 0; e < numel; e++)
            scale = fmax(scale, fabs(selfsup_tensor_data(grad[v])[e]));
    ck_assert(scale > 0);

    /* the objective that differentiates: groco without target as groco
     * with the frozen copy (the same spec otherwise) */
    selfsup_tensor **fd_target = c->target ? target : NULL;
    double worst = 0;
    int worst_v = 0;
    int64_t worst_e = 0;
    double worst_fd = 0, worst_g = 0;
    for (int v = 0; v < c->views; v++)
        for (int64_t e = 0; e < numel; e++) {
            double l[4];
            static const int steps[4] = {-2, -1, 1, 2};
            for (int s = 0; s < 4; s++) {
                float x[256];
                memcpy(x, on[v], sizeof(float) * (size_t)numel);
                x[e] = (float)(on[v][e] + steps[s] * c->h);
                ss_assert_ok(selfsup_tensor_write(online[v], x, numel));
                l[s] = loss_at(o, c, online, fd_target);
            }
            ss_assert_ok(selfsup_tensor_write(online[v], on[v], numel));
            double fd = (l[0] - 8 * l[1] + 8 * l[2] - l[3]) / (12 * c->h);
            double g = selfsup_tensor_data(grad[v])[e];
            if (fabs(fd - g) > worst) {
                worst = fabs(fd - g);
                worst_v = v;
                worst_e = e;
                worst_fd = fd;
                worst_g = g;
            }
        }
    ck_assert_msg(worst <= c->tol * scale,
                  "%s: d/d online[%d][%lld] = %.9g, finite difference %.9g "
                  "(|diff| %.3g > %.3g = tol x max|grad| %.3g)",
                  c->spec, worst_v, (long long)worst_e, worst_g, worst_fd,
                  worst, c->tol * scale, scale);
    selfsup_objective_destroy(o);
    tensors_free(online, c->views);
    tensors_free(grad, c->views);
    if (c->target)
        tensors_free(target, c->views);
}
END_TEST

TCase *finite_diff_tcase(void)
{
    TCase *tc = tcase_create("finite_diff");
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, CASES);
    return tc;
}
