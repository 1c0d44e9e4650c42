#include "helpers.h"
#include "suites.h"
TCase *alloc_tcase(void) { return tcase_create("alloc"); }
