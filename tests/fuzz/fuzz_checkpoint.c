/* Fuzzes the checkpoint reader: any input is either read or refused with a
 * message, never a crash, a leak or an allocation the input's size does not
 * justify. Each input is tried twice: as it is, and with its CRCs
 * recomputed, so that mutations also reach the checks behind the CRCs
 * (lengths, zlib streams, names, types). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_repair.h"
#include "io/checkpoint_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const uint8_t *data, size_t size)
{
    selfsup__ckpt_reader *r = NULL;
    if (selfsup__ckpt_reader_open_memory(&r, data, size, "fuzz", NULL) !=
        SELFSUP_OK)
        return;
    for (int i = 0; i < selfsup__ckpt_section_count(r); i++) {
        const char *name = selfsup__ckpt_section_name(r, i);
        int64_t n = selfsup__ckpt_section_length(r, i);
        void *dst = malloc((size_t)n * 8 + 1);
        const char *text;
        switch (selfsup__ckpt_section_type(r, i)) {
        case SELFSUP__CKPT_F32:
            selfsup__ckpt_get_f32(r, name, dst, n);
            break;
        case SELFSUP__CKPT_F64:
            selfsup__ckpt_get_f64(r, name, dst, n);
            break;
        case SELFSUP__CKPT_I64:
            selfsup__ckpt_get_i64(r, name, dst, n);
            break;
        case SELFSUP__CKPT_U64:
            selfsup__ckpt_get_u64(r, name, dst, n);
            break;
        case SELFSUP__CKPT_BYTES:
            selfsup__ckpt_get_bytes(r, name, dst, n);
            break;
        case SELFSUP__CKPT_STRING:
            if (selfsup__ckpt_get_string(r, name, &text) == SELFSUP_OK &&
                (int64_t)strlen(text) != n)
                abort(); /* a string's length is what the file said */
            break;
        }
        /* the wrong type is refused, never read */
        selfsup__ckpt_get_f32(r, name, dst, n);
        free(dst);
    }
    selfsup__ckpt_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_all(data, size);
    uint8_t *repaired = malloc(size ? size : 1);
    if (!repaired)
        return 0;
    memcpy(repaired, data, size);
    ckpt_repair_crcs(repaired, size);
    read_all(repaired, size);
    free(repaired);
    return 0;
}
