/* Internal: the spec-string grammar every module shares,
 *     name | name:key=value,key=value,...
 * e.g. "groco:topk=10,network=bitonic" or "resnet18:width=16,in_channels=1".
 * Spaces around names, keys and values are ignored. A value in double
 * quotes may hold commas and spaces (a path: path="a, b"); inside the
 * quotes \" is a quote and \\ a backslash. Readers take each key
 * they know (a key left out keeps the caller's default); selfsup__spec_finish
 * then refuses any key nobody took, naming it and the keys that exist. */
#ifndef SELFSUP_CORE_SPEC_H
#define SELFSUP_CORE_SPEC_H

#include <stddef.h>

#include "selfsup/status.h"

enum { SS_SPEC_MAX_KEYS = 32 };

typedef struct selfsup__spec {
    char *text; /* owned copy of the spec, cut in place */
    const char *where;
    const char *name;
    int count;
    const char *keys[SS_SPEC_MAX_KEYS];
    const char *values[SS_SPEC_MAX_KEYS];
    unsigned char taken[SS_SPEC_MAX_KEYS];
    int known_count;
    const char *known[SS_SPEC_MAX_KEYS]; /* keys the readers asked for */
} selfsup__spec;

/* Parses text; where names the public function in messages. Malformed text
 * gives SELFSUP_ERR_INVALID_ARGUMENT. Free with selfsup__spec_free even on
 * failure (it accepts a zeroed or half-built spec). */
selfsup_status selfsup__spec_parse(selfsup__spec *s, const char *text,
                                   const char *where);
void selfsup__spec_free(selfsup__spec *s);

/* Range flags for numeric readers: an open end excludes the bound. */
enum { SS_SPEC_CLOSED = 0, SS_SPEC_OPEN_LO = 1, SS_SPEC_OPEN_HI = 2 };

selfsup_status selfsup__spec_double(selfsup__spec *s, const char *key,
                                    double lo, double hi, int flags,
                                    double *value);
selfsup_status selfsup__spec_int(selfsup__spec *s, const char *key, long lo,
                                 long hi, long *value);
/* 0/1, true/false, yes/no. */
selfsup_status selfsup__spec_bool(selfsup__spec *s, const char *key,
                                  int *value);
/* One of choices[0..n); *index is set to the one given. */
selfsup_status selfsup__spec_choice(selfsup__spec *s, const char *key,
                                    const char *const *choices, int n,
                                    int *index);
/* The raw value (valid until selfsup__spec_free). */
selfsup_status selfsup__spec_string(selfsup__spec *s, const char *key,
                                    const char **value);
/* text with key set to value: "name:k=v,...,key=value", the other keys
 * in their order (values quoted where they need it). With keep_given, a
 * key text already gives keeps its value. Fails with
 * SELFSUP_ERR_INVALID_ARGUMENT if text does not parse or the result needs
 * cap bytes or more; where names the public function. */
selfsup_status selfsup__spec_format_with(const char *text, const char *key,
                                         const char *value, int keep_given,
                                         char *out, size_t cap,
                                         const char *where);

/* SELFSUP_ERR_INVALID_ARGUMENT if a key was given that no reader took. */
selfsup_status selfsup__spec_finish(const selfsup__spec *s);

#endif
