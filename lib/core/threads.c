#include "threads.h"

#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>

#include "error.h"
#include "selfsup/threads.h"

/* 0 means "not set": use OpenMP's own default. */
static atomic_int requested_threads;

/* OpenMP's default as the process started (OMP_NUM_THREADS, else the
 * processor count), read before the library changes any thread's setting. */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static int default_threads;

static void read_default(void)
{
    default_threads = omp_get_max_threads();
    if (default_threads < 1)
        default_threads = 1;
}

int selfsup__num_threads(void)
{
    pthread_once(&default_once, read_default);
    int n = atomic_load(&requested_threads);
    return n > 0 ? n : default_threads;
}

void selfsup__threads_apply(void)
{
    int n = selfsup__num_threads();
    if (omp_get_max_threads() != n)
        omp_set_num_threads(n);
}

selfsup_status selfsup_set_num_threads(int n)
{
    SS_ENTRY();
    if (n < 0 || n > 4096)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "n = %d is outside 0..4096 (0 restores the default)", n);
    pthread_once(&default_once, read_default);
    atomic_store(&requested_threads, n);
    selfsup__threads_apply();
    return SELFSUP_OK;
}

int selfsup_get_num_threads(void)
{
    return selfsup__num_threads();
}
