/* Writes the seed corpus of fuzz_checkpoint into the directory given:
 *   sample.ckpt     one section of every type (tests/train/sample_checkpoint.c)
 *   optimizer.ckpt  an AdamW optimizer's state after two steps
 *   empty.ckpt      no sections at all
 * Usage: make_checkpoint_seeds tests/fuzz/corpus/checkpoint */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "files.h"
#include "sample_checkpoint.h"
#include "train/optimizer.h"

/* Check's assertions need a running test; this is a plain program. */
static void ok(selfsup_status s)
{
    if (s != SELFSUP_OK) {
        fprintf(stderr, "make_checkpoint_seeds: %s\n", selfsup_last_error());
        exit(1);
    }
}

static void write_sample_seed(const char *path)
{
    selfsup__ckpt_writer *w;
    ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    ok(try_put_sample(w));
    ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
}

static void write_optimizer(const char *path)
{
    selfsup__param_info table[2];
    memset(table, 0, sizeof table);
    strcpy(table[0].name, "fc.weight");
    table[0].ndim = 2;
    table[0].dims[0] = 2;
    table[0].dims[1] = 3;
    table[0].numel = 6;
    strcpy(table[1].name, "fc.bias");
    table[1].ndim = 1;
    table[1].dims[0] = 2;
    table[1].numel = 2;
    table[1].offset = 6;
    table[1].kind = SELFSUP__PARAM_BIAS;
    selfsup__optimizer *opt;
    ok(selfsup__optimizer_create(&opt, "adamw", table, 2, 8));
    float params[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float grads[8] = {0.5f, -1, 0.25f, 2, -0.125f, 1, 0, 3};
    ok(selfsup__optimizer_step(opt, params, grads, 0.01));
    ok(selfsup__optimizer_step(opt, params, grads, 0.01));
    selfsup__ckpt_writer *w;
    ok(selfsup__ckpt_writer_create(&w, path, 9, NULL));
    ok(selfsup__ckpt_put_f32(w, "params", params, 8));
    ok(selfsup__optimizer_save(opt, w, "opt."));
    ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
    selfsup__optimizer_destroy(opt);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s corpus-directory\n", argv[0]);
        return 2;
    }
    char *path = path_in(argv[1], "sample.ckpt");
    write_sample_seed(path);
    free(path);
    path = path_in(argv[1], "optimizer.ckpt");
    write_optimizer(path);
    free(path);
    path = path_in(argv[1], "empty.ckpt");
    selfsup__ckpt_writer *w;
    ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
    free(path);
    return 0;
}
