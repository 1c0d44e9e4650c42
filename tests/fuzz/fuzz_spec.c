/* Fuzzes the spec-string parser every module's options go through: any
 * input is either parsed or refused with a message, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    selfsup__spec s;
    if (selfsup__spec_parse(&s, text, "fuzz") == SELFSUP_OK) {
        double d = 0;
        long l = 0;
        int b = 0, c = 0;
        const char *str = NULL;
        static const char *const choices[] = {"a", "b"};
        selfsup__spec_double(&s, "x", -1, 1, SS_SPEC_OPEN_LO, &d);
        selfsup__spec_int(&s, "n", 0, 100, &l);
        selfsup__spec_bool(&s, "flag", &b);
        selfsup__spec_choice(&s, "mode", choices, 2, &c);
        selfsup__spec_string(&s, "name", &str);
        selfsup__spec_finish(&s);
    }
    selfsup__spec_free(&s);
    free(text);
    return 0;
}
