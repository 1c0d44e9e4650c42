/* Internal: the NumPy .npy header (format 1.0 written; 1.0, 2.0 and 3.0
 * read), per numpy's format documentation (numpy.lib.format):
 *
 *   "\x93NUMPY" major minor HEADER_LEN (uint16 LE; uint32 LE from 2.0)
 *   HEADER_LEN bytes: a Python dict literal with the keys 'descr',
 *   'fortran_order' and 'shape', padded with spaces and ending in '\n' so
 *   that the data starts at a multiple of 64 bytes; then the data. */
#ifndef SELFSUP_EVAL_NPY_FORMAT_H
#define SELFSUP_EVAL_NPY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "selfsup/tensor.h"

enum {
    SELFSUP__NPY_PREAMBLE_V1 = 10, /* magic, version, uint16 length */
    SELFSUP__NPY_HEADER_MAX = 1024 /* room for any header we write */
};

/* Writes the preamble and header numpy 1.24 writes for an array of this
 * descr ("<f4", "<i4") and C-ordered shape into buf (SELFSUP__NPY_HEADER_
 * MAX bytes) and returns its length, a multiple of 64. 1 <= ndim <=
 * SELFSUP_TENSOR_MAX_DIMS. */
size_t selfsup__npy_format_header(char *buf, const char *descr, int ndim,
                                  const int64_t *dims);

/* A parsed header. */
typedef struct selfsup__npy_header {
    char descr[16];
    int fortran_order;
    int ndim;
    int64_t dims[SELFSUP_TENSOR_MAX_DIMS];
    int64_t numel;
} selfsup__npy_header;

/* Parses the HEADER_LEN bytes of text (the dict, its padding and the final
 * '\n'). Malformed text -> SELFSUP_ERR_CORRUPT; a well-formed header of an
 * array no tensor can hold (0-d, an empty axis, more than
 * SELFSUP_TENSOR_MAX_DIMS axes) -> SELFSUP_ERR_UNSUPPORTED. The message
 * names path. descr and fortran_order are returned for the caller to judge. */
selfsup_status selfsup__npy_parse_header(selfsup__npy_header *out,
                                         const char *text, size_t len,
                                         const char *path, const char *where);

/* Little-endian 32-bit words to and from memory, whatever the host. */
void selfsup__npy_store_le32(unsigned char *dst, const void *src, size_t count);
void selfsup__npy_load_le32(void *dst, const unsigned char *src, size_t count);

#endif
