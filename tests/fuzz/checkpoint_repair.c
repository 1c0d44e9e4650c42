#include "checkpoint_repair.h"

#include "io/checkpoint_layout.h"

void ckpt_repair_crcs(unsigned char *image, size_t size)
{
    if (size < CKPT_HEADER_SIZE + CKPT_END_SIZE)
        return;
    ckpt_put_u32(image + 28, ckpt_crc32(0, image, 28));
    size_t end = size - CKPT_END_SIZE;
    unsigned char *e = image + end;
    ckpt_put_u32(e + 28, ckpt_crc32(0, e, 28));
    size_t pos = CKPT_HEADER_SIZE;
    while (end - pos >= CKPT_SECTION_HEADER_SIZE) {
        unsigned char *h = image + pos;
        size_t name_length = h[5];
        size_t payload = pos + CKPT_SECTION_HEADER_SIZE + name_length;
        if (payload > end)
            return;
        uint64_t stored = ckpt_get_u64(h + 16);
        if (stored > end - payload)
            stored = end - payload;
        ckpt_put_u32(h + 24, ckpt_crc32(0, image + payload, stored));
        uint32_t crc = ckpt_crc32(0, h, 28);
        ckpt_put_u32(
            h + 28, ckpt_crc32(crc, h + CKPT_SECTION_HEADER_SIZE, name_length));
        pos = payload + stored;
    }
}
