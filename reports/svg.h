/*
 * svg — the report's charts, written as SVG by hand: standalone files that
 * report.html inlines and REPORT.md links, sized by a viewBox so that they
 * shrink with the page and print as vectors.
 *
 * One visual language on every chart: what was measured is blue and solid,
 * what the model predicts is orange and dashed (the closed form dotted), users
 * are grey. A scale is linear or logarithmic; a log scale keeps 3 req/s
 * visible beside 2000.
 *
 * Writers print to a FILE and return nothing (stdio errors surface at fclose).
 */
#ifndef SVG_H
#define SVG_H

#include <stddef.h>
#include <stdio.h>

enum svg_ink {
	SVG_MEASURED,    /* blue, solid */
	SVG_MODEL,       /* orange, dashed: the simulation */
	SVG_CLOSED_FORM, /* orange, dotted: the closed form */
	SVG_USERS,       /* grey, thin */
};

struct svg_axis {
	const char *label;
	double lo, hi;   /* lo == hi: fit to the data (a linear axis starts at 0) */
	int log;
};

struct svg_series {
	const char *label;   /* legend text */
	enum svg_ink ink;
	int weight;          /* 0 the main line; 1, 2 thinner and fainter */
	int marks;           /* 0 a line; 1 points only; 2 a line with points */
	int right;           /* drawn against the panel's right-hand axis */
	const double *x, *y; /* a NAN y (or <= 0 on a log axis) breaks the line */
	size_t n;
};

struct svg_panel {
	const char *title;
	struct svg_axis x, y, y2; /* y2 is drawn only when a series is `right` */
	const struct svg_series *s;
	size_t n;
};

/* One row of a bar chart: for each panel, the measured and the predicted value. */
#define SVG_BAR_PANELS 2
struct svg_bar_row {
	char label[64];
	char group[64];      /* a heading drawn above a row whose group differs */
	double v[SVG_BAR_PANELS][2];
};

/* Text for XML or HTML, escaped (< > & "), in element content or an attribute. */
void svg_text(FILE *f, const char *s);

/* Panels side by side, each `width` wide. `label` names the chart for screen
 * readers and tests (aria-label). */
void svg_lines(FILE *f, const char *label, const struct svg_panel *p, size_t n, int width);

/* Horizontal bars, measured above predicted for each row, every panel on a log
 * scale fitted to its values; `titles` heads each panel. A value <= 0 draws no
 * bar and says "none". */
void svg_bars(FILE *f, const char *label, const char *const titles[SVG_BAR_PANELS],
	      const struct svg_bar_row *rows, size_t n);

#endif
