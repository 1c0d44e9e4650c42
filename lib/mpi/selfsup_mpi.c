/* libselfsup-mpi: the communicator's collectives as MPI calls. */
#include "selfsup/selfsup_mpi.h"

#include <limits.h>
#include <stdlib.h>

/* MPI counts are ints: larger transfers go in pieces of this many. */
enum { PIECE = 1 << 28 };

static MPI_Comm comm_of(void *user)
{
    return *(MPI_Comm *)user;
}

static int allreduce(void *user, float *data, int64_t count)
{
    for (int64_t at = 0; at < count; at += PIECE) {
        int n = (int)(count - at < PIECE ? count - at : PIECE);
        int rc = MPI_Allreduce(MPI_IN_PLACE, data + at, n, MPI_FLOAT, MPI_SUM,
                               comm_of(user));
        if (rc != MPI_SUCCESS)
            return rc;
    }
    return 0;
}

static int allgather(void *user, const float *send, float *recv, int64_t count)
{
    if (count > INT_MAX)
        return -1; /* embeddings, never this large */
    return MPI_Allgather(send, (int)count, MPI_FLOAT, recv, (int)count,
                         MPI_FLOAT, comm_of(user));
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
        MPI_Comm_free((MPI_Comm *)user);
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
    MPI_Comm *dup = malloc(sizeof *dup);
    if (!dup)
        return fail(SELFSUP_ERR_OUT_OF_MEMORY, "no memory for the handle");
    if (MPI_Comm_dup(comm, dup) != MPI_SUCCESS) {
        free(dup);
        return fail(SELFSUP_ERR_COMM, "MPI_Comm_dup failed");
    }
    MPI_Comm_set_errhandler(*dup, MPI_ERRORS_RETURN);
    MPI_Comm_rank(*dup, &rank);
    MPI_Comm_size(*dup, &size);
    selfsup_comm *c = NULL;
    selfsup_status s = selfsup_comm_create(&c, rank, size, dup);
    if (s == SELFSUP_OK)
        s = selfsup_comm_set_release(c, release);
    if (s != SELFSUP_OK) {
        MPI_Comm_free(dup);
        free(dup);
        return s;
    }
    selfsup_comm_set_allreduce(c, allreduce);
    selfsup_comm_set_allgather(c, allgather);
    selfsup_comm_set_broadcast(c, broadcast);
    *out = c;
    return SELFSUP_OK;
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
