/* OUT/metrics.jsonl and the series of the curves plot. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool cli_metrics_open(cli_metrics *m, const char *path, bool append)
{
    m->file = fopen(path, append ? "a" : "w");
    if (!m->file)
        fprintf(stderr, "selfsup: cannot open %s: %s\n", path, strerror(errno));
    return m->file != NULL;
}

void cli_metrics_write(cli_metrics *m, const char *fmt, ...)
{
    if (!m->file)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputc('{', m->file);
    vfprintf(m->file, fmt, ap);
    fputs("}\n", m->file);
    va_end(ap);
    fflush(m->file);
}

void cli_metrics_close(cli_metrics *m)
{
    if (m->file)
        fclose(m->file);
    m->file = NULL;
}

bool cli_series_add(cli_series *s, double x, double y)
{
    if (s->count == s->capacity) {
        int64_t cap = s->capacity ? 2 * s->capacity : 256;
        double *nx = realloc(s->x, (size_t)cap * sizeof *nx);
        if (!nx)
            return false;
        s->x = nx;
        double *ny = realloc(s->y, (size_t)cap * sizeof *ny);
        if (!ny)
            return false;
        s->y = ny;
        s->capacity = cap;
    }
    s->x[s->count] = x;
    s->y[s->count] = y;
    s->count++;
    return true;
}

void cli_series_free(cli_series *s)
{
    free(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}

/* The number after key in one of our JSON lines; false when it is absent. */
static bool json_number(const char *line, const char *key, double *value)
{
    const char *at = strstr(line, key);
    if (!at)
        return false;
    char *end;
    *value = strtod(at + strlen(key), &end);
    return end != at + strlen(key);
}

bool cli_metrics_resume(cli_metrics *m, const char *path, int64_t step,
                        cli_series *loss, cli_series *knn, double *random_knn)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        if (errno == ENOENT)
            return cli_metrics_open(m, path, false);
        fprintf(stderr, "selfsup: cannot read %s: %s\n", path, strerror(errno));
        return false;
    }
    /* The earlier lines go to a new file that replaces the old one only when
     * whole, so a failure here leaves the user's metrics as they were. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "selfsup: cannot write %s: %s\n", tmp, strerror(errno));
        fclose(in);
        return false;
    }
    char *line = NULL;
    size_t capacity = 0;
    bool ok = true;
    while (ok && getline(&line, &capacity, in) > 0) {
        double at, value;
        bool has_step = json_number(line, "\"step\": ", &at);
        /* Lines past the checkpoint come from a run that stopped without
         * saving them; the resumed run writes those steps again. */
        if (has_step && at > (double)step)
            continue;
        ok = fputs(line, out) >= 0;
        if (!has_step)
            continue;
        if (strstr(line, "\"type\": \"step\"") &&
            json_number(line, "\"loss\": ", &value))
            ok = ok && cli_series_add(loss, at, value);
        if (strstr(line, "\"type\": \"eval\"") &&
            json_number(line, "\"knn_top1\": ", &value)) {
            ok = ok && cli_series_add(knn, at, value);
            if (at == 0)
                *random_knn = value;
        }
    }
    free(line);
    ok = ok && !ferror(in);
    fclose(in);
    ok = fclose(out) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr,
                "selfsup: cannot rewrite %s for the resumed run: %s (the "
                "file is unchanged)\n",
                path, strerror(errno));
        remove(tmp);
        return false;
    }
    return cli_metrics_open(m, path, true);
}

int cli_metrics_read(const char *path, const char *type, const char *x_key,
                     double x_scale, const char *y_key, cli_series *out)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "selfsup: cannot read %s: %s\n", path, strerror(errno));
        return CLI_FAILED;
    }
    char type_text[64], x_text[64], y_text[64];
    snprintf(type_text, sizeof type_text, "\"type\": \"%s\"", type);
    snprintf(x_text, sizeof x_text, "\"%s\": ", x_key);
    snprintf(y_text, sizeof y_text, "\"%s\": ", y_key);
    char *line = NULL;
    size_t capacity = 0;
    int64_t records = 0, without_x = 0;
    bool ok = true;
    while (ok && getline(&line, &capacity, in) > 0) {
        double x, y;
        if (!strstr(line, type_text) || !json_number(line, y_text, &y))
            continue;
        records++;
        if (!json_number(line, x_text, &x)) {
            without_x++;
            continue;
        }
        ok = cli_series_add(out, x * x_scale, y);
    }
    free(line);
    bool read_error = ferror(in);
    fclose(in);
    if (!ok || read_error) {
        fprintf(stderr, "selfsup: cannot read %s: %s\n", path,
                ok ? "read error" : "out of memory");
        return CLI_FAILED;
    }
    if (records == 0) {
        fprintf(stderr, "selfsup: %s has no \"%s\" record with \"%s\"\n", path,
                type, y_key);
        return CLI_FAILED;
    }
    if (without_x > 0) {
        fprintf(stderr,
                "selfsup: %lld of the %lld \"%s\" records of %s have no "
                "\"%s\" (a run written by an older selfsup?)\n",
                (long long)without_x, (long long)records, type, path, x_key);
        return CLI_FAILED;
    }
    return CLI_OK;
}
