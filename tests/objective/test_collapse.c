#include "helpers.h"
#include "suites.h"
TCase *collapse_tcase(void) { return tcase_create("collapse"); }
