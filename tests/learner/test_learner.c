#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learner_fixture.h"
#include "nn/encoder_internal.h"
#include "io/checkpoint_file.h"
#include "train/learner_impl.h"

static const char *const METHODS[] = {"byol",   "simsiam", "vicreg",
                                      "simclr", "barlow",  "groco"};

static selfsup_learner *make(const char *method, int64_t steps)
{
    selfsup_learner_config *c = small_config(method, steps);
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    return l;
}

static float step(selfsup_learner *l, selfsup_tensor *views[2])
{
    float loss;
    ss_assert_ok(selfsup_learner_step(
        l, 2, (const selfsup_tensor *const *)views, &loss));
    return loss;
}

/* Every method fits one fixed batch: the mean loss of the last five of 30
 * steps is below that of the first five. A method whose gradients were
 * wrong in sign or wiring would not descend. */
START_TEST(each_method_loss_falls)
{
    const char *method = METHODS[_i];
    selfsup_tensor *views[2];
    make_views(32, 0, views);
    selfsup_learner *l = make(method, 30);
    double first = 0, last = 0;
    for (int s = 0; s < 30; s++) {
        float loss = step(l, views);
        ck_assert_msg(isfinite(loss), "%s: loss %g at step %d", method,
                      (double)loss, s);
        if (s < 5)
            first += loss / 5;
        if (s >= 25)
            last += loss / 5;
    }
    ck_assert_msg(last < first, "%s: loss did not fall (%g -> %g)", method,
                  first, last);
    ck_assert_int_eq(selfsup_learner_steps(l), 30);
    double lr;
    ss_assert_ok(selfsup_learner_diagnostic(l, "lr", &lr));
    ck_assert(lr >= 0);
    selfsup_learner_destroy(l);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
}
END_TEST

/* BYOL's target after a step is exactly tau * old target + (1 - tau) *
 * new online, parameter by parameter, with tau from the cosine schedule. */
START_TEST(byol_target_follows_ema_rule)
{
    selfsup_tensor *views[2];
    make_views(32, 0, views);
    selfsup_learner *l = make("byol", 10);
    step(l, views); /* move online away from target first */
    float *before[2];
    for (int k = 0; k < 2; k++) {
        float *tv, *tg;
        int64_t tn;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(l->target[k], &tv, &tg, &tn, &table, &n);
        before[k] = malloc((size_t)tn * sizeof(float));
        memcpy(before[k], tv, (size_t)tn * sizeof(float));
    }
    step(l, views);
    double tau;
    ss_assert_ok(selfsup_learner_diagnostic(l, "tau", &tau));
    /* tau(k) = 1 - (1 - 0.99) (cos(pi k / K) + 1) / 2 at k = 1, K = 10 */
    ss_assert_close(tau, 1 - 0.01 * (cos(M_PI * 1 / 10) + 1) / 2, 1e-12, 0);
    for (int k = 0; k < 2; k++) {
        float *tv, *tg, *ov, *og;
        int64_t tn, on;
        const selfsup__param_info *table;
        int n;
        selfsup__encoder_params(l->target[k], &tv, &tg, &tn, &table, &n);
        selfsup__encoder_params(l->online[k], &ov, &og, &on, &table, &n);
        ck_assert_int_eq(tn, on);
        int64_t moved = 0;
        for (int64_t i = 0; i < tn; i++) {
            /* float rounding of one fused multiply-add */
            float want = (float)(tau * before[k][i] + (1 - tau) * ov[i]);
            ck_assert_msg(fabsf(tv[i] - want) <= 1e-6f * (1 + fabsf(want)),
                          "target %d [%lld] = %.9g, want %.9g", k, (long long)i,
                          (double)tv[i], (double)want);
            moved += tv[i] != before[k][i];
        }
        ck_assert_msg(moved > tn / 2, "target %d barely moved", k);
        free(before[k]);
    }
    selfsup_learner_destroy(l);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
}
END_TEST

/* SimSiam's stop-gradient is what prevents collapse (the paper's Fig. 2),
 * seen in the collapse monitor and in the effective rank:
 * without it the loss runs to its trivial minimum -1 and the collapse
 * monitor falls, with it the monitor stays near its healthy level. The
 * SimSiam recipe, at a learning rate of 0.05 for the batch of 32 (the
 * paper's 0.05 x B/256 would be 0.006 here and too slow to show anything
 * in 100 steps). The projector's last BN keeps every dimension's batch
 * variance at 1, so the monitor (on the predictions) falls by a factor
 * rather than to 0 in so short a run. */
/* The projections of 256 images the learner has not trained on, through
 * its networks by role in inference mode (the caller destroys them). */
static selfsup_tensor *held_out_projections(selfsup_learner *l)
{
    selfsup_encoder *enc, *proj;
    ss_assert_ok(selfsup_learner_network(l, "online.encoder", &enc));
    ss_assert_ok(selfsup_learner_network(l, "online.projector", &proj));
    selfsup_tensor *views[2];
    make_views_at(20000, 256, 0, views);
    const int64_t hd[2] = {256, selfsup_encoder_output_dim(enc)};
    const int64_t zd[2] = {256, selfsup_encoder_output_dim(proj)};
    selfsup_tensor *h = NULL, *z = NULL;
    ss_assert_ok(selfsup_tensor_create(&h, 2, hd));
    ss_assert_ok(selfsup_tensor_create(&z, 2, zd));
    ss_assert_ok(selfsup_encoder_infer(enc, views[0], h));
    ss_assert_ok(selfsup_encoder_infer(proj, h, z));
    selfsup_tensor_destroy(h);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
    return z;
}

/* Their effective rank. */
static double projection_rank(selfsup_learner *l)
{
    selfsup_tensor *z = held_out_projections(l);
    double rank;
    ss_assert_ok(selfsup_effective_rank(z, &rank));
    selfsup_tensor_destroy(z);
    return rank;
}

static double simsiam_collapse_after(int stop_gradient, int steps,
                                     float *last_loss, double *rank)
{
    selfsup_learner_config *c = small_config("simsiam", steps);
    ss_assert_ok(selfsup_learner_config_set(c, "stop_gradient",
                                            stop_gradient ? "1" : "0"));
    ss_assert_ok(selfsup_learner_config_set(c, "lr", "0.4"));
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    double collapse = 0;
    for (int s = 0; s < steps; s++) {
        selfsup_tensor *views[2];
        make_views_at(32 * s, 32, 0, views); /* fresh images, as training */
        *last_loss = step(l, views);
        selfsup_tensor_destroy(views[0]);
        selfsup_tensor_destroy(views[1]);
    }
    ss_assert_ok(selfsup_learner_diagnostic(l, "collapse_std", &collapse));
    *rank = projection_rank(l);
    selfsup_learner_destroy(l);
    return collapse;
}

START_TEST(simsiam_collapses_without_stop_gradient)
{
    double healthy = 1 / sqrt(64.0); /* the projector's 64 dimensions */
    float loss_with, loss_without;
    double rank_with, rank_without;
    double with = simsiam_collapse_after(1, 100, &loss_with, &rank_with);
    double without =
        simsiam_collapse_after(0, 100, &loss_without, &rank_without);

    /* Measured on AVX2 (with / without): monitor 0.1095 / 0.0633, loss
     * -0.731 / -0.888; with the heads' batch norm on oneDNN's reference
     * kernel, 0.107 / 0.069 and -0.663 / -0.855 (100 steps amplify any
     * change of rounding). Without the stop-gradient the monitor falls from
     * its 0.09 at step 25 while with it it rises; the bounds sit between
     * the two runs with a margin over both draws. */
    ck_assert_msg(with > 0.7 * healthy && loss_without < -0.8 &&
                      loss_without < loss_with - 0.1 && without < 0.75 * with,
                  "collapse monitor with stop-gradient %g (healthy %g), "
                  "without %g; loss with %g, without %g",
                  with, healthy, without, (double)loss_with,
                  (double)loss_without);
    /* The effective rank of held-out projections (64 dimensions) sees it
     * plainly: measured 16.88 with the stop-gradient and 2.08 without
     * (AVX2); the bounds leave a factor of two on each side. */
    ck_assert_msg(rank_with > 8 && rank_without < 4,
                  "effective rank of the projections with stop-gradient %g, "
                  "without %g",
                  rank_with, rank_without);
}
END_TEST

/* VICReg's variance term is what keeps its embedding spread: without it
 * the invariance term pulls the two views' projections together and
 * nothing keeps them apart, the covariance term only decorrelating what
 * is left (the paper's ablations: without it, collapse). Seen
 * in the projections' std per dimension (their scale, which the variance
 * hinge holds near 1) and in the effective rank of held-out projections.
 * Returns the mean over dimensions of the std over 256 held-out images. */
static double vicreg_spread_after(const char *objective, int steps,
                                  double *rank)
{
    selfsup_learner_config *c = small_config("vicreg", steps);
    ss_assert_ok(selfsup_learner_config_set(c, "objective", objective));
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    for (int s = 0; s < steps; s++) {
        selfsup_tensor *views[2];
        make_views_at(32 * s, 32, 0, views);
        step(l, views);
        selfsup_tensor_destroy(views[0]);
        selfsup_tensor_destroy(views[1]);
    }
    *rank = projection_rank(l);
    selfsup_tensor *z = held_out_projections(l);
    const int64_t n = selfsup_tensor_dim(z, 0), d = selfsup_tensor_dim(z, 1);
    const float *zv = selfsup_tensor_data(z);
    double spread = 0;
    for (int64_t j = 0; j < d; j++) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < n; i++)
            sum += zv[i * d + j];
        for (int64_t i = 0; i < n; i++) {
            double dev = zv[i * d + j] - sum / (double)n;
            sq += dev * dev;
        }
        spread += sqrt(sq / (double)(n - 1)) / (double)d;
    }
    selfsup_tensor_destroy(z);
    selfsup_learner_destroy(l);
    return spread;
}

START_TEST(vicreg_collapses_without_variance)
{
    double rank_with, rank_without;
    double with = vicreg_spread_after("vicreg", 100, &rank_with);
    double without = vicreg_spread_after("vicreg:var=0", 100, &rank_without);
    /* Measured on AVX2 (with / without): spread 0.302 / 0.028, effective
     * rank 35.1 / 22.0 of 64. The bounds leave a factor of three on the
     * spread's ratio and about a third on the rank's. */
    ck_assert_msg(with > 0.15 && without < 0.25 * with,
                  "std of the projections with the variance term %g, "
                  "without %g",
                  with, without);
    ck_assert_msg(rank_without < 0.8 * rank_with,
                  "effective rank of the projections with the variance "
                  "term %g, without %g",
                  rank_with, rank_without);
}
END_TEST

/* N steps, save, load, M steps == N + M steps, bit for bit. */
START_TEST(resume_is_exact)
{
    const char *method = METHODS[_i];
    selfsup_tensor *a[2], *b[2];
    make_views(32, 0, a);
    make_views(32, 1, b);
    selfsup_learner *one = make(method, 8);
    for (int s = 0; s < 4; s++)
        step(one, s % 2 ? b : a);

    char path[] = "/tmp/selfsup_resume_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    selfsup_learner *two = make(method, 8);
    for (int s = 0; s < 2; s++)
        step(two, s % 2 ? b : a);
    ss_assert_ok(selfsup_learner_save(two, path));
    selfsup_learner_destroy(two);
    ss_assert_ok(selfsup_learner_load(&two, path));
    unlink(path);
    ck_assert_int_eq(selfsup_learner_steps(two), 2);
    for (int s = 2; s < 4; s++)
        step(two, s % 2 ? b : a);

    int64_t n1, n2;
    float *p1 = snapshot_encoder(selfsup_learner_encoder(one), &n1);
    float *p2 = snapshot_encoder(selfsup_learner_encoder(two), &n2);
    ck_assert_int_eq(n1, n2);
    ck_assert_msg(memcmp(p1, p2, (size_t)n1 * sizeof *p1) == 0,
                  "%s: resumed parameters differ", method);
    float l1 = step(one, a), l2 = step(two, a);
    ck_assert_msg(memcmp(&l1, &l2, sizeof l1) == 0, "%s: %.9g vs %.9g", method,
                  (double)l1, (double)l2);
    free(p1);
    free(p2);
    selfsup_learner_destroy(one);
    selfsup_learner_destroy(two);
    for (int k = 0; k < 2; k++) {
        selfsup_tensor_destroy(a[k]);
        selfsup_tensor_destroy(b[k]);
    }
}
END_TEST

/* A step whose loss overflows is refused with SELFSUP_ERR_NUMERIC and
 * leaves parameters, BN statistics and the step count as they were. */
START_TEST(non_finite_step_changes_nothing)
{
    selfsup_tensor *views[2];
    make_views(32, 0, views);
    selfsup_learner *l = make("vicreg", 10);
    step(l, views);
    int64_t n;
    float *before = snapshot_encoder(selfsup_learner_encoder(l), &n);
    float big[32 * 784];
    for (int i = 0; i < 32 * 784; i++)
        big[i] = 3e38f;
    ss_assert_ok(selfsup_tensor_write(views[1], big, 32 * 784));
    float loss = 123;
    ss_assert_fails(
        selfsup_learner_step(l, 2, (const selfsup_tensor *const *)views, &loss),
        SELFSUP_ERR_NUMERIC, "step 1");
    ck_assert(loss == 123);
    ck_assert_int_eq(selfsup_learner_steps(l), 1);
    int64_t m;
    float *after = snapshot_encoder(selfsup_learner_encoder(l), &m);
    ck_assert_int_eq(n, m);
    ck_assert_msg(memcmp(before, after, (size_t)n * sizeof *before) == 0,
                  "a refused step changed the encoder");
    free(before);
    free(after);
    selfsup_learner_destroy(l);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    selfsup_learner_config *c;
    ss_assert_fails(selfsup_learner_config_create(&c, "moco"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "\"moco\"");
    ss_assert_ok(selfsup_learner_config_create(&c, "byol"));
    ss_assert_fails(selfsup_learner_config_set(c, "momentum", "0.9"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "unknown key \"momentum\"");
    ss_assert_fails(selfsup_learner_config_set(c, "lr", "-1"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "lr = \"-1\"");
    ss_assert_fails(selfsup_learner_config_set(c, "views", "1"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "views");
    ss_assert_fails(selfsup_learner_config_set(c, "encoder", "resnet18:w"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not key=value");
    char buf[8];
    ss_assert_fails(selfsup_learner_config_get(c, "optimizer", buf, 8),
                    SELFSUP_ERR_INVALID_ARGUMENT, "bytes");
    /* a spec value is parsed whole when it is set, not at create */
    ss_assert_fails(selfsup_learner_config_set(c, "encoder", "resnet17"),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "unknown encoder \"resnet17\"");
    selfsup_learner_config_destroy(c);
    selfsup_learner *l = NULL;

    c = small_config("vicreg", 5);
    ss_assert_ok(selfsup_learner_config_set(c, "objective", "byol"));
    ss_assert_fails(selfsup_learner_create(&l, c), SELFSUP_ERR_INVALID_ARGUMENT,
                    "needs a target");
    selfsup_learner_config_destroy(c);

    l = make("simclr", 5);
    selfsup_tensor *views[2];
    make_views(8, 0, views);
    float loss;
    ss_assert_fails(
        selfsup_learner_step(l, 3, (const selfsup_tensor *const *)views, &loss),
        SELFSUP_ERR_SHAPE, "n_views = 3");
    ss_assert_fails(selfsup_learner_step(l, 2, NULL, &loss),
                    SELFSUP_ERR_INVALID_ARGUMENT, "views");
    ss_assert_fails(selfsup_learner_diagnostic(l, "loss", &(double){0}),
                    SELFSUP_ERR_STATE, "no step");
    ss_assert_fails(selfsup_learner_load(&l, "/nonexistent/x.ckpt"),
                    SELFSUP_ERR_IO, "/nonexistent/x.ckpt");
    selfsup_learner_destroy(l);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
}
END_TEST

static void assert_norm(const selfsup_encoder *e, float mean, float std)
{
    float m = 0, s = 0;
    ss_assert_ok(selfsup_encoder_input_normalization(e, &m, &s));
    ck_assert(m == mean && s == std);
}

static void assert_key(const selfsup_learner_config *c, const char *key,
                       const char *want)
{
    char buf[256];
    ss_assert_ok(selfsup_learner_config_get(c, key, buf, sizeof buf));
    ck_assert_msg(strcmp(buf, want) == 0, "%s is \"%s\", not \"%s\"", key, buf,
                  want);
}

/* recipe=auto takes the short-run recipe for runs of at most the method's
 * limit in epochs (BYOL 20, GroCo 3, VICReg 40) of dataset_size images and the
 * paper's otherwise (or when the size is unknown); keys the caller set are
 * never replaced; what config_get reports is what the learner runs, and a
 * checkpoint keeps it. */
START_TEST(recipe_follows_the_run_length)
{
    selfsup_learner_config *c;
    ss_assert_ok(selfsup_learner_config_create(&c, "byol"));
    assert_key(c, "recipe", "paper"); /* dataset_size 0: unknown */
    assert_key(c, "lr", "0.2");
    ss_assert_ok(selfsup_learner_config_set(c, "dataset_size", "60000"));
    ss_assert_ok(selfsup_learner_config_set(c, "batch_size", "256"));
    ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "4687"));
    assert_key(c, "recipe", "short"); /* 19.998 epochs */
    assert_key(c, "lr", "1.6");
    assert_key(c, "ema_base", "0.9");
    assert_key(c, "optimizer",
               "lars:momentum=0.9,weight_decay=1.5e-6,"
               "eta=0.001");
    ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "4688"));
    assert_key(c, "recipe", "paper"); /* 20.003 epochs */
    assert_key(c, "lr", "0.2");
    ss_assert_ok(selfsup_learner_config_set(c, "recipe", "short"));
    ss_assert_ok(selfsup_learner_config_set(c, "lr", "0.03"));
    assert_key(c, "lr", "0.03");
    assert_key(c, "ema_base", "0.9");
    ss_assert_fails(selfsup_learner_config_set(c, "recipe", "long"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "recipe = \"long\"");
    ss_assert_fails(selfsup_learner_config_set(c, "dataset_size", "-1"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dataset_size");
    selfsup_learner_config_destroy(c);

    /* GroCo's short-run rate stops at 3 epochs. */
    ss_assert_ok(selfsup_learner_config_create(&c, "groco"));
    ss_assert_ok(selfsup_learner_config_set(c, "dataset_size", "60000"));
    ss_assert_ok(selfsup_learner_config_set(c, "batch_size", "256"));
    ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "703"));
    assert_key(c, "recipe", "short"); /* 2.9995 epochs */
    assert_key(c, "lr", "1.0");
    assert_key(c, "objective", "groco:steepness=16");
    ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "704"));
    assert_key(c, "recipe", "paper");
    assert_key(c, "lr", "0.75");
    selfsup_learner_config_destroy(c);

    /* VICReg, SimCLR and Barlow Twins: sixteen times the paper's rate, up
     * to 40 epochs (9375 steps of 256 on 60000 images) */
    static const char *const SHORT_RATES[][3] = {{"vicreg", "3.2", "0.2"},
                                                 {"simclr", "4.8", "0.3"},
                                                 {"barlow", "3.2", "0.2"}};
    for (int k = 0; k < 3; k++) {
        ss_assert_ok(selfsup_learner_config_create(&c, SHORT_RATES[k][0]));
        ss_assert_ok(selfsup_learner_config_set(c, "dataset_size", "60000"));
        ss_assert_ok(selfsup_learner_config_set(c, "batch_size", "256"));
        ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "1170"));
        assert_key(c, "recipe", "short"); /* 4.99 epochs */
        assert_key(c, "lr", SHORT_RATES[k][1]);
        ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "9375"));
        assert_key(c, "recipe", "short"); /* 40.0 epochs */
        assert_key(c, "lr", SHORT_RATES[k][1]);
        ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "9376"));
        assert_key(c, "recipe", "paper"); /* 40.004 epochs */
        assert_key(c, "lr", SHORT_RATES[k][2]);
        selfsup_learner_config_destroy(c);
    }

    c = small_config("simsiam", 5);
    ss_assert_ok(selfsup_learner_config_set(c, "recipe", "short"));
    ss_assert_ok(selfsup_learner_config_set(c, "projector",
                                            "mlp:hidden=32,out=16,layers=2"));
    ss_assert_ok(selfsup_learner_config_set(c, "predictor",
                                            "mlp:hidden=32,out=16,layers=2"));
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    char buf[256];
    ss_assert_ok(selfsup_learner_config_value(l, "recipe", buf, sizeof buf));
    ck_assert_str_eq(buf, "short");
    ss_assert_ok(selfsup_learner_config_value(l, "lr", buf, sizeof buf));
    ck_assert_str_eq(buf, "0.8");
    ss_assert_ok(selfsup_learner_config_value(l, "optimizer", buf, sizeof buf));
    ck_assert_str_eq(buf, "lars:momentum=0.9,weight_decay=1.5e-6,eta=0.001");
    const char *path = temp_path();
    ss_assert_ok(selfsup_learner_save(l, path));
    selfsup_learner *back;
    ss_assert_ok(selfsup_learner_load(&back, path));
    ss_assert_ok(selfsup_learner_config_value(back, "recipe", buf, sizeof buf));
    ck_assert_str_eq(buf, "short");
    ss_assert_ok(selfsup_learner_config_value(back, "lr", buf, sizeof buf));
    ck_assert_str_eq(buf, "0.8");
    unlink(path);
    selfsup_learner_destroy(back);
    selfsup_learner_destroy(l);
}
END_TEST

/* Rewrites the checkpoint at path without the section called drop, as a
 * file from before that section existed. */
static void drop_section(const char *path, const char *drop)
{
    selfsup__ckpt_reader *r;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    selfsup__ckpt_writer *w;
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    for (int i = 0; i < selfsup__ckpt_section_count(r); i++) {
        const char *name = selfsup__ckpt_section_name(r, i);
        const void *data = selfsup__ckpt_section_data(r, i);
        int64_t n = selfsup__ckpt_section_length(r, i);
        if (strcmp(name, drop) == 0)
            continue;
        switch (selfsup__ckpt_section_type(r, i)) {
        case SELFSUP__CKPT_F32:
            ss_assert_ok(selfsup__ckpt_put_f32(w, name, data, n));
            break;
        case SELFSUP__CKPT_F64:
            ss_assert_ok(selfsup__ckpt_put_f64(w, name, data, n));
            break;
        case SELFSUP__CKPT_I64:
            ss_assert_ok(selfsup__ckpt_put_i64(w, name, data, n));
            break;
        case SELFSUP__CKPT_U64:
            ss_assert_ok(selfsup__ckpt_put_u64(w, name, data, n));
            break;
        case SELFSUP__CKPT_BYTES:
            ss_assert_ok(selfsup__ckpt_put_bytes(w, name, data, n));
            break;
        case SELFSUP__CKPT_STRING:
            ss_assert_ok(selfsup__ckpt_put_string(w, name, data));
            break;
        }
    }
    ss_assert_ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
    selfsup__ckpt_reader_close(r);
}

/* A checkpoint from before recipe and dataset_size holds every resolved
 * key: it loads as the paper's recipe of unknown size, keeps its values
 * (here a short-run lr) and continues as the original would. */
START_TEST(checkpoints_without_recipe_keys_load)
{
    selfsup_learner_config *c = small_config("groco", 6);
    ss_assert_ok(selfsup_learner_config_set(c, "recipe", "short"));
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    selfsup_tensor *views[2];
    make_views(16, 0, views);
    step(l, views);
    const char *path = temp_path();
    ss_assert_ok(selfsup_learner_save(l, path));
    drop_section(path, "learner/config/recipe");
    drop_section(path, "learner/config/dataset_size");
    drop_section(path, "learner/config/precision");
    selfsup_learner *old;
    ss_assert_ok(selfsup_learner_load(&old, path));
    char buf[64];
    ss_assert_ok(selfsup_learner_config_value(old, "recipe", buf, sizeof buf));
    ck_assert_str_eq(buf, "paper");
    ss_assert_ok(
        selfsup_learner_config_value(old, "dataset_size", buf, sizeof buf));
    ck_assert_str_eq(buf, "0");
    ss_assert_ok(
        selfsup_learner_config_value(old, "precision", buf, sizeof buf));
    ck_assert_str_eq(buf, "f32");
    ss_assert_ok(selfsup_learner_config_value(old, "lr", buf, sizeof buf));
    ck_assert_str_eq(buf, "1.0");
    ck_assert(step(l, views) == step(old, views));
    unlink(path);
    selfsup_learner_destroy(old);
    selfsup_learner_destroy(l);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
}
END_TEST

/* The export is the online encoder, bit for bit, with the normalisation
 * the host recorded; full checkpoints and clones keep it too. */
START_TEST(export_carries_encoder_and_normalization)
{
    selfsup_learner *l = make("byol", 4);
    selfsup_tensor *views[2];
    make_views(16, 0, views);
    step(l, views);
    const selfsup_encoder *online = selfsup_learner_encoder(l);
    float m = 0, s = 0;
    ss_assert_fails(selfsup_encoder_input_normalization(online, &m, &s),
                    SELFSUP_ERR_STATE, "no recorded input normalisation");

    const float mean = 0.28604f, std = 0.35302f, zero = 0, nan = NAN;
    ss_assert_fails(selfsup_learner_set_input_normalization(l, &mean, &zero),
                    SELFSUP_ERR_INVALID_ARGUMENT, "std > 0");
    ss_assert_fails(selfsup_learner_set_input_normalization(l, &nan, &std),
                    SELFSUP_ERR_INVALID_ARGUMENT, "channel 0");
    ss_assert_fails(selfsup_learner_set_input_normalization(l, &mean, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "both");
    ss_assert_fails(selfsup_encoder_input_normalization(online, &m, &s),
                    SELFSUP_ERR_STATE, "no recorded");
    ss_assert_ok(selfsup_learner_set_input_normalization(l, &mean, &std));
    assert_norm(online, mean, std);
    assert_norm(l->target[0], mean, std);

    char *path = temp_path();
    ss_assert_ok(selfsup_learner_export_encoder(l, path));
    selfsup_encoder *e;
    ss_assert_ok(selfsup_encoder_load(&e, path));
    assert_norm(e, mean, std);
    selfsup_encoder *c;
    ss_assert_ok(selfsup_encoder_clone(&c, e));
    assert_norm(c, mean, std);
    selfsup_encoder_destroy(c);

    /* same features as the learner's encoder, bit for bit */
    const int64_t fd[2] = {16, selfsup_learner_feature_dim(l)};
    selfsup_tensor *f1 = NULL, *f2 = NULL;
    ss_assert_ok(selfsup_tensor_create(&f1, 2, fd));
    ss_assert_ok(selfsup_tensor_create(&f2, 2, fd));
    ss_assert_ok(selfsup_learner_embed(l, views[0], f1));
    ss_assert_ok(selfsup_encoder_forward(e, views[0], f2));
    ck_assert(memcmp(selfsup_tensor_data(f1), selfsup_tensor_data(f2),
                     (size_t)(fd[0] * fd[1]) * sizeof(float)) == 0);
    selfsup_encoder_destroy(e);

    /* a full checkpoint keeps it for both encoders */
    ss_assert_ok(selfsup_learner_save(l, path));
    selfsup_learner *back;
    ss_assert_ok(selfsup_learner_load(&back, path));
    assert_norm(selfsup_learner_encoder(back), mean, std);
    assert_norm(back->target[0], mean, std);
    selfsup_learner_destroy(back);
    ss_assert_ok(selfsup_encoder_load(&e, path));
    assert_norm(e, mean, std);
    selfsup_encoder_destroy(e);

    /* forgotten: files without it load, and say so when asked */
    ss_assert_ok(selfsup_learner_set_input_normalization(l, NULL, NULL));
    ss_assert_ok(selfsup_learner_export_encoder(l, path));
    ss_assert_ok(selfsup_encoder_load(&e, path));
    ss_assert_fails(selfsup_encoder_input_normalization(e, &m, &s),
                    SELFSUP_ERR_STATE, "no recorded");
    selfsup_encoder_destroy(e);
    unlink(path);
    selfsup_tensor_destroy(f1);
    selfsup_tensor_destroy(f2);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
    selfsup_learner_destroy(l);
}
END_TEST

/* The config's keys are written in three places that must agree, in
 * order: the library's table, learner.h's comment and docs/training.md's
 * table. */
static char *read_source(const char *relative)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../../%s", SELFSUP_TEST_DATA_DIR, relative);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The identifiers of [from, to), in order, into names (at most cap). */
static int identifiers(const char *from, const char *to, char names[][32],
                       int cap)
{
    int n = 0;
    for (const char *p = from; p < to;) {
        if ((*p >= 'a' && *p <= 'z') || *p == '_') {
            const char *q = p;
            while (q < to && ((*q >= 'a' && *q <= 'z') || *q == '_'))
                q++;
            ck_assert_int_lt(n, cap);
            snprintf(names[n++], 32, "%.*s", (int)(q - p), p);
            p = q;
        } else {
            p++;
        }
    }
    return n;
}

START_TEST(key_list_written_once)
{
    selfsup_learner_config *c = small_config("byol", 10);
    int count = selfsup_learner_config_count(c);
    ck_assert_int_ge(count, 18);

    char *header = read_source("include/selfsup/learner.h");
    const char *from = strstr(header, "Keys (docs/training.md):");
    ck_assert_ptr_nonnull(from);
    from += strlen("Keys (docs/training.md):");
    const char *to = strstr(from, ".\n");
    ck_assert_ptr_nonnull(to);
    char in_header[64][32];
    int n_header = identifiers(from, to, in_header, 64);

    char *doc = read_source("docs/training.md");
    const char *section = strstr(doc, "\n## Keys\n");
    ck_assert_ptr_nonnull(section);
    const char *end = strstr(section + 1, "\n## ");
    char in_doc[64][32];
    int n_doc = 0;
    for (const char *line = strstr(section, "\n| `"); line && line < end;
         line = strstr(line + 1, "\n| `")) {
        const char *name = line + 4, *close = strchr(name, '`');
        ck_assert_int_lt(n_doc, 64);
        snprintf(in_doc[n_doc++], 32, "%.*s", (int)(close - name), name);
    }

    ck_assert_msg(n_header == count, "learner.h lists %d keys, the library %d",
                  n_header, count);
    ck_assert_msg(n_doc == count,
                  "docs/training.md lists %d keys, the library %d", n_doc,
                  count);
    for (int k = 0; k < count; k++) {
        const char *key = selfsup_learner_config_key(c, k);
        ck_assert_str_eq(in_header[k], key);
        ck_assert_str_eq(in_doc[k], key);
    }
    free(header);
    free(doc);
    selfsup_learner_config_destroy(c);
}
END_TEST

/* Spec-valued keys are checked whole when they are set, as the learner
 * will parse them: a bad key or value fails there, not at create. */
START_TEST(spec_keys_are_checked_when_set)
{
    selfsup_learner_config *c = small_config("byol", 10);
    ss_assert_fails(
        selfsup_learner_config_set(c, "encoder", "resnet18:width=0"),
        SELFSUP_ERR_INVALID_ARGUMENT, "width");
    ss_assert_fails(selfsup_learner_config_set(c, "encoder", "resnet50"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "resnet50");
    ss_assert_fails(
        selfsup_learner_config_set(c, "projector", "mlp:hidden=64,depth=3"),
        SELFSUP_ERR_INVALID_ARGUMENT, "depth");
    ss_assert_fails(selfsup_learner_config_set(c, "predictor", "mlp:layers=0"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "layers");
    ss_assert_fails(selfsup_learner_config_set(c, "objective", "groco:topk=0"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "topk");
    ss_assert_fails(selfsup_learner_config_set(c, "objective", "moco"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "moco");
    ss_assert_fails(
        selfsup_learner_config_set(c, "optimizer", "lars:momentum=7"),
        SELFSUP_ERR_INVALID_ARGUMENT, "momentum");
    ss_assert_fails(selfsup_learner_config_set(c, "optimizer", "adam"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "adam");
    /* nothing was stored */
    char buf[256];
    ss_assert_ok(selfsup_learner_config_get(c, "optimizer", buf, sizeof buf));
    ck_assert_str_eq(buf, "lars:momentum=0.9,weight_decay=1.5e-6,eta=0.001");
    ss_assert_ok(selfsup_learner_config_set(c, "predictor", "none"));
    ss_assert_ok(
        selfsup_learner_config_set(c, "projector", "mlp:hidden=32,out=16"));
    ss_assert_ok(
        selfsup_learner_config_set(c, "optimizer", "adamw:weight_decay=0.05"));
    selfsup_learner_config_destroy(c);
}
END_TEST

/* Every method's networks by role: the ones it has, and a message that
 * lists them for the ones it does not. */
START_TEST(networks_by_role)
{
    static const char *const has[6] = {
        ("online.encoder online.projector online.predictor target.encoder "
         "target.projector"),
        "online.encoder online.projector online.predictor",
        "online.encoder online.projector",
        "online.encoder online.projector",
        "online.encoder online.projector",
        "online.encoder online.projector"};
    static const char *const roles[] = {"online.encoder",   "online.projector",
                                        "online.predictor", "target.encoder",
                                        "target.projector", "online",
                                        "encoder"};
    const char *method = METHODS[_i];
    selfsup_learner *l = make(method, 4);
    for (size_t r = 0; r < sizeof roles / sizeof *roles; r++) {
        selfsup_encoder *net = NULL;
        selfsup_status st = selfsup_learner_network(l, roles[r], &net);
        if (strstr(has[_i], roles[r]) && strchr(roles[r], '.')) {
            ss_assert_ok(st);
            ck_assert_ptr_nonnull(net);
        } else {
            ck_assert_int_eq(st, SELFSUP_ERR_INVALID_ARGUMENT);
            ck_assert_ptr_null(net);
            char want[200];
            snprintf(want, sizeof want, "a %s learner has ", method);
            ck_assert_ptr_nonnull(strstr(selfsup_last_error(), want));
            ck_assert_ptr_nonnull(
                strstr(selfsup_last_error(), "online.projector"));
        }
    }
    selfsup_encoder *net;
    ss_assert_ok(selfsup_learner_network(l, "online.encoder", &net));
    ck_assert_ptr_eq(net, selfsup_learner_encoder(l));
    ss_assert_fails(selfsup_learner_network(NULL, "online.encoder", &net),
                    SELFSUP_ERR_INVALID_ARGUMENT, "l");
    ss_assert_fails(selfsup_learner_network(l, NULL, &net),
                    SELFSUP_ERR_INVALID_ARGUMENT, "role");
    ss_assert_fails(selfsup_learner_network(l, "online.encoder", NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "network");
    selfsup_learner_destroy(l);
}
END_TEST

/* A warm start is writing the encoder's state into the online and target
 * encoders by role: both learners then take the same steps, bit for bit.
 * The heads keep their initialisation; an exported encoder (even through
 * another pooling) starts a learner where the exporter stood. */
START_TEST(warm_start_is_writing_by_role)
{
    selfsup_tensor *views[2];
    make_views(16, 0, views);
    selfsup_learner *trained = make("byol", 6);
    step(trained, views);
    step(trained, views);
    char *path = temp_path();
    ss_assert_ok(selfsup_learner_export_encoder(trained, path));
    selfsup_encoder *exported = NULL, *gridded = NULL;
    ss_assert_ok(selfsup_encoder_load(&exported, path));
    ss_assert_ok(selfsup_encoder_clone_as(
        &gridded, exported, "resnet18:width=16,in_channels=1,grid=2"));

    selfsup_learner *warm = make("byol", 6), *by_hand = make("byol", 6);
    selfsup_learner *fresh = make("byol", 6);
    ss_assert_ok(selfsup_learner_warm_start(warm, gridded));
    const char *roles[] = {"online.encoder", "target.encoder"};
    for (int r = 0; r < 2; r++) {
        selfsup_encoder *net;
        ss_assert_ok(selfsup_learner_network(by_hand, roles[r], &net));
        ss_assert_ok(selfsup_encoder_copy_state(net, exported));
    }
    int64_t n_want, n;
    float *want = snapshot_encoder(selfsup_learner_encoder(trained), &n_want);
    float *got = snapshot_encoder(selfsup_learner_encoder(warm), &n);
    ck_assert_int_eq(n, n_want);
    ss_assert_all_close(got, want, n, 0, 0);
    free(got);
    got = snapshot_encoder(warm->target[0], &n);
    ss_assert_all_close(got, want, n, 0, 0);
    free(got);
    /* the projector is a fresh learner's, not the trained one's */
    float *head = snapshot_encoder(warm->online[NET_PROJECTOR], &n);
    float *head0 = snapshot_encoder(fresh->online[NET_PROJECTOR], &n);
    ss_assert_all_close(head, head0, n, 0, 0);
    free(head);
    free(head0);

    float loss_warm = step(warm, views), loss_hand = step(by_hand, views);
    ck_assert(loss_warm == loss_hand);
    ck_assert(loss_warm != step(fresh, views));
    got = snapshot_encoder(selfsup_learner_encoder(warm), &n);
    float *hand = snapshot_encoder(selfsup_learner_encoder(by_hand), &n);
    ss_assert_all_close(got, hand, n, 0, 0);
    free(got);
    free(hand);

    /* errors leave the learner as it was */
    selfsup_encoder *wide = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&wide, "resnet18:width=8,in_channels=1", 1));
    selfsup_learner *other = make("simclr", 6);
    ss_assert_fails(selfsup_learner_warm_start(NULL, exported),
                    SELFSUP_ERR_INVALID_ARGUMENT, "l");
    ss_assert_fails(selfsup_learner_warm_start(other, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e");
    float *before = snapshot_encoder(selfsup_learner_encoder(other), &n);
    ss_assert_fails(selfsup_learner_warm_start(other, wide),
                    SELFSUP_ERR_INVALID_ARGUMENT, "conv1.weight");
    got = snapshot_encoder(selfsup_learner_encoder(other), &n);
    ss_assert_all_close(got, before, n, 0, 0);
    free(got);
    free(before);
    ss_assert_ok(selfsup_learner_warm_start(other, exported)); /* no target */
    step(other, views);
    ss_assert_fails(selfsup_learner_warm_start(other, exported),
                    SELFSUP_ERR_STATE, "1 steps");

    free(want);
    unlink(path);
    selfsup_encoder_destroy(wide);
    selfsup_encoder_destroy(exported);
    selfsup_encoder_destroy(gridded);
    selfsup_learner_destroy(trained);
    selfsup_learner_destroy(warm);
    selfsup_learner_destroy(by_hand);
    selfsup_learner_destroy(fresh);
    selfsup_learner_destroy(other);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
}
END_TEST

/* An encoder saved with a whitening loads with it, and the embedding
 * calls apply it: the same bits as whitening the bare features. A file
 * missing part of it is refused. */
START_TEST(encoder_save_carries_whitening)
{
    selfsup_learner *l = make("simclr", 4);
    selfsup_encoder *e;
    ss_assert_ok(selfsup_encoder_clone(&e, selfsup_learner_encoder(l)));
    enum { COUNT = 40, SIDE = 16 };
    uint8_t pixels[COUNT * SIDE * SIDE];
    for (int i = 0; i < COUNT * SIDE * SIDE; i++)
        pixels[i] = (uint8_t)((i * 37 + i / 11) % 251);
    selfsup_dataset *d;
    ss_assert_ok(
        selfsup_dataset_from_memory(&d, pixels, COUNT, SIDE, SIDE, 1, NULL, 0));
    selfsup_tensor *raw, *white, *again;
    ss_assert_ok(selfsup_embed_dataset(e, d, 0, COUNT, NULL, NULL, &raw));
    selfsup_whitening *w;
    ss_assert_ok(selfsup_whitening_fit(&w, raw, "pca:components=5"));
    const int64_t wd[2] = {COUNT, 5};
    ss_assert_ok(selfsup_tensor_create(&white, 2, wd));
    ss_assert_ok(selfsup_whitening_apply(w, raw, white));
    ss_assert_ok(selfsup_encoder_set_whitening(e, w));
    ss_assert_ok(selfsup_embed_dataset(e, d, 0, COUNT, NULL, NULL, &again));
    ck_assert_int_eq(selfsup_tensor_dim(again, 1), 5);
    ck_assert(memcmp(selfsup_tensor_data(again), selfsup_tensor_data(white),
                     sizeof(float) * COUNT * 5) == 0);
    selfsup_tensor_destroy(again);

    char *path = temp_path();
    ss_assert_fails(selfsup_encoder_save(NULL, path),
                    SELFSUP_ERR_INVALID_ARGUMENT, "e is NULL");
    ss_assert_fails(selfsup_encoder_save(e, NULL), SELFSUP_ERR_INVALID_ARGUMENT,
                    "path is NULL");
    ss_assert_ok(selfsup_encoder_save(e, path));
    selfsup_encoder *back;
    ss_assert_ok(selfsup_encoder_load(&back, path));
    const selfsup_whitening *bw = selfsup_encoder_whitening(back);
    ck_assert_ptr_nonnull(bw);
    int64_t dim = selfsup_encoder_output_dim(e);
    float *a = malloc(sizeof(float) * (size_t)(6 * dim));
    float *b = malloc(sizeof(float) * (size_t)(6 * dim));
    ss_assert_ok(selfsup_whitening_read(w, a, a + dim));
    ss_assert_ok(selfsup_whitening_read(bw, b, b + dim));
    ck_assert(memcmp(a, b, sizeof(float) * (size_t)(6 * dim)) == 0);
    ss_assert_ok(selfsup_embed_dataset(back, d, 0, COUNT, NULL, NULL, &again));
    ck_assert(memcmp(selfsup_tensor_data(again), selfsup_tensor_data(white),
                     sizeof(float) * COUNT * 5) == 0);
    selfsup_tensor_destroy(again);
    selfsup_encoder_destroy(back);

    /* part of the whitening missing: refused, naming the section */
    drop_section(path, "net/online.encoder/whitening/projection");
    ss_assert_fails(selfsup_encoder_load(&back, path), SELFSUP_ERR_CORRUPT,
                    "whitening/projection");
    /* the learner's own export has none */
    ss_assert_ok(selfsup_learner_export_encoder(l, path));
    ss_assert_ok(selfsup_encoder_load(&back, path));
    ck_assert_ptr_null(selfsup_encoder_whitening(back));
    selfsup_encoder_destroy(back);
    unlink(path);
    free(a);
    free(b);
    selfsup_tensor_destroy(raw);
    selfsup_tensor_destroy(white);
    selfsup_whitening_destroy(w);
    selfsup_dataset_destroy(d);
    selfsup_encoder_destroy(e);
    selfsup_learner_destroy(l);
}
END_TEST

/* A learner re-planned to another length before its first step runs as
 * one made with that length; re-planned later, its next step takes the
 * rate and tau of the new length at the step reached; checkpoints keep the
 * new length; a length before the steps taken is refused. */
START_TEST(set_total_steps_replans_the_schedules)
{
    selfsup_tensor *a[2], *b[2];
    make_views(32, 0, a);
    make_views(32, 1, b);
    selfsup_learner *planned = make("byol", 12), *replanned = make("byol", 6),
                    *late = make("byol", 6);
    ss_assert_ok(selfsup_learner_set_total_steps(replanned, 12));
    for (int s = 0; s < 4; s++) {
        selfsup_tensor **v = s % 2 ? b : a;
        float l1 = step(planned, v), l2 = step(replanned, v);
        ck_assert_msg(memcmp(&l1, &l2, sizeof l1) == 0, "step %d: %.9g vs %.9g",
                      s, (double)l1, (double)l2);
        if (s < 3)
            step(late, v);
        else {
            ss_assert_ok(selfsup_learner_set_total_steps(late, 12));
            step(late, v);
        }
    }
    const char *keys[] = {"lr", "tau"};
    for (int k = 0; k < 2; k++) {
        double want, got, before;
        ss_assert_ok(selfsup_learner_diagnostic(planned, keys[k], &want));
        ss_assert_ok(selfsup_learner_diagnostic(late, keys[k], &got));
        ck_assert_msg(want == got, "%s: %.17g vs %.17g", keys[k], want, got);
        ss_assert_ok(selfsup_learner_diagnostic(replanned, keys[k], &before));
        ck_assert(before == want);
    }

    char text[32];
    ck_assert_int_eq(selfsup_learner_set_total_steps(late, 3),
                     SELFSUP_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(
        strstr(selfsup_last_error(), "selfsup_learner_set_total_steps"));
    ck_assert_int_eq(selfsup_learner_set_total_steps(late, 0),
                     SELFSUP_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(selfsup_learner_set_total_steps(NULL, 5),
                     SELFSUP_ERR_INVALID_ARGUMENT);
    char *path = temp_path();
    ss_assert_ok(selfsup_learner_save(late, path));
    selfsup_learner *loaded;
    ss_assert_ok(selfsup_learner_load(&loaded, path));
    unlink(path);
    ss_assert_ok(
        selfsup_learner_config_value(loaded, "total_steps", text, sizeof text));
    ck_assert_str_eq(text, "12");
    /* the run may be declared over where it stands */
    ss_assert_ok(selfsup_learner_set_total_steps(loaded, 4));
    ss_assert_ok(
        selfsup_learner_config_value(loaded, "total_steps", text, sizeof text));
    ck_assert_str_eq(text, "4");

    selfsup_learner_destroy(planned);
    selfsup_learner_destroy(replanned);
    selfsup_learner_destroy(late);
    selfsup_learner_destroy(loaded);
    for (int k = 0; k < 2; k++) {
        selfsup_tensor_destroy(a[k]);
        selfsup_tensor_destroy(b[k]);
    }
}
END_TEST

static selfsup_status create_learner(void *ctx)
{
    selfsup_learner *l = NULL;
    selfsup_status s = selfsup_learner_create(&l, ctx);
    selfsup_learner_destroy(l);
    return s;
}

START_TEST(allocation_failures_in_create_are_clean)
{
    selfsup_learner_config *c = small_config(METHODS[_i], 5);
    ss_sweep_alloc_failures(create_learner, c, SELFSUP_OK);
    selfsup_learner_config_destroy(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("learner");
    TCase *tc = tcase_create("learner");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, each_method_loss_falls, 0, 6);
    tcase_add_test(tc, byol_target_follows_ema_rule);
    tcase_add_loop_test(tc, resume_is_exact, 0, 6);
    tcase_add_test(tc, non_finite_step_changes_nothing);
    tcase_add_test(tc, bad_arguments_are_refused);
    tcase_add_test(tc, recipe_follows_the_run_length);
    tcase_add_test(tc, checkpoints_without_recipe_keys_load);
    tcase_add_test(tc, export_carries_encoder_and_normalization);
    tcase_add_test(tc, encoder_save_carries_whitening);
    tcase_add_test(tc, key_list_written_once);
    tcase_add_test(tc, spec_keys_are_checked_when_set);
    tcase_add_loop_test(tc, networks_by_role, 0, 6);
    tcase_add_test(tc, warm_start_is_writing_by_role);
    tcase_add_test(tc, set_total_steps_replans_the_schedules);
    tcase_add_loop_test(tc, allocation_failures_in_create_are_clean, 0, 1);
#ifndef SELFSUP_TEST_SANITIZED
    /* Long runs that exercise no code the tests above do not: left to
     * the optimised build, where they take a tenth of the time. */
    tcase_add_test(tc, simsiam_collapses_without_stop_gradient);
    tcase_add_test(tc, vicreg_collapses_without_variance);
    tcase_add_loop_test(tc, allocation_failures_in_create_are_clean, 1, 2);
#else
    (void)simsiam_collapses_without_stop_gradient;
    (void)vicreg_collapses_without_variance;
#endif
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
