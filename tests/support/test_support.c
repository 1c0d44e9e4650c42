#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ss_run_suite(Suite *s)
{
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void ss_assert_close_at(double a, double b, double atol, double rtol,
                        const char *what, const char *file, int line)
{
    double tol = atol + rtol * fabs(b);
    ck_assert_msg(isfinite(a) && fabs(a - b) <= tol,
                  "%s:%d: %s = %.9g, expected %.9g (|diff| %.3g > tol %.3g)",
                  file, line, what, a, b, fabs(a - b), tol);
}

void ss_assert_all_close_at(const float *a, const float *b, int64_t n,
                            double atol, double rtol, const char *what,
                            const char *file, int line)
{
    int64_t worst = -1;
    double worst_excess = 0;
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs((double)a[i] - (double)b[i]);
        double excess = diff - (atol + rtol * fabs((double)b[i]));
        if (!isfinite(a[i]) || excess > worst_excess) {
            worst = i;
            worst_excess = isfinite(a[i]) ? excess : INFINITY;
        }
    }
    ck_assert_msg(
        worst < 0,
        "%s:%d: %s[%lld] = %.9g, expected %.9g (atol %.3g, rtol "
        "%.3g, %lld values)",
        file, line, what, (long long)worst, worst >= 0 ? (double)a[worst] : 0.0,
        worst >= 0 ? (double)b[worst] : 0.0, atol, rtol, (long long)n);
}

void ss_assert_fails_at(selfsup_status got, selfsup_status want,
                        const char *needle, const char *what, const char *file,
                        int line)
{
    ck_assert_msg(got == want, "%s:%d: %s gave %s (%s), expected %s", file,
                  line, what, selfsup_status_string(got), selfsup_last_error(),
                  selfsup_status_string(want));
    const char *msg = selfsup_last_error();
    ck_assert_msg(msg && msg[0], "%s:%d: %s left no error message", file, line,
                  what);
    if (needle)
        ck_assert_msg(strstr(msg, needle) != NULL,
                      "%s:%d: %s: message \"%s\" does not mention \"%s\"", file,
                      line, what, msg, needle);
    /* A public call's message starts with its name (status.h), however
     * deep the failure was raised. */
    while (*what == ' ' || *what == '\n')
        what++;
    size_t len = strspn(what, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (strncmp(what, "selfsup_", 8) == 0 && strncmp(what, "selfsup__", 9) &&
        what[len] == '(') {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%.*s: ", (int)len, what);
        ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0,
                      "%s:%d: %s: message \"%s\" does not start with \"%s\"",
                      file, line, what, msg, prefix);
    }
}

struct ss_golden {
    int count;
    char **names;
    int64_t *sizes;
    float **values;
};

ss_golden *ss_golden_load(const char *file_in_data_dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SELFSUP_TEST_DATA_DIR,
             file_in_data_dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open golden file %s", path);
    ss_golden *g = calloc(1, sizeof *g);
    char name[256];
    long long n;
    while (fscanf(f, " %255s %lld", name, &n) == 2) {
        ck_assert_msg(n >= 0, "%s: bad count for %s", path, name);
        g->names = realloc(g->names, (size_t)(g->count + 1) * sizeof(char *));
        g->sizes = realloc(g->sizes, (size_t)(g->count + 1) * sizeof(int64_t));
        g->values =
            realloc(g->values, (size_t)(g->count + 1) * sizeof(float *));
        float *v = malloc((size_t)(n ? n : 1) * sizeof(float));
        for (long long i = 0; i < n; i++) {
            double x;
            /* not ck_assert_msg: Check records every assertion that
             * passes too, which costs a write per value */
            if (fscanf(f, " %lf", &x) != 1)
                ck_abort_msg("%s: %s has fewer than %lld values", path, name,
                             n);
            v[i] = (float)x;
        }
        g->names[g->count] = strdup(name);
        g->sizes[g->count] = n;
        g->values[g->count] = v;
        g->count++;
    }
    ck_assert_msg(feof(f), "%s: malformed after %d arrays", path, g->count);
    fclose(f);
    return g;
}

void ss_golden_free(ss_golden *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->count; i++) {
        free(g->names[i]);
        free(g->values[i]);
    }
    free(g->names);
    free(g->sizes);
    free(g->values);
    free(g);
}

static int find(const ss_golden *g, const char *name)
{
    for (int i = 0; i < g->count; i++)
        if (strcmp(g->names[i], name) == 0)
            return i;
    return -1;
}

int ss_golden_has(const ss_golden *g, const char *name)
{
    return find(g, name) >= 0;
}

const float *ss_golden_get(const ss_golden *g, const char *name, int64_t count)
{
    int i = find(g, name);
    ck_assert_msg(i >= 0, "golden array %s is missing", name);
    ck_assert_msg(g->sizes[i] == count, "golden %s has %lld values, not %lld",
                  name, (long long)g->sizes[i], (long long)count);
    return g->values[i];
}

double ss_golden_scalar(const ss_golden *g, const char *name)
{
    return ss_golden_get(g, name, 1)[0];
}

long ss_sweep_alloc_failures(ss_alloc_fn fn, void *ctx, selfsup_status also)
{
    for (long k = 1;; k++) {
        long live = selfsup__alloc_live();
        long before = selfsup__alloc_count();
        selfsup__alloc_fail_at(k);
        selfsup_status s = fn(ctx);
        long made = selfsup__alloc_count() - before;
        selfsup__alloc_fail_at(0);
        ck_assert_msg(selfsup__alloc_live() == live,
                      "allocation %ld failing: %ld allocation(s) leaked", k,
                      selfsup__alloc_live() - live);
        if (made < k) { /* the armed failure was never reached */
            ck_assert_msg(s == SELFSUP_OK, "no failure injected, yet %s: %s",
                          selfsup_status_string(s), selfsup_last_error());
            return made;
        }
        ck_assert_msg(s == SELFSUP_ERR_OUT_OF_MEMORY ||
                          (also != SELFSUP_OK && s == also),
                      "allocation %ld failing gave %s (%s)", k,
                      selfsup_status_string(s), selfsup_last_error());
        ck_assert_msg(selfsup_last_error()[0] != '\0',
                      "allocation %ld failing left no message", k);
    }
}

int64_t ss_param_numel(const selfsup_encoder *e, int i)
{
    int ndim;
    int64_t dims[4], n = 1;
    ss_assert_ok(selfsup_encoder_param_shape(e, i, &ndim, dims));
    for (int k = 0; k < ndim; k++)
        n *= dims[k];
    return n;
}
