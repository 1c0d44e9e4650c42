/* Optimizer state through checkpoints: a resumed run continues bit for bit,
 * and a checkpoint of another optimizer or network is refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "files.h"
#include "suites.h"
#include "test_support.h"
#include "train/optimizer.h"

enum { N1 = 300, N2 = 20000, N3 = 7, TOTAL = N1 + N2 + N3 };

static void make_table(selfsup__param_info *t, int64_t shift)
{
    const int64_t numel[3] = {N1, N2, N3};
    const selfsup__param_kind kinds[3] = {
        SELFSUP__PARAM_WEIGHT, SELFSUP__PARAM_WEIGHT, SELFSUP__PARAM_BIAS};
    memset(t, 0, 3 * sizeof *t);
    int64_t offset = 0;
    for (int i = 0; i < 3; i++) {
        snprintf(t[i].name, sizeof t[i].name, "t%d", i);
        t[i].ndim = 1;
        t[i].dims[0] = t[i].numel = numel[i];
        t[i].kind = kinds[i];
        t[i].offset = offset + (i == 2 ? shift : 0);
        offset += numel[i];
    }
}

static void gradients(float *g, int step)
{
    selfsup__rng r;
    selfsup__rng_init(&r, 77, (uint64_t)step);
    for (int i = 0; i < TOTAL; i++)
        g[i] = (float)selfsup__rng_normal(&r);
}

static selfsup__optimizer *make(const char *spec)
{
    selfsup__param_info table[3];
    make_table(table, 0);
    selfsup__optimizer *o;
    ss_assert_ok(selfsup__optimizer_create(&o, spec, table, 3, TOTAL + 2));
    return o;
}

static void save(const char *path, const selfsup__optimizer *o,
                 const float *params)
{
    selfsup__ckpt_writer *w;
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    ss_assert_ok(selfsup__ckpt_put_f32(w, "params", params, TOTAL + 2));
    ss_assert_ok(selfsup__optimizer_save(o, w, "opt."));
    ss_assert_ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
}

START_TEST(resume_continues_bit_for_bit)
{
    const char *specs[] = {"sgd:nesterov=1,weight_decay=1e-4",
                           "lars:weight_decay=1e-5", "adamw:weight_decay=0.05"};
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "resume.ckpt");
    float *g = malloc(TOTAL * sizeof(float));
    float *pa = calloc(TOTAL + 2, sizeof(float));
    float *pb = calloc(TOTAL + 2, sizeof(float));
    for (int s = 0; s < 3; s++) {
        selfsup__optimizer *a = make(specs[s]);
        for (int i = 0; i < TOTAL; i++)
            pa[i] = 0.01f * (float)(i % 13);
        for (int k = 0; k < 3; k++) {
            gradients(g, k);
            ss_assert_ok(selfsup__optimizer_step(a, pa, g, 0.05));
        }
        save(path, a, pa);

        selfsup__optimizer *b = make(specs[s]);
        selfsup__ckpt_reader *r;
        ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
        ss_assert_ok(selfsup__ckpt_get_f32(r, "params", pb, TOTAL + 2));
        ss_assert_ok(selfsup__optimizer_load(b, r, "opt."));
        selfsup__ckpt_reader_close(r);
        ck_assert_int_eq(selfsup__optimizer_steps(b), 3);

        for (int k = 3; k < 5; k++) {
            gradients(g, k);
            ss_assert_ok(selfsup__optimizer_step(a, pa, g, 0.02));
            ss_assert_ok(selfsup__optimizer_step(b, pb, g, 0.02));
        }
        ck_assert_msg(memcmp(pa, pb, TOTAL * sizeof(float)) == 0,
                      "%s: the resumed run differs", specs[s]);
        for (int i = 0; i < selfsup__optimizer_state_count(a); i++)
            ck_assert(memcmp(selfsup__optimizer_state(a, i),
                             selfsup__optimizer_state(b, i),
                             TOTAL * sizeof(float)) == 0);
        selfsup__optimizer_destroy(a);
        selfsup__optimizer_destroy(b);
    }
    free(g);
    free(pa);
    free(pb);
    free(path);
    remove_dir(dir);
}
END_TEST

START_TEST(mismatched_checkpoints_change_nothing)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "o.ckpt");
    float *p = calloc(TOTAL + 2, sizeof(float));
    float *g = calloc(TOTAL + 2, sizeof(float)); /* the shifted table's too */
    selfsup__optimizer *sgd = make("sgd");
    gradients(g, 0);
    ss_assert_ok(selfsup__optimizer_step(sgd, p, g, 0.1));
    save(path, sgd, p);

    selfsup__optimizer *adamw = make("adamw");
    selfsup__ckpt_reader *r;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    ss_assert_fails(selfsup__optimizer_load(adamw, r, "opt."),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "the checkpoint holds the state of sgd, this optimizer "
                    "is adamw");
    ss_assert_fails(selfsup__optimizer_load(adamw, r, "other."),
                    SELFSUP_ERR_CORRUPT, "has no section \"other.kind\"");

    /* the same kind over another layout */
    selfsup__param_info table[3];
    make_table(table, 2);
    selfsup__optimizer *shifted;
    ss_assert_ok(
        selfsup__optimizer_create(&shifted, "sgd", table, 3, TOTAL + 2));
    gradients(g, 1);
    float *q = calloc(TOTAL + 2, sizeof(float));
    ss_assert_ok(selfsup__optimizer_step(shifted, q, g, 0.1));
    float *state = malloc((TOTAL + 2) * sizeof(float));
    memcpy(state, selfsup__optimizer_state(shifted, 0),
           (TOTAL + 2) * sizeof(float));
    ss_assert_fails(selfsup__optimizer_load(shifted, r, "opt."),
                    SELFSUP_ERR_SHAPE,
                    "tensor 2 (t2) holds elements [20302, +7), the "
                    "checkpoint's [20300, +7)");
    ck_assert(memcmp(state, selfsup__optimizer_state(shifted, 0),
                     (TOTAL + 2) * sizeof(float)) == 0);
    ck_assert_int_eq(selfsup__optimizer_steps(shifted), 1);
    selfsup__ckpt_reader_close(r);

    /* a checkpoint whose state section is short */
    selfsup__ckpt_writer *w;
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    const int64_t layout[6] = {0, N1, N1, N2, N1 + N2, N3};
    const int64_t steps = 9;
    ss_assert_ok(selfsup__ckpt_put_string(w, "opt.kind", "sgd"));
    ss_assert_ok(selfsup__ckpt_put_i64(w, "opt.layout", layout, 6));
    ss_assert_ok(selfsup__ckpt_put_i64(w, "opt.steps", &steps, 1));
    ss_assert_ok(selfsup__ckpt_put_f32(w, "opt.momentum", p, TOTAL));
    ss_assert_ok(selfsup__ckpt_writer_commit(w));
    selfsup__ckpt_writer_destroy(w);
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    memcpy(state, selfsup__optimizer_state(sgd, 0),
           (TOTAL + 2) * sizeof(float));
    ss_assert_fails(selfsup__optimizer_load(sgd, r, "opt."), SELFSUP_ERR_SHAPE,
                    "section \"opt.momentum\" holds 20307 f32 values, not "
                    "20309");
    ck_assert_int_eq(selfsup__optimizer_steps(sgd), 1);
    ck_assert(memcmp(state, selfsup__optimizer_state(sgd, 0),
                     (TOTAL + 2) * sizeof(float)) == 0);
    selfsup__ckpt_reader_close(r);

    char long_prefix[300];
    memset(long_prefix, 'p', 299);
    long_prefix[299] = '\0';
    ss_assert_ok(selfsup__ckpt_writer_create(&w, path, -1, NULL));
    ss_assert_fails(selfsup__optimizer_save(sgd, w, long_prefix),
                    SELFSUP_ERR_INVALID_ARGUMENT, "longer than 255 bytes");
    selfsup__ckpt_writer_destroy(w);

    selfsup__optimizer_destroy(sgd);
    selfsup__optimizer_destroy(adamw);
    selfsup__optimizer_destroy(shifted);
    free(state);
    free(p);
    free(q);
    free(g);
    free(path);
    remove_dir(dir);
}
END_TEST

typedef struct io_ctx {
    const char *path;
    selfsup__optimizer *opt;
} io_ctx;

static selfsup_status save_optimizer(void *ctx)
{
    const io_ctx *c = ctx;
    selfsup__ckpt_writer *w = NULL;
    SS_TRY(selfsup__ckpt_writer_create(&w, c->path, -1, NULL));
    selfsup_status s = selfsup__optimizer_save(c->opt, w, "opt.");
    if (s == SELFSUP_OK)
        s = selfsup__ckpt_writer_commit(w);
    selfsup__ckpt_writer_destroy(w);
    return s;
}

static selfsup_status load_optimizer(void *ctx)
{
    const io_ctx *c = ctx;
    selfsup__ckpt_reader *r = NULL;
    SS_TRY(selfsup__ckpt_reader_open(&r, c->path, NULL));
    selfsup_status s = selfsup__optimizer_load(c->opt, r, "opt.");
    selfsup__ckpt_reader_close(r);
    return s;
}

START_TEST(allocation_failures_in_save_and_load_are_clean)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "a.ckpt");
    selfsup__optimizer *o = make("adamw");
    io_ctx c = {path, o};
    ck_assert_int_ge(ss_sweep_alloc_failures(save_optimizer, &c, SELFSUP_OK),
                     8);
    ck_assert_int_ge(ss_sweep_alloc_failures(load_optimizer, &c, SELFSUP_OK),
                     8);
    ck_assert_int_eq(count_entries(dir, NULL), 1);
    selfsup__optimizer_destroy(o);
    ck_assert_int_eq(selfsup__alloc_live(), 0);
    free(path);
    remove_dir(dir);
}
END_TEST

TCase *optimizer_state_tcase(void)
{
    TCase *tc = tcase_create("optimizer_state");
    tcase_add_test(tc, resume_continues_bit_for_bit);
    tcase_add_test(tc, mismatched_checkpoints_change_nothing);
    tcase_add_test(tc, allocation_failures_in_save_and_load_are_clean);
    return tc;
}
