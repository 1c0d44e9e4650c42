/* libselfsup-mpi: the communicator's collectives as MPI calls. */
#include "selfsup/selfsup_mpi.h"

#include <limits.h>
#include <stdlib.h>

/* MPI counts are ints: larger transfers go in pieces of this many. */
enum { PIECE = 1 << 28 };

/* What a communicator's user pointer holds; magic tells ours apart. */
typedef struct mpi_state {
    unsigned magic;
    MPI_Comm comm;  /* the duplicate */
    double seconds; /* inside collectives */
} mpi_state;

enum { MAGIC = 0x5e1f3a71u };

static MPI_Comm comm_of(void *user)
{
    return ((mpi_state *)user)->comm;
}

static void add_time(void *user, double since)
{
    ((mpi_state *)user)->seconds += MPI_Wtime() - since;
}

static int allreduce(void *user, float *data, int64_t count)
{
    double t0 = MPI_Wtime();
    int rc = MPI_SUCCESS;
    for (int64_t at = 0; at < count && rc == MPI_SUCCESS; at += PIECE) {
        int n = (int)(count - at < PIECE ? count - at : PIECE);
        rc = MPI_Allreduce(MPI_IN_PLACE, data + at, n, MPI_FLOAT, MPI_SUM,
                           comm_of(user));
    }
    add_time(user, t0);
    return rc;
}

static int allgather(void *user, const float *send, float *recv, int64_t count)
{
    if (count > INT_MAX)
        return -1; /* embeddings, never this large */
    double t0 = MPI_Wtime();
    int rc = MPI_Allgather(send, (int)count, MPI_FLOAT, recv, (int)count,
                           MPI_FLOAT, comm_of(user));
    add_time(user, t0);
    return rc;
}

static int broadcast(void *user, void *data, int64_t bytes, int root)
{
    for (int64_t at = 0; at < bytes; at += PIECE) {
        int n = (int)(bytes - at < PIECE ? bytes - at : PIECE);
        int rc = MPI_Bcast((char *)data + at, n, MPI_BYTE, root, comm_of(user));
        if (rc != MPI_SUCCESS)
            return rc;
    }
    return 0;
}

static void release(void *user)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
        MPI_Comm_free(&((mpi_state *)user)->comm);
    free(user);
}

static selfsup_status fail(selfsup_status s, const char *message)
{
    return selfsup_report_error(s, "selfsup_mpi_comm_create", message);
}

selfsup_status selfsup_mpi_comm_create(selfsup_comm **out, MPI_Comm comm)
{
    if (!out)
        return fail(SELFSUP_ERR_INVALID_ARGUMENT, "out is NULL");
    int initialized = 0, finalized = 0, rank = 0, size = 1;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
        return fail(SELFSUP_ERR_STATE,
                    finalized ? "MPI is finalised"
                              : "MPI is not initialised: call MPI_Init first");
    mpi_state *state = calloc(1, sizeof *state);
    if (!state)
        return fail(SELFSUP_ERR_OUT_OF_MEMORY, "no memory for the handle");
    state->magic = MAGIC;
    if (MPI_Comm_dup(comm, &state->comm) != MPI_SUCCESS) {
        free(state);
        return fail(SELFSUP_ERR_COMM, "MPI_Comm_dup failed");
    }
    MPI_Comm_set_errhandler(state->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(state->comm, &rank);
    MPI_Comm_size(state->comm, &size);
    selfsup_comm *c = NULL;
    selfsup_status s = selfsup_comm_create(&c, rank, size, state);
    if (s == SELFSUP_OK)
        s = selfsup_comm_set_release(c, release);
    if (s != SELFSUP_OK) {
        MPI_Comm_free(&state->comm);
        free(state);
        return s;
    }
    selfsup_comm_set_allreduce(c, allreduce);
    selfsup_comm_set_allgather(c, allgather);
    selfsup_comm_set_broadcast(c, broadcast);
    *out = c;
    return SELFSUP_OK;
}

double selfsup_mpi_comm_seconds(const selfsup_comm *c)
{
    const mpi_state *state = selfsup_comm_user(c);
    return state && state->magic == MAGIC ? state->seconds : 0.0;
}

int selfsup_mpi_launched(void)
{
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                        "PMIX_SIZE", "SLURM_NTASKS",
                                        "MPI_LOCALNRANKS"};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const char *v = getenv(sizes[k]);
        if (v && atoi(v) > 1)
            return 1;
    }
    return 0;
}
