/* Allocation failures: the k-th allocation of create, compute, the sorting
 * network and the collapse monitor fails, for every k; each failure is
 * reported as out of memory, leaves the outputs untouched and leaks
 * nothing. */
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "objective/collapse.h"
#include "suites.h"

typedef struct objective_run {
    const char *spec;
    int views, target;
    selfsup_tensor *on[3], *tg[3], *gr[3];
} objective_run;

static selfsup_status create_compute_destroy(void *ctx)
{
    objective_run *r = ctx;
    selfsup_objective *o = (selfsup_objective *)(uintptr_t)0x31;
    selfsup_status s = selfsup_objective_create(&o, r->spec);
    if (s != SELFSUP_OK) {
        ck_assert_ptr_eq(o, (selfsup_objective *)(uintptr_t)0x31);
        return s;
    }
    for (int v = 0; v < r->views; v++)
        ss_assert_ok(selfsup_tensor_fill(r->gr[v], 42.0f));
    float loss = 123.0f;
    s = selfsup_objective_compute(
        o, r->views, (const selfsup_tensor *const *)r->on,
        r->target ? (const selfsup_tensor *const *)r->tg : NULL, &loss, r->gr);
    if (s != SELFSUP_OK) {
        ck_assert(loss == 123.0f);
        for (int v = 0; v < r->views; v++)
            ck_assert(selfsup_tensor_data(r->gr[v])[0] == 42.0f);
        double value;
        ck_assert_int_eq(selfsup_objective_diagnostic(o, "loss", &value),
                         SELFSUP_ERR_STATE);
    } else {
        ck_assert(isfinite(loss));
    }
    selfsup_objective_destroy(o);
    return s;
}

START_TEST(objective_allocation_failures)
{
    static const struct {
        const char *spec;
        int views, target;
    } runs[] = {{"byol", 2, 1},
                {"simsiam", 2, 1},
                {"vicreg", 2, 0},
                {"simclr:temperature=0.3", 2, 0},
                {"barlow", 2, 0},
                {"groco:topk=4", 3, 1},
                {"groco:topk=4,network=bitonic", 2, 0}};
    objective_run r;
    float x[6 * 5];
    for (int v = 0; v < 3; v++) {
        fill_normal(x, 30, 70 + (uint64_t)v);
        r.on[v] = tensor_2d(6, 5, x);
        fill_normal(x, 30, 80 + (uint64_t)v);
        r.tg[v] = tensor_2d(6, 5, x);
        r.gr[v] = tensor_2d(6, 5, NULL);
    }
    long live = selfsup__alloc_live();
    r.spec = runs[_i].spec;
    r.views = runs[_i].views;
    r.target = runs[_i].target;
    /* the spec's copy and the handle; the gradients' scratch, the loss's
     * work space (groco: and its network's two blocks), the collapse
     * monitor's */
    long made = ss_sweep_alloc_failures(create_compute_destroy, &r, SELFSUP_OK);
    ck_assert_int_ge(made, 5);
    ck_assert_int_eq(selfsup__alloc_live(), live);
    tensors_free(r.on, 3);
    tensors_free(r.tg, 3);
    tensors_free(r.gr, 3);
}
END_TEST

typedef struct sortnet_run {
    selfsup_tensor *x, *y, *p, *gx;
} sortnet_run;

static selfsup_status sortnet_cycle(void *ctx)
{
    sortnet_run *r = ctx;
    selfsup_sortnet *s = NULL;
    selfsup_status st =
        selfsup_sortnet_create(&s, "bitonic:n=6,relax=optimal,steepness=3");
    if (st != SELFSUP_OK)
        return st;
    ss_assert_ok(selfsup_tensor_fill(r->y, 42.0f));
    st = selfsup_sortnet_forward(s, r->x, r->y, r->p);
    if (st == SELFSUP_OK) {
        ss_assert_ok(selfsup_tensor_fill(r->gx, 42.0f));
        st = selfsup_sortnet_backward(s, r->x, r->y, r->p, r->gx);
        if (st != SELFSUP_OK)
            ck_assert(selfsup_tensor_data(r->gx)[0] == 42.0f);
    } else {
        ck_assert(selfsup_tensor_data(r->y)[0] == 42.0f);
    }
    selfsup_sortnet_destroy(s);
    return st;
}

static selfsup_status collapse_once(void *ctx)
{
    double value = -1;
    selfsup_status s = selfsup__collapse_std(ctx, 4, 6, &value);
    ck_assert(s != SELFSUP_OK ? value == -1 : value >= 0);
    return s;
}

START_TEST(sortnet_and_collapse_allocation_failures)
{
    float x[4 * 6];
    fill_normal(x, 24, 5);
    sortnet_run r = {tensor_2d(4, 6, x), tensor_2d(4, 6, NULL),
                     tensor_3d(4, 6, 6, NULL), tensor_2d(4, 6, NULL)};
    long live = selfsup__alloc_live();
    /* create: spec copy, handle, comparators; forward and backward: one
     * work block each */
    ck_assert_int_eq(ss_sweep_alloc_failures(sortnet_cycle, &r, SELFSUP_OK), 5);
    ck_assert_int_eq(ss_sweep_alloc_failures(collapse_once, x, SELFSUP_OK), 1);
    ck_assert_int_eq(selfsup__alloc_live(), live);
    selfsup_tensor *all[] = {r.x, r.y, r.p, r.gx};
    tensors_free(all, 4);
}
END_TEST

TCase *alloc_tcase(void)
{
    TCase *tc = tcase_create("alloc");
    tcase_add_loop_test(tc, objective_allocation_failures, 0, 7);
    tcase_add_test(tc, sortnet_and_collapse_allocation_failures);
    return tc;
}
