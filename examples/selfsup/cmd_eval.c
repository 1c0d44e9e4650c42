/* selfsup eval: kNN and linear probe of a trained encoder. */
#include <string.h>

#include "cli_eval.h"
#include "cli_ranks.h"
#include "commands.h"

/* The online encoder of an export or a checkpoint; another network (role)
 * of a full checkpoint comes with the learner that owns it. */
static int load_network(const char *checkpoint, const char *role,
                        selfsup_learner **learner, selfsup_encoder **e)
{
    selfsup_status s;
    if (strcmp(role, "target.encoder") != 0 &&
        strcmp(role, "online.encoder") != 0) {
        fprintf(stderr,
                "selfsup eval: --network %s is not one of online.encoder, "
                "target.encoder (the heads take features, not images)\n",
                role);
        return CLI_USAGE;
    }
    if (strcmp(role, "online.encoder") == 0) {
        s = selfsup_encoder_load(e, checkpoint);
        return s == SELFSUP_OK ? CLI_OK : cli_fail("loading the encoder", s);
    }
    s = selfsup_learner_load(learner, checkpoint);
    if (s != SELFSUP_OK)
        return cli_fail("--network: loading the full checkpoint (an encoder "
                        "export holds the online encoder only)",
                        s);
    /* in float32, as the online encoder of a checkpoint loads */
    selfsup_encoder *net;
    s = selfsup_learner_network(*learner, role, &net);
    char spec[512];
    if (s == SELFSUP_OK) {
        snprintf(spec, sizeof spec, "%s", selfsup_encoder_spec(net));
        cli_spec_in_f32(spec);
        s = selfsup_encoder_clone_as(e, net, spec);
    }
    if (s == SELFSUP_OK)
        s = selfsup_encoder_set_training(*e, 0);
    return s == SELFSUP_OK ? CLI_OK : cli_fail("--network", s);
}

int cmd_eval(int argc, char **argv)
{
    const char *checkpoint = NULL, *data_dir = NULL, *distributed = NULL;
    const char *network = NULL;
    bool json = false, no_probe = false, no_baselines = false;
    bool skip_bad = false;
    int64_t k = 0, limit = 0, threads = 0;
    double t = 0;
    cli_option opts[] = {
        CLI_TEXT("checkpoint", &checkpoint, NULL,
                 "a checkpoint or encoder export"),
        CLI_TEXT("network", &network, "online.encoder",
                 "the network of a full checkpoint to evaluate: "
                 "online.encoder, or target.encoder (BYOL's moving "
                 "average)"),
        CLI_OPTION_DATA(&data_dir),
        CLI_OPTION_SKIP_BAD(&skip_bad),
        CLI_FLAG("json", &json, "print one JSON object instead of a table"),
        CLI_INT("knn-k", &k, CLI_STR(CLI_DEFAULT_KNN_K), 1, 100000,
                "neighbours"),
        CLI_REAL("knn-t", &t, CLI_STR(CLI_DEFAULT_KNN_T), 1e-6, 1e6,
                 "temperature of the vote weights"),
        CLI_FLAG("no-probe", &no_probe, "skip the linear probe"),
        CLI_FLAG("no-baselines", &no_baselines,
                 "skip the random-init and raw-pixel rows"),
        CLI_INT("limit", &limit, NULL, 0, (double)INT64_MAX,
                "use the first N training images only"),
        CLI_OPTION_THREADS(&threads),
        CLI_TEXT("distributed", &distributed, "auto",
                 "over several processes: auto (MPI when started by mpirun "
                 "with more than one process), mpi, or none; each rank "
                 "embeds its share of the images, rank 0 scores"),
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "eval",
                       "Evaluates the encoder of a checkpoint on the "
                       "dataset's train/test split: weighted kNN and a "
                       "linear probe, beside the random-init encoder of the "
                       "same architecture and raw pixels.");
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (!checkpoint) {
        fprintf(stderr, "selfsup eval: --checkpoint is required\n");
        return CLI_USAGE;
    }
    if (!cli_apply_threads(threads))
        return CLI_FAILED;
    cli_ranks ranks;
    if ((rc = cli_ranks_start(&ranks, distributed)) != CLI_OK)
        return rc;

    selfsup_encoder *e = NULL;
    selfsup_learner *learner = NULL; /* --network loads the whole learner */
    rc = load_network(checkpoint, network, &learner, &e);
    cli_eval_data data = {0};
    if (rc == CLI_OK)
        rc = cli_eval_data_open(&data, data_dir, skip_bad, NULL, limit);
    data.ranks = &ranks;
    rc = cli_ranks_agree(&ranks, rc);
    cli_eval_options o = {(int)k, (float)t, !no_probe, !no_baselines};
    cli_eval_row rows[4];
    int n = 0;
    if (rc == CLI_OK)
        rc = cli_eval_table(e, &data, &o, rows, &n);
    if (rc == CLI_OK && ranks.rank == 0) {
        if (json)
            cli_eval_print_json(rows, n, &o, checkpoint);
        else {
            printf("encoder %s from %s\n", selfsup_encoder_spec(e), checkpoint);
            cli_eval_print_table(rows, n, &o);
        }
    }
    cli_eval_data_close(&data);
    selfsup_encoder_destroy(e);
    selfsup_learner_destroy(learner);
    cli_ranks_stop(&ranks);
    return rc;
}
