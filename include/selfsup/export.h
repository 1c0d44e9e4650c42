/* libselfsup: symbol visibility. */
#ifndef SELFSUP_EXPORT_H
#define SELFSUP_EXPORT_H

/* The library is built with -fvisibility=hidden; only what is marked
 * SELFSUP_API is exported, and the linker version script keeps the table to
 * selfsup_* names. Consumers see a plain extern declaration. */
#if defined(SELFSUP_BUILDING) && defined(__GNUC__)
#define SELFSUP_API __attribute__((visibility("default")))
#else
#define SELFSUP_API
#endif

#endif
