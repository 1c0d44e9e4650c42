#include "helpers.h"
#include "suites.h"
TCase *finite_diff_tcase(void) { return tcase_create("finite_diff"); }
