/* Internal: the countdown behind the library's fault-injection test hooks
 * (allocations, file-system operations, oneDNN primitive creations), so
 * that tests can fail the k-th event of a kind, in turn, sqlite-style. */
#ifndef SELFSUP_CORE_FAULT_H
#define SELFSUP_CORE_FAULT_H

#include <stdatomic.h>

typedef struct selfsup__fault {
    atomic_long count;     /* events since the process started */
    atomic_long countdown; /* events left before the armed one; 0: disarmed */
} selfsup__fault;

/* Counts one event and returns its number (1, 2, ...). */
long selfsup__fault_next(selfsup__fault *f);
/* 1 if the event just counted is the armed one (then disarmed). */
int selfsup__fault_fires(selfsup__fault *f);
/* Both: 1 if this event is to fail. */
int selfsup__fault_tick(selfsup__fault *f);
/* With k >= 1 the k-th event from now fails, once; k <= 0 disarms. */
void selfsup__fault_arm(selfsup__fault *f, long k);
long selfsup__fault_count(selfsup__fault *f);

#endif
