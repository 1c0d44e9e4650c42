#ifndef SELFSUP_TEST_AUGMENT_SUITES_H
#define SELFSUP_TEST_AUGMENT_SUITES_H

#include <check.h>

TCase *ops_tcase(void);
TCase *params_tcase(void);
TCase *pipeline_tcase(void);
TCase *pipeline_alloc_tcase(void);
TCase *views_tcase(void);

#endif
