/* Internal to the checkpoint container: the byte layout shared by the writer
 * and the reader. docs/checkpoint-format.md is the specification; this is
 * its transcription. All integers are little-endian. */
#ifndef SELFSUP_TRAIN_CHECKPOINT_LAYOUT_H
#define SELFSUP_TRAIN_CHECKPOINT_LAYOUT_H

#include <stdint.h>
#include <string.h>

#define ZLIB_CONST /* next_in points to const bytes */
#include <zlib.h>

#include "checkpoint_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
/* Payloads are written straight from memory; a big-endian port would swap
 * the elements of typed sections on the way in and out. */
#error "the checkpoint container assumes a little-endian host"
#endif

enum {
    CKPT_HEADER_SIZE = 32,
    CKPT_SECTION_HEADER_SIZE = 32, /* the name follows */
    CKPT_END_SIZE = 32,
    CKPT_MAGIC_SIZE = 12,
    /* deflate never compresses better than 1032:1, so a section that claims
     * more than this many bytes per stored byte is lying. */
    CKPT_MAX_DEFLATE_RATIO = 1032
};

/* File header (32 bytes):
 *   0  magic[12]        89 'S' 'E' 'L' 'F' 'S' 'U' 'P' '\r' '\n' 1A '\n'
 *  12  u32 format version
 *  16  u32 library version that wrote the file (informational)
 *  20  u32 flags, 0
 *  24  u32 reserved, 0
 *  28  u32 CRC32 of bytes 0..27                                          */
static const unsigned char CKPT_MAGIC[CKPT_MAGIC_SIZE] = {
    0x89, 'S', 'E', 'L', 'F', 'S', 'U', 'P', '\r', '\n', 0x1A, '\n'};

/* Section header (32 bytes, then name_length bytes of name):
 *   0  magic 'S' 'E' 'C' 'T'
 *   4  u8  type (selfsup__ckpt_type)
 *   5  u8  name_length, 1..255
 *   6  u16 flags, 0
 *   8  u64 uncompressed length in bytes
 *  16  u64 compressed length in bytes (the zlib stream that follows)
 *  24  u32 CRC32 of the compressed bytes
 *  28  u32 CRC32 of bytes 0..27 followed by the name                     */
static const unsigned char CKPT_SECTION_MAGIC[4] = {'S', 'E', 'C', 'T'};

/* End record (the file's last 32 bytes):
 *   0  magic[8]   89 'S' 'S' 'E' 'N' 'D' '\r' '\n'
 *   8  u64 number of sections
 *  16  u64 offset of this record (= file size - 32)
 *  24  u32 reserved, 0
 *  28  u32 CRC32 of bytes 0..27                                          */
static const unsigned char CKPT_END_MAGIC[8] = {0x89, 'S', 'S',  'E',
                                                'N',  'D', '\r', '\n'};

static inline void ckpt_put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void ckpt_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void ckpt_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t ckpt_get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t ckpt_get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t ckpt_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* CRC32 (zlib's, the ISO-HDLC polynomial) of any length. */
static inline uint32_t ckpt_crc32(uint32_t crc, const void *data, uint64_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        uInt piece = n > 0x40000000u ? 0x40000000u : (uInt)n;
        crc = (uint32_t)crc32(crc, p, piece);
        p += piece;
        n -= piece;
    }
    return crc;
}

/* Bytes per element of a section type; 0 for an unknown type. */
int selfsup__ckpt_element_size(selfsup__ckpt_type type);

/* zlib's allocator hooks, routed through core/alloc.h so that allocation
 * failure sweeps reach zlib's own state too. */
void *selfsup__ckpt_zalloc(void *opaque, unsigned items, unsigned size);
void selfsup__ckpt_zfree(void *opaque, void *p);

#endif
