/* The program's ranks: MPI when built with libselfsup-mpi and asked to. */
#include "cli_ranks.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifdef SELFSUP_CLI_MPI
#include <selfsup/selfsup_mpi.h>
#endif

int cli_ranks_start(cli_ranks *r, const char *mode)
{
    memset(r, 0, sizeof *r);
    r->size = 1;
    if (strcmp(mode, "none") == 0)
        return CLI_OK;
    if (strcmp(mode, "auto") != 0 && strcmp(mode, "mpi") != 0) {
        fprintf(stderr, "selfsup: --distributed %s: give auto, mpi or none\n",
                mode);
        return CLI_USAGE;
    }
#ifdef SELFSUP_CLI_MPI
    if (strcmp(mode, "auto") == 0 && !selfsup_mpi_launched())
        return CLI_OK;
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
            fprintf(stderr, "selfsup: MPI_Init failed\n");
            return CLI_FAILED;
        }
        r->mpi_started = true;
    }
    selfsup_status s = selfsup_mpi_comm_create(&r->comm, MPI_COMM_WORLD);
    if (s != SELFSUP_OK) {
        cli_ranks_stop(r);
        return cli_fail("starting MPI", s);
    }
    r->rank = selfsup_comm_rank(r->comm);
    r->size = selfsup_comm_size(r->comm);
    if (r->size == 1) { /* mpirun -np 1: one process, as without MPI */
        selfsup_comm_destroy(r->comm);
        r->comm = NULL;
    }
    /* Rank 0 speaks for the run; the others report failures only. */
    if (r->rank > 0 && !freopen("/dev/null", "w", stdout))
        fprintf(stderr, "selfsup: rank %d: cannot silence stdout\n", r->rank);
    return CLI_OK;
#else
    if (strcmp(mode, "mpi") == 0) {
        fprintf(stderr, "selfsup: --distributed mpi: this selfsup was built "
                        "without MPI (apt-get install libopenmpi-dev "
                        "openmpi-bin, then build again)\n");
        return CLI_USAGE;
    }
    return CLI_OK;
#endif
}

void cli_ranks_stop(cli_ranks *r)
{
    selfsup_comm_destroy(r->comm);
    r->comm = NULL;
#ifdef SELFSUP_CLI_MPI
    if (r->mpi_started)
        MPI_Finalize();
#endif
    r->mpi_started = false;
}

void cli_ranks_share(const cli_ranks *r, int64_t n, int64_t *first,
                     int64_t *count)
{
    int size = r ? r->size : 1, rank = r ? r->rank : 0;
    *first = n * rank / size;
    *count = n * (rank + 1) / size - *first;
}

int cli_ranks_gather_rows(const cli_ranks *r, const float *mine, int64_t n,
                          int64_t cols, float *all)
{
#ifdef SELFSUP_CLI_MPI
    if (r && r->size > 1) {
        if (n * cols > INT_MAX) {
            fprintf(stderr,
                    "selfsup: %lld x %lld features are too many to "
                    "gather in one message\n",
                    (long long)n, (long long)cols);
            return CLI_FAILED;
        }
        int counts[1024], offsets[1024];
        if (r->size > 1024) {
            fprintf(stderr, "selfsup: at most 1024 ranks\n");
            return CLI_FAILED;
        }
        for (int k = 0; k < r->size; k++) {
            int64_t first = n * k / r->size, next = n * (k + 1) / r->size;
            offsets[k] = (int)(first * cols);
            counts[k] = (int)((next - first) * cols);
        }
        if (MPI_Gatherv(mine, counts[r->rank], MPI_FLOAT, all, counts, offsets,
                        MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
            fprintf(stderr, "selfsup: rank %d: MPI_Gatherv failed\n", r->rank);
            return CLI_FAILED;
        }
        return CLI_OK;
    }
#endif
    (void)r;
    if (all != mine)
        memcpy(all, mine, (size_t)(n * cols) * sizeof *all);
    return CLI_OK;
}

int cli_ranks_agree(const cli_ranks *r, int rc)
{
    if (!r || r->size < 2)
        return rc;
    selfsup_status mine =
        rc == CLI_OK ? SELFSUP_OK
                     : selfsup_report_error(SELFSUP_ERR_STATE, "selfsup",
                                            "failed (see its message)");
    selfsup_status all = selfsup_comm_agree(r->comm, mine);
    if (all == SELFSUP_OK)
        return CLI_OK;
    if (rc == CLI_OK)
        fprintf(stderr, "selfsup: rank %d stops: %s\n", r->rank,
                selfsup_last_error());
    return CLI_FAILED;
}

double cli_ranks_comm_seconds(const cli_ranks *r)
{
#ifdef SELFSUP_CLI_MPI
    return r && r->comm ? selfsup_mpi_comm_seconds(r->comm) : 0.0;
#else
    (void)r;
    return 0.0;
#endif
}

int cli_ranks_share_flag(const cli_ranks *r, bool *flag)
{
#ifdef SELFSUP_CLI_MPI
    if (r->size > 1) {
        int v = *flag;
        if (MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
            fprintf(stderr, "selfsup: rank %d: MPI_Bcast failed\n", r->rank);
            return CLI_FAILED;
        }
        *flag = v != 0;
    }
#else
    (void)r;
    (void)flag;
#endif
    return CLI_OK;
}
