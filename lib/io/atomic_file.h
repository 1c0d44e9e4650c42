/* Internal: the one way the library writes a file (checkpoints, encoder
 * exports, .npy).
 *
 * Readers of the target see the old file or the complete new one, never a
 * part: the bytes go to a file that has no name yet, which commit fsyncs,
 * names and renames over the target, then fsyncs the directory so that the
 * rename survives a crash. Where the file system can (Linux O_TMPFILE), the
 * file stays unnamed until commit, so a process killed mid-write (SIGKILL,
 * power loss) leaves nothing behind (but in the instant between naming it
 * and the rename); elsewhere it is a named temporary,
 * "<target>.tmp-<pid>-<n>", from the start. Every write beside a target
 * first removes the temporaries of that target whose process is gone.
 *
 * Policy: a new file gets 0666 less the umask, a replaced one keeps its
 * permissions. Every failure before the rename leaves the target as it was
 * and no temporary behind (SELFSUP_ERR_IO, naming the target, the step and
 * the system's reason). A failed directory fsync after the rename is an
 * error too (the file is in place but may not survive a crash), except on
 * file systems that cannot sync a directory at all. */
#ifndef SELFSUP_IO_ATOMIC_FILE_H
#define SELFSUP_IO_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "selfsup/status.h"

typedef struct selfsup__atomic_file selfsup__atomic_file;

/* Starts a file that commit will place at path. where names the public
 * call in messages and must outlive the file. */
selfsup_status selfsup__atomic_create(selfsup__atomic_file **out,
                                      const char *path, const char *where);

/* Appends size bytes (retrying short writes). A failure abandons the
 * file: every later call fails with SELFSUP_ERR_STATE. */
selfsup_status selfsup__atomic_write(selfsup__atomic_file *f, const void *data,
                                     size_t size);

/* Moves the write position to byte `at` from the start (to rewrite a
 * header written before its contents were known); the same failure rule. */
selfsup_status selfsup__atomic_seek(selfsup__atomic_file *f, uint64_t at);

/* fsync, name, rename over the target, fsync of the directory. */
selfsup_status selfsup__atomic_commit(selfsup__atomic_file *f);

/* Frees f; an uncommitted file is discarded. NULL is accepted. */
void selfsup__atomic_destroy(selfsup__atomic_file *f);

/* The target path. */
const char *selfsup__atomic_path(const selfsup__atomic_file *f);
/* 1 once the file is in place (also when only the directory fsync after
 * the rename failed). */
int selfsup__atomic_committed(const selfsup__atomic_file *f);

/* ---- test hooks --------------------------------------------------------- */

/* After selfsup__io_fail_at(k), k >= 1, the k-th file-system operation of
 * any writer from now (create, chmod, write, seek, fsync, close, link,
 * rename, directory open and fsync) fails once with EIO; 0 disarms. */
void selfsup__io_fail_at(long k);
/* File-system operations the writers have attempted since the process
 * started. */
long selfsup__io_count(void);
/* Called with the operation's number before each operation (NULL: none),
 * e.g. to kill the process in the middle of a save. */
void selfsup__io_set_observer(void (*observer)(long operation));
/* 1 makes writers use named temporaries even where the file system could
 * keep them unnamed, to test the clean-up of what a killed writer left. */
void selfsup__io_force_named_temp(int on);

/* 1 when a writer in dir keeps its file unnamed until commit (O_TMPFILE
 * and /proc are there, and no named temporaries are forced). */
int selfsup__io_unnamed_temporaries(const char *dir);

/* Counts one operation; 1 when the armed failure falls on it (errno is
 * then EIO). For the writers' own system calls. */
int selfsup__io_fault(void);

#endif
