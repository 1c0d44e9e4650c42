/* Atomic saving: whatever fails, and wherever, the checkpoint that was
 * there stays byte for byte, and no temporary file is left behind. */
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/error.h"
#include "core/rng.h"
#include "io/atomic_file.h"
#include "files.h"
#include "sample_checkpoint.h"
#include "suites.h"
#include "test_support.h"

enum { NEW_FLOATS = 200000 }; /* several of the writer's output chunks */

typedef struct save_ctx {
    char *dir, *path;
    unsigned char *old; /* the checkpoint in place before each save */
    size_t old_size;
    unsigned char *new; /* what save_new writes (deterministic) */
    size_t new_size;
    float *values;
} save_ctx;

static selfsup_status save_new(const save_ctx *c);
static void learn_new_image(save_ctx *c);

static void setup(save_ctx *c)
{
    c->dir = make_scratch_dir();
    c->path = path_in(c->dir, "run.ckpt");
    write_sample(c->path);
    c->old = read_whole_file(c->path, &c->old_size);
    c->values = malloc(NEW_FLOATS * sizeof(float));
    selfsup__rng r;
    selfsup__rng_init(&r, 9, 0);
    for (int i = 0; i < NEW_FLOATS; i++)
        c->values[i] = selfsup__rng_uniform(&r);
    learn_new_image(c);
}

/* Saves once to learn the new image, then puts the old one back. */
static void learn_new_image(save_ctx *c)
{
    ss_assert_ok(save_new(c));
    selfsup__ckpt_reader *r;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, c->path, NULL));
    const char *spec;
    ss_assert_ok(selfsup__ckpt_get_string(r, "spec", &spec));
    ck_assert_str_eq(spec, "new");
    selfsup__ckpt_reader_close(r);
    c->new = read_whole_file(c->path, &c->new_size);
    write_whole_file(c->path, c->old, c->old_size);
}

static void teardown(save_ctx *c)
{
    free(c->new);
    free(c->values);
    free(c->old);
    free(c->path);
    remove_dir(c->dir);
}

/* A save of new contents over the old checkpoint. */
static selfsup_status save_new(const save_ctx *c)
{
    selfsup__ckpt_writer *w = NULL;
    SS_TRY(selfsup__ckpt_writer_create(&w, c->path, -1, NULL));
    selfsup_status s =
        selfsup__ckpt_put_f32(w, "params", c->values, NEW_FLOATS);
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_put_string(w, "spec", "new");
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_writer_commit(w);
    selfsup__ckpt_writer_destroy(w);
    return s;
}

static void assert_old_in_place(const save_ctx *c, const char *when)
{
    char *other = NULL;
    int entries = count_entries(c->dir, &other);
    ck_assert_msg(entries == 1, "%s: %d files in the directory (%s ...)", when,
                  entries, other ? other : "");
    free(other);
    ck_assert_msg(file_equals(c->path, c->old, c->old_size),
                  "%s: the old checkpoint changed", when);
}

/* Compares bytes (no allocation through the library, so that it can run
 * inside an allocation-failure sweep). */
static void assert_new_in_place(const save_ctx *c)
{
    ck_assert_int_eq(count_entries(c->dir, NULL), 1);
    ck_assert_msg(file_equals(c->path, c->new, c->new_size),
                  "the new checkpoint is not in place");
}

START_TEST(missing_directory_is_an_io_error)
{
    save_ctx c;
    setup(&c);
    char *path = path_in(c.dir, "no/such/dir/x.ckpt");
    selfsup__ckpt_writer *w = NULL;
    ss_assert_fails(selfsup__ckpt_writer_create(&w, path, -1, NULL),
                    SELFSUP_ERR_IO, "cannot create the new file");
    ck_assert(strstr(selfsup_last_error(), "No such file or directory"));
    ck_assert_ptr_null(w);
    assert_old_in_place(&c, "missing directory");
    free(path);
    teardown(&c);
}
END_TEST

/* A directory where even root cannot create a file: a mounted sysfs or
 * procfs, told from an empty mount point (a chroot's /sys) by its type. */
static const char *kernel_fs_refusing_new_files(void)
{
    static const struct {
        const char *dir;
        long magic;
    } fs[] = {{"/sys", SYSFS_MAGIC}, {"/proc", PROC_SUPER_MAGIC}};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        struct statfs st;
        if (statfs(fs[i].dir, &st) == 0 && (long)st.f_type == fs[i].magic)
            return fs[i].dir;
    }
    return NULL;
}

START_TEST(read_only_directory_is_an_io_error)
{
    save_ctx c;
    setup(&c);
    if (geteuid() != 0) {
        ck_assert(chmod(c.dir, 0555) == 0);
        ss_assert_fails(save_new(&c), SELFSUP_ERR_IO,
                        "cannot create a temporary file in");
        ck_assert(chmod(c.dir, 0755) == 0);
        assert_old_in_place(&c, "read-only directory");
    } else {
        /* Permissions do not stop root; sysfs and procfs refuse new files
         * to root too. (The old file's survival is tested by the fault
         * sweeps.) */
        const char *dir = kernel_fs_refusing_new_files();
        if (!dir) {
            fprintf(stderr, "read_only_directory_is_an_io_error: skipped: "
                            "running as root with neither sysfs nor procfs "
                            "mounted, no read-only directory to test with\n");
        } else {
            char *path = path_in(dir, "selfsup.ckpt");
            char want[64];
            snprintf(want, sizeof want, "%s: cannot create the new file", path);
            selfsup__ckpt_writer *w = NULL;
            ss_assert_fails(selfsup__ckpt_writer_create(&w, path, -1, NULL),
                            SELFSUP_ERR_IO, want);
            ck_assert_ptr_null(w);
            free(path);
        }
    }
    teardown(&c);
}
END_TEST

START_TEST(io_failure_anywhere_keeps_the_old_checkpoint)
{
    save_ctx c;
    setup(&c);
    int failures = 0, after_rename = 0;
    for (long k = 1;; k++) {
        long before = selfsup__io_count();
        selfsup__io_fail_at(k);
        selfsup_status s = save_new(&c);
        long used = selfsup__io_count() - before;
        selfsup__io_fail_at(0);
        if (used < k) { /* the fault was never reached */
            ss_assert_ok(s);
            assert_new_in_place(&c);
            break;
        }
        ck_assert_msg(s == SELFSUP_ERR_IO, "I/O operation %ld failing: %s", k,
                      selfsup_status_string(s));
        ck_assert(strstr(selfsup_last_error(), c.path) != NULL);
        failures++;
        if (strstr(selfsup_last_error(), "was saved, but")) {
            /* only the directory sync, after the rename, failed */
            after_rename++;
            assert_new_in_place(&c);
            write_whole_file(c.path, c.old, c.old_size);
        } else {
            ck_assert_msg(strstr(selfsup_last_error(), "Input/output error"),
                          "%s", selfsup_last_error());
            assert_old_in_place(&c, selfsup_last_error());
        }
    }
    /* create, chmod, header, 2 x (reserve, payload writes, seek, header,
     * seek), end, fsync, name, rename, close, dir open, dir fsync */
    ck_assert_int_ge(failures, 20);
    ck_assert_int_eq(after_rename, 3); /* close, directory open, fsync */
    teardown(&c);
}
END_TEST

static selfsup_status save_new_checked(void *ctx)
{
    const save_ctx *c = ctx;
    selfsup_status s = save_new(c);
    if (s != SELFSUP_OK) {
        assert_old_in_place(c, selfsup_last_error());
    } else {
        assert_new_in_place(c);
        write_whole_file(c->path, c->old, c->old_size);
    }
    return s;
}

START_TEST(allocation_failure_anywhere_keeps_the_old_checkpoint)
{
    save_ctx c;
    setup(&c);
    /* writer, paths, output chunk, zlib's deflate state and buffers,
     * section names */
    ck_assert_int_ge(ss_sweep_alloc_failures(save_new_checked, &c, SELFSUP_OK),
                     9);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
    teardown(&c);
}
END_TEST

/* Loop 0: the file has no name until commit (O_TMPFILE); loop 1: it is a
 * named temporary from the start, as on file systems without O_TMPFILE. */
START_TEST(an_abandoned_save_leaves_nothing)
{
    save_ctx c;
    setup(&c);
    selfsup__io_force_named_temp(_i);
    selfsup__ckpt_writer *w;
    ss_assert_ok(selfsup__ckpt_writer_create(&w, c.path, -1, NULL));
    ss_assert_ok(selfsup__ckpt_put_f32(w, "params", c.values, NEW_FLOATS));
    /* the file shows only when it has a name: forced, or on a file
     * system without O_TMPFILE */
    int unnamed = selfsup__io_unnamed_temporaries(c.dir);
    ck_assert_int_eq(count_entries(c.dir, NULL), unnamed ? 1 : 2);
    if (_i == 0 && !unnamed)
        fprintf(stderr,
                "an_abandoned_save_leaves_nothing: %s has no "
                "O_TMPFILE: named temporaries checked only\n",
                c.dir);
    selfsup__ckpt_writer_destroy(w);
    selfsup__io_force_named_temp(0);
    assert_old_in_place(&c, "abandoned");
    teardown(&c);
}
END_TEST

START_TEST(a_failed_writer_refuses_more_work)
{
    save_ctx c;
    setup(&c);
    selfsup__ckpt_writer *w;
    long before = selfsup__io_count();
    ss_assert_ok(selfsup__ckpt_writer_create(&w, c.path, -1, NULL));
    long create_ops = selfsup__io_count() - before;
    selfsup__io_fail_at(1); /* the next operation: the first write */
    ss_assert_fails(selfsup__ckpt_put_f32(w, "params", c.values, 10),
                    SELFSUP_ERR_IO, "cannot write the new file");
    selfsup__io_fail_at(0);
    ck_assert_int_eq(create_ops, 3);       /* create, fchmod, header */
    assert_old_in_place(&c, "failed put"); /* removed at once */
    ss_assert_fails(selfsup__ckpt_put_f32(w, "more", c.values, 10),
                    SELFSUP_ERR_STATE, "an earlier failure abandoned");
    ss_assert_fails(selfsup__ckpt_writer_commit(w), SELFSUP_ERR_STATE,
                    "start a new writer");
    selfsup__ckpt_writer_destroy(w);
    assert_old_in_place(&c, "after destroy");
    teardown(&c);
}
END_TEST

TCase *checkpoint_save_tcase(void)
{
    TCase *tc = tcase_create("checkpoint_save");
    tcase_add_test(tc, missing_directory_is_an_io_error);
    tcase_add_test(tc, read_only_directory_is_an_io_error);
    tcase_add_test(tc, io_failure_anywhere_keeps_the_old_checkpoint);
    tcase_add_test(tc, allocation_failure_anywhere_keeps_the_old_checkpoint);
    tcase_add_loop_test(tc, an_abandoned_save_leaves_nothing, 0, 2);
    tcase_add_test(tc, a_failed_writer_refuses_more_work);
    return tc;
}
