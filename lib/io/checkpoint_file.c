/* What the checkpoint writer and reader share: section types and zlib's
 * allocator hooks. */
#include <stdint.h>

#include "checkpoint_layout.h"
#include "core/alloc.h"

const char *selfsup__ckpt_type_name(selfsup__ckpt_type type)
{
    switch (type) {
    case SELFSUP__CKPT_BYTES:
        return "bytes";
    case SELFSUP__CKPT_F32:
        return "f32";
    case SELFSUP__CKPT_F64:
        return "f64";
    case SELFSUP__CKPT_I64:
        return "i64";
    case SELFSUP__CKPT_U64:
        return "u64";
    case SELFSUP__CKPT_STRING:
        return "string";
    }
    return "?";
}

int selfsup__ckpt_element_size(selfsup__ckpt_type type)
{
    switch (type) {
    case SELFSUP__CKPT_BYTES:
    case SELFSUP__CKPT_STRING:
        return 1;
    case SELFSUP__CKPT_F32:
        return 4;
    case SELFSUP__CKPT_F64:
    case SELFSUP__CKPT_I64:
    case SELFSUP__CKPT_U64:
        return 8;
    }
    return 0;
}

void *selfsup__ckpt_zalloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    if (size != 0 && items > SIZE_MAX / size)
        return NULL;
    return selfsup__malloc((size_t)items * size);
}

void selfsup__ckpt_zfree(void *opaque, void *p)
{
    (void)opaque;
    selfsup__free(p);
}
