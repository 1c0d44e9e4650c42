/* The loader: a seeded per-epoch order, batches, and views made ahead on a
 * worker thread.
 *
 * Slots form a ring of prefetch + 1 batches. The worker fills slot `fill`
 * when it is free, in order; the caller takes slot `head` when it is ready,
 * in the same order, and holds it until its next call. A seek waits for the
 * batch being made, then empties the ring. Each batch is a pure function of
 * (seed, epoch, batch index), so neither prefetching nor seeking changes a
 * bit of it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "augment/views.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/spec.h"
#include "core/tensor_impl.h"
#include "dataset_impl.h"

enum { MAX_PREFETCH = 16, MESSAGE_CAP = 1024 };

/* The order's stream: distinct from every augmentation stream, whose
 * second word is a sample index below 2^40. */
#define SHUFFLE_STREAM_TAG UINT64_C(0x73687566666c6521)

typedef enum slot_state {
    SLOT_FREE,
    SLOT_FILLING, /* the worker is making it */
    SLOT_READY,
    SLOT_HELD /* returned to the caller */
} slot_state;

typedef struct batch_slot {
    selfsup_tensor *full[SS_VIEWS_MAX]; /* (batch_size, C, S, S) */
    selfsup_tensor *tail[SS_VIEWS_MAX]; /* (tail, C, S, S), or NULL */
    int64_t *indices;                   /* batch_size */
    int64_t n, epoch, batch;
    slot_state state;
    selfsup_status status;
    char message[MESSAGE_CAP];
} batch_slot;

struct selfsup_loader {
    const selfsup_dataset *d;
    const selfsup_views *v;
    int64_t batch_size, batches_per_epoch;
    int64_t tail; /* the last batch's size when partial, else 0 */
    uint64_t seed;
    int shuffle, drop_last, prefetch;
    /* this loader makes rows rank * n .. rank * n + n - 1 of every batch of
     * n * ranks (1 rank: the whole batch) */
    long rank, ranks;

    int n_slots;
    batch_slot *slots;
    /* The order of order_epoch; touched only by whoever makes batches (the
     * worker, or the caller when prefetch == 0). */
    int64_t *order;
    int64_t order_epoch;

    pthread_mutex_t mutex;
    pthread_cond_t work_cv;  /* the worker waits here */
    pthread_cond_t ready_cv; /* the caller waits here */
    pthread_t thread;
    int thread_started, stop, seeking;
    int64_t next_epoch, next_batch; /* the next batch to make */
    int head, fill, held;           /* slot indices; held = -1 for none */
};

/* Uniform in [0, n) over 64 bits: masked draws, rejected above n. */
static uint64_t draw_below64(selfsup__rng *r, uint64_t n)
{
    uint64_t mask = n - 1;
    mask |= mask >> 1, mask |= mask >> 2, mask |= mask >> 4;
    mask |= mask >> 8, mask |= mask >> 16, mask |= mask >> 32;
    for (;;) {
        uint64_t x = (uint64_t)selfsup__rng_u32(r) << 32 | selfsup__rng_u32(r);
        x &= mask;
        if (x < n)
            return x;
    }
}

/* Fisher-Yates over 0..count-1 from the (seed, epoch) stream. */
static void make_order(selfsup_loader *l, int64_t epoch)
{
    int64_t n = l->d->count;
    for (int64_t i = 0; i < n; i++)
        l->order[i] = i;
    if (l->shuffle) {
        selfsup__rng r;
        selfsup__rng_init(
            &r, l->seed,
            selfsup__rng_stream(SHUFFLE_STREAM_TAG, (uint64_t)epoch, 0, 0));
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)draw_below64(&r, (uint64_t)i + 1);
            int64_t t = l->order[i];
            l->order[i] = l->order[j];
            l->order[j] = t;
        }
    }
    l->order_epoch = epoch;
}

/* Makes batch (epoch, batch) into slot s: its indices and its views. */
static void make_batch(selfsup_loader *l, batch_slot *s)
{
    if (l->order_epoch != s->epoch)
        make_order(l, s->epoch);
    int last = s->batch == l->batches_per_epoch - 1;
    s->n = (last && l->tail ? l->tail : l->batch_size) / l->ranks;
    memcpy(s->indices, l->order + s->batch * l->batch_size + l->rank * s->n,
           (size_t)s->n * sizeof(int64_t));
    selfsup_tensor *const *views =
        s->n == l->batch_size / l->ranks ? s->full : s->tail;
    float *dst[SS_VIEWS_MAX];
    for (int i = 0; i < l->v->n_views; i++)
        dst[i] = selfsup__tensor_mut(views[i]);
    const selfsup_dataset *d = l->d;
    s->status = selfsup__views_run(
        l->v, d->pixels, d->channels, d->height, d->width, s->indices, s->n,
        l->seed, s->epoch, d->mean, d->std, dst, "selfsup_loader_next");
    if (s->status != SELFSUP_OK)
        snprintf(s->message, sizeof s->message, "%s", selfsup__last_detail());
}

static void advance(selfsup_loader *l)
{
    if (++l->next_batch == l->batches_per_epoch) {
        l->next_batch = 0;
        l->next_epoch++;
    }
}

static void *worker_main(void *arg)
{
    selfsup_loader *l = arg;
    pthread_mutex_lock(&l->mutex);
    for (;;) {
        while (!l->stop && (l->seeking || l->slots[l->fill].state != SLOT_FREE))
            pthread_cond_wait(&l->work_cv, &l->mutex);
        if (l->stop)
            break;
        batch_slot *s = &l->slots[l->fill];
        l->fill = (l->fill + 1) % l->n_slots;
        s->state = SLOT_FILLING;
        s->epoch = l->next_epoch;
        s->batch = l->next_batch;
        advance(l);
        pthread_mutex_unlock(&l->mutex);
        make_batch(l, s);
        pthread_mutex_lock(&l->mutex);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&l->ready_cv);
    }
    pthread_mutex_unlock(&l->mutex);
    return NULL;
}

/* With the mutex held: waits for the batch in the making, empties the ring
 * and makes (epoch, batch) the next one. */
static void reset_locked(selfsup_loader *l, int64_t epoch, int64_t batch)
{
    l->seeking = 1;
    for (;;) {
        int filling = 0;
        for (int i = 0; i < l->n_slots; i++)
            filling |= l->slots[i].state == SLOT_FILLING;
        if (!filling)
            break;
        pthread_cond_wait(&l->ready_cv, &l->mutex);
    }
    for (int i = 0; i < l->n_slots; i++)
        l->slots[i].state = SLOT_FREE;
    l->head = l->fill = 0;
    l->held = -1;
    l->next_epoch = epoch;
    l->next_batch = batch;
    l->seeking = 0;
    pthread_cond_broadcast(&l->work_cv);
}

static void slots_free(selfsup_loader *l)
{
    if (!l->slots)
        return;
    for (int i = 0; i < l->n_slots; i++) {
        batch_slot *s = &l->slots[i];
        for (int k = 0; k < SS_VIEWS_MAX; k++) {
            selfsup_tensor_destroy(s->full[k]);
            selfsup_tensor_destroy(s->tail[k]);
        }
        selfsup__free(s->indices);
    }
    selfsup__free(l->slots);
    l->slots = NULL;
}

static selfsup_status slots_make(selfsup_loader *l)
{
    l->slots = selfsup__calloc((size_t)l->n_slots, sizeof *l->slots);
    if (!l->slots)
        return SELFSUP_ERR_OUT_OF_MEMORY;
    int64_t dims[4] = {l->batch_size, l->d->channels, l->v->out_size,
                       l->v->out_size};
    for (int i = 0; i < l->n_slots; i++) {
        batch_slot *s = &l->slots[i];
        s->indices = selfsup__malloc((size_t)l->batch_size * sizeof(int64_t));
        if (!s->indices)
            return SELFSUP_ERR_OUT_OF_MEMORY;
        for (int k = 0; k < l->v->n_views; k++) {
            dims[0] = l->batch_size / l->ranks;
            SS_TRY(selfsup_tensor_create(&s->full[k], 4, dims));
            if (l->tail) {
                dims[0] = l->tail / l->ranks;
                SS_TRY(selfsup_tensor_create(&s->tail[k], 4, dims));
            }
        }
    }
    return SELFSUP_OK;
}

static selfsup_status parse_options(selfsup_loader *l, const char *options)
{
    long prefetch = l->prefetch, rank = 0, ranks = 1;
    if (options) {
        selfsup__spec s;
        selfsup_status st =
            selfsup__spec_parse(&s, options, "selfsup_loader_create");
        if (st == SELFSUP_OK && strcmp(s.name, "loader") != 0)
            st = selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT,
                               "selfsup_loader_create",
                               "options = \"%s\": the name must be "
                               "\"loader\"",
                               options);
        if (st == SELFSUP_OK)
            st = selfsup__spec_bool(&s, "shuffle", &l->shuffle);
        if (st == SELFSUP_OK)
            st = selfsup__spec_bool(&s, "drop_last", &l->drop_last);
        if (st == SELFSUP_OK)
            st = selfsup__spec_int(&s, "prefetch", 0, MAX_PREFETCH, &prefetch);
        if (st == SELFSUP_OK)
            st = selfsup__spec_int(&s, "ranks", 1, 1L << 20, &ranks);
        if (st == SELFSUP_OK)
            st = selfsup__spec_int(&s, "rank", 0, 1L << 20, &rank);
        if (st == SELFSUP_OK)
            st = selfsup__spec_finish(&s);
        selfsup__spec_free(&s);
        SS_TRY(st);
        if (rank >= ranks)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "options = \"%s\": rank = %ld is not below ranks "
                           "= %ld",
                           options, rank, ranks);
    }
    l->prefetch = (int)prefetch;
    l->rank = rank;
    l->ranks = ranks;
    return SELFSUP_OK;
}

static void loader_free(selfsup_loader *l)
{
    slots_free(l);
    selfsup__free(l->order);
    selfsup__free(l);
}

selfsup_status selfsup_loader_create(selfsup_loader **out,
                                     const selfsup_dataset *d,
                                     const selfsup_views *v, int64_t batch_size,
                                     uint64_t seed, const char *options)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(d);
    SS_CHECK_NOT_NULL(v);
    if (batch_size < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "batch_size = %lld is not positive",
                       (long long)batch_size);
    selfsup_loader tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.shuffle = 1;
    tmp.prefetch = 2;
    SS_TRY(parse_options(&tmp, options));
    if (batch_size > d->count && tmp.drop_last)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "batch_size = %lld exceeds the dataset's %lld images "
                       "with drop_last: no batch at all",
                       (long long)batch_size, (long long)d->count);
    if (batch_size > d->count)
        batch_size = d->count; /* one batch per epoch: the whole dataset */
    int64_t rest = tmp.drop_last ? 0 : d->count % batch_size;
    if (batch_size % tmp.ranks != 0 || rest % tmp.ranks != 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "a batch of %lld images does not divide among ranks = "
                       "%ld%s",
                       (long long)(batch_size % tmp.ranks ? batch_size : rest),
                       tmp.ranks,
                       batch_size % tmp.ranks ? ""
                                              : " (the epoch's last): set "
                                                "drop_last=1");
    SS_TRY(selfsup__views_check(v, d->channels, d->height, d->width, __func__));

    selfsup_loader *l = selfsup__calloc(1, sizeof *l);
    if (!l)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "cannot allocate the loader");
    *l = tmp;
    l->d = d;
    l->v = v;
    l->seed = seed;
    l->batch_size = batch_size;
    l->batches_per_epoch = d->count / batch_size;
    if (rest) {
        l->batches_per_epoch++;
        l->tail = rest;
    }
    l->n_slots = l->prefetch + 1;
    l->order_epoch = -1;
    l->held = -1;
    l->order = selfsup__malloc((size_t)d->count * sizeof(int64_t));
    selfsup_status st = l->order ? slots_make(l) : SELFSUP_ERR_OUT_OF_MEMORY;
    if (st != SELFSUP_OK) {
        loader_free(l);
        return SS_FAIL(st, "cannot allocate %d batches of %lld images",
                       tmp.prefetch + 1, (long long)batch_size);
    }
    if (l->prefetch > 0) {
        int a = pthread_mutex_init(&l->mutex, NULL);
        int b = a ? 1 : pthread_cond_init(&l->work_cv, NULL);
        int c = b ? 1 : pthread_cond_init(&l->ready_cv, NULL);
        if (a || b || c) {
            if (!a && b == 0)
                pthread_cond_destroy(&l->work_cv);
            if (!a)
                pthread_mutex_destroy(&l->mutex);
            loader_free(l);
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot make the loader's mutex and conditions");
        }
    }
    *out = l;
    return SELFSUP_OK;
}

void selfsup_loader_destroy(selfsup_loader *l)
{
    if (!l)
        return;
    if (l->prefetch > 0) {
        pthread_mutex_lock(&l->mutex);
        l->stop = 1;
        pthread_cond_broadcast(&l->work_cv);
        pthread_mutex_unlock(&l->mutex);
        if (l->thread_started)
            pthread_join(l->thread, NULL);
        pthread_cond_destroy(&l->ready_cv);
        pthread_cond_destroy(&l->work_cv);
        pthread_mutex_destroy(&l->mutex);
    }
    loader_free(l);
}

int64_t selfsup_loader_batches_per_epoch(const selfsup_loader *l)
{
    return l ? l->batches_per_epoch : 0;
}

static void publish(const selfsup_loader *l, const batch_slot *s,
                    selfsup_tensor *const **views, int64_t *epoch,
                    int64_t *batch_index)
{
    *views = s->n == l->batch_size / l->ranks ? s->full : s->tail;
    if (epoch)
        *epoch = s->epoch;
    if (batch_index)
        *batch_index = s->batch;
}

static selfsup_status next_sync(selfsup_loader *l,
                                selfsup_tensor *const **views, int64_t *epoch,
                                int64_t *batch_index)
{
    batch_slot *s = &l->slots[0];
    l->held = -1;
    s->epoch = l->next_epoch;
    s->batch = l->next_batch;
    make_batch(l, s);
    if (s->status != SELFSUP_OK)
        return SS_FAIL(s->status, "%s", s->message);
    advance(l);
    l->held = 0;
    publish(l, s, views, epoch, batch_index);
    return SELFSUP_OK;
}

selfsup_status selfsup_loader_next(selfsup_loader *l,
                                   selfsup_tensor *const **views,
                                   int64_t *epoch, int64_t *batch_index)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(views);
    if (l->prefetch == 0)
        return next_sync(l, views, epoch, batch_index);

    pthread_mutex_lock(&l->mutex);
    if (!l->thread_started) {
        int err = pthread_create(&l->thread, NULL, worker_main, l);
        if (err != 0) {
            pthread_mutex_unlock(&l->mutex);
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "cannot start the prefetch thread (error %d)", err);
        }
        l->thread_started = 1;
    }
    if (l->held >= 0) {
        l->slots[l->held].state = SLOT_FREE;
        l->held = -1;
        pthread_cond_broadcast(&l->work_cv);
    }
    batch_slot *s = &l->slots[l->head];
    while (s->state != SLOT_READY)
        pthread_cond_wait(&l->ready_cv, &l->mutex);
    if (s->status != SELFSUP_OK) {
        /* Retry this batch on the next call: restart the ring at it. */
        char message[MESSAGE_CAP];
        selfsup_status status = s->status;
        snprintf(message, sizeof message, "%s", s->message);
        reset_locked(l, s->epoch, s->batch);
        pthread_mutex_unlock(&l->mutex);
        return SS_FAIL(status, "%s", message);
    }
    l->head = (l->head + 1) % l->n_slots;
    s->state = SLOT_HELD;
    l->held = (int)(s - l->slots);
    publish(l, s, views, epoch, batch_index);
    pthread_mutex_unlock(&l->mutex);
    return SELFSUP_OK;
}

selfsup_status selfsup_loader_batch_indices(const selfsup_loader *l,
                                            const int64_t **indices,
                                            int64_t *count)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    SS_CHECK_NOT_NULL(indices);
    SS_CHECK_NOT_NULL(count);
    /* held is written only by the caller's own thread. */
    if (l->held < 0)
        return SS_FAIL(SELFSUP_ERR_STATE,
                       "no batch: call selfsup_loader_next first");
    *indices = l->slots[l->held].indices;
    *count = l->slots[l->held].n;
    return SELFSUP_OK;
}

selfsup_status selfsup_loader_seek(selfsup_loader *l, int64_t epoch,
                                   int64_t batch_index)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    if (epoch < 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "epoch = %lld is negative",
                       (long long)epoch);
    if (batch_index < 0 || batch_index >= l->batches_per_epoch)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "batch_index = %lld is outside 0..%lld",
                       (long long)batch_index,
                       (long long)l->batches_per_epoch - 1);
    if (l->prefetch == 0) {
        l->held = -1;
        l->next_epoch = epoch;
        l->next_batch = batch_index;
        return SELFSUP_OK;
    }
    pthread_mutex_lock(&l->mutex);
    reset_locked(l, epoch, batch_index);
    pthread_mutex_unlock(&l->mutex);
    return SELFSUP_OK;
}
