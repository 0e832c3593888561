/*
 * model — what a load test of one route should measure, before it runs.
 *
 * Two answers for one scenario (a route, its server's capacity, a Locust load):
 *   - model_steady(): the closed form. Service time S from the route's plan,
 *     capacity C in concurrent requests, N users with think time Z:
 *         X = min(N / (S + Z), C / S)      R = N / X - Z   (Little's law)
 *   - model_simulate(): the whole run as a discrete-event simulation of the
 *     closed system — users spawned as Locust spawns them, a queue in front of
 *     C equal servers in each worker process (the users split over the
 *     processes as measured, each keeping its process for the whole run as a
 *     keep-alive connection does; served in FIFO, LIFO or random order), the
 *     finite window and Locust's accounting (a request
 *     counts only when it completes before the stop — one due exactly at the
 *     stop counts as late, as any real one would be; req/s = count / time of
 *     the last completed request). It sees the ramp-up transient that the closed
 *     form misses. Deterministic, and milliseconds even for a 5-minute run.
 *
 * Functions returning int return 0 on success and -1 on failure (out of memory,
 * or a scenario that makes no sense), with errno set.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

#include "routes.h"

/* Worker processes a split may name (`SPLIT=a,b,...`). */
#define MODEL_SPLIT_MAX 64

/* The order in which a worker process serves the requests waiting for it. */
enum model_order {
	MODEL_ORDER_FIFO,   /* first come, first served: bin/blocking, CivetWeb's queue */
	MODEL_ORDER_LIFO,   /* newest waiter first: anyio 3.6's CapacityLimiter wakes the
			     * waiter OrderedDict.popitem() returns, the last one added */
	MODEL_ORDER_RANDOM, /* any waiter, uniformly (seeded) */
};

struct model_scenario {
	const struct route *route;
	double task_ms;       /* one slow task */
	int users;            /* N, Locust's -u */
	double spawn_rate;    /* Locust's -r, users per second */
	double run_time_s;    /* Locust's -t, ramp-up included */
	double wait_min_s;    /* Locust wait_time between(min, max); 0, 0 = constant(0) */
	double wait_max_s;
	int threads;          /* blocking world: worker threads */
	int helpers;          /* blocking world: the fan-out helper pool (<= 0: unbounded) */
	int workers;          /* evented world: event-loop processes */
	double overhead_ms;   /* per-request cost beside the tasks (network, parsing) */
	unsigned seed;        /* 0: every wait is the mean; else a seeded uniform draw */
	/* Users per worker process, as measured (their sum is users). nsplit <= 1:
	 * one queue for the whole server. Otherwise threads, helpers (blocking) or
	 * workers (evented) are divided evenly among nsplit processes, each with
	 * its own queue; user k goes to the process furthest below its share. */
	int split[MODEL_SPLIT_MAX];
	int nsplit;
	enum model_order order;
};

/* Which bound of X = min(N/(S+Z), C/S) holds the throughput down. */
enum model_bound {
	MODEL_BOUND_USERS,    /* too few users to fill the server: R = S */
	MODEL_BOUND_CAPACITY, /* every server busy: requests queue, R grows with N */
};

struct model_steady {
	double service_ms;    /* S, overhead included */
	double think_ms;      /* Z, the mean wait */
	int capacity;         /* C: requests served at once */
	int unbounded;        /* C is not a server limit (timers on an event loop) */
	double x_per_s;       /* X */
	double r_ms;          /* R */
	enum model_bound bound;
	char why[200];        /* one sentence: which bound binds, and why */
};

/* One counted request of the simulated run: when it completed, how long it took. */
struct model_done {
	double at_s;
	double ms;
};

struct model_run {
	long sent;            /* requests sent before the stop */
	long reqs;            /* completed inside the window: Locust's "# reqs" */
	long unfinished;      /* sent but still in flight at the stop (Locust drops them) */
	long users_answered;  /* users with at least one counted request: under LIFO the
			       * rest waited the whole run, which Locust's table never shows */
	double last_done_s;   /* completion time of the last counted request */
	double rps;           /* Locust's total req/s: reqs / last_done_s */
	double *ms;           /* response times of counted requests, ascending; malloc'd */
	struct model_done *done; /* the same requests in the order they completed (the run
	                            over time, for windowed percentiles); malloc'd, reqs long */
	long *done_per_s;     /* completions in each second of the run; malloc'd */
	int *users_per_s;     /* users spawned by the end of each second; malloc'd */
	int seconds;          /* length of the two arrays above: ceil(run_time_s) */
};

/* Service time S of one request in ms: critical-path tasks x task_ms + overhead. */
double model_service_ms(const struct model_scenario *sc);

/* Capacity C: blocking = threads (fan-out also bounded by helpers / tasks at
 * once); evented = users (timers never hold a server) except the blocking-loop
 * mistake, where each worker serves one request at a time: C = workers. */
int model_capacity(const struct model_scenario *sc, int *unbounded);

/* The closed form. Returns 0, or -1 (EINVAL) for a scenario with no users. */
int model_steady(const struct model_scenario *sc, struct model_steady *out);

/* When Locust has spawned user k (0-based): batches of max(1, floor(r)) users
 * every batch / r seconds, the first batch at 0. */
double model_spawn_time_s(const struct model_scenario *sc, int k);

/* The simulation. On success *out owns memory; release it with model_run_free(). */
int model_simulate(const struct model_scenario *sc, struct model_run *out);
void model_run_free(struct model_run *run);

/* "fifo", "lifo", "random" -> 0 and *out, or -1 (EINVAL); and back. */
int model_order_parse(const char *s, enum model_order *out);
const char *model_order_name(enum model_order o);

/* "a,b,..." (each >= 0, at most MODEL_SPLIT_MAX) into sc->split/nsplit.
 * Returns 0, or -1 (EINVAL) on anything else. */
int model_split_parse(const char *s, struct model_scenario *sc);

/* Capacity of worker process p (0-based) when the scenario is split. */
int model_process_capacity(const struct model_scenario *sc, int p, int *unbounded);

/* Default values of a scenario for a route: the seed experiment's servers. */
void model_scenario_init(struct model_scenario *sc, const struct route *r);

#endif
