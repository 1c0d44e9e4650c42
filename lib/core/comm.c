/* The communicator handle and the library's use of its collectives. */
#include "comm.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

struct selfsup_comm {
    int rank, size;
    void *user;
    selfsup_comm_allreduce_fn allreduce;
    selfsup_comm_allgather_fn allgather;
    selfsup_comm_broadcast_fn broadcast;
    selfsup_comm_release_fn release;
};

selfsup_status selfsup_comm_create(selfsup_comm **out, int rank, int size,
                                   void *user)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    if (size < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "size = %d; a communicator has at least 1 rank", size);
    if (rank < 0 || rank >= size)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "rank = %d is not in 0 .. %d (size %d)", rank, size - 1,
                       size);
    selfsup_comm *c = selfsup__calloc(1, sizeof *c);
    if (!c)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "no memory for the handle");
    c->rank = rank;
    c->size = size;
    c->user = user;
    *out = c;
    return SELFSUP_OK;
}

void selfsup_comm_destroy(selfsup_comm *c)
{
    if (!c)
        return;
    if (c->release)
        c->release(c->user);
    selfsup__free(c);
}

#define SETTER(name, type)                                                     \
    selfsup_status selfsup_comm_set_##name(selfsup_comm *c, type fn)           \
    {                                                                          \
        SS_ENTRY();                                                            \
        SS_CHECK_NOT_NULL(c);                                                  \
        SS_CHECK_NOT_NULL(fn);                                                 \
        c->name = fn;                                                          \
        return SELFSUP_OK;                                                     \
    }

SETTER(allreduce, selfsup_comm_allreduce_fn)
SETTER(allgather, selfsup_comm_allgather_fn)
SETTER(broadcast, selfsup_comm_broadcast_fn)
SETTER(release, selfsup_comm_release_fn)

selfsup_status selfsup_comm_agree(selfsup_comm *c, selfsup_status local)
{
    SS_ENTRY();
    if (selfsup__comm_active(c) && !selfsup__comm_complete(c))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "c spans %d ranks but lacks a collective", c->size);
    return selfsup__comm_agree(c, local);
}

void *selfsup_comm_user(const selfsup_comm *c)
{
    return c ? c->user : NULL;
}

int selfsup_comm_rank(const selfsup_comm *c)
{
    return c ? c->rank : 0;
}

int selfsup_comm_size(const selfsup_comm *c)
{
    return c ? c->size : 1;
}

int selfsup__comm_active(const selfsup_comm *c)
{
    return c && c->size > 1;
}

int selfsup__comm_complete(const selfsup_comm *c)
{
    return c && c->allreduce && c->allgather && c->broadcast;
}

selfsup_status selfsup__comm_allreduce(selfsup_comm *c, float *data,
                                       int64_t count, const char *what)
{
    int rc = c->allreduce(c->user, data, count);
    if (rc != 0)
        return SS_FAIL(SELFSUP_ERR_COMM,
                       "rank %d: the all-reduce of %s (%lld floats) failed: "
                       "the transport returned %d",
                       c->rank, what, (long long)count, rc);
    return SELFSUP_OK;
}

selfsup_status selfsup__comm_allgather(selfsup_comm *c, const float *send,
                                       float *recv, int64_t count,
                                       const char *what)
{
    int rc = c->allgather(c->user, send, recv, count);
    if (rc != 0)
        return SS_FAIL(SELFSUP_ERR_COMM,
                       "rank %d: the all-gather of %s (%lld floats a rank) "
                       "failed: the transport returned %d",
                       c->rank, what, (long long)count, rc);
    return SELFSUP_OK;
}

selfsup_status selfsup__comm_broadcast(selfsup_comm *c, void *data,
                                       int64_t bytes, int root,
                                       const char *what)
{
    int rc = c->broadcast(c->user, data, bytes, root);
    if (rc != 0)
        return SS_FAIL(SELFSUP_ERR_COMM,
                       "rank %d: the broadcast of %s (%lld bytes from rank "
                       "%d) failed: the transport returned %d",
                       c->rank, what, (long long)bytes, root, rc);
    return SELFSUP_OK;
}

enum { AGREE_MAX_RANKS = 4096, AGREE_MESSAGE = 768 };

selfsup_status selfsup__comm_agree(selfsup_comm *c, selfsup_status local)
{
    if (!selfsup__comm_active(c))
        return local;
    /* Status codes are small integers: exact in a float. The gather's
     * buffer lives on the stack up to AGREE_MAX_RANKS, so agreeing never
     * allocates (a rank out of memory must still be able to say so). */
    float codes[AGREE_MAX_RANKS];
    if (c->size > AGREE_MAX_RANKS)
        return SS_FAIL(SELFSUP_ERR_UNSUPPORTED,
                       "%d ranks; the status check handles at most %d", c->size,
                       AGREE_MAX_RANKS);
    float mine = (float)local;
    SS_TRY(selfsup__comm_allgather(c, &mine, codes, 1, "the ranks' statuses"));
    int failed = -1;
    for (int r = 0; r < c->size && failed < 0; r++)
        if (codes[r] != 0.0f)
            failed = r;
    if (failed < 0)
        return SELFSUP_OK;
    char message[AGREE_MESSAGE] = {0};
    if (c->rank == failed)
        snprintf(message, sizeof message, "%s", selfsup__last_detail());
    SS_TRY(selfsup__comm_broadcast(c, message, sizeof message, failed,
                                   "the failing rank's message"));
    message[sizeof message - 1] = '\0';
    return SS_FAIL((selfsup_status)(int)codes[failed], "rank %d: %s", failed,
                   message);
}
