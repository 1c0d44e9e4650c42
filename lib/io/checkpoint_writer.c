/* The checkpoint writer: sections stream through zlib into an atomic file
 * (atomic_file.h), which commit publishes over the target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "checkpoint_layout.h"
#include "core/alloc.h"
#include "core/error.h"
#include "selfsup/version.h"

enum {
    OUT_CHUNK = 1 << 18, /* compressed bytes written per write */
    IN_PIECE = 1 << 30,  /* zlib counts in 32-bit units */
    DEFAULT_LEVEL = 1
};

struct selfsup__ckpt_writer {
    const char *where;
    char *path; /* the target */
    selfsup__atomic_file *file;
    int level;  /* -1: the default policy (see section_params) */
    int broken; /* an I/O or allocation failure abandoned the file */
    int committed;
    uint64_t offset; /* bytes written: where the next section starts */
    char **names;    /* the sections written, to refuse duplicates */
    int64_t count, capacity;
    z_stream z;
    int z_ready;
    unsigned char *out; /* OUT_CHUNK bytes of compressed output */
};

/* Closes and removes what was written; the target is never touched. */
static void abandon(selfsup__ckpt_writer *w)
{
    w->broken = 1;
    selfsup__atomic_destroy(w->file);
    w->file = NULL;
}

static selfsup_status write_bytes(selfsup__ckpt_writer *w, const void *p,
                                  size_t n)
{
    selfsup_status s = selfsup__atomic_write(w->file, p, n);
    if (s != SELFSUP_OK) {
        abandon(w);
        return s;
    }
    w->offset += n;
    return SELFSUP_OK;
}

static selfsup_status seek_to(selfsup__ckpt_writer *w, uint64_t at)
{
    selfsup_status s = selfsup__atomic_seek(w->file, at);
    if (s != SELFSUP_OK)
        abandon(w);
    return s;
}

static selfsup_status write_file_header(selfsup__ckpt_writer *w)
{
    unsigned char h[CKPT_HEADER_SIZE] = {0};
    memcpy(h, CKPT_MAGIC, CKPT_MAGIC_SIZE);
    ckpt_put_u32(h + 12, SELFSUP__CKPT_FORMAT_VERSION);
    ckpt_put_u32(h + 16, SELFSUP_VERSION_NUMBER);
    ckpt_put_u32(h + 28, ckpt_crc32(0, h, 28));
    return write_bytes(w, h, sizeof h);
}

selfsup_status selfsup__ckpt_writer_create(selfsup__ckpt_writer **out,
                                           const char *path, int level,
                                           const char *where)
{
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(path);
    if (!where)
        where = __func__;
    if (!path[0])
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "path is empty");
    if (level < -1 || level > 9)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, where,
                             "compression level %d is outside -1..9", level);
    selfsup__ckpt_writer *w = selfsup__calloc(1, sizeof *w);
    if (!w)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the checkpoint writer");
    w->where = where;
    w->path = selfsup__strdup(path);
    w->out = selfsup__malloc(OUT_CHUNK);
    w->z.zalloc = selfsup__ckpt_zalloc;
    w->z.zfree = selfsup__ckpt_zfree;
    int rc = Z_MEM_ERROR;
    if (w->path && w->out)
        rc = deflateInit(&w->z, level < 0 ? DEFAULT_LEVEL : level);
    w->level = level;
    if (rc != Z_OK) {
        selfsup__ckpt_writer_destroy(w);
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                             "cannot allocate the writer of %s", path);
    }
    w->z_ready = 1;
    selfsup_status s = selfsup__atomic_create(&w->file, path, where);
    if (s == SELFSUP_OK)
        s = write_file_header(w);
    if (s != SELFSUP_OK) {
        selfsup__ckpt_writer_destroy(w);
        return s;
    }
    *out = w;
    return SELFSUP_OK;
}

static selfsup_status check_usable(const selfsup__ckpt_writer *w)
{
    if (w->broken)
        return selfsup__fail(SELFSUP_ERR_STATE, w->where,
                             "%s: an earlier failure abandoned this "
                             "checkpoint; start a new writer",
                             w->path);
    if (w->committed)
        return selfsup__fail(SELFSUP_ERR_STATE, w->where,
                             "%s is already committed", w->path);
    return SELFSUP_OK;
}

static selfsup_status check_name(const selfsup__ckpt_writer *w,
                                 const char *name)
{
    if (!name)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, w->where,
                             "%s: section name is NULL", w->path);
    size_t n = strlen(name);
    if (n == 0 || n > SELFSUP__CKPT_NAME_MAX)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, w->where,
                             "%s: section name \"%.40s\" has %zu bytes, not "
                             "1..%d",
                             w->path, name, n, SELFSUP__CKPT_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x21 || c > 0x7E)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, w->where,
                                 "%s: section name byte %zu is 0x%02x, not "
                                 "printable ASCII",
                                 w->path, i, c);
    }
    for (int64_t i = 0; i < w->count; i++)
        if (strcmp(w->names[i], name) == 0)
            return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, w->where,
                                 "%s: section \"%s\" is already in the file",
                                 w->path, name);
    return SELFSUP_OK;
}

static selfsup_status remember_name(selfsup__ckpt_writer *w, const char *name)
{
    if (w->count == w->capacity) {
        int64_t capacity = w->capacity ? 2 * w->capacity : 16;
        char **grown = selfsup__malloc((size_t)capacity * sizeof *grown);
        if (!grown)
            return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, w->where,
                                 "%s: cannot grow the section list", w->path);
        if (w->count)
            memcpy(grown, w->names, (size_t)w->count * sizeof *grown);
        selfsup__free(w->names);
        w->names = grown;
        w->capacity = capacity;
    }
    char *copy = selfsup__strdup(name);
    if (!copy)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, w->where,
                             "%s: cannot copy section name \"%s\"", w->path,
                             name);
    w->names[w->count++] = copy;
    return SELFSUP_OK;
}

/* The default policy: numbers (parameters, moments) gain nothing from
 * LZ77's string search. zlib's run-length strategy (Z_RLE: runs plus
 * Huffman coding) compresses float32 weights as well as level 1 does (7.6%
 * smaller), about 3 times faster, and a zero-filled buffer (fresh momentum,
 * zero-initialised layers) 1000:1. Text and bytes get level 1. An explicit
 * level applies to every section. */
static void section_params(const selfsup__ckpt_writer *w,
                           selfsup__ckpt_type type, int *level, int *strategy)
{
    *level = w->level < 0 ? DEFAULT_LEVEL : w->level;
    *strategy = Z_DEFAULT_STRATEGY;
    if (w->level < 0 && type != SELFSUP__CKPT_STRING &&
        type != SELFSUP__CKPT_BYTES)
        *strategy = Z_RLE;
}

/* Compresses bytes into the file at the current offset; returns the
 * compressed length and its CRC32. */
static selfsup_status deflate_payload(selfsup__ckpt_writer *w, const char *name,
                                      selfsup__ckpt_type type, const void *data,
                                      uint64_t bytes, uint64_t *stored,
                                      uint32_t *crc)
{
    const unsigned char *in = data;
    uint64_t left = bytes;
    *stored = 0;
    *crc = 0;
    int level, strategy;
    section_params(w, type, &level, &strategy);
    if (deflateReset(&w->z) != Z_OK ||
        deflateParams(&w->z, level, strategy) != Z_OK)
        goto zlib_failed;
    w->z.next_in = in;
    w->z.avail_in = 0;
    for (;;) {
        if (w->z.avail_in == 0 && left > 0) {
            uInt piece = left > IN_PIECE ? IN_PIECE : (uInt)left;
            w->z.next_in = in;
            w->z.avail_in = piece;
            in += piece;
            left -= piece;
        }
        w->z.next_out = w->out;
        w->z.avail_out = OUT_CHUNK;
        int rc = deflate(&w->z, left == 0 ? Z_FINISH : Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            goto zlib_failed;
        size_t produced = OUT_CHUNK - w->z.avail_out;
        *crc = ckpt_crc32(*crc, w->out, produced);
        *stored += produced;
        SS_TRY(write_bytes(w, w->out, produced));
        if (rc == Z_STREAM_END)
            return SELFSUP_OK;
    }
zlib_failed:
    abandon(w);
    return selfsup__fail(SELFSUP_ERR_IO, w->where,
                         "%s: zlib cannot compress section \"%s\": %s", w->path,
                         name, w->z.msg ? w->z.msg : "deflate error");
}

static selfsup_status put_section(selfsup__ckpt_writer *w, const char *name,
                                  selfsup__ckpt_type type, const void *data,
                                  int64_t count)
{
    SS_TRY(check_usable(w));
    SS_TRY(check_name(w, name));
    int size = selfsup__ckpt_element_size(type);
    if (count < 0 || count > INT64_MAX / size)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, w->where,
                             "%s: section \"%s\": count = %lld is out of "
                             "range",
                             w->path, name, (long long)count);
    if (!data && count > 0)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, w->where,
                             "%s: section \"%s\": values is NULL", w->path,
                             name);
    SS_TRY(remember_name(w, name));

    /* The header carries the compressed length and CRC, known only after
     * the payload: reserve its bytes, stream the payload, come back. */
    size_t name_length = strlen(name);
    unsigned char h[CKPT_SECTION_HEADER_SIZE + SELFSUP__CKPT_NAME_MAX] = {0};
    uint64_t header_at = w->offset;
    SS_TRY(write_bytes(w, h, CKPT_SECTION_HEADER_SIZE + name_length));
    uint64_t bytes = (uint64_t)count * (uint64_t)size, stored;
    uint32_t payload_crc;
    SS_TRY(deflate_payload(w, name, type, data, bytes, &stored, &payload_crc));

    memcpy(h, CKPT_SECTION_MAGIC, 4);
    h[4] = (unsigned char)type;
    h[5] = (unsigned char)name_length;
    ckpt_put_u16(h + 6, 0);
    ckpt_put_u64(h + 8, bytes);
    ckpt_put_u64(h + 16, stored);
    ckpt_put_u32(h + 24, payload_crc);
    memcpy(h + CKPT_SECTION_HEADER_SIZE, name, name_length);
    uint32_t header_crc = ckpt_crc32(0, h, 28);
    header_crc = ckpt_crc32(header_crc, name, name_length);
    ckpt_put_u32(h + 28, header_crc);
    uint64_t end = w->offset;
    SS_TRY(seek_to(w, header_at));
    SS_TRY(write_bytes(w, h, CKPT_SECTION_HEADER_SIZE + name_length));
    SS_TRY(seek_to(w, end));
    w->offset = end;
    return SELFSUP_OK;
}

#define CHECK_WRITER(w)                                                        \
    do {                                                                       \
        if (!(w))                                                              \
            return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "writer is NULL");    \
    } while (0)

selfsup_status selfsup__ckpt_put_f32(selfsup__ckpt_writer *w, const char *name,
                                     const float *values, int64_t count)
{
    CHECK_WRITER(w);
    return put_section(w, name, SELFSUP__CKPT_F32, values, count);
}

selfsup_status selfsup__ckpt_put_f64(selfsup__ckpt_writer *w, const char *name,
                                     const double *values, int64_t count)
{
    CHECK_WRITER(w);
    return put_section(w, name, SELFSUP__CKPT_F64, values, count);
}

selfsup_status selfsup__ckpt_put_i64(selfsup__ckpt_writer *w, const char *name,
                                     const int64_t *values, int64_t count)
{
    CHECK_WRITER(w);
    return put_section(w, name, SELFSUP__CKPT_I64, values, count);
}

selfsup_status selfsup__ckpt_put_u64(selfsup__ckpt_writer *w, const char *name,
                                     const uint64_t *values, int64_t count)
{
    CHECK_WRITER(w);
    return put_section(w, name, SELFSUP__CKPT_U64, values, count);
}

selfsup_status selfsup__ckpt_put_bytes(selfsup__ckpt_writer *w,
                                       const char *name, const void *bytes,
                                       int64_t size)
{
    CHECK_WRITER(w);
    return put_section(w, name, SELFSUP__CKPT_BYTES, bytes, size);
}

selfsup_status selfsup__ckpt_put_string(selfsup__ckpt_writer *w,
                                        const char *name, const char *text)
{
    CHECK_WRITER(w);
    if (!text)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, w->where,
                             "%s: section \"%s\": text is NULL", w->path,
                             name ? name : "(null)");
    return put_section(w, name, SELFSUP__CKPT_STRING, text,
                       (int64_t)strlen(text));
}

selfsup_status selfsup__ckpt_writer_commit(selfsup__ckpt_writer *w)
{
    CHECK_WRITER(w);
    SS_TRY(check_usable(w));
    unsigned char e[CKPT_END_SIZE] = {0};
    memcpy(e, CKPT_END_MAGIC, sizeof CKPT_END_MAGIC);
    ckpt_put_u64(e + 8, (uint64_t)w->count);
    ckpt_put_u64(e + 16, w->offset);
    ckpt_put_u32(e + 28, ckpt_crc32(0, e, 28));
    SS_TRY(write_bytes(w, e, sizeof e));
    selfsup_status s = selfsup__atomic_commit(w->file);
    /* A failed directory sync leaves the file in place: committed still. */
    if (s == SELFSUP_OK || selfsup__atomic_committed(w->file))
        w->committed = 1;
    else
        abandon(w);
    return s;
}

void selfsup__ckpt_writer_destroy(selfsup__ckpt_writer *w)
{
    if (!w)
        return;
    selfsup__atomic_destroy(w->file);
    if (w->z_ready)
        deflateEnd(&w->z);
    for (int64_t i = 0; i < w->count; i++)
        selfsup__free(w->names[i]);
    selfsup__free(w->names);
    selfsup__free(w->out);
    selfsup__free(w->path);
    selfsup__free(w);
}
