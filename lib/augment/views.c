/* Views: one pipeline per view, built from a preset or from specs separated
 * by ';', and the batched parallel run. */
#include "views.h"

#include <omp.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/threads.h"

/* Longest pipeline spec a preset produces, with room to spare. */
enum { PRESET_TEXT = 512 };

static void views_free(selfsup_views *v)
{
    if (!v)
        return;
    if (v->pipelines)
        for (int i = 0; i < v->n_views; i++)
            selfsup__augment_clear(&v->pipelines[i]);
    selfsup__free(v->pipelines);
    selfsup__free(v);
}

/* Splits text at ';' in place: parts[0..*count). */
static int split_recipe(char *text, char **parts, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        parts[n++] = text;
        char *semi = strchr(text, ';');
        if (!semi)
            return n;
        *semi = '\0';
        text = semi + 1;
    }
}

static selfsup_status check_ends_at(const selfsup_augment *a, int view,
                                    int out_size, const char *where)
{
    /* A pipeline without crop or resize keeps the input's size: checked
     * against the images when it runs. */
    int h = 0, w = 0;
    selfsup__augment_output_size(a, 0, 0, &h, &w);
    if (h != 0 && h != out_size)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "view %d: pipeline \"%s\" ends at %dx%d, not "
                             "out_size = %d",
                             view, a->spec, h, w, out_size);
    return SELFSUP_OK;
}

selfsup_status selfsup_views_create(selfsup_views **out, const char *recipe,
                                    int n_views, int out_size)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(recipe);
    if (n_views < 0 || n_views > SS_VIEWS_MAX)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "n_views = %d is outside 0..%d (0: one per pipeline "
                       "of the recipe)",
                       n_views, SS_VIEWS_MAX);
    if (out_size < 1 || out_size > SS_AUG_MAX_SIDE)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "out_size = %d is outside 1..%d", out_size,
                       SS_AUG_MAX_SIDE);

    char *work = NULL;
    char *parts[SS_VIEWS_MAX];
    int n_parts = selfsup__views_preset_pipelines(recipe);
    if (n_parts == 0) {
        work = selfsup__strdup(recipe);
        if (!work)
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "cannot copy the recipe");
        n_parts = split_recipe(work, parts, SS_VIEWS_MAX);
        if (n_parts < 0) {
            selfsup__free(work);
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "recipe has more than %d pipelines", SS_VIEWS_MAX);
        }
    }
    if (n_views == 0)
        n_views = n_parts;
    if (!selfsup__views_preset_pipelines(recipe) && n_parts > n_views) {
        selfsup__free(work);
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "recipe \"%s\" has %d pipelines for n_views = %d",
                       recipe, n_parts, n_views);
    }

    selfsup_views *v = selfsup__calloc(1, sizeof *v);
    selfsup_augment *pipelines =
        selfsup__calloc((size_t)n_views, sizeof *pipelines);
    if (!v || !pipelines) {
        selfsup__free(v);
        selfsup__free(pipelines);
        selfsup__free(work);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "cannot allocate %d views",
                       n_views);
    }
    v->pipelines = pipelines;
    v->out_size = out_size;
    selfsup_status st = SELFSUP_OK;
    for (int i = 0; i < n_views && st == SELFSUP_OK; i++) {
        char text[PRESET_TEXT];
        const char *spec = work ? parts[i % n_parts]
                                : selfsup__views_preset(recipe, i, out_size,
                                                        text, sizeof text);
        st = selfsup__augment_parse(&pipelines[i], spec, out_size, __func__);
        v->n_views = i + 1; /* parsed or half-parsed: cleared by views_free */
        if (st == SELFSUP_OK)
            st = check_ends_at(&pipelines[i], i, out_size, __func__);
    }
    selfsup__free(work);
    if (st != SELFSUP_OK) {
        views_free(v);
        return st;
    }
    *out = v;
    return SELFSUP_OK;
}

void selfsup_views_destroy(selfsup_views *v)
{
    views_free(v);
}

int selfsup_views_count(const selfsup_views *v)
{
    return v ? v->n_views : 0;
}

int selfsup_views_out_size(const selfsup_views *v)
{
    return v ? v->out_size : 0;
}

const char *selfsup_views_spec(const selfsup_views *v, int view)
{
    if (!v || view < 0 || view >= v->n_views)
        return NULL;
    return v->pipelines[view].spec;
}

selfsup_status selfsup__views_check(const selfsup_views *v, int c, int h, int w,
                                    const char *where)
{
    for (int i = 0; i < v->n_views; i++) {
        const selfsup_augment *a = &v->pipelines[i];
        SS_TRY(selfsup__augment_check(a, c, h, w, where));
        int oh, ow;
        selfsup__augment_output_size(a, h, w, &oh, &ow);
        if (oh != v->out_size || ow != v->out_size)
            return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                                 "view %d makes %dx%d images from %dx%d "
                                 "ones, not out_size = %d (add a crop or "
                                 "resize)",
                                 i, oh, ow, h, w, v->out_size);
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__views_run(const selfsup_views *v, const uint8_t *images,
                                  int c, int h, int w, const int64_t *indices,
                                  int64_t n, uint64_t seed, int64_t epoch,
                                  const float *auto_mean, const float *auto_std,
                                  float *const *out, const char *where)
{
    selfsup__threads_apply();
    int threads = selfsup__num_threads();
    if (threads > n)
        threads = (int)n;
    int64_t per_thread = 0;
    for (int i = 0; i < v->n_views; i++) {
        int64_t need = selfsup__augment_scratch(&v->pipelines[i], c, h, w);
        if (need > per_thread)
            per_thread = need;
    }
    per_thread = (per_thread + 15) / 16 * 16; /* whole cache lines */
    float *scratch =
        selfsup__malloc(sizeof(float) * (size_t)per_thread * (size_t)threads);
    if (!scratch)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate %lld floats of scratch",
                             (long long)(per_thread * threads));
    int64_t image_bytes = (int64_t)h * w * c;
    int64_t view_floats = (int64_t)c * v->out_size * v->out_size;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; i++) {
        float *mine = scratch + (int64_t)omp_get_thread_num() * per_thread;
        const uint8_t *pixels = images + indices[i] * image_bytes;
        for (int view = 0; view < v->n_views; view++)
            selfsup__augment_run(&v->pipelines[view],
                                 out[view] + i * view_floats, mine, pixels, c,
                                 h, w, seed, epoch, indices[i], view, auto_mean,
                                 auto_std, NULL);
    }
    selfsup__free(scratch);
    return SELFSUP_OK;
}
