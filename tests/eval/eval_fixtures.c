#include "eval_fixtures.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

selfsup_tensor *make_matrix(int64_t rows, int64_t cols, const float *values)
{
    int64_t dims[2] = {rows, cols};
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 2, dims));
    if (values)
        ss_assert_ok(selfsup_tensor_write(t, values, rows * cols));
    return t;
}

void golden_ints(const ss_golden *g, const char *name, int32_t *dst,
                 int64_t count)
{
    const float *v = ss_golden_get(g, name, count);
    for (int64_t i = 0; i < count; i++)
        dst[i] = (int32_t)v[i];
}

eval_fixture *eval_fixture_load(void)
{
    eval_fixture *f = calloc(1, sizeof *f);
    f->golden = ss_golden_load("eval.txt");
    f->x_train =
        make_matrix(REF_TRAIN, REF_DIM,
                    ss_golden_get(f->golden, "x_train", REF_TRAIN * REF_DIM));
    f->x_test =
        make_matrix(REF_TEST, REF_DIM,
                    ss_golden_get(f->golden, "x_test", REF_TEST * REF_DIM));
    golden_ints(f->golden, "y_train", f->y_train, REF_TRAIN);
    golden_ints(f->golden, "y_test", f->y_test, REF_TEST);
    return f;
}

void eval_fixture_free(eval_fixture *f)
{
    if (!f)
        return;
    selfsup_tensor_destroy(f->x_train);
    selfsup_tensor_destroy(f->x_test);
    ss_golden_free(f->golden);
    free(f);
}

void make_temp_dir(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/selfsup-eval-XXXXXX");
    ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp failed");
}

void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (unlink(child) != 0)
            remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}
