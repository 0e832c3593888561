/*
 * metrics — the blocking server's counters and their Prometheus text form.
 *
 * Counters are process-wide atomics, updated from any thread without locks.
 * Requests are counted under a route label: a path of the route table,
 * METRICS_ROUTE_SELF ("/metrics"), or METRICS_ROUTE_OTHER for every other path
 * (so a scan of random URLs cannot grow the output).
 *
 * metrics_init() returns 0, or -1 (reason printed) when it cannot allocate;
 * metrics_render() returns the text's length, or -1 when cap is too small.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#define METRICS_ROUTE_SELF "/metrics"
#define METRICS_ROUTE_OTHER "other"

struct helper_pool;
struct pg_stats;

/* What the scrape shows besides the counters: fixed sizes and live gauges owned
 * by other modules. */
struct metrics_view {
	int port;              /* the listening port, to find its sockets */
	int metrics_port;      /* the metrics-only listener's port, 0 when none */
	int pool_threads;      /* --threads */
	int queue_capacity;    /* --queue */
	const struct helper_pool *helpers;
	const struct pg_stats *db;   /* the connection pool's, NULL with --backend sleep */
	int draining;
};

int metrics_init(void);

/* A request answered: route label, HTTP status (one the server does not normally
 * send is counted as status="other"), seconds in the handler. */
void metrics_request_done(const char *route, int status, double seconds);

/* Handlers running right now (+1 on entry, -1 on exit). */
void metrics_handling_add(int delta);
long metrics_handling(void);

/* Requests that reached a handler since start: lets a drain see quiet. */
long metrics_started(void);

/* Worker threads holding a connection (+1 when a worker takes one, -1 at close). */
void metrics_busy_add(int delta);

/* n tasks of ms each have run to completion. */
void metrics_tasks_done(int n, long ms);

int metrics_render(char *buf, size_t cap, const struct metrics_view *v);

#endif
