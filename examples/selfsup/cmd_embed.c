/* selfsup embed: features of an IDX image file, as a .npy array. */
#include <stdlib.h>

#include "cli.h"
#include "commands.h"

int cmd_embed(int argc, char **argv)
{
    const char *checkpoint = NULL, *input = NULL, *output = NULL;
    const char *labels_in = NULL, *labels_out = NULL;
    bool raw = false;
    int64_t threads = 0;
    cli_option opts[] = {
        CLI_TEXT("checkpoint", &checkpoint, NULL,
                 "a checkpoint or encoder export"),
        CLI_TEXT("input", &input, NULL, "IDX image file (.gz or raw)"),
        CLI_TEXT("output", &output, NULL,
                 "the .npy file to write (N, D) float32"),
        CLI_TEXT("labels", &labels_in, NULL, "IDX label file to export beside"),
        CLI_TEXT("labels-output", &labels_out, NULL,
                 "the .npy file for the labels (int32)"),
        CLI_FLAG("raw", &raw,
                 "the bare network's features, without the whitening the "
                 "export records"),
        CLI_OPTION_THREADS(&threads),
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "embed",
                       "Writes the encoder's features of every image of an "
                       "IDX file to a .npy file (numpy.load reads it). "
                       "Images are standardised as in training: with the "
                       "per-channel mean and std the export records, or "
                       "with the file's own when it records none. Features "
                       "are whitened as the export records (selfsup train's "
                       "exports do: PCA-whitened with the training images' "
                       "statistics) unless --raw.");
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (!checkpoint || !input || !output || (!labels_in != !labels_out)) {
        fprintf(stderr, "selfsup embed: --checkpoint, --input and --output "
                        "are required (--labels goes with --labels-output)\n");
        return CLI_USAGE;
    }
    if (!cli_apply_threads(threads))
        return CLI_FAILED;
    selfsup_status s;

    selfsup_encoder *e = NULL;
    selfsup_dataset *d = NULL;
    selfsup_tensor *features = NULL;
    int32_t *labels = NULL;
    float mean[4], std[4];
    s = selfsup_encoder_load(&e, checkpoint);
    if (s != SELFSUP_OK)
        return cli_fail("loading the encoder", s);
    if (selfsup_encoder_input_channels(e) > 4) {
        fprintf(stderr,
                "selfsup embed: %s takes %lld channels; images have "
                "at most 4\n",
                checkpoint, (long long)selfsup_encoder_input_channels(e));
        selfsup_encoder_destroy(e);
        return CLI_USAGE;
    }
    s = selfsup_dataset_open_idx(&d, input, labels_in);
    /* The training images' normalisation when the export recorded it;
     * else the input's own statistics (exports of other programs). */
    if (s == SELFSUP_OK &&
        selfsup_encoder_input_normalization(e, mean, std) != SELFSUP_OK) {
        fprintf(stderr,
                "selfsup embed: %s records no input normalisation; "
                "standardising with the input's own statistics\n",
                checkpoint);
        s = selfsup_dataset_stats(d, mean, std);
    }
    bool whitened = selfsup_encoder_whitening(e) && !raw;
    if (s == SELFSUP_OK && !whitened)
        s = selfsup_encoder_set_whitening(e, NULL);
    if (s == SELFSUP_OK)
        s = selfsup_embed_dataset(e, d, 0, selfsup_dataset_count(d), mean, std,
                                  &features);
    if (s == SELFSUP_OK)
        s = selfsup_npy_write(output, features);
    if (s == SELFSUP_OK && labels_in) {
        int64_t n = selfsup_dataset_count(d);
        labels = malloc((size_t)n * sizeof *labels);
        s = labels ? selfsup_dataset_labels(d, 0, n, labels)
                   : SELFSUP_ERR_OUT_OF_MEMORY;
        if (s == SELFSUP_OK)
            s = selfsup_npy_write_labels(labels_out, labels, n);
    }
    if (s == SELFSUP_OK)
        printf("wrote %s: %lld x %lld float32%s\n", output,
               (long long)selfsup_tensor_dim(features, 0),
               (long long)selfsup_tensor_dim(features, 1),
               whitened ? " (whitened)" : "");
    else
        rc = cli_fail("embed", s);
    free(labels);
    selfsup_tensor_destroy(features);
    selfsup_dataset_destroy(d);
    selfsup_encoder_destroy(e);
    return rc;
}
