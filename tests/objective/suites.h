#ifndef SELFSUP_TEST_OBJECTIVE_SUITES_H
#define SELFSUP_TEST_OBJECTIVE_SUITES_H

#include <check.h>

TCase *golden_tcase(void);
TCase *finite_diff_tcase(void);
TCase *errors_tcase(void);
TCase *sortnet_tcase(void);
TCase *sortnet_errors_tcase(void);
TCase *collapse_tcase(void);
TCase *alloc_tcase(void);

#endif
