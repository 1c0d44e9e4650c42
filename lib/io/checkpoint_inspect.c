/* selfsup_checkpoint_inspect: the public view of a checkpoint's sections. */
#include <inttypes.h>
#include <stdio.h>

#include "core/error.h"
#include "selfsup/checkpoint.h"
#include "io/checkpoint_file.h"

/* The decimal text of a one-element numeric section, "%.9g" for f32 and
 * "%.17g" for f64 so that the text reads back to the same value. */
static const char *scalar_text(const selfsup__ckpt_reader *r, int i, char *buf,
                               size_t size)
{
    const void *data = selfsup__ckpt_section_data(r, i);
    switch (selfsup__ckpt_section_type(r, i)) {
    case SELFSUP__CKPT_F32:
        snprintf(buf, size, "%.9g", (double)*(const float *)data);
        return buf;
    case SELFSUP__CKPT_F64:
        snprintf(buf, size, "%.17g", *(const double *)data);
        return buf;
    case SELFSUP__CKPT_I64:
        snprintf(buf, size, "%" PRId64, *(const int64_t *)data);
        return buf;
    case SELFSUP__CKPT_U64:
        snprintf(buf, size, "%" PRIu64, *(const uint64_t *)data);
        return buf;
    default:
        return NULL;
    }
}

selfsup_status selfsup_checkpoint_inspect(const char *path,
                                          selfsup_checkpoint_section_fn fn,
                                          void *ctx)
{
    SS_ENTRY();
    SS_CHECK_NOT_NULL(path);
    selfsup__ckpt_reader *r;
    SS_TRY(selfsup__ckpt_reader_open(&r, path, __func__));
    for (int i = 0; fn && i < selfsup__ckpt_section_count(r); i++) {
        selfsup__ckpt_type type = selfsup__ckpt_section_type(r, i);
        int64_t count = selfsup__ckpt_section_length(r, i);
        char buf[64];
        const char *value = NULL;
        if (type == SELFSUP__CKPT_STRING)
            value = selfsup__ckpt_section_data(r, i);
        else if (count == 1)
            value = scalar_text(r, i, buf, sizeof buf);
        fn(ctx, selfsup__ckpt_section_name(r, i), selfsup__ckpt_type_name(type),
           count, value);
    }
    selfsup__ckpt_reader_close(r);
    return SELFSUP_OK;
}
