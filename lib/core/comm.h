/* Internal: the collectives as the library calls them, failures turned
 * into statuses, and the agreement on a status that keeps ranks in step. */
#ifndef SELFSUP_CORE_COMM_H
#define SELFSUP_CORE_COMM_H

#include <stdint.h>

#include "selfsup/comm.h"

/* 1 when c spans more than one rank (NULL and size 1 do not). */
int selfsup__comm_active(const selfsup_comm *c);

/* 1 when every collective is set. */
int selfsup__comm_complete(const selfsup_comm *c);

/* The collectives; what names the data in the message of a failure
 * (SELFSUP_ERR_COMM). */
selfsup_status selfsup__comm_allreduce(selfsup_comm *c, float *data,
                                       int64_t count, const char *what);
selfsup_status selfsup__comm_allgather(selfsup_comm *c, const float *send,
                                       float *recv, int64_t count,
                                       const char *what);
selfsup_status selfsup__comm_broadcast(selfsup_comm *c, void *data,
                                       int64_t bytes, int root,
                                       const char *what);

/* Every rank passes its own status (its message set if it failed); all
 * return the same: OK if every rank is OK, else the status of the lowest
 * failing rank with that rank's message, prefixed "rank R: ". Two
 * collectives when a rank failed, one when none did. */
selfsup_status selfsup__comm_agree(selfsup_comm *c, selfsup_status local);

#endif
