/* Internal: the learner's settings, as typed values behind string keys. */
#ifndef SELFSUP_TRAIN_LEARNER_CONFIG_H
#define SELFSUP_TRAIN_LEARNER_CONFIG_H

#include <stdint.h>

#include "selfsup/learner.h"

typedef enum selfsup__method {
    SELFSUP__BYOL,
    SELFSUP__SIMSIAM,
    SELFSUP__VICREG,
    SELFSUP__SIMCLR,
    SELFSUP__BARLOW,
    SELFSUP__GROCO
} selfsup__method;

enum { SELFSUP__CONFIG_TEXT_MAX = 256 };

/* Keys in a fixed order; the values are always valid once set. */
typedef enum selfsup__config_key {
    SELFSUP__KEY_ENCODER,
    SELFSUP__KEY_PROJECTOR,
    SELFSUP__KEY_PREDICTOR,
    SELFSUP__KEY_OBJECTIVE,
    SELFSUP__KEY_OPTIMIZER,
    SELFSUP__KEY_LR,
    SELFSUP__KEY_LR_BATCH,
    SELFSUP__KEY_BATCH_SIZE,
    SELFSUP__KEY_TOTAL_STEPS,
    SELFSUP__KEY_WARMUP_FRACTION,
    SELFSUP__KEY_FINAL_LR_RATIO,
    SELFSUP__KEY_EMA_BASE,
    SELFSUP__KEY_VIEWS,
    SELFSUP__KEY_SEED,
    SELFSUP__KEY_PREDICTOR_FIXED_LR,
    SELFSUP__KEY_STOP_GRADIENT,
    SELFSUP__KEY_RECIPE,
    SELFSUP__KEY_DATASET_SIZE,
    SELFSUP__KEY_SYNC_BATCH_NORM,
    SELFSUP__KEY_PRECISION,
    SELFSUP__KEY_COUNT
} selfsup__config_key;

struct selfsup_learner_config {
    selfsup__method method;
    char text[SELFSUP__KEY_COUNT][SELFSUP__CONFIG_TEXT_MAX];
    /* Bit k: key k was set by selfsup_learner_config_set, so the recipe
     * chosen for the run's length leaves it alone. */
    uint32_t user_set;
};

/* The recipes a method's keys can come from (docs/training.md). */
typedef enum selfsup__recipe {
    SELFSUP__RECIPE_PAPER,
    SELFSUP__RECIPE_SHORT
} selfsup__recipe;

const char *selfsup__method_name(selfsup__method m);

/* Typed reads of a valid config (the text was checked when it was set). */
const char *selfsup__config_text(const selfsup_learner_config *c,
                                 selfsup__config_key k);
double selfsup__config_double(const selfsup_learner_config *c,
                              selfsup__config_key k);
int64_t selfsup__config_int(const selfsup_learner_config *c,
                            selfsup__config_key k);
uint64_t selfsup__config_u64(const selfsup_learner_config *c,
                             selfsup__config_key k);

/* Resolves recipe=auto by the run's length (total_steps x batch_size /
 * dataset_size epochs, against a limit per method; dataset_size 0,
 * unknown, gives the paper's recipe)
 * and fills every key the caller did not set from the recipe chosen;
 * resolves precision=auto by the CPU (bf16 where oneDNN has native bf16
 * kernels, else f32). After it, recipe is "paper" or "short", precision
 * "f32" or "bf16", and the config is what the learner runs. */
void selfsup__config_resolve(selfsup_learner_config *c);

/* The learning rate after scaling: lr * batch_size / lr_batch. */
double selfsup__config_peak_lr(const selfsup_learner_config *c);

#endif
