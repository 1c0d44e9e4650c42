/* selfsup: self-supervised training, evaluation and embedding of image
 * encoders, from the command line. Uses libselfsup's public API only. */
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} COMMANDS[] = {
    {"train", cmd_train, "train an encoder without labels"},
    {"eval", cmd_eval, "kNN and linear-probe accuracy of a checkpoint"},
    {"embed", cmd_embed, "write an encoder's features of images to .npy"},
    {"bench", cmd_bench, "training-step throughput"},
    {"demo", cmd_demo, "train on Fashion-MNIST for a few minutes, evaluate"},
    {"plot", cmd_plot, "overlay several runs' curves in one SVG"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: selfsup COMMAND [options]   (selfsup COMMAND --help)\n"
               "\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        fprintf(f, "  %-8s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nlibselfsup %s\n", selfsup_version_string());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("selfsup %s\n", selfsup_version_string());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 2, argv + 2);
    fprintf(stderr, "selfsup: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
