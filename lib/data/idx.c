/* IDX reader: one byte source (a FILE or a memory buffer, inflated through
 * zlib when it starts with the gzip magic), one parser for both. zlib's
 * memory goes through the library's allocator, so allocation-failure
 * sweeps reach it too. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/error.h"

enum { FILE_CHUNK = 1 << 16, MEMORY_CHUNK = 1 << 30 };

typedef struct byte_source {
    const char *name;  /* the file, for messages */
    const char *where; /* the public function, for messages */
    FILE *file;        /* NULL for a memory source */
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    uint8_t *buffer; /* FILE_CHUNK bytes read from the file */
    const uint8_t *in;
    size_t in_len;     /* bytes of input not yet consumed */
    int64_t raw_size;  /* the whole input's size when known, else -1 */
    int gzip;          /* input starts with 1f 8b */
    int z_ready;       /* inflateInit2 succeeded */
    int z_member_done; /* the last gzip member ended */
    z_stream z;
} byte_source;

static void *z_alloc(void *opaque, uInt items, uInt size)
{
    (void)opaque;
    return selfsup__calloc(items, size);
}

static void z_free(void *opaque, void *p)
{
    (void)opaque;
    selfsup__free(p);
}

/* Makes in/in_len non-empty unless the input is exhausted. */
static selfsup_status refill(byte_source *s)
{
    if (s->in_len > 0)
        return SELFSUP_OK;
    if (s->file) {
        size_t got = fread(s->buffer, 1, FILE_CHUNK, s->file);
        if (got == 0 && ferror(s->file))
            return selfsup__fail(SELFSUP_ERR_IO, s->where, "\"%s\": read error",
                                 s->name);
        s->in = s->buffer;
        s->in_len = got;
    } else {
        size_t left = s->mem_len - s->mem_pos;
        size_t take = left < MEMORY_CHUNK ? left : MEMORY_CHUNK;
        s->in = s->mem + s->mem_pos;
        s->in_len = take;
        s->mem_pos += take;
    }
    return SELFSUP_OK;
}

/* Detects gzip from the first two bytes and sets up inflation. */
static selfsup_status source_start(byte_source *s)
{
    SS_TRY(refill(s));
    if (s->in_len >= 1 && s->in[0] == 0x1f) {
        /* A second byte may sit in the next chunk only for files read in
         * 1-byte pieces, which fread never returns; check what is here. */
        if (s->in_len >= 2 && s->in[1] == 0x8b)
            s->gzip = 1;
    }
    if (!s->gzip)
        return SELFSUP_OK;
    s->raw_size = -1; /* the inflated size is unknown until read */
    s->z.zalloc = z_alloc;
    s->z.zfree = z_free;
    s->z.opaque = NULL;
    int ret = inflateInit2(&s->z, 15 + 16); /* gzip wrapper only */
    if (ret != Z_OK)
        return selfsup__fail(ret == Z_MEM_ERROR ? SELFSUP_ERR_OUT_OF_MEMORY
                                                : SELFSUP_ERR_BACKEND,
                             s->where, "\"%s\": cannot start zlib (%d)",
                             s->name, ret);
    s->z_ready = 1;
    return SELFSUP_OK;
}

static void source_end(byte_source *s)
{
    if (s->z_ready)
        inflateEnd(&s->z);
    s->z_ready = 0;
}

static selfsup_status read_raw(byte_source *s, uint8_t *dst, size_t n,
                               size_t *got)
{
    size_t done = 0;
    while (done < n) {
        SS_TRY(refill(s));
        if (s->in_len == 0)
            break;
        size_t take = s->in_len < n - done ? s->in_len : n - done;
        memcpy(dst + done, s->in, take);
        s->in += take;
        s->in_len -= take;
        done += take;
    }
    *got = done;
    return SELFSUP_OK;
}

static selfsup_status read_gzip(byte_source *s, uint8_t *dst, size_t n,
                                size_t *got)
{
    size_t done = 0;
    while (done < n) {
        SS_TRY(refill(s));
        if (s->z_member_done) {
            if (s->in_len == 0)
                break; /* the end of the last member: the end of data */
            /* Another member follows (as gzip -c a b > c makes); anything
             * else fails the header check below. */
            inflateReset(&s->z);
            s->z_member_done = 0;
        }
        if (s->in_len == 0)
            return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                                 "\"%s\": the gzip stream ends early "
                                 "(truncated file)",
                                 s->name);
        uInt in_avail = s->in_len < UINT32_MAX ? (uInt)s->in_len : UINT32_MAX;
        size_t want = n - done;
        uInt out_avail = want < UINT32_MAX ? (uInt)want : UINT32_MAX;
        s->z.next_in = (Bytef *)s->in;
        s->z.avail_in = in_avail;
        s->z.next_out = dst + done;
        s->z.avail_out = out_avail;
        int ret = inflate(&s->z, Z_NO_FLUSH);
        size_t used = in_avail - s->z.avail_in;
        size_t made = out_avail - s->z.avail_out;
        s->in += used;
        s->in_len -= used;
        done += made;
        if (ret == Z_STREAM_END) {
            s->z_member_done = 1;
        } else if (ret == Z_MEM_ERROR) {
            return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                                 "\"%s\": zlib is out of memory", s->name);
        } else if (ret != Z_OK || (used == 0 && made == 0)) {
            return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                                 "\"%s\": the gzip stream is corrupt (%s)",
                                 s->name, s->z.msg ? s->z.msg : "no progress");
        }
    }
    *got = done;
    return SELFSUP_OK;
}

/* Reads up to n bytes; *got < n only at the end of the data. */
static selfsup_status source_read(byte_source *s, uint8_t *dst, size_t n,
                                  size_t *got)
{
    return s->gzip ? read_gzip(s, dst, n, got) : read_raw(s, dst, n, got);
}

static uint32_t big_endian32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           (uint32_t)b[3];
}

static const char *dim_name(int rank, int i)
{
    static const char *const image_dims[3] = {"count", "rows", "columns"};
    return rank == 1 ? "count" : image_dims[i];
}

/* The header: magic and dimensions, checked field by field. */
static selfsup_status read_header(byte_source *s, int rank, int64_t dims[3],
                                  int64_t *payload)
{
    uint8_t magic[4];
    size_t got;
    SS_TRY(source_read(s, magic, 4, &got));
    if (got < 4)
        return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                             "\"%s\": %zu bytes, shorter than the 4-byte IDX "
                             "magic",
                             s->name, got);
    uint32_t want_magic = rank == 1 ? 0x00000801u : 0x00000803u;
    if (magic[0] != 0 || magic[1] != 0)
        return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                             "\"%s\": magic 0x%08x does not start with two "
                             "zero bytes: not an IDX file (expected "
                             "0x%08x)",
                             s->name, big_endian32(magic), want_magic);
    if (magic[2] != 0x08)
        return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                             "\"%s\": magic 0x%08x: data type 0x%02x is not "
                             "0x08 (unsigned byte)",
                             s->name, big_endian32(magic), magic[2]);
    if (magic[3] != rank)
        return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                             "\"%s\": magic 0x%08x: rank %d, expected %d "
                             "(%s file, magic 0x%08x)",
                             s->name, big_endian32(magic), magic[3], rank,
                             rank == 1 ? "label" : "image", want_magic);
    uint8_t raw[12];
    SS_TRY(source_read(s, raw, (size_t)rank * 4, &got));
    if (got < (size_t)rank * 4)
        return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                             "\"%s\": the header ends inside the dimensions "
                             "(%zu of %d bytes)",
                             s->name, got, rank * 4);
    int64_t total = 1;
    for (int i = 0; i < rank; i++) {
        int64_t d = big_endian32(raw + 4 * i);
        if (d == 0)
            return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                                 "\"%s\": dimension %d (%s) is 0", s->name, i,
                                 dim_name(rank, i));
        if (i > 0 && d > SS_IDX_MAX_SIDE)
            return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                                 "\"%s\": dimension %d (%s) = %lld exceeds "
                                 "%d",
                                 s->name, i, dim_name(rank, i), (long long)d,
                                 SS_IDX_MAX_SIDE);
        if (d > SS_IDX_MAX_BYTES / total)
            return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                                 "\"%s\": dimension %d (%s) = %lld makes "
                                 "more than 2^40 bytes of data",
                                 s->name, i, dim_name(rank, i), (long long)d);
        dims[i] = d;
        total *= d;
    }
    *payload = total;
    if (s->raw_size >= 0) {
        /* Raw input of known size: the length must match before anything
         * is allocated for it. */
        int64_t expected = 4 + 4 * (int64_t)rank + total;
        if (s->raw_size != expected)
            return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                                 "\"%s\": %lld bytes, but the header "
                                 "(%lld items) makes %lld",
                                 s->name, (long long)s->raw_size,
                                 (long long)dims[0], (long long)expected);
    }
    return SELFSUP_OK;
}

/* Reads payload bytes into a buffer that grows with the data actually
 * present, so that a short file claiming huge dimensions costs nothing. */
static selfsup_status read_payload(byte_source *s, int64_t payload,
                                   uint8_t **out)
{
    size_t want = (size_t)payload;
    size_t cap = want < (1u << 20) ? want : (1u << 20);
    if (s->raw_size >= 0)
        cap = want; /* the size was checked against the file's */
    uint8_t *data = selfsup__malloc(cap);
    if (!data)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                             "\"%s\": cannot allocate %zu bytes", s->name, cap);
    size_t size = 0;
    while (size < want) {
        if (size == cap) {
            size_t grown = cap * 2 < want ? cap * 2 : want;
            uint8_t *bigger = selfsup__malloc(grown);
            if (!bigger) {
                selfsup__free(data);
                return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                                     "\"%s\": cannot allocate %zu bytes",
                                     s->name, grown);
            }
            memcpy(bigger, data, size);
            selfsup__free(data);
            data = bigger;
            cap = grown;
        }
        size_t got;
        selfsup_status st = source_read(s, data + size, cap - size, &got);
        if (st != SELFSUP_OK) {
            selfsup__free(data);
            return st;
        }
        size += got;
        if (got == 0) {
            selfsup__free(data);
            return selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                                 "\"%s\": %zu bytes of data, but the header "
                                 "says %zu (truncated file?)",
                                 s->name, size, want);
        }
    }
    uint8_t extra;
    size_t got;
    selfsup_status st = source_read(s, &extra, 1, &got);
    if (st == SELFSUP_OK && got != 0)
        st = selfsup__fail(SELFSUP_ERR_CORRUPT, s->where,
                           "\"%s\": more data than the header's %zu bytes",
                           s->name, want);
    if (st != SELFSUP_OK) {
        selfsup__free(data);
        return st;
    }
    *out = data;
    return SELFSUP_OK;
}

static selfsup_status read_idx(byte_source *s, int rank, selfsup__idx *out)
{
    selfsup_status st = source_start(s);
    int64_t dims[3] = {0, 0, 0}, payload = 0;
    uint8_t *data = NULL;
    if (st == SELFSUP_OK)
        st = read_header(s, rank, dims, &payload);
    if (st == SELFSUP_OK)
        st = read_payload(s, payload, &data);
    source_end(s);
    if (st != SELFSUP_OK)
        return st;
    out->rank = rank;
    memcpy(out->dims, dims, sizeof dims);
    out->data = data;
    return SELFSUP_OK;
}

selfsup_status selfsup__idx_read_file(selfsup__idx *out, const char *path,
                                      int rank, const char *where)
{
    byte_source s;
    memset(&s, 0, sizeof s);
    s.name = path;
    s.where = where;
    s.raw_size = -1;
    s.file = fopen(path, "rb");
    if (!s.file) {
        char reason[128] = "unknown error";
        strerror_r(errno, reason, sizeof reason);
        return selfsup__fail(SELFSUP_ERR_IO, where, "cannot open \"%s\": %s",
                             path, reason);
    }
    struct stat st;
    if (fstat(fileno(s.file), &st) == 0 && S_ISREG(st.st_mode))
        s.raw_size = (int64_t)st.st_size;
    s.buffer = selfsup__malloc(FILE_CHUNK);
    selfsup_status status =
        s.buffer
            ? read_idx(&s, rank, out)
            : selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, where,
                            "cannot allocate a read buffer for \"%s\"", path);
    selfsup__free(s.buffer);
    fclose(s.file);
    return status;
}

selfsup_status selfsup__idx_read_memory(selfsup__idx *out, const void *data,
                                        size_t len, const char *name, int rank,
                                        const char *where)
{
    byte_source s;
    memset(&s, 0, sizeof s);
    s.name = name;
    s.where = where;
    s.mem = data;
    s.mem_len = len;
    s.raw_size = (int64_t)len;
    return read_idx(&s, rank, out);
}

void selfsup__idx_free(selfsup__idx *idx)
{
    selfsup__free(idx->data);
    idx->data = NULL;
}
