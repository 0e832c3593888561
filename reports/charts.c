#include "charts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

#define HALF_W 530 /* a chart that sits beside another one in the report */
#define FULL_W 1060
/* Locust's current percentiles cover the last 10 seconds; the model's are
 * read over the same window, so the two lines mean the same thing. */
#define WINDOW_S 10

static FILE *open_in(const char *dir, const char *name)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "report: %s: %s\n", path, strerror(errno));
	return f;
}

static void num(FILE *f, double v)
{
	if (isnan(v))
		fputs(" ?", f);
	else
		fprintf(f, " %.6g", v);
}

/* A scenario over time, measured and simulated, as arrays a chart can take. */
struct timeline {
	size_t nh;             /* measured: one point per history row */
	double *ht, *users, *rps, *p50, *p95;
	int ns;                /* simulated: one point per second */
	double *st, *susers, *srps, *sp50, *sp95;
};

static void timeline_free(struct timeline *t)
{
	free(t->ht);
	free(t->st);
	memset(t, 0, sizeof *t);
}

/* The model's windowed percentiles at the end of second `sec`. */
static void model_window(const struct model_run *run, struct locust_buckets *b, int sec,
			 double *p50, double *p95)
{
	memset(b, 0, sizeof *b);
	for (long k = 0; k < run->reqs; k++)
		if (run->done[k].at_s <= sec && run->done[k].at_s > sec - WINDOW_S)
			locust_buckets_add(b, run->done[k].ms, 1);
	*p50 = b->total ? (double)locust_buckets_percentile(b, 0.5) : NAN;
	*p95 = b->total ? (double)locust_buckets_percentile(b, 0.95) : NAN;
}

/* Measured throughput is the change of the total count between history rows:
 * Locust's own "current" rate lags by seconds and reads 0 through a short run. */
static int timeline_make(struct timeline *t, const struct scenario *s,
			 const struct prediction *p)
{
	struct locust_buckets *b = malloc(sizeof *b);
	memset(t, 0, sizeof *t);
	t->nh = s->m.nhist;
	t->ns = p->run.seconds + 1;
	t->ht = malloc(sizeof *t->ht * (t->nh * 5 + 1));
	t->st = malloc(sizeof *t->st * (size_t)t->ns * 5);
	if (!b || !t->ht || !t->st) {
		free(b);
		timeline_free(t);
		return -1;
	}
	t->users = t->ht + t->nh;
	t->rps = t->users + t->nh;
	t->p50 = t->rps + t->nh;
	t->p95 = t->p50 + t->nh;
	for (size_t k = 0; k < t->nh; k++) {
		const struct history_point *h = &s->m.hist[k], *prev = k ? h - 1 : NULL;
		t->ht[k] = h->t_s;
		t->users[k] = h->users;
		t->rps[k] = prev && h->t_s > prev->t_s
			? (h->total_reqs - prev->total_reqs) / (h->t_s - prev->t_s) : NAN;
		t->p50[k] = h->p50;
		t->p95[k] = h->p95;
	}
	t->susers = t->st + t->ns;
	t->srps = t->susers + t->ns;
	t->sp50 = t->srps + t->ns;
	t->sp95 = t->sp50 + t->ns;
	for (int sec = 0; sec < t->ns; sec++) {
		t->st[sec] = sec;
		t->susers[sec] = p->run.users_per_s[sec];
		t->srps[sec] = sec ? (double)p->run.done_per_s[sec - 1] : NAN;
		model_window(&p->run, b, sec, &t->sp50[sec], &t->sp95[sec]);
	}
	free(b);
	return 0;
}

/* The data behind a scenario's charts, for whoever plots them another way. */
static int timeline_write(const struct timeline *t, const char *dir, int i)
{
	char name[32];
	snprintf(name, sizeof name, "h%02d.dat", i);
	FILE *f = open_in(dir, name);
	if (!f)
		return -1;
	fputs("# t_s users rps p50_ms p95_ms (measured; rps from the change in total requests)\n",
	      f);
	for (size_t k = 0; k < t->nh; k++) {
		fprintf(f, "%.3f", t->ht[k]);
		num(f, t->users[k]);
		num(f, t->rps[k]);
		num(f, t->p50[k]);
		num(f, t->p95[k]);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return -1;
	snprintf(name, sizeof name, "m%02d.dat", i);
	if (!(f = open_in(dir, name)))
		return -1;
	fputs("# second users completions p50_ms p95_ms (simulated; percentiles over the "
	      "last 10 s, as Locust's)\n", f);
	for (int k = 0; k < t->ns; k++) {
		fprintf(f, "%d", k);
		num(f, t->susers[k]);
		num(f, t->srps[k]);
		num(f, t->sp50[k]);
		num(f, t->sp95[k]);
		fputc('\n', f);
	}
	return fclose(f);
}

static int scenario_charts(const struct scenario *s, const struct prediction *p,
			   const char *dir, int i)
{
	struct timeline t;
	char name[32], label[400];
	int rc = -1;
	if (timeline_make(&t, s, p) < 0)
		return -1;
	if (timeline_write(&t, dir, i) < 0)
		goto done;

	struct svg_series thr[] = {
		{ "users", SVG_USERS, 1, 0, 1, t.ht, t.users, t.nh },
		{ "measured req/s", SVG_MEASURED, 0, 0, 0, t.ht, t.rps, t.nh },
		{ "model req/s", SVG_MODEL, 0, 0, 0, t.st, t.srps, (size_t)t.ns },
	};
	struct svg_panel tp = { "requests per second over time",
				{ "seconds", 0, 0, 0 }, { "requests/s", 0, 0, 0 },
				{ "users", 0, s->users * 1.25, 0 }, thr, 3 };
	snprintf(name, sizeof name, "u%02d.svg", i);
	snprintf(label, sizeof label, "%s: requests per second over time, measured and model",
		 s->name);
	FILE *f = open_in(dir, name);
	if (!f)
		goto done;
	svg_lines(f, label, &tp, 1, HALF_W);
	if (fclose(f) != 0)
		goto done;

	struct svg_series lat[] = {
		{ "measured p50", SVG_MEASURED, 0, 0, 0, t.ht, t.p50, t.nh },
		{ "measured p95", SVG_MEASURED, 1, 0, 0, t.ht, t.p95, t.nh },
		{ "model p50", SVG_MODEL, 0, 0, 0, t.st, t.sp50, (size_t)t.ns },
		{ "model p95", SVG_MODEL, 1, 0, 0, t.st, t.sp95, (size_t)t.ns },
	};
	struct svg_panel lp = { "response time over time (last 10 s)",
				{ "seconds", 0, 0, 0 }, { "ms", 0, 0, 0 }, { "", 0, 0, 0 }, lat, 4 };
	snprintf(name, sizeof name, "t%02d.svg", i);
	snprintf(label, sizeof label, "%s: response time percentiles over time, measured and model",
		 s->name);
	if (!(f = open_in(dir, name)))
		goto done;
	svg_lines(f, label, &lp, 1, HALF_W);
	rc = fclose(f) != 0 ? -1 : 2;
done:
	timeline_free(&t);
	return rc;
}

/* How a scenario is named on a chart: its route, its target when not the lab's
 * own C servers, and its users when the run has that route on that target more
 * than once (a sweep). */
static void row_label(const struct run_dir *rd, size_t i, char *buf, size_t cap)
{
	const struct scenario *s = &rd->sc[i];
	int twice = 0;
	for (size_t k = 0; k < rd->n; k++)
		twice |= k != i && rd->sc[k].route == s->route &&
			 strcmp(rd->sc[k].target, s->target) == 0;
	snprintf(buf, cap, "%s%s", s->route->path,
		 strcmp(s->target, "fastapi") == 0 ? " (FastAPI)" : "");
	if (twice)
		snprintf(buf + strlen(buf), cap - strlen(buf), ", %d users", s->users);
}

static void bar_row(const struct run_dir *rd, const struct prediction *pred, size_t i,
		    struct svg_bar_row *r, FILE *dat)
{
	const struct locust_row *m = &rd->sc[i].m.row, *p = &pred[i].row;
	row_label(rd, i, r->label, sizeof r->label);
	int fastapi = strcmp(rd->sc[i].target, "fastapi") == 0;
	snprintf(r->group, sizeof r->group, "%s: %s",
		 rd->sc[i].route->world == WORLD_BLOCKING ? "threads" : "events",
		 fastapi ? "FastAPI on uvicorn"
		 : rd->sc[i].route->world == WORLD_BLOCKING ? "bin/blocking" : "bin/evented");
	r->v[0][0] = m->rps;
	r->v[0][1] = p->rps;
	r->v[1][0] = m->reqs ? m->sum_ms / (double)m->reqs : 0;
	r->v[1][1] = p->reqs ? p->sum_ms / (double)p->reqs : 0;
	fprintf(dat, "\"%s\" %.6g %.6g %.6g %.6g\n", rd->sc[i].name, r->v[0][0], r->v[0][1],
		r->v[1][0], r->v[1][1]);
}

static int bars(const struct run_dir *rd, const struct prediction *pred, const char *dir)
{
	static const char *const titles[SVG_BAR_PANELS] = {
		"throughput, requests/s (log scale)", "mean response time, ms (log scale)"
	};
	struct svg_bar_row *rows = calloc(rd->n ? rd->n : 1, sizeof *rows);
	FILE *f = open_in(dir, "bars.dat");
	size_t n = 0;
	if (!rows || !f) {
		free(rows);
		if (f)
			fclose(f);
		return -1;
	}
	fputs("# scenario measured_rps predicted_rps measured_avg_ms predicted_avg_ms\n", f);
	/* threads first, then events: one heading per world however the run ordered them */
	for (size_t i = 0; i < rd->n; i++)
		if (rd->sc[i].route->world == WORLD_BLOCKING)
			bar_row(rd, pred, i, &rows[n++], f);
	for (size_t i = 0; i < rd->n; i++)
		if (rd->sc[i].route->world != WORLD_BLOCKING)
			bar_row(rd, pred, i, &rows[n++], f);
	int rc = fclose(f);
	if (rc == 0 && (f = open_in(dir, "bars.svg")) != NULL) {
		svg_bars(f, "every scenario: throughput and mean response time, measured and "
			 "predicted", titles, rows, n);
		rc = fclose(f);
	} else {
		rc = -1;
	}
	free(rows);
	return rc == 0 ? 1 : -1;
}

#define SWEEP_MAX_ROUTES 8

/* One route swept over user counts: the points measured and simulated, the
 * closed form's curve from 1 user to past the largest count. */
struct sweep_route {
	const struct route *route;
	int n;
	double users[RUN_DIR_MAX_SCENARIOS], m_avg[RUN_DIR_MAX_SCENARIOS],
		m_rps[RUN_DIR_MAX_SCENARIOS], s_avg[RUN_DIR_MAX_SCENARIOS],
		s_rps[RUN_DIR_MAX_SCENARIOS];
	/* what a thread costs: resident KiB per user and the server's threads,
	 * NAN where the run did not record them */
	double kib_per_user[RUN_DIR_MAX_SCENARIOS], threads[RUN_DIR_MAX_SCENARIOS];
	double cu[200], cr[200], cx[200];
	int nc, has_memory;
};

static int sweep_collect(const struct run_dir *rd, const struct prediction *pred,
			 struct sweep_route *sw)
{
	int nsw = 0;
	for (size_t i = 0; i < rd->n; i++) {
		const struct scenario *s = &rd->sc[i];
		if (!s->sweep)
			continue;
		int k = 0;
		while (k < nsw && sw[k].route != s->route)
			k++;
		if (k == nsw) {
			if (nsw == SWEEP_MAX_ROUTES)
				continue; /* more routes than a chart can hold: the first ones */
			memset(&sw[k], 0, sizeof sw[k]);
			sw[nsw++].route = s->route;
		}
		struct sweep_route *r = &sw[k];
		const struct locust_row *m = &s->m.row, *p = &pred[i].row;
		r->users[r->n] = s->users;
		r->m_avg[r->n] = m->reqs ? m->sum_ms / (double)m->reqs : NAN;
		r->m_rps[r->n] = m->rps;
		r->s_avg[r->n] = p->reqs ? p->sum_ms / (double)p->reqs : NAN;
		r->s_rps[r->n] = p->rps;
		r->kib_per_user[r->n] = s->rss_kb >= 0 ? s->rss_kb / s->users : NAN;
		r->threads[r->n] = s->server_threads >= 0 ? s->server_threads : NAN;
		r->has_memory |= s->rss_kb >= 0;
		r->n++;
		int max_users = 1;
		for (int j = 0; j < r->n; j++)
			if (r->users[j] > max_users)
				max_users = (int)r->users[j];
		r->nc = 0;
		for (int j = 1; j <= 200; j++) {
			struct model_scenario sc = pred[i].sc;
			struct model_steady st;
			sc.users = 1 + (int)((max_users * 1.1) * j / 200);
			if (model_steady(&sc, &st) == 0) {
				r->cu[r->nc] = sc.users;
				r->cr[r->nc] = st.r_ms;
				r->cx[r->nc++] = st.x_per_s;
			}
		}
	}
	return nsw;
}

/* sweep_mem.svg: each route's resident memory per user against users, its
 * threads on the right-hand axis: a thread per user beside a loop's
 * connections. Returns 1 when drawn, 0 when no scenario recorded memory. */
static int sweep_memory(struct sweep_route *sw, int nsw, int w, const char *dir)
{
	struct svg_series ser[SWEEP_MAX_ROUTES][2];
	struct svg_panel pan[SWEEP_MAX_ROUTES];
	static char title[SWEEP_MAX_ROUTES][300];
	int any = 0;
	for (int k = 0; k < nsw; k++) {
		struct sweep_route *r = &sw[k];
		any |= r->has_memory;
		ser[k][0] = (struct svg_series){ "resident KiB per user", SVG_MEASURED, 0, 2, 0,
						 r->users, r->kib_per_user, (size_t)r->n };
		ser[k][1] = (struct svg_series){ "server threads", SVG_USERS, 0, 2, 1, r->users,
						 r->threads, (size_t)r->n };
		snprintf(title[k], sizeof title[k], "%s: server memory per user against users",
			 r->route->path);
		/* log users: 100 to 10,000 users spread evenly */
		pan[k] = (struct svg_panel){ title[k], { "users", 0, 0, 1 },
					     { "KiB per user", 0, 0, 0 },
					     { "threads", 0, 0, 0 }, ser[k], 2 };
	}
	if (!any)
		return 0;
	FILE *f = open_in(dir, "sweep_mem.svg");
	if (!f)
		return -1;
	svg_lines(f, "server memory per user and threads against users", pan, (size_t)nsw, w);
	return fclose(f) == 0 ? 1 : -1;
}

static int sweep(const struct run_dir *rd, const struct prediction *pred, const char *dir)
{
	static struct sweep_route sw[SWEEP_MAX_ROUTES];
	struct svg_series ser[2][SWEEP_MAX_ROUTES][3];
	struct svg_panel pan[2][SWEEP_MAX_ROUTES];
	static char title[2][SWEEP_MAX_ROUTES][300];
	int nsw = sweep_collect(rd, pred, sw);
	if (nsw == 0)
		return 0;
	for (int k = 0; k < nsw; k++) {
		struct sweep_route *r = &sw[k];
		char name[32];
		snprintf(name, sizeof name, "sweep%d.dat", k);
		FILE *f = open_in(dir, name);
		if (!f)
			return -1;
		fprintf(f, "# %s: users measured_avg_ms measured_rps simulated_avg_ms simulated_rps "
			"kib_per_user server_threads\n", r->route->path);
		for (int j = 0; j < r->n; j++)
			fprintf(f, "%g %.6g %.6g %.6g %.6g %.6g %.6g\n", r->users[j], r->m_avg[j],
				r->m_rps[j], r->s_avg[j], r->s_rps[j], r->kib_per_user[j],
				r->threads[j]);
		if (fclose(f) != 0)
			return -1;
		for (int c = 0; c < 2; c++) {
			/* the simulated points last: hollow rings over the measured dots */
			ser[c][k][0] = (struct svg_series){ "closed form", SVG_CLOSED_FORM, 1, 0, 0,
							    r->cu, c ? r->cx : r->cr, (size_t)r->nc };
			ser[c][k][1] = (struct svg_series){ "measured", SVG_MEASURED, 0, 2, 0,
							    r->users, c ? r->m_rps : r->m_avg,
							    (size_t)r->n };
			ser[c][k][2] = (struct svg_series){ "simulated run", SVG_MODEL, 0, 1, 0,
							    r->users, c ? r->s_rps : r->s_avg,
							    (size_t)r->n };
			snprintf(title[c][k], sizeof title[c][k], "%s: %s against users",
				 r->route->path, c ? "throughput" : "mean response time");
			pan[c][k] = (struct svg_panel){ title[c][k], { "users", 0, 0, 0 },
							{ c ? "requests/s" : "mean ms", 0, 0, 0 },
							{ "", 0, 0, 0 }, ser[c][k], 3 };
		}
	}
	static const char *const file[2] = { "sweep_lat.svg", "sweep_rps.svg" };
	static const char *const label[2] = { "mean response time against users",
					      "throughput against users" };
	/* one route: the two charts sit side by side; more: a panel per route each */
	int w = nsw == 1 ? HALF_W : FULL_W / nsw < 300 ? 300 : FULL_W / nsw;
	for (int c = 0; c < 2; c++) {
		FILE *f = open_in(dir, file[c]);
		if (!f)
			return -1;
		svg_lines(f, label[c], pan[c], (size_t)nsw, w);
		if (fclose(f) != 0)
			return -1;
	}
	int mem = sweep_memory(sw, nsw, w, dir);
	return mem < 0 ? -1 : 2 + mem;
}

int charts_draw(const struct run_dir *rd, const struct prediction *pred, const char *dir)
{
	int drawn = 0, n;
	for (size_t i = 0; i < rd->n; i++) {
		if ((n = scenario_charts(&rd->sc[i], &pred[i], dir, (int)i + 1)) < 0)
			return -1;
		drawn += n;
	}
	if ((n = bars(rd, pred, dir)) < 0)
		return -1;
	drawn += n;
	if ((n = sweep(rd, pred, dir)) < 0)
		return -1;
	return drawn + n;
}
