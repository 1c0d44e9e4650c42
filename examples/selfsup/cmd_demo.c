/* selfsup demo: the main job. Trains the default method on Debian's
 * Fashion-MNIST for a few minutes, then prints the evaluation table. */
#include <math.h>

#include "cli_eval.h"
#include "commands.h"

int cmd_demo(int argc, char **argv)
{
    cli_train_plan plan = {0};
    double minutes = 0;
    int64_t threads = 0;
    cli_option opts[] = {
        CLI_TEXT("method", &plan.method, CLI_DEFAULT_METHOD,
                 "byol, simsiam, vicreg, simclr, barlow or groco"),
        CLI_REAL("minutes", &minutes, "3", 0.1, 1e5, "training time"),
        CLI_OPTION_THREADS(&threads),
        CLI_OPTION_PRECISION(&plan.precision),
        CLI_TEXT("out", &plan.out, "out/demo", "output directory"),
        CLI_OPTION_DATA(&plan.data),
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "demo",
                       "Trains a method (resnet18 width 16) on "
                       "Fashion-MNIST for a few minutes, then evaluates it "
                       "with kNN and a linear probe against the random-init "
                       "encoder and raw pixels.");
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (!cli_apply_threads(threads))
        return CLI_FAILED;

    /* The schedules need the run's length: the trainer measures a step
     * and plans as many steps as fit in the time asked for. */
    printf("libselfsup %s demo: training %s for %g minutes on %d threads\n",
           selfsup_version_string(), plan.method, minutes,
           selfsup_get_num_threads());
    plan.augment = "auto";
    plan.batch = CLI_DEFAULT_BATCH;
    plan.views = CLI_DEFAULT_VIEWS;
    plan.epochs = 1;
    plan.time_budget = minutes * 60;
    plan.plan_to_budget = true;
    plan.knn_k = CLI_DEFAULT_KNN_K;
    plan.knn_t = (float)CLI_DEFAULT_KNN_T;
    plan.embed_grid = CLI_DEFAULT_EMBED_GRID;
    rc = cli_train_run(&plan);
    if (rc != CLI_OK)
        return rc;

    printf("\nevaluating on the test split...\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/encoder.ckpt", plan.out);
    selfsup_encoder *e;
    selfsup_status s = selfsup_encoder_load(&e, path);
    if (s != SELFSUP_OK)
        return cli_fail("loading the trained encoder", s);
    cli_eval_data data;
    rc = cli_eval_data_open(&data, plan.data, false, plan.out, 0);
    cli_eval_options o = {CLI_DEFAULT_KNN_K, (float)CLI_DEFAULT_KNN_T, true,
                          true};
    cli_eval_row rows[4];
    int n = 0;
    if (rc == CLI_OK)
        rc = cli_eval_table(e, &data, &o, rows, &n);
    if (rc == CLI_OK)
        cli_eval_print_table(rows, n, &o);
    cli_eval_data_close(&data);
    selfsup_encoder_destroy(e);
    return rc;
}
