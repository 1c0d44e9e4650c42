/* The training curves as a self-contained SVG a browser shows: loss over
 * steps on the left, kNN top-1 over steps on the right; and several runs'
 * curves overlaid in one panel (selfsup plot). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    PANEL_W = 460,
    PANEL_H = 300,
    MARGIN_L = 60,
    MARGIN_B = 40,
    MARGIN_T = 30,
    MARGIN_R = 20
};

typedef struct axis {
    double lo, hi, step; /* tick spacing */
} axis;

/* Round tick spacing (1, 2, 5 x 10^k) giving about five ticks. */
static axis nice_axis(double lo, double hi)
{
    if (!(hi > lo)) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    double raw = (hi - lo) / 5;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
    axis a = {floor(lo / step) * step, ceil(hi / step) * step, step};
    return a;
}

/* Ticks by index from the axis' ends: a running sum of steps drifts, and
 * its zero prints as -1.38778e-16. */
static int tick_count(const axis *a)
{
    return (int)lround((a->hi - a->lo) / a->step);
}

static double tick_value(const axis *a, int i)
{
    double t = a->lo + i * a->step;
    return fabs(t) < 1e-9 * a->step ? 0.0 : t;
}

static void range_of(const cli_series *s, double *lo, double *hi, int use_y)
{
    for (int64_t i = 0; i < s->count; i++) {
        double v = use_y ? s->y[i] : s->x[i];
        if (!isfinite(v))
            continue;
        if (v < *lo)
            *lo = v;
        if (v > *hi)
            *hi = v;
    }
}

typedef struct panel {
    double ox, oy; /* top-left corner of the panel */
    axis x, y;
} panel;

static double px(const panel *p, double x)
{
    double w = PANEL_W - MARGIN_L - MARGIN_R;
    return p->ox + MARGIN_L + (x - p->x.lo) / (p->x.hi - p->x.lo) * w;
}

static double py(const panel *p, double y)
{
    double h = PANEL_H - MARGIN_T - MARGIN_B;
    return p->oy + MARGIN_T + (1 - (y - p->y.lo) / (p->y.hi - p->y.lo)) * h;
}

static void draw_frame(FILE *f, const panel *p, const char *title,
                       const char *xlabel, const char *ylabel, double y_scale)
{
    double x0 = px(p, p->x.lo), x1 = px(p, p->x.hi);
    double y0 = py(p, p->y.lo), y1 = py(p, p->y.hi);
    fprintf(f,
            "<text x='%.1f' y='%.1f' font-size='14' text-anchor='middle' "
            "font-weight='bold'>%s</text>\n",
            (x0 + x1) / 2, p->oy + 18, title);
    for (int i = 0, n = tick_count(&p->y); i <= n; i++) {
        double t = tick_value(&p->y, i);
        double y = py(p, t);
        fprintf(f,
                "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                "stroke='#ddd'/>\n<text x='%.1f' y='%.1f' font-size='11' "
                "text-anchor='end'>%g</text>\n",
                x0, y, x1, y, x0 - 5, y + 4, t * y_scale);
    }
    for (int i = 0, n = tick_count(&p->x); i <= n; i++) {
        double t = tick_value(&p->x, i);
        double x = px(p, t);
        fprintf(f,
                "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                "stroke='#eee'/>\n<text x='%.1f' y='%.1f' font-size='11' "
                "text-anchor='middle'>%g</text>\n",
                x, y0, x, y1, x, y0 + 16, t);
    }
    fprintf(f,
            "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
            "fill='none' stroke='#333'/>\n",
            x0, y1, x1 - x0, y0 - y1);
    fprintf(f,
            "<text x='%.1f' y='%.1f' font-size='12' "
            "text-anchor='middle'>%s</text>\n",
            (x0 + x1) / 2, y0 + 32, xlabel);
    fprintf(f,
            "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle' "
            "transform='rotate(-90 %.1f %.1f)'>%s</text>\n",
            p->ox + 14, (y0 + y1) / 2, p->ox + 14, (y0 + y1) / 2, ylabel);
}

static void draw_series(FILE *f, const panel *p, const cli_series *s,
                        const char *color, int markers, int dashed)
{
    if (s->count == 0)
        return;
    fprintf(f,
            "<polyline fill='none' stroke='%s' stroke-width='1.5'%s "
            "points='",
            color, dashed ? " stroke-dasharray='6,3'" : "");
    for (int64_t i = 0; i < s->count; i++)
        if (isfinite(s->y[i]))
            fprintf(f, "%.1f,%.1f ", px(p, s->x[i]), py(p, s->y[i]));
    fputs("'/>\n", f);
    if (markers)
        for (int64_t i = 0; i < s->count; i++)
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n",
                    px(p, s->x[i]), py(p, s->y[i]), color);
}

static void draw_baseline(FILE *f, const panel *p, double y, const char *label,
                          const char *color)
{
    if (y < 0)
        return;
    fprintf(f,
            "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
            "stroke-dasharray='5,4'/>\n<text x='%.1f' y='%.1f' "
            "font-size='11' fill='%s' text-anchor='end'>%s %.1f%%</text>\n",
            px(p, p->x.lo), py(p, y), px(p, p->x.hi), py(p, y), color,
            px(p, p->x.hi) - 4, py(p, y) - 4, color, label, 100 * y);
}

/* Text content with XML's special characters escaped (labels come from
 * the command line and directory names). */
static void svg_text(FILE *f, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '<')
            fputs("&lt;", f);
        else if (*c == '>')
            fputs("&gt;", f);
        else if (*c == '&')
            fputs("&amp;", f);
        else
            fputc(*c, f);
    }
}

/* Opens path's temporary file (its name in tmp) and writes the SVG header
 * and title; NULL if it cannot be created. */
static FILE *svg_begin(const char *path, char *tmp, size_t cap, int width,
                       int height, const char *title)
{
    snprintf(tmp, cap, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return NULL;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif'>\n<rect width='100%%' height='100%%' "
            "fill='white'/>\n<text x='%d' y='16' font-size='13'>",
            width, height, 10);
    svg_text(f, title);
    fputs("</text>\n", f);
    return f;
}

/* Closes the SVG and renames it into place; a failure removes it. */
static bool svg_end(FILE *f, const char *tmp, const char *path)
{
    fputs("</svg>\n", f);
    bool ok = fflush(f) == 0 && !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return false;
    }
    return true;
}

bool cli_write_curves_svg(const char *path, const cli_series *loss,
                          const cli_series *knn, double raw_baseline,
                          double random_baseline, const char *title)
{
    char tmp[4200];
    FILE *f =
        svg_begin(path, tmp, sizeof tmp, 2 * PANEL_W, PANEL_H + 20, title);
    if (!f)
        return false;

    double xlo = 0, xhi = 1, llo = INFINITY, lhi = -INFINITY;
    range_of(loss, &xlo, &xhi, 0);
    range_of(knn, &xlo, &xhi, 0);
    range_of(loss, &llo, &lhi, 1);
    if (!isfinite(llo))
        llo = 0, lhi = 1;
    panel left = {0, 20, nice_axis(0, xhi), nice_axis(llo, lhi)};
    draw_frame(f, &left, "training loss", "step", "loss", 1);
    draw_series(f, &left, loss, "#1f77b4", 0, 0);

    double klo = INFINITY, khi = -INFINITY;
    range_of(knn, &klo, &khi, 1);
    if (raw_baseline >= 0)
        klo = fmin(klo, raw_baseline), khi = fmax(khi, raw_baseline);
    if (random_baseline >= 0)
        klo = fmin(klo, random_baseline), khi = fmax(khi, random_baseline);
    if (!isfinite(klo))
        klo = 0, khi = 1;
    panel right = {PANEL_W, 20, nice_axis(0, xhi),
                   nice_axis(fmax(0, klo - 0.02), fmin(1, khi + 0.02))};
    draw_frame(f, &right, "kNN top-1 (test)", "step", "accuracy (%)", 100);
    draw_baseline(f, &right, raw_baseline, "raw pixels", "#888");
    draw_baseline(f, &right, random_baseline, "random init", "#c44");
    draw_series(f, &right, knn, "#2ca02c", 1, 0);

    return svg_end(f, tmp, path);
}

bool cli_write_overlay_svg(const char *path, const cli_series *series,
                           const char *const *labels, int n,
                           const char *x_label, const char *y_label,
                           double y_scale, const char *title, bool pairs)
{
    static const char *const COLORS[] = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    enum { LEGEND_W = 220, LINE_H = 18, CHAR_W = 7 };
    /* the legend grows with its longest label (12-pixel sans-serif is
     * under 7 pixels a character), so that none runs off the canvas */
    int legend_w = LEGEND_W;
    for (int i = 0; i < n; i++) {
        int w = 40 + CHAR_W * (int)strlen(labels[i]);
        if (w > legend_w)
            legend_w = w;
    }
    int height = PANEL_H + 20;
    if (20 + 30 + n * LINE_H > height)
        height = 20 + 30 + n * LINE_H;
    char tmp[4200];
    FILE *f =
        svg_begin(path, tmp, sizeof tmp, PANEL_W + legend_w, height, title);
    if (!f)
        return false;
    double xlo = 0, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < n; i++) {
        range_of(&series[i], &xlo, &xhi, 0);
        range_of(&series[i], &ylo, &yhi, 1);
    }
    if (!isfinite(xhi))
        xhi = 1;
    if (!isfinite(ylo))
        ylo = 0, yhi = 1;
    double pad = (yhi - ylo) * 0.05;
    panel p = {0, 20, nice_axis(xlo, xhi), nice_axis(ylo - pad, yhi + pad)};
    draw_frame(f, &p, y_label, x_label, y_label, y_scale);
    for (int i = 0; i < n; i++) {
        /* a colour per run, or per pair with its second run dashed; past
         * the palette the colours come round again, dashed */
        int slot = pairs ? i / 2 : i;
        int dashed = pairs ? i % 2 : slot / 10 % 2;
        const char *color = COLORS[slot % 10];
        draw_series(f, &p, &series[i], color, series[i].count <= 40, dashed);
        double y = 20 + 30 + i * LINE_H;
        fprintf(f,
                "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='%s' "
                "stroke-width='3'%s/>\n<text x='%d' y='%.1f' "
                "font-size='12'>",
                PANEL_W + 4, y - 4, PANEL_W + 24, y - 4, color,
                dashed ? " stroke-dasharray='6,3'" : "", PANEL_W + 30, y);
        svg_text(f, labels[i]);
        fputs("</text>\n", f);
    }
    return svg_end(f, tmp, path);
}
