#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "suites.h"
#include "test_support.h"

void scratch_dir_make(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/selfsup-dataset-XXXXXX", tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

void scratch_dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

void write_bytes(char *path, size_t cap, const char *dir, const char *name,
                 const uint8_t *bytes, size_t n)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

void write_idx(char *path, size_t cap, const char *dir, const char *name,
               uint32_t magic, int rank, const uint32_t *dims,
               const uint8_t *data, size_t n, int gz)
{
    size_t size = 4 + 4 * (size_t)rank + n;
    uint8_t *file = malloc(size);
    for (int i = 0; i <= rank; i++) {
        uint32_t v = i == 0 ? magic : dims[i - 1];
        file[4 * i] = (uint8_t)(v >> 24);
        file[4 * i + 1] = (uint8_t)(v >> 16);
        file[4 * i + 2] = (uint8_t)(v >> 8);
        file[4 * i + 3] = (uint8_t)v;
    }
    if (n)
        memcpy(file + 4 + 4 * rank, data, n);
    if (!gz) {
        write_bytes(path, cap, dir, name, file, size);
    } else {
        snprintf(path, cap, "%s/%s", dir, name);
        gzFile g = gzopen(path, "wb");
        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(gzwrite(g, file, (unsigned)size), (int)size);
        ck_assert_int_eq(gzclose(g), Z_OK);
    }
    free(file);
}

int main(void)
{
    Suite *s = suite_create("dataset");
    suite_add_tcase(s, idx_tcase());
    suite_add_tcase(s, idx_malformed_tcase());
    suite_add_tcase(s, dataset_tcase());
    suite_add_tcase(s, loader_tcase());
    suite_add_tcase(s, loader_alloc_tcase());
    suite_add_tcase(s, image_tcase());
    suite_add_tcase(s, collection_tcase());
    return ss_run_suite(s);
}
