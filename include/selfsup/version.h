/* libselfsup: version macros.
 *
 * SELFSUP_VERSION_MAJOR is the ABI major: it is the number in the SONAME
 * (libselfsup.so.0) and changes only when a binary built against an older
 * release could break. The CMake build reads the version from this file. */
#ifndef SELFSUP_VERSION_H
#define SELFSUP_VERSION_H

#include "export.h"

#define SELFSUP_VERSION_MAJOR 0
#define SELFSUP_VERSION_MINOR 1
#define SELFSUP_VERSION_PATCH 0

/* One integer for compile-time comparisons: 0x000100 for 0.1.0. */
#define SELFSUP_VERSION_NUMBER                                                 \
    ((SELFSUP_VERSION_MAJOR << 16) | (SELFSUP_VERSION_MINOR << 8) |            \
     SELFSUP_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library actually loaded, "MAJOR.MINOR.PATCH": compare it
 * with the macros to detect a header/library mismatch. */
SELFSUP_API const char *selfsup_version_string(void);

/* The same as SELFSUP_VERSION_NUMBER, for the loaded library. */
SELFSUP_API int selfsup_version_number(void);

#ifdef __cplusplus
}
#endif

#endif
