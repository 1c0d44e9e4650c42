#include "suites.h"
#include "test_support.h"

int main(void)
{
    Suite *s = suite_create("eval");
    suite_add_tcase(s, knn_tcase());
    suite_add_tcase(s, knn_alloc_tcase());
    suite_add_tcase(s, probe_tcase());
    suite_add_tcase(s, probe_alloc_tcase());
    suite_add_tcase(s, lbfgs_tcase());
    suite_add_tcase(s, npy_tcase());
    suite_add_tcase(s, npy_alloc_tcase());
    suite_add_tcase(s, rankme_tcase());
    return ss_run_suite(s);
}
