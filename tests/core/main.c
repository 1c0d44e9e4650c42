#include "suites.h"
#include "test_support.h"

int main(void)
{
    Suite *s = suite_create("core");
    suite_add_tcase(s, status_tcase());
    suite_add_tcase(s, tensor_tcase());
    suite_add_tcase(s, tensor_alloc_tcase());
    suite_add_tcase(s, rng_tcase());
    suite_add_tcase(s, spec_tcase());
    suite_add_tcase(s, threads_tcase());
    suite_add_tcase(s, gemm_tcase());
    suite_add_tcase(s, symeig_tcase());
    return ss_run_suite(s);
}
