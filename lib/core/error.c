#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[SELFSUP__ERROR_CAPACITY];
static _Thread_local size_t detail_at;  /* where the prefix ends */
static _Thread_local const char *entry; /* the public call, or NULL */

const char *selfsup__entry_enter(const char *name)
{
    if (entry)
        return NULL;
    entry = name;
    return name;
}

void selfsup__entry_leave(const char *const *owned)
{
    if (*owned)
        entry = NULL;
}

selfsup_status selfsup__fail(selfsup_status status, const char *where,
                             const char *fmt, ...)
{
    int n = snprintf(last_message, sizeof last_message,
                     "%s: ", entry ? entry : where);
    if (n < 0 || (size_t)n >= sizeof last_message)
        n = 0;
    detail_at = (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message + n, sizeof last_message - (size_t)n, fmt, ap);
    va_end(ap);
    return status;
}

const char *selfsup_last_error(void)
{
    return last_message;
}

void selfsup__error_save(selfsup__error_state *s)
{
    memcpy(s->message, last_message, sizeof last_message);
    s->detail_at = detail_at;
}

void selfsup__error_restore(const selfsup__error_state *s)
{
    memcpy(last_message, s->message, sizeof last_message);
    detail_at = s->detail_at;
}

const char *selfsup__last_detail(void)
{
    return last_message + detail_at;
}

selfsup_status selfsup_report_error(selfsup_status status, const char *call,
                                    const char *message)
{
    return selfsup__fail(status, call ? call : "selfsup", "%s",
                         message ? message : "");
}

void selfsup_clear_error(void)
{
    last_message[0] = '\0';
    detail_at = 0;
}

const char *selfsup_status_string(selfsup_status s)
{
    switch (s) {
    case SELFSUP_OK:
        return "ok";
    case SELFSUP_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case SELFSUP_ERR_SHAPE:
        return "shape mismatch";
    case SELFSUP_ERR_OUT_OF_MEMORY:
        return "out of memory";
    case SELFSUP_ERR_IO:
        return "input/output error";
    case SELFSUP_ERR_CORRUPT:
        return "corrupt data";
    case SELFSUP_ERR_VERSION:
        return "unsupported version";
    case SELFSUP_ERR_NUMERIC:
        return "non-finite number";
    case SELFSUP_ERR_UNSUPPORTED:
        return "unsupported";
    case SELFSUP_ERR_BACKEND:
        return "oneDNN backend error";
    case SELFSUP_ERR_STATE:
        return "invalid state";
    case SELFSUP_ERR_COMM:
        return "communication failed";
    }
    return "unknown status";
}
