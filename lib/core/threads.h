/* Internal: the library's thread count, applied to the calling thread. */
#ifndef SELFSUP_CORE_THREADS_H
#define SELFSUP_CORE_THREADS_H

/* The thread count set by selfsup_set_num_threads (or the OpenMP default). */
int selfsup__num_threads(void);

/* OpenMP's thread count is a per-thread setting and oneDNN reads it from the
 * thread that executes a primitive; call this at the top of any entry point
 * that runs parallel code so the user's choice holds on every host thread. */
void selfsup__threads_apply(void);

#endif
