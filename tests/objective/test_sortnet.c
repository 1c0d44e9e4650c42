#include "helpers.h"
#include "suites.h"
TCase *sortnet_tcase(void) { return tcase_create("sortnet"); }
TCase *sortnet_errors_tcase(void) { return tcase_create("sortnet_errors"); }
