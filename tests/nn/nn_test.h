/* Shared helpers of the nn suite. */
#ifndef SELFSUP_TEST_NN_H
#define SELFSUP_TEST_NN_H

#include <check.h>
#include <stdint.h>

#include "nn/encoder_internal.h"
#include "nn/graph.h"
#include "nn/plan.h"
#include "selfsup/selfsup.h"

TCase *fd_tcase(void);
TCase *golden_tcase(void);
TCase *api_tcase(void);
TCase *alloc_tcase(void);
TCase *bf16_tcase(void);
TCase *layout_tcase(void);
TCase *whitening_tcase(void);
TCase *forward_only_tcase(void);
TCase *recompute_tcase(void);

/* A tensor of this shape filled with U(lo, hi) from seed. */
selfsup_tensor *nn_random_tensor(int ndim, const int64_t *dims, uint64_t seed,
                                 float lo, float hi);
selfsup_tensor *nn_tensor(int ndim, const int64_t *dims);
/* What the planner needs of e: its graph, parameters and buffers, in
 * float32 or bf16. */
selfsup__plan_ctx nn_plan_ctx(selfsup_encoder *e, int bf16);
/* Bytes of one view's activation store in plan p. */
size_t nn_activation_bytes(const selfsup__plan *p);

#endif
