/* The streaming resize of image_resize.h: PIL's antialiased bilinear, with
 * the centre crop folded into the filter tables (only the output pixels
 * that survive the crop are computed). */
#include "image_resize.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

/* One axis: for each of the size output positions, the first input index,
 * the number of taps and their weights (taps[k * max_taps + j]). */
typedef struct axis_filter {
    int *first;
    int *count;
    float *taps;
    int max_taps;
} axis_filter;

struct selfsup__resizer {
    int in_w, in_h, channels, size;
    axis_filter h, v;
    float *row;     /* the current input row filtered horizontally: size * c */
    float *acc;     /* the output: size * size * c */
    int next_row;   /* index of the next input row */
    int first_live; /* the first output row whose window is not yet past */
};

int selfsup__resize_scaled_side(int side, int shorter, int size)
{
    if (side == shorter)
        return size;
    return (int)((int64_t)size * side / shorter);
}

/* Python's round((a - b) / 2), half to even: torchvision's crop offset. */
static int centre_offset(int resized, int size)
{
    int diff = resized - size;
    int half = diff / 2;
    if (diff % 2 != 0 && half % 2 != 0)
        half++;
    return half;
}

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* PIL's precompute_coeffs for output positions offset .. offset+size-1 of a
 * resize from in to resized samples. */
static int axis_filter_make(axis_filter *f, int in, int resized, int offset,
                            int size)
{
    double scale = (double)in / resized;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = filterscale; /* the triangle's support is 1 */
    f->max_taps = (int)ceil(support) * 2 + 1;
    f->first = selfsup__malloc((size_t)size * sizeof *f->first);
    f->count = selfsup__malloc((size_t)size * sizeof *f->count);
    f->taps =
        selfsup__calloc((size_t)size * (size_t)f->max_taps, sizeof *f->taps);
    if (!f->first || !f->count || !f->taps)
        return 0;
    for (int k = 0; k < size; k++) {
        double center = (k + offset + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        int hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        if (hi - lo > f->max_taps)
            hi = lo + f->max_taps;
        double sum = 0;
        for (int j = 0; j < hi - lo; j++)
            sum += triangle((j + lo - center + 0.5) / filterscale);
        f->first[k] = lo;
        f->count[k] = hi - lo;
        for (int j = 0; j < hi - lo; j++) {
            double w = triangle((j + lo - center + 0.5) / filterscale);
            f->taps[(size_t)k * f->max_taps + j] = (float)(w / sum);
        }
    }
    return 1;
}

static void axis_filter_free(axis_filter *f)
{
    selfsup__free(f->first);
    selfsup__free(f->count);
    selfsup__free(f->taps);
}

void selfsup__resizer_destroy(selfsup__resizer *r)
{
    if (!r)
        return;
    axis_filter_free(&r->h);
    axis_filter_free(&r->v);
    selfsup__free(r->row);
    selfsup__free(r->acc);
    selfsup__free(r);
}

selfsup_status selfsup__resizer_create(selfsup__resizer **out, int in_w,
                                       int in_h, int channels, int size)
{
    selfsup__resizer *r = selfsup__calloc(1, sizeof *r);
    if (!r)
        return SELFSUP_ERR_OUT_OF_MEMORY;
    r->in_w = in_w;
    r->in_h = in_h;
    r->channels = channels;
    r->size = size;
    int shorter = in_w < in_h ? in_w : in_h;
    int rw = selfsup__resize_scaled_side(in_w, shorter, size);
    int rh = selfsup__resize_scaled_side(in_h, shorter, size);
    size_t plane = (size_t)size * (size_t)size * (size_t)channels;
    r->row = selfsup__malloc((size_t)size * (size_t)channels * sizeof *r->row);
    r->acc = selfsup__calloc(plane, sizeof *r->acc);
    if (!r->row || !r->acc ||
        !axis_filter_make(&r->h, in_w, rw, centre_offset(rw, size), size) ||
        !axis_filter_make(&r->v, in_h, rh, centre_offset(rh, size), size)) {
        selfsup__resizer_destroy(r);
        return SELFSUP_ERR_OUT_OF_MEMORY;
    }
    *out = r;
    return SELFSUP_OK;
}

static void filter_row(const selfsup__resizer *r, const uint8_t *in, float *out)
{
    const int c = r->channels;
    for (int k = 0; k < r->size; k++) {
        const float *w = r->h.taps + (size_t)k * r->h.max_taps;
        const uint8_t *p = in + (size_t)r->h.first[k] * c;
        float sum[4] = {0, 0, 0, 0};
        for (int j = 0; j < r->h.count[k]; j++)
            for (int ch = 0; ch < c; ch++)
                sum[ch] += w[j] * p[j * c + ch];
        for (int ch = 0; ch < c; ch++)
            out[k * c + ch] = sum[ch];
    }
}

void selfsup__resizer_push_row(selfsup__resizer *r, const uint8_t *row)
{
    int y = r->next_row;
    if (y >= r->in_h)
        return;
    r->next_row++;
    const axis_filter *v = &r->v;
    /* windows move down monotonically: skip the output rows already past */
    while (r->first_live < r->size &&
           v->first[r->first_live] + v->count[r->first_live] <= y)
        r->first_live++;
    if (r->first_live >= r->size || v->first[r->first_live] > y)
        return; /* no output row reads this input row */
    filter_row(r, row, r->row);
    const size_t width = (size_t)r->size * r->channels;
    for (int k = r->first_live; k < r->size && v->first[k] <= y; k++) {
        float w = v->taps[(size_t)k * v->max_taps + (y - v->first[k])];
        float *acc = r->acc + (size_t)k * width;
        for (size_t i = 0; i < width; i++)
            acc[i] += w * r->row[i];
    }
}

void selfsup__resizer_finish(const selfsup__resizer *r, uint8_t *out)
{
    size_t n = (size_t)r->size * r->size * r->channels;
    for (size_t i = 0; i < n; i++) {
        float x = r->acc[i] + 0.5f;
        out[i] = x <= 0 ? 0 : x >= 255 ? 255 : (uint8_t)x;
    }
}

void selfsup__resizer_reset(selfsup__resizer *r)
{
    memset(r->acc, 0, (size_t)r->size * r->size * r->channels * sizeof *r->acc);
    r->next_row = 0;
    r->first_live = 0;
}
