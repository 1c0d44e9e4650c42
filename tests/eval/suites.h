#ifndef SELFSUP_TEST_EVAL_SUITES_H
#define SELFSUP_TEST_EVAL_SUITES_H

#include <check.h>

TCase *knn_tcase(void);
TCase *knn_alloc_tcase(void);
TCase *probe_tcase(void);
TCase *probe_alloc_tcase(void);
TCase *lbfgs_tcase(void);
TCase *npy_tcase(void);
TCase *npy_alloc_tcase(void);
TCase *rankme_tcase(void);

#endif
