/* GroCo, Group Ordering Constraints (Shvetsova et al., ICCV 2023), as the
 * contract states it. For each anchor, view v and image i, with t = target
 * if given, else online (as a constant):
 *   s = [the topk largest cos(online[v]_i, t[v]_j), j != i, ascending |
 *        cos(online[v]_i, t[w]_i), w != v, ascending]       (n = topk + V-1)
 *   P = the relaxed permutation of the sorting network on s,
 *   q_r = clamp(sum_{c >= topk} P[r][c], 0, 1), y_r = [r >= topk],
 *   anchor loss = mean_r BCE(q_r, y_r) with logs clamped at -100,
 * L = mean over the V N anchors. Gradients reach online[v]_i only as the
 * anchor, through the values and the network.
 *
 * Only q = P m (m_c = [c >= topk]) is needed, so each anchor costs O(1)
 * per comparator: one values pass (the alphas), one reverse pass for P m,
 * and for the gradient one forward pass of dL/dq through the comparators
 * (rank-1 dL/dP = g m^T) and one values backward pass (sortnet_impl.h). */
#include <math.h>
#include <omp.h>

#include "core/alloc.h"
#include "core/gemm.h"
#include "core/threads.h"
#include "objective_impl.h"

static selfsup_status groco_configure(selfsup_objective *o, selfsup__spec *s)
{
    int network = SELFSUP__SORTNET_ODD_EVEN, relax = SELFSUP__RELAX_CAUCHY;
    o->p.groco.topk = 10;
    o->p.groco.steepness = 1.0;
    SS_TRY(selfsup__spec_int(s, "topk", 1, 1000, &o->p.groco.topk));
    SS_TRY(selfsup__spec_double(s, "steepness", 0.0, 1e9, SS_SPEC_OPEN_LO,
                                &o->p.groco.steepness));
    SS_TRY(selfsup__spec_choice(s, "network", selfsup__sortnet_network_names, 2,
                                &network));
    SS_TRY(selfsup__spec_choice(s, "relax", selfsup__sortnet_relax_names, 3,
                                &relax));
    o->p.groco.network = (selfsup__sortnet_network)network;
    o->p.groco.relax = (selfsup__sortnet_relax)relax;
    return SELFSUP_OK;
}

static selfsup_status groco_check(const selfsup_objective *o, int views,
                                  int64_t n, const char *where)
{
    (void)views;
    if (n - 1 < o->p.groco.topk)
        return selfsup__fail(SELFSUP_ERR_SHAPE, where,
                             "groco: topk = %ld needs N - 1 >= %ld negatives "
                             "per anchor, but N = %lld",
                             o->p.groco.topk, o->p.groco.topk, (long long)n);
    return SELFSUP_OK;
}

/* -[y log q + (1 - y) log(1 - q)] with each log clamped at -100, q =
 * clamp(u, 0, 1); *dloss = its derivative in u (0 where a clamp is
 * active, where the loss is flat). */
static double bce(double u, int y, double *dloss)
{
    double q = u < 0.0 ? 0.0 : (u > 1.0 ? 1.0 : u);
    int inside = u >= 0.0 && u <= 1.0;
    double lg = y ? log(q) : log1p(-q);
    if (!(lg > -100.0)) {
        *dloss = 0.0;
        return 100.0;
    }
    *dloss = inside ? (y ? -1.0 / q : 1.0 / (1.0 - q)) : 0.0;
    return -lg;
}

/* The anchor's negatives: the k largest of row[j], j != self, ascending,
 * by insertion into a sorted window. */
static void top_negatives(double *value, int64_t *index, const float *row,
                          int64_t n, int64_t self, int64_t k)
{
    int64_t have = 0;
    for (int64_t j = 0; j < n; j++) {
        if (j == self)
            continue;
        double x = row[j];
        int64_t at;
        if (have < k) {
            at = have++;
        } else if (x > value[0]) {
            at = k - 1; /* drop value[0], shift the rest down */
            for (int64_t c = 0; c < k - 1; c++) {
                value[c] = value[c + 1];
                index[c] = index[c + 1];
            }
        } else {
            continue;
        }
        while (at > 0 && value[at - 1] > x) {
            value[at] = value[at - 1];
            index[at] = index[at - 1];
            at--;
        }
        value[at] = x;
        index[at] = j;
    }
}

/* Per-thread scratch of one anchor, in doubles. */
static int64_t anchor_work(const selfsup_sortnet *net, int64_t d)
{
    int64_t w = net->n;
    /* s, partner, beta, gamma, lambda (w each); tape (3 count), dbeta,
     * galpha (count each); the gradient row (d) */
    return 5 * w + 5 * net->count + d;
}

typedef struct groco_ctx {
    const selfsup_sortnet *net;
    int views;
    int64_t n, d, topk;
    const float *const *online;
    const float *const *that; /* normalised t rows, per view */
    const double *norm;       /* |online[v]_i|, (views, n) */
    const double *pos;        /* (views, n, views) positive cosines */
    double scale;             /* dL/d(anchor loss) = 1 / (views n) */
} groco_ctx;

/* What groco_anchor reports per anchor: loss, the sums of its positive,
 * negative and hard-negative cosines, whether it is ordered, its margin. */
enum { ANCHOR_OUT = 6 };

/* One anchor (v, i): its loss and diagnostics into out[0..5], its
 * gradient into g (d) unless g is NULL. */
static void groco_anchor(const groco_ctx *c, int v, int64_t i,
                         const float *sims, double *work, float *g, double *out)
{
    const selfsup_sortnet *net = c->net;
    int64_t w = net->n, k = c->topk, d = c->d;
    double *s = work, *partner = s + w, *beta = partner + w;
    double *gamma = beta + w, *lambda = gamma + w;
    double *tape = lambda + w, *dbeta = tape + 3 * net->count;
    double *galpha = dbeta + net->count, *grow = galpha + net->count;

    /* negatives: the anchor's row of sims, minus itself; their indices are
     * kept (as doubles) in partner */
    int64_t idx[SELFSUP__SORTNET_MAX_WIRES];
    top_negatives(s, idx, sims, c->n, i, k);
    double neg_all = 0;
    for (int64_t j = 0; j < c->n; j++)
        neg_all += j == i ? 0.0 : sims[j];
    double hard = 0;
    for (int64_t r = 0; r < k; r++) {
        partner[r] = (double)idx[r];
        hard += s[r];
    }
    /* positives: the other views' rows of the same image, ascending */
    const double *pos = c->pos + ((int64_t)v * c->n + i) * c->views;
    int64_t have = k;
    double pos_sum = 0;
    for (int u = 0; u < c->views; u++) {
        if (u == v)
            continue;
        double x = pos[u];
        pos_sum += x;
        int64_t at = have++;
        while (at > k && s[at - 1] > x) {
            s[at] = s[at - 1];
            partner[at] = partner[at - 1];
            at--;
        }
        s[at] = x;
        partner[at] = (double)u;
    }
    out[1] = pos_sum;
    out[2] = neg_all;
    out[3] = hard;
    out[4] = s[k] > s[k - 1] ? 1.0 : 0.0; /* min positive > max negative */
    out[5] = s[k] - s[k - 1];             /* by how much, or how far not */

    /* values pass (lambda holds the relaxed sorted values, unused) */
    for (int64_t r = 0; r < w; r++)
        lambda[r] = s[r];
    selfsup__sortnet_values_forward(net, lambda, tape);
    /* q = P m: the mass each input puts on the positive ranks */
    for (int64_t r = 0; r < w; r++)
        beta[r] = r >= k ? 1.0 : 0.0;
    selfsup__sortnet_perm_apply(net, tape, beta, dbeta);
    double loss = 0;
    for (int64_t r = 0; r < w; r++) {
        double dl;
        loss += bce(beta[r], r >= k, &dl);
        gamma[r] = dl * c->scale / (double)w;
    }
    out[0] = loss / (double)w;
    if (!g)
        return;

    for (int64_t q = 0; q < net->count; q++)
        galpha[q] = 0.0;
    selfsup__sortnet_perm_rank1_backward(net, tape, gamma, dbeta, galpha);
    for (int64_t r = 0; r < w; r++)
        lambda[r] = 0.0;
    selfsup__sortnet_values_backward(net, tape, lambda, galpha);
    /* ds_r -> d(anchor unit vector) = sum_r ds_r that_partner(r) */
    for (int64_t e = 0; e < d; e++)
        grow[e] = 0.0;
    for (int64_t r = 0; r < w; r++) {
        const float *t = r < k ? c->that[v] + (int64_t)partner[r] * d
                               : c->that[(int)partner[r]] + i * d;
        for (int64_t e = 0; e < d; e++)
            grow[e] += lambda[r] * t[e];
    }
    selfsup__normalize_backward_row(
        g, c->online[v] + i * d, c->norm[(int64_t)v * c->n + i], NULL, grow, d);
}

static selfsup_status groco_compute(const selfsup_objective *o,
                                    const selfsup__objective_batch *b,
                                    selfsup__objective_result *r)
{
    int views = b->views;
    int64_t n = b->n, d = b->d, topk = o->p.groco.topk;
    selfsup_sortnet *net;
    SS_TRY(selfsup__sortnet_make(
        &net, (int)topk + views - 1, o->p.groco.network, o->p.groco.relax,
        o->p.groco.steepness, "selfsup_objective_compute"));
    int threads = selfsup__num_threads();
    int64_t per_thread = anchor_work(net, d);
    size_t vnd = (size_t)views * (size_t)n * (size_t)d;
    size_t vn = (size_t)views * (size_t)n;
    size_t total = 0;
    size_t off_oh = selfsup__carve(&total, vnd * sizeof(float));
    size_t off_th =
        b->target ? selfsup__carve(&total, vnd * sizeof(float)) : off_oh;
    size_t off_norm = selfsup__carve(&total, 2 * vn * sizeof(double));
    size_t off_pos =
        selfsup__carve(&total, vn * (size_t)views * sizeof(double));
    size_t off_sims =
        selfsup__carve(&total, (size_t)n * (size_t)n * sizeof(float));
    size_t off_out = selfsup__carve(&total, ANCHOR_OUT * vn * sizeof(double));
    size_t off_work = selfsup__carve(
        &total, (size_t)threads * (size_t)per_thread * sizeof(double));
    char *base = selfsup__malloc(total);
    if (!base) {
        selfsup_sortnet_destroy(net);
        return SS_OBJ_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "groco: cannot allocate %zu bytes of scratch "
                           "(V = %d, N = %lld, D = %lld)",
                           total, views, (long long)n, (long long)d);
    }
    float *ohat = (float *)(base + off_oh), *that = (float *)(base + off_th);
    double *norm = (double *)(base + off_norm), *tnorm = norm + vn;
    double *pos = (double *)(base + off_pos);
    float *sims = (float *)(base + off_sims);
    double *out = (double *)(base + off_out);
    double *work = (double *)(base + off_work);

    const float *ohat_v[SELFSUP__SORTNET_MAX_WIRES];
    const float *that_v[SELFSUP__SORTNET_MAX_WIRES];
    for (int v = 0; v < views; v++) {
        float *oh = ohat + (size_t)v * n * d, *th = that + (size_t)v * n * d;
        selfsup__row_norms(norm + v * n, b->online[v], n, d);
        selfsup__rows_normalize(oh, b->online[v], norm + v * n, n, d);
        if (b->target) {
            selfsup__row_norms(tnorm + v * n, b->target[v], n, d);
            selfsup__rows_normalize(th, b->target[v], tnorm + v * n, n, d);
        }
        ohat_v[v] = oh;
        that_v[v] = th;
    }
#pragma omp parallel for schedule(static) if ((int64_t)vn * views * d >=       \
                                              SELFSUP__PARALLEL_WORK)
    for (int64_t a = 0; a < (int64_t)vn; a++) {
        int v = (int)(a / n);
        int64_t i = a % n;
        for (int u = 0; u < views; u++)
            pos[a * views + u] =
                selfsup__dot(ohat_v[v] + i * d, that_v[u] + i * d, d);
    }

    groco_ctx c = {.net = net,
                   .views = views,
                   .n = n,
                   .d = d,
                   .topk = topk,
                   .online = b->online,
                   .that = that_v,
                   .norm = norm,
                   .pos = pos,
                   .scale = 1.0 / (double)vn};
    selfsup_status st = SELFSUP_OK;
    for (int v = 0; v < views && st == SELFSUP_OK; v++) {
        /* sims (n, n) = ohat_v that_v^T: every anchor against t[v] */
        st = selfsup__sgemm(0, 1, n, n, d, 1.0f, ohat_v[v], d, that_v[v], d,
                            0.0f, sims, n);
        if (st != SELFSUP_OK)
            break;
#pragma omp parallel num_threads(threads) if (n * (per_thread + n * topk) >=   \
                                              SELFSUP__PARALLEL_WORK)
        {
            double *mine = work + (int64_t)omp_get_thread_num() * per_thread;
#pragma omp for schedule(static)
            for (int64_t i = 0; i < n; i++)
                groco_anchor(&c, v, i, sims + i * n, mine,
                             r->grad ? r->grad[v] + i * d : NULL,
                             out + ANCHOR_OUT * ((int64_t)v * n + i));
        }
    }
    selfsup_sortnet_destroy(net);
    if (st != SELFSUP_OK) {
        selfsup__free(base);
        return st;
    }
    double sum[ANCHOR_OUT] = {0};
    for (size_t a = 0; a < vn; a++)
        for (int q = 0; q < ANCHOR_OUT; q++)
            sum[q] += out[ANCHOR_OUT * a + q];
    selfsup__free(base);
    r->loss = sum[0] / (double)vn;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 0] = sum[1] / ((double)vn * (views - 1));
    r->diag[SELFSUP__OBJ_DIAG_OWN + 1] = sum[2] / ((double)vn * (n - 1));
    r->diag[SELFSUP__OBJ_DIAG_OWN + 2] = sum[3] / ((double)vn * topk);
    r->diag[SELFSUP__OBJ_DIAG_OWN + 3] = sum[4] / (double)vn;
    r->diag[SELFSUP__OBJ_DIAG_OWN + 4] = sum[5] / (double)vn;
    return SELFSUP_OK;
}

static const char *const groco_diag[] = {"pos_sim", "neg_sim", "hard_neg_sim",
                                         "ordered", "margin"};

const selfsup__objective_kind selfsup__objective_groco = {
    .name = "groco",
    .min_views = 2,
    .max_views = SELFSUP__SORTNET_MAX_WIRES, /* narrowed by topk */
    .target = SELFSUP_TARGET_OPTIONAL,
    .diag_count = 5,
    .diag_names = groco_diag,
    .configure = groco_configure,
    .check = groco_check,
    .compute = groco_compute};
