/* The checkpoint reader: validates a whole file and decodes every section,
 * trusting no length before it has checked it against the bytes that are
 * actually there. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_layout.h"
#include "core/alloc.h"
#include "core/error.h"

enum { IO_PIECE = 1 << 30 }; /* zlib and read() take 32-bit counts */

typedef struct ckpt_section {
    char name[SELFSUP__CKPT_NAME_MAX + 1];
    selfsup__ckpt_type type;
    int64_t length; /* elements */
    uint64_t bytes;
    unsigned char *data; /* bytes + 1, the last one NUL */
} ckpt_section;

struct selfsup__ckpt_reader {
    const char *where;
    char *label;
    uint32_t format_version, writer_version;
    int count, capacity;
    ckpt_section *sections;
};

/* Where the bytes come from: a file descriptor or a memory buffer. */
typedef struct source {
    const unsigned char *mem; /* NULL for a file */
    int fd;
    uint64_t size;
    const char *label, *where;
    unsigned char *scratch; /* a file's payload bytes, reused */
    uint64_t scratch_capacity;
} source;

#define CORRUPT(src, ...)                                                      \
    selfsup__fail(SELFSUP_ERR_CORRUPT, (src)->where, __VA_ARGS__)

static void describe_errno(int e, char *buf, size_t size)
{
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
}

/* Copies n bytes at offset at (the caller checked at + n <= size). */
static selfsup_status source_read(source *s, uint64_t at, void *dst, uint64_t n)
{
    if (s->mem) {
        memcpy(dst, s->mem + at, n);
        return SELFSUP_OK;
    }
    unsigned char *p = dst;
    while (n > 0) {
        size_t piece = n > IO_PIECE ? IO_PIECE : (size_t)n;
        ssize_t got = pread(s->fd, p, piece, (off_t)at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            char reason[128];
            describe_errno(got < 0 ? errno : EIO, reason, sizeof reason);
            return selfsup__fail(
                SELFSUP_ERR_IO, s->where, "cannot read %s at byte %llu: %s%s",
                s->label, (unsigned long long)at, reason,
                got == 0 ? " (the file shrank while read)" : "");
        }
        p += got;
        at += (uint64_t)got;
        n -= (uint64_t)got;
    }
    return SELFSUP_OK;
}

/* Points *view at n bytes at offset at: in place for memory, through the
 * scratch buffer for a file (never larger than the file). */
static selfsup_status source_view(source *s, uint64_t at, uint64_t n,
                                  const unsigned char **view)
{
    if (s->mem) {
        *view = s->mem + at;
        return SELFSUP_OK;
    }
    if (n > s->scratch_capacity) {
        selfsup__free(s->scratch);
        s->scratch_capacity = 0;
        s->scratch = selfsup__malloc((size_t)n);
        if (!s->scratch)
            return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                                 "cannot allocate %llu bytes to read %s",
                                 (unsigned long long)n, s->label);
        s->scratch_capacity = n;
    }
    SS_TRY(source_read(s, at, s->scratch, n));
    *view = s->scratch;
    return SELFSUP_OK;
}

static selfsup_status check_header(source *s, selfsup__ckpt_reader *r)
{
    unsigned char h[CKPT_HEADER_SIZE];
    if (s->size < CKPT_MAGIC_SIZE)
        return CORRUPT(s, "%s is not a libselfsup checkpoint (only %llu bytes)",
                       s->label, (unsigned long long)s->size);
    uint64_t n = s->size < CKPT_HEADER_SIZE ? s->size : CKPT_HEADER_SIZE;
    SS_TRY(source_read(s, 0, h, n));
    if (memcmp(h, CKPT_MAGIC, CKPT_MAGIC_SIZE) != 0)
        return CORRUPT(s, "%s is not a libselfsup checkpoint (no magic number)",
                       s->label);
    if (s->size < 16)
        return CORRUPT(s, "%s is truncated: %llu bytes", s->label,
                       (unsigned long long)s->size);
    /* The version is read before the header CRC: a later format may lay out
     * the rest of the header differently, and should be reported as a
     * version this library does not read, not as damage. */
    uint32_t version = ckpt_get_u32(h + 12);
    if (version != SELFSUP__CKPT_FORMAT_VERSION)
        return selfsup__fail(SELFSUP_ERR_VERSION, s->where,
                             "%s has checkpoint format version %u; this "
                             "library reads version %d",
                             s->label, version, SELFSUP__CKPT_FORMAT_VERSION);
    if (s->size < CKPT_HEADER_SIZE + CKPT_END_SIZE)
        return CORRUPT(s, "%s is truncated: %llu bytes", s->label,
                       (unsigned long long)s->size);
    uint32_t crc = ckpt_crc32(0, h, 28), stored = ckpt_get_u32(h + 28);
    if (crc != stored)
        return CORRUPT(s,
                       "%s: the file header is damaged (CRC32 %08x, stored "
                       "%08x)",
                       s->label, crc, stored);
    if (ckpt_get_u32(h + 20) != 0 || ckpt_get_u32(h + 24) != 0)
        return CORRUPT(s,
                       "%s: header flags %08x %08x are not defined in "
                       "format version 1",
                       s->label, ckpt_get_u32(h + 20), ckpt_get_u32(h + 24));
    r->format_version = version;
    r->writer_version = ckpt_get_u32(h + 16);
    return SELFSUP_OK;
}

/* Reads the end record; gives the number of sections and where they end. */
static selfsup_status check_end(source *s, uint64_t *count, uint64_t *end)
{
    unsigned char e[CKPT_END_SIZE];
    uint64_t at = s->size - CKPT_END_SIZE;
    SS_TRY(source_read(s, at, e, sizeof e));
    if (memcmp(e, CKPT_END_MAGIC, sizeof CKPT_END_MAGIC) != 0 ||
        ckpt_crc32(0, e, 28) != ckpt_get_u32(e + 28))
        return CORRUPT(s,
                       "%s is truncated or damaged: its last %d bytes are "
                       "not a valid end record",
                       s->label, CKPT_END_SIZE);
    if (ckpt_get_u64(e + 16) != at || ckpt_get_u32(e + 24) != 0)
        return CORRUPT(s,
                       "%s: the end record says it sits at byte %llu, but "
                       "it is at byte %llu",
                       s->label, (unsigned long long)ckpt_get_u64(e + 16),
                       (unsigned long long)at);
    *count = ckpt_get_u64(e + 8);
    *end = at;
    /* Every section takes at least a header and a one-byte name. */
    uint64_t most = (at - CKPT_HEADER_SIZE) / (CKPT_SECTION_HEADER_SIZE + 1);
    if (*count > most)
        return CORRUPT(s,
                       "%s: the end record counts %llu sections, more than "
                       "%llu bytes can hold",
                       s->label, (unsigned long long)*count,
                       (unsigned long long)(at - CKPT_HEADER_SIZE));
    return SELFSUP_OK;
}

/* A new slot at the end of r->sections, grown as sections are found (not
 * sized by what the end record claims). */
static selfsup_status add_slot(source *s, selfsup__ckpt_reader *r,
                               ckpt_section **slot)
{
    if (r->count == r->capacity) {
        int capacity = r->capacity ? 2 * r->capacity : 8;
        ckpt_section *grown = selfsup__calloc((size_t)capacity, sizeof *grown);
        if (!grown)
            return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                                 "cannot allocate the section list of %s",
                                 s->label);
        if (r->count)
            memcpy(grown, r->sections, (size_t)r->count * sizeof *grown);
        selfsup__free(r->sections);
        r->sections = grown;
        r->capacity = capacity;
    }
    *slot = &r->sections[r->count];
    return SELFSUP_OK;
}

/* Inflates exactly sec->bytes bytes from the stored zlib stream. */
static selfsup_status inflate_payload(source *s, z_stream *z, ckpt_section *sec,
                                      const unsigned char *in, uint64_t stored)
{
    if (inflateReset(z) != Z_OK)
        return CORRUPT(s, "%s: section \"%s\": zlib cannot restart", s->label,
                       sec->name);
    unsigned char *out = sec->data;
    uint64_t in_left = stored, out_left = sec->bytes;
    /* zlib refuses a NULL next_out even with no room behind it. */
    z->next_in = in;
    z->avail_in = 0;
    z->next_out = out;
    z->avail_out = 0;
    for (;;) {
        if (z->avail_in == 0 && in_left > 0) {
            uInt piece = in_left > IO_PIECE ? IO_PIECE : (uInt)in_left;
            z->next_in = in;
            z->avail_in = piece;
            in += piece;
            in_left -= piece;
        }
        if (z->avail_out == 0 && out_left > 0) {
            uInt piece = out_left > IO_PIECE ? IO_PIECE : (uInt)out_left;
            z->next_out = out;
            z->avail_out = piece;
            out += piece;
            out_left -= piece;
        }
        int rc = inflate(z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_MEM_ERROR)
            return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                                 "%s: section \"%s\": zlib ran out of memory",
                                 s->label, sec->name);
        if (rc == Z_OK)
            continue;
        if (rc == Z_BUF_ERROR && z->avail_out == 0 && out_left == 0)
            return CORRUPT(s,
                           "%s: section \"%s\" inflates to more than its "
                           "declared %llu bytes",
                           s->label, sec->name, (unsigned long long)sec->bytes);
        if (rc == Z_BUF_ERROR && z->avail_in == 0 && in_left == 0)
            return CORRUPT(s,
                           "%s: section \"%s\": the zlib stream ends "
                           "before its end marker",
                           s->label, sec->name);
        return CORRUPT(s, "%s: section \"%s\": zlib: %s", s->label, sec->name,
                       z->msg ? z->msg
                              : (rc == Z_NEED_DICT ? "needs a dictionary"
                                                   : "invalid stream"));
    }
    uint64_t produced = sec->bytes - out_left - z->avail_out;
    if (produced != sec->bytes)
        return CORRUPT(s,
                       "%s: section \"%s\" inflates to %llu bytes, not the "
                       "declared %llu",
                       s->label, sec->name, (unsigned long long)produced,
                       (unsigned long long)sec->bytes);
    if (z->avail_in != 0 || in_left != 0)
        return CORRUPT(s,
                       "%s: section \"%s\": %llu stray bytes follow its "
                       "zlib stream",
                       s->label, sec->name,
                       (unsigned long long)(z->avail_in + in_left));
    return SELFSUP_OK;
}

/* Parses the section whose header starts at *at (index i), validating it
 * completely, and moves *at past it. */
static selfsup_status read_section(source *s, selfsup__ckpt_reader *r,
                                   z_stream *z, uint64_t index, uint64_t *at,
                                   uint64_t end)
{
    unsigned char h[CKPT_SECTION_HEADER_SIZE];
    unsigned char name[SELFSUP__CKPT_NAME_MAX + 1];
    uint64_t pos = *at;
    if (end - pos < CKPT_SECTION_HEADER_SIZE)
        return CORRUPT(s,
                       "%s: section %llu would start at byte %llu, too "
                       "near the end record",
                       s->label, (unsigned long long)index,
                       (unsigned long long)pos);
    SS_TRY(source_read(s, pos, h, sizeof h));
    unsigned name_length = h[5];
    if (memcmp(h, CKPT_SECTION_MAGIC, 4) != 0 || name_length == 0 ||
        end - pos - CKPT_SECTION_HEADER_SIZE < name_length)
        return CORRUPT(s,
                       "%s: no valid section header at byte %llu "
                       "(section %llu)",
                       s->label, (unsigned long long)pos,
                       (unsigned long long)index);
    SS_TRY(source_read(s, pos + CKPT_SECTION_HEADER_SIZE, name, name_length));
    uint32_t crc = ckpt_crc32(ckpt_crc32(0, h, 28), name, name_length);
    if (crc != ckpt_get_u32(h + 28))
        return CORRUPT(s,
                       "%s: the header of section %llu (at byte %llu) is "
                       "damaged (CRC32 %08x, stored %08x)",
                       s->label, (unsigned long long)index,
                       (unsigned long long)pos, crc, ckpt_get_u32(h + 28));
    for (unsigned i = 0; i < name_length; i++)
        if (name[i] < 0x21 || name[i] > 0x7E)
            return CORRUPT(s,
                           "%s: the name of section %llu has byte 0x%02x, "
                           "not printable ASCII",
                           s->label, (unsigned long long)index, name[i]);
    name[name_length] = '\0';

    ckpt_section *sec = NULL;
    SS_TRY(add_slot(s, r, &sec));
    memcpy(sec->name, name, name_length + 1);
    sec->type = (selfsup__ckpt_type)h[4];
    int size = selfsup__ckpt_element_size(sec->type);
    if (size == 0 || ckpt_get_u16(h + 6) != 0)
        return CORRUPT(s,
                       "%s: section \"%s\" has type %u and flags %04x, "
                       "not defined in format version 1",
                       s->label, sec->name, h[4], ckpt_get_u16(h + 6));
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->sections[i].name, sec->name) == 0)
            return CORRUPT(s, "%s: section \"%s\" appears twice", s->label,
                           sec->name);
    sec->bytes = ckpt_get_u64(h + 8);
    uint64_t stored = ckpt_get_u64(h + 16);
    uint64_t payload_at = pos + CKPT_SECTION_HEADER_SIZE + name_length;
    if (stored > end - payload_at)
        return CORRUPT(s,
                       "%s: section \"%s\": its %llu stored bytes run past "
                       "the end of the sections (%llu bytes left)",
                       s->label, sec->name, (unsigned long long)stored,
                       (unsigned long long)(end - payload_at));
    if (sec->bytes / CKPT_MAX_DEFLATE_RATIO > stored)
        return CORRUPT(s,
                       "%s: section \"%s\" claims %llu bytes, more than its "
                       "%llu stored bytes can inflate to",
                       s->label, sec->name, (unsigned long long)sec->bytes,
                       (unsigned long long)stored);
    if (sec->bytes % (uint64_t)size != 0)
        return CORRUPT(s,
                       "%s: section \"%s\" has %llu bytes, not a whole "
                       "number of %s values",
                       s->label, sec->name, (unsigned long long)sec->bytes,
                       selfsup__ckpt_type_name(sec->type));
    sec->length = (int64_t)(sec->bytes / (uint64_t)size);

    const unsigned char *payload = NULL;
    SS_TRY(source_view(s, payload_at, stored, &payload));
    crc = ckpt_crc32(0, payload, stored);
    if (crc != ckpt_get_u32(h + 24))
        return CORRUPT(s,
                       "%s: section \"%s\": its data is damaged (CRC32 %08x, "
                       "stored %08x)",
                       s->label, sec->name, crc, ckpt_get_u32(h + 24));
    sec->data = selfsup__malloc((size_t)sec->bytes + 1);
    if (!sec->data)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                             "%s: cannot allocate %llu bytes for section "
                             "\"%s\"",
                             s->label, (unsigned long long)sec->bytes,
                             sec->name);
    r->count++; /* from here on close() frees sec->data */
    SS_TRY(inflate_payload(s, z, sec, payload, stored));
    sec->data[sec->bytes] = '\0';
    if (sec->type == SELFSUP__CKPT_STRING &&
        memchr(sec->data, '\0', (size_t)sec->bytes) != NULL)
        return CORRUPT(s, "%s: string section \"%s\" contains a NUL byte",
                       s->label, sec->name);
    *at = payload_at + stored;
    return SELFSUP_OK;
}

static selfsup_status parse(source *s, selfsup__ckpt_reader *r)
{
    SS_TRY(check_header(s, r));
    uint64_t count = 0, end = 0;
    SS_TRY(check_end(s, &count, &end));
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = selfsup__ckpt_zalloc;
    z.zfree = selfsup__ckpt_zfree;
    if (inflateInit(&z) != Z_OK)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                             "cannot allocate zlib's state to read %s",
                             s->label);
    selfsup_status status = SELFSUP_OK;
    uint64_t at = CKPT_HEADER_SIZE;
    for (uint64_t i = 0; i < count && status == SELFSUP_OK; i++)
        status = read_section(s, r, &z, i, &at, end);
    inflateEnd(&z);
    SS_TRY(status);
    if (at != end)
        return CORRUPT(s,
                       "%s: %llu unaccounted bytes lie between the last of "
                       "its %llu sections and the end record",
                       s->label, (unsigned long long)(end - at),
                       (unsigned long long)count);
    return SELFSUP_OK;
}

/* Builds a reader from a source; on failure nothing is left allocated. */
static selfsup_status open_source(selfsup__ckpt_reader **out, source *s)
{
    selfsup__ckpt_reader *r = selfsup__calloc(1, sizeof *r);
    if (!r)
        return selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                             "cannot allocate the reader of %s", s->label);
    r->where = s->where;
    r->label = selfsup__strdup(s->label);
    selfsup_status status =
        r->label ? parse(s, r)
                 : selfsup__fail(SELFSUP_ERR_OUT_OF_MEMORY, s->where,
                                 "cannot copy the name %s", s->label);
    selfsup__free(s->scratch);
    s->scratch = NULL;
    if (status != SELFSUP_OK) {
        selfsup__ckpt_reader_close(r);
        return status;
    }
    *out = r;
    return SELFSUP_OK;
}

selfsup_status selfsup__ckpt_reader_open(selfsup__ckpt_reader **out,
                                         const char *path, const char *where)
{
    SS_CHECK_NOT_NULL(out);
    SS_CHECK_NOT_NULL(path);
    if (!where)
        where = __func__;
    char reason[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        describe_errno(errno, reason, sizeof reason);
        return selfsup__fail(SELFSUP_ERR_IO, where, "cannot open %s: %s", path,
                             reason);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        describe_errno(errno, reason, sizeof reason);
        close(fd);
        return selfsup__fail(SELFSUP_ERR_IO, where, "cannot stat %s: %s", path,
                             reason);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return selfsup__fail(SELFSUP_ERR_IO, where, "%s is not a regular file",
                             path);
    }
    source s = {
        .fd = fd, .size = (uint64_t)st.st_size, .label = path, .where = where};
    selfsup_status status = open_source(out, &s);
    close(fd);
    return status;
}

selfsup_status selfsup__ckpt_reader_open_memory(selfsup__ckpt_reader **out,
                                                const void *data, size_t size,
                                                const char *label,
                                                const char *where)
{
    SS_CHECK_NOT_NULL(out);
    if (!data && size > 0)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "data is NULL");
    static const unsigned char empty[1] = {0};
    source s = {.mem = data ? data : empty,
                .fd = -1,
                .size = size,
                .label = label ? label : "checkpoint in memory",
                .where = where ? where : __func__};
    return open_source(out, &s);
}

void selfsup__ckpt_reader_close(selfsup__ckpt_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->count; i++)
        selfsup__free(r->sections[i].data);
    selfsup__free(r->sections);
    selfsup__free(r->label);
    selfsup__free(r);
}

uint32_t selfsup__ckpt_reader_format_version(const selfsup__ckpt_reader *r)
{
    return r ? r->format_version : 0;
}

uint32_t selfsup__ckpt_reader_writer_version(const selfsup__ckpt_reader *r)
{
    return r ? r->writer_version : 0;
}

int selfsup__ckpt_section_count(const selfsup__ckpt_reader *r)
{
    return r ? r->count : 0;
}

static const ckpt_section *section_at(const selfsup__ckpt_reader *r, int i)
{
    return r && i >= 0 && i < r->count ? &r->sections[i] : NULL;
}

const char *selfsup__ckpt_section_name(const selfsup__ckpt_reader *r, int i)
{
    const ckpt_section *sec = section_at(r, i);
    return sec ? sec->name : NULL;
}

selfsup__ckpt_type selfsup__ckpt_section_type(const selfsup__ckpt_reader *r,
                                              int i)
{
    const ckpt_section *sec = section_at(r, i);
    return sec ? sec->type : (selfsup__ckpt_type)0;
}

int64_t selfsup__ckpt_section_length(const selfsup__ckpt_reader *r, int i)
{
    const ckpt_section *sec = section_at(r, i);
    return sec ? sec->length : 0;
}

const void *selfsup__ckpt_section_data(const selfsup__ckpt_reader *r, int i)
{
    const ckpt_section *sec = section_at(r, i);
    return sec ? sec->data : NULL;
}

int selfsup__ckpt_find(const selfsup__ckpt_reader *r, const char *name)
{
    if (!r || !name)
        return -1;
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->sections[i].name, name) == 0)
            return i;
    return -1;
}

selfsup_status selfsup__ckpt_expect(const selfsup__ckpt_reader *r,
                                    const char *name, selfsup__ckpt_type type,
                                    int64_t count)
{
    SS_CHECK_NOT_NULL(r);
    SS_CHECK_NOT_NULL(name);
    int i = selfsup__ckpt_find(r, name);
    if (i < 0)
        return selfsup__fail(SELFSUP_ERR_CORRUPT, r->where,
                             "%s has no section \"%s\"", r->label, name);
    const ckpt_section *sec = &r->sections[i];
    if (sec->type != type)
        return selfsup__fail(SELFSUP_ERR_CORRUPT, r->where,
                             "%s: section \"%s\" holds %s, not %s", r->label,
                             name, selfsup__ckpt_type_name(sec->type),
                             selfsup__ckpt_type_name(type));
    if (count >= 0 && sec->length != count)
        return selfsup__fail(SELFSUP_ERR_SHAPE, r->where,
                             "%s: section \"%s\" holds %lld %s values, not "
                             "%lld",
                             r->label, name, (long long)sec->length,
                             selfsup__ckpt_type_name(type), (long long)count);
    return SELFSUP_OK;
}

static selfsup_status get_typed(const selfsup__ckpt_reader *r, const char *name,
                                selfsup__ckpt_type type, void *dst,
                                int64_t count)
{
    SS_TRY(selfsup__ckpt_expect(r, name, type, count));
    if (!dst && count > 0)
        return selfsup__fail(SELFSUP_ERR_INVALID_ARGUMENT, r->where,
                             "%s: section \"%s\": destination is NULL",
                             r->label, name);
    const ckpt_section *sec = &r->sections[selfsup__ckpt_find(r, name)];
    if (sec->bytes)
        memcpy(dst, sec->data, (size_t)sec->bytes);
    return SELFSUP_OK;
}

selfsup_status selfsup__ckpt_get_f32(const selfsup__ckpt_reader *r,
                                     const char *name, float *dst,
                                     int64_t count)
{
    return get_typed(r, name, SELFSUP__CKPT_F32, dst, count);
}

selfsup_status selfsup__ckpt_get_f64(const selfsup__ckpt_reader *r,
                                     const char *name, double *dst,
                                     int64_t count)
{
    return get_typed(r, name, SELFSUP__CKPT_F64, dst, count);
}

selfsup_status selfsup__ckpt_get_i64(const selfsup__ckpt_reader *r,
                                     const char *name, int64_t *dst,
                                     int64_t count)
{
    return get_typed(r, name, SELFSUP__CKPT_I64, dst, count);
}

selfsup_status selfsup__ckpt_get_u64(const selfsup__ckpt_reader *r,
                                     const char *name, uint64_t *dst,
                                     int64_t count)
{
    return get_typed(r, name, SELFSUP__CKPT_U64, dst, count);
}

selfsup_status selfsup__ckpt_get_bytes(const selfsup__ckpt_reader *r,
                                       const char *name, void *dst,
                                       int64_t size)
{
    return get_typed(r, name, SELFSUP__CKPT_BYTES, dst, size);
}

selfsup_status selfsup__ckpt_get_string(const selfsup__ckpt_reader *r,
                                        const char *name, const char **text)
{
    SS_TRY(selfsup__ckpt_expect(r, name, SELFSUP__CKPT_STRING, -1));
    SS_CHECK_NOT_NULL(text);
    *text = (const char *)r->sections[selfsup__ckpt_find(r, name)].data;
    return SELFSUP_OK;
}
