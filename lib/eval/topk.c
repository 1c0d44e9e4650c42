#include "topk.h"

/* (a is worse than b): less similar, or equally similar and a later row.
 * Bitwise operators, not && and ||: a sift picks children by data the
 * branch predictor cannot guess, and the branch-free form makes an
 * insertion about a fifth cheaper (measured). */
static inline int worse(float sim_a, int64_t row_a, float sim_b, int64_t row_b)
{
    return (sim_a < sim_b) | ((sim_a == sim_b) & (row_a > row_b));
}

/* Moves the hole at i down the heap of n entries until (s, r) fits there:
 * the worse child rises into the hole each step. */
static void sift_down(float *sim, int64_t *row, int64_t n, int64_t i, float s,
                      int64_t r)
{
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n)
            child +=
                worse(sim[child + 1], row[child + 1], sim[child], row[child]);
        if (!worse(sim[child], row[child], s, r))
            break;
        sim[i] = sim[child];
        row[i] = row[child];
        i = child;
    }
    sim[i] = s;
    row[i] = r;
}

/* Appends (s, r) as entry n and moves it up past better parents. */
static void sift_up(float *sim, int64_t *row, int64_t n, float s, int64_t r)
{
    int64_t i = n;
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (!worse(s, r, sim[parent], row[parent]))
            break;
        sim[i] = sim[parent];
        row[i] = row[parent];
        i = parent;
    }
    sim[i] = s;
    row[i] = r;
}

void selfsup__topk_init(selfsup__topk *t, int64_t k, float *sim, int64_t *row)
{
    t->sim = sim;
    t->row = row;
    t->k = k;
    t->count = 0;
}

void selfsup__topk_offer(selfsup__topk *t, const float *scores, int64_t count,
                         int64_t first)
{
    enum { LANES = 16 };
    int64_t j = 0;
    for (; j < count && t->count < t->k; j++)
        sift_up(t->sim, t->row, t->count++, scores[j], first + j);
    if (j == count)
        return;
    float root = t->sim[0];
    while (j < count) {
        /* Most groups hold no score above the root: one vector compare
         * skips them. */
        if (j + LANES <= count) {
            int any = 0;
#pragma omp simd reduction(| : any)
            for (int u = 0; u < LANES; u++)
                any |= scores[j + u] > root;
            if (!any) {
                j += LANES;
                continue;
            }
        }
        int64_t end = j + LANES < count ? j + LANES : count;
        for (; j < end; j++)
            if (scores[j] > root) {
                sift_down(t->sim, t->row, t->k, 0, scores[j], first + j);
                root = t->sim[0];
            }
    }
}

int64_t selfsup__topk_finish(selfsup__topk *t)
{
    /* Heap sort: the root, the worst, goes to the end each round. */
    for (int64_t last = t->count - 1; last > 0; last--) {
        float s = t->sim[last];
        int64_t r = t->row[last];
        t->sim[last] = t->sim[0];
        t->row[last] = t->row[0];
        sift_down(t->sim, t->row, last, 0, s, r);
    }
    return t->count;
}
