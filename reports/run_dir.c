#include "run_dir.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"

/* --- KEY=VALUE files ------------------------------------------------------ */

#define ENV_MAX_KEYS 64 /* scenario.env: the flags' values, then every measure's */

struct env {
	char path[1100];
	char key[ENV_MAX_KEYS][32];
	char val[ENV_MAX_KEYS][1024];
	int line[ENV_MAX_KEYS];
	int n;
};

static int env_load(struct env *e, const char *path, char *err, size_t cap)
{
	char buf[1100];
	int line = 0;
	FILE *f = fopen(path, "r");
	memset(e, 0, sizeof *e);
	snprintf(e->path, sizeof e->path, "%s", path);
	if (!f) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof buf, f)) {
		line++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '\0' || buf[0] == '#')
			continue;
		char *eq = strchr(buf, '=');
		if (!eq || eq == buf || (size_t)(eq - buf) >= sizeof e->key[0]) {
			snprintf(err, cap, "%s:%d: expected KEY=VALUE, found \"%s\"", path, line, buf);
			fclose(f);
			return -1;
		}
		if (strlen(eq + 1) >= sizeof e->val[0]) {
			snprintf(err, cap, "%s:%d: the value of %.*s is longer than %zu characters",
				 path, line, (int)(eq - buf), buf, sizeof e->val[0] - 1);
			fclose(f);
			return -1;
		}
		if (e->n == ENV_MAX_KEYS)
			continue; /* more keys than the report reads */
		memcpy(e->key[e->n], buf, (size_t)(eq - buf));
		e->key[e->n][eq - buf] = '\0';
		snprintf(e->val[e->n], sizeof e->val[0], "%s", eq + 1);
		e->line[e->n++] = line;
	}
	fclose(f);
	return 0;
}

static const char *env_get(const struct env *e, const char *key, int *line)
{
	for (int i = e->n - 1; i >= 0; i--) /* the last assignment wins, as in sh */
		if (strcmp(e->key[i], key) == 0) {
			if (line)
				*line = e->line[i];
			return e->val[i];
		}
	return NULL;
}

/* A number under `key`; def when absent (required: def is NAN). */
static int env_number(const struct env *e, const char *key, double def, double *out,
		      char *err, size_t cap)
{
	int line = 0;
	const char *v = env_get(e, key, &line);
	char *end;
	if (!v) {
		if (isnan(def)) {
			snprintf(err, cap, "%s: missing %s=", e->path, key);
			return -1;
		}
		*out = def;
		return 0;
	}
	errno = 0;
	*out = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno || !isfinite(*out) || *out < 0) {
		snprintf(err, cap, "%s:%d: %s: expected a number >= 0, found \"%s\"", e->path,
			 line, key, v);
		return -1;
	}
	return 0;
}

static void env_copy(const struct env *e, const char *key, char *dst, size_t cap)
{
	const char *v = env_get(e, key, NULL);
	snprintf(dst, cap, "%s", v ? v : "");
}

/* --- the load generator's files ------------------------------------------- */

static int need_cols(const struct csv *c, const char *const *names, int *cols, int n,
		     char *err, size_t cap)
{
	for (int i = 0; i < n; i++)
		if ((cols[i] = csv_col(c, names[i])) < 0) {
			snprintf(err, cap, "%s:1: missing column \"%s\"", c->path, names[i]);
			return -1;
		}
	return csv_check_widths(c, err, cap);
}

static int is_aggregated(const struct csv *c, size_t r, int name_col)
{
	return strcmp(c->rows[r].f[name_col], "Aggregated") == 0;
}

enum { S_NAME, S_REQS, S_FAILS, S_MED, S_AVG, S_MIN, S_MAX, S_SIZE, S_RPS, S_FPS, S_PCT };

static int read_stats(struct measured *m, const char *path, char *err, size_t cap)
{
	static const char *const names[S_PCT + LOCUST_NPCT] = {
		"Name", "Request Count", "Failure Count", "Median Response Time",
		"Average Response Time", "Min Response Time", "Max Response Time",
		"Average Content Size", "Requests/s", "Failures/s",
		"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
	};
	int cols[S_PCT + LOCUST_NPCT];
	double v[S_PCT + LOCUST_NPCT];
	struct csv c;
	size_t agg = 0;
	if (csv_load(&c, path, err, cap) < 0)
		return -1;
	if (need_cols(&c, names, cols, S_PCT + LOCUST_NPCT, err, cap) < 0)
		goto fail;
	for (size_t r = 1; r < c.nrows; r++)
		if (is_aggregated(&c, r, cols[S_NAME]))
			agg = r;
	if (!agg) {
		snprintf(err, cap, "%s:%zu: no Aggregated row", path, c.nrows);
		goto fail;
	}
	/* every row's numbers are checked, though only the Aggregated row is used */
	for (size_t r = 1; r < c.nrows; r++)
		for (int i = S_REQS; i < S_PCT + LOCUST_NPCT; i++) {
			double x;
			if (csv_number(&c, r, cols[i], i == S_MED || i >= S_PCT || i == S_MIN ||
				       i == S_MAX || i == S_AVG, &x, err, cap) < 0)
				goto fail;
			if (r == agg)
				v[i] = x;
		}
	struct locust_row *row = &m->row;
	memset(row, 0, sizeof *row);
	snprintf(row->name, sizeof row->name, "Aggregated");
	row->reqs = (uint64_t)v[S_REQS];
	row->fails = (uint64_t)v[S_FAILS];
	row->sum_ms = isnan(v[S_AVG]) ? 0 : v[S_AVG] * v[S_REQS];
	row->min_ms = isnan(v[S_MIN]) ? 0 : v[S_MIN];
	row->max_ms = isnan(v[S_MAX]) ? 0 : v[S_MAX];
	row->content_bytes = v[S_SIZE] * v[S_REQS];
	row->rps = v[S_RPS];
	row->fps = v[S_FPS];
	row->median = isnan(v[S_MED]) ? 0 : v[S_MED];
	row->median_is_int = row->median == floor(row->median);
	for (int i = 0; i < LOCUST_NPCT; i++)
		row->pct[i] = isnan(v[S_PCT + i]) ? 0 : (long)v[S_PCT + i];
	csv_free(&c);
	return 0;
fail:
	csv_free(&c);
	return -1;
}

enum { H_TS, H_USERS, H_NAME, H_RPS, H_FPS, H_P50, H_P95, H_P99, H_P100, H_TREQS, H_TFAILS,
       H_TMED, H_TAVG, H_TMIN, H_TMAX, H_N };

static int read_history(struct measured *m, const char *path, double run_time_s,
			char *err, size_t cap)
{
	static const char *const names[H_N] = {
		"Timestamp", "User Count", "Name", "Requests/s", "Failures/s", "50%", "95%",
		"99%", "100%", "Total Request Count", "Total Failure Count",
		"Total Median Response Time", "Total Average Response Time",
		"Total Min Response Time", "Total Max Response Time",
	};
	int cols[H_N];
	double v[H_N], t0 = NAN;
	struct csv c;
	size_t last = 0;
	if (csv_load(&c, path, err, cap) < 0)
		return -1;
	if (need_cols(&c, names, cols, H_N, err, cap) < 0)
		goto fail;
	m->hist = calloc(c.nrows, sizeof *m->hist);
	if (!m->hist) {
		snprintf(err, cap, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	double prev_ts = -INFINITY;
	for (size_t r = 1; r < c.nrows; r++) {
		/* every row is checked, --csv-full-history's per-name rows too, though
		 * only the Aggregated ones are used: damage anywhere is reported */
		for (int i = 0; i < H_N; i++)
			if (i != H_NAME && csv_number(&c, r, cols[i], i >= H_P50, &v[i], err, cap) < 0)
				goto fail;
		if (v[H_TS] < prev_ts) {
			snprintf(err, cap, "%s:%d: Timestamp %.0f is before the previous row's %.0f "
				 "(rows out of order)", path, c.rows[r].line, v[H_TS], prev_ts);
			goto fail;
		}
		prev_ts = v[H_TS];
		if (!is_aggregated(&c, r, cols[H_NAME]))
			continue;
		if (isnan(t0))
			t0 = v[H_TS];
		struct history_point *h = &m->hist[m->nhist++];
		h->t_s = v[H_TS] - t0;
		h->users = v[H_USERS];
		h->rps = v[H_RPS];
		h->fps = v[H_FPS];
		h->p50 = v[H_P50];
		h->p95 = v[H_P95];
		h->p99 = v[H_P99];
		h->total_reqs = isnan(v[H_TREQS]) ? 0 : v[H_TREQS];
		last = r;
	}
	/* Locust 2.12 does not rewrite stats.csv at shutdown: when the history's last
	 * row counted more, its totals are the later truth. */
	if (last && m->hist[m->nhist - 1].total_reqs > (double)m->row.reqs) {
		struct locust_row *row = &m->row;
		double n = v[H_TREQS];
		m->from_history = 1;
		row->reqs = (uint64_t)n;
		row->fails = isnan(v[H_TFAILS]) ? row->fails : (uint64_t)v[H_TFAILS];
		if (!isnan(v[H_TAVG]))
			row->sum_ms = v[H_TAVG] * n;
		if (!isnan(v[H_TMIN]))
			row->min_ms = v[H_TMIN];
		if (!isnan(v[H_TMAX]))
			row->max_ms = v[H_TMAX];
		if (!isnan(v[H_TMED]))
			row->median = v[H_TMED];
		/* the history row carries only some percentiles; keep stats.csv's others */
		if (!isnan(v[H_P50]))
			row->pct[0] = (long)v[H_P50];
		if (!isnan(v[H_P95]))
			row->pct[5] = (long)v[H_P95];
		if (!isnan(v[H_P99]))
			row->pct[7] = (long)v[H_P99];
		if (!isnan(v[H_P100]))
			row->pct[10] = (long)v[H_P100];
		if (run_time_s > 0)
			row->rps = n / run_time_s;
	}
	csv_free(&c);
	return 0;
fail:
	csv_free(&c);
	return -1;
}

static int read_failures(struct measured *m, const char *path, char *err, size_t cap)
{
	static const char *const names[] = { "Method", "Name", "Error", "Occurrences" };
	int cols[4];
	struct csv c;
	if (csv_load(&c, path, err, cap) < 0)
		return -1;
	if (need_cols(&c, names, cols, 4, err, cap) < 0)
		goto fail;
	m->errors = calloc(c.nrows, sizeof *m->errors);
	if (!m->errors) {
		snprintf(err, cap, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	for (size_t r = 1; r < c.nrows; r++) {
		struct locust_error *e = &m->errors[m->nerrors++];
		double n;
		if (csv_number(&c, r, cols[3], 0, &n, err, cap) < 0)
			goto fail;
		snprintf(e->method, sizeof e->method, "%s", c.rows[r].f[cols[0]]);
		snprintf(e->name, sizeof e->name, "%s", c.rows[r].f[cols[1]]);
		snprintf(e->error, sizeof e->error, "%s", c.rows[r].f[cols[2]]);
		e->occurrences = (uint64_t)n;
	}
	csv_free(&c);
	return 0;
fail:
	csv_free(&c);
	return -1;
}

/*
 * console.txt ends with the load generator's final tables, printed after the
 * last request; Locust's stats.csv may be a second older. When the console's
 * Aggregated rows counted more, they are the truth (the console rounds avg, min
 * and max to whole ms).
 */
static void read_console(struct measured *m, const char *path)
{
	char line[1024];
	unsigned long long reqs = 0, fails = 0, pct_reqs = 0;
	double pct_fail, avg, min, max, med, rps, fps;
	long pct[LOCUST_NPCT];
	int have_stats = 0, have_pct = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return; /* optional */
	while (fgets(line, sizeof line, f)) {
		unsigned long long r, fl, pr;
		long p[LOCUST_NPCT];
		if (sscanf(line, " Aggregated %llu %llu(%lf%%) | %lf %lf %lf %lf | %lf %lf", &r, &fl,
			   &pct_fail, &avg, &min, &max, &med, &rps, &fps) == 9) {
			reqs = r;
			fails = fl;
			have_stats = 1;
		} else if (sscanf(line, " Aggregated %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %llu",
				  &p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &p[6], &p[7], &p[8],
				  &p[9], &p[10], &pr) == 12) {
			memcpy(pct, p, sizeof pct);
			pct_reqs = pr;
			have_pct = 1;
		}
	}
	fclose(f);
	if (!have_stats || reqs <= m->row.reqs)
		return;
	struct locust_row *row = &m->row;
	m->from_console = 1;
	m->from_history = 0;
	row->reqs = reqs;
	row->fails = fails;
	row->sum_ms = avg * (double)reqs;
	row->min_ms = min;
	row->max_ms = max;
	row->median = med;
	row->rps = rps;
	row->fps = fps;
	if (have_pct && pct_reqs == reqs)
		memcpy(row->pct, pct, sizeof pct);
}

/* A count of load.json's top level: a non-negative integer, else -1. */
static long json_count(const cJSON *doc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble))
		return -1;
	return (long)v->valuedouble;
}

/* load.json is bin/load's own; only two figures Locust's CSVs lack are read. */
static int read_json(struct measured *m, const char *path, char *err, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *doc = NULL;
	int rc = -1;

	m->sent = m->unfinished = -1;
	if (!(text = csv_read_file(path, &len))) {
		if (errno == ENOENT)
			return 0; /* optional: real Locust writes none */
		snprintf(err, cap, "%s: read: %s", path, strerror(errno));
		return -1;
	}
	if (!(doc = cJSON_ParseWithLength(text, len))) {
		/* cJSON says where it stopped; a line number is what an editor wants */
		const char *at = cJSON_GetErrorPtr();
		int line = 1;
		for (const char *p = text; at && p < at && p < text + len; p++)
			line += *p == '\n';
		snprintf(err, cap, "%s:%d: not JSON (truncated, or not bin/load's)", path, line);
		goto done;
	}
	m->sent = json_count(doc, "sent");
	m->unfinished = json_count(doc, "unfinished");
	/* present but without them: not bin/load's, not to be guessed around */
	if (m->sent < 0 || m->unfinished < 0) {
		snprintf(err, cap, "%s:1: no \"sent\" and \"unfinished\" counts (not bin/load's "
			 "JSON)", path);
		goto done;
	}
	rc = 0;
done:
	cJSON_Delete(doc);
	free(text);
	return rc;
}

/* The server's own view of time from its /metrics scrape: the evented timers'
 * mean lateness. Optional: a missing or failed scrape leaves -1. */
static void read_metrics(struct scenario *s, const char *path)
{
	char line[512];
	double sum = -1, n = -1, v;
	FILE *f = fopen(path, "r");

	s->lateness_ms = -1;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "evented_timer_lateness_seconds_sum %lf", &v) == 1)
			sum = v;
		else if (sscanf(line, "evented_timer_lateness_seconds_count %lf", &v) == 1)
			n = v;
	}
	fclose(f);
	if (sum >= 0 && n > 0)
		s->lateness_ms = sum / n * 1e3;
}

/* --- the folder ----------------------------------------------------------- */

/* WAVE_MS (optional): a list of offsets per worker process of the split. */
static int load_wave(const struct env *e, struct scenario *s, char *err, size_t cap)
{
	static struct model_scenario sc; /* large: kept off the stack */
	int line = 0, n, want = s->nsplit > 1 ? s->nsplit : 1;
	const char *v = env_get(e, "WAVE_MS", &line);

	s->nwave_procs = s->nwave = 0;
	if (!v)
		return 0;
	if ((n = model_wave_parse(v, &sc)) < 0) {
		snprintf(err, cap, "%s:%d: WAVE_MS: expected per worker process 2 to %d offsets "
			 "in ms, rising, as A,B,.../C,D,..., as many each, found \"%s\"", e->path,
			 line, MODEL_WAVE_POINTS, v);
		return -1;
	}
	if (n != want) {
		snprintf(err, cap, "%s:%d: WAVE_MS: %d list%s for %d worker process%s (SPLIT)",
			 e->path, line, n, n == 1 ? "" : "s", want, want == 1 ? "" : "es");
		return -1;
	}
	memcpy(s->wave_ms, sc.wave_ms, sizeof s->wave_ms);
	s->nwave_procs = n;
	s->nwave = sc.nwave;
	return 0;
}

/* GC_PAUSES_PER_S (one rate per worker process of the split) and GC_PAUSE_MS,
 * both or neither. */
static int load_stalls(const struct env *e, struct scenario *s, char *err, size_t cap)
{
	static struct model_scenario sc; /* large: kept off the stack */
	int line = 0, ms_line = 0, n, want = s->nsplit > 1 ? s->nsplit : 1;
	const char *rate = env_get(e, "GC_PAUSES_PER_S", &line);
	const char *ms = env_get(e, "GC_PAUSE_MS", &ms_line);

	s->nstall_procs = s->nstall = 0;
	if (!rate && !ms)
		return 0;
	if (!rate || !ms) {
		snprintf(err, cap, "%s:%d: %s without %s", e->path, rate ? line : ms_line,
			 rate ? "GC_PAUSES_PER_S" : "GC_PAUSE_MS",
			 rate ? "GC_PAUSE_MS" : "GC_PAUSES_PER_S");
		return -1;
	}
	if ((n = model_stall_rate_parse(rate, &sc)) < 0 || n != want) {
		snprintf(err, cap, "%s:%d: GC_PAUSES_PER_S: expected pauses a second for each of "
			 "%d worker process%s (SPLIT) as A,B,..., found \"%s\"", e->path, line, want,
			 want == 1 ? "" : "es", rate);
		return -1;
	}
	if (model_stall_ms_parse(ms, &sc) < 0) {
		snprintf(err, cap, "%s:%d: GC_PAUSE_MS: expected 2 to %d lengths in ms, rising, "
			 "found \"%s\"", e->path, ms_line, MODEL_WAVE_POINTS, ms);
		return -1;
	}
	memcpy(s->stall_per_s, sc.stall_per_s, sizeof s->stall_per_s);
	memcpy(s->stall_ms, sc.stall_ms, sizeof s->stall_ms);
	s->nstall_procs = n;
	s->nstall = sc.nstall;
	return 0;
}

/* TARGET, SPLIT, ORDER, SERVER_CPU_MS, KEEPALIVE_MS and what goes with them,
 * each optional. */
static int load_measured(const struct env *e, struct scenario *s, char *err, size_t cap)
{
	struct model_scenario sc = { .users = s->users };
	int line = 0;
	const char *v;

	env_copy(e, "TARGET", s->target, sizeof s->target);
	if (s->target[0] && strcmp(s->target, "c") != 0 && strcmp(s->target, "fastapi") != 0) {
		env_get(e, "TARGET", &line);
		snprintf(err, cap, "%s:%d: TARGET: expected c or fastapi, found \"%s\"", e->path,
			 line, s->target);
		return -1;
	}
	if ((v = env_get(e, "SPLIT", &line))) {
		long sum = 0;
		if (model_split_parse(v, &sc) < 0) {
			snprintf(err, cap, "%s:%d: SPLIT: expected users per worker process as "
				 "A,B,..., found \"%s\"", e->path, line, v);
			return -1;
		}
		for (int i = 0; i < sc.nsplit; i++)
			sum += sc.split[i];
		if (sum != s->users) {
			snprintf(err, cap, "%s:%d: SPLIT: the processes' users sum to %ld, not "
				 "USERS=%d", e->path, line, sum, s->users);
			return -1;
		}
		memcpy(s->split, sc.split, sizeof s->split);
		s->nsplit = sc.nsplit;
	}
	if ((v = env_get(e, "ORDER", &line))) {
		if (model_order_parse(v, &s->order) < 0) {
			snprintf(err, cap, "%s:%d: ORDER: expected fifo, lifo or random, found \"%s\"",
				 e->path, line, v);
			return -1;
		}
		s->order_measured = 1;
	}
	if (env_number(e, "KEEPALIVE_MS", -1, &s->keepalive_ms, err, cap) < 0 ||
	    env_number(e, "KEEPALIVE_FIRST_MS", -1, &s->keepalive_first_ms, err, cap) < 0 ||
	    load_wave(e, s, err, cap) < 0 || load_stalls(e, s, err, cap) < 0)
		return -1;
	if (env_number(e, "SERVER_CPU_HELD_MS", -1, &s->held_cpu_ms, err, cap) < 0)
		return -1;
	return env_number(e, "SERVER_CPU_MS", -1, &s->server_cpu_ms, err, cap) < 0 ? -1 : 0;
}

/* BACKEND (sleep or postgres, optional); with postgres POOL (required),
 * QUERY_RTT_MS, MAX_CONNECTIONS, PG_CPU_MS, PG_CPU_BUSY_MS and PG_BUSY
 * (optional, 0), PG_BUSY_OTHERS, PG_CPU_LOADED_MS, PG_QUERY_MS and
 * PG_QUERY_SEEN_MS (optional, -1). The model takes
 * PG_CPU_BUSY_MS where the run measured it: PostgreSQL's CPU per query at the
 * load's own number of backends, which PG_CPU_MS's 8 connections cannot show
 * (docs/POSTGRES.md). A sleep run keeps pool 0. */
static int load_backend(const struct env *e, struct scenario *s, char *err, size_t cap)
{
	int line = 0;
	const char *backend = env_get(e, "BACKEND", &line);
	double v, busy_ms;

	s->pg_busy_others = s->pg_cpu_loaded_ms = s->pg_query_ms = s->pg_query_seen_ms = -1;
	if (!backend || strcmp(backend, "sleep") == 0)
		return 0;
	if (strcmp(backend, "postgres") != 0) {
		snprintf(err, cap, "%s:%d: BACKEND: expected sleep or postgres, found \"%s\"",
			 e->path, line, backend);
		return -1;
	}
	if (env_number(e, "POOL", NAN, &v, err, cap) < 0)
		return -1;
	s->pool = (int)v;
	if (env_number(e, "QUERY_RTT_MS", 0, &s->query_ms, err, cap) < 0 ||
	    env_number(e, "PG_CPU_MS", 0, &s->pg_cpu_calibrated_ms, err, cap) < 0 ||
	    env_number(e, "PG_CPU_BUSY_MS", 0, &busy_ms, err, cap) < 0 ||
	    env_number(e, "MAX_CONNECTIONS", 0, &v, err, cap) < 0)
		return -1;
	s->max_connections = (int)v;
	if (env_number(e, "PG_BUSY", 0, &v, err, cap) < 0)
		return -1;
	s->pg_busy = (int)v;
	if (env_number(e, "PG_BUSY_OTHERS", -1, &s->pg_busy_others, err, cap) < 0 ||
	    env_number(e, "PG_CPU_LOADED_MS", -1, &s->pg_cpu_loaded_ms, err, cap) < 0 ||
	    env_number(e, "PG_QUERY_MS", -1, &s->pg_query_ms, err, cap) < 0 ||
	    env_number(e, "PG_QUERY_SEEN_MS", -1, &s->pg_query_seen_ms, err, cap) < 0)
		return -1;
	s->pg_cpu_ms = busy_ms > 0 ? busy_ms : s->pg_cpu_calibrated_ms;
	return 0;
}

static int load_scenario(struct scenario *s, char *err, size_t cap)
{
	char path[1100];
	struct env e;
	double v;
	int line = 0;

	snprintf(path, sizeof path, "%s/scenario.env", s->dir);
	if (env_load(&e, path, err, cap) < 0)
		return -1;
	const char *cls = env_get(&e, "CLASS", &line);
	if (!cls) {
		snprintf(err, cap, "%s: missing CLASS=", path);
		return -1;
	}
	if (!(s->route = routes_find_class(cls))) {
		snprintf(err, cap, "%s:%d: unknown user class \"%s\"", path, line, cls);
		return -1;
	}
	env_copy(&e, "WORLD", s->world, sizeof s->world);
	if (env_number(&e, "USERS", NAN, &v, err, cap) < 0)
		return -1;
	s->users = (int)v;
	if (env_number(&e, "SPAWN_RATE", NAN, &s->spawn_rate, err, cap) < 0 ||
	    env_number(&e, "RUN_TIME_S", NAN, &s->run_time_s, err, cap) < 0 ||
	    env_number(&e, "TASK_MS", NAN, &s->task_ms, err, cap) < 0 ||
	    env_number(&e, "WAIT_MIN_S", 0, &s->wait_min_s, err, cap) < 0 ||
	    env_number(&e, "WAIT_MAX_S", s->wait_min_s, &s->wait_max_s, err, cap) < 0)
		return -1;
	if (env_number(&e, "THREADS", 80, &v, err, cap) < 0)
		return -1;
	s->threads = (int)v;
	if (env_number(&e, "HELPERS", 3.0 * s->threads, &v, err, cap) < 0)
		return -1;
	s->helpers = (int)v;
	if (env_number(&e, "WORKERS", 2, &v, err, cap) < 0)
		return -1;
	s->workers = (int)v;
	if (env_number(&e, "SWEEP", 0, &v, err, cap) < 0)
		return -1;
	s->sweep = v != 0;
	if (env_number(&e, "CORES", 2, &v, err, cap) < 0)
		return -1;
	s->cores = (int)v;
	if (env_number(&e, "OFFLOAD_THREADS", 2, &v, err, cap) < 0)
		return -1;
	s->offload_threads = (int)v;
	if (env_number(&e, "TASK_CPU_MS", ROUTE_DEFAULT_TASK_CPU_MS, &s->task_cpu_ms, err, cap) < 0 ||
	    env_number(&e, "LOAD_CPU_S", -1, &s->load_cpu_s, err, cap) < 0 ||
	    env_number(&e, "SERVER_RSS_KB", -1, &s->rss_kb, err, cap) < 0 ||
	    env_number(&e, "SERVER_THREADS", -1, &s->server_threads, err, cap) < 0)
		return -1;
	double other, window;
	if (env_number(&e, "OTHER_CPU_S", -1, &other, err, cap) < 0 ||
	    env_number(&e, "WINDOW_S", -1, &window, err, cap) < 0)
		return -1;
	/* what the rest of the machine left the server; at least a tenth of a core */
	s->cores_free = other >= 0 && window > 0 ? fmax(0.1, s->cores - other / window) : -1;
	if (s->users < 1) {
		snprintf(err, cap, "%s: USERS must be at least 1", path);
		return -1;
	}
	if (load_measured(&e, s, err, cap) < 0 || load_backend(&e, s, err, cap) < 0)
		return -1;

	snprintf(path, sizeof path, "%s/load_stats.csv", s->dir);
	if (read_stats(&s->m, path, err, cap) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/load_stats_history.csv", s->dir);
	if (read_history(&s->m, path, s->run_time_s, err, cap) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/load_failures.csv", s->dir);
	if (read_failures(&s->m, path, err, cap) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/console.txt", s->dir);
	read_console(&s->m, path);
	snprintf(path, sizeof path, "%s/metrics.txt", s->dir);
	read_metrics(s, path);
	snprintf(path, sizeof path, "%s/load.json", s->dir);
	return read_json(&s->m, path, err, cap);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct scenario *)a)->name, ((const struct scenario *)b)->name);
}

int run_dir_load(struct run_dir *rd, const char *path, char *err, size_t cap)
{
	char file[1024];
	struct env e;
	DIR *d;
	struct dirent *de;

	memset(rd, 0, sizeof *rd);
	snprintf(rd->path, sizeof rd->path, "%s", path);
	snprintf(file, sizeof file, "%s/run.env", path);
	if (env_load(&e, file, err, cap) < 0)
		return -1;
	env_copy(&e, "PROFILE", rd->profile, sizeof rd->profile);
	env_copy(&e, "LOAD", rd->load, sizeof rd->load);
	env_copy(&e, "CPUS", rd->cpus, sizeof rd->cpus);
	env_copy(&e, "KERNEL", rd->kernel, sizeof rd->kernel);
	env_copy(&e, "STARTED", rd->started, sizeof rd->started);
	env_copy(&e, "GIT", rd->git, sizeof rd->git);
	env_copy(&e, "BACKEND", rd->backend, sizeof rd->backend);
	env_copy(&e, "PG_VERSION", rd->pg_version, sizeof rd->pg_version);
	env_copy(&e, "MAX_CONNECTIONS", rd->max_connections, sizeof rd->max_connections);
	env_copy(&e, "PG_CPU_GROUP", rd->pg_cpu_group, sizeof rd->pg_cpu_group);

	if (!(d = opendir(path))) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		const char *n = de->d_name;
		if (!(n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' && n[2] == '-'))
			continue;
		snprintf(file, sizeof file, "%s/%s", path, n);
		if (stat(file, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (rd->n == RUN_DIR_MAX_SCENARIOS) {
			snprintf(err, cap, "%s: more than %d scenario folders", path,
				 RUN_DIR_MAX_SCENARIOS);
			closedir(d);
			goto fail;
		}
		struct scenario *s = &rd->sc[rd->n++];
		snprintf(s->name, sizeof s->name, "%s", n);
		snprintf(s->dir, sizeof s->dir, "%s", file);
	}
	closedir(d);
	if (rd->n == 0) {
		snprintf(err, cap, "%s: no scenario folders (NN-NAME/)", path);
		return -1;
	}
	qsort(rd->sc, rd->n, sizeof rd->sc[0], by_name);
	for (size_t i = 0; i < rd->n; i++) {
		if (load_scenario(&rd->sc[i], err, cap) < 0)
			goto fail;
		rd->sc[i].pg_cpu_group = !rd->pg_cpu_group[0]                 ? -1
					 : strcmp(rd->pg_cpu_group, "none") == 0 ? 0
										 : 1;
	}
	return 0;
fail:
	run_dir_free(rd);
	return -1;
}

void run_dir_free(struct run_dir *rd)
{
	for (size_t i = 0; i < rd->n; i++) {
		free(rd->sc[i].m.hist);
		free(rd->sc[i].m.errors);
		rd->sc[i].m.hist = NULL;
		rd->sc[i].m.errors = NULL;
	}
	rd->n = 0;
}
