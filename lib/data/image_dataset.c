/* A collection's files decoded once, in parallel, into a dataset in memory
 * (image_dataset.h). */
#include "image_dataset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/threads.h"
#include "dataset_impl.h"
#include "idx.h"

/* Images decoded between two progress reports (and between two checks
 * for a failure when nothing is skipped). */
#define CHUNK 512

typedef struct file_result {
    selfsup_status status;
    char *why; /* on failure; NULL if even that allocation failed */
} file_result;

static void decode_one(const char *path, const selfsup__image_format *fmt,
                       uint8_t *out, file_result *r)
{
    char why[256] = "";
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
        r->status = SELFSUP_ERR_IO;
    } else {
        selfsup__image_source src = {f, NULL, 0};
        r->status = selfsup__image_decode(&src, fmt, out, why, sizeof why);
        fclose(f);
    }
    r->why = r->status == SELFSUP_OK ? NULL : selfsup__strdup(why);
}

/* Moves the images that decoded to the front, in order; the others go to
 * c's skipped list. Returns the count kept, or -1 when out of memory. */
static int64_t keep_decoded(selfsup__collection *c, uint8_t *pixels,
                            size_t image_bytes, const file_result *results)
{
    /* record first, so that running out of memory leaves c as it was */
    for (int64_t i = 0; i < c->count; i++)
        if (results[i].status != SELFSUP_OK &&
            !selfsup__collection_skip(c, c->paths[i],
                                      results[i].why ? results[i].why
                                                     : "out of memory"))
            return -1;
    int64_t kept = 0;
    for (int64_t i = 0; i < c->count; i++) {
        if (results[i].status != SELFSUP_OK) {
            selfsup__free(c->paths[i]);
            continue;
        }
        if (kept != i) {
            memmove(pixels + (size_t)kept * image_bytes,
                    pixels + (size_t)i * image_bytes, image_bytes);
            c->paths[kept] = c->paths[i];
            if (c->labels)
                c->labels[kept] = c->labels[i];
        }
        kept++;
    }
    c->count = kept;
    return kept;
}

selfsup_status
selfsup__image_dataset_decode(selfsup_dataset **out, selfsup__collection *c,
                              const selfsup__image_format *fmt, int skip_bad,
                              selfsup_progress_fn progress, void *user)
{
    selfsup__threads_apply();
    const int64_t n = c->count;
    const size_t image_bytes = (size_t)fmt->size * fmt->size * fmt->channels;
    if ((uint64_t)n > (uint64_t)SS_IDX_MAX_BYTES / image_bytes) {
        selfsup__collection_free(c);
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "%lld images of %zu bytes exceed 2^40 bytes",
                       (long long)n, image_bytes);
    }
    uint8_t *pixels = selfsup__malloc((size_t)n * image_bytes);
    file_result *results = selfsup__calloc((size_t)n, sizeof *results);
    if (!pixels || !results) {
        selfsup__free(pixels);
        selfsup__free(results);
        selfsup__collection_free(c);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %lld images of %d x %d x %d",
                       (long long)n, fmt->size, fmt->size, fmt->channels);
    }
    int64_t first_bad = -1;
    if (progress)
        progress(user, 0, n);
    for (int64_t lo = 0; lo < n && first_bad < 0; lo += CHUNK) {
        int64_t hi = lo + CHUNK < n ? lo + CHUNK : n;
        /* dynamic: one file can cost a thousand times another (a photo
         * against a thumbnail) */
#pragma omp parallel for schedule(dynamic, 4)
        for (int64_t i = lo; i < hi; i++)
            decode_one(c->paths[i], fmt, pixels + (size_t)i * image_bytes,
                       &results[i]);
        /* running out of memory is not a bad file: it fails the call
         * even when skipping */
        for (int64_t i = lo; i < hi && first_bad < 0; i++)
            if (results[i].status != SELFSUP_OK &&
                (!skip_bad || !results[i].why ||
                 results[i].status == SELFSUP_ERR_OUT_OF_MEMORY))
                first_bad = i;
        if (progress)
            progress(user, hi, n);
    }
    selfsup_status s = SELFSUP_OK;
    if (first_bad >= 0) {
        const file_result *r = &results[first_bad];
        s = r->why ? SS_FAIL(r->status, "%s: %s", c->paths[first_bad], r->why)
                   : SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                             "out of memory reporting what failed in %s",
                             c->paths[first_bad]);
    } else if (skip_bad) {
        int64_t kept = keep_decoded(c, pixels, image_bytes, results);
        if (kept < 0)
            s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                        "out of memory recording skipped files");
        else if (kept == 0)
            s = SS_FAIL(SELFSUP_ERR_CORRUPT,
                        "none of the %lld images decoded (the first: %s)",
                        (long long)n, c->skipped[0]);
    }
    for (int64_t i = 0; i < n; i++)
        selfsup__free(results[i].why);
    selfsup__free(results);
    if (s != SELFSUP_OK) {
        selfsup__free(pixels);
        selfsup__collection_free(c);
        return s;
    }
    int32_t *labels = c->labels;
    c->labels = NULL;
    return selfsup__dataset_adopt(out, pixels, c->count, fmt->size,
                                  fmt->channels, labels, c);
}
