/* libselfsup: status codes and error messages. */
#ifndef SELFSUP_STATUS_H
#define SELFSUP_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every function that can fail returns one of these. On failure every output
 * is left untouched and selfsup_last_error() says what went wrong. */
typedef enum selfsup_status {
    SELFSUP_OK = 0,
    SELFSUP_ERR_INVALID_ARGUMENT = -1, /* NULL, unknown name/key, bad value */
    SELFSUP_ERR_SHAPE = -2,            /* tensor shapes do not fit */
    SELFSUP_ERR_OUT_OF_MEMORY = -3,
    SELFSUP_ERR_IO = -4,      /* open/read/write/rename failed */
    SELFSUP_ERR_CORRUPT = -5, /* a file's content is malformed */
    SELFSUP_ERR_VERSION = -6, /* file or ABI version not supported */
    SELFSUP_ERR_NUMERIC = -7, /* NaN or Inf in input or result */
    SELFSUP_ERR_UNSUPPORTED = -8,
    SELFSUP_ERR_BACKEND = -9, /* oneDNN refused or failed */
    SELFSUP_ERR_STATE = -10,  /* call not valid in this state */
    SELFSUP_ERR_COMM = -11    /* a collective of a communicator failed */
} selfsup_status;

/* A short fixed description of a status ("invalid argument"); never NULL,
 * also for values outside the enum. */
SELFSUP_API const char *selfsup_status_string(selfsup_status s);

/* This thread's message for its last failed call: what, where, which value,
 * e.g. "selfsup_tensor_create: dims[1] = -3 is not positive". Successful
 * calls do not clear it (like errno). Never NULL; "" before any failure. The
 * pointer stays valid until this thread's next failing call. */
SELFSUP_API const char *selfsup_last_error(void);

/* Sets this thread's message to "call: message" and returns status, for
 * libraries layered on libselfsup (libselfsup-mpi) whose failures the host
 * reads through selfsup_last_error() like the library's own. */
SELFSUP_API selfsup_status selfsup_report_error(selfsup_status status,
                                                const char *call,
                                                const char *message);

/* Forget this thread's last error message. */
SELFSUP_API void selfsup_clear_error(void);

#ifdef __cplusplus
}
#endif

#endif
