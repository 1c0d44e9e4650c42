#include "helpers.h"

#include <math.h>
#include <stdio.h>

#include "core/rng.h"

selfsup_tensor *tensor_2d(int64_t n, int64_t d, const float *data)
{
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 2, (int64_t[]){n, d}));
    if (data)
        ss_assert_ok(selfsup_tensor_write(t, data, n * d));
    return t;
}

selfsup_tensor *tensor_3d(int64_t a, int64_t b, int64_t c, const float *data)
{
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 3, (int64_t[]){a, b, c}));
    if (data)
        ss_assert_ok(selfsup_tensor_write(t, data, a * b * c));
    return t;
}

void tensors_free(selfsup_tensor **t, int count)
{
    for (int i = 0; i < count; i++) {
        selfsup_tensor_destroy(t[i]);
        t[i] = NULL;
    }
}

selfsup_objective *objective(const char *spec)
{
    selfsup_objective *o = NULL;
    ss_assert_ok(selfsup_objective_create(&o, spec));
    return o;
}

const golden_case golden_cases[] = {
    {"byol_a", "byol", 2, 8, 16, 1},
    {"byol_b", "byol", 2, 32, 64, 1},
    {"byol_c", "byol", 2, 5, 3, 1},
    {"byol_zero", "byol", 2, 6, 4, 1},
    {"simsiam_a", "simsiam", 2, 8, 16, 1},
    {"simsiam_b", "simsiam", 2, 32, 64, 1},
    {"vicreg_a", "vicreg", 2, 8, 16, 0},
    {"vicreg_b", "vicreg", 2, 32, 64, 0},
    {"vicreg_c", "vicreg:sim=10,var=5,cov=2,eps=0.01", 2, 8, 16, 0},
    {"vicreg_d", "vicreg:eps=0.5", 2, 6, 5, 0},
    {"simclr_a", "simclr", 2, 8, 16, 0},
    {"simclr_b", "simclr:temperature=0.1", 2, 32, 64, 0},
    {"simclr_c", "simclr:temperature=1", 2, 5, 3, 0},
    {"barlow_a", "barlow", 2, 8, 16, 0},
    {"barlow_b", "barlow:lambda=0.02", 2, 32, 64, 0},
    {"barlow_c", "barlow:eps=1e-5", 2, 8, 16, 0},
    {"barlow_d", "barlow:lambda=0.1,eps=0.001", 2, 16, 8, 0},
    {"groco_a", "groco", 2, 16, 8, 1},
    {"groco_b", "groco", 2, 16, 8, 0},
    {"groco_c", "groco:topk=3", 3, 8, 16, 1},
    {"groco_d", "groco:topk=5,steepness=4,relax=logistic", 4, 12, 8, 0},
    {"groco_e", "groco:topk=4,network=bitonic", 2, 10, 6, 1},
    {"groco_f", "groco:topk=10,network=bitonic,relax=optimal,steepness=2", 2,
     32, 16, 0},
    {"groco_g", "groco:topk=7,relax=optimal", 3, 9, 5, 1},
    {"groco_h", "groco:topk=6,network=bitonic,relax=logistic", 4, 8, 4, 1},
    {"groco_i", "groco:topk=7", 2, 8, 16, 0},
};
const int golden_case_count = sizeof golden_cases / sizeof golden_cases[0];

static ss_golden *shared_golden;

void golden_setup(void)
{
    if (!shared_golden)
        shared_golden = ss_golden_load("objectives.txt");
}

void golden_teardown(void)
{
    ss_golden_free(shared_golden);
    shared_golden = NULL;
}

const ss_golden *golden(void)
{
    golden_setup();
    return shared_golden;
}

void golden_inputs(const ss_golden *g, const golden_case *c,
                   selfsup_tensor **online, selfsup_tensor **target)
{
    char name[128];
    for (int v = 0; v < c->views; v++) {
        snprintf(name, sizeof name, "%s_online%d", c->name, v);
        online[v] = tensor_2d(c->n, c->d, ss_golden_get(g, name, c->n * c->d));
        target[v] = NULL;
        if (c->target) {
            snprintf(name, sizeof name, "%s_target%d", c->name, v);
            target[v] =
                tensor_2d(c->n, c->d, ss_golden_get(g, name, c->n * c->d));
        }
    }
}

void assert_rows_close_at(const float *got, const float *want, int64_t n,
                          int64_t d, double row_rel, double rtol,
                          const char *what, const char *file, int line)
{
    /* one assertion for the worst element: Check's assertions each cost a
     * message to the parent process */
    int64_t worst = -1;
    double worst_excess = 0, worst_tol = 0;
    for (int64_t i = 0; i < n; i++) {
        double scale = 0;
        for (int64_t k = 0; k < d; k++)
            scale = fmax(scale, fabs(want[i * d + k]));
        for (int64_t k = 0; k < d; k++) {
            double a = got[i * d + k], b = want[i * d + k];
            double tol = row_rel * scale + rtol * fabs(b) + 1e-30;
            double excess = isfinite(a) ? fabs(a - b) - tol : INFINITY;
            if (excess > worst_excess) {
                worst = i * d + k;
                worst_excess = excess;
                worst_tol = tol;
            }
        }
    }
    ck_assert_msg(
        worst < 0, "%s:%d: %s[%lld][%lld] = %.9g, expected %.9g (tol %.3g)",
        file, line, what, (long long)(worst / (d ? d : 1)),
        (long long)(worst % (d ? d : 1)), worst >= 0 ? got[worst] : 0.0f,
        worst >= 0 ? want[worst] : 0.0f, worst_tol);
}

void fill_normal(float *x, int64_t count, uint64_t seed)
{
    selfsup__rng r;
    selfsup__rng_init(&r, seed, 0x0b1ec7);
    for (int64_t i = 0; i < count; i++)
        x[i] = (float)selfsup__rng_normal(&r);
}
