/* libselfsup-mpi under mpirun: a learner on 2 MPI ranks must step exactly
 * as the same learner on 2 in-process ranks (thread_comm.h), whose
 * agreement with one process test_ranks checks. With two ranks every sum
 * over ranks is a + b, the same bits in any order, so the comparison is
 * exact: the MPI transport moves every byte where the library expects it.
 * Run: mpirun -np 2 mpi_ranks (plain C, no Check: Check forks, and MPI
 * processes must not). Exit 0 on success, 1 with a message on failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selfsup/selfsup_mpi.h"
#include "thread_comm.h"

enum { BATCH = 32, STEPS = 3, RANKS = 2 };

static const char *const METHODS[] = {"byol",   "simsiam", "vicreg",
                                      "simclr", "barlow",  "groco"};
static int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "mpi_ranks: " __VA_ARGS__);                        \
            fprintf(stderr, "\n");                                             \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* The suites' ss_assert_fails without Check: the status, and a message
 * that starts with the call's name and contains needle. */
#define ss_assert_fails(expr, want, needle)                                    \
    expect_failure((expr), (want), (needle), #expr)

static void expect_failure(selfsup_status got, selfsup_status want,
                           const char *needle, const char *expr)
{
    const char *m = selfsup_last_error();
    size_t name = strcspn(expr, "(");
    CHECK(got == want && strncmp(m, expr, name) == 0 &&
              strncmp(m + name, ": ", 2) == 0 && strstr(m, needle),
          "%s gave %d: %s", expr, (int)got, m);
}

static void ok(selfsup_status s, const char *what)
{
    if (s != SELFSUP_OK) {
        fprintf(stderr, "mpi_ranks: %s: %s\n", what, selfsup_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

static selfsup_learner *make(const char *method)
{
    selfsup_learner_config *c;
    ok(selfsup_learner_config_create(&c, method), "config");
    ok(selfsup_learner_config_set(c, "encoder",
                                  "resnet18:width=8,in_channels=1"),
       "encoder");
    ok(selfsup_learner_config_set(c, "projector",
                                  "mlp:hidden=32,out=32,layers=2"),
       "projector");
    if (strcmp(method, "byol") == 0 || strcmp(method, "simsiam") == 0)
        ok(selfsup_learner_config_set(c, "predictor",
                                      "mlp:hidden=16,out=32,layers=2"),
           "predictor");
    if (strcmp(method, "groco") == 0)
        ok(selfsup_learner_config_set(c, "objective", "groco:topk=5"),
           "objective");
    ok(selfsup_learner_config_set(c, "batch_size", "32"), "batch");
    ok(selfsup_learner_config_set(c, "total_steps", "8"), "steps");
    /* batch norm synchronised over ranks runs in float32 */
    ok(selfsup_learner_config_set(c, "precision", "f32"), "precision");
    selfsup_learner *l;
    ok(selfsup_learner_create(&l, c), "learner");
    selfsup_learner_config_destroy(c);
    return l;
}

/* Views: two noise images per row, the same on every rank. */
static void make_views(selfsup_tensor *views[STEPS][2])
{
    const int64_t dims[4] = {BATCH, 1, 28, 28};
    for (int s = 0; s < STEPS; s++)
        for (int k = 0; k < 2; k++) {
            ok(selfsup_tensor_create(&views[s][k], 4, dims), "views");
            ok(selfsup_tensor_fill_normal(views[s][k], (uint64_t)(10 * s + k),
                                          0, 1),
               "views");
        }
}

static void slice(selfsup_tensor *const all[2], int rank,
                  selfsup_tensor *out[2])
{
    const int64_t n = BATCH / RANKS, dims[4] = {n, 1, 28, 28};
    for (int k = 0; k < 2; k++) {
        ok(selfsup_tensor_create(&out[k], 4, dims), "slice");
        ok(selfsup_tensor_write(
               out[k], selfsup_tensor_data(all[k]) + rank * n * 784, n * 784),
           "slice");
    }
}

typedef struct trained {
    float loss[STEPS];
    float *weights;
    int64_t count;
} trained;

static void train(selfsup_learner *l, selfsup_comm *comm, int rank,
                  selfsup_tensor *views[STEPS][2], trained *out)
{
    ok(selfsup_learner_set_comm(l, comm), "selfsup_learner_set_comm");
    for (int s = 0; s < STEPS; s++) {
        selfsup_tensor *mine[2];
        slice(views[s], rank, mine);
        ok(selfsup_learner_step(l, 2, (const selfsup_tensor *const *)mine,
                                &out->loss[s]),
           "selfsup_learner_step");
        for (int k = 0; k < 2; k++)
            selfsup_tensor_destroy(mine[k]);
    }
    const selfsup_encoder *e = selfsup_learner_encoder(l);
    out->count = 0;
    for (int i = 0; i < selfsup_encoder_param_count(e); i++) {
        int ndim;
        int64_t dims[4], numel = 1;
        ok(selfsup_encoder_param_shape(e, i, &ndim, dims), "shape");
        for (int k = 0; k < ndim; k++)
            numel *= dims[k];
        out->weights =
            realloc(out->weights, (size_t)(out->count + numel) * sizeof(float));
        ok(selfsup_encoder_param_read(e, i, out->weights + out->count, numel),
           "read");
        out->count += numel;
    }
}

/* The reference: the same on two ranks that are threads of rank 0. */
static const char *ref_method;
static selfsup_tensor *(*ref_views)[2];
static trained ref[RANKS];
static thread_group *ref_group;

static void ref_body(int rank, void *arg)
{
    (void)arg;
    selfsup_learner *l = make(ref_method);
    train(l, thread_group_comm(ref_group, rank), rank, ref_views, &ref[rank]);
    selfsup_learner_destroy(l);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ok(selfsup_set_num_threads(1), "threads");
    ss_assert_fails(selfsup_mpi_comm_create(NULL, MPI_COMM_WORLD),
                    SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    selfsup_comm *comm;
    ok(selfsup_mpi_comm_create(&comm, MPI_COMM_WORLD),
       "selfsup_mpi_comm_create");
    int rank = selfsup_comm_rank(comm), size = selfsup_comm_size(comm);
    if (size != RANKS) {
        fprintf(stderr, "mpi_ranks: run with mpirun -np %d, not %d\n", RANKS,
                size);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    selfsup_tensor *views[STEPS][2];
    make_views(views);
    for (size_t m = 0; m < sizeof METHODS / sizeof *METHODS; m++) {
        trained mine = {0};
        selfsup_learner *l = make(METHODS[m]);
        train(l, comm, rank, views, &mine);
        selfsup_learner_destroy(l);
        /* rank 1's results to rank 0, which compares */
        trained other = {0};
        other.weights = malloc((size_t)mine.count * sizeof(float));
        if (rank == 1) {
            MPI_Send(mine.loss, STEPS, MPI_FLOAT, 0, 0, MPI_COMM_WORLD);
            MPI_Send(mine.weights, (int)mine.count, MPI_FLOAT, 0, 1,
                     MPI_COMM_WORLD);
        } else {
            MPI_Recv(other.loss, STEPS, MPI_FLOAT, 1, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            MPI_Recv(other.weights, (int)mine.count, MPI_FLOAT, 1, 1,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            ref_method = METHODS[m];
            ref_views = views;
            ref_group = thread_group_create(RANKS);
            thread_group_run(ref_group, ref_body, NULL);
            thread_group_destroy(ref_group);
            CHECK(memcmp(mine.loss, other.loss, sizeof mine.loss) == 0,
                  "%s: the ranks' losses differ", METHODS[m]);
            CHECK(memcmp(mine.weights, other.weights,
                         (size_t)mine.count * sizeof(float)) == 0,
                  "%s: the ranks' weights differ", METHODS[m]);
            for (int s = 0; s < STEPS; s++)
                CHECK(memcmp(&mine.loss[s], &ref[0].loss[s], sizeof(float)) ==
                          0,
                      "%s step %d: loss %.9g over MPI, %.9g in process",
                      METHODS[m], s, (double)mine.loss[s],
                      (double)ref[0].loss[s]);
            CHECK(ref[0].count == mine.count &&
                      memcmp(mine.weights, ref[0].weights,
                             (size_t)mine.count * sizeof(float)) == 0,
                  "%s: weights over MPI differ from in process", METHODS[m]);
            printf("%s: 2 MPI ranks step as 2 in-process ranks (loss %.6f)\n",
                   METHODS[m], (double)mine.loss[STEPS - 1]);
            for (int k = 0; k < RANKS; k++) {
                free(ref[k].weights);
                ref[k].weights = NULL;
            }
        }
        free(mine.weights);
        free(other.weights);
    }
    CHECK(selfsup_mpi_comm_seconds(comm) > 0,
          "rank %d: no time counted in collectives", rank);
    /* a rank's failure reaches the other: rank 1 steps with one view */
    selfsup_learner *l = make("simclr");
    ok(selfsup_learner_set_comm(l, comm), "selfsup_learner_set_comm");
    selfsup_tensor *mine[2];
    slice(views[0], rank, mine);
    float loss;
    selfsup_status s = selfsup_learner_step(
        l, rank == 1 ? 1 : 2, (const selfsup_tensor *const *)mine, &loss);
    CHECK(s == SELFSUP_ERR_SHAPE &&
              strstr(selfsup_last_error(), "rank 1: n_views = 1") != NULL,
          "rank %d: a failure on rank 1 gave %d: %s", rank, (int)s,
          selfsup_last_error());
    for (int k = 0; k < 2; k++)
        selfsup_tensor_destroy(mine[k]);
    selfsup_learner_destroy(l);

    for (int st = 0; st < STEPS; st++)
        for (int k = 0; k < 2; k++)
            selfsup_tensor_destroy(views[st][k]);
    selfsup_comm_destroy(comm);
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    if (rank == 0)
        printf("mpi_ranks: %s\n", all ? "FAILED" : "passed");
    return all ? 1 : 0;
}
