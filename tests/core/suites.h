#ifndef SELFSUP_TEST_CORE_SUITES_H
#define SELFSUP_TEST_CORE_SUITES_H

#include <check.h>

TCase *status_tcase(void);
TCase *tensor_tcase(void);
TCase *tensor_alloc_tcase(void);
TCase *rng_tcase(void);
TCase *spec_tcase(void);
TCase *threads_tcase(void);
TCase *gemm_tcase(void);
TCase *symeig_tcase(void);

#endif
