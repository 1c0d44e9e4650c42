/* Helpers shared by the objective suite's files. */
#ifndef SELFSUP_TEST_OBJECTIVE_HELPERS_H
#define SELFSUP_TEST_OBJECTIVE_HELPERS_H

#include <stdint.h>

#include "selfsup/selfsup.h"
#include "test_support.h"

enum { MAX_TEST_VIEWS = 4 };

/* A (n, d) tensor holding data (zeros for NULL); asserts success. */
selfsup_tensor *tensor_2d(int64_t n, int64_t d, const float *data);
selfsup_tensor *tensor_3d(int64_t a, int64_t b, int64_t c, const float *data);
void tensors_free(selfsup_tensor **t, int count);
selfsup_objective *objective(const char *spec);

/* One case of tests/reference/objectives.py (same order, same names). */
typedef struct golden_case {
    const char *name; /* prefix of its arrays in objectives.txt */
    const char *spec;
    int views;
    int64_t n, d;
    int target;
} golden_case;

extern const golden_case golden_cases[];
extern const int golden_case_count;

/* tests/data/objectives.txt, loaded once: golden_setup is an unchecked
 * fixture, so it runs in Check's parent process and every forked test
 * inherits the parsed arrays. */
void golden_setup(void);
void golden_teardown(void);
const ss_golden *golden(void);

/* Loads the case's inputs into new tensors (target[] left NULL when the
 * case has none). */
void golden_inputs(const ss_golden *g, const golden_case *c,
                   selfsup_tensor **online, selfsup_tensor **target);

/* Row by row: |got - want| <= row_rel * max|want row| + rtol |want|, the
 * scale of each row's own gradient (rows of one batch can differ by many
 * orders of magnitude, e.g. a zero row under the cos clamp). */
#define assert_rows_close(got, want, n, d, row_rel, rtol)                      \
    assert_rows_close_at((got), (want), (n), (d), (row_rel), (rtol), #got,     \
                         __FILE__, __LINE__)
void assert_rows_close_at(const float *got, const float *want, int64_t n,
                          int64_t d, double row_rel, double rtol,
                          const char *what, const char *file, int line);

/* Deterministic N(0, 1) values from the library's generator. */
void fill_normal(float *x, int64_t count, uint64_t seed);

#endif
