/* The sorting network: construction, spec parsing and the public batch
 * forward/backward over the row kernels of sortnet_kernels.c. */
#include <omp.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/spec.h"
#include "core/tensor_impl.h"
#include "core/threads.h"
#include "sortnet_impl.h"

const char *const selfsup__sortnet_network_names[2] = {"odd_even", "bitonic"};
const char *const selfsup__sortnet_relax_names[3] = {"cauchy", "logistic",
                                                     "optimal"};

/* Comparators of the odd-even transposition network: n layers, layer l
 * compares (s, s+1), (s+2, s+3), ... with s = l mod 2. With lo == NULL
 * only counts. */
static int64_t odd_even_layout(int n, int32_t *lo, int32_t *hi,
                               int64_t *layer_start, int *layers)
{
    int64_t k = 0;
    for (int l = 0; l < n; l++) {
        if (layer_start)
            layer_start[l] = k;
        for (int s = l % 2; s + 1 < n; s += 2, k++)
            if (lo) {
                lo[k] = s;
                hi[k] = s + 1;
            }
    }
    if (layer_start)
        layer_start[n] = k;
    *layers = n;
    return k;
}

/* Comparators of the bitonic network on W = 2^ceil(log2 n) wires in the
 * form where every comparator is ascending: merging blocks of size B first
 * compares wire j with its mirror B - 1 - j in the block (which merges two
 * ascending halves as if the second were reversed), then half-cleaners of
 * span B/4, ..., 1. The first W - n wires are -inf; a comparator (lo, hi)
 * has lo < hi, so a -inf wire in it is always lo, where the minimum already
 * is: the comparator is the identity and is dropped. Wires are renumbered
 * by -(W - n). */
static int64_t bitonic_layout(int n, int32_t *lo, int32_t *hi,
                              int64_t *layer_start, int *layers)
{
    int width = 1, log_width = 0;
    while (width < n) {
        width *= 2;
        log_width++;
    }
    int pad = width - n;
    int64_t k = 0;
    int l = 0;
#define SS_BITONIC_EMIT(a, b)                                                  \
    do {                                                                       \
        if ((a) >= pad) {                                                      \
            if (lo) {                                                          \
                lo[k] = (a)-pad;                                               \
                hi[k] = (b)-pad;                                               \
            }                                                                  \
            k++;                                                               \
        }                                                                      \
    } while (0)
    for (int stage = 1; stage <= log_width; stage++) {
        int block = 1 << stage;
        if (layer_start)
            layer_start[l] = k;
        l++;
        for (int start = 0; start < width; start += block)
            for (int j = 0; j < block / 2; j++)
                SS_BITONIC_EMIT(start + j, start + block - 1 - j);
        for (int span = block / 4; span >= 1; span /= 2) {
            if (layer_start)
                layer_start[l] = k;
            l++;
            for (int start = 0; start < width; start += 2 * span)
                for (int j = 0; j < span; j++)
                    SS_BITONIC_EMIT(start + j, start + j + span);
        }
    }
#undef SS_BITONIC_EMIT
    if (layer_start)
        layer_start[l] = k;
    *layers = l;
    return k;
}

static int64_t layout(selfsup__sortnet_network network, int n, int32_t *lo,
                      int32_t *hi, int64_t *layer_start, int *layers)
{
    return network == SELFSUP__SORTNET_BITONIC
               ? bitonic_layout(n, lo, hi, layer_start, layers)
               : odd_even_layout(n, lo, hi, layer_start, layers);
}

selfsup_status selfsup__sortnet_make(selfsup_sortnet **out, int n,
                                     selfsup__sortnet_network network,
                                     selfsup__sortnet_relax relax,
                                     double steepness, const char *where)
{
    int layers;
    int64_t count = layout(network, n, NULL, NULL, NULL, &layers);
    selfsup_sortnet *s = selfsup__calloc(1, sizeof *s);
    if (!s)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the sorting network");
    /* one block: lo, hi, layer starts */
    size_t pairs = (size_t)(count > 0 ? count : 1) * sizeof(int32_t);
    size_t starts = (size_t)(layers + 1) * sizeof(int64_t);
    char *block = selfsup__malloc(2 * pairs + starts);
    if (!block) {
        selfsup__free(s);
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate %lld comparators",
                             (long long)count);
    }
    s->layer_start = (int64_t *)block;
    s->lo = (int32_t *)(block + starts);
    s->hi = (int32_t *)(block + starts + pairs);
    s->n = n;
    s->network = network;
    s->relax = relax;
    s->steepness = steepness;
    s->count = layout(network, n, s->lo, s->hi, s->layer_start, &s->layers);
    *out = s;
    return SELFSUP_OK;
}

selfsup_status selfsup_sortnet_create(selfsup_sortnet **out, const char *spec)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(out);
    selfsup__spec p;
    selfsup_status st = selfsup__spec_parse(&p, spec, __func__);
    int network = -1, relax = SELFSUP__RELAX_CAUCHY;
    long n = -1;
    double steepness = 1.0;
    if (st == SELFSUP_OK) {
        for (int i = 0; i < 2; i++)
            if (strcmp(p.name, selfsup__sortnet_network_names[i]) == 0)
                network = i;
        if (network < 0)
            st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                         "unknown network \"%s\" (known: odd_even, bitonic)",
                         p.name);
    }
    if (st == SELFSUP_OK)
        st = selfsup__spec_int(&p, "n", 1, SELFSUP__SORTNET_MAX_WIRES, &n);
    if (st == SELFSUP_OK)
        st = selfsup__spec_choice(&p, "relax", selfsup__sortnet_relax_names, 3,
                                  &relax);
    if (st == SELFSUP_OK)
        st = selfsup__spec_double(&p, "steepness", 0.0, 1e9, SS_SPEC_OPEN_LO,
                                  &steepness);
    if (st == SELFSUP_OK)
        st = selfsup__spec_finish(&p);
    if (st == SELFSUP_OK && n < 0)
        st = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                     "spec \"%s\" lacks the number of wires n (e.g. %s:n=8)",
                     spec, p.name);
    selfsup__spec_free(&p);
    if (st != SELFSUP_OK)
        return st;
    return selfsup__sortnet_make(out, (int)n, (selfsup__sortnet_network)network,
                                 (selfsup__sortnet_relax)relax, steepness,
                                 __func__);
}

void selfsup_sortnet_destroy(selfsup_sortnet *s)
{
    if (!s)
        return;
    selfsup__free(s->layer_start); /* the block that holds lo and hi too */
    selfsup__free(s);
}

int selfsup_sortnet_wires(const selfsup_sortnet *s)
{
    return s ? s->n : 0;
}

int64_t selfsup_sortnet_comparator_count(const selfsup_sortnet *s)
{
    return s ? s->count : 0;
}

int selfsup_sortnet_layer_count(const selfsup_sortnet *s)
{
    return s ? s->layers : 0;
}

selfsup_status selfsup_sortnet_comparator(const selfsup_sortnet *s, int64_t k,
                                          int *lo, int *hi)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(s);
    if (k < 0 || k >= s->count)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "k = %lld is outside 0..%lld", (long long)k,
                       (long long)s->count - 1);
    SS_CHECK_NOT_NULL(lo);
    SS_CHECK_NOT_NULL(hi);
    *lo = s->lo[k];
    *hi = s->hi[k];
    return SELFSUP_OK;
}

/* Below about this many operations a batch runs on the calling thread:
 * starting a parallel region costs more than it saves. */
enum { PARALLEL_WORK = 1 << 15 };

/* x must be (rows, n); *rows receives rows. */
static selfsup_status expect_rows(const selfsup_sortnet *s,
                                  const selfsup_tensor *x, const char *where,
                                  const char *name, int64_t *rows)
{
    if (x->ndim != 2 || x->dims[1] != s->n) {
        char have[160];
        selfsup__shape_format(have, sizeof have, x->ndim, x->dims);
        return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                             "%s has shape %s, not (rows, %d)", name, have,
                             s->n);
    }
    *rows = x->dims[0];
    return SELFSUP_OK;
}

selfsup_status selfsup_sortnet_forward(const selfsup_sortnet *s,
                                       const selfsup_tensor *x,
                                       selfsup_tensor *sorted,
                                       selfsup_tensor *perm)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(s);
    SS_CHECK_NOT_NULL(x);
    int64_t rows;
    SS_TRY(expect_rows(s, x, __func__, "x", &rows));
    if (!sorted && !perm)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "sorted and perm are both NULL: nothing to compute");
    int n = s->n;
    if (sorted)
        SS_TRY(selfsup__tensor_expect_shape(sorted, __func__, "sorted", 2,
                                            (int64_t[]){rows, n}));
    if (perm)
        SS_TRY(selfsup__tensor_expect_shape(perm, __func__, "perm", 3,
                                            (int64_t[]){rows, n, n}));
    SS_TRY(selfsup__tensor_check_finite(x, __func__, "x"));

    selfsup__threads_apply();
    int threads = selfsup__num_threads();
    /* per thread: the row (n), the tape (3 count), P transposed (n x n) */
    int64_t per = n + 3 * s->count + (perm ? (int64_t)n * n : 0);
    double *work =
        selfsup__malloc((size_t)threads * (size_t)per * sizeof(double));
    if (!work)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %d x %lld doubles of work space",
                       threads, (long long)per);
    const float *xd = x->data;
    float *yd = sorted ? sorted->data : NULL;
    float *pd = perm ? perm->data : NULL;
#pragma omp parallel num_threads(threads) if (rows * per >= PARALLEL_WORK)
    {
        double *row = work + (int64_t)omp_get_thread_num() * per;
        double *tape = row + n;
        double *pt = tape + 3 * s->count;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++)
                row[i] = xd[r * n + i];
            selfsup__sortnet_values_forward(s, row, tape);
            if (yd)
                for (int i = 0; i < n; i++)
                    yd[r * n + i] = (float)row[i];
            if (pd) {
                selfsup__sortnet_perm_forward(s, tape, pt);
                float *p = pd + r * n * n;
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < n; c++)
                        p[(int64_t)i * n + c] = (float)pt[(int64_t)c * n + i];
            }
        }
    }
    selfsup__free(work);
    return SELFSUP_OK;
}

selfsup_status selfsup_sortnet_backward(const selfsup_sortnet *s,
                                        const selfsup_tensor *x,
                                        const selfsup_tensor *grad_sorted,
                                        const selfsup_tensor *grad_perm,
                                        selfsup_tensor *grad_x)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(s);
    SS_CHECK_NOT_NULL(x);
    int64_t rows;
    SS_TRY(expect_rows(s, x, __func__, "x", &rows));
    if (!grad_sorted && !grad_perm)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "grad_sorted and grad_perm are both NULL");
    int n = s->n;
    if (grad_sorted)
        SS_TRY(selfsup__tensor_expect_shape(
            grad_sorted, __func__, "grad_sorted", 2, (int64_t[]){rows, n}));
    if (grad_perm)
        SS_TRY(selfsup__tensor_expect_shape(grad_perm, __func__, "grad_perm", 3,
                                            (int64_t[]){rows, n, n}));
    SS_CHECK_NOT_NULL(grad_x);
    SS_TRY(selfsup__tensor_expect_shape(grad_x, __func__, "grad_x", 2,
                                        (int64_t[]){rows, n}));
    SS_TRY(selfsup__tensor_check_finite(x, __func__, "x"));
    if (grad_sorted)
        SS_TRY(
            selfsup__tensor_check_finite(grad_sorted, __func__, "grad_sorted"));
    if (grad_perm)
        SS_TRY(selfsup__tensor_check_finite(grad_perm, __func__, "grad_perm"));

    selfsup__threads_apply();
    int threads = selfsup__num_threads();
    /* per thread: x, gy, gx (n each), gp (n x n), the kernel's work */
    int64_t per = 3 * (int64_t)n + (grad_perm ? (int64_t)n * n : 0) +
                  selfsup__sortnet_backward_work(s);
    /* the result goes to scratch first: grad_x may be one of the inputs */
    size_t result = (size_t)rows * (size_t)n;
    double *work =
        selfsup__malloc(((size_t)threads * (size_t)per) * sizeof(double) +
                        result * sizeof(float));
    if (!work)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot allocate %d x %lld doubles of work space",
                       threads, (long long)per);
    float *gxd = (float *)(work + (size_t)threads * (size_t)per);
    const float *xd = x->data;
    const float *gyd = grad_sorted ? grad_sorted->data : NULL;
    const float *gpd = grad_perm ? grad_perm->data : NULL;
#pragma omp parallel num_threads(threads) if (rows * per * n >= PARALLEL_WORK)
    {
        double *xr = work + (int64_t)omp_get_thread_num() * per;
        double *gy = xr + n, *gx = gy + n, *gp = gx + n;
        double *kernel = gp + (gpd ? (int64_t)n * n : 0);
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) {
                xr[i] = xd[r * n + i];
                gy[i] = gyd ? gyd[r * n + i] : 0.0;
            }
            if (gpd)
                for (int64_t i = 0; i < (int64_t)n * n; i++)
                    gp[i] = gpd[r * n * n + i];
            selfsup__sortnet_backward_row(s, xr, gyd ? gy : NULL,
                                          gpd ? gp : NULL, gx, kernel);
            for (int i = 0; i < n; i++)
                gxd[r * n + i] = (float)gx[i];
        }
    }
    memcpy(grad_x->data, gxd, result * sizeof(float));
    selfsup__free(work);
    return SELFSUP_OK;
}
