#include <stdlib.h>

#include "suites.h"
#include "test_support.h"

int main(void)
{
    /* idle OpenMP workers sleep instead of spinning between the many small
     * parallel regions of the tests (the machine is shared); set before
     * the runtime starts */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    Suite *s = suite_create("objective");
    suite_add_tcase(s, golden_tcase());
    suite_add_tcase(s, finite_diff_tcase());
    suite_add_tcase(s, errors_tcase());
    suite_add_tcase(s, sortnet_tcase());
    suite_add_tcase(s, sortnet_errors_tcase());
    suite_add_tcase(s, collapse_tcase());
    suite_add_tcase(s, alloc_tcase());
    return ss_run_suite(s);
}
