/* Shared helpers for the Check suites: float comparisons, golden data, and
 * the allocation-failure sweep. */
#ifndef SELFSUP_TEST_SUPPORT_H
#define SELFSUP_TEST_SUPPORT_H

#include <check.h>
#include <stdint.h>

#include "core/alloc.h"
#include "selfsup/selfsup.h"

/* Runs the suite in Check's default (forking) mode and returns the process
 * exit code: 0 when every test passed. */
int ss_run_suite(Suite *s);

/* The number of values of e's parameter (or buffer) i. */
int64_t ss_param_numel(const selfsup_encoder *e, int i);

/* |a - b| <= atol + rtol |b|, else a Check failure naming what and where. */
#define ss_assert_close(a, b, atol, rtol)                                      \
    ss_assert_close_at((double)(a), (double)(b), (atol), (rtol), #a,          \
                       __FILE__, __LINE__)
void ss_assert_close_at(double a, double b, double atol, double rtol,
                        const char *what, const char *file, int line);

/* Element-wise ss_assert_close over n values; reports the worst index. */
#define ss_assert_all_close(a, b, n, atol, rtol)                               \
    ss_assert_all_close_at((a), (b), (n), (atol), (rtol), #a, __FILE__,      \
                           __LINE__)
void ss_assert_all_close_at(const float *a, const float *b, int64_t n,
                            double atol, double rtol, const char *what,
                            const char *file, int line);

#define ss_assert_ok(expr)                                                     \
    do {                                                                       \
        selfsup_status ss_s_ = (expr);                                         \
        ck_assert_msg(ss_s_ == SELFSUP_OK, "%s -> %s: %s", #expr,              \
                      selfsup_status_string(ss_s_), selfsup_last_error());     \
    } while (0)

/* Asserts the status and that the message is non-empty and mentions
 * needle (a name or value the message must point at; NULL to skip). */
#define ss_assert_fails(expr, status, needle)                                  \
    ss_assert_fails_at((expr), (status), (needle), #expr, __FILE__, __LINE__)
void ss_assert_fails_at(selfsup_status got, selfsup_status want,
                        const char *needle, const char *what,
                        const char *file, int line);

/* Golden data written by the scripts in tests/reference: a text file of
 * named arrays, each "name count" on one line, then count numbers. */
typedef struct ss_golden ss_golden;
ss_golden *ss_golden_load(const char *file_in_data_dir);
void ss_golden_free(ss_golden *g);
/* The array called name, which must hold count values (asserted). */
const float *ss_golden_get(const ss_golden *g, const char *name,
                           int64_t count);
/* A scalar from the golden file. */
double ss_golden_scalar(const ss_golden *g, const char *name);
/* 1 when the file has an array of this name. */
int ss_golden_has(const ss_golden *g, const char *name);

/* Runs fn(ctx) with the k-th allocation failing, for k = 1, 2, ... until a
 * run completes without reaching the armed failure. Every failing run must
 * return SELFSUP_ERR_OUT_OF_MEMORY (or another status the code maps the
 * failure to: `also`, or SELFSUP_OK to allow none) and leave no live
 * allocation behind; fn must release whatever it made on success. Returns
 * the number of allocations the successful run made. */
typedef selfsup_status (*ss_alloc_fn)(void *ctx);
long ss_sweep_alloc_failures(ss_alloc_fn fn, void *ctx, selfsup_status also);

#endif
