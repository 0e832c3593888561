#include "output.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW 20 /* seconds of bucket snapshots: Locust's response-time cache */
#define SERIES_PCT_N 3

struct series_point {
	long t;
	uint64_t users;
	double rps, fps, p50, p95, p99;
};

struct output {
	struct output_opts o;
	int n;               /* entries: n_ep names, then the total at index n_ep */
	int *order;          /* ep indices sorted by name, as Locust's tables */
	FILE *history;
	char path[4096], tmp[4200];
	/* per entry, cumulative request and failure counts at each tick */
	uint64_t *cum_reqs, *cum_fails;
	long cap_t;          /* ticks the arrays hold */
	long last_t;         /* last tick written; -1 none */
	struct locust_buckets *ring; /* [entry * WINDOW + t % WINDOW] when full history */
	long ring_t[WINDOW];
	struct ep_stats *total;     /* the Aggregated entry, rebuilt each tick */
	struct histogram *prev_sec, *prev_progress, *diff;
	struct series_point *series;
	long n_series, cap_series;
};

static const char *const json_pct_key[LOCUST_NPCT - 1] = {
	"p50", "p66", "p75", "p80", "p90", "p95", "p98", "p99", "p99.9", "p99.99",
};
static const double json_pct[LOCUST_NPCT - 1] = {
	50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99,
};

static const struct output *sort_ctx;

static int by_name(const void *a, const void *b)
{
	const struct load_config *c = sort_ctx->o.cfg;
	return strcmp(c->ep[*(const int *)a].name, c->ep[*(const int *)b].name);
}

static FILE *open_csv(struct output *out, const char *suffix, const char *mode)
{
	FILE *f;
	snprintf(out->path, sizeof out->path, "%s%s", out->o.csv_prefix, suffix);
	f = fopen(out->path, mode);
	if (f == NULL)
		fprintf(stderr, "bin/load: open %s: %s\n", out->path, strerror(errno));
	return f;
}

/* Frees what output_open allocated and what the run grew; NULL is a no-op. */
static void output_free(struct output *out)
{
	if (out == NULL)
		return;
	free(out->order);
	free(out->total);
	free(out->prev_sec);
	free(out->prev_progress);
	free(out->diff);
	free(out->ring);
	free(out->cum_reqs);
	free(out->cum_fails);
	free(out->series);
	free(out);
}

struct output *output_open(const struct output_opts *o)
{
	struct output *out = calloc(1, sizeof *out);
	FILE *f;

	if (out == NULL)
		goto oom;
	out->o = *o;
	out->n = o->cfg->n_ep + 1;
	out->last_t = -1;
	out->order = calloc((size_t)o->cfg->n_ep, sizeof *out->order);
	out->total = calloc(1, sizeof *out->total);
	out->prev_sec = calloc(1, sizeof *out->prev_sec);
	out->prev_progress = calloc(1, sizeof *out->prev_progress);
	out->diff = calloc(1, sizeof *out->diff);
	if (!out->order || !out->total || !out->prev_sec || !out->prev_progress || !out->diff)
		goto oom;
	for (int i = 0; i < o->cfg->n_ep; i++)
		out->order[i] = i;
	sort_ctx = out;
	qsort(out->order, (size_t)o->cfg->n_ep, sizeof *out->order, by_name);
	if (o->full_history) {
		out->ring = calloc((size_t)out->n * WINDOW, sizeof *out->ring);
		if (out->ring == NULL)
			goto oom;
		for (int i = 0; i < WINDOW; i++)
			out->ring_t[i] = -1;
	}
	if (o->csv_prefix != NULL) {
		/* every file exists with its header from the start, as Locust's */
		if ((f = open_csv(out, "_stats.csv", "w")) == NULL)
			goto fail;
		locust_csv_stats_header(f);
		fclose(f);
		if ((f = open_csv(out, "_failures.csv", "w")) == NULL)
			goto fail;
		locust_csv_failures_header(f);
		fclose(f);
		if ((f = open_csv(out, "_exceptions.csv", "w")) == NULL)
			goto fail;
		locust_csv_exceptions_header(f);
		fclose(f);
		if ((out->history = open_csv(out, "_stats_history.csv", "w")) == NULL)
			goto fail;
		locust_csv_history_header(out->history);
		fflush(out->history);
	}
	return out;
oom:
	fprintf(stderr, "bin/load: calloc: %s\n", strerror(errno));
fail:
	output_free(out);
	return NULL;
}

/* ----------------------------------------------------------------- rows */

static const struct ep_stats *entry(const struct output *out, const struct run_stats *s, int i)
{
	return i < out->o.cfg->n_ep ? &s->ep[i] : out->total;
}

static void build_total(struct output *out, const struct run_stats *s)
{
	memset(out->total, 0, sizeof *out->total);
	for (int i = 0; i < s->n_ep; i++)
		ep_stats_merge(out->total, &s->ep[i]);
}

static double elapsed_to_last(const struct output *out, const struct run_stats *s)
{
	return s->last_ns ? (double)(s->last_ns - out->o.start_ns) / 1e9 : 0.0;
}

static void make_row(struct locust_row *r, const struct output *out, const struct run_stats *s, int i)
{
	const struct ep_stats *e = entry(out, s, i);
	double el = elapsed_to_last(out, s);
	memset(r, 0, sizeof *r);
	if (i < out->o.cfg->n_ep) {
		strcpy(r->method, "GET");
		snprintf(r->name, sizeof r->name, "%s", out->o.cfg->ep[i].name);
	} else {
		strcpy(r->name, "Aggregated");
	}
	r->reqs = e->reqs;
	r->fails = e->fails;
	r->sum_ms = e->sum_ms;
	r->min_ms = e->min_ms;
	r->max_ms = e->max_ms;
	r->content_bytes = e->content_bytes;
	r->rps = el > 0 ? (double)e->reqs / el : 0.0;
	r->fps = el > 0 ? (double)e->fails / el : 0.0;
	locust_row_fill(r, &e->lb);
}

static void make_errors(struct locust_error *errs, const struct output *out, const struct run_stats *s)
{
	for (int i = 0; i < s->n_err; i++) {
		strcpy(errs[i].method, "GET");
		snprintf(errs[i].name, sizeof errs[i].name, "%s", out->o.cfg->ep[s->err[i].ep].name);
		snprintf(errs[i].error, sizeof errs[i].error, "%s", s->err[i].text);
		errs[i].occurrences = s->err[i].n;
	}
}

/* Writes a file whole under a temporary name, then renames it over the old one,
 * so a reader never sees half a file. */
static void rewrite_csv(struct output *out, const struct run_stats *s, int failures)
{
	FILE *f;
	snprintf(out->path, sizeof out->path, "%s%s", out->o.csv_prefix,
		 failures ? "_failures.csv" : "_stats.csv");
	snprintf(out->tmp, sizeof out->tmp, "%s.tmp", out->path);
	f = fopen(out->tmp, "w");
	if (f == NULL)
		return;
	if (failures) {
		struct locust_error errs[RUNNER_MAX_ERRORS];
		make_errors(errs, out, s);
		locust_errors_sort(errs, (size_t)s->n_err); /* Locust's order; the console keeps first-seen */
		locust_csv_failures_header(f);
		for (int i = 0; i < s->n_err; i++)
			locust_csv_failures_row(f, &errs[i]);
	} else {
		struct locust_row r;
		locust_csv_stats_header(f);
		for (int k = 0; k < out->o.cfg->n_ep; k++) {
			make_row(&r, out, s, out->order[k]);
			locust_csv_stats_row(f, &r);
		}
		make_row(&r, out, s, out->n - 1);
		locust_csv_stats_row(f, &r);
	}
	if (fclose(f) == 0)
		rename(out->tmp, out->path);
}

/* ---------------------------------------------------------------- ticks */

static int grow(struct output *out, long t)
{
	long cap = out->cap_t;
	if (t < cap)
		return 0;
	while (cap <= t)
		cap = cap ? cap * 2 : 64;
	uint64_t *a = realloc(out->cum_reqs, (size_t)(cap * out->n) * sizeof *a);
	if (a == NULL)
		return -1;
	out->cum_reqs = a;
	uint64_t *b = realloc(out->cum_fails, (size_t)(cap * out->n) * sizeof *b);
	if (b == NULL)
		return -1;
	out->cum_fails = b;
	out->cap_t = cap;
	return 0;
}

/* Locust's current rate: the mean per-second count over the window from 12 s to
 * 3 s before now (seconds since the start only). */
static double current_rate(const struct output *out, const uint64_t *cum, int i, long t)
{
	long lo = t - 11 < 1 ? 1 : t - 11, n = 0;
	uint64_t sum = 0;
	for (long sec = lo; sec <= t - 2; sec++, n++)
		sum += cum[sec * out->n + i] - cum[(sec - 1) * out->n + i];
	return n ? (double)sum / (double)n : 0.0;
}

/* Locust's windowed percentiles: against the bucket snapshot from about 10 s ago. */
static void window_pct(struct output *out, int i, long t, const struct locust_buckets *now,
		       long pct[LOCUST_NPCT])
{
	static struct locust_buckets diff;
	const struct locust_buckets *then = NULL;
	for (int k = 0; k <= 8 && then == NULL; k++) {
		long cand[2] = { t - 10 - k, t - 10 + k };
		for (int j = 0; j < (k ? 2 : 1); j++) {
			long c = cand[j];
			if (c >= 0 && out->ring_t[c % WINDOW] == c) {
				then = &out->ring[(size_t)i * WINDOW + (size_t)(c % WINDOW)];
				break;
			}
		}
	}
	for (int k = 0; k < LOCUST_NPCT; k++)
		pct[k] = 0;
	if (then == NULL)
		return;
	locust_buckets_diff(&diff, now, then);
	for (int k = 0; k < LOCUST_NPCT; k++)
		pct[k] = locust_buckets_percentile(&diff, locust_pct[k]);
}

static void progress(struct output *out, const struct run_stats *s, long t)
{
	const struct load_config *c = out->o.cfg;
	uint64_t reqs = out->total->reqs, fails = out->total->fails;
	long back = t >= 2 ? t - 2 : 0;
	double rps = t > back ? (double)(reqs - out->cum_reqs[back * out->n + out->n - 1]) / (double)(t - back) : 0;
	char total[32] = "";
	histogram_diff(out->diff, &out->total->lat, out->prev_progress);
	if (c->run_time_s > 0)
		snprintf(total, sizeof total, "/%.0fs", c->run_time_s);
	fprintf(stderr, "bin/load: %4lds%s users %llu/%ld  %.1f req/s  failures %llu (%.2f%%)"
		"  p50 %.1f ms  p99 %.1f ms  sent %llu\n",
		t, total, (unsigned long long)s->users, c->users, rps,
		(unsigned long long)fails, reqs ? 100.0 * (double)fails / (double)reqs : 0.0,
		(double)histogram_percentile(out->diff, 50) / 1000.0,
		(double)histogram_percentile(out->diff, 99) / 1000.0, (unsigned long long)s->sent);
	*out->prev_progress = out->total->lat;
}

void output_tick(struct output *out, const struct run_stats *s, long t)
{
	long now_unix = (long)time(NULL);
	struct locust_row r;
	long pct[LOCUST_NPCT];

	if (t <= out->last_t || grow(out, t) < 0)
		return;
	build_total(out, s);
	/* ticks skipped (a slow machine) repeat the last counts */
	for (long k = out->last_t + 1; k <= t; k++)
		for (int i = 0; i < out->n; i++) {
			out->cum_reqs[k * out->n + i] = entry(out, s, i)->reqs;
			out->cum_fails[k * out->n + i] = entry(out, s, i)->fails;
		}
	if (out->ring != NULL) {
		for (int i = 0; i < out->n; i++)
			out->ring[(size_t)i * WINDOW + (size_t)(t % WINDOW)] = entry(out, s, i)->lb;
		out->ring_t[t % WINDOW] = t;
	}
	if (t > 0) {
		struct series_point p = { .t = t, .users = s->users };
		long prev = out->last_t < 0 ? 0 : out->last_t;
		double secs = (double)(t - prev);
		if (out->n_series == out->cap_series) {
			long cap = out->cap_series ? out->cap_series * 2 : 64;
			struct series_point *sp = realloc(out->series, (size_t)cap * sizeof *sp);
			if (sp != NULL) {
				out->series = sp;
				out->cap_series = cap;
			}
		}
		histogram_diff(out->diff, &out->total->lat, out->prev_sec);
		p.rps = (double)(out->total->reqs - out->cum_reqs[prev * out->n + out->n - 1]) / secs;
		p.fps = (double)(out->total->fails - out->cum_fails[prev * out->n + out->n - 1]) / secs;
		p.p50 = (double)histogram_percentile(out->diff, 50) / 1000.0;
		p.p95 = (double)histogram_percentile(out->diff, 95) / 1000.0;
		p.p99 = (double)histogram_percentile(out->diff, 99) / 1000.0;
		if (out->n_series < out->cap_series)
			out->series[out->n_series++] = p;
		*out->prev_sec = out->total->lat;
	}
	if (out->o.csv_prefix != NULL) {
		rewrite_csv(out, s, 0);
		rewrite_csv(out, s, 1);
		for (int k = 0; k < out->n; k++) {
			int i;
			if (k < out->n - 1 && !out->o.full_history)
				continue;
			i = k < out->n - 1 ? out->order[k] : out->n - 1;
			make_row(&r, out, s, i);
			if (out->o.full_history)
				window_pct(out, i, t, &entry(out, s, i)->lb, pct);
			else
				memcpy(pct, r.pct, sizeof pct);
			locust_csv_history_row(out->history, now_unix, (long)s->users, &r,
					       current_rate(out, out->cum_reqs, i, t),
					       current_rate(out, out->cum_fails, i, t), pct);
		}
		fflush(out->history);
	}
	if (t > 0 && t % 2 == 0)
		progress(out, s, t);
	out->last_t = t;
}

/* ----------------------------------------------------------------- JSON */

/* Numbers go in as raw text: floats in Python's repr (what Locust writes),
 * counts as exact 64-bit integers (cJSON's own numbers are doubles). */
static cJSON *json_float(double x)
{
	char buf[40];
	locust_repr_float(buf, sizeof buf, x);
	return cJSON_CreateRaw(buf);
}

static cJSON *json_count(uint64_t n)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)n);
	return cJSON_CreateRaw(buf);
}

/* cJSON_AddItemToObject takes a NULL item as a failure and leaves it to the
 * caller, so each add records it once and the document is checked at the end. */
static void add(cJSON *obj, const char *key, cJSON *item, int *ok)
{
	if (!item || !cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		*ok = 0;
	}
}

static void push(cJSON *arr, cJSON *item, int *ok)
{
	if (!item || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		*ok = 0;
	}
}

static cJSON *json_hist(const struct histogram *h, int *ok)
{
	cJSON *o = cJSON_CreateObject();
	if (!o) {
		*ok = 0;
		return NULL;
	}
	add(o, "min", json_count(h->total ? h->min : 0), ok);
	add(o, "mean", json_float(histogram_mean(h)), ok);
	for (int i = 0; i < LOCUST_NPCT - 1; i++)
		add(o, json_pct_key[i], json_count(histogram_percentile(h, json_pct[i])), ok);
	add(o, "max", json_count(h->max), ok);
	return o;
}

/* One endpoint's (or the total's) counts and histograms into obj. */
static void json_entry(cJSON *obj, const struct ep_stats *e, int open, int *ok)
{
	add(obj, "requests", json_count(e->reqs), ok);
	add(obj, "failures", json_count(e->fails), ok);
	add(obj, "latency_us", json_hist(&e->lat, ok), ok);
	if (open)
		add(obj, "service_us", json_hist(&e->svc, ok), ok);
}

static cJSON *json_params(const struct output *out, int open, int *ok)
{
	const struct load_config *c = out->o.cfg;
	cJSON *p = cJSON_CreateObject(), *classes = cJSON_CreateArray();
	if (!p)
		*ok = 0;
	add(p, "users", json_count((uint64_t)c->users), ok);
	add(p, "spawn_rate", json_float(c->spawn_rate), ok);
	add(p, "run_time_s", json_float(c->run_time_s), ok);
	add(p, "host", cJSON_CreateString(c->url_base), ok);
	for (int i = 0; classes && i < out->o.n_classes; i++)
		push(classes, cJSON_CreateString(out->o.classes[i]), ok);
	add(p, "classes", classes, ok);
	add(p, "wait_min_s", json_float(c->wait_min_s), ok);
	add(p, "wait_max_s", json_float(c->wait_max_s), ok);
	add(p, "rate", open ? json_float(c->rate) : cJSON_CreateNull(), ok);
	add(p, "threads", json_count((uint64_t)c->threads), ok);
	add(p, "timeout_s", c->timeout_s > 0 ? json_float(c->timeout_s) : cJSON_CreateNull(), ok);
	return p;
}

static cJSON *json_series(const struct output *out, int *ok)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		*ok = 0;
	for (long i = 0; arr && i < out->n_series; i++) {
		const struct series_point *p = &out->series[i];
		cJSON *o = cJSON_CreateObject();
		if (o) {
			add(o, "t", json_count((uint64_t)p->t), ok);
			add(o, "users", json_count(p->users), ok);
			add(o, "rps", json_float(p->rps), ok);
			add(o, "fps", json_float(p->fps), ok);
			add(o, "p50_ms", json_float(p->p50), ok);
			add(o, "p95_ms", json_float(p->p95), ok);
			add(o, "p99_ms", json_float(p->p99), ok);
		}
		push(arr, o, ok);
	}
	return arr;
}

/* load.json: the run as one document (params, totals, per name, errors, the
 * per-second series), built with Debian's cJSON. */
static int write_json(struct output *out, const struct run_stats *s, double duration)
{
	const struct load_config *c = out->o.cfg;
	const struct ep_stats *t = out->total;
	int open = c->rate > 0, ok = 1, rc = -1;
	cJSON *doc = cJSON_CreateObject(), *names = cJSON_CreateArray(), *errs = cJSON_CreateArray();
	char *text = NULL;
	FILE *f = NULL;

	if (!doc)
		ok = 0;
	add(doc, "tool", cJSON_CreateString("bin/load"), &ok);
	add(doc, "params", json_params(out, open, &ok), &ok);
	add(doc, "start_unix", json_count((uint64_t)out->o.wall_start), &ok);
	add(doc, "duration_s", json_float(duration), &ok);
	add(doc, "sent", json_count(s->sent), &ok);
	add(doc, "requests", json_count(t->reqs), &ok);
	add(doc, "failures", json_count(t->fails), &ok);
	add(doc, "unfinished", json_count(s->unfinished), &ok);
	add(doc, "rps", json_float(duration > 0 ? (double)t->reqs / duration : 0.0), &ok);
	if (open)
		add(doc, "late_at_stop", json_count(s->late), &ok);
	add(doc, "latency_us", json_hist(&t->lat, &ok), &ok);
	if (open)
		add(doc, "service_us", json_hist(&t->svc, &ok), &ok);
	for (int k = 0; names && k < c->n_ep; k++) {
		cJSON *o = cJSON_CreateObject();
		if (o) {
			add(o, "method", cJSON_CreateString("GET"), &ok);
			add(o, "name", cJSON_CreateString(c->ep[out->order[k]].name), &ok);
			json_entry(o, &s->ep[out->order[k]], open, &ok);
		}
		push(names, o, &ok);
	}
	add(doc, "by_name", names, &ok);
	for (int i = 0; errs && i < s->n_err; i++) {
		cJSON *o = cJSON_CreateObject();
		if (o) {
			add(o, "method", cJSON_CreateString("GET"), &ok);
			add(o, "name", cJSON_CreateString(c->ep[s->err[i].ep].name), &ok);
			add(o, "error", cJSON_CreateString(s->err[i].text), &ok);
			add(o, "occurrences", json_count(s->err[i].n), &ok);
		}
		push(errs, o, &ok);
	}
	add(doc, "errors", errs, &ok);
	add(doc, "series", json_series(out, &ok), &ok);
	if (!ok || !(text = cJSON_PrintUnformatted(doc))) {
		fprintf(stderr, "bin/load: %s: building the JSON document: out of memory\n",
			out->o.json_path);
		goto done;
	}
	if (!(f = fopen(out->o.json_path, "w"))) {
		fprintf(stderr, "bin/load: open %s: %s\n", out->o.json_path, strerror(errno));
		goto done;
	}
	if (fputs(text, f) < 0 || fputc('\n', f) == EOF) {
		fprintf(stderr, "bin/load: write %s: %s\n", out->o.json_path, strerror(errno));
		fclose(f);
		goto done;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "bin/load: write %s: %s\n", out->o.json_path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	free(text);
	cJSON_Delete(doc);
	return rc;
}

int output_finish(struct output *out, const struct run_stats *s, int64_t end_ns)
{
	struct locust_row rows[RUNNER_MAX_ENDPOINTS], total;
	struct locust_error errs[RUNNER_MAX_ERRORS];
	double duration = (double)(end_ns - out->o.start_ns) / 1e9;
	int rc = 0, n = out->o.cfg->n_ep;

	build_total(out, s);
	if (out->o.csv_prefix != NULL) {
		rewrite_csv(out, s, 0);
		rewrite_csv(out, s, 1);
		if (fclose(out->history) != 0) {
			fprintf(stderr, "bin/load: write %s_stats_history.csv: %s\n",
				out->o.csv_prefix, strerror(errno));
			rc = -1;
		}
	}
	fprintf(stderr, "bin/load: sent %llu = answered %llu + failed %llu + unfinished at stop %llu\n",
		(unsigned long long)s->sent,
		(unsigned long long)(out->total->reqs - out->total->fails),
		(unsigned long long)out->total->fails, (unsigned long long)s->unfinished);
	if (out->o.cfg->rate > 0)
		fprintf(stderr, "bin/load: open model: %llu more requests were due but found no free "
			"connection (raise -u)\n", (unsigned long long)s->late);
	for (int k = 0; k < n; k++)
		make_row(&rows[k], out, s, out->order[k]);
	make_row(&total, out, s, out->n - 1);
	make_errors(errs, out, s);
	locust_print_stats(stderr, rows, (size_t)n, &total);
	locust_print_percentiles(stderr, rows, (size_t)n, &total);
	locust_print_errors(stderr, errs, (size_t)s->n_err);
	if (out->o.json_path != NULL && write_json(out, s, duration) < 0)
		rc = -1;
	output_free(out);
	return rc;
}
