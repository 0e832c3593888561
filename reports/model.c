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

int model_steady(const struct model_scenario *sc, struct model_steady *out)
{
	if (sc->users < 1 || !sc->route || sc->task_ms < 0) {
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

/* --- the arrival heap: (time, seq) ascending; seq keeps FIFO among equal times */

struct arrival {
	double t;
	uint64_t seq;
};

static int before(const struct arrival *a, const struct arrival *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct arrival *h, size_t *n, struct arrival a)
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

static struct arrival heap_pop(struct arrival *h, size_t *n)
{
	struct arrival top = h[0], last = h[--(*n)];
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void model_run_free(struct model_run *run)
{
	free(run->ms);
	free(run->done_per_s);
	free(run->users_per_s);
	memset(run, 0, sizeof *run);
}

/*
 * Equal service times make FIFO on C servers simple: the i-th request to arrive
 * starts when it arrives or when the (i-C)-th finishes, whichever is later — so a
 * ring of the last C start times replaces the server state. Arrivals come from a
 * heap (spawns, and each user's next send after its wait).
 */
int model_simulate(const struct model_scenario *sc, struct model_run *out)
{
	struct model_steady st;
	struct arrival *heap = NULL;
	double *ring = NULL;
	size_t nheap = 0, cap_ms = 1024;
	uint64_t seq = 0, rng = sc->seed;
	double s_s, t_end = sc->run_time_s;

	memset(out, 0, sizeof *out);
	if (model_steady(sc, &st) < 0 || sc->run_time_s <= 0) {
		errno = EINVAL;
		return -1;
	}
	s_s = st.service_ms / 1e3;
	int c = st.capacity < sc->users ? st.capacity : sc->users;
	out->seconds = (int)ceil(t_end);
	heap = malloc(sizeof *heap * (size_t)sc->users);
	ring = malloc(sizeof *ring * (size_t)c);
	out->ms = malloc(sizeof *out->ms * cap_ms);
	out->done_per_s = calloc((size_t)out->seconds + 1, sizeof *out->done_per_s);
	out->users_per_s = calloc((size_t)out->seconds + 1, sizeof *out->users_per_s);
	if (!heap || !ring || !out->ms || !out->done_per_s || !out->users_per_s)
		goto fail;
	for (int i = 0; i < c; i++)
		ring[i] = -INFINITY;
	for (int k = 0; k < sc->users; k++) {
		double t = model_spawn_time_s(sc, k);
		if (t < t_end)
			heap_push(heap, &nheap, (struct arrival){ t, seq++ });
		for (int sec = (int)ceil(t); sec <= out->seconds; sec++)
			if (t <= sec)
				out->users_per_s[sec]++;
	}

	for (uint64_t i = 0; nheap > 0; i++) {
		struct arrival a = heap_pop(heap, &nheap);
		if (a.t >= t_end)
			break; /* the heap is ordered: nobody sends any more */
		double *slot = &ring[i % (uint64_t)c];
		double start = *slot + s_s > a.t ? *slot + s_s : a.t;
		double done = start + s_s;
		*slot = start;
		out->sent++;
		/* Locust kills the user mid-request at the stop: never recorded. A real
		 * request always takes a little longer than its tasks, so one due
		 * exactly at the stop is late too (runs are often whole rounds long). */
		if (done >= t_end) {
			out->unfinished++;
			continue;
		}
		if ((size_t)out->reqs == cap_ms) {
			double *grown = realloc(out->ms, sizeof *grown * cap_ms * 2);
			if (!grown)
				goto fail;
			out->ms = grown;
			cap_ms *= 2;
		}
		/* to the microsecond: sums of seconds drift by 1e-15, and 99.99999 ms
		 * would print as Locust's truncated 99 */
		out->ms[out->reqs++] = round((done - a.t) * 1e6) / 1e3;
		out->done_per_s[(int)floor(done)]++;
		if (done > out->last_done_s)
			out->last_done_s = done;
		double wait = sc->wait_min_s;
		if (sc->wait_max_s > sc->wait_min_s)
			wait += (sc->wait_max_s - sc->wait_min_s) *
				(sc->seed ? uniform01(&rng) : 0.5);
		heap_push(heap, &nheap, (struct arrival){ done + wait, seq++ });
	}
	qsort(out->ms, (size_t)out->reqs, sizeof *out->ms, cmp_double);
	out->rps = out->last_done_s > 0 ? out->reqs / out->last_done_s : 0;
	free(heap);
	free(ring);
	return 0;
fail:
	free(heap);
	free(ring);
	model_run_free(out);
	errno = ENOMEM;
	return -1;
}
