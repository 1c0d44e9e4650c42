#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void print_usage(FILE *f, const cli_option *opts, const char *command,
                        const char *summary)
{
    fprintf(f, "usage: selfsup %s [options]\n\n%s\n\noptions:\n", command,
            summary);
    for (const cli_option *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name,
                 o->kind == CLI_KIND_FLAG ? "" : " VALUE");
        fprintf(f, "  %-24s %s", left, o->help);
        if (o->fallback)
            fprintf(f, " (default: %s)", o->fallback);
        fputc('\n', f);
    }
    fprintf(f, "  %-24s %s\n", "--help", "show this help");
}

/* Stores the option's value (given, or its default) in its field. */
static bool store_value(const cli_option *o)
{
    const char *text = o->value ? o->value : o->fallback;
    char *end;
    errno = 0;
    switch (o->kind) {
    case CLI_KIND_TEXT:
        *(const char **)o->field = text;
        return true;
    case CLI_KIND_FLAG:
        *(bool *)o->field = o->value != NULL;
        return true;
    case CLI_KIND_INT: {
        if (!text)
            return true;
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno || (double)v < o->lo || (double)v > o->hi) {
            fprintf(stderr,
                    "selfsup: --%s %s is not an integer in [%.0f, %.0f]\n",
                    o->name, text, o->lo, o->hi);
            return false;
        }
        *(int64_t *)o->field = v;
        return true;
    }
    case CLI_KIND_REAL: {
        if (!text)
            return true;
        double v = strtod(text, &end);
        if (!*text || *end || errno || !isfinite(v) || v < o->lo || v > o->hi) {
            fprintf(stderr, "selfsup: --%s %s is not a number in [%g, %g]\n",
                    o->name, text, o->lo, o->hi);
            return false;
        }
        *(double *)o->field = v;
        return true;
    }
    }
    return true;
}

int cli_parse(int argc, char **argv, cli_option *opts, const char *command,
              const char *summary)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout, opts, command, summary);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "selfsup %s: unexpected argument '%s'\n", command,
                    arg);
            print_usage(stderr, opts, command, summary);
            return CLI_USAGE;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_option *o = opts;
        while (o->name &&
               (strlen(o->name) != len || strncmp(o->name, name, len) != 0))
            o++;
        if (!o->name) {
            fprintf(stderr, "selfsup %s: unknown option '%s'\n", command, arg);
            print_usage(stderr, opts, command, summary);
            return CLI_USAGE;
        }
        if (o->kind == CLI_KIND_FLAG) {
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            fprintf(stderr, "selfsup %s: --%s needs a value\n", command,
                    o->name);
            return CLI_USAGE;
        }
    }
    for (const cli_option *o = opts; o->name; o++)
        if (o->field && !store_value(o))
            return CLI_USAGE;
    return CLI_OK;
}

const char *cli_get(const cli_option *opts, const char *name)
{
    for (const cli_option *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->value ? o->value : o->fallback;
    return NULL;
}

const char *cli_given_value(const cli_option *opts, const char *name)
{
    return cli_given(opts, name) ? cli_get(opts, name) : NULL;
}

bool cli_given(const cli_option *opts, const char *name)
{
    for (const cli_option *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->value != NULL;
    return false;
}

void cli_spec_in_f32(char *spec)
{
    static const char BF16[] = "precision=bf16", F32[] = "precision=f32";
    char *at = strstr(spec, BF16);
    if (!at)
        return;
    const char *rest = at + strlen(BF16);
    memmove(at + strlen(F32), rest, strlen(rest) + 1);
    memcpy(at, F32, strlen(F32));
}

bool cli_apply_threads(int64_t threads)
{
    selfsup_status s;
    if (threads > 0 &&
        (s = selfsup_set_num_threads((int)threads)) != SELFSUP_OK) {
        cli_fail("--threads", s);
        return false;
    }
    return true;
}

int cli_fail(const char *what, selfsup_status s)
{
    fprintf(stderr, "selfsup: %s: %s: %s\n", what, selfsup_status_string(s),
            selfsup_last_error());
    return CLI_FAILED;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool cli_make_dir(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return false;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "selfsup: cannot create %s: %s\n", dir,
                strerror(errno));
        return false;
    }
    return true;
}

void cli_progress_begin(cli_progress *p, int64_t epoch, int64_t epochs,
                        int64_t total_steps)
{
    p->tty = isatty(fileno(stdout));
    p->total = total_steps;
    p->every = total_steps >= 10 ? total_steps / 10 : 1;
    p->start = cli_now();
    p->epoch = epoch;
    p->epochs = epochs;
}

static void format_duration(char *buf, size_t cap, double seconds)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60);
}

void cli_progress_update(cli_progress *p, int64_t step, double loss,
                         double images_per_s)
{
    double elapsed = cli_now() - p->start;
    double eta =
        step > 0 ? elapsed / (double)step * (double)(p->total - step) : 0;
    char eta_text[32];
    format_duration(eta_text, sizeof eta_text, eta);
    if (p->tty) {
        enum { WIDTH = 30 };
        int filled = p->total ? (int)(WIDTH * step / p->total) : WIDTH;
        char bar[WIDTH + 1];
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[WIDTH] = '\0';
        printf("\repoch %lld/%lld [%s] %lld/%lld loss %.4f %.0f img/s ETA "
               "%s ",
               (long long)p->epoch + 1, (long long)p->epochs, bar,
               (long long)step, (long long)p->total, loss, images_per_s,
               eta_text);
        fflush(stdout);
    } else if (step % p->every == 0 || step == p->total) {
        printf("epoch %lld/%lld step %lld/%lld loss %.4f %.0f img/s ETA %s\n",
               (long long)p->epoch + 1, (long long)p->epochs, (long long)step,
               (long long)p->total, loss, images_per_s, eta_text);
        fflush(stdout);
    }
}

void cli_progress_end(cli_progress *p, double loss)
{
    char took[32];
    format_duration(took, sizeof took, cli_now() - p->start);
    if (p->tty)
        putchar('\n');
    printf("epoch %lld/%lld done in %s, last loss %.4f\n",
           (long long)p->epoch + 1, (long long)p->epochs, took, loss);
    fflush(stdout);
}
