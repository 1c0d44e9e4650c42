#include "suites.h"
#include "test_support.h"

int main(void)
{
    Suite *s = suite_create("augment");
    suite_add_tcase(s, ops_tcase());
    suite_add_tcase(s, params_tcase());
    suite_add_tcase(s, pipeline_tcase());
    suite_add_tcase(s, pipeline_alloc_tcase());
    suite_add_tcase(s, views_tcase());
    return ss_run_suite(s);
}
