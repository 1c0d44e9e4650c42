/* The program's ranks: MPI when built with libselfsup-mpi and asked to. */
#include "cli_ranks.h"

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
