/* Internal: the learner's state, shared by its step, save and load code. */
#ifndef SELFSUP_TRAIN_LEARNER_IMPL_H
#define SELFSUP_TRAIN_LEARNER_IMPL_H

#include "learner_config.h"
#include "selfsup/comm.h"
#include "selfsup/encoder.h"
#include "selfsup/objective.h"

enum {
    SELFSUP__LEARNER_MAX_VIEWS = SELFSUP_ENCODER_MAX_VIEWS,
    /* Online networks in order; the target mirrors the first two. */
    NET_ENCODER = 0,
    NET_PROJECTOR = 1,
    NET_PREDICTOR = 2,
    NET_COUNT = 3
};

/* The networks by role, online then target: their names in checkpoints
 * and in selfsup_learner_network. */
enum { SELFSUP__ROLE_COUNT = NET_COUNT + 2 };
extern const char *const selfsup__role_names[SELFSUP__ROLE_COUNT];

struct selfsup__optimizer;

/* Per-view activations and their gradients, sized for one batch size. */
typedef struct selfsup__view_buffers {
    selfsup_tensor *features;   /* encoder output h (N, F) */
    selfsup_tensor *projection; /* z (N, P) */
    selfsup_tensor *prediction; /* p (N, P), methods with a predictor */
    selfsup_tensor *target_features, *target_projection; /* BYOL */
    selfsup_tensor *grad_prediction, *grad_projection, *grad_features;
    selfsup_tensor *grad_extra; /* SimSiam without stop-gradient */
    /* Over ranks: every rank's rows of what the objective compares, and
     * its gradient over them (R N rows, rank r's at r N) */
    selfsup_tensor *all_online, *all_target, *all_grad, *all_grad_extra;
} selfsup__view_buffers;

struct selfsup_learner {
    selfsup_learner_config config;
    int n_views;
    selfsup_encoder *online[NET_COUNT]; /* predictor may be NULL */
    selfsup_encoder *target[2];         /* BYOL only */
    selfsup_objective *objective;
    struct selfsup__optimizer *optimizer[NET_COUNT];
    int64_t step;
    int64_t total_steps, warmup_steps;
    double peak_lr, final_lr;

    int64_t batch_n; /* the N the view buffers are sized for; 0 = none */
    selfsup__view_buffers views[SELFSUP__LEARNER_MAX_VIEWS];

    /* BN running statistics saved before a step, restored if it fails. */
    float *buffer_snapshot;
    int64_t buffer_snapshot_count;

    double last_loss, last_lr, last_tau, last_collapse;

    selfsup_comm *comm; /* the ranks a step spans; NULL: this process */
};

/* The network in role (0 .. SELFSUP__ROLE_COUNT-1), NULL if the method has
 * none there. */
selfsup_encoder *selfsup__learner_role(const selfsup_learner *l, int role);

#endif
