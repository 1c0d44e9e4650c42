/* Optimizers against torch.optim (tests/reference/optim.py), plus their
 * argument checks, groups, determinism and allocation failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "suites.h"
#include "test_support.h"
#include "train/optimizer.h"

/* The table of tests/reference/optim.py, contiguous in table order. */
enum { NT = 9, TOTAL = 131, STEPS = 5 };
static const struct {
    const char *name;
    int ndim;
    int64_t dims[4];
    selfsup__param_kind kind;
} SHAPES[NT] = {
    {"conv.weight", 4, {4, 2, 3, 3}, SELFSUP__PARAM_WEIGHT},
    {"conv.bias", 1, {4}, SELFSUP__PARAM_BIAS},
    {"bn.weight", 1, {4}, SELFSUP__PARAM_NORM},
    {"bn.bias", 1, {4}, SELFSUP__PARAM_NORM},
    {"fc.weight", 2, {3, 8}, SELFSUP__PARAM_WEIGHT},
    {"fc.bias", 1, {3}, SELFSUP__PARAM_BIAS},
    {"pred.weight", 2, {3, 3}, SELFSUP__PARAM_WEIGHT},
    {"pred.bias", 1, {3}, SELFSUP__PARAM_BIAS},
    {"zero.weight", 2, {2, 4}, SELFSUP__PARAM_WEIGHT},
};

/* Fills table[NT]; tensors start at offset0 and are separated by gap
 * unused elements. Returns the buffer length. */
static int64_t make_table(selfsup__param_info *table, int64_t offset0,
                          int64_t gap)
{
    int64_t offset = offset0;
    memset(table, 0, NT * sizeof *table);
    for (int i = 0; i < NT; i++) {
        selfsup__param_info *t = &table[i];
        strcpy(t->name, SHAPES[i].name);
        t->ndim = SHAPES[i].ndim;
        t->numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            t->dims[d] = SHAPES[i].dims[d];
            t->numel *= t->dims[d];
        }
        t->kind = SHAPES[i].kind;
        t->offset = offset;
        offset += t->numel + gap;
    }
    return offset;
}

static const double LR_SGD[STEPS] = {0.1, 0.08, 0.05, 0.12, 0.03};
static const double LR_LARS[STEPS] = {1.0, 0.8, 1.5, 0.5, 1.2};
static const double LR_ADAMW[STEPS] = {1e-3, 2e-3, 5e-4, 1e-3, 3e-3};

typedef struct config {
    const char *name, *spec;
    const double *lrs;
    int ngroups;
    selfsup__param_group groups[2];
} config;

#define KIND(k) (1u << SELFSUP__PARAM_##k)
static const config CONFIGS[] = {
    {"sgd", "sgd:momentum=0.9", LR_SGD, 0, {{0}}},
    {"sgd_nesterov_wd",
     "sgd:momentum=0.9,nesterov=1,weight_decay=5e-4",
     LR_SGD,
     0,
     {{0}}},
    {"sgd_plain_wd", "sgd:momentum=0,weight_decay=1e-3", LR_SGD, 0, {{0}}},
    {"sgd_fixed_pred",
     "sgd:momentum=0.9,weight_decay=1e-4",
     LR_SGD,
     1,
     {{0, TOTAL, "pred.", 0, 1, 0.05, NAN}}},
    {"adamw", "adamw:weight_decay=0.05", LR_ADAMW, 0, {{0}}},
    {"adamw_betas",
     "adamw:beta1=0.8,beta2=0.99,eps=1e-6,weight_decay=0",
     LR_ADAMW,
     0,
     {{0}}},
    {"adamw_exclude",
     "adamw:weight_decay=0.05,exclude_bias_and_norm=1",
     LR_ADAMW,
     0,
     {{0}}},
    {"lars", "lars:momentum=0.9,weight_decay=1e-2,eta=0.02", LR_LARS, 0, {{0}}},
    {"lars_barlow",
     "lars:weight_decay=1e-3",
     LR_LARS,
     2,
     {{0, TOTAL, NULL, KIND(WEIGHT), 0, 0.2, NAN},
      {0, TOTAL, NULL, KIND(BIAS) | KIND(NORM), 0, 0.0048, NAN}}},
    {"lars_all",
     "lars:momentum=0.8,weight_decay=0,eta=0.01,exclude_bias_and_norm=0",
     LR_LARS,
     0,
     {{0}}},
};

/* Tolerance: the goldens are floats printed with 9 digits (exact), but
 * PyTorch's vectorised kernels may round a*b + c once (FMA) or in another
 * order, and its LARS norms are float32 sums where ours are double. Inputs
 * are O(1), so each step can differ by an ulp or two of 1 (1.2e-7), and
 * results near zero come from cancellation of such terms: 1e-7 absolute
 * plus 2e-6 relative (16 ulps) over five steps. Measured worst case:
 * 1.3e-8 absolute (params), 5e-7 relative (AdamW moments). */
#define ATOL 1e-7
#define RTOL 2e-6

START_TEST(matches_torch_optim)
{
    ss_golden *g = ss_golden_load("optim.txt");
    /* The learning rates here are the script's. */
    const double *lrs[3] = {LR_SGD, LR_LARS, LR_ADAMW};
    const char *lr_names[3] = {"lr_sgd", "lr_lars", "lr_adamw"};
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < STEPS; k++)
            ck_assert(ss_golden_get(g, lr_names[s], STEPS)[k] ==
                      (float)lrs[s][k]);
    selfsup__param_info table[NT];
    ck_assert_int_eq(make_table(table, 0, 0), TOTAL);
    const config *c = &CONFIGS[_i];
    selfsup__optimizer *opt = NULL;
    ss_assert_ok(selfsup__optimizer_create(&opt, c->spec, table, NT, TOTAL));
    for (int k = 0; k < c->ngroups; k++)
        ss_assert_ok(selfsup__optimizer_add_group(opt, &c->groups[k]));
    float params[TOTAL];
    memcpy(params, ss_golden_get(g, "init", TOTAL), sizeof params);
    for (int k = 1; k <= STEPS; k++) {
        char name[64];
        snprintf(name, sizeof name, "grads.%d", k);
        const float *grads = ss_golden_get(g, name, TOTAL);
        ss_assert_ok(
            selfsup__optimizer_step(opt, params, grads, c->lrs[k - 1]));
        snprintf(name, sizeof name, "%s.params.%d", c->name, k);
        ss_assert_all_close(params, ss_golden_get(g, name, TOTAL), TOTAL, ATOL,
                            RTOL);
    }
    ck_assert_int_eq(selfsup__optimizer_steps(opt), STEPS);
    for (int s = 0; s < selfsup__optimizer_state_count(opt); s++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", c->name,
                 selfsup__optimizer_state_name(opt, s));
        if (!ss_golden_has(g, name))
            continue; /* plain SGD: PyTorch keeps no momentum buffer */
        ss_assert_all_close(selfsup__optimizer_state(opt, s),
                            ss_golden_get(g, name, TOTAL), TOTAL, ATOL, RTOL);
    }
    selfsup__optimizer_destroy(opt);
    ss_golden_free(g);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

START_TEST(golden_lars_really_adapts)
{
    /* The LARS goldens would also pass if trust were ignored by both sides;
     * check that eta matters: trust 1 moves conv.weight by far more. */
    ss_golden *g = ss_golden_load("optim.txt");
    selfsup__param_info table[NT];
    make_table(table, 0, 0);
    selfsup__optimizer *opt;
    ss_assert_ok(selfsup__optimizer_create(
        &opt, "lars:momentum=0.9,weight_decay=1e-2,eta=0.02", table, NT,
        TOTAL));
    float params[TOTAL];
    const float *init = ss_golden_get(g, "init", TOTAL);
    memcpy(params, init, sizeof params);
    const float *grads = ss_golden_get(g, "grads.1", TOTAL);
    ss_assert_ok(selfsup__optimizer_step(opt, params, grads, 1.0));
    /* step 1: p1 = p0 - lr trust d, trust = eta |p0| / |d| */
    double pp = 0, dd = 0;
    for (int i = 0; i < 72; i++) {
        double d = grads[i] + 1e-2f * init[i];
        pp += (double)init[i] * init[i];
        dd += d * d;
    }
    double trust = 0.02 * sqrt(pp) / sqrt(dd), moved = 0;
    for (int i = 0; i < 72; i++)
        moved += ((double)params[i] - init[i]) * (params[i] - init[i]);
    ss_assert_close(sqrt(moved), trust * sqrt(dd), 1e-7, 1e-5);
    ck_assert(trust < 0.05); /* so the trust ratio really scaled it */
    /* Biases and norms are excluded: plain momentum SGD, no decay. */
    for (int i = 72; i < 84; i++)
        ss_assert_close(params[i], init[i] - grads[i], 1e-7, 1e-6);
    selfsup__optimizer_destroy(opt);
    ss_golden_free(g);
}
END_TEST

static selfsup__optimizer *make(const char *spec)
{
    selfsup__param_info table[NT];
    make_table(table, 0, 0);
    selfsup__optimizer *opt = NULL;
    ss_assert_ok(selfsup__optimizer_create(&opt, spec, table, NT, TOTAL));
    return opt;
}

START_TEST(specs_are_checked)
{
    selfsup__param_info table[NT];
    make_table(table, 0, 0);
    selfsup__optimizer *sentinel = (selfsup__optimizer *)(uintptr_t)0x99;
    selfsup__optimizer *opt = sentinel;
    ss_assert_fails(selfsup__optimizer_create(&opt, "adam", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "unknown optimizer \"adam\" (known: sgd, lars, adamw)");
    ss_assert_fails(
        selfsup__optimizer_create(&opt, "lars:nesterov=1", table, NT, TOTAL),
        SELFSUP_ERR_INVALID_ARGUMENT, "unknown key \"nesterov\"");
    ss_assert_fails(
        selfsup__optimizer_create(&opt, "sgd:momentum=1", table, NT, TOTAL),
        SELFSUP_ERR_INVALID_ARGUMENT, "momentum = 1 is outside [0, 1)");
    ss_assert_fails(selfsup__optimizer_create(&opt,
                                              "sgd:momentum=0,"
                                              "nesterov=1",
                                              table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "nesterov = 1 needs");
    ss_assert_fails(
        selfsup__optimizer_create(&opt, "adamw:eps=0", table, NT, TOTAL),
        SELFSUP_ERR_INVALID_ARGUMENT, "eps = 0 is outside (0, 1]");
    ss_assert_fails(selfsup__optimizer_create(&opt, "adamw:weight_decay=-1",
                                              table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "weight_decay = -1");
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd:", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, NULL);
    ss_assert_fails(selfsup__optimizer_create(&opt, NULL, table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "spec");
    ss_assert_fails(selfsup__optimizer_create(NULL, "sgd", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out");
    ck_assert_ptr_eq(opt, sentinel);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

START_TEST(tables_are_checked)
{
    selfsup__param_info table[NT];
    selfsup__optimizer *opt = NULL;
    make_table(table, 0, 0);
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", NULL, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "table is NULL");
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", table, 0, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "n = 0");
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", table, NT, 130),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "table[8] (zero.weight): elements [123, 131) lie "
                    "outside the buffer of 130");
    table[3].offset -= 1;
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "table[3] (bn.bias) overlaps table[2] (bn.weight)");
    make_table(table, 0, 0);
    table[4].numel = 25;
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "table[4] (fc.weight): numel = 25, but its dims hold 24");
    make_table(table, 0, 0);
    table[1].kind = (selfsup__param_kind)7;
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "kind = 7");
    make_table(table, 0, 0);
    table[0].ndim = 0;
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "ndim = 0");
    make_table(table, 0, 0);
    memset(table[2].name, 'x', sizeof table[2].name);
    ss_assert_fails(selfsup__optimizer_create(&opt, "sgd", table, NT, TOTAL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not NUL-terminated");
    ck_assert_ptr_null(opt);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

START_TEST(groups_select_whole_tensors)
{
    selfsup__optimizer *opt = make("sgd:weight_decay=0.1");
    selfsup__param_group g = {0, TOTAL, "pred.", 0, 1, 0.05, NAN};
    ss_assert_ok(selfsup__optimizer_add_group(opt, &g));
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 0, 0.3), 0.3, 0, 0);
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 6, 0.3), 0.05, 0, 0);
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 7, 0.3), 0.05, 0, 0);
    /* A range: fc.weight and fc.bias are elements [84, 111). */
    g = (selfsup__param_group){84, 111, NULL, 0, 0, 0.5, NAN};
    ss_assert_ok(selfsup__optimizer_add_group(opt, &g));
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 4, 0.3), 0.15, 0, 0);
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 5, 0.3), 0.15, 0, 0);
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 3, 0.3), 0.3, 0, 0);

    g = (selfsup__param_group){84, 100, NULL, 0, 0, 0.5, NAN};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "group range [84, 100) cuts tensor fc.weight [84, 108)");
    g = (selfsup__param_group){0, TOTAL, "head.", 0, 0, 0.5, NAN};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "selects no tensor");
    g = (selfsup__param_group){0, 72, NULL, KIND(NORM), 0, 0.5, NAN};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "selects no tensor");
    g = (selfsup__param_group){0, TOTAL + 1, NULL, 0, 0, 0.5, NAN};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not inside [0, 131)");
    g = (selfsup__param_group){0, TOTAL, NULL, 0, 0, -1, NAN};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lr_value = -1");
    g = (selfsup__param_group){0, TOTAL, NULL, 0, 2, 1, NAN};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "fixed_lr = 2");
    g = (selfsup__param_group){0, TOTAL, NULL, 8, 0, 1, NAN};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "kinds = 0x8");
    g = (selfsup__param_group){0, TOTAL, NULL, 0, 0, 1, INFINITY};
    ss_assert_fails(selfsup__optimizer_add_group(opt, &g),
                    SELFSUP_ERR_INVALID_ARGUMENT, "weight_decay = inf");
    /* The failed groups changed nothing. */
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 4, 0.3), 0.15, 0, 0);
    ss_assert_close(selfsup__optimizer_tensor_lr(opt, 0, 0.3), 0.3, 0, 0);
    selfsup__optimizer_destroy(opt);
}
END_TEST

START_TEST(group_weight_decay_applies)
{
    /* Plain SGD, zero gradients: the step is -lr wd p, so each tensor's
     * decay shows directly. */
    selfsup__optimizer *opt = make("sgd:momentum=0,weight_decay=0.1");
    selfsup__param_group g = {0, TOTAL, "fc.", 0, 0, 1, 0.5};
    ss_assert_ok(selfsup__optimizer_add_group(opt, &g));
    float params[TOTAL], grads[TOTAL] = {0};
    for (int i = 0; i < TOTAL; i++)
        params[i] = 1.0f;
    ss_assert_ok(selfsup__optimizer_step(opt, params, grads, 1.0));
    ss_assert_close(params[0], 0.9, 1e-7, 0);   /* conv.weight: 0.1 */
    ss_assert_close(params[84], 0.5, 1e-7, 0);  /* fc.weight: 0.5 */
    ss_assert_close(params[108], 0.5, 1e-7, 0); /* fc.bias: 0.5 */
    selfsup__optimizer_destroy(opt);
    /* exclude_bias_and_norm keeps biases and norms at zero decay. */
    opt = make("sgd:momentum=0,weight_decay=0.1,exclude_bias_and_norm=1");
    ss_assert_ok(selfsup__optimizer_add_group(opt, &g));
    for (int i = 0; i < TOTAL; i++)
        params[i] = 1.0f;
    ss_assert_ok(selfsup__optimizer_step(opt, params, grads, 1.0));
    ss_assert_close(params[84], 0.5, 1e-7, 0); /* fc.weight */
    ss_assert_close(params[108], 1.0, 0, 0);   /* fc.bias: excluded */
    ss_assert_close(params[76], 1.0, 0, 0);    /* bn.weight: excluded */
    selfsup__optimizer_destroy(opt);
}
END_TEST

START_TEST(bad_gradients_change_nothing)
{
    const char *specs[] = {"sgd", "lars", "adamw"};
    for (int s = 0; s < 3; s++) {
        selfsup__optimizer *opt = make(specs[s]);
        float params[TOTAL], grads[TOTAL], before[TOTAL];
        for (int i = 0; i < TOTAL; i++) {
            params[i] = 0.01f * (float)i - 0.3f;
            grads[i] = 0.02f * (float)(i % 7) - 0.05f;
        }
        ss_assert_ok(selfsup__optimizer_step(opt, params, grads, 0.1));
        memcpy(before, params, sizeof before);
        float state[TOTAL];
        memcpy(state, selfsup__optimizer_state(opt, 0), sizeof state);
        grads[90] = NAN;
        ss_assert_fails(selfsup__optimizer_step(opt, params, grads, 0.1),
                        SELFSUP_ERR_NUMERIC,
                        "grads[90] = nan (element 6 of fc.weight) is not "
                        "finite");
        grads[90] = 0;
        grads[130] = -INFINITY;
        ss_assert_fails(selfsup__optimizer_step(opt, params, grads, 0.1),
                        SELFSUP_ERR_NUMERIC, "element 7 of zero.weight");
        grads[130] = 0;
        ss_assert_fails(selfsup__optimizer_step(opt, params, grads, -0.1),
                        SELFSUP_ERR_INVALID_ARGUMENT, "lr = -0.1");
        ss_assert_fails(selfsup__optimizer_step(opt, params, grads, NAN),
                        SELFSUP_ERR_INVALID_ARGUMENT, "lr = nan");
        ss_assert_fails(selfsup__optimizer_step(opt, NULL, grads, 0.1),
                        SELFSUP_ERR_INVALID_ARGUMENT, "params");
        ck_assert(memcmp(params, before, sizeof params) == 0);
        ck_assert(
            memcmp(state, selfsup__optimizer_state(opt, 0), sizeof state) == 0);
        ck_assert_int_eq(selfsup__optimizer_steps(opt), 1);
        selfsup__optimizer_destroy(opt);
    }
}
END_TEST

START_TEST(gaps_are_never_touched)
{
    selfsup__param_info table[NT];
    int64_t total = make_table(table, 5, 3) + 4;
    float *params = malloc((size_t)total * sizeof(float));
    float *grads = malloc((size_t)total * sizeof(float));
    const char *specs[] = {"sgd:weight_decay=0.1", "lars:weight_decay=0.1",
                           "adamw"};
    for (int s = 0; s < 3; s++) {
        for (int64_t i = 0; i < total; i++) {
            params[i] = 1.0f + (float)i;
            grads[i] = 0.5f;
        }
        selfsup__optimizer *opt;
        ss_assert_ok(
            selfsup__optimizer_create(&opt, specs[s], table, NT, total));
        ss_assert_ok(selfsup__optimizer_step(opt, params, grads, 0.1));
        int64_t t = 0;
        for (int64_t i = 0; i < total; i++) {
            int inside = t < NT && i >= table[t].offset &&
                         i < table[t].offset + table[t].numel;
            if (inside)
                ck_assert_msg(params[i] != 1.0f + (float)i,
                              "%s: element %lld was not updated", specs[s],
                              (long long)i);
            else
                ck_assert_msg(params[i] == 1.0f + (float)i,
                              "%s: gap element %lld changed", specs[s],
                              (long long)i);
            if (t < NT && i + 1 == table[t].offset + table[t].numel)
                t++;
        }
        selfsup__optimizer_destroy(opt);
    }
    free(params);
    free(grads);
}
END_TEST

/* A table of big tensors (several chunks each) for the tests below. */
static int64_t make_big_table(selfsup__param_info *table)
{
    const int64_t numel[3] = {70001, 40000, 513};
    const selfsup__param_kind kinds[3] = {
        SELFSUP__PARAM_WEIGHT, SELFSUP__PARAM_WEIGHT, SELFSUP__PARAM_NORM};
    int64_t offset = 0;
    memset(table, 0, 3 * sizeof *table);
    for (int i = 0; i < 3; i++) {
        snprintf(table[i].name, sizeof table[i].name, "layer%d.weight", i);
        table[i].ndim = 1;
        table[i].dims[0] = table[i].numel = numel[i];
        table[i].kind = kinds[i];
        table[i].offset = offset;
        offset += numel[i];
    }
    return offset;
}

static void fill(float *x, int64_t n, uint64_t seed, float scale)
{
    selfsup__rng r;
    selfsup__rng_init(&r, seed, 0);
    for (int64_t i = 0; i < n; i++)
        x[i] = scale * (float)selfsup__rng_normal(&r);
}

START_TEST(thread_count_does_not_change_bits)
{
    selfsup__param_info table[3];
    int64_t total = make_big_table(table);
    const char *specs[] = {"sgd:nesterov=1,weight_decay=1e-3",
                           "lars:weight_decay=1e-4,eta=0.01",
                           "adamw:weight_decay=0.05"};
    float *p[2], *g = malloc((size_t)total * sizeof(float));
    for (int s = 0; s < 3; s++) {
        for (int run = 0; run < 2; run++) {
            ss_assert_ok(selfsup_set_num_threads(run + 1));
            p[run] = malloc((size_t)total * sizeof(float));
            fill(p[run], total, 1, 0.1f);
            selfsup__optimizer *opt;
            ss_assert_ok(
                selfsup__optimizer_create(&opt, specs[s], table, 3, total));
            for (int k = 0; k < 3; k++) {
                fill(g, total, 10 + (uint64_t)k, 1.0f);
                ss_assert_ok(selfsup__optimizer_step(opt, p[run], g, 0.1));
            }
            selfsup__optimizer_destroy(opt);
        }
        ck_assert_msg(memcmp(p[0], p[1], (size_t)total * sizeof(float)) == 0,
                      "%s: 1 and 2 threads differ", specs[s]);
        free(p[0]);
        free(p[1]);
    }
    free(g);
    ss_assert_ok(selfsup_set_num_threads(0));
}
END_TEST

START_TEST(lars_norms_span_chunks)
{
    /* One step from zero momentum: p1 = p0 - lr trust (g + wd p0) with
     * trust = eta |p0| / |g + wd p0| over the whole tensor, computed here in
     * double, independently of the chunking. */
    selfsup__param_info table[3];
    int64_t total = make_big_table(table);
    float *p = malloc((size_t)total * sizeof(float));
    float *p0 = malloc((size_t)total * sizeof(float));
    float *g = malloc((size_t)total * sizeof(float));
    fill(p0, total, 3, 0.05f);
    fill(g, total, 4, 2.0f);
    memcpy(p, p0, (size_t)total * sizeof(float));
    selfsup__optimizer *opt;
    ss_assert_ok(selfsup__optimizer_create(
        &opt, "lars:weight_decay=0.01,eta=0.001", table, 3, total));
    ss_assert_ok(selfsup__optimizer_step(opt, p, g, 2.0));
    double gg = 0;
    for (int t = 0; t < 3; t++) {
        const selfsup__param_info *info = &table[t];
        int adapted = info->kind == SELFSUP__PARAM_WEIGHT;
        double wd = adapted ? 0.01 : 0, pp = 0, dd = 0;
        for (int64_t i = info->offset; i < info->offset + info->numel; i++) {
            double d = g[i] + wd * p0[i];
            pp += (double)p0[i] * p0[i];
            dd += d * d;
        }
        double trust = adapted ? 0.001 * sqrt(pp) / sqrt(dd) : 1.0;
        for (int64_t i = info->offset; i < info->offset + info->numel; i++) {
            double want = p0[i] - 2.0 * trust * (g[i] + wd * p0[i]);
            /* float arithmetic on values ~0.1: a few ulps */
            ss_assert_close(p[i], want, 1e-7, 1e-6);
        }
    }
    for (int64_t i = 0; i < total; i++)
        gg += (double)g[i] * g[i];
    ss_assert_close(selfsup__optimizer_grad_norm(opt), sqrt(gg), 0, 1e-12);
    selfsup__optimizer_destroy(opt);
    free(p);
    free(p0);
    free(g);
}
END_TEST

typedef struct step_ctx {
    const char *spec;
} step_ctx;

static selfsup_status create_group_step(void *ctx)
{
    const step_ctx *c = ctx;
    selfsup__param_info table[NT];
    make_table(table, 0, 0);
    selfsup__optimizer *opt = NULL;
    SS_TRY(selfsup__optimizer_create(&opt, c->spec, table, NT, TOTAL));
    selfsup__param_group g = {0, TOTAL, "pred.", 0, 1, 0.05, NAN};
    selfsup_status s = selfsup__optimizer_add_group(opt, &g);
    float params[TOTAL], grads[TOTAL];
    for (int i = 0; i < TOTAL; i++) {
        params[i] = 0.5f;
        grads[i] = 0.25f;
    }
    if (s == SELFSUP_OK)
        s = selfsup__optimizer_step(opt, params, grads, 0.1);
    selfsup__optimizer_destroy(opt);
    return s;
}

START_TEST(allocation_failures_are_clean)
{
    const char *specs[] = {"sgd", "lars", "adamw"};
    for (int s = 0; s < 3; s++) {
        step_ctx c = {specs[s]};
        long made = ss_sweep_alloc_failures(create_group_step, &c, SELFSUP_OK);
        ck_assert_int_ge(made, 6); /* the sweep really swept */
    }
    ck_assert_int_eq(selfsup__alloc_live(), 0);
}
END_TEST

TCase *optimizer_tcase(void)
{
    TCase *tc = tcase_create("optimizer");
    tcase_add_loop_test(tc, matches_torch_optim, 0,
                        (int)(sizeof CONFIGS / sizeof CONFIGS[0]));
    tcase_add_test(tc, golden_lars_really_adapts);
    tcase_add_test(tc, specs_are_checked);
    tcase_add_test(tc, tables_are_checked);
    tcase_add_test(tc, groups_select_whole_tensors);
    tcase_add_test(tc, group_weight_decay_applies);
    tcase_add_test(tc, bad_gradients_change_nothing);
    tcase_add_test(tc, gaps_are_never_touched);
    tcase_add_test(tc, thread_count_does_not_change_bits);
    tcase_add_test(tc, lars_norms_span_chunks);
    tcase_add_test(tc, allocation_failures_are_clean);
    return tc;
}
