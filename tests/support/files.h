/* File helpers for the suites: scratch directories, whole-file reads
 * and writes, and a look at what a directory holds. */
#ifndef SELFSUP_TEST_FILES_H
#define SELFSUP_TEST_FILES_H

#include <stddef.h>

/* A new empty directory under $TMPDIR (or /tmp); free with remove_dir. */
char *make_scratch_dir(void);
/* Removes dir and the files in it (not recursive: the suites make none). */
void remove_dir(char *dir);
/* dir + "/" + name, malloc'd. */
char *path_in(const char *dir, const char *name);
/* The whole file, malloc'd; *size set. NULL if it cannot be read. */
unsigned char *read_whole_file(const char *path, size_t *size);
void write_whole_file(const char *path, const void *data, size_t size);
/* Entries of dir other than "." and ".."; *first gets the first name
 * (malloc'd, or NULL). */
int count_entries(const char *dir, char **first);
/* 1 if the file at path holds exactly size bytes equal to data. */
int file_equals(const char *path, const void *data, size_t size);

#endif
