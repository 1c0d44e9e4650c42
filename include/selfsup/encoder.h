/* libselfsup: networks (image encoders and projection / prediction heads).
 *
 * An encoder is made from a spec string:
 *
 *   resnet18[:width=16,in_channels=1,stem_stride=1,grid=1,precision=f32]
 *       The CIFAR ResNet-18: a 3x3 stride-1 stem convolution (no bias),
 *       batch norm, ReLU, no max-pool; four stages of two BasicBlocks of
 *       widths w, 2w, 4w, 8w (stride 2 at the first block of stages 2-4,
 *       with a 1x1 stride-2 convolution + batch-norm shortcut); global
 *       average pooling. Input (N, in_channels, H, W), output (N, 8 w).
 *       Defaults: width=16, in_channels=1 (28x28 grayscale images).
 *       stem_stride=2 gives the stem convolution stride 2 (padding 1):
 *       every stage then runs on a quarter of the positions, at a quarter
 *       of the cost, with the same parameters.
 *       grid=G (1-8) replaces the global average pooling by the averages
 *       of a GxG grid of cells of the last feature map (PyTorch's
 *       AdaptiveAvgPool2d(G) and flatten(1): output (N, 8 w G^2), channel
 *       by channel, cells in row order), keeping where on the image a
 *       feature fired; the parameters are the same. The last map's side
 *       must split into G equal, equally spaced cells (any side >= 2 for
 *       G = 2), else the forward fails with SELFSUP_ERR_SHAPE.
 *       Parameters are named as torchvision's resnet18 state_dict
 *       ("conv1.weight", "layer2.0.downsample.1.running_var", ...; no fc).
 *
 *   mlp[:in=512,hidden=4096,out=256,layers=2,last_bn=0,bias=1,
 *       precision=f32]
 *       Projector / predictor heads: (Linear-BatchNorm1d-ReLU) x (layers-1),
 *       then Linear, then, with last_bn=1, a batch norm without affine
 *       parameters. bias applies to every Linear. Input (N, in), output
 *       (N, out). Parameters are named by position as in nn.Sequential
 *       ("0.weight", "1.running_mean", "3.bias", ...).
 *
 * precision=bf16 computes convolutions, linear layers and the activations
 * between them in bfloat16 (oneDNN's AVX-512 BF16 kernels) while the
 * parameters, their gradients and the batch-norm statistics stay float32.
 *
 * Weights start as PyTorch initialises the same modules: torchvision's
 * ResNet convolutions N(0, 2 / fan_out), nn.Linear U(+-1/sqrt(fan_in)) for
 * weights and biases, batch-norm scale 1, shift 0, running mean 0 and
 * variance 1; every draw comes from (seed, parameter name), so an encoder
 * is a pure function of (spec, seed).
 *
 * Batch norm in training mode normalises with the batch statistics and
 * updates the running ones (momentum 0.1, the running variance with the
 * unbiased batch variance, eps 1e-5); in inference mode it uses the running
 * ones. An encoder is used by one thread at a time. */
#ifndef SELFSUP_ENCODER_H
#define SELFSUP_ENCODER_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct selfsup_encoder selfsup_encoder;

/* The most views whose activations an encoder keeps at once. */
#define SELFSUP_ENCODER_MAX_VIEWS 8

/* Makes an encoder from spec (see above), in training mode, with its
 * parameters drawn from seed. SELFSUP_ERR_INVALID_ARGUMENT for a bad spec
 * (the message names the key and the value). */
SELFSUP_API selfsup_status selfsup_encoder_create(selfsup_encoder **out,
                                                  const char *spec,
                                                  uint64_t seed);

/* Frees e; NULL is accepted. */
SELFSUP_API void selfsup_encoder_destroy(selfsup_encoder *e);

/* A deep copy: parameters, batch-norm statistics and mode (not the
 * gradients nor any pending forward); e.g. BYOL's target network. */
SELFSUP_API selfsup_status selfsup_encoder_clone(selfsup_encoder **out,
                                                 const selfsup_encoder *e);

/* A copy of e's parameters, batch-norm statistics, mode and input
 * normalisation in a network made from spec, which must have exactly e's
 * parameters (names and shapes): the same network with another grid,
 * stem_stride or precision, e.g. an encoder trained with global pooling
 * embedding with grid=2. The recorded whitening is not copied (the
 * features differ). SELFSUP_ERR_INVALID_ARGUMENT for a bad spec or one
 * whose parameters differ (the message names the first that does). */
SELFSUP_API selfsup_status selfsup_encoder_clone_as(selfsup_encoder **out,
                                                    const selfsup_encoder *e,
                                                    const char *spec);

/* Copies src's parameters and batch-norm statistics into dst, which must
 * have exactly src's parameters (names and shapes, as for
 * selfsup_encoder_clone_as): a warm start, or a host's own moving average.
 * dst keeps its spec, mode, gradients, input normalisation and whitening.
 * SELFSUP_ERR_INVALID_ARGUMENT naming the first parameter that differs. */
SELFSUP_API selfsup_status
selfsup_encoder_copy_state(selfsup_encoder *dst, const selfsup_encoder *src);
/* C for a resnet, `in` for an mlp; 0 for NULL. */
SELFSUP_API int64_t selfsup_encoder_input_channels(const selfsup_encoder *e);

/* The width of the output features; 0 for NULL. */
SELFSUP_API int64_t selfsup_encoder_output_dim(const selfsup_encoder *e);

/* training != 0: batch statistics and saved activations; 0: inference. */
SELFSUP_API selfsup_status selfsup_encoder_set_training(selfsup_encoder *e,
                                                        int training);
SELFSUP_API int selfsup_encoder_is_training(const selfsup_encoder *e);

/* input (N, C, H, W) for a resnet or (N, in) for an mlp; output
 * (N, output_dim), overwritten. In training mode the forward keeps what
 * backward needs under `view` (0 .. SELFSUP_ENCODER_MAX_VIEWS-1): each
 * view's batch is a separate forward with its own batch-norm statistics,
 * and backward(view) uses that view's saved activations. A new training
 * forward on a view replaces what it kept. selfsup_encoder_forward is
 * forward_view with view 0. SELFSUP_ERR_SHAPE for a wrong rank, channel
 * count or output shape; SELFSUP_ERR_NUMERIC for NaN/Inf in the input. */
SELFSUP_API selfsup_status selfsup_encoder_forward(selfsup_encoder *e,
                                                   const selfsup_tensor *input,
                                                   selfsup_tensor *output);
SELFSUP_API selfsup_status selfsup_encoder_forward_view(
    selfsup_encoder *e, int view, const selfsup_tensor *input,
    selfsup_tensor *output);
/* The forward in inference mode (the running batch-norm statistics),
 * whatever e's mode, changing nothing the caller can see: neither the
 * mode, the statistics nor a pending training forward. The same shapes and
 * errors as selfsup_encoder_forward. e caches the plans it runs per input
 * shape, internal state that makes this call, like every other, one
 * thread's at a time. */
SELFSUP_API selfsup_status selfsup_encoder_infer(const selfsup_encoder *e,
                                                 const selfsup_tensor *input,
                                                 selfsup_tensor *output);

/* Adds dL/dparams into the gradient buffer, given grad_output = dL/doutput
 * (N, output_dim) of the view's pending training forward, which it
 * consumes. grad_input (the input's shape) receives dL/dinput; NULL skips
 * that gradient. It uses the parameters as they are now: call it before
 * changing them. SELFSUP_ERR_STATE if the view has no training forward
 * pending. */
SELFSUP_API selfsup_status
selfsup_encoder_backward(selfsup_encoder *e, const selfsup_tensor *grad_output,
                         selfsup_tensor *grad_input);
SELFSUP_API selfsup_status selfsup_encoder_backward_view(
    selfsup_encoder *e, int view, const selfsup_tensor *grad_output,
    selfsup_tensor *grad_input);

/* Sets every gradient to zero. */
SELFSUP_API selfsup_status selfsup_encoder_zero_grad(selfsup_encoder *e);

/* Named tensors: the trainable parameters first (state_dict order), then
 * the batch-norm buffers (running_mean / running_var). */
SELFSUP_API int selfsup_encoder_param_count(const selfsup_encoder *e);
/* NULL if index is out of range. */
SELFSUP_API const char *selfsup_encoder_param_name(const selfsup_encoder *e,
                                                   int index);
SELFSUP_API selfsup_status selfsup_encoder_param_find(const selfsup_encoder *e,
                                                      const char *name,
                                                      int *index);
/* PyTorch's shape: ndim (1, 2 or 4) and dims[0 .. ndim). */
SELFSUP_API selfsup_status selfsup_encoder_param_shape(const selfsup_encoder *e,
                                                       int index, int *ndim,
                                                       int64_t dims[4]);
/* 1 for trainable parameters, 0 for buffers and out-of-range indices. */
SELFSUP_API int selfsup_encoder_param_is_trainable(const selfsup_encoder *e,
                                                   int index);
/* count must equal the tensor's element count; values in PyTorch's
 * layout (OIHW for convolutions, (out, in) for linear layers). */
SELFSUP_API selfsup_status selfsup_encoder_param_read(const selfsup_encoder *e,
                                                      int index, float *dst,
                                                      int64_t count);
SELFSUP_API selfsup_status selfsup_encoder_param_write(selfsup_encoder *e,
                                                       int index,
                                                       const float *src,
                                                       int64_t count);
/* The accumulated gradient of a trainable parameter. */
SELFSUP_API selfsup_status selfsup_encoder_grad_read(const selfsup_encoder *e,
                                                     int index, float *dst,
                                                     int64_t count);

/* The per-channel normalisation the encoder's inputs had in training,
 * (x - mean[c]) / std[c] on pixels scaled to [0, 1], recorded so that a
 * program embedding new images prepares them the same way: checkpoints and
 * encoder exports carry it, clones copy it. mean and std hold
 * selfsup_encoder_input_channels(e) values each, std > 0; NULL, NULL
 * forgets it. */
SELFSUP_API selfsup_status selfsup_encoder_set_input_normalization(
    selfsup_encoder *e, const float *mean, const float *std);

/* Copies the recorded normalisation into mean and std (input_channels
 * values each); SELFSUP_ERR_STATE if none was recorded (an encoder made
 * from a spec, or saved by a program that did not record it). */
SELFSUP_API selfsup_status selfsup_encoder_input_normalization(
    const selfsup_encoder *e, float *mean, float *std);

/* The canonical spec, every key spelled out ("resnet18:width=16,
 * in_channels=1,precision=f32") but stem_stride and grid, which appear
 * only when they are not 1, for checkpoints; NULL for NULL. */
SELFSUP_API const char *selfsup_encoder_spec(const selfsup_encoder *e);

/* Writes e alone (spec, parameters, batch-norm statistics) with what e
 * records besides its parameters: the input normalisation and the
 * whitening (whitening.h). The file format is the checkpoint container's
 * (docs/checkpoint-format.md), the same as selfsup_learner_export_encoder
 * writes; atomic: a failure leaves no temporary file and an existing file
 * at path intact. */
SELFSUP_API selfsup_status selfsup_encoder_save(const selfsup_encoder *e,
                                                const char *path);
/* Loads an encoder written by selfsup_encoder_save or
 * selfsup_learner_export_encoder (or the online encoder of a full
 * checkpoint, in precision=f32 whatever the learner trained in), in
 * inference mode, with its recorded input normalisation and whitening. */
SELFSUP_API selfsup_status selfsup_encoder_load(selfsup_encoder **out,
                                                const char *path);
#ifdef __cplusplus
}
#endif

#endif
