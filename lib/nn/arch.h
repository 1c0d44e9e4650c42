/* Internal: the architectures an encoder spec names. */
#ifndef SELFSUP_NN_ARCH_H
#define SELFSUP_NN_ARCH_H

#include <stdint.h>

#include "graph.h"

/* The CIFAR ResNet-18 (see selfsup/encoder.h), torchvision's names; the
 * stem convolution at stem_stride (1: the CIFAR stem, 2: half the side);
 * the last feature map averaged over a grid x grid grid of cells (1:
 * global average pooling). */
selfsup_status selfsup__resnet18_graph(selfsup__graph *g, int64_t width,
                                       int64_t in_channels, int stem_stride,
                                       int grid);

/* (Linear-BN1d-ReLU) x (layers-1), Linear, optional non-affine BN1d;
 * nn.Sequential's positional names. */
selfsup_status selfsup__mlp_graph(selfsup__graph *g, int64_t in, int64_t hidden,
                                  int64_t out, int layers, int last_bn,
                                  int bias);

#endif
