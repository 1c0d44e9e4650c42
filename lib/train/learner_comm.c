/* A learner over the ranks of a communicator: the ranks' agreement at
 * start, the objective on every rank's rows, the gradients' sum.
 *
 * R ranks with N images each train as one process with R N images: the
 * objective sees every rank's rows in rank order (rank r's batch slice is
 * rows r N .. r N + N - 1 of the process's batch), batch norm normalises
 * over all of them (nn/bn_sync.h), and each rank's parameter gradient,
 * summed over ranks, is the one process's gradient. Every rank computes
 * the same objective on the same rows (its cost is small beside the
 * encoder's), so the gradient of the whole loss reaches the rows each rank
 * produced without a reduce-scatter, and every rank's update is the same. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/comm.h"
#include "core/error.h"
#include "core/tensor_impl.h"
#include "learner_impl.h"
#include "nn/encoder_internal.h"
#include "selfsup/version.h"
#include "train_parts.h"

enum { FINGERPRINT_BYTES = 8192 };

/* What every rank must share, one "name=value" line each. */
static void fingerprint(const selfsup_learner *l, char *out)
{
    size_t at = 0;
    at += (size_t)snprintf(
        out + at, FINGERPRINT_BYTES - at, "library=%s\nmethod=%s\nstep=%lld\n",
        selfsup_version_string(), selfsup__method_name(l->config.method),
        (long long)l->step);
    for (int k = 0; k < SELFSUP__KEY_COUNT && at < FINGERPRINT_BYTES; k++)
        at += (size_t)snprintf(out + at, FINGERPRINT_BYTES - at, "%s=%s\n",
                               selfsup_learner_config_key(&l->config, k),
                               l->config.text[k]);
}

/* The first line where mine differs from rank 0's, as a failure. */
static selfsup_status compare_fingerprints(const char *mine, const char *root)
{
    while (*mine || *root) {
        size_t a = strcspn(mine, "\n"), b = strcspn(root, "\n");
        if (a != b || memcmp(mine, root, a) != 0)
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                           "this rank has %.*s, rank 0 %.*s: every rank "
                           "needs the same library, method, step and config",
                           (int)a, mine, (int)b, root);
        mine += a + (mine[a] == '\n');
        root += b + (root[b] == '\n');
    }
    return SELFSUP_OK;
}

/* Sets comm (or NULL) on every network; on failure none keeps it. */
static selfsup_status set_networks(selfsup_learner *l, selfsup_comm *comm,
                                   selfsup_comm *previous)
{
    for (int role = 0; role < SELFSUP__ROLE_COUNT; role++) {
        selfsup_encoder *net = selfsup__learner_role(l, role);
        selfsup_status s =
            net ? selfsup__encoder_set_comm(net, comm) : SELFSUP_OK;
        if (s != SELFSUP_OK) {
            for (int back = 0; back < role; back++)
                if (selfsup__learner_role(l, back))
                    selfsup__encoder_set_comm(selfsup__learner_role(l, back),
                                              previous);
            return s;
        }
    }
    return SELFSUP_OK;
}

/* Rank 0's parameters and batch-norm statistics to every rank. */
static selfsup_status share_state(selfsup_learner *l, selfsup_comm *comm)
{
    for (int role = 0; role < SELFSUP__ROLE_COUNT; role++) {
        selfsup_encoder *net = selfsup__learner_role(l, role);
        if (!net)
            continue;
        float *values, *grads, *buffers;
        int64_t count, buffer_count;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(net, &values, &grads, &count, &table, &n);
        SS_TRY(selfsup__comm_broadcast(comm, values,
                                       count * (int64_t)sizeof *values, 0,
                                       selfsup__role_names[role]));
        selfsup__encoder_buffers(net, &buffers, &buffer_count, &table, &n);
        if (buffer_count > 0)
            SS_TRY(selfsup__comm_broadcast(
                comm, buffers, buffer_count * (int64_t)sizeof *buffers, 0,
                "batch-norm statistics"));
        selfsup__encoder_params_changed(net);
    }
    return SELFSUP_OK;
}

selfsup_status selfsup_learner_set_comm(selfsup_learner *l, selfsup_comm *comm)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(l);
    if (selfsup__comm_active(comm) && !selfsup__comm_complete(comm))
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                       "comm spans %d ranks but lacks a collective: set its "
                       "all-reduce, all-gather and broadcast "
                       "(selfsup_comm_set_allreduce, _allgather, _broadcast)",
                       selfsup_comm_size(comm));
    if (!selfsup__comm_active(comm)) {
        SS_TRY(set_networks(l, NULL, l->comm));
        selfsup__learner_free_view_buffers(l);
        l->comm = NULL;
        return SELFSUP_OK;
    }
    /* This rank's own checks, then every rank's verdict: from here on a
     * failure anywhere is a failure everywhere. */
    int ranks = selfsup_comm_size(comm);
    int64_t batch = selfsup__config_int(&l->config, SELFSUP__KEY_BATCH_SIZE);
    int sync =
        (int)selfsup__config_int(&l->config, SELFSUP__KEY_SYNC_BATCH_NORM);
    selfsup_comm *before = l->comm && sync ? l->comm : NULL;
    char *mine = selfsup__calloc(2, FINGERPRINT_BYTES);
    char *root = mine ? mine + FINGERPRINT_BYTES : NULL;
    selfsup_status s = SELFSUP_OK;
    if (!mine)
        s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                    "no memory to compare the ranks' configurations");
    else if (batch % ranks != 0)
        s = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                    "batch_size = %lld is not divisible by the %d ranks",
                    (long long)batch, ranks);
    if (s == SELFSUP_OK)
        s = set_networks(l, sync ? comm : NULL, before);
    s = selfsup__comm_agree(comm, s);
    if (s == SELFSUP_OK) {
        fingerprint(l, mine);
        memcpy(root, mine, FINGERPRINT_BYTES);
        s = selfsup__comm_broadcast(comm, root, FINGERPRINT_BYTES, 0,
                                    "rank 0's configuration");
        if (s == SELFSUP_OK)
            s = selfsup__comm_agree(comm, compare_fingerprints(mine, root));
    }
    if (s == SELFSUP_OK)
        s = share_state(l, comm);
    selfsup__free(mine);
    if (s != SELFSUP_OK) {
        set_networks(l, before, NULL);
        return s;
    }
    selfsup__learner_free_view_buffers(l);
    l->comm = comm;
    return SELFSUP_OK;
}

selfsup_status selfsup__learner_check_batch(selfsup_learner *l, int64_t n)
{
    enum { MAX_RANKS = 4096 };
    float counts[MAX_RANKS];
    float mine = (float)n;
    SS_TRY(selfsup__comm_allgather(l->comm, &mine, counts, 1,
                                   "the ranks' batch sizes"));
    for (int r = 1; r < selfsup_comm_size(l->comm); r++)
        if (counts[r] != counts[0])
            return SS_FAIL(SELFSUP_ERR_SHAPE,
                           "rank %d steps %.0f images and rank 0 %.0f: every "
                           "rank takes the same slice of each batch",
                           r, (double)counts[r], (double)counts[0]);
    return SELFSUP_OK;
}

selfsup_status selfsup__learner_objective_over_ranks(
    selfsup_learner *l, const selfsup_tensor *const *online,
    const selfsup_tensor *const *target, float *loss, selfsup_tensor **grads,
    int extra)
{
    const selfsup_tensor *all_online[SELFSUP__LEARNER_MAX_VIEWS];
    const selfsup_tensor *all_target[SELFSUP__LEARNER_MAX_VIEWS];
    selfsup_tensor *all_grad[SELFSUP__LEARNER_MAX_VIEWS];
    for (int v = 0; v < l->n_views; v++) {
        selfsup__view_buffers *b = &l->views[v];
        /* the roles swap for SimSiam's second branch (extra): its online
         * rows are the projections, its targets the predictions */
        selfsup_tensor *on = extra ? b->all_target : b->all_online;
        selfsup_tensor *tg = extra ? b->all_online : b->all_target;
        SS_TRY(selfsup__comm_allgather(l->comm, online[v]->data,
                                       selfsup__tensor_mut(on),
                                       online[v]->numel, "the embeddings"));
        all_online[v] = on;
        if (target) {
            SS_TRY(selfsup__comm_allgather(l->comm, target[v]->data,
                                           selfsup__tensor_mut(tg),
                                           target[v]->numel, "the targets"));
            all_target[v] = tg;
        }
        all_grad[v] = extra ? b->all_grad_extra : b->all_grad;
    }
    SS_TRY(selfsup_objective_compute(l->objective, l->n_views, all_online,
                                     target ? all_target : NULL, loss,
                                     all_grad));
    int rank = selfsup_comm_rank(l->comm);
    for (int v = 0; v < l->n_views; v++)
        memcpy(selfsup__tensor_mut(grads[v]),
               all_grad[v]->data + rank * grads[v]->numel,
               (size_t)grads[v]->numel * sizeof(float));
    return SELFSUP_OK;
}

selfsup_status selfsup__learner_sum_gradients(selfsup_learner *l)
{
    static const char *const NAMES[NET_COUNT] = {"the encoder's gradient",
                                                 "the projector's gradient",
                                                 "the predictor's gradient"};
    for (int k = 0; k < NET_COUNT; k++) {
        if (!l->online[k])
            continue;
        float *values, *grads;
        int64_t count;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(l->online[k], &values, &grads, &count, &table,
                                &n);
        SS_TRY(selfsup__comm_allreduce(l->comm, grads, count, NAMES[k]));
    }
    return SELFSUP_OK;
}
