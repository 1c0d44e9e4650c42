/* Recomputes the CRCs of a checkpoint image, so that a mutated image gets
 * past them to the checks behind (lengths, zlib streams, names, types).
 * Shared by the checkpoint fuzzer and the train suite's crafted files. */
#ifndef SELFSUP_TEST_CHECKPOINT_REPAIR_H
#define SELFSUP_TEST_CHECKPOINT_REPAIR_H

#include <stddef.h>

/* Fixes, in place and as far as the image's own lengths allow: the header
 * CRC, each section's header and payload CRCs, and the end record's CRC. */
void ckpt_repair_crcs(unsigned char *image, size_t size);

#endif
