/* selfsup train: self-supervised training on an image dataset. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli_eval.h"
#include "cli_ranks.h"
#include "commands.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Sets a config key from an option when the option was given. */
static int set_from(selfsup_learner_config *c, const char *key,
                    const char *value)
{
    if (!value)
        return CLI_OK;
    selfsup_status s = selfsup_learner_config_set(c, key, value);
    return s == SELFSUP_OK ? CLI_OK : cli_fail(key, s);
}

/* Keys --set must not take: they have their own options, which the rest of
 * the run (steps per epoch, the loader, the views) reads. */
static const char *const OWN_OPTION_KEYS[][2] = {
    {"encoder", "--encoder"},     {"objective", "--objective"},
    {"optimizer", "--optimizer"}, {"lr", "--lr"},
    {"batch_size", "--batch"},    {"views", "--views"},
    {"seed", "--seed"},           {"total_steps", "--epochs"},
    {"precision", "--precision"},
};

/* Applies --set "KEY=VALUE;KEY=VALUE": ';' separates, since spec values
 * hold commas and colons. */
static int set_assignments(selfsup_learner_config *c, const char *text)
{
    if (!text)
        return CLI_OK;
    char *copy = strdup(text);
    if (!copy) {
        fprintf(stderr, "selfsup: --set: out of memory\n");
        return CLI_FAILED;
    }
    int rc = CLI_OK;
    for (char *item = copy, *next; rc == CLI_OK && item; item = next) {
        next = strchr(item, ';');
        if (next)
            *next++ = '\0';
        char *eq = strchr(item, '=');
        if (!eq || eq == item) {
            fprintf(stderr,
                    "selfsup: --set: \"%s\" is not KEY=VALUE (assignments "
                    "are separated by ';')\n",
                    item);
            rc = CLI_USAGE;
            break;
        }
        *eq = '\0';
        for (size_t k = 0; k < sizeof OWN_OPTION_KEYS / sizeof *OWN_OPTION_KEYS;
             k++)
            if (strcmp(item, OWN_OPTION_KEYS[k][0]) == 0) {
                fprintf(stderr, "selfsup: --set: %s has its own option: %s\n",
                        item, OWN_OPTION_KEYS[k][1]);
                rc = CLI_USAGE;
            }
        selfsup_status s = rc == CLI_OK
                               ? selfsup_learner_config_set(c, item, eq + 1)
                               : SELFSUP_OK;
        if (s != SELFSUP_OK)
            rc = cli_fail("--set", s);
    }
    free(copy);
    return rc;
}

static int64_t config_int(const selfsup_learner *l, const char *key)
{
    char buf[64];
    if (selfsup_learner_config_value(l, key, buf, sizeof buf) != SELFSUP_OK)
        return 0;
    return strtoll(buf, NULL, 10);
}

/* The embedding a run hands out and monitors: the online encoder as it
 * is now, a ResNet that trains with global pooling seen through
 * embed_grid x embed_grid cells (its own spec if it has a grid already,
 * or is not a ResNet). */
static int embedding_encoder(const selfsup_learner *l, int64_t embed_grid,
                             selfsup_encoder **out)
{
    const selfsup_encoder *e = selfsup_learner_encoder(l);
    const char *spec = selfsup_encoder_spec(e);
    char as[512];
    if (embed_grid > 1 && strncmp(spec, "resnet18:", 9) == 0 &&
        !strstr(spec, "grid="))
        snprintf(as, sizeof as, "%s,grid=%lld", spec, (long long)embed_grid);
    else
        snprintf(as, sizeof as, "%s", spec);
    /* The export runs on any CPU, as the library's own export does: in
     * float32 whatever precision trained it. */
    cli_spec_in_f32(as);
    selfsup_status s = selfsup_encoder_clone_as(out, e, as);
    return s == SELFSUP_OK ? CLI_OK : cli_fail("--embed-grid", s);
}

/* cli_eval_knn on the learner's embedding. */
static int eval_knn(const selfsup_learner *l, int64_t embed_grid,
                    const cli_eval_data *d, const cli_eval_options *o,
                    double *top1, double *white_top1, double *rankme,
                    selfsup_whitening **whitening)
{
    selfsup_encoder *e = NULL;
    int rc = embedding_encoder(l, embed_grid, &e);
    if (rc == CLI_OK)
        rc = cli_eval_knn(e, d, o, top1, white_top1, rankme, whitening);
    selfsup_encoder_destroy(e);
    return rc;
}

/* Saves OUT/last.ckpt and the encoder export (the embedding), which
 * records whitening (fitted on the training images for the embedding as
 * it is now) so that embedding programs get whitened features; reports
 * failures. */
static int save_all(const selfsup_learner *l, const cli_train_plan *plan,
                    const selfsup_whitening *whitening)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/last.ckpt", plan->out);
    selfsup_status s = selfsup_learner_save(l, path);
    if (s != SELFSUP_OK)
        return cli_fail("saving the checkpoint", s);
    snprintf(path, sizeof path, "%s/encoder.ckpt", plan->out);
    selfsup_encoder *e = NULL;
    int rc = embedding_encoder(l, plan->embed_grid, &e);
    if (rc != CLI_OK)
        return rc;
    s = selfsup_encoder_set_whitening(e, whitening);
    if (s == SELFSUP_OK)
        s = selfsup_encoder_save(e, path);
    selfsup_encoder_destroy(e);
    if (s != SELFSUP_OK)
        return cli_fail("exporting the encoder", s);
    return CLI_OK;
}

/* Evaluations a run of steps makes: after every eval_every-th epoch and
 * after the last step. */
static int64_t evals_in(int64_t steps, int64_t per_epoch, int64_t eval_every)
{
    if (eval_every <= 0)
        return 0;
    int64_t at_epochs = steps / per_epoch / eval_every;
    return at_epochs + (steps % (per_epoch * eval_every) != 0);
}

static int set_total_steps(selfsup_learner_config *c, int64_t steps)
{
    char number[32];
    snprintf(number, sizeof number, "%lld", (long long)steps);
    return set_from(c, "total_steps", number);
}

/* The views of every image of the run, side x side pixels, and the loader
 * that batches them. */
static int make_loader(const cli_train_plan *plan, const selfsup_dataset *train,
                       int side, int64_t batch, int64_t n_views, uint64_t seed,
                       selfsup_views **views, selfsup_loader **loader)
{
    selfsup_status s =
        selfsup_views_create(views, plan->augment, (int)n_views, side);
    if (s != SELFSUP_OK)
        return cli_fail("--augment", s);
    /* over ranks, each loader makes its rank's rows of every batch */
    char options[128];
    snprintf(options, sizeof options,
             "loader:drop_last=1,prefetch=2,shuffle=1,ranks=%d,rank=%d",
             plan->ranks ? plan->ranks->size : 1,
             plan->ranks ? plan->ranks->rank : 0);
    s = selfsup_loader_create(loader, train, *views, batch, seed, options);
    return s == SELFSUP_OK ? CLI_OK : cli_fail("making the loader", s);
}

/* Mean seconds of a whole training step of l: the loader's batch (its
 * augmentation shares the cores) and the step, over TIMED steps after one
 * untimed, whose time is *first (a new learner's first step also makes its
 * oneDNN primitives). Rewinds the loader to the run's first batch. */
static int time_real_steps(selfsup_learner *l, selfsup_loader *loader,
                           int n_views, double *mean, double *first)
{
    enum { TIMED = 6 };
    double times[TIMED];
    selfsup_status s = SELFSUP_OK;
    for (int i = 0; i <= TIMED && s == SELFSUP_OK; i++) {
        selfsup_tensor *const *batch;
        float loss;
        double t0 = cli_now();
        s = selfsup_loader_next(loader, &batch, NULL, NULL);
        if (s == SELFSUP_OK)
            s = selfsup_learner_step(
                l, n_views, (const selfsup_tensor *const *)batch, &loss);
        if (i > 0)
            times[i - 1] = cli_now() - t0;
        else
            *first = cli_now() - t0;
    }
    if (s == SELFSUP_OK)
        s = selfsup_loader_seek(loader, 0, 0);
    if (s != SELFSUP_OK)
        return cli_fail("timing a training step", s);
    /* The mean, not the median: the run pays for its slow steps too. */
    *mean = 0;
    for (int i = 0; i < TIMED; i++)
        *mean += times[i] / TIMED;
    return CLI_OK;
}

/* A learner from config, warm-started from init (NULL: none). */
static int make_learner(const selfsup_learner_config *config,
                        const selfsup_encoder *init, selfsup_learner **out)
{
    selfsup_learner *l;
    selfsup_status s = selfsup_learner_create(&l, config);
    if (s != SELFSUP_OK)
        return cli_fail("making the learner", s);
    if (init && (s = selfsup_learner_warm_start(l, init)) != SELFSUP_OK) {
        selfsup_learner_destroy(l);
        return cli_fail("--init-encoder", s);
    }
    *out = l;
    return CLI_OK;
}

/* Fits the run to plan->time_budget seconds counted from started: times
 * the kNN monitor on the initial encoder (its figure is the run's step-0
 * point, *init_knn) and a few steps of a learner made from the config, fed
 * by the run's loader, then sets total_steps to what leaves the budget for
 * the steps and every evaluation. The recipe can depend on total_steps, so
 * a plan that changes it is timed again. */
static int plan_to_budget(selfsup_learner_config *config,
                          const cli_train_plan *plan, selfsup_loader *loader,
                          int64_t per_epoch, const cli_eval_data *eval,
                          const cli_eval_options *eval_opts, double started,
                          const selfsup_encoder *init, double *init_knn,
                          double *init_white_knn, double *init_rankme,
                          int64_t *total, double *planned_eval_s)
{
    double step_s = 0, eval_s = 0;
    int64_t steps = per_epoch;
    char timed_recipe[16] = "", recipe[16] = "";
    bool evaluated = false;
    int rc = set_total_steps(config, steps);
    for (int pass = 0; pass < 4 && rc == CLI_OK; pass++) {
        selfsup_status s =
            selfsup_learner_config_get(config, "recipe", recipe, sizeof recipe);
        if (s != SELFSUP_OK)
            return cli_fail("reading the recipe", s);
        if (pass > 0 && strcmp(recipe, timed_recipe) == 0)
            break;
        selfsup_learner *probe = NULL;
        if ((rc = make_learner(config, init, &probe)) != CLI_OK)
            return rc;
        /* the step-0 figure, once: timing another recipe does not change
         * the initial encoder */
        if (plan->eval_every > 0 && !evaluated) {
            double t0 = cli_now();
            rc = eval_knn(probe, plan->embed_grid, eval, eval_opts, init_knn,
                          init_white_knn, init_rankme, NULL);
            eval_s = cli_now() - t0;
            evaluated = true;
        }
        double first_s = 0;
        if (rc == CLI_OK)
            rc = time_real_steps(probe, loader, (int)plan->views, &step_s,
                                 &first_s);
        selfsup_learner_destroy(probe);
        snprintf(timed_recipe, sizeof timed_recipe, "%s", recipe);
        /* The run's learner pays the first step's set-up again; steps
         * vary, so 3% of the rest is left as a margin. */
        double left =
            (plan->time_budget - (cli_now() - started) - (first_s - step_s)) *
            0.97;
        for (int i = 0; i < 4 && rc == CLI_OK; i++)
            steps = (int64_t)((left - (double)evals_in(steps, per_epoch,
                                                       plan->eval_every) *
                                          eval_s) /
                              step_s);
        if (steps < 1)
            steps = 1;
        if (rc == CLI_OK)
            rc = set_total_steps(config, steps);
    }
    if (rc != CLI_OK)
        return rc;
    printf("planned for %gs: %.3f s a step, %.1f s an evaluation: %lld "
           "steps (%.2f epochs, %s recipe)\n",
           plan->time_budget, step_s, eval_s, (long long)steps,
           (double)steps / (double)per_epoch, recipe);
    *total = steps;
    *planned_eval_s = eval_s;
    return CLI_OK;
}

/* When a planned run re-plans: at a tenth and at half of its planned steps
 * (and not before it has a few steps of its own to go by). */
static bool replan_due(int64_t step, int64_t planned)
{
    return step >= 4 && step < planned &&
           (step == planned / 10 || step == planned / 2);
}

/* Fits the rest of a planned run to what is left of the budget from the
 * run's own pace: the planner timed a few steps of a fresh learner, and a
 * run's steps settle faster or slower than those (warm caches, the
 * loader's prefetch overlapping the step). step_s is this run's seconds a
 * step (all of the loop's work but evaluations), eval_s an evaluation's
 * with its saves. Changes *total and the learner's schedules when the new
 * length differs by more than 1%. */
static int replan_to_budget(selfsup_learner *l, const cli_train_plan *plan,
                            double started, int64_t step, int64_t per_epoch,
                            double step_s, double eval_s, int64_t *total)
{
    double left = (plan->time_budget - (cli_now() - started)) * 0.97;
    int64_t evals_done =
        plan->eval_every > 0 ? step / per_epoch / plan->eval_every : 0;
    int64_t steps = *total;
    for (int i = 0; i < 4; i++) {
        double evals =
            (double)(evals_in(steps, per_epoch, plan->eval_every) - evals_done);
        steps = step + (int64_t)((left - evals * eval_s) / step_s);
        if (steps <= step)
            steps = step + 1;
    }
    if (llabs(steps - *total) * 100 <= *total)
        return CLI_OK;
    selfsup_status s = selfsup_learner_set_total_steps(l, steps);
    if (s != SELFSUP_OK)
        return cli_fail("re-planning the run", s);
    printf("\nre-planned at step %lld: %.3f s a step, %.1f s an evaluation: "
           "%lld steps (%.2f epochs)\n",
           (long long)step, step_s, eval_s, (long long)steps,
           (double)steps / (double)per_epoch);
    *total = steps;
    return CLI_OK;
}

/* The kNN monitor, and the whitening it fits for the export, see the
 * images as the views normalise them, which is also what the export
 * records for `selfsup embed` (a recipe may give its own mean and std). */
static int monitor_like_views(cli_eval_data *eval, const selfsup_views *views,
                              const selfsup_dataset *train)
{
    selfsup_status s =
        selfsup_views_normalization(views, train, eval->mean, eval->std);
    return s == SELFSUP_OK ? CLI_OK : cli_fail("the views' normalisation", s);
}

int cli_train_run(const cli_train_plan *asked)
{
    /* a copy: --augment auto and a monitor without test images resolve
     * once the images are open */
    cli_train_plan resolved = *asked;
    const cli_train_plan *plan = &resolved;
    int rc = CLI_OK;
    selfsup_dataset *train = NULL;
    selfsup_views *views = NULL;
    selfsup_loader *loader = NULL;
    selfsup_learner *learner = NULL;
    selfsup_learner_config *config = NULL;
    selfsup_encoder *init = NULL; /* --init-encoder */
    cli_eval_data eval = {0};
    cli_metrics metrics = {0};
    cli_series loss_curve = {0}, knn_curve = {0};
    selfsup_status s;
    char path[4096];
    /* A time budget counts from here: planning and evaluations spend it. */
    double started = cli_now(), init_knn = NAN, init_white_knn = NAN;
    double init_rankme = NAN;
    double planned_for = NAN, planned_eval_s = 0;
    /* the whitening the export records, fitted at step whitened_at */
    selfsup_whitening *whitening = NULL;
    int64_t whitened_at = -1;
    cli_eval_options eval_opts = {plan->knn_k, plan->knn_t, false, false};
    /* Over ranks, rank 0 leads: it alone evaluates, prints and writes;
     * every rank trains. */
    int ranks = plan->ranks ? plan->ranks->size : 1;
    selfsup_comm *comm = plan->ranks ? plan->ranks->comm : NULL;
    bool lead = !plan->ranks || plan->ranks->rank == 0;
    if (!lead)
        resolved.eval_every = 0;
    if (ranks > 1 && plan->plan_to_budget) {
        fprintf(stderr,
                "selfsup: --time-budget without --epochs plans the "
                "run on one process; over %d ranks give --epochs "
                "(--time-budget then stops the run)\n",
                ranks);
        return CLI_USAGE;
    }

    if (!cli_make_dir(plan->out))
        return CLI_FAILED;
    if (plan->threads > 0 &&
        (s = selfsup_set_num_threads((int)plan->threads)) != SELFSUP_OK)
        return cli_fail("--threads", s);

    if (plan->init_encoder &&
        (s = selfsup_encoder_load(&init, plan->init_encoder)) != SELFSUP_OK)
        return cli_fail("--init-encoder", s);
    if ((rc = cli_open_data(plan->data, "train", plan->skip_bad, plan->out,
                            &train)) != CLI_OK) {
        selfsup_encoder_destroy(init);
        return rc;
    }
    if (strcmp(plan->augment, "auto") == 0)
        resolved.augment = cli_auto_augment(train);
    /* the views' side: asked, or smaller than the images' when the views
     * are the program's (commands.h, cli_small_view_side) */
    int view_side = plan->view_size > 0 ? (int)plan->view_size
                                        : selfsup_dataset_height(train);
    int small = asked->view_size == 0 && strcmp(asked->augment, "auto") == 0
                    ? cli_small_view_side(view_side)
                    : 0;
    if (small > 0) {
        printf("views of %d pixels for the %d-pixel images (--view-size %d "
               "trains on the images' own)\n",
               small, view_side, view_side);
        view_side = small;
    }
    if (plan->eval_every > 0 && !selfsup_dataset_has_labels(train)) {
        fprintf(stderr, "selfsup: the training images have no labels: no "
                        "kNN monitor\n");
        resolved.eval_every = 0;
    } else if (plan->eval_every > 0 && !cli_data_has_test_split(plan->data)) {
        fprintf(stderr,
                "selfsup: %s has no test split (train/ and test/ "
                "folders): no kNN monitor\n",
                plan->data);
        resolved.eval_every = 0;
    }
    if (plan->limit > 0 && plan->limit < selfsup_dataset_count(train)) {
        selfsup_dataset *head;
        rc = cli_dataset_head(train, plan->limit, &head);
        selfsup_dataset_destroy(train);
        train = head;
        if (rc != CLI_OK)
            goto done;
    }

    if (plan->resume) {
        s = selfsup_learner_load(&learner, plan->resume);
        if (s != SELFSUP_OK) {
            rc = cli_fail("loading the checkpoint to resume", s);
            goto done;
        }
        if (plan->method &&
            strcmp(selfsup_learner_method(learner), plan->method) != 0) {
            fprintf(
                stderr, "selfsup: %s was trained with --method %s, not %s\n",
                plan->resume, selfsup_learner_method(learner), plan->method);
            rc = CLI_USAGE;
            goto done;
        }
    } else {
        s = selfsup_learner_config_create(&config, plan->method);
        if (s != SELFSUP_OK) {
            rc = cli_fail("--method", s);
            goto done;
        }
        char encoder[256], number[64];
        if (!plan->encoder)
            snprintf(encoder, sizeof encoder, CLI_DEFAULT_ENCODER_FORMAT,
                     selfsup_dataset_channels(train));
        rc = set_from(config, "encoder",
                      plan->encoder ? plan->encoder : encoder);
        if (rc == CLI_OK)
            rc = set_from(config, "objective", plan->objective);
        if (rc == CLI_OK)
            rc = set_from(config, "optimizer", plan->optimizer);
        if (rc == CLI_OK)
            rc = set_from(config, "lr", plan->lr);
        if (rc == CLI_OK)
            rc = set_from(config, "precision",
                          cli_precision_for(plan->precision, ranks));
        if (rc == CLI_OK)
            rc = set_assignments(config, plan->set);
        snprintf(number, sizeof number, "%lld", (long long)plan->batch);
        if (rc == CLI_OK)
            rc = set_from(config, "batch_size", number);
        snprintf(number, sizeof number, "%lld", (long long)plan->views);
        if (rc == CLI_OK)
            rc = set_from(config, "views", number);
        snprintf(number, sizeof number, "%llu", (unsigned long long)plan->seed);
        if (rc == CLI_OK)
            rc = set_from(config, "seed", number);
        /* The recipe follows the run's length in epochs of these images. */
        snprintf(number, sizeof number, "%lld",
                 (long long)selfsup_dataset_count(train));
        if (rc == CLI_OK)
            rc = set_from(config, "dataset_size", number);
        int64_t per_epoch = selfsup_dataset_count(train) / plan->batch;
        if (per_epoch < 1) {
            fprintf(stderr,
                    "selfsup: --batch %lld is larger than the %lld "
                    "training images\n",
                    (long long)plan->batch,
                    (long long)selfsup_dataset_count(train));
            rc = CLI_USAGE;
        }
        int64_t total =
            plan->max_steps > 0 ? plan->max_steps : per_epoch * plan->epochs;
        if (rc == CLI_OK && plan->plan_to_budget && plan->time_budget > 0 &&
            plan->max_steps <= 0) {
            if (plan->eval_every > 0)
                rc = cli_eval_data_open(&eval, plan->data, plan->skip_bad,
                                        plan->out, plan->limit);
            if (rc == CLI_OK)
                rc = make_loader(plan, train, view_side, plan->batch,
                                 plan->views, plan->seed, &views, &loader);
            if (rc == CLI_OK && plan->eval_every > 0)
                rc = monitor_like_views(&eval, views, train);
            if (rc == CLI_OK)
                rc = plan_to_budget(config, plan, loader, per_epoch, &eval,
                                    &eval_opts, started, init, &init_knn,
                                    &init_white_knn, &init_rankme, &total,
                                    &planned_eval_s);
            planned_for = plan->time_budget;
        }
        if (rc == CLI_OK)
            rc = set_total_steps(config, total);
        if (rc != CLI_OK)
            goto done;
        if ((rc = make_learner(config, init, &learner)) != CLI_OK)
            goto done;
    }
    if (ranks > 1 &&
        (s = selfsup_learner_set_comm(learner, comm)) != SELFSUP_OK) {
        rc = cli_fail("spreading the run over the ranks", s);
        goto done;
    }

    int64_t batch = config_int(learner, "batch_size");
    int64_t total = config_int(learner, "total_steps");
    int64_t n_views = config_int(learner, "views");
    uint64_t seed = (uint64_t)config_int(learner, "seed");
    if (!loader && (rc = make_loader(plan, train, view_side, batch, n_views,
                                     seed, &views, &loader)) != CLI_OK)
        goto done;
    /* Exports then tell `selfsup embed` how the images were prepared. */
    float mean[4], std[4];
    s = selfsup_views_normalization(views, train, mean, std);
    if (s == SELFSUP_OK)
        s = selfsup_learner_set_input_normalization(learner, mean, std);
    if (s != SELFSUP_OK) {
        rc = cli_fail("recording the input normalisation", s);
        goto done;
    }
    int64_t per_epoch = selfsup_loader_batches_per_epoch(loader);
    int64_t epochs = (total + per_epoch - 1) / per_epoch;
    int64_t step = selfsup_learner_steps(learner);
    if (step > 0 && (s = selfsup_loader_seek(loader, step / per_epoch,
                                             step % per_epoch)) != SELFSUP_OK) {
        rc = cli_fail("positioning the loader to resume", s);
        goto done;
    }

    if (plan->eval_every > 0 && !eval.train) {
        rc = cli_eval_data_open(&eval, plan->data, plan->skip_bad, plan->out,
                                plan->limit);
        if (rc == CLI_OK)
            rc = monitor_like_views(&eval, views, train);
        if (rc != CLI_OK)
            goto done;
    }
    snprintf(path, sizeof path, "%s/metrics.jsonl", plan->out);
    double random_knn = -1;
    if (lead &&
        (step > 0 ? !cli_metrics_resume(&metrics, path, step, &loss_curve,
                                        &knn_curve, &random_knn)
                  : !cli_metrics_open(&metrics, path, false))) {
        rc = CLI_FAILED;
        goto done;
    }
    printf("training %s on %s: %lld images, batch %lld, %lld views of "
           "%dx%d, %lld steps (%lld epochs), %d threads, output in %s\n",
           selfsup_learner_method(learner),
           selfsup_encoder_spec(selfsup_learner_encoder(learner)),
           (long long)selfsup_dataset_count(train), (long long)batch,
           (long long)n_views, view_side, view_side, (long long)total,
           (long long)epochs, selfsup_get_num_threads(), plan->out);
    if (ranks > 1)
        printf("over %d ranks: %lld images of each batch a rank\n", ranks,
               (long long)(batch / ranks));

    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old_sa);
    interrupted = 0;
    /* A planned run finishes its schedule unless its steps slow down by a
     * tenth; otherwise the budget is a hard stop. */
    double stop_after =
        isnan(planned_for) ? plan->time_budget : 1.1 * plan->time_budget;
    if (plan->eval_every > 0 && step == 0) {
        /* Step 0 is the random-init encoder: its kNN is the baseline (the
         * planner measured it on the same initial encoder). */
        double top1 = init_knn, white = init_white_knn, rank = init_rankme;
        if (isnan(top1))
            rc = eval_knn(learner, plan->embed_grid, &eval, &eval_opts, &top1,
                          &white, &rank, NULL);
        if (rc != CLI_OK)
            goto restore_signal;
        random_knn = top1;
        cli_series_add(&knn_curve, 0, top1);
        cli_metrics_write(&metrics,
                          "\"type\": \"eval\", \"step\": 0, \"epoch\": 0, "
                          "\"knn_top1\": %.6f, \"knn_white_top1\": %.6f, "
                          "\"rankme\": %.3f, \"knn_k\": %d, \"knn_t\": %g, "
                          "\"seconds\": %.1f",
                          top1, white, rank, plan->knn_k, (double)plan->knn_t,
                          cli_now() - started);
        printf("kNN top-1 at %s: %.2f%% (whitened %.2f%%), effective rank "
               "%.1f\n",
               init ? "the start (--init-encoder)" : "initialisation",
               100 * top1, 100 * white, rank);
    }

    cli_progress progress = {0};
    float loss = NAN;
    /* A planned run's own pace, for re-planning: wall time from the end of
     * its first step (which makes the oneDNN primitives) less evaluations. */
    const int64_t planned = total;
    double paced_from = NAN, eval_spent = 0, eval_s = planned_eval_s;
    int64_t paced_at = 0;
    while (step < total && rc == CLI_OK) {
        int64_t epoch = step / per_epoch;
        if (step % per_epoch == 0 || !progress.total)
            /* A run planned in steps (the demo's) may end mid-epoch. */
            cli_progress_begin(&progress, epoch, epochs,
                               total - epoch * per_epoch < per_epoch
                                   ? total - epoch * per_epoch
                                   : per_epoch);
        selfsup_tensor *const *batch_views;
        int64_t at_epoch, at_batch;
        double t0 = cli_now();
        s = selfsup_loader_next(loader, &batch_views, &at_epoch, &at_batch);
        if (ranks > 1) /* a rank that could not read its rows stops all */
            s = selfsup_comm_agree(comm, s);
        if (s == SELFSUP_OK)
            s = selfsup_learner_step(learner, (int)n_views,
                                     (const selfsup_tensor *const *)batch_views,
                                     &loss);
        if (s != SELFSUP_OK) {
            rc = cli_fail("training step", s);
            break;
        }
        double dt = cli_now() - t0;
        step++;
        double lr = NAN, collapse = NAN, margin = NAN;
        selfsup_learner_diagnostic(learner, "lr", &lr);
        selfsup_learner_diagnostic(learner, "collapse_std", &collapse);
        char extra[64] = ""; /* GroCo's health figure, when it has one */
        if (selfsup_learner_diagnostic(learner, "margin", &margin) ==
            SELFSUP_OK)
            snprintf(extra, sizeof extra, "\"margin\": %.6f, ", margin);
        cli_metrics_write(&metrics,
                          "\"type\": \"step\", \"step\": %lld, \"epoch\": "
                          "%lld, \"loss\": %.6f, \"lr\": %.6g, "
                          "\"collapse_std\": %.6f, %s\"images_per_s\": %.1f, "
                          "\"seconds\": %.1f",
                          (long long)step, (long long)epoch, (double)loss, lr,
                          collapse, extra, (double)batch / dt,
                          cli_now() - started);
        cli_series_add(&loss_curve, (double)step, (double)loss);
        cli_progress_update(&progress, step - epoch * per_epoch, loss,
                            (double)batch / dt);
        bool epoch_done = step % per_epoch == 0 || step == total;
        if (epoch_done)
            cli_progress_end(&progress, loss);
        if (epoch_done && plan->eval_every > 0 &&
            ((epoch + 1) % plan->eval_every == 0 || step == total)) {
            double top1, white, rank, eval_started = cli_now();
            selfsup_whitening *fitted = NULL;
            rc = eval_knn(learner, plan->embed_grid, &eval, &eval_opts, &top1,
                          &white, &rank, &fitted);
            if (rc != CLI_OK)
                break;
            selfsup_whitening_destroy(whitening);
            whitening = fitted;
            whitened_at = step;
            cli_series_add(&knn_curve, (double)step, top1);
            cli_metrics_write(&metrics,
                              "\"type\": \"eval\", \"step\": %lld, "
                              "\"epoch\": %lld, \"knn_top1\": %.6f, "
                              "\"knn_white_top1\": %.6f, \"rankme\": %.3f, "
                              "\"knn_k\": %d, \"knn_t\": %g, "
                              "\"seconds\": %.1f",
                              (long long)step, (long long)epoch + 1, top1,
                              white, rank, plan->knn_k, (double)plan->knn_t,
                              cli_now() - started);
            printf("kNN top-1 after epoch %lld: %.2f%%, whitened %.2f%% "
                   "(k = %d, T = %g), effective rank %.1f\n",
                   (long long)epoch + 1, 100 * top1, 100 * white, plan->knn_k,
                   (double)plan->knn_t, rank);
            if (lead)
                rc = save_all(learner, plan, whitening);
            eval_s = cli_now() - eval_started;
            eval_spent += eval_s;
        }
        if (rc == CLI_OK && !isnan(planned_for)) {
            if (isnan(paced_from)) {
                paced_from = cli_now();
                paced_at = step;
                eval_spent = 0;
            } else if (replan_due(step, planned)) {
                double step_s = (cli_now() - paced_from - eval_spent) /
                                (double)(step - paced_at);
                rc = replan_to_budget(learner, plan, started, step, per_epoch,
                                      step_s, eval_s, &total);
                epochs = (total + per_epoch - 1) / per_epoch;
            }
        }
        /* Stopping is rank 0's decision (its clock, its Ctrl-C), taken by
         * every rank at the same step. */
        bool stop_interrupted = interrupted;
        bool stop_budget =
            plan->time_budget > 0 && cli_now() - started > stop_after;
        if (rc == CLI_OK && ranks > 1 &&
            ((rc = cli_ranks_share_flag(plan->ranks, &stop_interrupted)) !=
                 CLI_OK ||
             (rc = cli_ranks_share_flag(plan->ranks, &stop_budget)) != CLI_OK))
            break;
        if (stop_interrupted) {
            interrupted = 1;
            printf("\ninterrupted at step %lld: saving %s/last.ckpt\n",
                   (long long)step, plan->out);
            break;
        }
        if (stop_budget) {
            printf("\ntime budget of %gs reached at step %lld\n", stop_after,
                   (long long)step);
            break;
        }
    }
    if (!lead) { /* rank 0 writes what the run made */
        if (rc == CLI_OK && interrupted)
            rc = CLI_INTERRUPTED;
        goto restore_signal;
    }
    if (rc == CLI_OK && whitened_at != step) {
        /* the run ended away from a monitor: whiten for the final encoder */
        printf("whitening the export's features (one pass over the %lld "
               "training images)\n",
               (long long)selfsup_dataset_count(train));
        selfsup_whitening_destroy(whitening);
        whitening = NULL;
        selfsup_encoder *e = NULL;
        rc = embedding_encoder(learner, plan->embed_grid, &e);
        if (rc == CLI_OK)
            rc = cli_fit_whitening(e, train, mean, std, &whitening);
        selfsup_encoder_destroy(e);
    }
    if (rc == CLI_OK)
        rc = save_all(learner, plan, whitening);
    if (rc == CLI_OK) {
        char title[256];
        snprintf(title, sizeof title, "selfsup %s, %lld steps",
                 selfsup_learner_method(learner), (long long)step);
        snprintf(path, sizeof path, "%s/curves.svg", plan->out);
        if (!cli_write_curves_svg(path, &loss_curve, &knn_curve, -1, random_knn,
                                  title))
            fprintf(stderr, "selfsup: could not write %s\n", path);
        printf("checkpoint: %s/last.ckpt, encoder: %s/encoder.ckpt, "
               "metrics: %s/metrics.jsonl, curves: %s/curves.svg\n",
               plan->out, plan->out, plan->out, plan->out);
    }
    if (rc == CLI_OK && interrupted)
        rc = CLI_INTERRUPTED;
restore_signal:
    sigaction(SIGINT, &old_sa, NULL);
done:
    selfsup_encoder_destroy(init);
    selfsup_whitening_destroy(whitening);
    cli_metrics_close(&metrics);
    cli_series_free(&loss_curve);
    cli_series_free(&knn_curve);
    cli_eval_data_close(&eval);
    selfsup_loader_destroy(loader);
    selfsup_views_destroy(views);
    selfsup_learner_destroy(learner);
    selfsup_learner_config_destroy(config);
    selfsup_dataset_destroy(train);
    return rc;
}

/* Two renderings of one setting: numbers by value (relative 1e-9), other
 * values by their text without blanks. */
static bool same_setting(const char *a, const char *b)
{
    char *end_a, *end_b;
    double x = strtod(a, &end_a), y = strtod(b, &end_b);
    if (end_a != a && end_b != b && *end_a == '\0' && *end_b == '\0')
        return fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y));
    for (;; a++, b++) {
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        if (*a != *b)
            return false;
        if (!*a)
            return true;
    }
}

/* One option given with --resume against the checkpoint's value of key;
 * prints why and returns CLI_USAGE when they differ. */
static int agree(const selfsup_learner *l, const char *option,
                 const char *separator, const char *given, const char *key)
{
    char have[1024];
    selfsup_status s = selfsup_learner_config_value(l, key, have, sizeof have);
    if (s != SELFSUP_OK)
        return cli_fail("reading the checkpoint's recipe", s);
    if (same_setting(given, have))
        return CLI_OK;
    fprintf(stderr,
            "selfsup: --%s%s%s differs from the checkpoint's %s = %s: a "
            "resumed run keeps its recipe (leave the option out, or give "
            "the checkpoint's value)\n",
            option, separator, given, key, have);
    return CLI_USAGE;
}

/* The option's value as the learner would resolve it: --precision auto is
 * f32 over several ranks (cli_precision_for), else what auto chooses on
 * this machine. */
static const char *resolved(const char *key, const cli_option *opts,
                            const char *option, int ranks)
{
    static char buf[16];
    const char *given = cli_get(opts, option);
    if (strcmp(key, "precision") == 0)
        given = cli_precision_for(given, ranks);
    selfsup_learner_config *c;
    if (strcmp(key, "precision") != 0 || strcmp(given, "auto") != 0 ||
        selfsup_learner_config_create(&c, CLI_DEFAULT_METHOD) != SELFSUP_OK)
        return given;
    if (selfsup_learner_config_set(c, key, given) != SELFSUP_OK ||
        selfsup_learner_config_get(c, key, buf, sizeof buf) != SELFSUP_OK)
        snprintf(buf, sizeof buf, "%s", given);
    selfsup_learner_config_destroy(c);
    return buf;
}

/* --resume continues the checkpoint's recipe: the options that make a
 * recipe may be given (so that the command that started a run resumes
 * it), but only with the values the checkpoint holds. */
static int check_resume_options(const cli_option *opts, const char *path,
                                int ranks)
{
    selfsup_learner *l;
    selfsup_status s = selfsup_learner_load(&l, path);
    if (s != SELFSUP_OK)
        return cli_fail("loading the checkpoint to resume", s);
    static const char *const KEYS[][2] = {{"objective", "objective"},
                                          {"optimizer", "optimizer"},
                                          {"lr", "lr"},
                                          {"batch", "batch_size"},
                                          {"views", "views"},
                                          {"seed", "seed"},
                                          {"precision", "precision"}};
    int rc = CLI_OK;
    for (size_t k = 0; rc == CLI_OK && k < sizeof KEYS / sizeof *KEYS; k++)
        if (cli_given(opts, KEYS[k][0]))
            rc = agree(l, KEYS[k][0], " ",
                       resolved(KEYS[k][1], opts, KEYS[k][0], ranks),
                       KEYS[k][1]);
    const char *spec = cli_given_value(opts, "encoder");
    if (rc == CLI_OK && spec) {
        /* by the canonical spec, so any spelling of the same network, in
         * the run's precision unless the spec names one */
        char precision[16] = "f32", in_precision[600];
        selfsup_learner_config_value(l, "precision", precision,
                                     sizeof precision);
        if (!strstr(spec, "precision="))
            snprintf(in_precision, sizeof in_precision, "%s%cprecision=%s",
                     spec, strchr(spec, ':') ? ',' : ':', precision);
        else
            snprintf(in_precision, sizeof in_precision, "%s", spec);
        selfsup_encoder *e = NULL;
        s = selfsup_encoder_create(&e, in_precision, 0);
        if (s != SELFSUP_OK)
            rc = cli_fail("--encoder", s);
        const char *have = selfsup_encoder_spec(selfsup_learner_encoder(l));
        if (rc == CLI_OK && strcmp(selfsup_encoder_spec(e), have) != 0) {
            fprintf(stderr,
                    "selfsup: --encoder %s differs from the checkpoint's "
                    "encoder %s: a resumed run keeps its recipe\n",
                    spec, have);
            rc = CLI_USAGE;
        }
        selfsup_encoder_destroy(e);
    }
    if (rc == CLI_OK && cli_given(opts, "epochs")) {
        int64_t epochs = strtoll(cli_get(opts, "epochs"), NULL, 10);
        int64_t total = config_int(l, "total_steps");
        int64_t images = config_int(l, "dataset_size");
        int64_t batch = config_int(l, "batch_size");
        int64_t per_epoch = batch > 0 ? images / batch : 0;
        if (per_epoch < 1 || epochs * per_epoch != total) {
            fprintf(stderr,
                    "selfsup: --epochs %lld differs from the checkpoint's "
                    "plan of %lld steps (%lld an epoch: %lld images at batch "
                    "%lld): a resumed run keeps its recipe\n",
                    (long long)epochs, (long long)total, (long long)per_epoch,
                    (long long)images, (long long)batch);
            rc = CLI_USAGE;
        }
    }
    const char *set = cli_given_value(opts, "set");
    char *copy = set ? strdup(set) : NULL;
    if (rc == CLI_OK && set && !copy) {
        fprintf(stderr, "selfsup: --set: out of memory\n");
        rc = CLI_FAILED;
    }
    for (char *item = copy, *next; rc == CLI_OK && item; item = next) {
        next = strchr(item, ';');
        if (next)
            *next++ = '\0';
        char *eq = strchr(item, '=');
        if (!eq) /* the run's own parsing names it */
            continue;
        *eq = '\0';
        char option[300];
        snprintf(option, sizeof option, "set %s", item);
        rc = agree(l, option, "=", eq + 1, item);
    }
    free(copy);
    selfsup_learner_destroy(l);
    return rc;
}

/* The grid of the export beside a checkpoint (DIR/encoder.ckpt for
 * DIR/last.ckpt): what the run being resumed hands out. false when there
 * is none to read. */
static bool export_grid_beside(const char *checkpoint, int64_t *grid)
{
    char path[4096];
    const char *slash = strrchr(checkpoint, '/');
    int n = slash ? snprintf(path, sizeof path, "%.*s/encoder.ckpt",
                             (int)(slash - checkpoint), checkpoint)
                  : snprintf(path, sizeof path, "encoder.ckpt");
    selfsup_encoder *e = NULL;
    if (n < 0 || (size_t)n >= sizeof path ||
        selfsup_encoder_load(&e, path) != SELFSUP_OK)
        return false;
    const char *at = strstr(selfsup_encoder_spec(e), "grid=");
    *grid = at ? strtoll(at + 5, NULL, 10) : 1;
    selfsup_encoder_destroy(e);
    return true;
}

int cmd_train(int argc, char **argv)
{
    cli_train_plan plan = {0};
    const char *method = NULL, *distributed = NULL;
    int64_t seed = 0, knn_k = 0;
    double knn_t = 0, budget = 0;
    cli_option opts[] = {
        CLI_TEXT("method", &method, CLI_DEFAULT_METHOD,
                 "byol, simsiam, vicreg, simclr, barlow or groco"),
        CLI_OPTION_DATA(&plan.data),
        CLI_OPTION_SKIP_BAD(&plan.skip_bad),
        CLI_TEXT("encoder", &plan.encoder, NULL,
                 "encoder spec (default: " CLI_DEFAULT_ENCODER_HELP ")"),
        CLI_TEXT("augment", &plan.augment, "auto",
                 "view recipe: a preset or pipeline specs (auto: fmnist for "
                 "gray images, rgb32/rgb64/rgb96 by size for colour)"),
        CLI_TEXT("objective", &plan.objective, NULL,
                 "objective spec (default: the method's)"),
        CLI_INT("epochs", &plan.epochs, CLI_STR(CLI_DEFAULT_EPOCHS), 1, 100000,
                "epochs to train"),
        CLI_INT("batch", &plan.batch, CLI_STR(CLI_DEFAULT_BATCH), 2, 1 << 20,
                "batch size"),
        CLI_TEXT("lr", &plan.lr, NULL,
                 "base learning rate (default: the method's)"),
        CLI_TEXT("optimizer", &plan.optimizer, NULL,
                 "optimizer spec (default: the method's)"),
        CLI_INT("views", &plan.views, CLI_STR(CLI_DEFAULT_VIEWS), 2, 8,
                "views per image"),
        CLI_OPTION_THREADS(&plan.threads),
        CLI_OPTION_PRECISION(&plan.precision),
        CLI_INT("seed", &seed, "0", 0, (double)INT64_MAX, "random seed"),
        CLI_TEXT("out", &plan.out, "out", "output directory"),
        CLI_TEXT("resume", &plan.resume, NULL,
                 "checkpoint to resume from (with its recipe, method and "
                 "planned steps)"),
        CLI_TEXT("init-encoder", &plan.init_encoder, NULL,
                 "start from this encoder's weights (an export or a "
                 "checkpoint; the heads start fresh)"),
        CLI_INT("eval-every", &plan.eval_every, "1", 0, 100000,
                "kNN evaluation every N epochs (0: never)"),
        CLI_REAL("time-budget", &budget, NULL, 0, 1e9,
                 "seconds the run may take: without --epochs, the steps and "
                 "the schedule are planned to end with it; with --epochs, a "
                 "hard stop"),
        CLI_INT("limit", &plan.limit, NULL, 0, (double)INT64_MAX,
                "train on the first N images only"),
        CLI_INT("knn-k", &knn_k, CLI_STR(CLI_DEFAULT_KNN_K), 1, 100000,
                "neighbours of the kNN monitor"),
        CLI_REAL("knn-t", &knn_t, CLI_STR(CLI_DEFAULT_KNN_T), 1e-6, 1e6,
                 "temperature of the kNN monitor"),
        CLI_TEXT("set", &plan.set, NULL,
                 "other learner settings, \"KEY=VALUE;KEY=VALUE\" (keys: "
                 "docs/training.md, e.g. projector, predictor, "
                 "warmup_fraction, ema_base)"),
        CLI_INT("embed-grid", &plan.embed_grid, CLI_STR(CLI_DEFAULT_EMBED_GRID),
                1, 8,
                "the export's and the kNN monitor's embedding: the ResNet's "
                "last feature map averaged over NxN cells (1: globally, as it "
                "trains)"),
        CLI_INT("view-size", &plan.view_size, "0", 0, 4096,
                "side of the training views (0: 5/7 of the images' side, "
                "at least 16, when the views are the program's; else the "
                "images' own)"),
        CLI_TEXT("distributed", &distributed, "auto",
                 "over several processes: auto (MPI when started by mpirun "
                 "with more than one process), mpi, or none "
                 "(docs/distributed.md)"),
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "train",
                       "Trains an encoder without labels and saves "
                       "OUT/last.ckpt, OUT/encoder.ckpt, OUT/metrics.jsonl "
                       "and OUT/curves.svg. Ctrl-C saves a checkpoint and "
                       "stops.");
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    /* The embedding is the export's: a resumed run keeps its grid. */
    int64_t grid;
    if (plan.resume && export_grid_beside(plan.resume, &grid)) {
        if (!cli_given(opts, "embed-grid")) {
            plan.embed_grid = grid;
        } else if (grid != plan.embed_grid) {
            fprintf(stderr,
                    "selfsup: --embed-grid %lld differs from the run's "
                    "export (grid=%lld beside %s): a resumed run keeps its "
                    "embedding (leave the option out, or give %lld)\n",
                    (long long)plan.embed_grid, (long long)grid, plan.resume,
                    (long long)grid);
            return CLI_USAGE;
        }
    }
    if (plan.resume && plan.init_encoder) {
        fprintf(stderr, "selfsup: --init-encoder starts a new run, --resume "
                        "continues one: give one of them\n");
        return CLI_USAGE;
    }
    /* With --resume and no --method, the checkpoint's method. */
    plan.method = plan.resume && !cli_given(opts, "method") ? NULL : method;
    plan.seed = (uint64_t)seed;
    plan.knn_k = (int)knn_k;
    plan.knn_t = (float)knn_t;
    plan.time_budget = budget;
    plan.plan_to_budget = budget > 0 && !cli_given(opts, "epochs");
    cli_ranks ranks;
    if ((rc = cli_ranks_start(&ranks, distributed)) != CLI_OK)
        return rc;
    plan.ranks = &ranks;
    /* every rank checks the same checkpoint against the same options, so
     * all stop or none does */
    if (!plan.resume ||
        (rc = check_resume_options(opts, plan.resume, ranks.size)) == CLI_OK)
        rc = cli_train_run(&plan);
    cli_ranks_stop(&ranks);
    return rc;
}
