/* Internal: the files of an image collection, found before anything is
 * decoded: an ImageFolder (DIR/<class>/.../<file>), a flat folder (every
 * image under DIR, unlabelled) or a list file (a path a line, optionally a
 * tab and an integer label). Image files are those named *.png, *.jpg or
 * *.jpeg in any case; names starting with '.' are skipped (editors' and
 * other systems' droppings, e.g. macOS's ._x.jpg). Order is by path, byte
 * for byte, so the same tree gives the same dataset on every machine. */
#ifndef SELFSUP_DATA_COLLECTION_H
#define SELFSUP_DATA_COLLECTION_H

#include <stdint.h>

#include "selfsup/status.h"

typedef struct selfsup__collection {
    int64_t count;
    char **paths;
    int32_t *labels; /* NULL when unlabelled */
    int n_classes;
    char **classes; /* class names (folders), or NULL for a list file */
    /* what skip_bad skipped: "path: reason" each */
    int64_t n_skipped;
    char **skipped;
    int64_t cap, skipped_cap;
} selfsup__collection;

void selfsup__collection_free(selfsup__collection *c);

/* Frees n strings and their array (NULL accepted): the lists collections,
 * datasets and the decode cache hold. */
void selfsup__strings_free(char **s, int64_t n);

/* layout: 0 auto (classes when DIR has subfolders holding images, flat when
 * it holds images and no such subfolder; both is refused as ambiguous),
 * 1 classes, 2 flat. class_dirs: with split folders (train/ and test/),
 * the other split's directory too, so both get the same class indices
 * (the sorted union of their class folders); NULL otherwise. skip_bad:
 * an unreadable folder or a symlink loop is recorded and skipped rather
 * than refused. */
enum { SS_LAYOUT_AUTO, SS_LAYOUT_CLASSES, SS_LAYOUT_FLAT };
selfsup_status selfsup__collection_scan_folder(selfsup__collection *c,
                                               const char *dir,
                                               const char *other_split_dir,
                                               int layout, int skip_bad);

/* Lines "path" or "path<TAB>label" (label 0..2^31-1, all lines or none);
 * relative paths are relative to the list file's folder; empty lines and
 * lines starting with '#' are skipped. */
selfsup_status selfsup__collection_read_list(selfsup__collection *c,
                                             const char *file);

/* 1 for names the scan takes as images. */
int selfsup__collection_is_image_name(const char *name);

/* Records "path: reason" as skipped; 0 when out of memory. */
int selfsup__collection_skip(selfsup__collection *c, const char *path,
                             const char *reason);

#endif
