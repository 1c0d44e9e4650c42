/* A learner spread over ranks (selfsup_learner_set_comm) against one
 * process: R ranks with B/R images each must train as one process with B.
 * The ranks are threads here (thread_comm.h), so the suite needs no MPI;
 * tests/mpi runs the same through libselfsup-mpi under mpirun. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learner_fixture.h"
#include "core/tensor_impl.h"
#include "thread_comm.h"
#include "train/learner_impl.h"
#include "train/train_parts.h"

static const char *const METHODS[] = {"byol",   "simsiam", "vicreg",
                                      "simclr", "barlow",  "groco"};

enum { BATCH = 32, STEPS = 3, MAX_RANKS = 4 };
#define FD_STEP 0.05f

/* Rows first .. first+n-1 of every view. */
static void slice(selfsup_tensor *const all[2], int64_t first, int64_t n,
                  selfsup_tensor *out[2])
{
    const int64_t dims[4] = {n, 1, 28, 28};
    for (int k = 0; k < 2; k++) {
        ss_assert_ok(selfsup_tensor_create(&out[k], 4, dims));
        ss_assert_ok(selfsup_tensor_write(
            out[k], selfsup_tensor_data(all[k]) + first * 784, n * 784));
    }
}

typedef struct run {
    const char *method;
    int ranks;
    const char *set_key, *set_value;     /* a key set on the last rank only */
    const char *every_key, *every_value; /* a key set on every rank */
    selfsup_tensor *views[STEPS][2];
    /* per rank */
    selfsup_learner *learner[MAX_RANKS];
    selfsup_status comm_status[MAX_RANKS];
    char comm_message[MAX_RANKS][512];
    float loss[MAX_RANKS][STEPS];
    selfsup_status agreed[MAX_RANKS];
    char agreed_message[MAX_RANKS][512];
    thread_group *group;
} run;

static selfsup_learner *make(const run *r, int rank)
{
    selfsup_learner_config *c = small_config(r->method, 8);
    if (r->every_key)
        ss_assert_ok(
            selfsup_learner_config_set(c, r->every_key, r->every_value));
    if (r->set_key && rank == r->ranks - 1)
        ss_assert_ok(selfsup_learner_config_set(c, r->set_key, r->set_value));
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    return l;
}

static void rank_body(int rank, void *arg)
{
    run *r = arg;
    selfsup_learner *l = make(r, rank);
    r->learner[rank] = l;
    r->comm_status[rank] =
        selfsup_learner_set_comm(l, thread_group_comm(r->group, rank));
    snprintf(r->comm_message[rank], sizeof r->comm_message[rank], "%s",
             selfsup_last_error());
    if (r->comm_status[rank] != SELFSUP_OK)
        return;
    int64_t n = BATCH / r->ranks;
    for (int s = 0; s < STEPS; s++) {
        selfsup_tensor *mine[2];
        slice(r->views[s], rank * n, n, mine);
        ss_assert_ok(selfsup_learner_step(
            l, 2, (const selfsup_tensor *const *)mine, &r->loss[rank][s]));
        for (int k = 0; k < 2; k++)
            selfsup_tensor_destroy(mine[k]);
    }
}

static void run_ranks(run *r)
{
    r->group = thread_group_create(r->ranks);
    thread_group_run(r->group, rank_body, r);
}

static void run_free(run *r)
{
    for (int k = 0; k < r->ranks; k++)
        selfsup_learner_destroy(r->learner[k]);
    thread_group_destroy(r->group);
}

static void make_steps(run *r)
{
    for (int s = 0; s < STEPS; s++)
        make_views(BATCH, s, r->views[s]);
}

static void free_steps(run *r)
{
    for (int s = 0; s < STEPS; s++)
        for (int k = 0; k < 2; k++)
            selfsup_tensor_destroy(r->views[s][k]);
}

/* Parameters of a network role, read through the public API. */
static float *params_of(selfsup_learner *l, const char *role, int64_t *count)
{
    selfsup_encoder *e = NULL;
    ss_assert_ok(selfsup_learner_network(l, role, &e));
    return snapshot_encoder(e, count);
}

static const char *const ROLES[] = {"online.encoder", "online.projector",
                                    "online.predictor", "target.encoder"};

/* How far run x is from reference a: the relative difference of the first
 * step's loss (the forward pass alone), and the largest of any weight's
 * after the last step (relative to its tensor's largest). */
typedef struct deviation {
    double first_loss, weight; /* the step before any update; the end */
} deviation;

static deviation deviation_of(const float *x_loss, selfsup_learner *x,
                              const float *a_loss, selfsup_learner *a)
{
    deviation d = {fabs(x_loss[0] - a_loss[0]) / fabs(a_loss[0]), 0};
    for (int role = 0; role < 4; role++) {
        selfsup_encoder *has = NULL;
        if (selfsup_learner_network(a, ROLES[role], &has) != SELFSUP_OK)
            continue; /* the method has no such network */
        int64_t n1, n2;
        float *want = params_of(a, ROLES[role], &n1);
        float *got = params_of(x, ROLES[role], &n2);
        ck_assert_int_eq(n1, n2);
        double top = 0, diff = 0;
        for (int64_t i = 0; i < n1; i++) {
            top = fabs(want[i]) > top ? fabs(want[i]) : top;
            diff =
                fabs(got[i] - want[i]) > diff ? fabs(got[i] - want[i]) : diff;
        }
        d.weight = diff / top > d.weight ? diff / top : d.weight;
        free(want);
        free(got);
    }
    return d;
}

static selfsup_learner *single_run(const run *r, int threads, float *loss)
{
    ss_assert_ok(selfsup_set_num_threads(threads));
    selfsup_learner *l = make(r, 0);
    for (int s = 0; s < STEPS; s++)
        ss_assert_ok(selfsup_learner_step(
            l, 2, (const selfsup_tensor *const *)r->views[s], &loss[s]));
    ss_assert_ok(selfsup_set_num_threads(1));
    return l;
}

/* The tolerance is float32's own (measured 2026-12-05: the ranks' first
 * loss within 0.2-1.2x and their weights within 0.5-1.1x of the 2-thread
 * run's distance, for every method at 2 and 4 ranks; per-rank statistics
 * 2900x and 27x): one process on 2 threads instead of 1
 * sums the same products in another order, which is all that R ranks
 * change (each rank's gradient sums its rows, the ranks' sums are added;
 * batch norm's statistics are summed in double over the ranks). Through
 * three steps of small-batch batch norm and normalised embeddings such
 * reorderings reach 1e-4 to 1e-2 of a weight (measured: SimCLR 12% of the
 * largest element of one gradient after one step, on 1 against 2
 * threads), so the ranks' run must stay within a small factor of that
 * yardstick, measured here on the same batches. A wiring error (per-rank
 * statistics, a lost gradient term, rows out of order) is hundreds of
 * times larger (per_rank_statistics_differ). */
enum { YARDSTICK_FACTOR = 4 };
static const double FIRST_LOSS_RTOL = 1e-5;

START_TEST(ranks_train_as_one_process)
{
    /* every method on 2 ranks; the two that gather negatives on 4 too */
    const char *method = _i < 6 ? METHODS[_i] : _i == 6 ? "simclr" : "groco";
    int ranks = _i < 6 ? 2 : 4;
    run r = {.method = method, .ranks = ranks};
    make_steps(&r);
    float one_loss[STEPS], two_loss[STEPS];
    selfsup_learner *one = single_run(&r, 1, one_loss);
    selfsup_learner *two = single_run(&r, 2, two_loss);

    run_ranks(&r);
    for (int k = 0; k < ranks; k++)
        ck_assert_msg(r.comm_status[k] == SELFSUP_OK, "%s rank %d: %s", method,
                      k, r.comm_message[k]);
    /* every rank's loss and weights are the same bits */
    for (int k = 1; k < ranks; k++) {
        ck_assert_msg(memcmp(r.loss[k], r.loss[0], sizeof r.loss[0]) == 0,
                      "%s: rank %d's losses differ from rank 0's", method, k);
        deviation same =
            deviation_of(r.loss[k], r.learner[k], r.loss[0], r.learner[0]);
        ck_assert_msg(same.weight == 0, "%s: rank %d's weights differ", method,
                      k);
    }
    deviation ranks_dev = deviation_of(r.loss[0], r.learner[0], one_loss, one);
    deviation yard = deviation_of(two_loss, two, one_loss, one);
    /* The forward pass: batch norm's statistics over the ranks in double
     * against oneDNN's float sums of all rows, through 20 layers. */
    ck_assert_msg(ranks_dev.first_loss <=
                      YARDSTICK_FACTOR * yard.first_loss + FIRST_LOSS_RTOL,
                  "%s, %d ranks: the first loss is %.3g (relative) from one "
                  "process's, where 2 threads are %.3g from it",
                  method, ranks, ranks_dev.first_loss, yard.first_loss);
    ck_assert_msg(ranks_dev.weight <= YARDSTICK_FACTOR * yard.weight,
                  "%s, %d ranks: weights %.3g (relative) from one process's "
                  "after %d steps, where 2 threads are %.3g from it",
                  method, ranks, ranks_dev.weight, STEPS, yard.weight);
    selfsup_learner_destroy(one);
    selfsup_learner_destroy(two);
    run_free(&r);
    free_steps(&r);
}
END_TEST

/* sync_batch_norm=0 keeps each rank's statistics: a different network
 * function, which the checks above must see. */
START_TEST(per_rank_statistics_differ)
{
    run r = {.method = "simclr",
             .ranks = 2,
             .every_key = "sync_batch_norm",
             .every_value = "0"};
    make_steps(&r);
    float one_loss[STEPS], two_loss[STEPS];
    selfsup_learner *one = single_run(&r, 1, one_loss);
    selfsup_learner *two = single_run(&r, 2, two_loss);
    run_ranks(&r);
    deviation ranks_dev = deviation_of(r.loss[0], r.learner[0], one_loss, one);
    deviation yard = deviation_of(two_loss, two, one_loss, one);
    ck_assert_msg(
        ranks_dev.first_loss >
            100 * (YARDSTICK_FACTOR * yard.first_loss + FIRST_LOSS_RTOL),
        "per-rank statistics: the first loss only %.3g from one "
        "process's",
        ranks_dev.first_loss);
    ck_assert_msg(ranks_dev.weight > 2 * YARDSTICK_FACTOR * yard.weight,
                  "per-rank statistics: weights only %.3g from one process's, "
                  "2 threads %.3g",
                  ranks_dev.weight, yard.weight);
    selfsup_learner_destroy(one);
    selfsup_learner_destroy(two);
    run_free(&r);
    free_steps(&r);
}
END_TEST

/* One rank's bad call: every rank fails with its status and message
 * instead of waiting in a collective for it. */
static void bad_view_body(int rank, void *arg)
{
    run *r = arg;
    /* a host's own failure, agreed: every rank returns rank 1's */
    selfsup_status own = rank == 1
                             ? selfsup_report_error(SELFSUP_ERR_IO, "host_read",
                                                    "cannot read batch 7")
                             : SELFSUP_OK;
    r->agreed[rank] =
        selfsup_comm_agree(thread_group_comm(r->group, rank), own);
    snprintf(r->agreed_message[rank], sizeof r->agreed_message[rank], "%s",
             selfsup_last_error());
    selfsup_learner *l = make(r, rank);
    r->learner[rank] = l;
    ss_assert_ok(
        selfsup_learner_set_comm(l, thread_group_comm(r->group, rank)));
    selfsup_tensor *mine[2];
    slice(r->views[0], rank * (BATCH / r->ranks), BATCH / r->ranks, mine);
    float loss = -1;
    r->comm_status[rank] = selfsup_learner_step(
        l, rank == 1 ? 1 : 2, (const selfsup_tensor *const *)mine, &loss);
    snprintf(r->comm_message[rank], sizeof r->comm_message[rank], "%s",
             selfsup_last_error());
    r->loss[rank][0] = loss;
    for (int k = 0; k < 2; k++)
        selfsup_tensor_destroy(mine[k]);
}

START_TEST(a_rank_failure_stops_every_rank)
{
    run r = {.method = "simclr", .ranks = 2};
    make_steps(&r);
    r.group = thread_group_create(r.ranks);
    thread_group_run(r.group, bad_view_body, &r);
    for (int k = 0; k < r.ranks; k++) {
        ck_assert_int_eq(r.agreed[k], SELFSUP_ERR_IO);
        ck_assert_str_eq(r.agreed_message[k],
                         "selfsup_comm_agree: rank 1: cannot read batch 7");
        ck_assert_int_eq(r.comm_status[k], SELFSUP_ERR_SHAPE);
        ck_assert_msg(strstr(r.comm_message[k],
                             "selfsup_learner_step: rank 1: n_views = 1") ==
                          r.comm_message[k],
                      "rank %d: %s", k, r.comm_message[k]);
        ck_assert(r.loss[k][0] == -1.0f); /* the output is untouched */
        ck_assert_int_eq(selfsup_learner_steps(r.learner[k]), 0);
    }
    /* and the ranks go on together afterwards */
    run_free(&r);
    free_steps(&r);
}
END_TEST

START_TEST(mismatched_ranks_are_refused)
{
    static const struct {
        const char *key, *every_key, *every_value, *needle;
    } cases[] = {
        {"lr", NULL, NULL, "rank 1: this rank has lr=0.5, rank 0 lr="},
        {NULL, "batch_size", "33",
         "rank 0: batch_size = 33 is not divisible by the 2 ranks"},
    };
    run r = {.method = "groco",
             .ranks = 2,
             .set_key = cases[_i].key,
             .set_value = "0.5",
             .every_key = cases[_i].every_key,
             .every_value = cases[_i].every_value};
    make_steps(&r);
    run_ranks(&r);
    for (int k = 0; k < r.ranks; k++) {
        ck_assert_int_eq(r.comm_status[k], SELFSUP_ERR_INVALID_ARGUMENT);
        ck_assert_msg(strstr(r.comm_message[k], cases[_i].needle) != NULL,
                      "rank %d: %s", k, r.comm_message[k]);
        ck_assert_msg(
            strncmp(r.comm_message[k], "selfsup_learner_set_comm: ", 26) == 0,
            "%s", r.comm_message[k]);
    }
    run_free(&r);
    free_steps(&r);
}
END_TEST

static int no_allgather(void *user, float *data, int64_t count)
{
    (void)user;
    (void)data;
    (void)count;
    return 0;
}

START_TEST(communicators_are_checked)
{
    selfsup_comm *c = NULL;
    ss_assert_fails(selfsup_comm_create(NULL, 0, 1, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    ss_assert_fails(selfsup_comm_create(&c, 0, 0, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "size = 0");
    ss_assert_fails(selfsup_comm_create(&c, 2, 2, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "rank = 2 is not in 0 .. 1");
    ck_assert_ptr_null(c);
    ss_assert_ok(selfsup_comm_create(&c, 1, 2, NULL));
    ck_assert_int_eq(selfsup_comm_rank(c), 1);
    ck_assert_int_eq(selfsup_comm_size(c), 2);
    ck_assert_int_eq(selfsup_comm_size(NULL), 1);
    ck_assert_ptr_null(selfsup_comm_user(c));
    ck_assert_ptr_null(selfsup_comm_user(NULL));
    ss_assert_fails(selfsup_comm_set_allreduce(c, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "fn is NULL");
    ss_assert_fails(selfsup_comm_set_allgather(NULL, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "c is NULL");
    ss_assert_fails(selfsup_comm_set_broadcast(c, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "fn is NULL");
    ss_assert_fails(selfsup_comm_set_release(c, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "fn is NULL");
    /* what a layered library (libselfsup-mpi) reports through */
    ss_assert_fails(
        selfsup_report_error(SELFSUP_ERR_COMM, "selfsup_report_error", "lost"),
        SELFSUP_ERR_COMM, "lost");
    ck_assert_str_eq(selfsup_status_string(SELFSUP_ERR_COMM),
                     "communication failed");
    ss_assert_ok(selfsup_comm_set_allreduce(c, no_allgather));
    /* incomplete: refused before any collective could wait */
    run r = {.method = "byol", .ranks = 1};
    selfsup_learner *l = make(&r, 0);
    ss_assert_fails(selfsup_learner_set_comm(l, c),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lacks a collective");
    ss_assert_fails(selfsup_comm_agree(c, SELFSUP_OK),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lacks a collective");
    ss_assert_fails(selfsup_learner_set_comm(NULL, c),
                    SELFSUP_ERR_INVALID_ARGUMENT, "l is NULL");
    /* one rank: the learner steps alone */
    selfsup_comm *alone;
    ss_assert_ok(selfsup_comm_create(&alone, 0, 1, NULL));
    /* one rank agrees with itself, without collectives */
    ck_assert_int_eq(selfsup_comm_agree(alone, SELFSUP_ERR_IO), SELFSUP_ERR_IO);
    ss_assert_ok(selfsup_learner_set_comm(l, alone));
    selfsup_tensor *views[2];
    make_views(8, 0, views);
    float loss;
    ss_assert_ok(selfsup_learner_step(
        l, 2, (const selfsup_tensor *const *)views, &loss));
    ss_assert_ok(selfsup_learner_set_comm(l, NULL));
    for (int k = 0; k < 2; k++)
        selfsup_tensor_destroy(views[k]);
    selfsup_learner_destroy(l);
    selfsup_comm_destroy(alone);
    selfsup_comm_destroy(c);
}
END_TEST

static void one_more_step(int rank, void *arg)
{
    run *r = arg;
    int64_t n = BATCH / r->ranks;
    selfsup_tensor *mine[2];
    slice(r->views[0], rank * n, n, mine);
    ss_assert_ok(selfsup_learner_step(r->learner[rank], 2,
                                      (const selfsup_tensor *const *)mine,
                                      &r->loss[rank][0]));
    for (int k = 0; k < 2; k++)
        selfsup_tensor_destroy(mine[k]);
}

/* A checkpoint of a 2-rank run resumes on one process: rank 0's state is
 * the run's, and the resumed step is the ranks' step. */
START_TEST(two_rank_checkpoint_resumes_on_one)
{
    run r = {.method = "byol", .ranks = 2};
    make_steps(&r);
    run_ranks(&r);
    char path[] = "/tmp/selfsup_ranks_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ss_assert_ok(selfsup_learner_save(r.learner[0], path));
    selfsup_learner *one;
    ss_assert_ok(selfsup_learner_load(&one, path));
    unlink(path);
    ck_assert_int_eq(selfsup_learner_steps(one), STEPS);
    float loss_one;
    ss_assert_ok(selfsup_learner_step(
        one, 2, (const selfsup_tensor *const *)r.views[0], &loss_one));
    /* the ranks take the same batch from the same state */
    thread_group_run(r.group, one_more_step, &r);
    ck_assert_msg(fabs(loss_one - r.loss[0][0]) <= 1e-4 * fabs(r.loss[0][0]),
                  "resumed on one process: loss %.9g, on the 2 ranks %.9g",
                  (double)loss_one, (double)r.loss[0][0]);
    ck_assert(isfinite(loss_one));
    selfsup_learner_destroy(one);
    run_free(&r);
    free_steps(&r);
}
END_TEST

/* The gradient that reaches a rank's rows is that of the loss over every
 * rank's rows, for the methods whose negatives are gathered: rank 1's
 * gradient equals, bit for bit, its rows of one process's objective on
 * every rank's rows (whose gradient test_finite_diff checks), and for
 * SimCLR, whose loss is smooth, a central difference of the global loss,
 * taken by perturbing one of rank 1's embeddings while every rank
 * recomputes, matches it too. (GroCo's sorts switch within any step a
 * float32 difference resolves here; test_finite_diff steers clear of its
 * ties with its own inputs.) */
typedef struct fd_run {
    const char *method;
    thread_group *group;
    double analytic[4], numeric[4], loss;
    int same_as_one_process;
} fd_run;

static void fd_body(int rank, void *arg)
{
    fd_run *f = arg;
    run r = {.method = f->method, .ranks = 2};
    selfsup_learner *l = make(&r, rank);
    ss_assert_ok(
        selfsup_learner_set_comm(l, thread_group_comm(f->group, rank)));
    selfsup_tensor *views[2], *mine[2];
    make_views(BATCH, 0, views);
    slice(views, rank * (BATCH / 2), BATCH / 2, mine);
    float loss;
    ss_assert_ok(
        selfsup_learner_step(/* sizes the buffers */
                             l, 2, (const selfsup_tensor *const *)mine, &loss));
    int64_t n = BATCH / 2, d = selfsup_tensor_dim(l->views[0].projection, 1);
    const int64_t dims[2] = {n, d};
    selfsup_tensor *z[2], *g[2];
    for (int v = 0; v < 2; v++) {
        ss_assert_ok(selfsup_tensor_create(&z[v], 2, dims));
        ss_assert_ok(selfsup_tensor_create(&g[v], 2, dims));
        ss_assert_ok(selfsup_tensor_fill_normal(
            z[v], (uint64_t)(100 + 10 * rank + v), 0, 1));
    }
    ss_assert_ok(selfsup__learner_objective_over_ranks(
        l, (const selfsup_tensor *const *)z, NULL, &loss, g, 0));
    f->loss = loss;
    /* one process's objective on both ranks' rows (rank 1 has them all:
     * the gather filled its buffers) */
    if (rank == 1) {
        const selfsup_tensor *all[2] = {l->views[0].all_online,
                                        l->views[1].all_online};
        selfsup_tensor *all_grad[2];
        const int64_t all_dims[2] = {2 * n, d};
        for (int v = 0; v < 2; v++)
            ss_assert_ok(selfsup_tensor_create(&all_grad[v], 2, all_dims));
        float one_loss;
        ss_assert_ok(selfsup_objective_compute(l->objective, 2, all, NULL,
                                               &one_loss, all_grad));
        f->same_as_one_process = memcmp(&one_loss, &loss, sizeof loss) == 0 &&
                                 memcmp(g[0]->data, all_grad[0]->data + n * d,
                                        (size_t)(n * d) * sizeof(float)) == 0 &&
                                 memcmp(g[1]->data, all_grad[1]->data + n * d,
                                        (size_t)(n * d) * sizeof(float)) == 0;
        for (int v = 0; v < 2; v++)
            selfsup_tensor_destroy(all_grad[v]);
    }
    /* rank 1 checks its four largest gradients: the ones a central
     * difference of a float32 loss resolves */
    int64_t at[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++)
        for (int64_t i = 0; i < n * d; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++)
                taken |= at[j] == i;
            if (!taken &&
                fabsf(g[0]->data[i]) > fabsf(g[0]->data[at[k]]) * (at[k] != i))
                at[k] = i;
        }
    const float h = FD_STEP;
    for (int k = 0; k < 4; k++) {
        float *x = selfsup__tensor_mut(z[0]) + at[k], keep = *x, plus, minus;
        double grad = g[0]->data[at[k]];
        if (rank == 1)
            *x = keep + h;
        ss_assert_ok(selfsup__learner_objective_over_ranks(
            l, (const selfsup_tensor *const *)z, NULL, &plus, g, 0));
        if (rank == 1)
            *x = keep - h;
        ss_assert_ok(selfsup__learner_objective_over_ranks(
            l, (const selfsup_tensor *const *)z, NULL, &minus, g, 0));
        *x = keep;
        ss_assert_ok(selfsup__learner_objective_over_ranks(
            l, (const selfsup_tensor *const *)z, NULL, &loss, g, 0));
        if (rank == 1) {
            f->numeric[k] = ((double)plus - minus) / (2.0 * h);
            f->analytic[k] = grad;
        }
    }
    for (int v = 0; v < 2; v++) {
        selfsup_tensor_destroy(z[v]);
        selfsup_tensor_destroy(g[v]);
        selfsup_tensor_destroy(views[v]);
        selfsup_tensor_destroy(mine[v]);
    }
    selfsup_learner_destroy(l);
}

START_TEST(gathered_negatives_get_the_global_gradient)
{
    fd_run f = {.method = _i == 0 ? "simclr" : "groco"};
    f.group = thread_group_create(2);
    thread_group_run(f.group, fd_body, &f);
    thread_group_destroy(f.group);
    ck_assert_msg(f.same_as_one_process,
                  "%s: rank 1's loss or gradient differs from one process's "
                  "objective on both ranks' rows",
                  f.method);
    if (strcmp(f.method, "simclr") != 0)
        return;
    /* the difference's resolution: a few float32 ulps of the loss over 2h;
     * its truncation error is h^2-small (5% covers both at these sizes) */
    double noise = 4 * fabs(f.loss) * 6e-8 / (2 * FD_STEP);
    for (int k = 0; k < 4; k++) {
        ck_assert_msg(fabs(f.analytic[k]) > 20 * noise,
                      "%s: rank 1's gradient %.3g is below what a difference "
                      "resolves",
                      f.method, f.analytic[k]);
        ck_assert_msg(fabs(f.analytic[k] - f.numeric[k]) <=
                          0.05 * fabs(f.numeric[k]) + noise,
                      "%s: gradient %.6g, central difference %.6g", f.method,
                      f.analytic[k], f.numeric[k]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ranks");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, ranks_train_as_one_process, 0, 8);
    tcase_add_test(tc, per_rank_statistics_differ);
    tcase_add_test(tc, a_rank_failure_stops_every_rank);
    tcase_add_loop_test(tc, mismatched_ranks_are_refused, 0, 2);
    tcase_add_test(tc, communicators_are_checked);
    tcase_add_test(tc, two_rank_checkpoint_resumes_on_one);
    tcase_add_loop_test(tc, gathered_negatives_get_the_global_gradient, 0, 2);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
