#include "nn_test.h"
TCase *golden_tcase(void)
{
    return tcase_create("golden");
}
