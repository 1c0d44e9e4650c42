/* The subcommands of the selfsup program. */
#ifndef SELFSUP_COMMANDS_H
#define SELFSUP_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <selfsup/selfsup.h>

/* The method every subcommand trains unless told otherwise: the one that
 * learns most per CPU-minute at the budgets measured (docs/training.md). */
#define CLI_DEFAULT_METHOD "groco"

/* The encoder every subcommand trains unless told otherwise, with the
 * dataset's channel count for %d: the CIFAR ResNet-18 at width 16. */
#define CLI_DEFAULT_ENCODER_FORMAT "resnet18:width=16,in_channels=%d"
#define CLI_DEFAULT_ENCODER_HELP                                               \
    "resnet18:width=16,in_channels=<image channels>"

/* A run trains on views smaller than the images (cli_small_view_side)
 * when the user left the views to the program (no --augment, no
 * --view-size): a step costs about the square of the side, at equal
 * compute more epochs of smaller views learned more (three minutes, five
 * epochs' worth), and at equal epochs they learned as much or more for
 * every method; the encoder still embeds the images at their own size
 * (docs/training.md, "Small views").
 * The side is 5/7 of the images' (20 of Fashion-MNIST's 28), never under
 * 16 pixels: 0 when the images are too small to shrink. */
static inline int cli_small_view_side(int side)
{
    int small = (side * 5 + 3) / 7;
    return small >= 16 ? small : 0;
}

/* The grid of the embedding a run hands out and its kNN monitor measures:
 * the trained ResNet with its last feature map averaged over 2x2 cells
 * instead of globally (`grid=2`, selfsup_encoder_clone_as), which keeps
 * where on the image a feature fired. The network trains with global
 * pooling either way: its projector learns less from the grid
 * (docs/training.md, "The embedding keeps the layout"). */
#define CLI_DEFAULT_EMBED_GRID 2

/* The run's shape and the kNN protocol unless told otherwise, shared by
 * train, demo and eval: the option tables show them with CLI_STR. */
#define CLI_DEFAULT_EPOCHS 5
#define CLI_DEFAULT_BATCH  256
#define CLI_DEFAULT_VIEWS  2
#define CLI_DEFAULT_KNN_K  200
#define CLI_DEFAULT_KNN_T  0.1
#define CLI_STR_(x)        #x
#define CLI_STR(x)         CLI_STR_(x)

/* --precision of train, demo and bench: the learner's precision key. Over
 * several ranks auto means f32 (batch norm synchronised over ranks needs
 * float32 activations); cli_precision_for gives the key's value. */
#define CLI_OPTION_PRECISION(field)                                            \
    CLI_TEXT("precision", (field), NULL,                                       \
             "f32, bf16 or auto: bf16 where the CPU has bf16 instructions "    \
             "(AVX512_BF16 or AMX), f32 elsewhere and over MPI ranks "         \
             "(default: auto)")
static inline const char *cli_precision_for(const char *given, int ranks)
{
    return ranks > 1 && (!given || strcmp(given, "auto") == 0) ? "f32" : given;
}

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_plot(int argc, char **argv);

/* Everything a training run needs, as `train` parses it and `demo` sets
 * it. Strings NULL mean "the default". */
typedef struct cli_train_plan {
    const char *method, *data, *encoder, *augment, *objective, *lr, *optimizer,
        *out, *resume;
    const char *init_encoder; /* --init-encoder FILE: warm start, or NULL */
    const char *precision;    /* --precision: f32, bf16 or auto (NULL) */
    const char *set;          /* --set "KEY=VALUE;...", or NULL */
    int64_t epochs, batch, views, threads, eval_every, limit;
    int64_t max_steps;  /* > 0: the run's planned steps instead of epochs */
    int64_t embed_grid; /* the exported ResNet's grid (0: the default) */
    int64_t view_size;  /* the training views' side (0: the images') */
    uint64_t seed;
    int knn_k;
    float knn_t;
    double time_budget;
    /* With time_budget > 0 and no max_steps: measure a step and the kNN
     * monitor, then plan as many steps as end the schedule with the
     * budget (otherwise the budget only stops the run). */
    bool plan_to_budget;
    bool skip_bad; /* --skip-bad */
    /* the run's ranks (cli_ranks.h); NULL: this process alone */
    const struct cli_ranks *ranks;
} cli_train_plan;

int cli_train_run(const cli_train_plan *plan);

#endif
