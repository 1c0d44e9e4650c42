#include "npy_format.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* numpy (>= 1.23) leaves room after the dict for the first axis to grow to
 * 21 digits without rewriting the file (GROWTH_AXIS_MAX_DIGITS). */
enum { GROWTH_AXIS_MAX_DIGITS = 21, ARRAY_ALIGN = 64 };
#define NUMEL_MAX (INT64_C(1) << 40) /* as for tensors */

size_t selfsup__npy_format_header(char *buf, const char *descr, int ndim,
                                  const int64_t *dims)
{
    char shape[SELFSUP__NPY_HEADER_MAX / 2];
    size_t used = 0;
    for (int i = 0; i < ndim; i++)
        used += (size_t)snprintf(shape + used, sizeof shape - used,
                                 i ? ", %lld" : "%lld", (long long)dims[i]);
    if (ndim == 1)
        snprintf(shape + used, sizeof shape - used, ",");
    char first[24];
    int first_digits =
        snprintf(first, sizeof first, "%lld", (long long)dims[0]);

    char *dict = buf + SELFSUP__NPY_PREAMBLE_V1;
    int len = snprintf(dict, SELFSUP__NPY_HEADER_MAX - SELFSUP__NPY_PREAMBLE_V1,
                       "{'descr': '%s', 'fortran_order': False, 'shape': "
                       "(%s), }%*s",
                       descr, shape, GROWTH_AXIS_MAX_DIGITS - first_digits, "");
    /* Then spaces and a '\n' up to the next multiple of 64 -- a whole 64
     * more when already aligned, exactly as numpy's _wrap_header pads. */
    size_t with_newline = SELFSUP__NPY_PREAMBLE_V1 + (size_t)len + 1;
    size_t pad = ARRAY_ALIGN - with_newline % ARRAY_ALIGN;
    memset(dict + len, ' ', pad);
    size_t total = with_newline + pad;
    buf[total - 1] = '\n';
    size_t header_len = total - SELFSUP__NPY_PREAMBLE_V1;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(header_len & 0xff);
    buf[9] = (char)(header_len >> 8);
    return total;
}

/* A cursor over the header text, for the recursive-descent parser below;
 * the grammar is the subset of Python literals numpy's header can hold. */
typedef struct cursor {
    const char *start, *p, *end;
    const char *path, *where;
} cursor;

static selfsup_status corrupt(const cursor *c, const char *what)
{
    return selfsup__fail(SELFSUP_ERR_CORRUPT, c->where,
                         "%s: malformed NPY header: %s (at byte %d of the "
                         "header)",
                         c->path, what, (int)(c->p - c->start));
}

static void skip_spaces(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int accept(cursor *c, char ch)
{
    skip_spaces(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes, at most cap - 1 printable characters. */
static selfsup_status parse_string(cursor *c, char *out, size_t cap)
{
    skip_spaces(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return corrupt(c, "expected a quoted string");
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20 || ch > 0x7e || ch == '\\' || n + 1 >= cap)
            return corrupt(c, "a string holds an escape, a control "
                              "character or too many characters");
        out[n++] = (char)ch;
        c->p++;
    }
    if (c->p >= c->end)
        return corrupt(c, "unterminated string");
    c->p++;
    out[n] = '\0';
    return SELFSUP_OK;
}

static selfsup_status parse_bool(cursor *c, int *out)
{
    skip_spaces(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        c->p += 4;
        *out = 1;
    } else if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        c->p += 5;
        *out = 0;
    } else {
        return corrupt(c, "fortran_order is not True or False");
    }
    return SELFSUP_OK;
}

/* A tuple of non-negative integers: "()", "(3,)", "(3, 4)", "(3, 4,)";
 * "(3)" is an integer in Python, not a tuple. Axes beyond the tensor limit
 * are counted, not stored. */
static selfsup_status parse_shape(cursor *c, selfsup__npy_header *h)
{
    if (!accept(c, '('))
        return corrupt(c, "shape is not a tuple");
    int commas = 0;
    h->ndim = 0;
    for (;;) {
        if (accept(c, ')'))
            break;
        skip_spaces(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return corrupt(c, "a shape entry is not a non-negative integer");
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return corrupt(c, "a shape entry overflows 64 bits");
            v = v * 10 + (*c->p++ - '0');
        }
        if (h->ndim < SELFSUP_TENSOR_MAX_DIMS)
            h->dims[h->ndim] = v;
        h->ndim++;
        if (accept(c, ',')) {
            commas++;
            continue;
        }
        if (accept(c, ')'))
            break;
        return corrupt(c, "expected ',' or ')' in the shape");
    }
    if (h->ndim == 1 && commas == 0)
        return corrupt(c, "shape (n) is an integer, not a tuple (n,)");
    return SELFSUP_OK;
}

selfsup_status selfsup__npy_parse_header(selfsup__npy_header *out,
                                         const char *text, size_t len,
                                         const char *path, const char *where)
{
    cursor c = {text, text, text + len, path, where};
    selfsup__npy_header h;
    memset(&h, 0, sizeof h);
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!accept(&c, '{'))
        return corrupt(&c, "expected '{'");
    for (;;) {
        if (accept(&c, '}'))
            break;
        char key[32];
        SS_TRY(parse_string(&c, key, sizeof key));
        if (!accept(&c, ':'))
            return corrupt(&c, "expected ':' after a key");
        if (strcmp(key, "descr") == 0 && !have_descr) {
            SS_TRY(parse_string(&c, h.descr, sizeof h.descr));
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            SS_TRY(parse_bool(&c, &h.fortran_order));
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            SS_TRY(parse_shape(&c, &h));
            have_shape = 1;
        } else {
            return corrupt(&c, "a key is unknown or given twice");
        }
        if (accept(&c, ','))
            continue;
        if (accept(&c, '}'))
            break;
        return corrupt(&c, "expected ',' or '}' after a value");
    }
    if (!have_descr || !have_order || !have_shape)
        return corrupt(&c, "'descr', 'fortran_order' or 'shape' is missing");
    while (c.p < c.end - 1 && *c.p == ' ')
        c.p++;
    if (c.p != c.end - 1 || *c.p != '\n')
        return corrupt(&c, "the dict is not followed by spaces and one "
                           "final '\\n'");

    if (h.ndim == 0 || h.ndim > SELFSUP_TENSOR_MAX_DIMS)
        return selfsup__fail(SELFSUP_ERR_UNSUPPORTED, where,
                             "%s: the array has %d axes; a tensor has 1 to %d",
                             path, h.ndim, SELFSUP_TENSOR_MAX_DIMS);
    h.numel = 1;
    for (int i = 0; i < h.ndim; i++) {
        if (h.dims[i] == 0)
            return selfsup__fail(SELFSUP_ERR_UNSUPPORTED, where,
                                 "%s: the array is empty (axis %d has "
                                 "extent 0)",
                                 path, i);
        if (h.dims[i] > NUMEL_MAX / h.numel)
            return selfsup__fail(SELFSUP_ERR_UNSUPPORTED, where,
                                 "%s: the array has more than 2^40 elements",
                                 path);
        h.numel *= h.dims[i];
    }
    *out = h;
    return SELFSUP_OK;
}

void selfsup__npy_store_le32(unsigned char *dst, const void *src, size_t count)
{
    const unsigned char *s = src;
    for (size_t i = 0; i < count; i++) {
        uint32_t w;
        memcpy(&w, s + 4 * i, 4);
        dst[4 * i + 0] = (unsigned char)(w & 0xff);
        dst[4 * i + 1] = (unsigned char)((w >> 8) & 0xff);
        dst[4 * i + 2] = (unsigned char)((w >> 16) & 0xff);
        dst[4 * i + 3] = (unsigned char)(w >> 24);
    }
}

void selfsup__npy_load_le32(void *dst, const unsigned char *src, size_t count)
{
    unsigned char *d = dst;
    for (size_t i = 0; i < count; i++) {
        uint32_t w = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                     (uint32_t)src[4 * i + 2] << 16 |
                     (uint32_t)src[4 * i + 3] << 24;
        memcpy(d + 4 * i, &w, 4);
    }
}
