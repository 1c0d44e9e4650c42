/* Every file the library writes goes through one writer (io/atomic_file.h)
 * and keeps one promise: whatever fails, and wherever, or if the process
 * is killed in the middle, the file that was there stays byte for byte (or
 * the new one is complete), and nothing else is left in the directory. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"
#include "io/atomic_file.h"
#include "test_support.h"

typedef struct writer {
    const char *name; /* the public call */
    selfsup_status (*write)(const char *path);
} writer;

static selfsup_learner *learner;
static selfsup_encoder *encoder;
static selfsup_tensor *features;
static int32_t labels[300];

static selfsup_status learner_save(const char *path)
{
    return selfsup_learner_save(learner, path);
}
static selfsup_status export_encoder(const char *path)
{
    return selfsup_learner_export_encoder(learner, path);
}
static selfsup_status encoder_save(const char *path)
{
    return selfsup_encoder_save(encoder, path);
}
static selfsup_status npy_write(const char *path)
{
    return selfsup_npy_write(path, features);
}
static selfsup_status npy_write_floats(const char *path)
{
    const int64_t dims[2] = {4, 5};
    return selfsup_npy_write_floats(path, 2, dims,
                                    selfsup_tensor_data(features));
}
static selfsup_status npy_write_labels(const char *path)
{
    return selfsup_npy_write_labels(path, labels, 300);
}

static const writer WRITERS[] = {
    {"selfsup_learner_save", learner_save},
    {"selfsup_learner_export_encoder", export_encoder},
    {"selfsup_encoder_save", encoder_save},
    {"selfsup_npy_write", npy_write},
    {"selfsup_npy_write_floats", npy_write_floats},
    {"selfsup_npy_write_labels", npy_write_labels},
};
enum { N_WRITERS = sizeof WRITERS / sizeof WRITERS[0] };

static void setup(void)
{
    selfsup_learner_config *c = NULL;
    ss_assert_ok(selfsup_learner_config_create(&c, "byol"));
    ss_assert_ok(selfsup_learner_config_set(c, "encoder",
                                            "resnet18:width=4,in_channels=1"));
    ss_assert_ok(
        selfsup_learner_config_set(c, "projector", "mlp:hidden=16,out=8"));
    ss_assert_ok(
        selfsup_learner_config_set(c, "predictor", "mlp:hidden=16,out=8"));
    ss_assert_ok(selfsup_learner_create(&learner, c));
    selfsup_learner_config_destroy(c);
    ss_assert_ok(selfsup_encoder_create(&encoder, "mlp:in=64,out=32", 3));
    const int64_t dims[2] = {3000, 40};
    ss_assert_ok(selfsup_tensor_create(&features, 2, dims));
    ss_assert_ok(selfsup_tensor_fill_uniform(features, 5, -1, 1));
    for (int i = 0; i < 300; i++)
        labels[i] = i % 7;
}

static void teardown(void)
{
    selfsup_learner_destroy(learner);
    selfsup_encoder_destroy(encoder);
    selfsup_tensor_destroy(features);
}

typedef struct scene {
    char *dir, *path;
    unsigned char *new_image;
    size_t new_size;
} scene;

static const char OLD[] = "the file the user had";

/* A directory holding the old file at path; the writer's output learned
 * by writing it once. */
static scene make_scene(const writer *w)
{
    scene s;
    s.dir = make_scratch_dir();
    s.path = path_in(s.dir, "target");
    ss_assert_ok(w->write(s.path));
    s.new_image = read_whole_file(s.path, &s.new_size);
    ck_assert_ptr_nonnull(s.new_image);
    write_whole_file(s.path, OLD, sizeof OLD);
    return s;
}

static void free_scene(scene *s)
{
    free(s->new_image);
    free(s->path);
    remove_dir(s->dir);
}

/* _i: writer i / 2, named temporaries when odd. */
START_TEST(every_failing_operation_keeps_the_old_file)
{
    const writer *w = &WRITERS[_i / 2];
    scene s = make_scene(w);
    selfsup__io_force_named_temp(_i % 2);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s: ", w->name);
    int failures = 0;
    for (long k = 1;; k++) {
        long before = selfsup__io_count();
        selfsup__io_fail_at(k);
        selfsup_status st = w->write(s.path);
        long used = selfsup__io_count() - before;
        selfsup__io_fail_at(0);
        if (used < k) { /* the fault was never reached */
            ss_assert_ok(st);
            ck_assert(file_equals(s.path, s.new_image, s.new_size));
            break;
        }
        const char *msg = selfsup_last_error();
        ck_assert_msg(st == SELFSUP_ERR_IO, "%s, operation %ld: %s: %s",
                      w->name, k, selfsup_status_string(st), msg);
        ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0 &&
                          strstr(msg, s.path),
                      "%s", msg);
        failures++;
        if (strstr(msg, "was saved, but")) {
            ck_assert(file_equals(s.path, s.new_image, s.new_size));
            write_whole_file(s.path, OLD, sizeof OLD);
        } else {
            ck_assert_msg(file_equals(s.path, OLD, sizeof OLD),
                          "%s, operation %ld: the old file changed", w->name,
                          k);
        }
        ck_assert_msg(count_entries(s.dir, NULL) == 1,
                      "%s, operation %ld left a file behind", w->name, k);
    }
    /* create, chmod, a write or more, fsync, (name), rename, close, the
     * directory's open and fsync */
    ck_assert_int_ge(failures, 8);
    selfsup__io_force_named_temp(0);
    free_scene(&s);
}
END_TEST

static long kill_at;

static void kill_at_operation(long operation)
{
    if (operation == kill_at)
        raise(SIGKILL);
}

/* A child killed before each of a save's operations in turn: the target
 * holds the old file or the complete new one; unnamed temporaries leave
 * nothing (but at the one operation between naming and renaming), named
 * ones are removed by the next save. _i as above. */
START_TEST(a_writer_killed_anywhere_leaves_nothing_that_piles_up)
{
    const writer *w = &WRITERS[_i / 2];
    int named = _i % 2;
    scene s = make_scene(w);
    /* a file system without O_TMPFILE makes every temporary named */
    if (!selfsup__io_unnamed_temporaries(s.dir))
        named = 1;
    int kills = 0, left_behind = 0;
    for (long k = 1;; k++) {
        fflush(NULL);
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
            selfsup__io_force_named_temp(named);
            kill_at = selfsup__io_count() + k;
            selfsup__io_set_observer(kill_at_operation);
            _exit(w->write(s.path) == SELFSUP_OK ? 0 : 1);
        }
        int status;
        ck_assert_int_eq(waitpid(child, &status, 0), child);
        if (WIFEXITED(status)) { /* the save ended before operation k */
            ck_assert_int_eq(WEXITSTATUS(status), 0);
            ck_assert(file_equals(s.path, s.new_image, s.new_size));
            ck_assert_int_eq(count_entries(s.dir, NULL), 1);
            break;
        }
        ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        kills++;
        ck_assert_msg(file_equals(s.path, OLD, sizeof OLD) ||
                          file_equals(s.path, s.new_image, s.new_size),
                      "%s killed at operation %ld: the target is neither "
                      "file",
                      w->name, k);
        left_behind += count_entries(s.dir, NULL) > 1;
        /* the next save clears what the dead writer left */
        ss_assert_ok(w->write(s.path));
        ck_assert_int_eq(count_entries(s.dir, NULL), 1);
        write_whole_file(s.path, OLD, sizeof OLD);
    }
    ck_assert_int_ge(kills, 6);
    if (named)
        ck_assert_int_ge(left_behind, kills - 4); /* create, close, dir */
    else
        ck_assert_int_le(left_behind, 1);
    free_scene(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("writers");
    TCase *tc = tcase_create("writers");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, every_failing_operation_keeps_the_old_file, 0,
                        2 * N_WRITERS);
    tcase_add_loop_test(tc,
                        a_writer_killed_anywhere_leaves_nothing_that_piles_up,
                        0, 2 * N_WRITERS);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
