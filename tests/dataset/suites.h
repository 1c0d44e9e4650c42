#ifndef SELFSUP_TEST_DATASET_SUITES_H
#define SELFSUP_TEST_DATASET_SUITES_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

TCase *idx_tcase(void);
TCase *idx_malformed_tcase(void);
TCase *dataset_tcase(void);
TCase *loader_tcase(void);
TCase *loader_alloc_tcase(void);
TCase *image_tcase(void);
TCase *collection_tcase(void);

/* A fresh empty directory for the files a test writes; removed with
 * everything in it by scratch_dir_remove. */
void scratch_dir_make(char *dir, size_t cap);
void scratch_dir_remove(const char *dir);

/* Writes an IDX file at dir/name: the magic, rank dims, then data (n
 * bytes), gzip-compressed when gz. Returns the path in path. */
void write_idx(char *path, size_t cap, const char *dir, const char *name,
               uint32_t magic, int rank, const uint32_t *dims,
               const uint8_t *data, size_t n, int gz);
/* Writes n raw bytes at dir/name. */
void write_bytes(char *path, size_t cap, const char *dir, const char *name,
                 const uint8_t *bytes, size_t n);

#endif
