/* Internal: the argument checks shared by the kNN and the linear probe. */
#ifndef SELFSUP_EVAL_CHECK_H
#define SELFSUP_EVAL_CHECK_H

#include <stdint.h>

#include "selfsup/tensor.h"

/* SELFSUP_ERR_SHAPE unless t is 2-D and, when width > 0, has that many
 * columns; name is the argument's name in the message. */
selfsup_status selfsup__eval_check_matrix(const selfsup_tensor *t,
                                          const char *where, const char *name,
                                          int64_t width);

/* SELFSUP_ERR_INVALID_ARGUMENT naming the first label outside
 * [0, n_classes). */
selfsup_status selfsup__eval_check_labels(const int32_t *labels, int64_t count,
                                          int n_classes, const char *where,
                                          const char *name);

#endif
