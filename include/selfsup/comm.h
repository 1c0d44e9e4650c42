/* libselfsup: the collectives of a training run spread over processes.
 *
 * The library itself knows no transport. A host describes its own with a
 * communicator: this process's rank, the number of ranks, and three
 * collective callbacks (all-reduce, all-gather, broadcast) over its
 * transport; libselfsup-mpi (selfsup/selfsup_mpi.h) makes one from an MPI
 * communicator. A learner given a communicator (selfsup_learner_set_comm)
 * trains R ranks with B/R images each as one process with B images.
 *
 * Every rank must call the collectives in the same order with the same
 * counts; the library guarantees that for the calls it makes, and checks
 * before each step's first collective that no rank has failed, so that a
 * rank's error reaches every rank as the same status and message instead
 * of leaving the others waiting. A callback that fails returns nonzero;
 * the library then fails with SELFSUP_ERR_COMM. */
#ifndef SELFSUP_COMM_H
#define SELFSUP_COMM_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct selfsup_comm selfsup_comm;

/* Sums count floats element-wise over every rank, in place. Every rank
 * must end with the same bits (MPI_Allreduce's recommendation, which Open
 * MPI's algorithms follow). */
typedef int (*selfsup_comm_allreduce_fn)(void *user, float *data,
                                         int64_t count);
/* Every rank sends count floats; recv (count x size floats) receives rank
 * r's at recv + r * count, on every rank. */
typedef int (*selfsup_comm_allgather_fn)(void *user, const float *send,
                                         float *recv, int64_t count);
/* Copies root's bytes into data on every other rank. */
typedef int (*selfsup_comm_broadcast_fn)(void *user, void *data, int64_t bytes,
                                         int root);
/* Called once by selfsup_comm_destroy, to release what user holds. */
typedef void (*selfsup_comm_release_fn)(void *user);

/* A communicator for rank (0 <= rank < size) of size ranks; user is passed
 * to every callback. All three collectives must be set before a learner
 * takes it. size == 1 is a valid communicator whose collectives are never
 * called. */
SELFSUP_API selfsup_status selfsup_comm_create(selfsup_comm **out, int rank,
                                               int size, void *user);
/* Calls the release callback, if set, then frees c; accepts NULL. A learner
 * using c must be destroyed (or given another communicator) first. */
SELFSUP_API void selfsup_comm_destroy(selfsup_comm *c);

SELFSUP_API selfsup_status
selfsup_comm_set_allreduce(selfsup_comm *c, selfsup_comm_allreduce_fn fn);
SELFSUP_API selfsup_status
selfsup_comm_set_allgather(selfsup_comm *c, selfsup_comm_allgather_fn fn);
SELFSUP_API selfsup_status
selfsup_comm_set_broadcast(selfsup_comm *c, selfsup_comm_broadcast_fn fn);
SELFSUP_API selfsup_status selfsup_comm_set_release(selfsup_comm *c,
                                                    selfsup_comm_release_fn fn);

/* Every rank passes its own status (with its message set when it failed);
 * every rank returns the same: SELFSUP_OK when all are OK, else the status
 * of the lowest failing rank with its message, "rank R: ...". For a host's
 * own work between steps (reading a batch, say), so that one rank's
 * failure stops every rank instead of leaving them in the next collective.
 * NULL or one rank: returns local. Collective. */
SELFSUP_API selfsup_status selfsup_comm_agree(selfsup_comm *c,
                                              selfsup_status local);

/* The user pointer c was made with (NULL for NULL): a transport library
 * reaches its own state through it. */
SELFSUP_API void *selfsup_comm_user(const selfsup_comm *c);

/* This process's rank and the number of ranks (0 and 1 for NULL). */
SELFSUP_API int selfsup_comm_rank(const selfsup_comm *c);
SELFSUP_API int selfsup_comm_size(const selfsup_comm *c);

#ifdef __cplusplus
}
#endif

#endif
