/* Internal: the checkpoint container, a generic file of named, typed,
 * zlib-compressed sections (byte layout in docs/checkpoint-format.md).
 *
 * The container knows nothing of networks or optimizers: the learner decides
 * which sections a checkpoint holds ("online.params", "optimizer.momentum",
 * "step", ...). Writing is atomic (io/atomic_file.h): sections stream into
 * a file that has no name in the target's directory until
 * selfsup__ckpt_writer_commit renames it over the target, so an existing
 * checkpoint is never damaged by a failed or interrupted save. Reading
 * validates the whole file at open (magic, version, every CRC and length, every
 * zlib stream), so the getters that follow can only fail on what the caller
 * asks for (a missing name, a wrong type or count), and then before writing
 * anything. */
#ifndef SELFSUP_TRAIN_CHECKPOINT_FILE_H
#define SELFSUP_TRAIN_CHECKPOINT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "selfsup/status.h"

enum {
    SELFSUP__CKPT_FORMAT_VERSION = 1,
    SELFSUP__CKPT_NAME_MAX = 255 /* bytes of a section name */
};

/* What a section holds; the payload is the little-endian array. */
typedef enum selfsup__ckpt_type {
    SELFSUP__CKPT_BYTES = 1,
    SELFSUP__CKPT_F32 = 2,
    SELFSUP__CKPT_F64 = 3,
    SELFSUP__CKPT_I64 = 4,
    SELFSUP__CKPT_U64 = 5,
    SELFSUP__CKPT_STRING = 6 /* bytes without NUL; getters add one */
} selfsup__ckpt_type;

/* "f32", "string", ...; "?" for a value outside the enum. */
const char *selfsup__ckpt_type_name(selfsup__ckpt_type type);

/* ---- writing ---------------------------------------------------------- */

typedef struct selfsup__ckpt_writer selfsup__ckpt_writer;

/* Starts a checkpoint that commit will place at path: creates the file
 * (atomic_file.h) and writes the header. level is the
 * zlib level 0..9 for every section, or -1 for the default: zlib's
 * run-length strategy for numeric sections (as small as level 1 on
 * parameters, which barely compress, and about 3 times faster; zeros
 * shrink 1000:1) and level 1 for strings and bytes. where
 * names the public function in messages (NULL: this one) and must outlive
 * the writer. SELFSUP_ERR_IO when the directory is missing or not
 * writable. */
selfsup_status selfsup__ckpt_writer_create(selfsup__ckpt_writer **out,
                                           const char *path, int level,
                                           const char *where);

/* Appends one section. Names are 1..255 printable ASCII characters (no
 * space), unique within the file. An argument error leaves the writer
 * usable; an I/O or allocation failure while writing removes the temporary
 * file and makes every later call on the writer fail with
 * SELFSUP_ERR_STATE. */
selfsup_status selfsup__ckpt_put_f32(selfsup__ckpt_writer *w, const char *name,
                                     const float *values, int64_t count);
selfsup_status selfsup__ckpt_put_f64(selfsup__ckpt_writer *w, const char *name,
                                     const double *values, int64_t count);
selfsup_status selfsup__ckpt_put_i64(selfsup__ckpt_writer *w, const char *name,
                                     const int64_t *values, int64_t count);
selfsup_status selfsup__ckpt_put_u64(selfsup__ckpt_writer *w, const char *name,
                                     const uint64_t *values, int64_t count);
selfsup_status selfsup__ckpt_put_bytes(selfsup__ckpt_writer *w,
                                       const char *name, const void *bytes,
                                       int64_t size);
/* text is NUL-terminated; the terminator is not stored. */
selfsup_status selfsup__ckpt_put_string(selfsup__ckpt_writer *w,
                                        const char *name, const char *text);

/* Finishes the file and publishes it: end record, then
 * selfsup__atomic_commit (fsync, rename over the target, fsync of the
 * directory). Before the rename any failure removes
 * the temporary file and leaves the target as it was (SELFSUP_ERR_IO). If
 * only the final directory fsync fails, the new checkpoint is in place but
 * its durability is not guaranteed; that too is SELFSUP_ERR_IO, saying so. */
selfsup_status selfsup__ckpt_writer_commit(selfsup__ckpt_writer *w);

/* Frees the writer; an uncommitted temporary file is removed. NULL is
 * accepted. */
void selfsup__ckpt_writer_destroy(selfsup__ckpt_writer *w);

/* ---- reading ---------------------------------------------------------- */

typedef struct selfsup__ckpt_reader selfsup__ckpt_reader;

/* Reads and validates the checkpoint at path; every section is decoded into
 * memory. SELFSUP_ERR_IO if it cannot be read, SELFSUP_ERR_CORRUPT for
 * anything malformed ("not a libselfsup checkpoint", a CRC or length that
 * does not match, a zlib error, a duplicate section, a truncated file),
 * SELFSUP_ERR_VERSION for a format version this library does not read; the
 * message names the file and, where it applies, the section. Nothing is
 * allocated beyond what the file's actual size can justify. where names the
 * public function in messages (NULL: this one) and must outlive the
 * reader. */
selfsup_status selfsup__ckpt_reader_open(selfsup__ckpt_reader **out,
                                         const char *path, const char *where);

/* The same for a checkpoint already in memory (size bytes at data, which
 * need not outlive the call); label names it in messages. */
selfsup_status selfsup__ckpt_reader_open_memory(selfsup__ckpt_reader **out,
                                                const void *data, size_t size,
                                                const char *label,
                                                const char *where);

/* NULL is accepted. */
void selfsup__ckpt_reader_close(selfsup__ckpt_reader *r);

/* The format version and the library version (SELFSUP_VERSION_NUMBER) that
 * wrote the file. */
uint32_t selfsup__ckpt_reader_format_version(const selfsup__ckpt_reader *r);
uint32_t selfsup__ckpt_reader_writer_version(const selfsup__ckpt_reader *r);

/* Sections in file order: i in [0, count). */
int selfsup__ckpt_section_count(const selfsup__ckpt_reader *r);
const char *selfsup__ckpt_section_name(const selfsup__ckpt_reader *r, int i);
selfsup__ckpt_type selfsup__ckpt_section_type(const selfsup__ckpt_reader *r,
                                              int i);
/* Elements (bytes for BYTES and STRING). */
int64_t selfsup__ckpt_section_length(const selfsup__ckpt_reader *r, int i);
/* The section's decoded payload (a STRING is NUL-terminated), valid until
 * the reader is closed. */
const void *selfsup__ckpt_section_data(const selfsup__ckpt_reader *r, int i);
/* The index of the section called name, or -1. */
int selfsup__ckpt_find(const selfsup__ckpt_reader *r, const char *name);

/* Copies the section called name, which must exist (else
 * SELFSUP_ERR_CORRUPT), have this type (SELFSUP_ERR_CORRUPT) and hold
 * exactly count elements (SELFSUP_ERR_SHAPE); dst is untouched on failure. */
selfsup_status selfsup__ckpt_get_f32(const selfsup__ckpt_reader *r,
                                     const char *name, float *dst,
                                     int64_t count);
selfsup_status selfsup__ckpt_get_f64(const selfsup__ckpt_reader *r,
                                     const char *name, double *dst,
                                     int64_t count);
selfsup_status selfsup__ckpt_get_i64(const selfsup__ckpt_reader *r,
                                     const char *name, int64_t *dst,
                                     int64_t count);
selfsup_status selfsup__ckpt_get_u64(const selfsup__ckpt_reader *r,
                                     const char *name, uint64_t *dst,
                                     int64_t count);
selfsup_status selfsup__ckpt_get_bytes(const selfsup__ckpt_reader *r,
                                       const char *name, void *dst,
                                       int64_t size);
/* *text points into the reader (valid until close). */
selfsup_status selfsup__ckpt_get_string(const selfsup__ckpt_reader *r,
                                        const char *name, const char **text);

/* Checks that the section called name exists with this type and count,
 * without copying (the same errors as the getters). count < 0 accepts any
 * length. Lets a loader validate every section before it changes state. */
selfsup_status selfsup__ckpt_expect(const selfsup__ckpt_reader *r,
                                    const char *name, selfsup__ckpt_type type,
                                    int64_t count);

/* The writer's file-system operations go through io/atomic_file.h, whose
 * fault hooks (selfsup__io_fail_at, ...) the tests arm. */

#endif
