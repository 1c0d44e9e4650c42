#include "nn_test.h"
TCase *api_tcase(void)
{
    return tcase_create("api");
}
TCase *alloc_tcase(void)
{
    return tcase_create("alloc");
}
