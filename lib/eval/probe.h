/* Internal: the linear probe's options and its fitting step, for the
 * public selfsup_linear_probe and for the tests. */
#ifndef SELFSUP_EVAL_PROBE_H
#define SELFSUP_EVAL_PROBE_H

#include <stdint.h>

#include "lbfgs.h"
#include "selfsup/status.h"

typedef struct selfsup__probe_options {
    double weight_decay; /* lambda of lambda/2 |W|^2 */
    int max_iter;
    double tolerance; /* on max |dL/dparam| */
    int history;
} selfsup__probe_options;

/* Defaults, overridden by the keys of spec "probe:key=value,..." (NULL for
 * none). */
selfsup_status selfsup__probe_parse_options(selfsup__probe_options *out,
                                            const char *spec,
                                            const char *where);

/* Fits W (n_classes, dim) and b (params, selfsup__probe_param_count values,
 * W row-major then b) on standardised features x (n, dim) from params = 0.
 * report says how the optimiser stopped and the final loss. */
selfsup_status selfsup__probe_fit(double *params, const float *x,
                                  const int32_t *labels, int64_t n, int64_t dim,
                                  int n_classes,
                                  const selfsup__probe_options *options,
                                  selfsup__lbfgs_report *report,
                                  const char *where);

#endif
