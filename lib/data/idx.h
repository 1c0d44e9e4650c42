/* Internal: reading IDX files (the MNIST format), raw or gzip-compressed,
 * from a file or from memory, with every header field checked.
 *
 * IDX: a 4-byte magic (two zero bytes, the element type, the rank), rank
 * big-endian uint32 dimensions, then the elements in row-major order. Only
 * unsigned bytes (type 0x08) are read: images are rank 3, labels rank 1. */
#ifndef SELFSUP_DATA_IDX_H
#define SELFSUP_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "selfsup/status.h"

/* Bounds that keep every size computation far from overflow. */
#define SS_IDX_MAX_SIDE  65536
#define SS_IDX_MAX_BYTES (INT64_C(1) << 40)

typedef struct selfsup__idx {
    int rank;        /* 1 or 3 */
    int64_t dims[3]; /* dims[0] is the item count */
    uint8_t *data;   /* dims[0] * ... bytes, owned (selfsup__free) */
} selfsup__idx;

/* Reads the whole file at path; rank is the rank it must have. where names
 * the public function for messages, which also name the file and the field.
 * SELFSUP_ERR_IO if it cannot be opened or read, SELFSUP_ERR_CORRUPT for
 * malformed content (header, gzip stream, length). *out is written only on
 * success. */
selfsup_status selfsup__idx_read_file(selfsup__idx *out, const char *path,
                                      int rank, const char *where);

/* The same from len bytes at data (raw or gzip); name stands for the file
 * in messages. */
selfsup_status selfsup__idx_read_memory(selfsup__idx *out, const void *data,
                                        size_t len, const char *name, int rank,
                                        const char *where);

void selfsup__idx_free(selfsup__idx *idx);

#endif
