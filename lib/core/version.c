#include "selfsup/version.h"

#define SS_STR2(x) #x
#define SS_STR(x) SS_STR2(x)

const char *selfsup_version_string(void)
{
    return SS_STR(SELFSUP_VERSION_MAJOR) "." SS_STR(
        SELFSUP_VERSION_MINOR) "." SS_STR(SELFSUP_VERSION_PATCH);
}

int selfsup_version_number(void)
{
    return SELFSUP_VERSION_NUMBER;
}
