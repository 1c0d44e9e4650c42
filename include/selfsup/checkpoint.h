/* libselfsup: looking into checkpoint files. */
#ifndef SELFSUP_CHECKPOINT_H
#define SELFSUP_CHECKPOINT_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called once per section of a checkpoint, in file order. type is "f32",
 * "f64", "i64", "u64", "bytes" or "string"; count is the number of elements
 * (bytes for "bytes" and "string"). value is the text of a string section,
 * the decimal value of a numeric section that holds one element, and NULL
 * otherwise. The strings are valid during the call only. */
typedef void (*selfsup_checkpoint_section_fn)(void *ctx, const char *name,
                                              const char *type, int64_t count,
                                              const char *value);

/* Validates the whole checkpoint file at path (every CRC, length and
 * compressed stream), then calls fn for each of its sections; fn may be
 * NULL to validate only. SELFSUP_ERR_IO if the file cannot be read,
 * SELFSUP_ERR_CORRUPT if it is not an intact libselfsup checkpoint,
 * SELFSUP_ERR_VERSION if its format is newer than this library reads; fn is
 * then never called. The format is described in docs/checkpoint-format.md. */
SELFSUP_API selfsup_status selfsup_checkpoint_inspect(
    const char *path, selfsup_checkpoint_section_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
