/* --data: a path (whatever it holds, detected) or a dataset spec, opened
 * with a progress line while a collection decodes and a warning for every
 * file --skip-bad left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

typedef struct progress_line {
    const char *split;
    int tty;
    int64_t last_percent;
} progress_line;

static void show_progress(void *user, int64_t done, int64_t total)
{
    progress_line *p = user;
    if (total < 1000) /* small collections decode in a blink */
        return;
    int64_t percent = 100 * done / total;
    if (p->tty && percent != p->last_percent)
        fprintf(stderr, "\rdecoding the %s images: %lld of %lld (%lld%%)",
                p->split, (long long)done, (long long)total,
                (long long)percent);
    else if (!p->tty && (done == 0 || done == total))
        fprintf(stderr, "decoding the %s images: %lld of %lld\n", p->split,
                (long long)done, (long long)total);
    if (p->tty && done == total)
        fputc('\n', stderr);
    p->last_percent = percent;
}

/* s in double quotes, its quotes and backslashes escaped, at w. */
static char *quoted(char *w, const char *s)
{
    *w++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *w++ = '\\';
        *w++ = *s;
    }
    *w++ = '"';
    *w = '\0';
    return w;
}

/* spec for data: auto:path="..." for an existing path, else data itself;
 * skip_bad=1 and cache="..." appended when asked. */
static char *spec_of(const char *data, bool skip_bad, const char *cache)
{
    struct stat st;
    size_t n = 2 * strlen(data) + 2 * (cache ? strlen(cache) : 0) + 64;
    char *spec = malloc(n), *w = spec;
    if (!spec)
        return NULL;
    bool keys = strchr(data, ':') != NULL;
    if (stat(data, &st) == 0) {
        w = quoted(w + sprintf(w, "auto:path="), data);
        keys = true;
    } else {
        w += sprintf(w, "%s", data);
    }
    if (skip_bad) {
        w += sprintf(w, "%sskip_bad=1", keys ? "," : ":");
        keys = true;
    }
    if (cache)
        quoted(w + sprintf(w, "%scache=", keys ? "," : ":"), cache);
    return spec;
}

int cli_open_data(const char *data, const char *split, bool skip_bad,
                  const char *cache_dir, selfsup_dataset **out)
{
    char cache[4096];
    if (cache_dir)
        snprintf(cache, sizeof cache, "%s/%s-images.cache", cache_dir, split);
    char *spec = spec_of(data, skip_bad, cache_dir ? cache : NULL);
    if (!spec)
        return cli_fail("--data", SELFSUP_ERR_OUT_OF_MEMORY);
    progress_line p = {split, isatty(2), -1};
    selfsup_status s =
        selfsup_dataset_open(out, spec, split, show_progress, &p);
    free(spec);
    if (s != SELFSUP_OK) {
        char what[64];
        snprintf(what, sizeof what, "opening the %s images", split);
        return cli_fail(what, s);
    }
    int64_t skipped = selfsup_dataset_skipped_count(*out);
    for (int64_t i = 0; i < skipped; i++)
        fprintf(stderr, "selfsup: warning: skipped %s\n",
                selfsup_dataset_skipped(*out, i));
    if (skipped)
        fprintf(stderr, "selfsup: skipped %lld bad files of the %s split\n",
                (long long)skipped, split);
    return CLI_OK;
}

const char *cli_auto_augment(const selfsup_dataset *d)
{
    if (selfsup_dataset_channels(d) == 1)
        return "fmnist";
    int side = selfsup_dataset_height(d);
    return side <= 48 ? "rgb32" : side <= 80 ? "rgb64" : "rgb96";
}

static bool exists(const char *dir, const char *name, bool want_dir)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && (!want_dir || S_ISDIR(st.st_mode));
}

bool cli_data_has_test_split(const char *data)
{
    struct stat st;
    if (stat(data, &st) != 0)
        return true; /* a spec: its author knows; opening will tell */
    if (!S_ISDIR(st.st_mode))
        return false; /* a list file has one split */
    static const char *const test_files[] = {
        "t10k-images-idx3-ubyte.gz", "test_batch.bin", "test.bin",
        "cifar-10-batches-bin", "cifar-100-binary"};
    for (size_t i = 0; i < sizeof test_files / sizeof test_files[0]; i++)
        if (exists(data, test_files[i], false))
            return true;
    return exists(data, "train", true) &&
           (exists(data, "test", true) || exists(data, "val", true));
}
