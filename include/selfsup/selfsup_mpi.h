/* libselfsup-mpi: a communicator over MPI (docs/distributed.md).
 *
 * A separate library (pkg-config selfsup-mpi, CMake selfsup::selfsup_mpi),
 * so that libselfsup itself never depends on MPI. Link it, initialise MPI,
 * and hand the learner a communicator:
 *
 *     MPI_Init(&argc, &argv);
 *     selfsup_comm *comm;
 *     selfsup_mpi_comm_create(&comm, MPI_COMM_WORLD);
 *     selfsup_learner_set_comm(learner, comm);
 *     ... each rank steps with its slice of every batch ...
 *     selfsup_learner_destroy(learner);
 *     selfsup_comm_destroy(comm);
 *     MPI_Finalize(); */
#ifndef SELFSUP_MPI_H
#define SELFSUP_MPI_H

#include <mpi.h>

#include "selfsup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A communicator over a duplicate of comm (MPI_Comm_dup: the library's
 * collectives never mix with the host's messages), with MPI_ERRORS_RETURN
 * on it, so a failed collective is a status (SELFSUP_ERR_COMM) rather than
 * an abort. MPI must be initialised, and stay so until
 * selfsup_comm_destroy, which frees the duplicate. Collective over comm. */
SELFSUP_API selfsup_status selfsup_mpi_comm_create(selfsup_comm **out,
                                                   MPI_Comm comm);

/* Seconds this rank has spent inside c's collectives since it was made
 * (moving data and waiting for the other ranks), from MPI_Wtime; 0 for a
 * communicator not made by selfsup_mpi_comm_create. For benchmarks: the
 * share of a step spent communicating. */
SELFSUP_API double selfsup_mpi_comm_seconds(const selfsup_comm *c);

/* 1 when this process was started by an MPI launcher (mpirun, mpiexec,
 * srun) with more than one process, from the launcher's environment, so a
 * program can decide before MPI_Init whether to use MPI at all. */
SELFSUP_API int selfsup_mpi_launched(void);

#ifdef __cplusplus
}
#endif

#endif
