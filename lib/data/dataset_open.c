/* selfsup_dataset_open: one call for every kind of collection, named by a
 * spec or detected from what the path holds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/spec.h"
#include "dataset_impl.h"
#include "image_cache.h"
#include "image_dataset.h"

enum kind {
    KIND_AUTO,
    KIND_FOLDER,
    KIND_LIST,
    KIND_CIFAR10,
    KIND_CIFAR100,
    KIND_IDX,
    KIND_COUNT
};
static const char *const kind_names[KIND_COUNT] = {
    "auto", "folder", "list", "cifar10", "cifar100", "idx"};

#define DEFAULT_SIZE       32
#define DEFAULT_MAX_PIXELS ((int64_t)1 << 28)

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_entry(const char *dir, const char *name, char *joined,
                     size_t cap)
{
    int n = snprintf(joined, cap, "%s/%s", dir, name);
    struct stat st;
    return n > 0 && (size_t)n < cap && stat(joined, &st) == 0;
}

/* What path holds; *dir the folder to read (a CIFAR archive's folder when
 * path holds the extracted archive). */
static selfsup_status detect(const char *path, enum kind *kind, char *dir,
                             size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return SS_FAIL(SELFSUP_ERR_IO, "%s: %s", path, strerror(errno));
    snprintf(dir, cap, "%s", path);
    if (!S_ISDIR(st.st_mode)) {
        /* one image is not a collection (and read as a list, its bytes
         * would make nonsense paths) */
        const char *slash = strrchr(path, '/');
        if (selfsup__collection_is_image_name(slash ? slash + 1 : path))
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "%s is one image, not a collection: give its "
                           "folder, or a list file naming it",
                           path);
        *kind = KIND_LIST;
        return SELFSUP_OK;
    }
    char probe[4096];
    static const struct {
        const char *name;
        enum kind kind;
        int descend;
    } signs[] = {
        {"train-images-idx3-ubyte.gz", KIND_IDX, 0},
        {"t10k-images-idx3-ubyte.gz", KIND_IDX, 0},
        {"data_batch_1.bin", KIND_CIFAR10, 0},
        {"test_batch.bin", KIND_CIFAR10, 0},
        {"train.bin", KIND_CIFAR100, 0},
        {"test.bin", KIND_CIFAR100, 0},
        {"cifar-10-batches-bin", KIND_CIFAR10, 1},
        {"cifar-100-binary", KIND_CIFAR100, 1},
    };
    for (size_t i = 0; i < sizeof signs / sizeof signs[0]; i++)
        if (has_entry(path, signs[i].name, probe, sizeof probe)) {
            *kind = signs[i].kind;
            if (signs[i].descend)
                snprintf(dir, cap, "%s", probe);
            return SELFSUP_OK;
        }
    *kind = KIND_FOLDER;
    return SELFSUP_OK;
}

typedef struct open_keys {
    const char *path;
    const char *cache; /* folder and list: the decode cache, or NULL */
    long size, channels, background, max_pixels;
    int layout, skip_bad, coarse;
} open_keys;

static selfsup_status read_keys(selfsup__spec *s, enum kind kind, open_keys *k)
{
    k->size = kind == KIND_IDX ? 28 : DEFAULT_SIZE;
    k->channels = kind == KIND_IDX ? 1 : 3;
    k->background = 255;
    k->max_pixels = (long)DEFAULT_MAX_PIXELS;
    /* read for every kind, so one spec serves whatever auto finds; only
     * decoded collections use it */
    SS_TRY(selfsup__spec_string(s, "cache", &k->cache));
    if (kind == KIND_IDX)
        return SELFSUP_OK; /* IDX images stay as they are */
    SS_TRY(selfsup__spec_int(s, "size", 1, 4096, &k->size));
    SS_TRY(selfsup__spec_int(s, "channels", 1, 3, &k->channels));
    if (k->channels == 2)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "spec \"%s\": channels = 2 is not 1 or 3", s->name);
    if (kind == KIND_CIFAR100) {
        static const char *const which[] = {"fine", "coarse"};
        SS_TRY(selfsup__spec_choice(s, "labels", which, 2, &k->coarse));
    }
    if (kind != KIND_FOLDER && kind != KIND_LIST)
        return SELFSUP_OK;
    SS_TRY(selfsup__spec_int(s, "background", 0, 255, &k->background));
    SS_TRY(
        selfsup__spec_int(s, "max_pixels", 1, (long)1 << 40, &k->max_pixels));
    SS_TRY(selfsup__spec_bool(s, "skip_bad", &k->skip_bad));
    if (kind == KIND_FOLDER) {
        static const char *const layouts[] = {"auto", "classes", "flat"};
        SS_TRY(selfsup__spec_choice(s, "layout", layouts, 3, &k->layout));
    }
    return SELFSUP_OK;
}

/* The folder a split reads, and the other split's (for the classes). */
static selfsup_status folder_split(const char *path, const char *split,
                                   char *dir, char *other, size_t cap)
{
    char train[4096 + 8], test[4096 + 8], val[4096 + 8];
    snprintf(train, sizeof train, "%s/train", path);
    snprintf(test, sizeof test, "%s/test", path);
    snprintf(val, sizeof val, "%s/val", path);
    const char *held = is_dir(test) ? test : val;
    if (is_dir(train) && is_dir(held)) {
        int is_train = strcmp(split, "train") == 0;
        snprintf(dir, cap, "%s", is_train ? train : held);
        snprintf(other, cap, "%s", is_train ? held : train);
        return SELFSUP_OK;
    }
    other[0] = '\0';
    if (strcmp(split, "test") == 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "%s has no train/ and test/ (or val/) folders, so no "
                       "test split",
                       path);
    snprintf(dir, cap, "%s", path);
    return SELFSUP_OK;
}

static selfsup_status open_kind(selfsup_dataset **out, enum kind kind,
                                const char *dir, const char *split,
                                const open_keys *k,
                                selfsup_progress_fn progress, void *user)
{
    const selfsup__image_format fmt = {(int)k->size, (int)k->channels,
                                       (int)k->background, k->max_pixels};
    selfsup__collection c;
    switch (kind) {
    case KIND_IDX:
        return selfsup_dataset_open_fashion_mnist(out, dir, split);
    case KIND_CIFAR10:
    case KIND_CIFAR100:
        return selfsup__cifar_open(out, dir, kind == KIND_CIFAR100, !k->coarse,
                                   split, &fmt);
    case KIND_LIST:
        if (strcmp(split, "train") != 0)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "a list file has one split: \"train\", not \"%s\"",
                           split);
        SS_TRY(selfsup__collection_read_list(&c, dir));
        break;
    default: {
        char folder[4096 + 8], other[4096 + 8];
        SS_TRY(folder_split(dir, split, folder, other, sizeof folder));
        SS_TRY(selfsup__collection_scan_folder(
            &c, folder, other[0] ? other : NULL, k->layout, k->skip_bad));
        break;
    }
    }
    int keyed = 0;
    uint64_t key = 0;
    if (k->cache) {
        key = selfsup__image_cache_key(&c, &fmt, k->skip_bad, &keyed);
        selfsup_status s =
            keyed ? selfsup__image_cache_load(out, k->cache, key, &fmt)
                  : SELFSUP_ERR_STATE;
        if (s != SELFSUP_ERR_STATE) {
            selfsup__collection_free(&c);
            if (s == SELFSUP_OK && progress)
                progress(user, selfsup_dataset_count(*out),
                         selfsup_dataset_count(*out));
            return s;
        }
    }
    selfsup_dataset *d;
    SS_TRY(selfsup__image_dataset_decode(&d, &c, &fmt, k->skip_bad, progress,
                                         user));
    if (keyed) {
        /* a cache asked for and not written is a failure (a full disk
         * should not pass unnoticed), and the output stays untouched */
        selfsup_status s = selfsup__image_cache_save(d, k->cache, key);
        if (s != SELFSUP_OK) {
            selfsup_dataset_destroy(d);
            return s;
        }
    }
    *out = d;
    return SELFSUP_OK;
}

selfsup_status selfsup_dataset_open(selfsup_dataset **out, const char *spec,
                                    const char *split,
                                    selfsup_progress_fn progress, void *user)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(spec);
    if (!split)
        split = "train";
    if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "split = \"%s\" is not \"train\" or \"test\"", split);
    selfsup__spec s;
    selfsup_status st = selfsup__spec_parse(&s, spec, __func__);
    int kind_index = -1;
    for (int i = 0; st == SELFSUP_OK && i < KIND_COUNT; i++)
        if (strcmp(s.name, kind_names[i]) == 0)
            kind_index = i;
    if (st == SELFSUP_OK && kind_index < 0)
        st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                     "spec \"%s\": \"%s\" is not a dataset kind (auto, "
                     "folder, list, cifar10, cifar100, idx)",
                     spec, s.name);
    open_keys k = {0};
    if (st == SELFSUP_OK)
        st = selfsup__spec_string(&s, "path", &k.path);
    if (st == SELFSUP_OK && !k.path)
        st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                     "spec \"%s\" has no path= (quote it if it holds commas: "
                     "path=\"...\")",
                     spec);
    enum kind kind = (enum kind)kind_index;
    char dir[4096];
    if (st == SELFSUP_OK && strlen(k.path) >= sizeof dir - 64)
        st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                     "path is longer than %zu characters", sizeof dir - 64);
    if (st == SELFSUP_OK) {
        if (kind == KIND_AUTO)
            st = detect(k.path, &kind, dir, sizeof dir);
        else
            snprintf(dir, sizeof dir, "%s", k.path);
    }
    if (st == SELFSUP_OK)
        st = read_keys(&s, kind, &k);
    if (st == SELFSUP_OK)
        st = selfsup__spec_finish(&s);
    if (st == SELFSUP_OK)
        st = open_kind(out, kind, dir, split, &k, progress, user);
    selfsup__spec_free(&s);
    return st;
}
