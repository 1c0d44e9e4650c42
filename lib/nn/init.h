/* Internal: PyTorch's initialisation of a graph's parameters. */
#ifndef SELFSUP_NN_INIT_H
#define SELFSUP_NN_INIT_H

#include <stdint.h>

#include "graph.h"

/* Draws every weight and bias from (seed, parameter name) and sets batch
 * norms to scale 1, shift 0, running mean 0, running variance 1. */
void selfsup__init_params(const selfsup__graph *g, float *params,
                          float *buffers, uint64_t seed);

#endif
