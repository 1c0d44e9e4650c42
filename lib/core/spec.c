#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int is_identifier(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return 1;
}

selfsup_status selfsup__spec_parse(selfsup__spec *s, const char *text,
                                   const char *where)
{
    memset(s, 0, sizeof *s);
    s->where = where;
    if (!text)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "spec is NULL");
    s->text = selfsup__strdup(text);
    if (!s->text)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot copy the spec");
    char *colon = strchr(s->text, ':');
    if (colon)
        *colon = '\0';
    s->name = trim(s->text);
    if (!is_identifier(s->name))
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "spec \"%s\": \"%s\" is not a name", text,
                             s->name);
    if (!colon)
        return SELFSUP_OK;
    char *rest = colon + 1;
    for (;;) {
        char *eq = strchr(rest, '=');
        char *comma = strchr(rest, ',');
        if (!eq || (comma && comma < eq)) {
            if (comma)
                *comma = '\0';
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                 "spec \"%s\": \"%s\" is not key=value", text,
                                 trim(rest));
        }
        *eq = '\0';
        char *key = trim(rest), *value, *next;
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        if (*v == '"') {
            /* a quoted value may hold commas (a path): \" and \\ escape */
            char *r = v + 1, *w = v + 1;
            value = w;
            while (*r && *r != '"') {
                if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
                    r++;
                *w++ = *r++;
            }
            if (*r != '"')
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                     "spec \"%s\": key \"%s\" has an "
                                     "unterminated quoted value",
                                     text, key);
            r++;
            *w = '\0';
            while (isspace((unsigned char)*r))
                r++;
            if (*r && *r != ',')
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                     "spec \"%s\": key \"%s\" has text "
                                     "after its quoted value",
                                     text, key);
            next = *r ? r + 1 : NULL;
        } else {
            comma = strchr(v, ',');
            if (comma)
                *comma = '\0';
            value = trim(v);
            next = comma ? comma + 1 : NULL;
        }
        if (!is_identifier(key) || !*value)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                 "spec \"%s\": key \"%s\" or its value is "
                                 "empty or malformed",
                                 text, key);
        for (int i = 0; i < s->count; i++)
            if (strcmp(s->keys[i], key) == 0)
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                     "spec \"%s\": key \"%s\" given twice",
                                     text, key);
        if (s->count == SS_SPEC_MAX_KEYS)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                                 "spec \"%s\" has more than %d keys", text,
                                 SS_SPEC_MAX_KEYS);
        s->keys[s->count] = key;
        s->values[s->count] = value;
        s->count++;
        if (!next)
            break;
        rest = next;
    }
    return SELFSUP_OK;
}

void selfsup__spec_free(selfsup__spec *s)
{
    selfsup__free(s->text);
    s->text = NULL;
}

/* Records key as known and returns its value, or NULL if not given. */
static const char *lookup(selfsup__spec *s, const char *key)
{
    if (s->known_count < SS_SPEC_MAX_KEYS)
        s->known[s->known_count++] = key;
    for (int i = 0; i < s->count; i++)
        if (strcmp(s->keys[i], key) == 0) {
            s->taken[i] = 1;
            return s->values[i];
        }
    return NULL;
}

selfsup_status selfsup__spec_double(selfsup__spec *s, const char *key,
                                    double lo, double hi, int flags,
                                    double *value)
{
    const char *text = lookup(s, key);
    if (!text)
        return SELFSUP_OK;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: %s = \"%s\" is not a finite number", s->name,
                             key, text);
    int below = (flags & SS_SPEC_OPEN_LO) ? !(v > lo) : !(v >= lo);
    int above = (flags & SS_SPEC_OPEN_HI) ? !(v < hi) : !(v <= hi);
    if (below || above)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: %s = %g is outside %c%g, %g%c", s->name, key,
                             v, (flags & SS_SPEC_OPEN_LO) ? '(' : '[', lo, hi,
                             (flags & SS_SPEC_OPEN_HI) ? ')' : ']');
    *value = v;
    return SELFSUP_OK;
}

selfsup_status selfsup__spec_int(selfsup__spec *s, const char *key, long lo,
                                 long hi, long *value)
{
    const char *text = lookup(s, key);
    if (!text)
        return SELFSUP_OK;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end || errno == ERANGE)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: %s = \"%s\" is not an integer", s->name, key,
                             text);
    if (v < lo || v > hi)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: %s = %ld is outside [%ld, %ld]", s->name, key,
                             v, lo, hi);
    *value = v;
    return SELFSUP_OK;
}

selfsup_status selfsup__spec_bool(selfsup__spec *s, const char *key, int *value)
{
    static const char *const names[] = {"0", "1", "false", "true", "no", "yes"};
    int index = -1;
    SS_TRY(selfsup__spec_choice(s, key, names, 6, &index));
    if (index >= 0)
        *value = index % 2;
    return SELFSUP_OK;
}

selfsup_status selfsup__spec_choice(selfsup__spec *s, const char *key,
                                    const char *const *choices, int n,
                                    int *index)
{
    const char *text = lookup(s, key);
    if (!text)
        return SELFSUP_OK;
    for (int i = 0; i < n; i++)
        if (strcmp(text, choices[i]) == 0) {
            *index = i;
            return SELFSUP_OK;
        }
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                 choices[i]);
    }
    return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                         "%s: %s = \"%s\" is not one of %s", s->name, key, text,
                         list);
}

selfsup_status selfsup__spec_string(selfsup__spec *s, const char *key,
                                    const char **value)
{
    const char *text = lookup(s, key);
    if (text)
        *value = text;
    return SELFSUP_OK;
}

selfsup_status selfsup__spec_finish(const selfsup__spec *s)
{
    for (int i = 0; i < s->count; i++) {
        if (s->taken[i])
            continue;
        char list[256] = "";
        for (int k = 0; k < s->known_count; k++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "",
                     s->known[k]);
        }
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: unknown key \"%s\" (known keys: %s)", s->name,
                             s->keys[i], s->known_count ? list : "none");
    }
    return SELFSUP_OK;
}

/* Appends "key=value" to out at *used, quoting a value that the parser
 * would otherwise cut or trim. */
static int put_pair(char *out, size_t cap, size_t *used, int first,
                    const char *key, const char *value)
{
    int quote = !*value || strpbrk(value, ",\"\\") ||
                isspace((unsigned char)value[0]) ||
                isspace((unsigned char)value[strlen(value) - 1]);
    int n = snprintf(out + *used, cap - *used, "%s%s=%s", first ? ":" : ",",
                     key, quote ? "\"" : "");
    if (n < 0 || (size_t)n >= cap - *used)
        return -1;
    *used += (size_t)n;
    for (const char *c = value; *c; c++) {
        if (quote && (*c == '"' || *c == '\\')) {
            if (*used + 1 >= cap)
                return -1;
            out[(*used)++] = '\\';
        }
        if (*used + 1 >= cap)
            return -1;
        out[(*used)++] = *c;
    }
    if (quote) {
        if (*used + 1 >= cap)
            return -1;
        out[(*used)++] = '"';
    }
    out[*used] = '\0';
    return 0;
}

selfsup_status selfsup__spec_format_with(const char *text, const char *key,
                                         const char *value, int keep_given,
                                         char *out, size_t cap,
                                         const char *where)
{
    selfsup__spec s;
    selfsup_status st = selfsup__spec_parse(&s, text, where);
    size_t used = 0;
    int set = 0, fits = cap > 0;
    if (st == SELFSUP_OK && fits) {
        int n = snprintf(out, cap, "%s", s.name);
        fits = n >= 0 && (size_t)n < cap;
        used = fits ? (size_t)n : 0;
    }
    for (int i = 0; st == SELFSUP_OK && fits && i < s.count; i++) {
        const char *v = s.values[i];
        if (strcmp(s.keys[i], key) == 0) {
            set = 1;
            v = keep_given ? v : value;
        }
        fits = put_pair(out, cap, &used, i == 0, s.keys[i], v) == 0;
    }
    if (st == SELFSUP_OK && fits && !set)
        fits = put_pair(out, cap, &used, s.count == 0, key, value) == 0;
    selfsup__spec_free(&s);
    SS_TRY(st);
    if (!fits)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "spec \"%s\" with %s=%s is longer than %zu "
                             "characters",
                             text, key, value, cap ? cap - 1 : 0);
    return SELFSUP_OK;
}
