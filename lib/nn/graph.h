/* Internal: a network as a list of layer ops over numbered tensors.
 *
 * The architectures (resnet.c, mlp.c) build a graph once per encoder; the
 * graph is shape-free (channel counts only). A plan (plan.h) turns it into
 * oneDNN primitives for one input shape. Building also lays out the flat
 * parameter buffer and the buffer of batch-norm running statistics, named
 * as PyTorch's state_dict. */
#ifndef SELFSUP_NN_GRAPH_H
#define SELFSUP_NN_GRAPH_H

#include <stdint.h>

#include "core/param_info.h"
#include "selfsup/status.h"

typedef enum selfsup__op_kind {
    SS_OP_CONV,  /* 2-D convolution, optional bias */
    SS_OP_BN,    /* batch norm over (N, C[, H, W]), optional fused ReLU */
    SS_OP_RELU,  /* standalone ReLU */
    SS_OP_ADD,   /* dst = src0 + src1, optional ReLU after the sum */
    SS_OP_POOL,  /* max / average / global-average pooling */
    SS_OP_LINEAR /* y = x W^T (+ b) on (N, C) */
} selfsup__op_kind;

typedef enum selfsup__pool_kind {
    SS_POOL_MAX,
    SS_POOL_AVG, /* counts padding, as PyTorch's AvgPool2d default */
    SS_POOL_GLOBAL_AVG,
    SS_POOL_GRID_AVG /* PyTorch's AdaptiveAvgPool2d(kernel): a kernel x
                        kernel grid of cell averages, whatever the input */
} selfsup__pool_kind;

/* How a weight is drawn at creation. */
typedef enum selfsup__init_kind {
    SS_INIT_TORCH_DEFAULT,  /* nn.Conv2d / nn.Linear: U(+-1/sqrt(fan_in)) */
    SS_INIT_KAIMING_FAN_OUT /* torchvision ResNet convs: N(0, 2/fan_out) */
} selfsup__init_kind;

typedef struct selfsup__op {
    selfsup__op_kind kind;
    int n_src;
    int src[2];
    int dst;
    int64_t out_channels;    /* conv, linear */
    int kernel, stride, pad; /* conv, pool (square) */
    int relu;                /* bn: fused ReLU; add: ReLU after the sum */
    int affine;              /* bn: learnable scale and shift */
    selfsup__pool_kind pool;
    selfsup__init_kind init;
    int param_weight, param_bias; /* indices into params, -1 if none */
    int buffer_mean, buffer_var;  /* indices into buffers (bn), else -1 */
} selfsup__op;

typedef struct selfsup__graph_tensor {
    int rank; /* 4 for (N, C, H, W), 2 for (N, C) */
    int64_t channels;
    int producer; /* op index, -1 for the network input */
    int side;     /* H = W fixed whatever the input (global and grid
                     pooling), else 0 */
} selfsup__graph_tensor;

typedef struct selfsup__graph {
    selfsup__op *ops;
    int n_ops, cap_ops;
    selfsup__graph_tensor *tensors;
    int n_tensors, cap_tensors;
    int input, output;
    selfsup__param_info *params; /* trainable, in state_dict order */
    int n_params, cap_params;
    int64_t param_floats;
    selfsup__param_info *buffers; /* running_mean / running_var */
    int n_buffers, cap_buffers;
    int64_t buffer_floats;
    selfsup_status status; /* the first failure while building */
} selfsup__graph;

/* Starts a graph whose input (tensor 0) has this rank and channel count. */
void selfsup__graph_init(selfsup__graph *g, int rank, int64_t channels);
void selfsup__graph_free(selfsup__graph *g);

/* Each adds one op and returns its output tensor (or -1 once building has
 * failed; later calls then do nothing). name is the PyTorch module path
 * ("layer1.0.conv1") under which the op's parameters are registered. */
int selfsup__graph_conv(selfsup__graph *g, const char *name, int src,
                        int64_t out_channels, int kernel, int stride, int pad,
                        int bias, selfsup__init_kind init);
int selfsup__graph_bn(selfsup__graph *g, const char *name, int src, int relu,
                      int affine);
int selfsup__graph_relu(selfsup__graph *g, int src);
int selfsup__graph_add(selfsup__graph *g, int a, int b, int relu);
int selfsup__graph_pool(selfsup__graph *g, int src, selfsup__pool_kind kind,
                        int kernel, int stride, int pad);
int selfsup__graph_linear(selfsup__graph *g, const char *name, int src,
                          int64_t out_features, int bias);

/* Marks output as the network's output; returns the building status. A
 * 4-D output must have a fixed side (end in global or grid pooling): the
 * network then gives (N, C * side * side) values a row, channel-major as
 * torch.flatten(x, 1). */
selfsup_status selfsup__graph_finish(selfsup__graph *g, int output);

/* The window of a grid pooling of `cells` cells over `in` positions:
 * AdaptiveAvgPool2d's cell i spans [floor(i in / cells), ceil((i + 1) in /
 * cells)), which is one kernel and stride when those spans are equally
 * long and equally spaced (always for 2 cells, and whenever cells divides
 * in). Returns 0 when they are not, or when in < cells. */
int selfsup__grid_window(int64_t in, int cells, int *kernel, int *stride);

/* Values per sample of the finished graph's output. */
int64_t selfsup__graph_output_features(const selfsup__graph *g);

/* Deep copy (for clones). */
selfsup_status selfsup__graph_copy(selfsup__graph *dst,
                                   const selfsup__graph *src);

#endif
