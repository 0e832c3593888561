#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void model_scenario_init(struct model_scenario *sc, const struct route *r)
{
	memset(sc, 0, sizeof *sc);
	sc->route = r;
	sc->task_ms = ROUTE_DEFAULT_TASK_MS;
	sc->users = 500;
	sc->spawn_rate = 50;
	sc->run_time_s = 300;
	sc->threads = 80;
	sc->helpers = 240;
	sc->workers = 2;
}

double model_service_ms(const struct model_scenario *sc)
{
	return route_critical_tasks(sc->route, sc->helpers) * sc->task_ms + sc->overhead_ms;
}

int model_capacity(const struct model_scenario *sc, int *unbounded)
{
	const struct route *r = sc->route;
	int c;
	*unbounded = 0;
	if (r->world == WORLD_BLOCKING) {
		c = sc->threads;
		/* A fanned-out request holds min(tasks, concurrency) helpers at once;
		 * the pool runs out before the threads do when it is smaller. */
		if (r->plan == PLAN_THREAD_FANOUT && sc->helpers > 0) {
			int per = r->tasks < r->concurrency ? r->tasks : r->concurrency;
			int by_helpers = sc->helpers / (per > 0 ? per : 1);
			if (by_helpers < 1)
				by_helpers = 1;
			if (by_helpers < c)
				c = by_helpers;
		}
	} else if (r->plan == PLAN_BLOCKING_LOOP) {
		c = sc->workers; /* the loop sleeps: one request per worker at a time */
	} else {
		c = sc->users;   /* timers hold no server: every user is served at once */
		*unbounded = 1;
	}
	return c < 1 ? 1 : c;
}

int model_order_parse(const char *s, enum model_order *out)
{
	static const char *const names[] = { "fifo", "lifo", "random" };
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum model_order)i;
			return 0;
		}
	errno = EINVAL;
	return -1;
}

const char *model_order_name(enum model_order o)
{
	switch (o) {
	case MODEL_ORDER_FIFO: return "fifo";
	case MODEL_ORDER_LIFO: return "lifo";
	case MODEL_ORDER_RANDOM: return "random";
	}
	return "?";
}

int model_split_parse(const char *s, struct model_scenario *sc)
{
	int n = 0;
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || *p == '-' || *p == '+' || errno || v > 1000000 ||
		    n == MODEL_SPLIT_MAX || (*end != ',' && *end != '\0'))
			goto fail;
		sc->split[n++] = (int)v;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	sc->nsplit = n;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

/* Process p's even share of a total: the first (total % n) processes get one more. */
static int share(int total, int n, int p)
{
	return total / n + (p < total % n ? 1 : 0);
}

int model_process_capacity(const struct model_scenario *sc, int p, int *unbounded)
{
	if (sc->nsplit <= 1)
		return model_capacity(sc, unbounded);
	struct model_scenario one = *sc;
	one.threads = share(sc->threads, sc->nsplit, p);
	one.helpers = sc->helpers > 0 ? share(sc->helpers, sc->nsplit, p) : sc->helpers;
	one.workers = share(sc->workers, sc->nsplit, p);
	one.users = sc->split[p];
	return model_capacity(&one, unbounded);
}

/* A split must name every user once. */
static int split_valid(const struct model_scenario *sc)
{
	if (sc->nsplit <= 1)
		return 1;
	long sum = 0;
	for (int p = 0; p < sc->nsplit; p++) {
		if (sc->split[p] < 0)
			return 0;
		sum += sc->split[p];
	}
	return sc->nsplit <= MODEL_SPLIT_MAX && sum == sc->users;
}

int model_steady(const struct model_scenario *sc, struct model_steady *out)
{
	if (sc->users < 1 || !sc->route || sc->task_ms < 0 || !split_valid(sc)) {
		errno = EINVAL;
		return -1;
	}
	memset(out, 0, sizeof *out);
	double s = model_service_ms(sc), z = (sc->wait_min_s + sc->wait_max_s) / 2 * 1e3;
	int n = sc->users;
	out->service_ms = s;
	out->think_ms = z;
	out->capacity = model_capacity(sc, &out->unbounded);
	double by_users = s + z > 0 ? n / ((s + z) / 1e3) : INFINITY;
	double by_capacity = s > 0 ? out->capacity / (s / 1e3) : INFINITY;
	out->bound = by_capacity < by_users ? MODEL_BOUND_CAPACITY : MODEL_BOUND_USERS;
	out->x_per_s = out->bound == MODEL_BOUND_CAPACITY ? by_capacity : by_users;
	if (sc->nsplit > 1) {
		/* Separate queues: X is the sum of each process's own bound, so an
		 * idle thread in one process cannot serve a user queued in another. */
		double x = 0;
		int cap = 0, any_capacity = 0;
		for (int p = 0; p < sc->nsplit; p++) {
			int unb, c = model_process_capacity(sc, p, &unb);
			double bu = s + z > 0 ? sc->split[p] / ((s + z) / 1e3) : INFINITY;
			double bc = s > 0 && !unb ? c / (s / 1e3) : INFINITY;
			any_capacity |= bc < bu;
			x += bc < bu ? bc : bu;
			cap += c;
		}
		if (!out->unbounded)
			out->capacity = cap;
		out->bound = any_capacity ? MODEL_BOUND_CAPACITY : MODEL_BOUND_USERS;
		out->x_per_s = x;
	}
	out->r_ms = isinf(out->x_per_s) ? 0 : n / out->x_per_s * 1e3 - z;
	if (out->r_ms < s)
		out->r_ms = s; /* rounding only: R never drops below one service */

	const struct route *r = sc->route;
	if (out->bound == MODEL_BOUND_USERS && out->unbounded)
		snprintf(out->why, sizeof out->why,
			 "users bind: timers hold no thread, so all %d users are served at once", n);
	else if (out->bound == MODEL_BOUND_USERS)
		snprintf(out->why, sizeof out->why,
			 "users bind: %d users never fill the %d %s", n, out->capacity,
			 r->world == WORLD_BLOCKING ? "threads" : "workers");
	else if (r->world == WORLD_BLOCKING)
		snprintf(out->why, sizeof out->why,
			 "capacity binds: %d users queue for %d threads, each held %.0f ms",
			 n, out->capacity, s);
	else
		snprintf(out->why, sizeof out->why,
			 "capacity binds: the loop sleeps, so %d worker%s serve%s one request at a time",
			 out->capacity, out->capacity == 1 ? "" : "s", out->capacity == 1 ? "s" : "");
	if (sc->nsplit > 1) {
		/* Name the split: it is why X and the tail differ from one queue. */
		size_t len = strlen(out->why);
		int w = snprintf(out->why + len, sizeof out->why - len, "; %d processes, users",
				 sc->nsplit);
		for (int p = 0; p < sc->nsplit && w > 0; p++) {
			len = strlen(out->why);
			w = snprintf(out->why + len, sizeof out->why - len, "%s%d", p ? "/" : " ",
				     sc->split[p]);
		}
	}
	return 0;
}

double model_spawn_time_s(const struct model_scenario *sc, int k)
{
	if (sc->spawn_rate <= 0)
		return 0;
	int batch = (int)floor(sc->spawn_rate);
	if (batch < 1)
		batch = 1;
	return (double)(k / batch) * batch / sc->spawn_rate;
}

/* --- the event heap: (time, kind, seq) ascending. At one instant a completion
 * comes before an arrival: a server frees its thread (and wakes a waiter) before
 * the answered user's next request can reach it; seq keeps FIFO among equals. */

enum event_kind { EV_DONE, EV_ARRIVE };

struct event {
	double t;
	enum event_kind kind;
	uint64_t seq;
	int user;
};

static int before(const struct event *a, const struct event *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->kind != b->kind)
		return a->kind < b->kind;
	return a->seq < b->seq;
}

static void heap_push(struct event *h, size_t *n, struct event a)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&a, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = a;
}

static struct event heap_pop(struct event *h, size_t *n)
{
	struct event top = h[0], last = h[--(*n)];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && before(&h[c + 1], &h[c]))
			c++;
		if (!before(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n > 0)
		h[i] = last;
	return top;
}

/* splitmix64: a seeded, portable stream for the uniform wait time. */
static double uniform01(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (z >> 11) * (1.0 / 9007199254740992.0);
}

/* --- one worker process: its servers and the users waiting for one. The queue
 * is a ring of user ids holding at most the process's users; the service order
 * is only which end (or which slot) ring_take reads. */

struct ring {
	int *id;
	int cap, head, len;
};

struct process {
	int capacity, busy, unbounded;
	struct ring wait; /* for a server, in the scenario's order */
};

static void ring_put(struct ring *r, int user)
{
	r->id[(r->head + r->len++) % r->cap] = user;
}

static int ring_take(struct ring *r, enum model_order order, uint64_t *rng)
{
	int at = 0; /* offset from the head */
	if (order == MODEL_ORDER_LIFO)
		at = r->len - 1;
	else if (order == MODEL_ORDER_RANDOM)
		at = (int)(uniform01(rng) * r->len);
	int *slot = &r->id[(r->head + at) % r->cap];
	int user = *slot;
	/* random: the last waiter fills the hole (order among the rest is moot) */
	if (order == MODEL_ORDER_RANDOM)
		*slot = r->id[(r->head + r->len - 1) % r->cap];
	if (order == MODEL_ORDER_FIFO)
		r->head = (r->head + 1) % r->cap;
	r->len--;
	return user;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void model_run_free(struct model_run *run)
{
	free(run->ms);
	free(run->done);
	free(run->done_per_s);
	free(run->users_per_s);
	memset(run, 0, sizeof *run);
}

/* User k, in spawn order, joins the process furthest below its share of the
 * split (ties to the lower index): a measured split says how many, not which. */
static int assign_users(const struct model_scenario *sc, int *proc_of)
{
	int n = sc->nsplit > 1 ? sc->nsplit : 1;
	int *given = calloc((size_t)n, sizeof *given);
	if (!given)
		return -1;
	for (int k = 0; k < sc->users; k++) {
		int best = 0;
		double best_fill = INFINITY;
		for (int p = 0; p < n; p++) {
			int want = n > 1 ? sc->split[p] : sc->users;
			if (given[p] >= want)
				continue;
			double fill = (given[p] + 1.0) / want;
			if (fill < best_fill) {
				best_fill = fill;
				best = p;
			}
		}
		proc_of[k] = best;
		given[best]++;
	}
	free(given);
	return 0;
}

/* Starts user u's request on one of process p's servers at time t. */
static void serve(struct process *p, struct event *heap, size_t *nheap, uint64_t *seq,
		  int u, double t, double s_s)
{
	p->busy++;
	heap_push(heap, nheap, (struct event){ t + s_s, EV_DONE, (*seq)++, u });
}

/*
 * Arrivals and completions from one heap. An arrival takes a free server of its
 * user's process or joins that process's queue; a completion records the
 * response, wakes a waiter in the process's order and schedules the user's next
 * send after its wait. With one process, FIFO and equal service times this is
 * the queue the closed form describes, request for request.
 */
int model_simulate(const struct model_scenario *sc, struct model_run *out)
{
	struct model_steady st;
	struct event *heap = NULL;
	struct process *procs = NULL;
	int *proc_of = NULL, *queues = NULL;
	double *sent_at = NULL;
	char *answered = NULL;
	size_t nheap = 0, cap_ms = 1024;
	uint64_t seq = 0, rng = sc->seed, order_rng = sc->seed ^ 0x5eed0f0adeull;
	double s_s, t_end = sc->run_time_s;
	int nproc = sc->nsplit > 1 ? sc->nsplit : 1;

	memset(out, 0, sizeof *out);
	if (model_steady(sc, &st) < 0 || sc->run_time_s <= 0) {
		errno = EINVAL;
		return -1;
	}
	s_s = st.service_ms / 1e3;
	out->seconds = (int)ceil(t_end);
	/* each user has at most one event pending: its send or its completion */
	heap = malloc(sizeof *heap * (size_t)sc->users);
	procs = calloc((size_t)nproc, sizeof *procs);
	proc_of = malloc(sizeof *proc_of * (size_t)sc->users);
	queues = malloc(sizeof *queues * (size_t)sc->users);
	sent_at = malloc(sizeof *sent_at * (size_t)sc->users);
	answered = calloc((size_t)sc->users, 1);
	out->ms = malloc(sizeof *out->ms * cap_ms);
	out->done = malloc(sizeof *out->done * cap_ms);
	out->done_per_s = calloc((size_t)out->seconds + 1, sizeof *out->done_per_s);
	out->users_per_s = calloc((size_t)out->seconds + 1, sizeof *out->users_per_s);
	if (!heap || !procs || !proc_of || !queues || !sent_at || !answered || !out->ms ||
	    !out->done || !out->done_per_s || !out->users_per_s || assign_users(sc, proc_of) < 0)
		goto fail;
	for (int p = 0, at = 0; p < nproc; p++) {
		int users = nproc > 1 ? sc->split[p] : sc->users;
		procs[p].wait = (struct ring){ .id = queues + at, .cap = users > 0 ? users : 1 };
		at += users;
		procs[p].capacity = model_process_capacity(sc, p, &procs[p].unbounded);
	}
	for (int k = 0; k < sc->users; k++) {
		double t = model_spawn_time_s(sc, k);
		if (t < t_end)
			heap_push(heap, &nheap, (struct event){ t, EV_ARRIVE, seq++, k });
		for (int sec = (int)ceil(t); sec <= out->seconds; sec++)
			if (t <= sec)
				out->users_per_s[sec]++;
	}

	while (nheap > 0) {
		struct event e = heap_pop(heap, &nheap);
		if (e.t >= t_end)
			break; /* the heap is ordered: nothing else happens in the window */
		struct process *p = &procs[proc_of[e.user]];
		if (e.kind == EV_ARRIVE) {
			out->sent++;
			sent_at[e.user] = e.t;
			if (p->unbounded || p->busy < p->capacity)
				serve(p, heap, &nheap, &seq, e.user, e.t, s_s);
			else
				ring_put(&p->wait, e.user);
			continue;
		}
		p->busy--;
		if (p->wait.len > 0)
			serve(p, heap, &nheap, &seq, ring_take(&p->wait, sc->order, &order_rng), e.t, s_s);
		if ((size_t)out->reqs == cap_ms) {
			double *grown = realloc(out->ms, sizeof *grown * cap_ms * 2);
			if (!grown)
				goto fail;
			out->ms = grown;
			struct model_done *more = realloc(out->done, sizeof *more * cap_ms * 2);
			if (!more)
				goto fail;
			out->done = more;
			cap_ms *= 2;
		}
		/* to the microsecond: sums of seconds drift by 1e-15, and 99.99999 ms
		 * would print as Locust's truncated 99 */
		out->ms[out->reqs] = round((e.t - sent_at[e.user]) * 1e6) / 1e3;
		out->done[out->reqs] = (struct model_done){ e.t, out->ms[out->reqs] };
		out->reqs++;
		if (!answered[e.user]) {
			answered[e.user] = 1;
			out->users_answered++;
		}
		out->done_per_s[(int)floor(e.t)]++;
		if (e.t > out->last_done_s)
			out->last_done_s = e.t;
		double wait = sc->wait_min_s;
		if (sc->wait_max_s > sc->wait_min_s)
			wait += (sc->wait_max_s - sc->wait_min_s) *
				(sc->seed ? uniform01(&rng) : 0.5);
		heap_push(heap, &nheap, (struct event){ e.t + wait, EV_ARRIVE, seq++, e.user });
	}
	/* Locust kills the user mid-request at the stop: never recorded. A real
	 * request always takes a little longer than its tasks, so one due exactly
	 * at the stop is late too (runs are often whole rounds long). Under LIFO
	 * this includes the users starved in the queue the whole run. */
	out->unfinished = out->sent - out->reqs;
	qsort(out->ms, (size_t)out->reqs, sizeof *out->ms, cmp_double);
	out->rps = out->last_done_s > 0 ? out->reqs / out->last_done_s : 0;
	free(heap);
	free(procs);
	free(proc_of);
	free(queues);
	free(sent_at);
	free(answered);
	return 0;
fail:
	free(heap);
	free(procs);
	free(proc_of);
	free(queues);
	free(sent_at);
	free(answered);
	model_run_free(out);
	errno = ENOMEM;
	return -1;
}
