/* libselfsup: how many threads the library uses. */
#ifndef SELFSUP_THREADS_H
#define SELFSUP_THREADS_H

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of threads the library's OpenMP loops and oneDNN's kernels
 * use (they share one OpenMP runtime). n >= 1; n == 0 restores the default:
 * OMP_NUM_THREADS if set, else the number of processors. Results are bitwise
 * reproducible for a given seed and thread count. More threads than free
 * cores is much slower than fewer (OpenMP barriers wait on descheduled
 * threads): on a shared machine, ask for the cores that are free. */
SELFSUP_API selfsup_status selfsup_set_num_threads(int n);

/* The number of threads the next parallel region will use. */
SELFSUP_API int selfsup_get_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif
