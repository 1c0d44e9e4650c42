/* selfsup embed: features of an IDX image file or an image collection, as
 * a .npy array (and, for a collection, the files in row order). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_eval.h"
#include "cli_ranks.h"
#include "commands.h"

/* An IDX file is named *-ubyte or *-ubyte.gz (Fashion-MNIST's names). */
static bool is_idx_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    size_t n = strlen(path);
    return (n > 6 && strcmp(path + n - 6, "-ubyte") == 0) ||
           (n > 9 && strcmp(path + n - 9, "-ubyte.gz") == 0);
}

/* X.npy -> X.paths.txt: one file a line, in the rows' order; a newline or
 * a backslash in a name is written as \n or \\. */
static selfsup_status write_row_order(const char *output,
                                      const selfsup_dataset *d, char *path,
                                      size_t cap)
{
    size_t n = strlen(output);
    if (n > 4 && strcmp(output + n - 4, ".npy") == 0)
        n -= 4;
    snprintf(path, cap, "%.*s.paths.txt", (int)n, output);
    /* written beside, then renamed: never a half-written list */
    char partial[4200];
    snprintf(partial, sizeof partial, "%s.partial", path);
    FILE *f = fopen(partial, "w");
    if (!f)
        return SELFSUP_ERR_IO;
    for (int64_t i = 0; i < selfsup_dataset_count(d); i++) {
        for (const char *c = selfsup_dataset_source(d, i); *c; c++) {
            if (*c == '\n')
                fputs("\\n", f);
            else if (*c == '\\')
                fputs("\\\\", f);
            else
                fputc(*c, f);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0 || rename(partial, path) != 0) {
        remove(partial);
        return SELFSUP_ERR_IO;
    }
    return SELFSUP_OK;
}

int cmd_embed(int argc, char **argv)
{
    const char *checkpoint = NULL, *input = NULL, *output = NULL;
    const char *labels_in = NULL, *labels_out = NULL;
    const char *distributed = NULL;
    bool raw = false, skip_bad = false;
    int64_t threads = 0;
    cli_option opts[] = {
        CLI_TEXT("checkpoint", &checkpoint, NULL,
                 "a checkpoint or encoder export"),
        CLI_TEXT("input", &input, NULL,
                 "IDX image file (.gz or raw), or images as --data takes "
                 "them (a folder, a list file or a dataset spec)"),
        CLI_OPTION_SKIP_BAD(&skip_bad),
        CLI_TEXT("output", &output, NULL,
                 "the .npy file to write (N, D) float32"),
        CLI_TEXT("labels", &labels_in, NULL,
                 "IDX label file to export beside (an IDX --input)"),
        CLI_TEXT("labels-output", &labels_out, NULL,
                 "the .npy file for the labels (int32)"),
        CLI_FLAG("raw", &raw,
                 "the bare network's features, without the whitening the "
                 "export records"),
        CLI_OPTION_THREADS(&threads),
        CLI_TEXT("distributed", &distributed, "auto",
                 "over several processes: auto (MPI when started by mpirun "
                 "with more than one process), mpi, or none; each rank "
                 "embeds its share of the images, rank 0 writes"),
        CLI_OPTION_END};
    int rc = cli_parse(argc, argv, opts, "embed",
                       "Writes the encoder's features of every image of an "
                       "IDX file or a collection to a .npy file (numpy.load "
                       "reads it); for a collection of files, X.paths.txt "
                       "beside X.npy lists them in the rows' order. "
                       "Images are standardised as in training: with the "
                       "per-channel mean and std the export records, or "
                       "with the file's own when it records none. Features "
                       "are whitened as the export records (selfsup train's "
                       "exports do: PCA-whitened with the training images' "
                       "statistics) unless --raw.");
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    bool idx = input && is_idx_file(input);
    if (!checkpoint || !input || !output || (labels_in && !labels_out) ||
        (idx && !labels_in != !labels_out) || (labels_in && !idx)) {
        fprintf(stderr, "selfsup embed: --checkpoint, --input and --output "
                        "are required (--labels, for an IDX --input, goes "
                        "with --labels-output)\n");
        return CLI_USAGE;
    }
    if (!cli_apply_threads(threads))
        return CLI_FAILED;
    selfsup_status s;
    cli_ranks ranks;
    if ((rc = cli_ranks_start(&ranks, distributed)) != CLI_OK)
        return rc;

    selfsup_encoder *e = NULL;
    selfsup_dataset *d = NULL;
    selfsup_tensor *features = NULL;
    int32_t *labels = NULL;
    float mean[4], std[4];
    s = selfsup_encoder_load(&e, checkpoint);
    if (s != SELFSUP_OK) {
        rc = cli_fail("loading the encoder", s);
        cli_ranks_stop(&ranks);
        return rc;
    }
    if (selfsup_encoder_input_channels(e) > 4) {
        fprintf(stderr,
                "selfsup embed: %s takes %lld channels; images have "
                "at most 4\n",
                checkpoint, (long long)selfsup_encoder_input_channels(e));
        selfsup_encoder_destroy(e);
        cli_ranks_stop(&ranks);
        return CLI_USAGE;
    }
    if (idx) {
        s = selfsup_dataset_open_idx(&d, input, labels_in);
    } else {
        rc = cli_open_data(input, "train", skip_bad, NULL, &d);
        if (rc != CLI_OK) {
            selfsup_encoder_destroy(e);
            cli_ranks_stop(&ranks);
            return rc;
        }
        s = SELFSUP_OK;
        if (labels_out && !selfsup_dataset_has_labels(d)) {
            fprintf(stderr,
                    "selfsup embed: %s has no labels for "
                    "--labels-output\n",
                    input);
            selfsup_dataset_destroy(d);
            selfsup_encoder_destroy(e);
            cli_ranks_stop(&ranks);
            return CLI_USAGE;
        }
    }
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
    /* over ranks each embeds its share, rank 0 writes */
    rc = cli_ranks_agree(&ranks,
                         s == SELFSUP_OK ? CLI_OK : cli_fail("embed", s));
    if (rc == CLI_OK)
        rc = cli_embed_shared(e, d, mean, std, &ranks, &features);
    if (rc != CLI_OK || ranks.rank > 0) {
        selfsup_tensor_destroy(features);
        selfsup_dataset_destroy(d);
        selfsup_encoder_destroy(e);
        cli_ranks_stop(&ranks);
        return rc;
    }
    s = selfsup_npy_write(output, features);
    if (s == SELFSUP_OK && labels_out) {
        int64_t n = selfsup_dataset_count(d);
        labels = malloc((size_t)n * sizeof *labels);
        s = labels ? selfsup_dataset_labels(d, 0, n, labels)
                   : SELFSUP_ERR_OUT_OF_MEMORY;
        if (s == SELFSUP_OK)
            s = selfsup_npy_write_labels(labels_out, labels, n);
    }
    char order[4096] = "";
    if (s == SELFSUP_OK && selfsup_dataset_source(d, 0))
        s = write_row_order(output, d, order, sizeof order);
    if (s == SELFSUP_OK && order[0])
        printf("wrote %s: the %lld files in row order\n", order,
               (long long)selfsup_dataset_count(d));
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
    cli_ranks_stop(&ranks);
    return rc;
}
