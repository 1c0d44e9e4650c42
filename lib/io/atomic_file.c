/* Atomic file writing: an unnamed (or, failing that, named) temporary
 * beside the target, renamed over it at commit. See atomic_file.h. */
#define _GNU_SOURCE /* O_TMPFILE */
#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fault.h"

enum { NAME_ATTEMPTS = 100, REASON_MAX = 128 };

struct selfsup__atomic_file {
    const char *where;
    char *path;      /* the target */
    char *dir_path;  /* its directory, fsynced after the rename */
    char *temp_path; /* the temporary's name, once it has one */
    int fd;
    int named;  /* the temporary has a name in the directory */
    int broken; /* a failure abandoned the file */
    int committed;
};

/* ---- operations and their fault hook ------------------------------------ */

static selfsup__fault io_fault;
static void (*_Atomic io_observer)(long);
static atomic_int force_named;
static atomic_uint temp_counter;

int selfsup__io_fault(void)
{
    long op = selfsup__fault_next(&io_fault);
    void (*observer)(long) = atomic_load(&io_observer);
    if (observer)
        observer(op);
    if (!selfsup__fault_fires(&io_fault))
        return 0;
    errno = EIO;
    return 1;
}

void selfsup__io_fail_at(long k)
{
    selfsup__fault_arm(&io_fault, k);
}

long selfsup__io_count(void)
{
    return selfsup__fault_count(&io_fault);
}

void selfsup__io_set_observer(void (*observer)(long operation))
{
    atomic_store(&io_observer, observer);
}

void selfsup__io_force_named_temp(int on)
{
    atomic_store(&force_named, on != 0);
}

/* ---- helpers ------------------------------------------------------------ */

static void describe_errno(int e, char *buf, size_t size)
{
    /* _GNU_SOURCE (above) gives the GNU strerror_r, which returns the text
     * and may leave buf alone */
    const char *text = strerror_r(e, buf, size);
    if (!text)
        snprintf(buf, size, "error %d", e);
    else if (text != buf)
        snprintf(buf, size, "%s", text);
}

static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return selfsup__strdup(".");
    if (slash == path)
        return selfsup__strdup("/");
    size_t n = (size_t)(slash - path);
    char *dir = selfsup__malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* Closes and removes the temporary; the target is never touched. */
static void discard(selfsup__atomic_file *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (f->named) {
        unlink(f->temp_path);
        f->named = 0;
    }
}

/* A failed step (errno set): the file is abandoned. */
static selfsup_status io_failure(selfsup__atomic_file *f, const char *what)
{
    char reason[REASON_MAX];
    describe_errno(errno, reason, sizeof reason);
    f->broken = 1;
    discard(f);
    return selfsup__fail(SELFSUP_ERR_IO, f->where, "%s: cannot %s: %s", f->path,
                         what, reason);
}

/* "<path>.tmp-<pid>-<n>" */
static void temp_name(const selfsup__atomic_file *f, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.tmp-%ld-%u", f->path, (long)getpid(),
             atomic_fetch_add(&temp_counter, 1));
}

/* Removes the named temporaries of target base in dir whose writer
 * process no longer exists: what a killed writer left behind. */
static void remove_stale_temporaries(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t n = strlen(base);
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp-", 5) != 0)
            continue;
        char *end;
        long pid = strtol(name + n + 5, &end, 10);
        if (pid <= 0 || *end != '-' || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge */
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) <
            sizeof path)
            unlink(path);
    }
    closedir(d);
}

/* An unnamed file in the directory, where the kernel and /proc allow
 * naming it later; -1 (errno set) otherwise. */
static int open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
    if (atomic_load(&force_named) || access("/proc/self/fd", X_OK) != 0) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
    (void)dir;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

int selfsup__io_unnamed_temporaries(const char *dir)
{
    int fd = open_unnamed(dir);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

static selfsup_status open_temp(selfsup__atomic_file *f)
{
    int fd = -1;
    const char *slash = strrchr(f->path, '/');
    remove_stale_temporaries(f->dir_path, slash ? slash + 1 : f->path);
    if (selfsup__io_fault())
        return io_failure(f, "create the new file");
    fd = open_unnamed(f->dir_path);
    if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return io_failure(f, "create the new file");
    if (fd < 0) {
        for (int attempt = 0; fd < 0 && attempt < NAME_ATTEMPTS; attempt++) {
            temp_name(f, f->temp_path, strlen(f->path) + 48);
            fd = open(f->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                      0666);
            if (fd < 0 && errno != EEXIST)
                break;
        }
        if (fd < 0)
            return io_failure(f, "create the new file");
        f->named = 1;
    }
    f->fd = fd;
    /* A replaced file keeps its permissions; a new one has the umask's. */
    struct stat st;
    if (stat(f->path, &st) == 0 && S_ISREG(st.st_mode) &&
        (selfsup__io_fault() || fchmod(fd, st.st_mode & 07777) != 0))
        return io_failure(f, "set the permissions of the new file");
    return SELFSUP_OK;
}

/* ---- the public face of the module -------------------------------------- */

selfsup_status selfsup__atomic_create(selfsup__atomic_file **out,
                                      const char *path, const char *where)
{
    if (!path || !path[0])
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where, "path is %s",
                             path ? "empty" : "NULL");
    selfsup__atomic_file *f = selfsup__calloc(1, sizeof *f);
    if (!f)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the writer of %s", path);
    f->where = where;
    f->fd = -1;
    f->path = selfsup__strdup(path);
    f->dir_path = directory_of(path);
    f->temp_path = selfsup__malloc(strlen(path) + 48);
    if (!f->path || !f->dir_path || !f->temp_path) {
        selfsup__atomic_destroy(f);
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the writer of %s", path);
    }
    selfsup_status s = open_temp(f);
    if (s != SELFSUP_OK) {
        selfsup__atomic_destroy(f);
        return s;
    }
    *out = f;
    return SELFSUP_OK;
}

static selfsup_status check_usable(const selfsup__atomic_file *f)
{
    if (f->broken || f->committed)
        return selfsup__fail(
            SELFSUP_ERR_STATE, f->where, "%s: the file was %s", f->path,
            f->committed ? "already committed" : "abandoned after a failure");
    return SELFSUP_OK;
}

selfsup_status selfsup__atomic_write(selfsup__atomic_file *f, const void *data,
                                     size_t size)
{
    SS_TRY(check_usable(f));
    const unsigned char *p = data;
    if (selfsup__io_fault())
        return io_failure(f, "write the new file");
    while (size > 0) {
        ssize_t n = write(f->fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return io_failure(f, "write the new file");
        }
        p += n;
        size -= (size_t)n;
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__atomic_seek(selfsup__atomic_file *f, uint64_t at)
{
    SS_TRY(check_usable(f));
    if (selfsup__io_fault() || lseek(f->fd, (off_t)at, SEEK_SET) < 0)
        return io_failure(f, "seek in the new file");
    return SELFSUP_OK;
}

/* fsync of the directory makes the rename itself durable. */
static selfsup_status sync_directory(selfsup__atomic_file *f)
{
    int fd = selfsup__io_fault()
                 ? -1
                 : open(f->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int failed = fd < 0;
    if (!failed && (selfsup__io_fault() || fsync(fd) != 0))
        /* Some file systems cannot sync a directory; that is no failure. */
        failed = errno != EINVAL && errno != ENOTSUP;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (!failed)
        return SELFSUP_OK;
    char reason[REASON_MAX];
    describe_errno(e, reason, sizeof reason);
    return selfsup__fail(SELFSUP_ERR_IO, f->where,
                         "%s was saved, but its directory %s could not be "
                         "synced, so the rename may not survive a crash: %s",
                         f->path, f->dir_path, reason);
}

selfsup_status selfsup__atomic_commit(selfsup__atomic_file *f)
{
    SS_TRY(check_usable(f));
    if (selfsup__io_fault() || fsync(f->fd) != 0)
        return io_failure(f, "fsync the new file");
    if (!f->named) {
        /* the unnamed file gets its name only now, complete and synced,
         * and keeps it only until the rename just below */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
        temp_name(f, f->temp_path, strlen(f->path) + 48);
        if (selfsup__io_fault() || linkat(AT_FDCWD, proc, AT_FDCWD,
                                          f->temp_path, AT_SYMLINK_FOLLOW) != 0)
            return io_failure(f, "name the new file");
        f->named = 1;
    }
    if (selfsup__io_fault() || rename(f->temp_path, f->path) != 0)
        return io_failure(f, "rename the new file over it");
    f->named = 0;
    f->committed = 1;
    /* The bytes are synced and in place: a failing close can only be
     * reported. */
    int fault = selfsup__io_fault();
    int closed = close(f->fd) == 0;
    f->fd = -1;
    if (fault || !closed) {
        char reason[REASON_MAX];
        describe_errno(errno, reason, sizeof reason);
        return selfsup__fail(SELFSUP_ERR_IO, f->where,
                             "%s was saved, but closing it failed: %s", f->path,
                             reason);
    }
    return sync_directory(f);
}

void selfsup__atomic_destroy(selfsup__atomic_file *f)
{
    if (!f)
        return;
    discard(f);
    selfsup__free(f->temp_path);
    selfsup__free(f->dir_path);
    selfsup__free(f->path);
    selfsup__free(f);
}

const char *selfsup__atomic_path(const selfsup__atomic_file *f)
{
    return f->path;
}

int selfsup__atomic_committed(const selfsup__atomic_file *f)
{
    return f->committed;
}
