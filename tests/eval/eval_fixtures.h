/* The reference data set of tests/reference/eval.py, as tensors. */
#ifndef SELFSUP_TEST_EVAL_FIXTURES_H
#define SELFSUP_TEST_EVAL_FIXTURES_H

#include <math.h>
#include <stdint.h>

#include "test_support.h"

/* For checks inside big loops: Check's passing ck_assert records its
 * location through a write(2) per call, which millions of them turn into
 * seconds; this asserts only when the condition fails. */
#define expect(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* |a - b| <= atol + rtol |b| and a finite. */
static inline int near(double a, double b, double atol, double rtol)
{
    return isfinite(a) && fabs(a - b) <= atol + rtol * fabs(b);
}

enum { REF_TRAIN = 1000, REF_TEST = 300, REF_DIM = 16, REF_CLASSES = 8 };

typedef struct eval_fixture {
    ss_golden *golden;
    selfsup_tensor *x_train, *x_test;
    int32_t y_train[REF_TRAIN], y_test[REF_TEST];
} eval_fixture;

/* Loads tests/data/eval.txt; free with eval_fixture_free. */
eval_fixture *eval_fixture_load(void);
void eval_fixture_free(eval_fixture *f);

/* A (rows, cols) tensor filled from values (NULL: zeros). */
selfsup_tensor *make_matrix(int64_t rows, int64_t cols, const float *values);

/* Golden integers (stored as floats) into dst. */
void golden_ints(const ss_golden *g, const char *name, int32_t *dst,
                 int64_t count);

/* A fresh empty directory under /tmp; remove_tree removes it again. */
void make_temp_dir(char *path, size_t cap);
void remove_tree(const char *path);

#endif
