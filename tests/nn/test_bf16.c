#include "nn_test.h"
TCase *bf16_tcase(void)
{
    return tcase_create("bf16");
}
