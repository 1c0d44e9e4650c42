/* The decode cache of image_cache.h. */
#include "image_cache.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/error.h"
#include "dataset_impl.h"
#include "io/atomic_file.h"

#define HEADER 64
static const char magic[8] = {'S', 'S', 'I', 'M', 'G', 'C', '0', '1'};

/* FNV-1a, 64 bits: a key, not a defence (the files are the user's own). */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fnv(h, b, 8);
}

uint64_t selfsup__image_cache_key(const selfsup__collection *c,
                                  const selfsup__image_format *fmt,
                                  int skip_bad, int *ok)
{
    uint64_t h = fnv(0xcbf29ce484222325ull, magic, sizeof magic);
    h = fnv_u64(h, (uint64_t)fmt->size);
    h = fnv_u64(h, (uint64_t)fmt->channels);
    h = fnv_u64(h, (uint64_t)fmt->background);
    h = fnv_u64(h, (uint64_t)fmt->max_pixels);
    h = fnv_u64(h, (uint64_t)skip_bad);
    h = fnv_u64(h, (uint64_t)c->count);
    for (int k = 0; k < c->n_classes && c->classes; k++)
        h = fnv(h, c->classes[k], strlen(c->classes[k]) + 1);
    *ok = 1;
    for (int64_t i = 0; i < c->count; i++) {
        struct stat st;
        if (stat(c->paths[i], &st) != 0) {
            *ok = 0;
            return 0;
        }
        h = fnv(h, c->paths[i], strlen(c->paths[i]) + 1);
        h = fnv_u64(h, (uint64_t)st.st_size);
        h = fnv_u64(h, (uint64_t)st.st_mtim.tv_sec);
        h = fnv_u64(h, (uint64_t)st.st_mtim.tv_nsec);
        h = fnv_u64(h, (uint64_t)(c->labels ? c->labels[i] : -1));
    }
    return h;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t crc_of(uLong crc, const uint8_t *p, uint64_t n)
{
    while (n > 0) { /* zlib's length is an unsigned int */
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

/* n NUL-terminated strings from *at (before end) as owned copies. */
static int read_strings(const char **at, const char *end, int64_t n,
                        char ***out)
{
    *out = NULL;
    if (n == 0)
        return 1;
    char **s = selfsup__calloc((size_t)n, sizeof *s);
    if (!s)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        const char *nul = memchr(*at, '\0', (size_t)(end - *at));
        if (!nul || !(s[i] = selfsup__strdup(*at))) {
            for (int64_t j = 0; j < i; j++)
                selfsup__free(s[j]);
            selfsup__free(s);
            return nul ? -1 : 0;
        }
        *at = nul + 1;
    }
    *out = s;
    return 1;
}

/* The mapping's contents as a dataset; -1 out of memory, 0 malformed. */
static int adopt_mapping(selfsup_dataset *d, const uint8_t *m, size_t bytes,
                         uint64_t key, const selfsup__image_format *fmt)
{
    if (bytes < HEADER || memcmp(m, magic, 8) != 0 || get_u64(m + 8) != key)
        return 0;
    uint64_t count = get_u64(m + 16), n_skipped = get_u64(m + 40);
    uint32_t size = get_u32(m + 24), channels = get_u32(m + 28);
    uint32_t has_labels = get_u32(m + 32), n_classes = get_u32(m + 36);
    uint64_t strings = get_u64(m + 48);
    if (size != (uint32_t)fmt->size || channels != (uint32_t)fmt->channels ||
        has_labels > 1 || count == 0 || count > ((uint64_t)1 << 40) ||
        n_classes > INT32_MAX || n_skipped > ((uint64_t)1 << 40))
        return 0;
    uint64_t pixels = count * size * size * channels;
    uint64_t labels = has_labels ? 4 * count : 0;
    if ((uint64_t)bytes != HEADER + pixels + labels + strings ||
        crc_of(0, m + HEADER, bytes - HEADER) != get_u32(m + 56))
        return 0;
    d->count = (int64_t)count;
    d->height = d->width = (int)size;
    d->channels = (int)channels;
    d->pixels = m + HEADER;
    if (has_labels) {
        d->owned_labels = selfsup__malloc((size_t)labels);
        if (!d->owned_labels)
            return -1;
        for (uint64_t i = 0; i < count; i++)
            d->owned_labels[i] = (int32_t)get_u32(m + HEADER + pixels + 4 * i);
        d->labels = d->owned_labels;
    }
    const char *at = (const char *)m + HEADER + pixels + labels;
    const char *end = (const char *)m + bytes;
    int r = read_strings(&at, end, (int64_t)count, &d->sources);
    if (r == 1) {
        r = read_strings(&at, end, (int64_t)n_classes, &d->classes);
        d->n_classes = d->classes ? (int)n_classes : 0;
    }
    if (r == 1) {
        r = read_strings(&at, end, (int64_t)n_skipped, &d->skipped);
        d->n_skipped = d->skipped ? (int64_t)n_skipped : 0;
    }
    return r;
}

selfsup_status selfsup__image_cache_load(selfsup_dataset **out,
                                         const char *path, uint64_t key,
                                         const selfsup__image_format *fmt)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SELFSUP_ERR_STATE;
    struct stat st;
    void *m = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size >= HEADER)
        m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return SELFSUP_ERR_STATE;
    selfsup_dataset *d = selfsup__calloc(1, sizeof *d);
    int r = d ? adopt_mapping(d, m, (size_t)st.st_size, key, fmt) : -1;
    if (r != 1) {
        if (d) {
            selfsup__free(d->owned_labels);
            selfsup__strings_free(d->sources, d->count);
            selfsup__strings_free(d->classes, d->n_classes);
            selfsup__strings_free(d->skipped, d->n_skipped);
            selfsup__free(d);
        }
        munmap(m, (size_t)st.st_size);
        return r < 0 ? SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                               "out of memory reading the cache %s", path)
                     : SELFSUP_ERR_STATE;
    }
    d->mapping = m;
    d->mapping_bytes = (size_t)st.st_size;
    selfsup__dataset_finish(d);
    *out = d;
    return SELFSUP_OK;
}

static uint64_t strings_bytes(char **s, int64_t n)
{
    uint64_t total = 0;
    for (int64_t i = 0; s && i < n; i++)
        total += strlen(s[i]) + 1;
    return total;
}

static uint32_t strings_crc(uint32_t crc, char **s, int64_t n)
{
    for (int64_t i = 0; s && i < n; i++)
        crc = crc_of(crc, (const uint8_t *)s[i], strlen(s[i]) + 1);
    return crc;
}

static selfsup_status write_strings(selfsup__atomic_file *f, char **s,
                                    int64_t n)
{
    for (int64_t i = 0; s && i < n; i++)
        SS_TRY(selfsup__atomic_write(f, s[i], strlen(s[i]) + 1));
    return SELFSUP_OK;
}

selfsup_status selfsup__image_cache_save(const selfsup_dataset *d,
                                         const char *path, uint64_t key)
{
    const uint64_t count = (uint64_t)d->count;
    const uint64_t pixels = count * (uint64_t)selfsup__dataset_image_bytes(d);
    const int64_t n_classes = d->classes ? d->n_classes : 0;
    uint8_t *labels = NULL;
    if (d->labels) {
        labels = selfsup__malloc((size_t)(4 * count));
        if (!labels)
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                           "out of memory writing the cache %s", path);
        for (uint64_t i = 0; i < count; i++)
            put_u32(labels + 4 * i, (uint32_t)d->labels[i]);
    }
    uint32_t crc = crc_of(0, d->pixels, pixels);
    if (labels)
        crc = crc_of(crc, labels, 4 * count);
    crc = strings_crc(crc, d->sources, d->count);
    crc = strings_crc(crc, d->classes, n_classes);
    crc = strings_crc(crc, d->skipped, d->n_skipped);
    uint8_t h[HEADER] = {0};
    memcpy(h, magic, 8);
    put_u64(h + 8, key);
    put_u64(h + 16, count);
    put_u32(h + 24, (uint32_t)d->height);
    put_u32(h + 28, (uint32_t)d->channels);
    put_u32(h + 32, d->labels ? 1 : 0);
    put_u32(h + 36, (uint32_t)n_classes);
    put_u64(h + 40, (uint64_t)d->n_skipped);
    put_u64(h + 48, strings_bytes(d->sources, d->count) +
                        strings_bytes(d->classes, n_classes) +
                        strings_bytes(d->skipped, d->n_skipped));
    put_u32(h + 56, crc);
    selfsup__atomic_file *f = NULL;
    selfsup_status s = selfsup__atomic_create(&f, path, "selfsup_dataset_open");
    if (s == SELFSUP_OK)
        s = selfsup__atomic_write(f, h, HEADER);
    if (s == SELFSUP_OK)
        s = selfsup__atomic_write(f, d->pixels, (size_t)pixels);
    if (s == SELFSUP_OK && labels)
        s = selfsup__atomic_write(f, labels, (size_t)(4 * count));
    if (s == SELFSUP_OK)
        s = write_strings(f, d->sources, d->count);
    if (s == SELFSUP_OK)
        s = write_strings(f, d->classes, n_classes);
    if (s == SELFSUP_OK)
        s = write_strings(f, d->skipped, d->n_skipped);
    if (s == SELFSUP_OK)
        s = selfsup__atomic_commit(f);
    selfsup__atomic_destroy(f);
    selfsup__free(labels);
    return s;
}
