/* Internal: a collection's decoded images kept on disk, so that the next
 * run (or the next command) maps them instead of decoding again.
 *
 * The file is keyed by everything the pixels depend on: the output format
 * (size, channels, background, max_pixels), skip_bad, and every file's
 * path, size, modification time and label, plus the class names. A file
 * whose key differs, or that is short, damaged (a CRC-32 covers all but
 * the header's first bytes) or of another version, is simply rebuilt: a
 * cache is never an error to read. Writing goes through the atomic writer.
 *
 * Layout (little-endian): a 64-byte header
 *   "SSIMGC01", key u64, count u64, size u32, channels u32, has_labels u32,
 *   n_classes u32 (named classes, 0 when unnamed), n_skipped u64,
 *   strings_bytes u64, crc32 u32, 4 zero bytes
 * then the pixels (count x size x size x channels), the labels (int32,
 * when has_labels), then NUL-terminated strings: every image's path, the
 * class names, the skipped files' "path: reason". The pixels start at byte
 * 64, so the dataset reads them straight from the mapping. */
#ifndef SELFSUP_DATA_IMAGE_CACHE_H
#define SELFSUP_DATA_IMAGE_CACHE_H

#include <stdint.h>

#include "collection.h"
#include "image_decode.h"
#include "selfsup/data.h"

/* The key of c decoded as fmt (0 with *ok = 0 when a file cannot be
 * stat'ed: the decode will say why). */
uint64_t selfsup__image_cache_key(const selfsup__collection *c,
                                  const selfsup__image_format *fmt,
                                  int skip_bad, int *ok);

/* The dataset from the cache at path if it holds key (SELFSUP_OK), else
 * SELFSUP_ERR_STATE with nothing allocated and no message set (absent,
 * stale or damaged: decode and save). SELFSUP_ERR_OUT_OF_MEMORY is set as
 * usual. */
selfsup_status selfsup__image_cache_load(selfsup_dataset **out,
                                         const char *path, uint64_t key,
                                         const selfsup__image_format *fmt);

/* Writes d (made from a collection) under key, atomically. */
selfsup_status selfsup__image_cache_save(const selfsup_dataset *d,
                                         const char *path, uint64_t key);

#endif
