#include "helpers.h"
#include "suites.h"
TCase *errors_tcase(void) { return tcase_create("errors"); }
