#include "thread_comm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RANKS = 8 };

struct thread_group {
    int size;
    pthread_barrier_t barrier;
    const void *slot[MAX_RANKS]; /* what each rank offers this collective */
    selfsup_comm *comm[MAX_RANKS];
    struct member {
        thread_group *g;
        int rank;
    } members[MAX_RANKS];
};

static int allreduce(void *user, float *data, int64_t count)
{
    struct member *m = user;
    thread_group *g = m->g;
    g->slot[m->rank] = data;
    pthread_barrier_wait(&g->barrier);
    /* every rank sums in rank order: the same bits everywhere */
    float *sum = calloc((size_t)(count ? count : 1), sizeof *sum);
    if (!sum)
        abort();
    for (int r = 0; r < g->size; r++)
        for (int64_t i = 0; i < count; i++)
            sum[i] += ((const float *)g->slot[r])[i];
    pthread_barrier_wait(&g->barrier);
    memcpy(data, sum, (size_t)count * sizeof *sum);
    free(sum);
    return 0;
}

static int allgather(void *user, const float *send, float *recv, int64_t count)
{
    struct member *m = user;
    thread_group *g = m->g;
    g->slot[m->rank] = send;
    pthread_barrier_wait(&g->barrier);
    for (int r = 0; r < g->size; r++)
        memcpy(recv + r * count, g->slot[r], (size_t)count * sizeof *recv);
    pthread_barrier_wait(&g->barrier);
    return 0;
}

static int broadcast(void *user, void *data, int64_t bytes, int root)
{
    struct member *m = user;
    thread_group *g = m->g;
    g->slot[m->rank] = data;
    pthread_barrier_wait(&g->barrier);
    if (m->rank != root)
        memcpy(data, g->slot[root], (size_t)bytes);
    pthread_barrier_wait(&g->barrier);
    return 0;
}

thread_group *thread_group_create(int size)
{
    if (size < 1 || size > MAX_RANKS)
        abort();
    thread_group *g = calloc(1, sizeof *g);
    if (!g)
        abort();
    g->size = size;
    pthread_barrier_init(&g->barrier, NULL, (unsigned)size);
    for (int r = 0; r < size; r++) {
        g->members[r] = (struct member){g, r};
        if (selfsup_comm_create(&g->comm[r], r, size, &g->members[r]) !=
                SELFSUP_OK ||
            selfsup_comm_set_allreduce(g->comm[r], allreduce) != SELFSUP_OK ||
            selfsup_comm_set_allgather(g->comm[r], allgather) != SELFSUP_OK ||
            selfsup_comm_set_broadcast(g->comm[r], broadcast) != SELFSUP_OK)
            abort();
    }
    return g;
}

selfsup_comm *thread_group_comm(thread_group *g, int rank)
{
    return g->comm[rank];
}

void thread_group_destroy(thread_group *g)
{
    if (!g)
        return;
    for (int r = 0; r < g->size; r++)
        selfsup_comm_destroy(g->comm[r]);
    pthread_barrier_destroy(&g->barrier);
    free(g);
}

struct run {
    void (*body)(int, void *);
    void *arg;
    int rank;
};

static void *run_rank(void *p)
{
    struct run *r = p;
    r->body(r->rank, r->arg);
    return NULL;
}

void thread_group_run(thread_group *g, void (*body)(int rank, void *arg),
                      void *arg)
{
    pthread_t threads[MAX_RANKS];
    struct run runs[MAX_RANKS];
    for (int r = 0; r < g->size; r++) {
        runs[r] = (struct run){body, arg, r};
        if (pthread_create(&threads[r], NULL, run_rank, &runs[r]) != 0)
            abort();
    }
    for (int r = 0; r < g->size; r++)
        pthread_join(threads[r], NULL);
}
