#include "svg.h"

#include <math.h>
#include <string.h>

#define FONT "font-family=\"DejaVu Sans,Helvetica,Arial,sans-serif\" font-size=\"12\""
#define CHAR_W 6.8   /* the average advance of a 12 px sans-serif glyph, for layout */
#define PANEL_H 300  /* a line panel: plot area plus its axes and title */

static const char *const ink_colour[] = { "#1f6fb4", "#e8710a", "#e8710a", "#8c8c8c" };
static const char *const ink_dash[] = { "", "7 4", "2 3", "" };
static const double weight_width[] = { 2.5, 1.6, 1.1 };
static const double weight_opacity[] = { 1, 0.75, 0.55 };

void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

static void open_svg(FILE *f, const char *label, double w, double h)
{
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"");
	svg_text(f, label);
	fprintf(f, "\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" " FONT ">\n"
		"<title>", w, h, w, h);
	svg_text(f, label);
	fprintf(f, "</title>\n<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", w, h);
}

/* A tick label: 0.5, 20, 1.5k, 20k. */
static void tick_text(char *buf, size_t cap, double v)
{
	if (fabs(v) >= 1000)
		snprintf(buf, cap, "%gk", v / 1000);
	else
		snprintf(buf, cap, "%g", v);
}

/* --- axes --------------------------------------------------------------- */

struct scale {
	double lo, hi;   /* data range shown */
	double a, b;     /* pixel range: a at lo, b at hi */
	int log;
};

static double at(const struct scale *s, double v)
{
	double t = s->log ? (log10(v) - log10(s->lo)) / (log10(s->hi) - log10(s->lo))
			  : (v - s->lo) / (s->hi - s->lo);
	return s->a + t * (s->b - s->a);
}

static double nice_step(double range)
{
	double raw = range / 5, mag = pow(10, floor(log10(raw))), r = raw / mag;
	return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

/* Fits an axis to [min, max] of the data: a linear one from 0 (or lo) to a round
 * step above max, a log one from the decade below half the smallest value (so
 * that the smallest still shows a bar) to the decade above the largest. */
static void fit(struct scale *s, const struct svg_axis *ax, double min, double max)
{
	s->log = ax->log;
	if (ax->lo != ax->hi) {
		s->lo = ax->lo;
		s->hi = ax->hi;
		return;
	}
	if (ax->log) {
		if (!(min > 0) || !isfinite(min))
			min = max > 0 ? max : 1;
		if (!(max > 0) || !isfinite(max))
			max = min;
		s->lo = pow(10, floor(log10(min / 2)));
		s->hi = pow(10, ceil(log10(max)));
		if (s->hi <= s->lo * 10)
			s->hi = s->lo * 100;
	} else {
		s->lo = min < 0 ? min : 0;
		if (!(max > s->lo) || !isfinite(max))
			max = s->lo + 1;
		double step = nice_step(max - s->lo);
		s->hi = s->lo + ceil((max - s->lo) / step - 1e-9) * step;
	}
}

/* Calls back for each tick value of a scale. */
static size_t ticks(const struct scale *s, double *out, size_t cap)
{
	size_t n = 0;
	if (s->log) {
		int decades = (int)lround(log10(s->hi / s->lo));
		static const double steps[] = { 1, 2, 5 };
		for (double d = s->lo; d <= s->hi * 1.0001 && n < cap; d *= 10)
			for (size_t k = 0; k < (decades <= 3 ? 3u : 1u) && n < cap; k++)
				if (d * steps[k] <= s->hi * 1.0001)
					out[n++] = d * steps[k];
	} else {
		double step = nice_step(s->hi - s->lo);
		for (double v = s->lo; v <= s->hi + step * 1e-6 && n < cap; v += step)
			out[n++] = fabs(v) < step * 1e-9 ? 0 : v;
	}
	return n;
}

/* Grid lines and labels of a vertical axis; side 0 left, 1 right (no grid). */
static void y_axis(FILE *f, const struct scale *s, double x0, double x1, int side,
		   const char *label, double top, double bottom)
{
	double t[40];
	size_t n = ticks(s, t, 40);
	char buf[32];
	for (size_t i = 0; i < n; i++) {
		double y = at(s, t[i]);
		tick_text(buf, sizeof buf, t[i]);
		if (side == 0)
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#e3e3e3\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
				"text-anchor=\"end\" fill=\"#444\">%s</text>\n",
				x0, y, x1, y, x0 - 5, y + 4, buf);
		else
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#8c8c8c\">%s</text>\n",
				x1 + 5, y + 4, buf);
	}
	if (label && *label) {
		/* right: past the widest tick label ("12.5k"), inside the 50 px margin */
		double x = side == 0 ? x0 - 44 : x1 + 45, y = (top + bottom) / 2;
		fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" "
			"text-anchor=\"middle\" fill=\"%s\">", x, y, side ? "#8c8c8c" : "#444");
		svg_text(f, label);
		fputs("</text>\n", f);
	}
}

static void x_axis(FILE *f, const struct scale *s, double y0, double y1, const char *label)
{
	double t[40];
	size_t n = ticks(s, t, 40);
	char buf[32];
	for (size_t i = 0; i < n; i++) {
		double x = at(s, t[i]);
		tick_text(buf, sizeof buf, t[i]);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#444\">%s</text>\n",
			x, y0, x, y1, x, y1 + 15, buf);
	}
	if (label && *label) {
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#444\">",
			(s->a + s->b) / 2, y1 + 31);
		svg_text(f, label);
		fputs("</text>\n", f);
	}
}

/* --- line panels ---------------------------------------------------------- */

static int shown(const struct scale *s, double v)
{
	return !isnan(v) && isfinite(v) && (!s->log || v > 0);
}

static void stroke(FILE *f, const struct svg_series *s)
{
	fprintf(f, "stroke=\"%s\" stroke-width=\"%.1f\" stroke-opacity=\"%.2f\"",
		ink_colour[s->ink], weight_width[s->weight % 3], weight_opacity[s->weight % 3]);
	if (*ink_dash[s->ink])
		fprintf(f, " stroke-dasharray=\"%s\"", ink_dash[s->ink]);
}

static void series(FILE *f, const struct svg_series *s, const struct scale *sx,
		   const struct scale *sy)
{
	if (s->marks != 1) {
		int open = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (!shown(sx, s->x[i]) || !shown(sy, s->y[i])) {
				if (open)
					fputs("\"/>\n", f);
				open = 0;
				continue;
			}
			if (!open) {
				fputs("<polyline fill=\"none\" stroke-linejoin=\"round\" ", f);
				stroke(f, s);
				fputs(" points=\"", f);
			}
			fprintf(f, "%s%.1f,%.1f", open ? " " : "", at(sx, s->x[i]), at(sy, s->y[i]));
			open = 1;
		}
		if (open)
			fputs("\"/>\n", f);
	}
	if (s->marks)
		for (size_t i = 0; i < s->n; i++)
			if (shown(sx, s->x[i]) && shown(sy, s->y[i]))
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" "
					"stroke=\"%s\" stroke-width=\"1.5\"/>\n", at(sx, s->x[i]),
					at(sy, s->y[i]), s->ink == SVG_MEASURED ? ink_colour[s->ink] : "#fff",
					ink_colour[s->ink]);
}

static double legend_rows(const struct svg_panel *p, double width)
{
	double x = 0;
	int rows = p->n ? 1 : 0;
	for (size_t i = 0; i < p->n; i++) {
		double w = 30 + CHAR_W * (double)strlen(p->s[i].label) + 14;
		if (x > 0 && x + w > width) {
			rows++;
			x = 0;
		}
		x += w;
	}
	return rows;
}

static void legend(FILE *f, const struct svg_panel *p, double x0, double y0, double width)
{
	double x = 0, y = y0;
	for (size_t i = 0; i < p->n; i++) {
		const struct svg_series *s = &p->s[i];
		double w = 30 + CHAR_W * (double)strlen(s->label) + 14;
		if (x > 0 && x + w > width) {
			x = 0;
			y += 18;
		}
		if (s->marks != 1) {
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" ",
				x0 + x, y - 4, x0 + x + 24, y - 4);
			stroke(f, s);
			fputs("/>\n", f);
		}
		if (s->marks)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" stroke=\"%s\" "
				"stroke-width=\"1.5\"/>\n", x0 + x + 12, y - 4,
				s->ink == SVG_MEASURED ? ink_colour[s->ink] : "#fff", ink_colour[s->ink]);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\">", x0 + x + 30, y);
		svg_text(f, s->label);
		fputs("</text>\n", f);
		x += w;
	}
}

static void range_of(const struct svg_panel *p, int axis, double *min, double *max)
{
	*min = INFINITY;
	*max = -INFINITY;
	for (size_t i = 0; i < p->n; i++) {
		const struct svg_series *s = &p->s[i];
		if (axis > 0 && s->right != axis - 1)
			continue;
		for (size_t k = 0; k < s->n; k++) {
			double v = axis == 0 ? s->x[k] : s->y[k];
			if (isnan(v) || !isfinite(v))
				continue;
			if (v < *min && (v > 0 || !(axis == 0 ? p->x.log : axis == 1 ? p->y.log
								     : p->y2.log)))
				*min = v;
			if (v > *max)
				*max = v;
		}
	}
}

static void panel(FILE *f, const struct svg_panel *p, double x, double w, double h)
{
	int right = 0;
	for (size_t i = 0; i < p->n; i++)
		right |= p->s[i].right;
	double nleg = legend_rows(p, w - 70);
	double left = x + 62, plot_r = x + w - (right ? 50 : 16);
	double top = 30, bottom = h - 46 - 18 * nleg;
	struct scale sx = { .a = left, .b = plot_r }, sy = { .a = bottom, .b = top };
	struct scale sy2 = { .a = bottom, .b = top };
	double min, max;
	range_of(p, 0, &min, &max);
	fit(&sx, &p->x, min, max);
	range_of(p, 1, &min, &max);
	fit(&sy, &p->y, min, max);
	if (right) {
		range_of(p, 2, &min, &max);
		fit(&sy2, &p->y2, min, max);
	}
	fprintf(f, "<g>\n<text x=\"%.1f\" y=\"18\" font-weight=\"bold\" fill=\"#222\">", left);
	svg_text(f, p->title);
	fputs("</text>\n", f);
	y_axis(f, &sy, left, plot_r, 0, p->y.label, top, bottom);
	if (right)
		y_axis(f, &sy2, left, plot_r, 1, p->y2.label, top, bottom);
	x_axis(f, &sx, top, bottom, p->x.label);
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		"stroke=\"#999\"/>\n", left, top, plot_r - left, bottom - top);
	fprintf(f, "<svg x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"viewBox=\"%.1f %.1f %.1f %.1f\" overflow=\"hidden\">\n", left - 4, top - 4,
		plot_r - left + 8, bottom - top + 8, left - 4, top - 4, plot_r - left + 8,
		bottom - top + 8);
	for (size_t i = 0; i < p->n; i++)  /* users first: the others draw over them */
		if (p->s[i].ink == SVG_USERS)
			series(f, &p->s[i], &sx, p->s[i].right ? &sy2 : &sy);
	for (size_t i = 0; i < p->n; i++)
		if (p->s[i].ink != SVG_USERS)
			series(f, &p->s[i], &sx, p->s[i].right ? &sy2 : &sy);
	fputs("</svg>\n", f);
	legend(f, p, left - 40, bottom + 52, w - 30);
	fputs("</g>\n", f);
}

void svg_lines(FILE *f, const char *label, const struct svg_panel *p, size_t n, int width)
{
	double h = PANEL_H, legend_h = 0;
	for (size_t i = 0; i < n; i++) {
		double r = 18 * legend_rows(&p[i], width - 70);
		if (r > legend_h)
			legend_h = r;
	}
	h += legend_h;
	open_svg(f, label, (double)width * (double)n, h);
	for (size_t i = 0; i < n; i++)
		panel(f, &p[i], (double)width * (double)i, width, h);
	fputs("</svg>\n", f);
}

/* --- bars ----------------------------------------------------------------- */

#define BAR_W 1060
#define LABEL_W 210
#define ROW_H 28
#define GROUP_H 24

static void value_text(char *buf, size_t cap, double v)
{
	if (!(v > 0))
		snprintf(buf, cap, "none");
	else if (v < 10)
		snprintf(buf, cap, "%.2f", v);
	else if (v < 100)
		snprintf(buf, cap, "%.1f", v);
	else
		snprintf(buf, cap, "%.0f", v);
}

void svg_bars(FILE *f, const char *label, const char *const titles[SVG_BAR_PANELS],
	      const struct svg_bar_row *rows, size_t n)
{
	size_t groups = 0;
	for (size_t i = 0; i < n; i++)
		groups += i == 0 || strcmp(rows[i].group, rows[i - 1].group) != 0;
	double top = 52, h = top + (double)n * ROW_H + (double)groups * GROUP_H + 34;
	double pw = (BAR_W - LABEL_W) / (double)SVG_BAR_PANELS;
	struct scale sc[SVG_BAR_PANELS];

	open_svg(f, label, BAR_W, h);
	/* the key, once, at the top: the same two inks as every other chart */
	fprintf(f, "<rect x=\"%d\" y=\"8\" width=\"14\" height=\"10\" fill=\"%s\"/>"
		"<text x=\"%d\" y=\"17\" fill=\"#333\">measured</text>\n"
		"<rect x=\"%d\" y=\"8\" width=\"14\" height=\"10\" fill=\"%s\"/>"
		"<text x=\"%d\" y=\"17\" fill=\"#333\">predicted by the model</text>\n",
		LABEL_W, ink_colour[SVG_MEASURED], LABEL_W + 20, LABEL_W + 110,
		ink_colour[SVG_MODEL], LABEL_W + 130);
	for (int k = 0; k < SVG_BAR_PANELS; k++) {
		double min = INFINITY, max = -INFINITY;
		struct svg_axis ax = { .log = 1 };
		for (size_t i = 0; i < n; i++)
			for (int j = 0; j < 2; j++) {
				double v = rows[i].v[k][j];
				if (v > 0 && v < min)
					min = v;
				if (v > max)
					max = v;
			}
		sc[k].a = LABEL_W + pw * k + 10;
		sc[k].b = LABEL_W + pw * (k + 1) - 40;
		fit(&sc[k], &ax, min, max);
		fprintf(f, "<text x=\"%.1f\" y=\"40\" font-weight=\"bold\" fill=\"#222\">",
			sc[k].a);
		svg_text(f, titles[k]);
		fputs("</text>\n", f);
		x_axis(f, &sc[k], top, h - 30, "");
	}
	double y = top;
	for (size_t i = 0; i < n; i++) {
		const struct svg_bar_row *r = &rows[i];
		if (i == 0 || strcmp(r->group, rows[i - 1].group) != 0) {
			fprintf(f, "<text x=\"4\" y=\"%.1f\" font-weight=\"bold\" fill=\"#555\">",
				y + 17);
			svg_text(f, r->group);
			fprintf(f, "</text>\n<line x1=\"4\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
				"stroke=\"#ccc\"/>\n", y + GROUP_H - 2, BAR_W - 4, y + GROUP_H - 2);
			y += GROUP_H;
		}
		fprintf(f, "<text x=\"12\" y=\"%.1f\" fill=\"#222\">", y + ROW_H / 2.0 + 4);
		svg_text(f, r->label);
		fputs("</text>\n", f);
		for (int k = 0; k < SVG_BAR_PANELS; k++)
			for (int j = 0; j < 2; j++) {
				double v = r->v[k][j], by = y + 2 + j * 12, end = sc[k].a;
				char buf[32];
				value_text(buf, sizeof buf, v);
				if (v > 0) {
					end = at(&sc[k], v < sc[k].hi ? v : sc[k].hi);
					fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
						"height=\"11\" fill=\"%s\"><title>", sc[k].a, by,
						end - sc[k].a, ink_colour[j ? SVG_MODEL : SVG_MEASURED]);
					svg_text(f, r->label);
					fprintf(f, ": %s %s</title></rect>\n",
						j ? "predicted" : "measured", buf);
				}
				fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
					"fill=\"#333\">%s</text>\n", end + 3, by + 9.5, buf);
			}
		y += ROW_H;
	}
	for (int k = 0; k < SVG_BAR_PANELS; k++)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n",
			sc[k].a, top, sc[k].a, h - 30);
	fputs("</svg>\n", f);
}
