/* What the checkpoint writer and reader share: section types, zlib's
 * allocator hooks and the I/O fault hook for tests. */
#include <errno.h>
#include <stdatomic.h>
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

static atomic_long io_count;
static atomic_long io_fail_countdown; /* 0 when disarmed */

int selfsup__ckpt_io_fault(void)
{
    atomic_fetch_add(&io_count, 1);
    long left = atomic_load(&io_fail_countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&io_fail_countdown, &left, left - 1)) {
            if (left == 1) {
                errno = EIO;
                return 1;
            }
            return 0;
        }
    }
    return 0;
}

void selfsup__ckpt_fail_io_at(long k)
{
    atomic_store(&io_fail_countdown, k > 0 ? k : 0);
}

long selfsup__ckpt_io_count(void)
{
    return atomic_load(&io_count);
}
