/* Pipelines: parsing the spec grammar, and running the operations on one
 * image with draws keyed by (seed, epoch, sample, view, op). */
#include "pipeline.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/spec.h"

/* ---- parsing ---------------------------------------------------------- */

/* How a single number v reads where a range is expected. */
typedef enum range_single {
    SINGLE_POINT,    /* [v, v] */
    SINGLE_JITTER,   /* [max(0, 1 - v), 1 + v], ColorJitter's factors */
    SINGLE_SYMMETRIC /* [-v, v], ColorJitter's hue */
} range_single;

static int parse_number(const char *text, const char **end, double *v)
{
    char *e;
    errno = 0;
    *v = strtod(text, &e);
    *end = e;
    return e != text && errno != ERANGE && isfinite(*v);
}

/* Reads key as "lo-hi" or a single number (mapped by single); both ends
 * must lie in [min, max] and lo <= hi. A key left out keeps range. */
static selfsup_status read_range(selfsup__spec *s, const char *key,
                                 range_single single, double min, double max,
                                 double range[2])
{
    const char *text = NULL;
    SS_TRY(selfsup__spec_string(s, key, &text));
    if (!text)
        return SELFSUP_OK;
    const char *end;
    double lo, hi;
    if (!parse_number(text, &end, &lo))
        goto malformed;
    if (*end == '\0') {
        if (single == SINGLE_JITTER) {
            if (lo < 0)
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                     "%s: %s = %g is negative", s->name, key,
                                     lo);
            hi = 1 + lo;
            lo = fmax(0.0, 1 - lo);
        } else if (single == SINGLE_SYMMETRIC) {
            if (lo < 0)
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                     "%s: %s = %g is negative", s->name, key,
                                     lo);
            hi = lo;
            lo = -lo;
        } else {
            hi = lo;
        }
    } else {
        if (*end != '-' || !parse_number(end + 1, &end, &hi) || *end != '\0')
            goto malformed;
    }
    if (!(lo >= min && hi <= max))
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: %s = \"%s\" gives [%g, %g], outside "
                             "[%g, %g]",
                             s->name, key, text, lo, hi, min, max);
    if (lo > hi)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: %s = \"%s\" has lo %g > hi %g", s->name, key,
                             text, lo, hi);
    range[0] = lo;
    range[1] = hi;
    return SELFSUP_OK;
malformed:
    return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                         "%s: %s = \"%s\" is not a number or a range lo-hi",
                         s->name, key, text);
}

/* Reads "auto", one value, or three values separated by '/'. Returns the
 * count read (0 for auto, -1 when the key is absent). */
static selfsup_status read_channel_values(selfsup__spec *s, const char *key,
                                          int positive, float values[3],
                                          int *count)
{
    const char *text = NULL;
    SS_TRY(selfsup__spec_string(s, key, &text));
    *count = -1;
    if (!text)
        return SELFSUP_OK;
    if (strcmp(text, "auto") == 0) {
        *count = 0;
        return SELFSUP_OK;
    }
    const char *p = text;
    int n = 0;
    for (;;) {
        double v;
        const char *end;
        if (n == 3 || !parse_number(p, &end, &v))
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                 "%s: %s = \"%s\" is not auto, a number or "
                                 "three numbers a/b/c",
                                 s->name, key, text);
        if (positive ? !(v > 0) : !(fabs(v) <= 1e6))
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                 "%s: %s = \"%s\": %g is %s", s->name, key,
                                 text, v,
                                 positive ? "not positive" : "out of range");
        values[n++] = (float)v;
        if (*end == '\0')
            break;
        if (*end != '/')
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                 "%s: %s = \"%s\" is not auto, a number or "
                                 "three numbers a/b/c",
                                 s->name, key, text);
        p = end + 1;
    }
    if (n == 2)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                             "%s: %s = \"%s\" has 2 values; give 1 or 3",
                             s->name, key, text);
    *count = n;
    return SELFSUP_OK;
}

static selfsup_status read_probability(selfsup__spec *s, double *p)
{
    return selfsup__spec_double(s, "p", 0.0, 1.0, SS_SPEC_CLOSED, p);
}

static selfsup_status read_size(selfsup__spec *s, int *size)
{
    long v = *size;
    SS_TRY(selfsup__spec_int(s, "size", 1, SS_AUG_MAX_SIDE, &v));
    *size = (int)v;
    return SELFSUP_OK;
}

static const char *const OP_NAMES[] = {"crop",     "resize",    "flip",
                                       "jitter",   "grayscale", "blur",
                                       "solarize", "normalize"};
enum { OP_COUNT = 8 };

/* The defaults are torchvision's for the transform of the same name
 * (RandomApply around jitter and blur is p = 1 unless given). */
static void op_defaults(selfsup__aug_op *op, selfsup__aug_kind kind, int target)
{
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->p = 1.0;
    op->size = target;
    op->scale[0] = 0.08, op->scale[1] = 1.0;
    op->ratio[0] = 3.0 / 4.0, op->ratio[1] = 4.0 / 3.0;
    for (int k = 0; k < 3; k++)
        op->jitter[k][0] = op->jitter[k][1] = 1.0;
    op->sigma[0] = 0.1, op->sigma[1] = 2.0;
    op->threshold = 0.5;
    op->norm_auto = 1;
    if (kind == SS_AUG_FLIP || kind == SS_AUG_SOLARIZE)
        op->p = 0.5;
    if (kind == SS_AUG_GRAYSCALE)
        op->p = 0.1;
}

static selfsup_status parse_op_keys(selfsup__spec *s, selfsup__aug_op *op)
{
    switch (op->kind) {
    case SS_AUG_CROP:
        SS_TRY(read_size(s, &op->size));
        SS_TRY(read_range(s, "scale", SINGLE_POINT, 1e-6, 1.0, op->scale));
        SS_TRY(read_range(s, "ratio", SINGLE_POINT, 1e-3, 1e3, op->ratio));
        break;
    case SS_AUG_RESIZE:
        SS_TRY(read_size(s, &op->size));
        break;
    case SS_AUG_FLIP:
    case SS_AUG_GRAYSCALE:
        SS_TRY(read_probability(s, &op->p));
        break;
    case SS_AUG_JITTER: {
        static const char *const keys[4] = {"brightness", "contrast",
                                            "saturation", "hue"};
        for (int k = 0; k < 4; k++) {
            if (k < 3)
                SS_TRY(read_range(s, keys[k], SINGLE_JITTER, 0.0, 1e3,
                                  op->jitter[k]));
            else
                SS_TRY(read_range(s, keys[k], SINGLE_SYMMETRIC, -0.5, 0.5,
                                  op->jitter[k]));
            /* ColorJitter skips a factor whose range is the identity. */
            int identity =
                k < 3 ? (op->jitter[k][0] == 1.0 && op->jitter[k][1] == 1.0)
                      : (op->jitter[k][0] == 0.0 && op->jitter[k][1] == 0.0);
            op->jitter_enabled[k] = !identity;
        }
        SS_TRY(read_probability(s, &op->p));
        break;
    }
    case SS_AUG_BLUR: {
        SS_TRY(read_range(s, "sigma", SINGLE_POINT, 1e-3, 100.0, op->sigma));
        const char *kernel = NULL;
        SS_TRY(selfsup__spec_string(s, "kernel", &kernel));
        if (kernel && strcmp(kernel, "auto") != 0) {
            long k = 0;
            /* Read again through the integer reader for its messages. */
            SS_TRY(selfsup__spec_int(s, "kernel", 1, SS_BLUR_MAX_KERNEL, &k));
            if (k % 2 == 0)
                return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                     "blur: kernel = %ld is even; the "
                                     "kernel side must be odd",
                                     k);
            op->kernel = (int)k;
        }
        SS_TRY(read_probability(s, &op->p));
        break;
    }
    case SS_AUG_SOLARIZE:
        SS_TRY(selfsup__spec_double(s, "threshold", 0.0, 1.0, SS_SPEC_CLOSED,
                                    &op->threshold));
        SS_TRY(read_probability(s, &op->p));
        break;
    case SS_AUG_NORMALIZE: {
        int n_mean, n_std;
        SS_TRY(read_channel_values(s, "mean", 0, op->mean, &n_mean));
        SS_TRY(read_channel_values(s, "std", 1, op->std, &n_std));
        if (n_mean <= 0 && n_std <= 0)
            break; /* auto */
        if (n_mean <= 0 || n_std <= 0)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                 "normalize: give both mean and std, or "
                                 "neither (auto: the dataset's own)");
        if (n_mean != n_std)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, s->where,
                                 "normalize: mean has %d values, std %d",
                                 n_mean, n_std);
        op->norm_auto = 0;
        op->norm_count = n_mean;
        break;
    }
    }
    return selfsup__spec_finish(s);
}

static selfsup_status parse_op(selfsup__aug_op *op, const char *text,
                               int target, const char *where)
{
    selfsup__spec s;
    selfsup_status st = selfsup__spec_parse(&s, text, where);
    if (st == SELFSUP_OK) {
        int kind = -1;
        for (int k = 0; k < OP_COUNT; k++)
            if (strcmp(s.name, OP_NAMES[k]) == 0)
                kind = k;
        if (kind < 0) {
            st = selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                               "unknown operation \"%s\" (known: crop, "
                               "resize, flip, jitter, grayscale, blur, "
                               "solarize, normalize)",
                               s.name);
        } else {
            op_defaults(op, (selfsup__aug_kind)kind, target);
            st = parse_op_keys(&s, op);
        }
    }
    selfsup__spec_free(&s);
    return st;
}

selfsup_status selfsup__augment_parse(selfsup_augment *a, const char *spec,
                                      int target, const char *where)
{
    memset(a, 0, sizeof *a);
    if (!spec)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "spec is NULL");
    a->spec = selfsup__strdup(spec);
    char *work = selfsup__strdup(spec);
    if (!a->spec || !work) {
        selfsup__free(work);
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot copy the spec");
    }
    selfsup_status st = SELFSUP_OK;
    char *rest = work;
    for (;;) {
        char *bar = strchr(rest, '|');
        if (bar)
            *bar = '\0';
        if (a->n_ops == SS_AUG_MAX_OPS) {
            st = selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                               "spec \"%s\" has more than %d operations", spec,
                               SS_AUG_MAX_OPS);
            break;
        }
        st = parse_op(&a->ops[a->n_ops], rest, target, where);
        if (st != SELFSUP_OK)
            break;
        a->n_ops++;
        if (!bar)
            break;
        rest = bar + 1;
    }
    selfsup__free(work);
    return st;
}

void selfsup__augment_clear(selfsup_augment *a)
{
    selfsup__free(a->spec);
    a->spec = NULL;
    a->n_ops = 0;
}

/* ---- sizes -------------------------------------------------------------- */

static int is_resampling(const selfsup__aug_op *op)
{
    return op->kind == SS_AUG_CROP || op->kind == SS_AUG_RESIZE;
}

void selfsup__augment_output_size(const selfsup_augment *a, int h, int w,
                                  int *out_h, int *out_w)
{
    for (int k = 0; k < a->n_ops; k++)
        if (is_resampling(&a->ops[k]) && a->ops[k].size > 0)
            h = w = a->ops[k].size;
    *out_h = h;
    *out_w = w;
}

static int blur_kernel(const selfsup__aug_op *op, int h, int w)
{
    if (op->kernel > 0)
        return op->kernel;
    /* About a tenth of the side, odd: 23 at 224 as in BYOL and SimCLR,
     * 3 at 28 or 32. */
    int side = h < w ? h : w;
    return 2 * (int)(0.05 * side) + 1;
}

selfsup_status selfsup__augment_check(const selfsup_augment *a, int c, int h,
                                      int w, const char *where)
{
    for (int k = 0; k < a->n_ops; k++) {
        const selfsup__aug_op *op = &a->ops[k];
        if (is_resampling(op) && op->size == 0 &&
            (h > SS_AUG_MAX_SIDE || w > SS_AUG_MAX_SIDE))
            return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                                 "operation %d (%s) keeps the image size "
                                 "%dx%d, larger than %d; give size=",
                                 k, OP_NAMES[op->kind], h, w, SS_AUG_MAX_SIDE);
        if (op->kind == SS_AUG_NORMALIZE && !op->norm_auto &&
            op->norm_count != 1 && op->norm_count != c)
            return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                                 "operation %d (normalize) has %d values "
                                 "for images of %d channel(s)",
                                 k, op->norm_count, c);
        if (is_resampling(op) && op->size > 0)
            h = w = op->size;
    }
    return SELFSUP_OK;
}

/* The largest plane (h x w) any stage of the pipeline holds. */
static int64_t largest_plane(const selfsup_augment *a, int h, int w)
{
    int64_t most = (int64_t)h * w;
    for (int k = 0; k < a->n_ops; k++) {
        if (is_resampling(&a->ops[k]) && a->ops[k].size > 0)
            h = w = a->ops[k].size;
        if ((int64_t)h * w > most)
            most = (int64_t)h * w;
    }
    return most;
}

int64_t selfsup__augment_scratch(const selfsup_augment *a, int c, int h, int w)
{
    int64_t most = largest_plane(a, h, w), blur = 0;
    for (int k = 0; k < a->n_ops; k++) {
        const selfsup__aug_op *op = &a->ops[k];
        if (is_resampling(op) && op->size > 0)
            h = w = op->size;
        if (op->kind == SS_AUG_BLUR) {
            int64_t need =
                selfsup__gaussian_blur_scratch(h, w, blur_kernel(op, h, w));
            if (need > blur)
                blur = need;
        }
    }
    /* Two images (the current one and a resampling target) and the blur's
     * own scratch. */
    return 2 * (int64_t)c * most + blur;
}

/* ---- running ------------------------------------------------------------ */

void selfsup__augment_run(const selfsup_augment *a, float *out, float *scratch,
                          const uint8_t *pixels, int c, int h, int w,
                          uint64_t seed, int64_t epoch, int64_t sample,
                          int64_t view, const float *auto_mean,
                          const float *auto_std, selfsup__aug_trace *trace)
{
    /* The scratch as selfsup__augment_scratch sized it. */
    int64_t most = largest_plane(a, h, w);
    float *cur = scratch, *next = scratch + (int64_t)c * most;
    float *blur_scratch = scratch + 2 * (int64_t)c * most;
    int have_float = 0; /* cur holds the image once converted */
    int ch = h, cw = w;
    if (trace)
        memset(trace, 0, sizeof *trace);

    for (int k = 0; k < a->n_ops; k++) {
        const selfsup__aug_op *op = &a->ops[k];
        selfsup__rng r;
        selfsup__rng_init(&r, seed,
                          selfsup__rng_stream((uint64_t)epoch, (uint64_t)sample,
                                              (uint64_t)view, (uint64_t)k));
        if (!is_resampling(op) && !have_float) {
            selfsup__u8_to_chw(cur, pixels, c, h, w);
            have_float = 1;
        }
        int64_t hw = (int64_t)ch * cw;
        int applied = 1;
        switch (op->kind) {
        case SS_AUG_CROP:
        case SS_AUG_RESIZE: {
            selfsup__crop_box box = {0, 0, ch, cw};
            if (op->kind == SS_AUG_CROP) {
                int fallback = selfsup__draw_crop_box(&r, ch, cw, op->scale,
                                                      op->ratio, &box);
                if (trace)
                    trace->fallback[k] = fallback;
            }
            int oh = op->size > 0 ? op->size : ch;
            int ow = op->size > 0 ? op->size : cw;
            if (!have_float) {
                selfsup__resized_crop_u8(cur, pixels, c, h, w, box, oh, ow);
                have_float = 1;
            } else {
                selfsup__resized_crop_forward(next, cur, c, ch, cw, box, oh,
                                              ow);
                float *t = cur;
                cur = next;
                next = t;
            }
            if (trace)
                trace->box[k] = box;
            ch = oh;
            cw = ow;
            break;
        }
        case SS_AUG_FLIP:
            applied = selfsup__draw_coin(&r, op->p);
            if (applied)
                selfsup__hflip(cur, c, ch, cw);
            break;
        case SS_AUG_JITTER:
            applied = selfsup__draw_coin(&r, op->p);
            if (applied) {
                selfsup__jitter_params jp;
                selfsup__draw_jitter(&r, op->jitter, &jp);
                selfsup__apply_jitter(cur, c, hw, &jp, op->jitter_enabled);
                if (trace)
                    trace->jitter[k] = jp;
            }
            break;
        case SS_AUG_GRAYSCALE:
            applied = selfsup__draw_coin(&r, op->p);
            if (applied)
                selfsup__rgb_to_grayscale(cur, c, hw);
            break;
        case SS_AUG_BLUR:
            applied = selfsup__draw_coin(&r, op->p);
            if (applied) {
                float sigma = (float)selfsup__draw_uniform(&r, op->sigma[0],
                                                           op->sigma[1]);
                int kernel = blur_kernel(op, ch, cw);
                selfsup__gaussian_blur(cur, blur_scratch, c, ch, cw, kernel,
                                       sigma);
                if (trace) {
                    trace->sigma[k] = sigma;
                    trace->kernel[k] = kernel;
                }
            }
            break;
        case SS_AUG_SOLARIZE:
            applied = selfsup__draw_coin(&r, op->p);
            if (applied)
                selfsup__solarize(cur, c * hw, (float)op->threshold);
            break;
        case SS_AUG_NORMALIZE:
            if (op->norm_auto) {
                selfsup__normalize(cur, c, hw, auto_mean, auto_std);
            } else if (op->norm_count == 1) {
                float m[3] = {op->mean[0], op->mean[0], op->mean[0]};
                float s[3] = {op->std[0], op->std[0], op->std[0]};
                selfsup__normalize(cur, c, hw, m, s);
            } else {
                selfsup__normalize(cur, c, hw, op->mean, op->std);
            }
            break;
        }
        if (trace)
            trace->applied[k] = applied;
    }
    if (!have_float)
        selfsup__u8_to_chw(out, pixels, c, h, w);
    else
        memcpy(out, cur, sizeof(float) * (size_t)c * (size_t)ch * (size_t)cw);
}

/* ---- public ------------------------------------------------------------- */

selfsup_status selfsup_augment_create(selfsup_augment **out, const char *spec)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(spec);
    selfsup_augment *a = selfsup__calloc(1, sizeof *a);
    if (!a)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate the pipeline");
    selfsup_status st = selfsup__augment_parse(a, spec, 0, __func__);
    if (st != SELFSUP_OK) {
        selfsup__augment_clear(a);
        selfsup__free(a);
        return st;
    }
    *out = a;
    return SELFSUP_OK;
}

void selfsup_augment_destroy(selfsup_augment *a)
{
    if (!a)
        return;
    selfsup__augment_clear(a);
    selfsup__free(a);
}

const char *selfsup_augment_spec(const selfsup_augment *a)
{
    return a ? a->spec : NULL;
}

selfsup_status selfsup_augment_output_size(const selfsup_augment *a, int height,
                                           int width, int *out_height,
                                           int *out_width)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(a);
    if (height < 1 || width < 1)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "height = %d, width = %d: need positive sides", height,
                       width);
    SS_CHECK_NOT_NULL(out_height);
    SS_CHECK_NOT_NULL(out_width);
    selfsup__augment_output_size(a, height, width, out_height, out_width);
    return SELFSUP_OK;
}
