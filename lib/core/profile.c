#include "profile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"

/* A fixed table, so that recording never allocates and never fails: the
 * profile must not change what it measures or add a way for a step to
 * fail. */
enum { CAPACITY = 1024, NAME_BYTES = 128, SLOTS = 2048 };

typedef struct entry {
    int kind;
    char name[NAME_BYTES];
    int64_t calls;
    double seconds, flops;
} entry;

static atomic_int counting;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static entry entries[CAPACITY];
static int n_entries;
/* Open addressing over the names: index + 1 of the entry, 0 when free. */
static int slots[SLOTS];

int selfsup__profile_on(void)
{
    return atomic_load_explicit(&counting, memory_order_relaxed);
}

double selfsup__profile_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint32_t hash(int kind, const char *s)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The entry for (kind, name), made if new; the table's lock is held. */
static entry *find(int kind, const char *name)
{
    char key[NAME_BYTES];
    snprintf(key, sizeof key, "%s", name);
    for (uint32_t h = hash(kind, key), i = 0; i < SLOTS; i++) {
        int *slot = &slots[(h + i) % SLOTS];
        if (*slot == 0) {
            if (n_entries == CAPACITY - 1) /* the last one is "(other)" */
                break;
            entry *e = &entries[n_entries++];
            *e = (entry){.kind = kind};
            memcpy(e->name, key, sizeof key);
            *slot = n_entries;
            return e;
        }
        entry *e = &entries[*slot - 1];
        if (e->kind == kind && strcmp(e->name, key) == 0)
            return e;
    }
    entry *other = &entries[CAPACITY - 1];
    if (other->name[0] == 0)
        snprintf(other->name, sizeof other->name, "(other)");
    return other;
}

void selfsup__profile_add(selfsup_profile_kind kind, const char *name,
                          double seconds, double flops)
{
    pthread_mutex_lock(&table_lock);
    if (selfsup__profile_on()) {
        entry *e = find((int)kind, name);
        e->calls++;
        e->seconds += seconds;
        e->flops += flops;
    }
    pthread_mutex_unlock(&table_lock);
}

double selfsup__profile_begin(void)
{
    return selfsup__profile_on() ? selfsup__profile_clock() : 0;
}

void selfsup__profile_end(const char *phase, double started)
{
    if (started > 0 && selfsup__profile_on())
        selfsup__profile_add(SELFSUP_PROFILE_PHASE, phase,
                             selfsup__profile_clock() - started, 0);
}

void selfsup_profile_start(void)
{
    pthread_mutex_lock(&table_lock);
    memset(slots, 0, sizeof slots);
    memset(entries, 0, sizeof entries);
    n_entries = 0;
    atomic_store(&counting, 1);
    pthread_mutex_unlock(&table_lock);
}

void selfsup_profile_stop(void)
{
    atomic_store(&counting, 0);
}

/* The table as read: its entries, then "(other)" if anything overflowed. */
static int64_t visible(void)
{
    return n_entries + (entries[CAPACITY - 1].calls > 0 ? 1 : 0);
}

int64_t selfsup_profile_count(void)
{
    pthread_mutex_lock(&table_lock);
    int64_t n = visible();
    pthread_mutex_unlock(&table_lock);
    return n;
}

selfsup_status selfsup_profile_entry(int64_t index, int *kind,
                                     const char **name, int64_t *calls,
                                     double *seconds, double *flops)
{
    SS_ENTRY();
    pthread_mutex_lock(&table_lock);
    int64_t n = visible();
    if (index < 0 || index >= n) {
        pthread_mutex_unlock(&table_lock);
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "index = %lld is outside the profile's %lld entries",
                       (long long)index, (long long)n);
    }
    const entry *e =
        index < n_entries ? &entries[index] : &entries[CAPACITY - 1];
    if (kind)
        *kind = e->kind;
    if (name)
        *name = e->name;
    if (calls)
        *calls = e->calls;
    if (seconds)
        *seconds = e->seconds;
    if (flops)
        *flops = e->flops;
    pthread_mutex_unlock(&table_lock);
    return SELFSUP_OK;
}
