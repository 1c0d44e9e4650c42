/* Internal: how a network's flat parameter buffer is divided.
 *
 * A network keeps all its trainable parameters in one contiguous float
 * buffer and their gradients in another of the same layout (llm.c's habit:
 * one pass updates, checkpoints or averages everything). This table is what
 * the modules that do not know the network (optimizers, checkpoints, the
 * EMA of BYOL's target) see of it. */
#ifndef SELFSUP_CORE_PARAM_INFO_H
#define SELFSUP_CORE_PARAM_INFO_H

#include <stdint.h>

enum { SELFSUP__PARAM_NAME_MAX = 96, SELFSUP__PARAM_MAX_DIMS = 4 };

typedef enum selfsup__param_kind {
    SELFSUP__PARAM_WEIGHT = 0, /* conv / linear weights */
    SELFSUP__PARAM_BIAS = 1,   /* linear / conv biases */
    SELFSUP__PARAM_NORM = 2    /* batch-norm scale and shift */
} selfsup__param_kind;

typedef struct selfsup__param_info {
    /* PyTorch state_dict name: "layer2.0.downsample.0.weight", "0.bias" */
    char name[SELFSUP__PARAM_NAME_MAX];
    int ndim;
    int64_t dims[SELFSUP__PARAM_MAX_DIMS]; /* PyTorch's shape */
    int64_t offset; /* first element in the flat buffer */
    int64_t numel;
    selfsup__param_kind kind; /* biases and norms are excluded from weight
                                 decay and LARS adaptation */
} selfsup__param_info;

#endif
