/* Internal: setting a status and this thread's message in one line. */
#ifndef SELFSUP_CORE_ERROR_H
#define SELFSUP_CORE_ERROR_H

#include "selfsup/status.h"

/* Formats "where: message" into this thread's last-error buffer and returns
 * status, so that a failing path reads
 *     return SS_FAIL(SELFSUP_ERR_SHAPE, "dims[%d] = %lld", i, d);          */
selfsup_status selfsup__fail(selfsup_status status, const char *where,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SS_FAIL(status, ...) selfsup__fail((status), __func__, __VA_ARGS__)

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
