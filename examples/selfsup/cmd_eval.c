/* selfsup eval: kNN and linear probe of a trained encoder. */
#include <string.h>

#include "cli_eval.h"
#include "commands.h"

int cmd_eval(int argc, char **argv)
{
    cli_option opts[] = {
        {"checkpoint", NULL, false, "a checkpoint or encoder export", NULL},
        CLI_OPTION_DATA,
        {"json", NULL, true, "print one JSON object instead of a table", NULL},
        {"knn-k", NULL, false, "neighbours", CLI_STR(CLI_DEFAULT_KNN_K)},
        {"knn-t", NULL, false, "temperature of the vote weights",
         CLI_STR(CLI_DEFAULT_KNN_T)},
        {"no-probe", NULL, true, "skip the linear probe", NULL},
        {"no-baselines", NULL, true, "skip the random-init and raw-pixel rows",
         NULL},
        {"limit", NULL, false, "use the first N training images only", NULL},
        CLI_OPTION_THREADS,
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "eval",
                       "Evaluates the encoder of a checkpoint on the "
                       "dataset's train/test split: weighted kNN and a "
                       "linear probe, beside the random-init encoder of the "
                       "same architecture and raw pixels.");
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    const char *checkpoint = cli_get(opts, "checkpoint");
    if (!checkpoint) {
        fprintf(stderr, "selfsup eval: --checkpoint is required\n");
        return CLI_USAGE;
    }
    /* from the table's defaults unless given (--limit has none: 0) */
    int64_t k = 0, limit = 0;
    double t = 0;
    if (!cli_get_int(opts, "knn-k", 1, 100000, &k) ||
        !cli_get_double(opts, "knn-t", 1e-6, 1e6, &t) ||
        !cli_get_int(opts, "limit", 0, INT64_MAX, &limit))
        return CLI_USAGE;
    if (!cli_apply_threads(opts))
        return CLI_FAILED;
    selfsup_status s;

    selfsup_encoder *e;
    s = selfsup_encoder_load(&e, checkpoint);
    if (s != SELFSUP_OK)
        return cli_fail("loading the encoder", s);
    cli_eval_data data;
    rc = cli_eval_data_open(&data, cli_given_value(opts, "data"), limit);
    cli_eval_options o = {(int)k, (float)t, !cli_get(opts, "no-probe"),
                          !cli_get(opts, "no-baselines")};
    cli_eval_row rows[4];
    int n = 0;
    if (rc == CLI_OK)
        rc = cli_eval_table(e, &data, &o, rows, &n);
    if (rc == CLI_OK) {
        if (cli_get(opts, "json"))
            cli_eval_print_json(rows, n, &o, checkpoint);
        else {
            printf("encoder %s from %s\n", selfsup_encoder_spec(e), checkpoint);
            cli_eval_print_table(rows, n, &o);
        }
    }
    cli_eval_data_close(&data);
    selfsup_encoder_destroy(e);
    return rc;
}
