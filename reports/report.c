#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "charts.h"
#include "locust.h"
#include "prediction.h"
#include "run_dir.h"
#include "story.h"
#include "svg.h"

#define TOLERANCE 0.05 /* "a few percent": beyond it a figure is flagged */
#define SETTLED_TOLERANCE 0.03 /* the settled rate "as the model said": the count's goal (2%), and a little */
#define LOAD_FULL_CORE 0.8 /* generator CPU-seconds per second that mean "out of CPU" */
#define BUSY_MACHINE_CORES 0.5 /* others' cores beyond which a verdict says so */

enum { F_REQS, F_RPS, F_AVG, F_P50, F_P95, F_P99, F_MAX, F_N };
static const char *const figure_name[F_N] = { "reqs", "req/s", "avg", "p50", "p95", "p99", "max" };

struct comparison {
	double m[F_N], p[F_N], ratio[F_N]; /* ratio NAN when the prediction is 0 */
	int flagged[F_N], any;
	char verdict[1536];
	char story[900];
};

static void figures(const struct locust_row *r, double *v)
{
	v[F_REQS] = (double)r->reqs;
	v[F_RPS] = r->rps;
	v[F_AVG] = r->reqs ? r->sum_ms / (double)r->reqs : 0;
	v[F_P50] = (double)r->pct[0];
	v[F_P95] = (double)r->pct[5];
	v[F_P99] = (double)r->pct[7];
	v[F_MAX] = r->max_ms;
}

/* Cores the load generator kept busy over the run (LOAD_CPU_S / run time), or -1. */
static double load_cores(const struct scenario *s)
{
	return s->load_cpu_s >= 0 && s->run_time_s > 0 ? s->load_cpu_s / s->run_time_s : -1;
}

/* How much longer than the model each request took by the server's own clock
 * (/metrics), in ms, or -1 unknown: the evented timers' mean lateness on the
 * critical path (a loop too busy to accept, read or write is late with its
 * timers too). The blocking handlers' time is no such evidence: it starts
 * after the accept queue and the wait for a thread, where a busy server's
 * time goes, so it could acquit a server that was late. */
static double server_gap_ms(const struct scenario *s)
{
	const struct route *r = s->route;
	if (r->world == WORLD_EVENTED && s->lateness_ms >= 0 && r->plan != PLAN_BLOCKING_LOOP &&
	    r->cpu == CPU_NONE)
		return s->lateness_ms * route_critical_tasks(r, 0);
	return -1;
}

/* A server that serves its waiters newest first (ORDER=lifo, measured): the
 * table is the service order's, not the clock's. The users who kept cycling
 * are the only ones Locust counted; Little's law on the measured table says
 * how many that were. The tail beyond the model's is requests overtaken more
 * than once: without a measured wave (WAVE_MS) the simulation frees its
 * threads in step, the real ones do not. Returns the length written. */
static int lifo_verdict(const struct scenario *s, const struct prediction *p,
			struct comparison *c)
{
	double in_service = c->m[F_RPS] * c->m[F_AVG] / 1e3;
	int n = snprintf(c->verdict, sizeof c->verdict,
			 "the service order, not lateness: the server served waiting requests "
			 "newest first (lifo, as measured), so the users just answered went "
			 "straight back to the head of the line and the others waited past the "
			 "stop, never counted; by Little's law X R = %.0f of the %d users were "
			 "in service in the measured table (%ld had a request counted in the "
			 "model's run)", in_service, s->users, p->run.users_answered);
	if ((size_t)n < sizeof c->verdict && c->flagged[F_P95] && c->m[F_P95] > c->p[F_P95] &&
	    s->nwave_procs > 0)
		/* the model freed the threads at the measured wave: fewer overtaken */
		n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
			      "; the tail (p95 %.0f ms against %.0f) is requests overtaken by "
			      "newer ones more than once, more of them than in the model's run "
			      "with the waves measured", c->m[F_P95], c->p[F_P95]);
	else if ((size_t)n < sizeof c->verdict && c->flagged[F_P95] && c->m[F_P95] > c->p[F_P95])
		n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
			      "; the tail (p95 %.0f ms against %.0f) is requests overtaken by "
			      "newer ones more than once: the model's threads free in step, so "
			      "each cycling user waits one service, the real ones free out of step",
			      c->m[F_P95], c->p[F_P95]);
	return n;
}

/* OTHER_CPU_S counts every process but the server's: with a database, its
 * backends too, which work for the server. Said wherever that figure is. */
static const char *among_others(const struct scenario *s)
{
	return s->pool > 0 ? " (PostgreSQL's backends among them)" : "";
}

/* Whether the users run in step: all spawned in the first second and none
 * waiting between requests, so each round of N requests (and of their
 * queries) starts and ends together. */
static int in_step(const struct scenario *s)
{
	return s->wait_max_s <= 0 && s->spawn_rate >= s->users;
}

/* Appends to verdict (n of cap used) where a query's time went beyond its
 * sleep: inside PostgreSQL's executor (PG_QUERY_MS), then, where the server
 * timed its queries too (PG_QUERY_SEEN_MS), between the two (parsing and
 * planning, the wire, each side's wake-up and wait for a core; where the
 * database's CPU binds, mostly the last), set against `over`, the ms a
 * request took beyond the model, and, where users_bound and the users ran in
 * step, what the step does to the queries. Returns the new length. */
static int query_time_said(char *verdict, size_t n, size_t cap, const struct scenario *s,
			   double over, int users_bound)
{
	int k = route_critical_tasks(s->route, s->helpers);
	double late = s->pg_query_ms - s->task_ms;
	const char *rest = "outside PostgreSQL's timing (a backend waking to read its next "
			   "query, the loop's turn, the answer's way back)";

	n += (size_t)snprintf(verdict + n, cap - n, "; PostgreSQL timed each query at %.1f ms "
			      "(pg_stat_statements), %.1f ms over its %.0f ms sleep",
			      s->pg_query_ms, late, s->task_ms);
	if (s->pg_query_seen_ms > 0 && n < cap) {
		n += (size_t)snprintf(verdict + n, cap - n, "; the server saw each take %.1f ms "
				      "from sent to its row in, %.1f ms more (parsing and "
				      "planning, the wire both ways, each side's wake-up and "
				      "wait for a core)",
				      s->pg_query_seen_ms, s->pg_query_seen_ms - s->pg_query_ms);
		late = s->pg_query_seen_ms - s->task_ms;
		rest = "in the server, between a query's row and what it did next";
	}
	if (n < cap)
		n += (size_t)snprintf(verdict + n, cap - n, ", %.1f ms a request over the %d it "
				      "waits for in a row", k * late, k);
	if (over > 1 && over > k * late && n < cap)
		n += (size_t)snprintf(verdict + n, cap - n, ", of the %.1f ms a request took "
				      "beyond the model: the rest passed %s", over, rest);
	/* Measured (docs/POSTGRES.md): with the same users spread by a think time,
	 * the loops ahead of the backends on the cores, or the cluster one task
	 * to the scheduler (its CPU group), the queries ran on time. The model
	 * has one query's CPU queue behind another, not a round's wake-ups
	 * bunched again each time, with the loops behind every backend. */
	if (users_bound && in_step(s) && k * late > 3 && n < cap)
		n += (size_t)snprintf(verdict + n, cap - n, "; the %d users run in step "
				      "(spawned at once, no wait between requests), so each "
				      "round's queries wake together and wait for the cores%s: "
				      "spread the users (WAIT=0-0.1)%s and the queries come back "
				      "on time",
				      s->users,
				      s->pg_cpu_group == 1 ? "" : ", the server's loops among them",
				      s->pg_cpu_group == 0 ? ", or leave the cluster in a CPU group "
							     "of its own (without PG_CPU_GROUP=no),"
							   : "");
	return (int)(n < cap ? n : cap - 1);
}

/* The load's completions a second from t0 to t1 (seconds since its first
 * history row), from the history's running totals at the first row at or
 * after t0 and the last at or before t1; NAN when the history has no such
 * pair. */
static double history_rate(const struct measured *m, double t0, double t1)
{
	const struct history_point *a = NULL, *b = NULL;

	for (size_t i = 0; i < m->nhist; i++) {
		if (a == NULL && m->hist[i].t_s >= t0)
			a = &m->hist[i];
		if (m->hist[i].t_s <= t1)
			b = &m->hist[i];
	}
	if (a == NULL || b == NULL || b->t_s <= a->t_s)
		return NAN;
	return (b->total_reqs - a->total_reqs) / (b->t_s - a->t_s);
}

/* Appends to a CPU-bound verdict (n of cap used) the rate over the settled
 * window (a third of the run in to a second before its end, as the harness
 * reads its figures) against the model's steady X: where the two agree, the
 * requests were lost in the first seconds (the simulation's ramp-up is
 * shorter than the run's), not in the steady state. Returns the new length. */
static int settled_rate_said(char *verdict, size_t n, size_t cap, const struct scenario *s,
			     const struct prediction *p)
{
	double t0 = s->run_time_s / 3, t1 = s->run_time_s - 1;
	double x = history_rate(&s->m, t0, t1), ratio = x / p->steady.x_per_s;

	if (isnan(x) || !(p->steady.x_per_s > 0) || t1 <= t0)
		return (int)n;
	n += (size_t)snprintf(verdict + n, cap - n, "; from %.0f s to %.0f s it answered %.2f "
			      "req/s, %.2f of the model's steady %.2f", t0, t1, x, ratio,
			      p->steady.x_per_s);
	if (fabs(ratio - 1) <= SETTLED_TOLERANCE && n < cap)
		n += (size_t)snprintf(verdict + n, cap - n, ": the requests were lost in the "
				      "first seconds, where the simulation reaches its steady "
				      "rate sooner");
	return (int)(n < cap ? n : cap - 1);
}

/* Whether the run timed its tasks' queries by PostgreSQL's clock and the
 * server's (PG_QUERY_MS, PG_QUERY_SEEN_MS): the verdict then says where a
 * query's time went (query_time_said) instead of guessing. */
static int queries_timed(const struct scenario *s)
{
	return s->pg_query_ms > 0 && s->route->cpu == CPU_NONE && s->task_ms > 0;
}

/* A users-bound run whose requests were slower, and so fewer: X = N/R. */
static int slower_requests_said(struct comparison *c, const struct scenario *s, double gap,
				double ra)
{
	int n = snprintf(c->verdict, sizeof c->verdict,
			 "slower requests, fewer of them: each took %.1f ms (%.1f%%) longer than "
			 "the model, and %d users that each wait for their answer send X = N/R",
			 gap, (ra - 1) * 100, s->users);
	if (in_step(s) && (size_t)n < sizeof c->verdict)
		n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
			      "; in step, they lose whole rounds of %d at the stop", s->users);
	return n;
}

/* Why measured and predicted differ: the likeliest cause, from the shape of the
 * gap (these are heuristics, and the text says "likely"). */
static void judge(const struct scenario *s, const struct prediction *p, int by_locust,
		  struct comparison *c)
{
	const struct measured *m = &s->m;
	double rr = c->ratio[F_RPS], ra = c->ratio[F_AVG];
	double per_task = (c->m[F_AVG] - c->p[F_AVG]) / s->route->tasks;
	double gap = c->m[F_AVG] - c->p[F_AVG], cores = load_cores(s), server = server_gap_ms(s);
	int n = 0;

	if (m->row.fails > 0) {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "%llu of %llu requests failed (see the error report): likely queue "
			     "overflow — the server's accept queue, request queue or connection "
			     "limit overflowed, or requests timed out",
			     (unsigned long long)m->row.fails, (unsigned long long)m->row.reqs);
	} else if (!c->any) {
		snprintf(c->verdict, sizeof c->verdict,
			 "as predicted: every figure within %.0f%% of the model", TOLERANCE * 100);
		return;
	} else if (isnan(rr) || isnan(ra)) {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "the model predicts no completed request in the window; any "
			     "measured one means the server was faster than its modeled capacity");
	} else if (p->sc.order == MODEL_ORDER_LIFO && p->steady.bound == MODEL_BOUND_CAPACITY) {
		n = lifo_verdict(s, p, c);
	} else if (c->flagged[F_REQS] && c->m[F_REQS] < c->p[F_REQS] && !c->flagged[F_RPS] &&
		   !c->flagged[F_AVG] && c->p[F_REQS] - c->m[F_REQS] <= 1.5 * s->users) {
		/* Only a request slower than its tasks pushes the last round out;
		 * a faster one (ramp-up's early rounds pull the mean down) is no cause. */
		char slower[96] = "";
		if (gap >= 0.05)
			snprintf(slower, sizeof slower, ": each took %.1f ms more than its tasks, "
				 "and over the rounds that adds up", gap);
		n = snprintf(c->verdict, sizeof c->verdict,
			     "one round short: req/s and latency are as predicted, but the last "
			     "round of requests (%.0f) ended just after the stop%s; the load "
			     "generator also starts users a moment after its clock, so the finite "
			     "window cut it", c->p[F_REQS] - c->m[F_REQS], slower);
	} else if (!c->flagged[F_REQS] && !c->flagged[F_RPS] && !c->flagged[F_AVG] &&
		   !c->flagged[F_P50] && c->m[F_MAX] > c->p[F_MAX]) {
		if (queries_timed(s)) /* their clocks follow: no guess */
			n = snprintf(c->verdict, sizeof c->verdict,
				     "only the tail differs: a few requests ran up to %.0f ms late "
				     "(the model has no jitter)", c->m[F_MAX] - c->p[F_MAX]);
		else if (server >= 0 && server < (c->m[F_MAX] - c->p[F_MAX]) / 2)
			n = snprintf(c->verdict, sizeof c->verdict,
				     "only the tail differs: a few requests ran up to %.0f ms late "
				     "at the client, while the server's own clock (/metrics) put "
				     "its mean delay at %.2f ms a request — the load generator's "
				     "side (its CPU, the machine's scheduler; the model has no "
				     "jitter)", c->m[F_MAX] - c->p[F_MAX], server);
		else
			n = snprintf(c->verdict, sizeof c->verdict,
				     "only the tail differs: a few requests ran up to %.0f ms late — "
				     "timer lateness or a CPU busy with the load generator (the model "
				     "has no jitter)", c->m[F_MAX] - c->p[F_MAX]);
	} else if (p->steady.bound == MODEL_BOUND_STATION &&
		   (rr > 1 + TOLERANCE || rr < 1 - TOLERANCE)) {
		/* CPU-bound: the figure is what the server got of the cores */
		n = snprintf(c->verdict, sizeof c->verdict,
			     "%s binds, and the server got %s of the cores than the model gave "
			     "it (%.2f req/s of %.2f predicted)", p->steady.binding,
			     rr > 1 ? "more" : "less", c->m[F_RPS], c->p[F_RPS]);
		if (p->sc.other_cores > 0 && model_database_cpu_ms(&p->sc) > 0) {
			if ((size_t)n < sizeof c->verdict)
				n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
					      ": the model gave the server and PostgreSQL the %.2f "
					      "cores the rest of the machine left them in the "
					      "rehearsal (it took %.2f of %d)",
					      s->cores - p->sc.other_cores, p->sc.other_cores,
					      s->cores);
			if (s->pg_cpu_loaded_ms > 0 && (size_t)n < sizeof c->verdict)
				n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
					      ", and PostgreSQL's CPU per query was %.2f ms in the "
					      "run against the rehearsal's %.2f", s->pg_cpu_loaded_ms,
					      s->pg_cpu_ms);
		} else if (p->sc.other_cores > 0 && (size_t)n < sizeof c->verdict)
			n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
				      ": the model gave it the %.2f cores that other processes left "
				      "it on average (they used %.2f of %d), and their use came and "
				      "went", s->cores - p->sc.other_cores, p->sc.other_cores, s->cores);
		else if (s->cores_free >= 0 && (size_t)n < sizeof c->verdict)
			n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
				      ": other processes used %.2f of the %d cores while it ran%s, "
				      "and the kernel shares the cores among every runnable "
				      "thread, theirs included", s->cores - s->cores_free, s->cores,
				      among_others(s));
		/* the generator is the other process most often: name its share */
		if (s->cores_free >= 0 && cores >= 0.1 && (size_t)n < sizeof c->verdict)
			n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
				      " (the load generator %.2f of them)", cores);
		if ((size_t)n < sizeof c->verdict)
			n = settled_rate_said(c->verdict, (size_t)n, sizeof c->verdict, s, p);
	} else if (rr > 1 + TOLERANCE) {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "more throughput than predicted: the server served more requests at "
			     "once than the modeled capacity C=%d (check THREADS/WORKERS in "
			     "scenario.env, and whether requests were answered early)",
			     p->steady.capacity);
	} else if (ra > 1 + TOLERANCE && (cores >= LOAD_FULL_CORE ||
					  (server >= 0 && server < gap / 2))) {
		/* The server's own clock acquits it, or the generator ran out of CPU:
		 * the time was lost on the client's side of the socket. */
		n = snprintf(c->verdict, sizeof c->verdict,
			     "the gap is the load generator's, not the server's: requests took "
			     "%.1f ms longer than the model at the client", gap);
		if (server >= 0 && (size_t)n < sizeof c->verdict)
			n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
				      ", but only %.2f ms of that by the server's own clock "
				      "(/metrics: its timers' lateness)", server);
		if (cores >= 0 && (size_t)n < sizeof c->verdict)
			n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
				      "; the load generator used %.2f CPU-seconds per second%s",
				      cores, cores >= LOAD_FULL_CORE ? " (near a full core: it "
				      "could not send or read faster)" : "");
	} else if (ra > 1 + TOLERANCE && rr < 1 && p->steady.bound == MODEL_BOUND_USERS &&
		   queries_timed(s) && cores < LOAD_FULL_CORE) {
		/* the queries' own clocks follow and say where the time went: no
		 * need to guess timers or CPU */
		n = slower_requests_said(c, s, gap, ra);
	} else if (ra > 1 + TOLERANCE && p->steady.bound == MODEL_BOUND_USERS && per_task < 20) {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "likely timer lateness: each request took %.1f ms longer than its "
			     "tasks (about %.1f ms per task) — timers and sleeps wake late on a busy "
			     "2-core machine; fewer requests follow, as X = N/R says",
			     c->m[F_AVG] - c->p[F_AVG], per_task);
	} else if (ra > 1 + TOLERANCE) {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "likely CPU-bound: requests took %.0f%% longer than the model while "
			     "throughput %s — the server%s and the load generator share the CPUs, "
			     "so time spent computing adds to every request",
			     (ra - 1) * 100, rr < 1 - TOLERANCE ? "fell" : "held",
			     s->pool > 0 ? ", PostgreSQL's backends (PG_CPU_LOADED_MS against "
			     "PG_CPU_MS: its CPU per query under the load)" : "");
	} else if (rr < 1 - TOLERANCE && ra > 1.01 && p->steady.bound == MODEL_BOUND_USERS &&
		   cores < LOAD_FULL_CORE) {
		/* Within the tolerance yet slower: in a closed loop that is the cause
		 * (X = N/R), and with the users in step the count moves by rounds. */
		n = slower_requests_said(c, s, gap, ra);
	} else if (rr < 1 - TOLERANCE) {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "likely generator-bound: requests were as fast as predicted but "
			     "fewer were sent — the load generator could not keep %d users busy "
			     "(its CPU, or users spawned late)", s->users);
	} else if (ra < 1 - TOLERANCE && p->steady.bound == MODEL_BOUND_CAPACITY) {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "shorter waits than the FIFO queue predicts: the server did not serve "
			     "waiting requests in arrival order (e.g. connections pinned to threads "
			     "or workers: some users are served again and again, others wait past "
			     "the stop and are never counted)");
	} else {
		n = snprintf(c->verdict, sizeof c->verdict,
			     "differs from the model in the flagged figures; see the charts "
			     "(ramp-up and the finite window move reqs and the tail most)");
	}
	/* Where a query's time went, by PostgreSQL's own clock and then by the
	 * server's: the evidence for or against timer lateness, which the verdict
	 * above can only infer. */
	if (queries_timed(s) && n > 0 && (size_t)n < sizeof c->verdict)
		n = query_time_said(c->verdict, (size_t)n, sizeof c->verdict, s,
				    c->m[F_AVG] - c->p[F_AVG],
				    p->steady.bound == MODEL_BOUND_USERS);
	if (c->flagged[F_REQS] && !c->flagged[F_RPS] && c->ratio[F_REQS] < 1 && n > 0 &&
	    by_locust && !m->from_console && (size_t)n < sizeof c->verdict)
		n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
			      "; fewer reqs at the predicted req/s means the counts stopped early: "
			      "Locust 2.x writes stats.csv each second and not at shutdown");
	if (m->from_console && n > 0 && (size_t)n < sizeof c->verdict)
		n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
			      " (totals from console.txt's final table: load_stats.csv lagged)");
	if (m->from_history && n > 0 && (size_t)n < sizeof c->verdict)
		n += snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
			      " (totals from the history's last row: load_stats.csv lagged)");
	if (s->cores_free >= 0 && s->cores - s->cores_free > BUSY_MACHINE_CORES && n > 0 &&
	    !strstr(c->verdict, "other processes used") && (size_t)n < sizeof c->verdict)
		snprintf(c->verdict + n, sizeof c->verdict - (size_t)n,
			 " [the machine was busy: processes other than the server (the load generator "
			 "included) took %.2f cores during the run%s]", s->cores - s->cores_free,
			 among_others(s));
}

/* The CPU routes' story: where the CPU work runs decides who waits for it. */
static void tell_cpu(const struct scenario *s, const struct prediction *p, struct comparison *c)
{
	const struct model_steady *st = &p->steady;
	int cores = s->cores > 0 ? s->cores : 1;
	char left[64] = "cores";
	if (p->sc.other_cores > 0)
		snprintf(left, sizeof left, "the %.2f cores other processes left",
			 cores - p->sc.other_cores);
	switch (s->route->cpu) {
	case CPU_THREAD:
		snprintf(c->story, sizeof c->story,
			 "Each request computes %.1f ms on its worker thread. The kernel shares "
			 "the %d cores among the busy threads, so all cores work and the CPU "
			 "binds: X = %s / CPU = %.2f req/s, and %d users wait R = N/X - Z = "
			 "%.0f ms. This is where threads win: CPU work runs in parallel.",
			 st->cpu_ms, cores, left, st->x_per_s, s->users, st->r_ms);
		break;
	case CPU_LOOP:
		snprintf(c->story, sizeof c->story,
			 "The CPU work runs inside the event loop: while one request computes, "
			 "every other connection of its worker waits, timers and new requests "
			 "included. %d worker%s serve%s one computation at a time each (%s binds): "
			 "X = %.2f req/s, R = %.0f ms. An event loop buys nothing for CPU work — "
			 "more workers (processes) or a pool do.",
			 s->workers, s->workers == 1 ? "" : "s", s->workers == 1 ? "s" : "",
			 st->binding, st->x_per_s, st->r_ms);
		break;
	case CPU_POOL:
		snprintf(c->story, sizeof c->story,
			 "The loop hands each CPU task to its worker's pool of %d thread%s and "
			 "awaits it through an eventfd, so the loop stays free for the other "
			 "connections. The work still needs the CPU: %s binds at X = %.2f req/s, "
			 "R = %.0f ms — offloading recovers the loop, not the cores.",
			 s->offload_threads, s->offload_threads == 1 ? "" : "s", st->binding,
			 st->x_per_s, st->r_ms);
		break;
	case CPU_NONE:
		break;
	}
}

/* What the numbers show, in plain words, by the route's plan and the bound. */
static void tell(const struct scenario *s, const struct prediction *p, struct comparison *c)
{
	const struct model_steady *st = &p->steady;
	const struct route *r = s->route;
	double tasks_ms = r->tasks * s->task_ms;
	if (st->pool_binds && st->bound == MODEL_BOUND_CAPACITY) {
		int conns = s->pool * (r->world == WORLD_EVENTED ? s->workers : 1);
		snprintf(c->story, sizeof c->story,
			 "The pool binds: each task is a PostgreSQL query on a connection from the "
			 "pool, and %d connection%s (pool %d%s) serve %.4g request%s at once (%d "
			 "each). %s or not, %d users queue for them: throughput is C/S = %.2f "
			 "req/s and latency about N*S/C = %.0f ms. The pool is the new thread pool.",
			 conns, conns == 1 ? "" : "s", s->pool,
			 r->world == WORLD_EVENTED ? " per worker" : "", model_pool_requests(&p->sc),
			 model_pool_requests(&p->sc) == 1 ? "" : "s", model_conns_per_request(r),
			 r->world == WORLD_EVENTED ? "Event loop" : "Threads", s->users, st->x_per_s,
			 st->r_ms);
		return;
	}
	if (r->cpu != CPU_NONE) {
		tell_cpu(s, p, c);
		return;
	}
	switch (r->plan) {
	case PLAN_SEQUENTIAL:
	case PLAN_DEPENDENT:
		if (r->world == WORLD_BLOCKING && st->bound == MODEL_BOUND_CAPACITY &&
		    p->sc.order == MODEL_ORDER_LIFO)
			snprintf(c->story, sizeof c->story,
				 "The sync world holds one of its %d threads for the whole %.0f ms "
				 "of three tasks in a row, and %d users are more than %d threads: "
				 "throughput is stuck at C/S = %.2f req/s, whatever the order. But "
				 "this server hands a free thread to the newest waiter (lifo): the "
				 "users just answered come straight back to the head of the line and "
				 "cycle, the others wait past the stop and Locust never counts them. "
				 "So the model gives its table a mean of %.0f ms where a FIFO line gives N*S/C "
				 "= %.0f ms: the queue is as long, the table only looks better.",
				 st->capacity, st->service_ms, s->users, st->capacity, st->x_per_s,
				 p->total.reqs ? p->total.sum_ms / (double)p->total.reqs : 0, st->r_ms);
		else if (r->world == WORLD_BLOCKING && st->bound == MODEL_BOUND_CAPACITY)
			snprintf(c->story, sizeof c->story,
				 "The sync world holds one of its %d threads for the whole %.0f ms "
				 "of three tasks in a row. %d users are more than %d threads, so %d "
				 "requests wait in the queue at any time: throughput is stuck at "
				 "C/S = %.2f req/s and, by Little's law, latency is N*S/C = %.0f ms — "
				 "it grows in step with users once they pass the thread count.",
				 st->capacity, st->service_ms, s->users, st->capacity,
				 s->users - st->capacity, st->x_per_s, st->r_ms);
		else if (r->world == WORLD_BLOCKING)
			snprintf(c->story, sizeof c->story,
				 "%d users fit in %d threads: nobody queues, every request takes "
				 "its three tasks, %.0f ms, and throughput is N/S = %.2f req/s.",
				 s->users, st->capacity, st->service_ms, st->x_per_s);
		else
			snprintf(c->story, sizeof c->story,
				 "Timers hold no thread: all %d users are in service at once, so "
				 "throughput is N/S = %.2f req/s with no queue. But the three tasks "
				 "still run one after another (%s), so each request takes %.0f ms: "
				 "async raised throughput, not latency.",
				 s->users, st->x_per_s,
				 r->plan == PLAN_DEPENDENT ? "each needs the previous result"
							   : "though none needs another",
				 st->service_ms);
		break;
	case PLAN_GATHER:
	case PLAN_DATAFLOW:
		snprintf(c->story, sizeof c->story,
			 "The three tasks are independent and %s, so a request lasts as long as "
			 "its longest task: %.0f ms instead of %.0f ms. With the same %d users "
			 "that cuts latency %.0fx and multiplies throughput by as much "
			 "(%.2f req/s): the runtime does not find independent tasks by itself — "
			 "the code has to say so.",
			 r->plan == PLAN_GATHER ? "gathered" : "started as soon as their inputs are ready",
			 st->service_ms, tasks_ms, s->users,
			 st->service_ms > 0 ? tasks_ms / st->service_ms : 1, st->x_per_s);
		break;
	case PLAN_BLOCKING_LOOP:
		snprintf(c->story, sizeof c->story,
			 "The classic mistake: a blocking %s inside the event loop stops the "
			 "whole worker, so each of the %d workers serves one request at a time "
			 "for %.0f ms. Throughput collapses to W/S = %.3f req/s and the other "
			 "users wait in line: R = N*S/W = %.0f s, far past the run, so most "
			 "requests never finish and Locust never counts them (%ld were in flight "
			 "at the stop in the model). Which worker a connection lands on is not "
			 "knowable; the model treats the workers as one FIFO line.",
			 model_has_database(&p->sc) ? "query" : "sleep", s->workers, st->service_ms,
			 st->x_per_s, st->r_ms / 1e3, p->run.unfinished);
		break;
	case PLAN_THREAD_FANOUT:
		snprintf(c->story, sizeof c->story,
			 "Fanning the tasks out to helper threads cuts each request to %.0f ms, "
			 "but the request still holds one of %d threads while it waits: "
			 "throughput is %.2f req/s (%s) — threads bought latency, not capacity.",
			 st->service_ms, st->capacity, st->x_per_s,
			 st->bound == MODEL_BOUND_CAPACITY ? "the threads bind" : "the users bind");
		break;
	}
}

/* The width of Locust's response-time bucket around a value in ms. */
static double bucket_step(double ms)
{
	return ms < 100 ? 1 : ms < 1000 ? 10 : ms < 10000 ? 100 : 1000;
}

static void compare(const struct scenario *s, const struct prediction *p, int by_locust,
		    struct comparison *c)
{
	memset(c, 0, sizeof *c);
	figures(&s->m.row, c->m);
	figures(&p->row, c->p);
	for (int i = 0; i < F_N; i++) {
		c->ratio[i] = c->p[i] > 0 ? c->m[i] / c->p[i] : (c->m[i] > 0 ? NAN : 1);
		double slack = TOLERANCE * c->p[i];
		if (i >= F_P50 && i <= F_P99 && bucket_step(c->p[i]) > slack)
			slack = bucket_step(c->p[i]); /* one bucket apart is no difference */
		c->flagged[i] = isnan(c->ratio[i]) || fabs(c->m[i] - c->p[i]) > slack;
		c->any |= c->flagged[i];
	}
	judge(s, p, by_locust, c);
	tell(s, p, c);
}

/* --- writers -------------------------------------------------------------- */

static void scenario_title(FILE *f, const struct scenario *s)
{
	const struct route *r = s->route;
	/* a CPU route's tasks compute for TASK_CPU_MS; TASK_MS is the sleep routes' */
	fprintf(f, "%s  GET %s on %s: %d users, %g/s spawn, %g s, %g ms %stasks, ",
		s->name, r->path, route_world_name(r->world), s->users, s->spawn_rate,
		s->run_time_s, r->cpu != CPU_NONE ? s->task_cpu_ms : s->task_ms,
		r->cpu != CPU_NONE ? "CPU " : "");
	if (r->world == WORLD_BLOCKING)
		fprintf(f, "%d threads", s->threads);
	else
		fprintf(f, "%d workers", s->workers);
	if (s->wait_max_s > 0)
		fprintf(f, ", wait %g-%g s", s->wait_min_s, s->wait_max_s);
	if (strcmp(s->target, "fastapi") == 0)
		fprintf(f, ", FastAPI on uvicorn");
	if (s->nsplit > 1) {
		fprintf(f, ", users per process");
		for (int i = 0; i < s->nsplit; i++)
			fprintf(f, "%s%d", i ? "/" : " ", s->split[i]);
	}
	if (s->order_measured)
		fprintf(f, ", %s order", model_order_name(s->order));
	if (s->server_cpu_ms >= 0)
		fprintf(f, ", %.2f ms server CPU/request", s->server_cpu_ms);
	if (s->keepalive_ms >= 0)
		fprintf(f, ", %.1f ms round trip on a kept-alive connection", s->keepalive_ms);
	if (s->keepalive_first_ms >= 0)
		fprintf(f, " (%.1f ms its first)", s->keepalive_first_ms);
	if (s->nwave_procs > 0) {
		fprintf(f, ", thread starts a wave apart by");
		for (int i = 0; i < s->nwave_procs; i++)
			fprintf(f, "%s%.0f", i ? "/" : " ", s->wave_ms[i][s->nwave - 1]);
		fprintf(f, " ms");
	}
	if (s->nstall_procs > 0) {
		fprintf(f, ", GC pauses");
		for (int i = 0; i < s->nstall_procs; i++)
			fprintf(f, "%s%.1f", i ? "/" : " ", s->stall_per_s[i]);
		fprintf(f, " a second of up to %.0f ms", s->stall_ms[s->nstall - 1]);
	}
}

static void comparison_table(FILE *f, const struct comparison *c, const char *indent)
{
	fprintf(f, "%s%-10s", indent, "");
	for (int i = 0; i < F_N; i++)
		fprintf(f, " %10s", figure_name[i]);
	fprintf(f, "\n%s%-10s", indent, "measured");
	for (int i = 0; i < F_N; i++)
		fprintf(f, i == F_RPS ? " %10.2f" : " %10.0f", c->m[i]);
	fprintf(f, "\n%s%-10s", indent, "predicted");
	for (int i = 0; i < F_N; i++)
		fprintf(f, i == F_RPS ? " %10.2f" : " %10.0f", c->p[i]);
	fprintf(f, "\n%s%-10s", indent, "ratio");
	for (int i = 0; i < F_N; i++) {
		char cell[16];
		if (isnan(c->ratio[i]))
			snprintf(cell, sizeof cell, "n/a*");
		else
			snprintf(cell, sizeof cell, "%.2f%s", c->ratio[i], c->flagged[i] ? "*" : "");
		fprintf(f, " %10s", cell);
	}
	fputc('\n', f);
}

static void write_summary(FILE *f, const struct run_dir *rd, const struct prediction *pred,
			  const struct comparison *cmp)
{
	int flagged = 0;
	fprintf(f, "Run %s: profile %s, load %s, %s CPUs, started %s, git %s\n",
		rd->path, rd->profile[0] ? rd->profile : "?", rd->load[0] ? rd->load : "?",
		rd->cpus[0] ? rd->cpus : "?", rd->started[0] ? rd->started : "?",
		rd->git[0] ? rd->git : "?");
	fprintf(f, "Measured beside predicted (ms; ratio = measured / predicted, * = more "
		"than %.0f%% apart)\n\n", TOLERANCE * 100);
	for (size_t i = 0; i < rd->n; i++) {
		scenario_title(f, &rd->sc[i]);
		fputc('\n', f);
		comparison_table(f, &cmp[i], "  ");
		fprintf(f, "  ");
		prediction_print_closed_form(f, &pred[i]);
		if (pred[i].sc.order == MODEL_ORDER_LIFO) {
			fprintf(f, "  ");
			prediction_print_served(f, &pred[i], rd->sc[i].m.row.rps,
						rd->sc[i].m.row.reqs ? rd->sc[i].m.row.sum_ms /
						(double)rd->sc[i].m.row.reqs : 0);
		}
		fprintf(f, "  verdict: %s\n\n", cmp[i].verdict);
		flagged += cmp[i].any;
	}
	fprintf(f, "%zu scenarios, %d as predicted, %d flagged. Full report: %s/REPORT.md, "
		"%s/report.html\n", rd->n, (int)rd->n - flagged, flagged, rd->path, rd->path);
}

/* The Locust tables of one scenario, measured then predicted, as text. */
static char *locust_tables(const struct scenario *s, const struct prediction *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	struct locust_row row = s->m.row;
	snprintf(row.method, sizeof row.method, "GET");
	snprintf(row.name, sizeof row.name, "%s", s->route->path);
	fprintf(f, "# measured (%s)\n",
		s->m.from_console ? "totals from console.txt's final tables"
		: s->m.from_history ? "totals from the history's last row" : "load_stats.csv");
	locust_print_stats(f, &row, 1, &s->m.row);
	locust_print_percentiles(f, &row, 1, &s->m.row);
	locust_print_errors(f, s->m.errors, s->m.nerrors);
	fprintf(f, "# predicted (the model's simulated run)\n");
	locust_print_stats(f, &p->row, 1, &p->total);
	locust_print_percentiles(f, &p->row, 1, &p->total);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}


/* An SVG file's <svg> element, inline; nothing when the chart is missing. */
static void html_svg(FILE *f, const char *charts, const char *name)
{
	char path[1200], buf[8192];
	snprintf(path, sizeof path, "%s/%s", charts, name);
	FILE *in = fopen(path, "r");
	int started = 0;
	if (!in)
		return;
	fputs("<figure>", f);
	while (fgets(buf, sizeof buf, in)) {
		char *at = started ? buf : strstr(buf, "<svg");
		if (!at)
			continue; /* the XML declaration and DOCTYPE stay out of HTML */
		started = 1;
		fputs(at, f);
	}
	fputs("</figure>\n", f);
	fclose(in);
}

static int exists(const char *dir, const char *name)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, R_OK) == 0;
}

/* What the rest of the machine took of the cores while the server ran, for
 * the model: only where the server's CPU binds. There the kernel time-slices
 * the server's runnable threads with everyone else's, so whatever the others
 * ran (the load generator, the harness, builds) was taken from the server.
 * Where it does not bind, they ran on cores the server left idle, and counting
 * them would starve a server that was never short of CPU. Where the model
 * has PostgreSQL's CPU in a station of its own, OTHER_CPU_S counts the
 * backends too: the others are then PG_BUSY_OTHERS, read in the rehearsal
 * that priced a query. A route that sends no query under BACKEND=postgres
 * has no such station, and loses the cores to the others as under sleep. */
static double others_taken(const struct scenario *s, const struct model_scenario *sc)
{
	struct model_steady st;
	if (model_steady(sc, &st) < 0 || st.bound != MODEL_BOUND_STATION)
		return 0;
	if (s->pool > 0 && model_database_cpu_ms(sc) > 0)
		return s->pg_busy_others > 0 ? s->pg_busy_others : 0;
	return s->cores_free < 0 ? 0 : s->cores - s->cores_free;
}

/* The model's scenario for a run's: everything as the harness recorded it,
 * what it measured (split, order, CPU, the connection's answers, waves,
 * pauses) included, none of it fitted. */
static void model_of(const struct scenario *s, double overhead_ms, struct model_scenario *sc)
{
	model_scenario_init(sc, s->route);
	sc->task_ms = s->task_ms;
	sc->users = s->users;
	sc->spawn_rate = s->spawn_rate;
	sc->run_time_s = s->run_time_s;
	sc->wait_min_s = s->wait_min_s;
	sc->wait_max_s = s->wait_max_s;
	sc->seed = model_default_seed(sc); /* waits drawn as Locust draws them */
	sc->threads = s->threads;
	sc->helpers = s->helpers;
	sc->workers = s->workers;
	sc->overhead_ms = overhead_ms;
	/* the split and order the harness measured in this run, not fitted */
	memcpy(sc->split, s->split, sizeof sc->split);
	sc->nsplit = s->nsplit;
	sc->order = s->order;
	sc->cores = s->cores;
	sc->offload_threads = s->offload_threads;
	sc->pool = s->pool;
	sc->query_ms = s->query_ms;
	sc->max_connections = s->max_connections;
	sc->pg_cpu_ms = s->pg_cpu_ms;
	sc->cpu_ms = s->task_cpu_ms;
	sc->server_cpu_ms = s->server_cpu_ms;
	sc->held_cpu_ms = s->held_cpu_ms;
	/* CPython: a worker's own CPU runs one request at a time (the GIL) */
	sc->serial_cpu = strcmp(s->target, "fastapi") == 0;
	/* what a kept-alive connection added to a request alone, beyond its CPU */
	if (s->keepalive_ms >= 0)
		sc->answer_ms = fmax(0, s->keepalive_ms - fmax(0, s->server_cpu_ms));
	/* a fresh connection's first answer is not held for the delayed ACK */
	if (s->keepalive_first_ms >= 0) {
		sc->first_answer_ms[0] = fmax(0, s->keepalive_first_ms - fmax(0, s->server_cpu_ms));
		sc->nfirst = 1;
	}
	/* how far apart each worker's threads start in a wave, measured */
	memcpy(sc->wave_ms, s->wave_ms, sizeof sc->wave_ms);
	sc->nwave = s->nwave;
	/* the worker's garbage collector's pauses, measured */
	memcpy(sc->stall_per_s, s->stall_per_s, sizeof sc->stall_per_s);
	memcpy(sc->stall_ms, s->stall_ms, sizeof sc->stall_ms);
	sc->nstall = s->nstall;
	sc->other_cores = others_taken(s, sc);
}

/* The binding station, and what the run used of the machine when recorded. */
static void binding_line(FILE *f, const struct scenario *s, const struct prediction *p, int html)
{
	fprintf(f, html ? "<p>Binding station: <b>%s</b>" : "- Binding station: **%s**",
		p->steady.binding);
	if (s->server_cpu_ms >= 0)
		fprintf(f, "; server CPU %.3f ms per request", s->server_cpu_ms);
	if (s->load_cpu_s >= 0)
		fprintf(f, "; load generator %.2f CPU-s (%.2f cores)", s->load_cpu_s,
			s->run_time_s > 0 ? s->load_cpu_s / s->run_time_s : 0);
	if (s->cores_free >= 0)
		fprintf(f, "; other processes %.2f of %d cores%s", s->cores - s->cores_free, s->cores,
			among_others(s));
	fputs(html ? ".</p>\n" : ".\n", f);
}

/* Whether any scenario recorded the server's memory (SERVER_RSS_KB). */
static int has_memory(const struct run_dir *rd)
{
	for (size_t i = 0; i < rd->n; i++)
		if (rd->sc[i].rss_kb >= 0)
			return 1;
	return 0;
}

/* What a thread costs: each server's resident memory and threads under load,
 * per user (one connection each), as Markdown or HTML rows. */
static void memory_table(FILE *f, const struct run_dir *rd, int html)
{
	fputs(html ? "<table><tr><th>scenario</th><th>route</th><th>world</th><th>users</th>"
		     "<th>server threads</th><th>resident MiB</th><th>KiB per user</th></tr>\n"
		   : "| scenario | route | world | users | server threads | resident MiB | "
		     "KiB per user |\n|---|---|---|---|---|---|---|\n", f);
	for (size_t i = 0; i < rd->n; i++) {
		const struct scenario *s = &rd->sc[i];
		if (s->rss_kb < 0)
			continue;
		fprintf(f, html ? "<tr><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%.0f</td>"
				  "<td>%.1f</td><td>%.1f</td></tr>\n"
				: "| %s | `%s` | %s | %d | %.0f | %.1f | %.1f |\n",
			s->name, s->route->path, route_world_name(s->route->world), s->users,
			s->server_threads, s->rss_kb / 1024, s->rss_kb / s->users);
	}
	fputs(html ? "</table>\n" : "\n", f);
}

/* How well the model did, in one sentence: how many scenarios it predicted
 * within the tolerance, and the one it missed most. */
static void model_fit(char *buf, size_t cap, const struct run_dir *rd,
		      const struct comparison *cmp)
{
	int rps_ok = 0, avg_ok = 0;
	size_t worst = 0;
	double worst_gap = -1;
	for (size_t i = 0; i < rd->n; i++) {
		rps_ok += !cmp[i].flagged[F_RPS];
		avg_ok += !cmp[i].flagged[F_AVG];
		for (int j = F_RPS; j <= F_AVG; j++) {
			double gap = isnan(cmp[i].ratio[j]) ? INFINITY : fabs(log(cmp[i].ratio[j]));
			if (gap > worst_gap) {
				worst_gap = gap;
				worst = i;
			}
		}
	}
	int n = snprintf(buf, cap, "The model predicted the throughput of %d of %zu scenarios "
			 "and the mean response time of %d within %.0f%%", rps_ok, rd->n, avg_ok,
			 TOLERANCE * 100);
	if (rd->n == 0 || n < 0 || (size_t)n >= cap)
		return;
	const struct comparison *c = &cmp[worst];
	if (c->flagged[F_RPS] || c->flagged[F_AVG])
		snprintf(buf + n, cap - (size_t)n, "; furthest off: %s, %.2f req/s measured "
			 "against %.2f predicted, %.0f ms against %.0f ms per request (its section "
			 "says why)", rd->sc[worst].route->path, c->m[F_RPS], c->p[F_RPS],
			 c->m[F_AVG], c->p[F_AVG]);
	else
		snprintf(buf + n, cap - (size_t)n, ": every one");
}

#define STORY_CAP 24

/* The first section: who won each comparison, and how close the model came. */
static void write_story_md(FILE *f, const struct run_dir *rd, const struct comparison *cmp,
			   const char *charts)
{
	struct story_line story[STORY_CAP];
	size_t n = story_tell(rd, story, STORY_CAP);
	char fit[1200];
	fprintf(f, "## What this run shows\n\n");
	for (size_t k = 0; k < n; k++)
		fprintf(f, "- **%s** (%s): **%s** %s.\n", story[k].head, story[k].pair,
			story[k].winner, story[k].text);
	model_fit(fit, sizeof fit, rd, cmp);
	fprintf(f, "- %s.\n\n", fit);
	if (exists(charts, "bars.svg"))
		fprintf(f, "Measured in blue, predicted in orange:\n\n"
			"![throughput and mean response time, measured and predicted]"
			"(charts/bars.svg)\n\n");
}

/* The header's words for the tasks' backend: "" under sleeps; under postgres
 * its version and cap, and whether the scheduler weighed the cluster as one
 * task (a CPU group of its own, pg_cluster.sh) or each backend as one. */
static void backend_clause(const struct run_dir *rd, char *out, size_t cap)
{
	const char *group = "";

	out[0] = '\0';
	if (strcmp(rd->backend, "postgres") != 0)
		return;
	if (strcmp(rd->pg_cpu_group, "none") == 0)
		group = "; each backend a task of the scheduler's own, beside the server's threads";
	else if (rd->pg_cpu_group[0])
		group = "; the cluster in a CPU group of its own, one task to the scheduler";
	snprintf(out, cap, ", tasks as queries on PostgreSQL %s (max_connections %s%s)",
		 rd->pg_version[0] ? rd->pg_version : "of unknown version",
		 rd->max_connections[0] ? rd->max_connections : "unknown", group);
}

static void write_markdown(FILE *f, const struct run_dir *rd, const struct prediction *pred,
			   const struct comparison *cmp, const char *charts, int sweeps)
{
	char backend[256];

	backend_clause(rd, backend, sizeof backend);
	fprintf(f, "# Threads vs events: measured beside predicted\n\n");
	fprintf(f, "Run `%s` — profile %s, load generator %s%s, %s CPUs, kernel %s, started %s, "
		"git %s.\n\n", rd->path, rd->profile, rd->load, backend, rd->cpus, rd->kernel,
		rd->started, rd->git);
	write_story_md(f, rd, cmp, charts);
	fprintf(f, "Ratios are measured / predicted; **bold** marks a figure more than %.0f%% "
		"from the model. Times in ms.\n\n", TOLERANCE * 100);
	fprintf(f, "| scenario | route | world | users | figure | reqs | req/s | avg | p50 | "
		"p95 | p99 | max |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < rd->n; i++) {
		const struct scenario *s = &rd->sc[i];
		const struct comparison *c = &cmp[i];
		const char *who[3] = { "measured", "predicted", "ratio" };
		for (int k = 0; k < 3; k++) {
			if (k == 0)
				fprintf(f, "| %s | `%s` | %s | %d | %s |", s->name, s->route->path,
					route_world_name(s->route->world), s->users, who[k]);
			else
				fprintf(f, "| | | | | %s |", who[k]);
			for (int j = 0; j < F_N; j++) {
				double v = k == 0 ? c->m[j] : k == 1 ? c->p[j] : c->ratio[j];
				if (k == 2 && isnan(v))
					fprintf(f, " **n/a** |");
				else if (k == 2)
					fprintf(f, c->flagged[j] ? " **%.2f** |" : " %.2f |", v);
				else
					fprintf(f, j == F_RPS ? " %.2f |" : " %.0f |", v);
			}
			fputc('\n', f);
		}
	}
	fprintf(f, "\n");
	if (sweeps && exists(charts, "sweep_lat.svg"))
		fprintf(f, "## Sweep: latency and throughput against users\n\n"
			"![latency vs users](charts/sweep_lat.svg)\n"
			"![throughput vs users](charts/sweep_rps.svg)\n\n");
	if (has_memory(rd)) {
		fprintf(f, "## What a thread costs: server memory under load\n\n");
		if (sweeps && exists(charts, "sweep_mem.svg"))
			fprintf(f, "![memory per user vs users](charts/sweep_mem.svg)\n\n");
		memory_table(f, rd, 0);
	}
	for (size_t i = 0; i < rd->n; i++) {
		const struct scenario *s = &rd->sc[i];
		char name[32];
		fprintf(f, "## %s\n\n", s->name);
		scenario_title(f, s);
		fprintf(f, ".\n\n%s\n\n", cmp[i].story);
		fprintf(f, "- ");
		prediction_print_closed_form(f, &pred[i]);
		binding_line(f, s, &pred[i], 0);
		if (pred[i].sc.order == MODEL_ORDER_LIFO) {
			fprintf(f, "- ");
			prediction_print_served(f, &pred[i], s->m.row.rps,
						s->m.row.reqs ? s->m.row.sum_ms / (double)s->m.row.reqs : 0);
		}
		fprintf(f, "- Simulated run: %ld sent, %ld counted, %ld in flight at the stop.\n",
			pred[i].run.sent, pred[i].run.reqs, pred[i].run.unfinished);
		if (s->m.unfinished >= 0)
			fprintf(f, "- Measured: %ld sent, %ld in flight at the stop (load.json).\n",
				s->m.sent, s->m.unfinished);
		fprintf(f, "- Verdict: %s.\n\n", cmp[i].verdict);
		char *tables = locust_tables(s, &pred[i]);
		if (tables) {
			fprintf(f, "```\n%s```\n\n", tables);
			free(tables);
		}
		snprintf(name, sizeof name, "t%02zu.svg", i + 1);
		if (exists(charts, name))
			fprintf(f, "![percentiles over time](charts/%s)\n", name);
		snprintf(name, sizeof name, "u%02zu.svg", i + 1);
		if (exists(charts, name))
			fprintf(f, "![throughput and users](charts/%s)\n\n", name);
	}
}

static const char *const html_style =
	"body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1080px;"
	"margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45}\n"
	"h1{margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}\n"
	".run{color:#555;font-size:.9em;margin-top:0}\n"
	".story{font-size:1.08em;padding-left:1.2em}.story li{margin:.35em 0}\n"
	".m{color:#1f6fb4;font-weight:bold}.p{color:#e8710a;font-weight:bold}\n"
	"table{border-collapse:collapse;margin:.8em 0;font-size:.9em}\n"
	"td,th{border:1px solid #ccc;padding:.2em .45em;text-align:right}\n"
	"td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}\n"
	".flag{background:#fdd;font-weight:bold}\n"
	"figure{margin:.6em 0}svg{display:block;max-width:100%;height:auto}\n"
	".pair{display:flex;flex-wrap:wrap;gap:0 12px}.pair figure{flex:1 1 480px;min-width:0}\n"
	"details{margin:.6em 0}summary{cursor:pointer;color:#444}\n"
	"pre{background:#f6f6f6;padding:.5em;overflow-x:auto;font-size:10.5px}\n"
	"@media print{body{max-width:none;margin:0;font-size:10pt}figure,table,tr"
	"{break-inside:avoid}h2{break-after:avoid}details{display:none}\n"
	"table{font-size:7.5pt}td,th{padding:.1em .25em}}\n";

static void html_figures_row(FILE *f, const char *charts, int i)
{
	char u[32], t[32];
	snprintf(u, sizeof u, "u%02d.svg", i);
	snprintf(t, sizeof t, "t%02d.svg", i);
	fputs("<div class=\"pair\">", f);
	html_svg(f, charts, u);
	html_svg(f, charts, t);
	fputs("</div>\n", f);
}

/* One cell of a figure; `k` 0 measured, 1 predicted, 2 ratio. */
static void html_cell(FILE *f, const struct comparison *c, int j, int k)
{
	if (k < 2)
		fprintf(f, j == F_RPS ? "<td>%.2f</td>" : "<td>%.0f</td>", k ? c->p[j] : c->m[j]);
	else if (isnan(c->ratio[j]))
		fputs("<td class=\"flag\">n/a</td>", f);
	else
		fprintf(f, "<td%s>%.2f</td>", c->flagged[j] ? " class=\"flag\"" : "", c->ratio[j]);
}

static void html_overview_table(FILE *f, const struct run_dir *rd,
				const struct comparison *cmp)
{
	static const int cols[] = { F_RPS, F_AVG, F_P95 };
	fputs("<table><tr><th>scenario</th><th>world</th><th>users</th>", f);
	for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
		fprintf(f, "<th>%s%s measured</th><th>predicted</th><th>ratio</th>",
			figure_name[cols[k]], cols[k] == F_RPS ? "" : " ms");
	fputs("<th>failed</th></tr>\n", f);
	for (size_t i = 0; i < rd->n; i++) {
		const struct scenario *s = &rd->sc[i];
		fprintf(f, "<tr><td><a href=\"#s%02zu\">%s</a></td><td>%s</td><td>%d</td>", i + 1,
			s->route->path, route_world_name(s->route->world), s->users);
		for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
			for (int w = 0; w < 3; w++)
				html_cell(f, &cmp[i], cols[k], w);
		fprintf(f, "<td%s>%llu</td></tr>\n", s->m.row.fails ? " class=\"flag\"" : "",
			(unsigned long long)s->m.row.fails);
	}
	fputs("</table>\n", f);
}

static void write_html(FILE *f, const struct run_dir *rd, const struct prediction *pred,
		       const struct comparison *cmp, const char *charts, int sweeps)
{
	struct story_line story[STORY_CAP];
	size_t nstory = story_tell(rd, story, STORY_CAP);
	char fit[1200];

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<title>Threads vs events: measured beside predicted</title>\n<style>\n%s"
		"</style></head><body>\n<h1>Threads vs events: measured beside predicted</h1>\n",
		html_style);
	fputs("<p class=\"run\">Run <code>", f);
	svg_text(f, rd->path);
	fprintf(f, "</code>: profile %s, load generator %s", rd->profile, rd->load);
	backend_clause(rd, fit, sizeof fit);
	svg_text(f, fit);
	fprintf(f, ", %s CPUs, kernel ", rd->cpus);
	svg_text(f, rd->kernel);
	fprintf(f, ", started %s, git %s.</p>\n", rd->started, rd->git);

	fputs("<section id=\"story\">\n<h2>What this run shows</h2>\n<ul class=\"story\">\n", f);
	for (size_t k = 0; k < nstory; k++) {
		fputs("<li><strong>", f);
		svg_text(f, story[k].head);
		fputs("</strong> (", f);
		svg_text(f, story[k].pair);
		fputs("): <strong>", f);
		svg_text(f, story[k].winner);
		fputs("</strong> ", f);
		svg_text(f, story[k].text);
		fputs(".</li>\n", f);
	}
	model_fit(fit, sizeof fit, rd, cmp);
	fputs("<li>", f);
	svg_text(f, fit);
	fputs(".</li>\n</ul>\n<p>Every chart shows what was <span class=\"m\">measured</span> "
	      "in blue and what the model <span class=\"p\">predicted</span> in orange.</p>\n", f);
	html_svg(f, charts, "bars.svg");
	fputs("</section>\n", f);

	fprintf(f, "<section id=\"table\">\n<h2>Every scenario, measured beside predicted</h2>\n"
		"<p>Ratio = measured / predicted; red marks a figure more than %.0f%% from the "
		"model. Times in ms. Each scenario's section below has all seven figures.</p>\n",
		TOLERANCE * 100);
	html_overview_table(f, rd, cmp);
	fputs("</section>\n", f);
	if (sweeps) {
		fputs("<section id=\"sweep\">\n<h2>Sweep: latency and throughput against users</h2>\n",
		      f);
		fputs("<div class=\"pair\">", f);
		html_svg(f, charts, "sweep_lat.svg");
		html_svg(f, charts, "sweep_rps.svg");
		fputs("</div>\n</section>\n", f);
	}
	if (has_memory(rd)) {
		fputs("<h2>What a thread costs: server memory under load</h2>\n", f);
		if (sweeps && exists(charts, "sweep_mem.svg"))
			html_svg(f, charts, "sweep_mem.svg");
		memory_table(f, rd, 1);
	}
	for (size_t i = 0; i < rd->n; i++) {
		const struct scenario *s = &rd->sc[i];
		const struct comparison *c = &cmp[i];
		fprintf(f, "<section id=\"s%02zu\">\n<h2>%s</h2>\n<p>", i + 1, s->name);
		scenario_title(f, s);
		fputs(".</p>\n<p>", f);
		svg_text(f, c->story);
		fputs("</p>\n", f);
		html_figures_row(f, charts, (int)i + 1);
		fputs("<table><tr><th></th>", f);
		for (int j = 0; j < F_N; j++)
			fprintf(f, "<th>%s</th>", figure_name[j]);
		static const char *const who[3] = { "measured", "predicted", "ratio" };
		for (int k = 0; k < 3; k++) {
			fprintf(f, "</tr>\n<tr><td>%s</td>", who[k]);
			for (int j = 0; j < F_N; j++)
				html_cell(f, c, j, k);
		}
		fputs("</tr></table>\n<p>", f);
		char *cf = NULL;
		size_t cflen = 0;
		FILE *mf = open_memstream(&cf, &cflen);
		if (mf) {
			prediction_print_closed_form(mf, &pred[i]);
			if (fclose(mf) == 0)
				svg_text(f, cf);
			free(cf);
		}
		fputs("<br>Verdict: ", f);
		svg_text(f, c->verdict);
		fputs(".</p>\n", f);
		binding_line(f, s, &pred[i], 1);
		char *tables = locust_tables(s, &pred[i]);
		if (tables) {
			fputs("<details><summary>Locust's tables, measured and predicted</summary><pre>",
			      f);
			svg_text(f, tables);
			fputs("</pre></details>\n", f);
			free(tables);
		}
		fputs("</section>\n", f);
	}
	fputs("</body></html>\n", f);
}

/* --- the folder: everything goes to a temporary folder, then into place ---- */

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	char path[1200];
	if (d) {
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(path);
			else
				unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

typedef void (*writer)(FILE *, const struct run_dir *, const struct prediction *,
		       const struct comparison *, const char *, int);

static int write_file(const char *tmp, const char *name, writer w, const struct run_dir *rd,
		      const struct prediction *pred, const struct comparison *cmp,
		      const char *charts, int sweeps)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", tmp, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	w(f, rd, pred, cmp, charts, sweeps);
	if (fclose(f) != 0) {
		fprintf(stderr, "report: write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void summary_writer(FILE *f, const struct run_dir *rd, const struct prediction *pred,
			   const struct comparison *cmp, const char *charts, int sweeps)
{
	(void)charts;
	(void)sweeps;
	write_summary(f, rd, pred, cmp);
}

static int move_into_place(const char *tmp, const char *dir)
{
	static const char *const files[] = { "summary.txt", "REPORT.md", "report.html" };
	char from[1200], to[1200], old[1200];
	/* the charts first: a reader of the old report keeps whole files meanwhile */
	snprintf(from, sizeof from, "%s/charts", tmp);
	snprintf(to, sizeof to, "%s/charts", dir);
	snprintf(old, sizeof old, "%s/old-charts", tmp);
	if (rename(to, old) < 0 && errno != ENOENT) {
		fprintf(stderr, "report: rename %s: %s\n", to, strerror(errno));
		return -1;
	}
	if (rename(from, to) < 0) {
		fprintf(stderr, "report: rename %s to %s: %s\n", from, to, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(from, sizeof from, "%s/%s", tmp, files[i]);
		snprintf(to, sizeof to, "%s/%s", dir, files[i]);
		if (rename(from, to) < 0) {
			fprintf(stderr, "report: rename %s to %s: %s\n", from, to, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int report_run(const char *dir, double overhead_ms, FILE *out)
{
	static struct run_dir rd; /* large: kept off the stack */
	struct prediction *pred = NULL;
	struct comparison *cmp = NULL;
	char err[1400], tmp[1100], charts[1200];
	int rc = 2, sweeps = 0;
	size_t made = 0;

	tmp[0] = '\0';
	if (run_dir_load(&rd, dir, err, sizeof err) < 0) {
		fprintf(stderr, "report: %s\n", err);
		return 2;
	}
	pred = calloc(rd.n, sizeof *pred);
	cmp = calloc(rd.n, sizeof *cmp);
	if (!pred || !cmp) {
		fprintf(stderr, "report: %s\n", strerror(errno));
		goto done;
	}
	for (; made < rd.n; made++) {
		const struct scenario *s = &rd.sc[made];
		struct model_scenario sc;
		model_of(s, overhead_ms, &sc);
		if (prediction_make(&pred[made], &sc) < 0) {
			fprintf(stderr, "report: %s/scenario.env: the model cannot run it: %s\n",
				s->dir, strerror(errno));
			goto done;
		}
		compare(s, &pred[made], strcmp(rd.load, "locust") == 0, &cmp[made]);
		sweeps |= s->sweep;
	}

	snprintf(tmp, sizeof tmp, "%s/.report-XXXXXX", dir);
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "report: mkdtemp %s: %s\n", tmp, strerror(errno));
		tmp[0] = '\0';
		goto done;
	}
	snprintf(charts, sizeof charts, "%s/charts", tmp);
	if (mkdir(charts, 0755) < 0) {
		fprintf(stderr, "report: mkdir %s: %s\n", charts, strerror(errno));
		goto done;
	}
	if (charts_draw(&rd, pred, charts) < 0)
		fprintf(stderr, "report: going on without charts\n");
	if (write_file(tmp, "summary.txt", summary_writer, &rd, pred, cmp, charts, sweeps) < 0 ||
	    write_file(tmp, "REPORT.md", write_markdown, &rd, pred, cmp, charts, sweeps) < 0 ||
	    write_file(tmp, "report.html", write_html, &rd, pred, cmp, charts, sweeps) < 0 ||
	    move_into_place(tmp, dir) < 0)
		goto done;
	write_summary(out, &rd, pred, cmp);
	rc = fflush(out) == 0 ? 0 : 2;
done:
	if (tmp[0])
		remove_tree(tmp);
	for (size_t i = 0; i < made; i++)
		prediction_free(&pred[i]);
	free(pred);
	free(cmp);
	run_dir_free(&rd);
	return rc;
}
