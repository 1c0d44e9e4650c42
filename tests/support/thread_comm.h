/* Ranks as threads of one process: a communicator over shared memory, so
 * that the suites check a learner spread over ranks without MPI. */
#ifndef SELFSUP_TEST_THREAD_COMM_H
#define SELFSUP_TEST_THREAD_COMM_H

#include "selfsup/selfsup.h"

typedef struct thread_group thread_group;

/* A group of `size` ranks; thread_group_comm gives rank r's communicator
 * (owned by the group). */
thread_group *thread_group_create(int size);
selfsup_comm *thread_group_comm(thread_group *g, int rank);
void thread_group_destroy(thread_group *g);

/* Runs body(rank, arg) on `size` threads, one per rank, and joins them. */
void thread_group_run(thread_group *g, void (*body)(int rank, void *arg),
                      void *arg);

#endif
