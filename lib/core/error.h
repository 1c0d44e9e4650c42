/* Internal: setting a status and this thread's message in one line. */
#ifndef SELFSUP_CORE_ERROR_H
#define SELFSUP_CORE_ERROR_H

#include <stddef.h>

#include "selfsup/status.h"

/* Formats "entry: message" into this thread's last-error buffer and returns
 * status, so that a failing path reads
 *     return SS_FAIL(SELFSUP_ERR_SHAPE, "dims[%d] = %lld", i, d);
 * entry is the public function the caller entered (SS_ENTRY below), however
 * deep the failing helper is; where names it on threads that did not enter
 * through one (the loader's workers pass the public call they serve). */
selfsup_status selfsup__fail(selfsup_status status, const char *where,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SS_FAIL(status, ...) selfsup__fail((status), __func__, __VA_ARGS__)

/* The first statement of every public function that returns a status:
 * marks this thread as inside the library's entry point __func__ until the
 * function returns, unless it already is (a public function calling
 * another), so that every message names the call the host made. The
 * cleanup attribute (GCC, Clang) clears the mark on every return path. */
const char *selfsup__entry_enter(const char *name);
void selfsup__entry_leave(const char *const *owned);
#define SS_ENTRY()                                                             \
    const char *const ss_entry_                                                \
        __attribute__((cleanup(selfsup__entry_leave), unused)) =               \
            selfsup__entry_enter(__func__)

/* selfsup_last_error() speaks of the host's last failed call, so a failure
 * the library recovers from by itself (a faster kernel oneDNN cannot make,
 * the slower one kept) must leave the message as it was: save it before the
 * attempt, restore it after a failure that is not passed on. */
enum { SELFSUP__ERROR_CAPACITY = 1024 };
typedef struct selfsup__error_state {
    char message[SELFSUP__ERROR_CAPACITY];
    size_t detail_at;
} selfsup__error_state;
void selfsup__error_save(selfsup__error_state *s);
void selfsup__error_restore(const selfsup__error_state *s);

/* The detail of this thread's last message, without the "entry: " prefix,
 * for a message carried from one thread to another. */
const char *selfsup__last_detail(void);

/* Propagates a failing status (its message is already set). */
#define SS_TRY(expr)                                                           \
    do {                                                                       \
        selfsup_status ss_try_status_ = (expr);                                \
        if (ss_try_status_ != SELFSUP_OK)                                      \
            return ss_try_status_;                                             \
    } while (0)

/* The common argument checks, named after the parameter they test. */
#define SS_CHECK_NOT_NULL(ptr)                                                 \
    do {                                                                       \
        if ((ptr) == NULL)                                                     \
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "%s is NULL", #ptr);  \
    } while (0)

#endif
