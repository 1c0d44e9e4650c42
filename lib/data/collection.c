/* Finding the files of an image collection (collection.h). */
#include "collection.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/error.h"

/* Deeper than this is refused: no real collection nests so deep, and a
 * loop the (device, inode) check misses still ends. */
#define MAX_DEPTH 64

void selfsup__strings_free(char **s, int64_t n)
{
    for (int64_t i = 0; s && i < n; i++)
        selfsup__free(s[i]);
    selfsup__free(s);
}

void selfsup__collection_free(selfsup__collection *c)
{
    selfsup__strings_free(c->paths, c->count);
    selfsup__free(c->labels);
    selfsup__strings_free(c->classes, c->n_classes);
    selfsup__strings_free(c->skipped, c->n_skipped);
    memset(c, 0, sizeof *c);
}

int selfsup__collection_is_image_name(const char *name)
{
    if (name[0] == '.')
        return 0;
    const char *dot = strrchr(name, '.');
    return dot &&
           (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
            strcasecmp(dot, ".jpeg") == 0);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *p = selfsup__malloc(a + (size_t)slash + b + 1);
    if (p) {
        memcpy(p, dir, a);
        if (slash)
            p[a] = '/';
        memcpy(p + a + slash, name, b + 1);
    }
    return p;
}

/* Grows *array of *cap elements of size bytes to hold need. */
static int grow(void **array, int64_t *cap, int64_t need, size_t size)
{
    if (need <= *cap)
        return 1;
    int64_t n = *cap ? 2 * *cap : 64;
    while (n < need)
        n *= 2;
    void *p = selfsup__malloc((size_t)n * size);
    if (!p)
        return 0;
    if (*array)
        memcpy(p, *array, (size_t)*cap * size);
    selfsup__free(*array);
    *array = p;
    *cap = n;
    return 1;
}

/* Takes path (owned) with label (-1 for none). */
static selfsup_status add(selfsup__collection *c, char *path, int32_t label)
{
    int64_t cap = c->cap, labels_cap = c->cap;
    if (!grow((void **)&c->paths, &cap, c->count + 1, sizeof *c->paths) ||
        (label >= 0 &&
         !grow((void **)&c->labels, &labels_cap, cap, sizeof *c->labels))) {
        selfsup__free(path);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "out of memory listing %lld files",
                       (long long)c->count + 1);
    }
    c->cap = cap;
    c->paths[c->count] = path;
    if (label >= 0)
        c->labels[c->count] = label;
    c->count++;
    return SELFSUP_OK;
}

int selfsup__collection_skip(selfsup__collection *c, const char *path,
                             const char *reason)
{
    if (!grow((void **)&c->skipped, &c->skipped_cap, c->n_skipped + 1,
              sizeof *c->skipped))
        return 0;
    size_t n = strlen(path) + strlen(reason) + 3;
    char *s = selfsup__malloc(n);
    if (!s)
        return 0;
    snprintf(s, n, "%s: %s", path, reason);
    c->skipped[c->n_skipped++] = s;
    return 1;
}

/* A problem with one entry: refused, or recorded when skipping. */
static selfsup_status bad_entry(selfsup__collection *c, int skip_bad,
                                selfsup_status status, const char *path,
                                const char *reason)
{
    if (!skip_bad)
        return SS_FAIL(status, "%s: %s", path, reason);
    if (!selfsup__collection_skip(c, path, reason))
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "out of memory recording a skipped file");
    return SELFSUP_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir but . and .., sorted; *err the errno on failure. */
static selfsup_status list_dir(const char *dir, char ***names, int64_t *n,
                               int *err)
{
    *names = NULL;
    *n = 0;
    *err = 0;
    DIR *d = opendir(dir);
    if (!d) {
        *err = errno;
        return SELFSUP_ERR_IO;
    }
    int64_t cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *copy = selfsup__strdup(e->d_name);
        if (!copy || !grow((void **)names, &cap, *n + 1, sizeof **names)) {
            selfsup__free(copy);
            closedir(d);
            selfsup__strings_free(*names, *n);
            *names = NULL;
            *n = 0;
            return SELFSUP_ERR_OUT_OF_MEMORY;
        }
        (*names)[(*n)++] = copy;
    }
    if (errno) {
        *err = errno;
        closedir(d);
        selfsup__strings_free(*names, *n);
        *names = NULL;
        *n = 0;
        return SELFSUP_ERR_IO;
    }
    closedir(d);
    if (*n > 1)
        qsort(*names, (size_t)*n, sizeof **names, compare_names);
    return SELFSUP_OK;
}

typedef struct dir_id {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct walk_state {
    selfsup__collection *c;
    int skip_bad;
    dir_id stack[MAX_DEPTH];
    int depth;
} walk_state;

static selfsup_status list_dir_or_fail(walk_state *w, const char *dir,
                                       char ***names, int64_t *n, int *skip)
{
    int err;
    *skip = 0;
    selfsup_status s = list_dir(dir, names, n, &err);
    if (s == SELFSUP_ERR_OUT_OF_MEMORY)
        return SS_FAIL(s, "out of memory listing %s", dir);
    if (s != SELFSUP_OK) {
        *skip = 1;
        char reason[128];
        snprintf(reason, sizeof reason, "cannot read the folder: %s",
                 strerror(err));
        return bad_entry(w->c, w->skip_bad, SELFSUP_ERR_IO, dir, reason);
    }
    return SELFSUP_OK;
}

/* Every image under dir, with label (-1: none). */
static selfsup_status walk(walk_state *w, const char *dir, int32_t label)
{
    char **names;
    int64_t n;
    int skip;
    SS_TRY(list_dir_or_fail(w, dir, &names, &n, &skip));
    if (skip)
        return SELFSUP_OK;
    selfsup_status s = SELFSUP_OK;
    for (int64_t i = 0; i < n && s == SELFSUP_OK; i++) {
        if (names[i][0] == '.')
            continue;
        char *path = join(dir, names[i]);
        if (!path) {
            s = SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            /* a dangling link or a link loop: bad if it claims to be an
             * image or is a loop, else not ours to judge */
            int err = errno;
            if (err == ELOOP || selfsup__collection_is_image_name(names[i]))
                s = bad_entry(
                    w->c, w->skip_bad,
                    err == ELOOP ? SELFSUP_ERR_CORRUPT : SELFSUP_ERR_IO, path,
                    err == ELOOP ? "a symlink loop" : strerror(err));
            selfsup__free(path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int loop = 0;
            for (int k = 0; k < w->depth; k++)
                loop |= w->stack[k].dev == st.st_dev &&
                        w->stack[k].ino == st.st_ino;
            if (loop || w->depth == MAX_DEPTH) {
                s = bad_entry(w->c, w->skip_bad, SELFSUP_ERR_CORRUPT, path,
                              loop ? "a symlink loop: leads back to a folder "
                                     "above it"
                                   : "folders nested too deep");
            } else {
                w->stack[w->depth++] = (dir_id){st.st_dev, st.st_ino};
                s = walk(w, path, label);
                w->depth--;
            }
            selfsup__free(path);
        } else if (S_ISREG(st.st_mode) &&
                   selfsup__collection_is_image_name(names[i])) {
            s = add(w->c, path, label);
        } else {
            selfsup__free(path);
        }
    }
    selfsup__strings_free(names, n);
    return s;
}

static int push_dir(walk_state *w, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    w->stack[w->depth++] = (dir_id){st.st_dev, st.st_ino};
    return 1;
}

/* The non-hidden subfolders of dir (sorted) into *out, and whether dir
 * holds image files itself (an example name in *image). */
static selfsup_status top_level(const char *dir, char ***out, int64_t *n_out,
                                char *image, size_t image_cap)
{
    char **names;
    int64_t n;
    int err;
    selfsup_status s = list_dir(dir, &names, &n, &err);
    if (s == SELFSUP_ERR_OUT_OF_MEMORY)
        return SS_FAIL(s, "out of memory listing %s", dir);
    if (s != SELFSUP_OK)
        return SS_FAIL(s, "%s: cannot read the folder: %s", dir, strerror(err));
    int64_t kept = 0;
    image[0] = '\0';
    for (int64_t i = 0; i < n; i++) {
        char *path = names[i][0] == '.' ? NULL : join(dir, names[i]);
        if (names[i][0] != '.' && !path) {
            /* names[0..kept) are kept, names[kept..i) freed */
            for (int64_t j = i; j < n; j++)
                selfsup__free(names[j]);
            selfsup__strings_free(names, kept);
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
        }
        struct stat st;
        int is_dir = path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        if (path && !is_dir && !image[0] &&
            selfsup__collection_is_image_name(names[i]))
            snprintf(image, image_cap, "%s", names[i]);
        selfsup__free(path);
        if (is_dir)
            names[kept++] = names[i];
        else
            selfsup__free(names[i]);
    }
    *out = names;
    *n_out = kept;
    return SELFSUP_OK;
}

/* The sorted union of a's and b's names (b may be empty), owned copies. */
static selfsup_status union_names(char **a, int64_t na, char **b, int64_t nb,
                                  char ***out, int64_t *n)
{
    char **u = selfsup__malloc((size_t)(na + nb + 1) * sizeof *u);
    if (!u)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
    int64_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
        const char *take = c <= 0 ? a[i] : b[j];
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
        if (!(u[k] = selfsup__strdup(take))) {
            selfsup__strings_free(u, k);
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
        }
        k++;
    }
    *out = u;
    *n = k;
    return SELFSUP_OK;
}

static selfsup_status scan_classes(walk_state *w, const char *dir,
                                   char **classes, int64_t n_classes)
{
    selfsup__collection *c = w->c;
    if (n_classes > INT32_MAX)
        return SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT, "%s: too many classes",
                       dir);
    for (int64_t k = 0; k < n_classes; k++) {
        char *path = join(dir, classes[k]);
        if (!path)
            return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
        struct stat st;
        selfsup_status s = SELFSUP_OK;
        /* a class only the other split has is simply absent here */
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            int64_t before = c->count;
            int pushed = push_dir(w, path);
            s = walk(w, path, (int32_t)k);
            w->depth -= pushed;
            if (s == SELFSUP_OK && c->count == before)
                s = bad_entry(c, w->skip_bad, SELFSUP_ERR_CORRUPT, path,
                              "a class folder with no images (*.png, "
                              "*.jpg, *.jpeg)");
        }
        selfsup__free(path);
        SS_TRY(s);
    }
    return SELFSUP_OK;
}

selfsup_status selfsup__collection_scan_folder(selfsup__collection *c,
                                               const char *dir,
                                               const char *other_split_dir,
                                               int layout, int skip_bad)
{
    memset(c, 0, sizeof *c);
    walk_state *w = selfsup__calloc(1, sizeof *w);
    if (!w)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
    w->c = c;
    w->skip_bad = skip_bad;
    char **subdirs = NULL, **other = NULL;
    int64_t n_subdirs = 0, n_other = 0;
    char image[256], other_image[256];
    selfsup_status s =
        top_level(dir, &subdirs, &n_subdirs, image, sizeof image);
    if (s == SELFSUP_OK && other_split_dir && layout != SS_LAYOUT_FLAT)
        s = top_level(other_split_dir, &other, &n_other, other_image,
                      sizeof other_image);
    if (s == SELFSUP_OK && layout == SS_LAYOUT_AUTO) {
        if (n_subdirs > 0 && image[0])
            s = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                        "%s holds both images (%s) and folders (%s/): say "
                        "layout=classes (the folders are the classes, the "
                        "images beside them are left out) or layout=flat "
                        "(every image, unlabelled)",
                        dir, image, subdirs[0]);
        else
            layout = n_subdirs > 0 || n_other > 0 ? SS_LAYOUT_CLASSES
                                                  : SS_LAYOUT_FLAT;
    }
    if (s == SELFSUP_OK && layout == SS_LAYOUT_CLASSES) {
        char **classes = NULL;
        int64_t n_classes = 0;
        s = union_names(subdirs, n_subdirs, other, n_other, &classes,
                        &n_classes);
        if (s == SELFSUP_OK) {
            c->classes = classes;
            c->n_classes = (int)n_classes;
            push_dir(w, dir);
            s = scan_classes(w, dir, classes, n_classes);
        }
    } else if (s == SELFSUP_OK) {
        push_dir(w, dir);
        s = walk(w, dir, -1);
    }
    if (s == SELFSUP_OK && c->count == 0)
        s = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                    "%s holds no images (*.png, *.jpg, *.jpeg)%s", dir,
                    layout == SS_LAYOUT_CLASSES ? " in its class folders" : "");
    selfsup__strings_free(subdirs, n_subdirs);
    selfsup__strings_free(other, n_other);
    selfsup__free(w);
    if (s != SELFSUP_OK)
        selfsup__collection_free(c);
    return s;
}

/* The folder part of file ("." when none). */
static char *folder_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (!slash)
        return selfsup__strdup(".");
    size_t n = slash == file ? 1 : (size_t)(slash - file);
    char *d = selfsup__malloc(n + 1);
    if (d) {
        memcpy(d, file, n);
        d[n] = '\0';
    }
    return d;
}

static selfsup_status parse_list_line(selfsup__collection *c, char *line,
                                      const char *file, long line_no,
                                      const char *base, int *labelled)
{
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len == 0 || line[0] == '#')
        return SELFSUP_OK;
    int32_t label = -1;
    char *tab = strrchr(line, '\t');
    if (tab) {
        char *end;
        errno = 0;
        long v = strtol(tab + 1, &end, 10);
        if (tab[1] == '\0' || *end != '\0' || errno || v < 0 || v > INT32_MAX)
            return SS_FAIL(SELFSUP_ERR_CORRUPT,
                           "%s line %ld: label \"%s\" is not an integer in "
                           "0..%d",
                           file, line_no, tab + 1, INT32_MAX);
        *tab = '\0';
        label = (int32_t)v;
    }
    int has = label >= 0;
    if (*labelled < 0)
        *labelled = has;
    else if (*labelled != has)
        return SS_FAIL(SELFSUP_ERR_CORRUPT,
                       "%s line %ld: %s a label where the first line %s one",
                       file, line_no, has ? "has" : "lacks",
                       has ? "lacks" : "has");
    if (line[0] == '\0')
        return SS_FAIL(SELFSUP_ERR_CORRUPT, "%s line %ld: no path", file,
                       line_no);
    char *path = line[0] == '/' ? selfsup__strdup(line) : join(base, line);
    if (!path)
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
    if (has && label >= c->n_classes)
        c->n_classes = label + 1;
    return add(c, path, label);
}

selfsup_status selfsup__collection_read_list(selfsup__collection *c,
                                             const char *file)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(file, "r");
    if (!f)
        return SS_FAIL(SELFSUP_ERR_IO, "cannot open the list %s: %s", file,
                       strerror(errno));
    char *base = folder_of(file);
    if (!base) {
        fclose(f);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY, "out of memory");
    }
    selfsup_status s = SELFSUP_OK;
    int labelled = -1;
    long line_no = 0;
    char *line = NULL;
    size_t cap = 0;
    /* getline's buffer is libc's: the allocation hooks do not see it */
    while (s == SELFSUP_OK && getline(&line, &cap, f) >= 0)
        s = parse_list_line(c, line, file, ++line_no, base, &labelled);
    if (s == SELFSUP_OK && ferror(f))
        s = SS_FAIL(SELFSUP_ERR_IO, "reading the list %s failed", file);
    free(line);
    fclose(f);
    selfsup__free(base);
    if (s == SELFSUP_OK && c->count == 0)
        s = SS_FAIL(SELFSUP_ERR_INVALID_ARGUMENT,
                    "the list %s names no "
                    "files",
                    file);
    if (s != SELFSUP_OK)
        selfsup__collection_free(c);
    return s;
}
