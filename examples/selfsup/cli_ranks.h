/* The selfsup program over several processes: under mpirun (or with
 * --distributed mpi) `selfsup train` runs one rank a process through
 * libselfsup-mpi; built without MPI, or started alone, it is one rank. */
#ifndef SELFSUP_CLI_RANKS_H
#define SELFSUP_CLI_RANKS_H

#include <stdbool.h>
#include <stdint.h>

#include <selfsup/selfsup.h>

typedef struct cli_ranks {
    int rank, size;
    selfsup_comm *comm; /* NULL on one rank */
    bool mpi_started;   /* this process called MPI_Init */
} cli_ranks;

/* mode: "auto" (MPI when a launcher started this process with more than
 * one rank), "mpi" (always) or "none". Fills r; on ranks other than 0
 * standard output goes to /dev/null (rank 0 speaks for the run; errors
 * still reach standard error). CLI_OK or CLI_USAGE / CLI_FAILED with a
 * message. */
int cli_ranks_start(cli_ranks *r, const char *mode);
void cli_ranks_stop(cli_ranks *r);

/* Rank r's share of n rows: first .. first + count - 1, an even split in
 * rank order (the whole for one rank). */
void cli_ranks_share(const cli_ranks *r, int64_t n, int64_t *first,
                     int64_t *count);

/* Every rank's share (cli_ranks_share of n rows, cols floats each) into
 * all on rank 0, in rank order; all is unused elsewhere. */
int cli_ranks_gather_rows(const cli_ranks *r, const float *mine, int64_t n,
                          int64_t cols, float *all);

/* Every rank's rc agreed: CLI_OK when all are, else CLI_FAILED on every
 * rank (a failing rank has printed its own message; the others say which
 * rank failed). */
int cli_ranks_agree(const cli_ranks *r, int rc);

/* Seconds this rank spent in collectives (0 on one rank). */
double cli_ranks_comm_seconds(const cli_ranks *r);

/* Rank 0's value on every rank (a decision only rank 0 takes: stop now). */
int cli_ranks_share_flag(const cli_ranks *r, bool *flag);

#endif
