/* A host's own training loop, step for step the learner's.
 *
 * selfsup_learner_step runs BYOL's whole step. A host that wants its own
 * loop (its own schedule, data order, networks or objective) can write the
 * step from the library's parts: encoders and heads, the objective, an
 * optimizer per network, the schedules and the moving average. This
 * program does both side by side from the same starting networks (taken
 * from the learner by role) on the same batches, and checks that its own
 * loop gives the learner's losses and every parameter bit for bit.
 *
 *   own_loop [STEPS] [DATA_DIR]                                            */
#include <selfsup/selfsup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                            \
    do {                                                                       \
        selfsup_status s_ = (call);                                            \
        if (s_ != SELFSUP_OK) {                                                \
            fprintf(stderr, "%s: %s\n", #call, selfsup_last_error());          \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

enum { VIEWS = 2, BATCH = 64 };

/* The networks of BYOL, in the learner's roles. */
enum { ENC, PROJ, PRED, T_ENC, T_PROJ, ROLES };
static const char *const ROLE_NAMES[ROLES] = {
    "online.encoder", "online.projector", "online.predictor", "target.encoder",
    "target.projector"};

static double config_number(const selfsup_learner *l, const char *key)
{
    char text[64];
    CHECK(selfsup_learner_config_value(l, key, text, sizeof text));
    return strtod(text, NULL);
}

static selfsup_tensor *matrix(int64_t rows, int64_t cols)
{
    const int64_t dims[2] = {rows, cols};
    selfsup_tensor *t;
    CHECK(selfsup_tensor_create(&t, 2, dims));
    return t;
}

/* 1 when every parameter and statistic of a and b has the same bits. */
static int same_bits(const selfsup_encoder *a, const selfsup_encoder *b)
{
    for (int i = 0; i < selfsup_encoder_param_count(a); i++) {
        int ndim;
        int64_t dims[4], n = 1;
        CHECK(selfsup_encoder_param_shape(a, i, &ndim, dims));
        for (int d = 0; d < ndim; d++)
            n *= dims[d];
        float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * 4);
        CHECK(selfsup_encoder_param_read(a, i, x, n));
        CHECK(selfsup_encoder_param_read(b, i, y, n));
        int same = memcmp(x, y, (size_t)n * sizeof *x) == 0;
        free(x);
        free(y);
        if (!same) {
            fprintf(stderr, "%s differs\n", selfsup_encoder_param_name(a, i));
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 6;
    const char *data = argc > 2 ? argv[2] : NULL;
    if (steps < 1) {
        fprintf(stderr, "usage: own_loop [STEPS >= 1] [DATA_DIR]\n");
        return 2;
    }

    /* The learner, small enough to run in seconds. */
    selfsup_learner_config *config;
    CHECK(selfsup_learner_config_create(&config, "byol"));
    CHECK(selfsup_learner_config_set(config, "encoder",
                                     "resnet18:width=8,in_channels=1"));
    CHECK(selfsup_learner_config_set(config, "projector",
                                     "mlp:hidden=256,out=64"));
    CHECK(selfsup_learner_config_set(config, "predictor",
                                     "mlp:hidden=256,out=64"));
    char number[32];
    snprintf(number, sizeof number, "%d", BATCH);
    CHECK(selfsup_learner_config_set(config, "batch_size", number));
    snprintf(number, sizeof number, "%d", steps);
    CHECK(selfsup_learner_config_set(config, "total_steps", number));
    CHECK(selfsup_learner_config_set(config, "warmup_fraction", "0.34"));
    selfsup_learner *learner;
    CHECK(selfsup_learner_create(&learner, config));
    selfsup_learner_config_destroy(config);

    /* Our own networks: copies of the learner's before its first step. */
    selfsup_encoder *net[ROLES];
    for (int r = 0; r < ROLES; r++) {
        selfsup_encoder *theirs;
        CHECK(selfsup_learner_network(learner, ROLE_NAMES[r], &theirs));
        CHECK(selfsup_encoder_clone(&net[r], theirs));
    }
    /* An optimizer per online network, from the learner's own spec. */
    char text[256];
    CHECK(
        selfsup_learner_config_value(learner, "optimizer", text, sizeof text));
    selfsup_optimizer *opt[T_ENC];
    for (int r = 0; r < T_ENC; r++)
        CHECK(selfsup_optimizer_create(&opt[r], text, net[r]));
    CHECK(
        selfsup_learner_config_value(learner, "objective", text, sizeof text));
    selfsup_objective *objective;
    CHECK(selfsup_objective_create(&objective, text));
    /* The schedules, from the config as docs/training.md states them. */
    int64_t total = (int64_t)config_number(learner, "total_steps");
    double peak = config_number(learner, "lr") * BATCH /
                  config_number(learner, "lr_batch");
    double final = peak * config_number(learner, "final_lr_ratio");
    int64_t warmup =
        (int64_t)(config_number(learner, "warmup_fraction") * (double)total +
                  0.5);
    double ema_base = config_number(learner, "ema_base");

    /* Batches of two views, the same for both loops. */
    selfsup_dataset *images;
    CHECK(selfsup_dataset_open_fashion_mnist(&images, data, "train"));
    selfsup_views *views;
    CHECK(selfsup_views_create(&views, "fmnist", VIEWS, 28));
    selfsup_loader *loader;
    CHECK(selfsup_loader_create(&loader, images, views, BATCH, 7, NULL));

    int64_t feat = selfsup_encoder_output_dim(net[ENC]);
    int64_t proj = selfsup_encoder_output_dim(net[PROJ]);
    selfsup_tensor *h[VIEWS], *z[VIEWS], *p[VIEWS], *th[VIEWS], *tz[VIEWS];
    selfsup_tensor *gh[VIEWS], *gz[VIEWS], *gp[VIEWS];
    for (int v = 0; v < VIEWS; v++) {
        h[v] = matrix(BATCH, feat), th[v] = matrix(BATCH, feat);
        gh[v] = matrix(BATCH, feat);
        z[v] = matrix(BATCH, proj), tz[v] = matrix(BATCH, proj);
        p[v] = matrix(BATCH, proj), gz[v] = matrix(BATCH, proj);
        gp[v] = matrix(BATCH, proj);
    }

    for (int64_t step = 0; step < steps; step++) {
        selfsup_tensor *const *batch;
        CHECK(selfsup_loader_next(loader, &batch, NULL, NULL));
        float theirs;
        CHECK(selfsup_learner_step(
            learner, VIEWS, (const selfsup_tensor *const *)batch, &theirs));

        /* BYOL's step, written out. */
        for (int r = 0; r < T_ENC; r++)
            CHECK(selfsup_encoder_zero_grad(net[r]));
        for (int v = 0; v < VIEWS; v++) {
            CHECK(selfsup_encoder_forward_view(net[ENC], v, batch[v], h[v]));
            CHECK(selfsup_encoder_forward_view(net[PROJ], v, h[v], z[v]));
            CHECK(selfsup_encoder_forward_view(net[PRED], v, z[v], p[v]));
            CHECK(selfsup_encoder_forward_view(net[T_ENC], v, batch[v], th[v]));
            CHECK(selfsup_encoder_forward_view(net[T_PROJ], v, th[v], tz[v]));
        }
        float ours;
        CHECK(selfsup_objective_compute(
            objective, VIEWS, (const selfsup_tensor *const *)p,
            (const selfsup_tensor *const *)tz, &ours, gp));
        for (int v = 0; v < VIEWS; v++) {
            CHECK(selfsup_encoder_backward_view(net[PRED], v, gp[v], gz[v]));
            CHECK(selfsup_encoder_backward_view(net[PROJ], v, gz[v], gh[v]));
            CHECK(selfsup_encoder_backward_view(net[ENC], v, gh[v], NULL));
        }
        double lr = selfsup_cosine_lr(peak, final, warmup, total, step);
        for (int r = 0; r < T_ENC; r++)
            CHECK(selfsup_optimizer_step(opt[r], net[r], lr));
        double tau = selfsup_byol_tau(ema_base, step, total);
        CHECK(selfsup_encoder_ema_update(net[T_ENC], net[ENC], tau));
        CHECK(selfsup_encoder_ema_update(net[T_PROJ], net[PROJ], tau));

        printf("step %lld: lr %.5f, tau %.5f, loss %.6f (learner %.6f)\n",
               (long long)step + 1, lr, tau, (double)ours, (double)theirs);
        if (memcmp(&ours, &theirs, sizeof ours) != 0) {
            fprintf(stderr, "step %lld: the losses differ\n",
                    (long long)step + 1);
            return 1;
        }
    }
    for (int r = 0; r < ROLES; r++) {
        selfsup_encoder *theirs;
        CHECK(selfsup_learner_network(learner, ROLE_NAMES[r], &theirs));
        if (!same_bits(net[r], theirs)) {
            fprintf(stderr, "after %d steps the %s differs\n", steps,
                    ROLE_NAMES[r]);
            return 1;
        }
    }
    printf("own loop = learner after %d steps: the same losses and the same "
           "bits in all %d networks\n",
           steps, ROLES);

    for (int v = 0; v < VIEWS; v++) {
        selfsup_tensor *all[] = {h[v],  z[v],  p[v],  th[v],
                                 tz[v], gh[v], gz[v], gp[v]};
        for (size_t k = 0; k < sizeof all / sizeof *all; k++)
            selfsup_tensor_destroy(all[k]);
    }
    for (int r = 0; r < T_ENC; r++)
        selfsup_optimizer_destroy(opt[r]);
    for (int r = 0; r < ROLES; r++)
        selfsup_encoder_destroy(net[r]);
    selfsup_objective_destroy(objective);
    selfsup_loader_destroy(loader);
    selfsup_views_destroy(views);
    selfsup_dataset_destroy(images);
    selfsup_learner_destroy(learner);
    return 0;
}
