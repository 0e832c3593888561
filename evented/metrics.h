/*
 * metrics — one worker's counters, and the Prometheus text for all workers.
 *
 * Each worker thread is the only writer of its own struct metrics; /metrics,
 * answered by whichever worker got the request, reads every worker's struct.
 * So a write is a relaxed atomic load and store of the writer's own value (one
 * writer needs no read-modify-write: no locked instruction on every request)
 * and reads are relaxed atomic loads: no lock, no torn values, and the sum is
 * as fresh as a scrape needs.
 */
#ifndef METRICS_H
#define METRICS_H

#include "pg_task.h"
#include "routes.h"

#include <stddef.h>
#include <stdint.h>

#define METRICS_ROUTES 16  /* route table slots, then "/metrics", then "other" */
#define METRICS_STATUSES 11 /* 200 400 404 405 408 413 431 500 503 504 505 */
#define METRICS_BUCKETS 17 /* timer lateness upper bounds, +Inf kept apart */

struct metrics {
	uint64_t requests[METRICS_ROUTES][METRICS_STATUSES];
	int64_t connections_open;
	int64_t requests_in_flight;
	int64_t timers_pending;      /* task timers sleeping (not connection timeouts) */
	uint64_t lateness[METRICS_BUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
	uint64_t lateness_sum_ns;
	int64_t lateness_max_ns;
	uint64_t accept_pauses;      /* accept stopped for descriptor exhaustion or --max-conns */
	uint64_t abandoned;          /* requests whose client hung up before the answer */
	struct pg_stats db;          /* the worker's connection pool (size 0: none) */
};

static inline void metrics_add(int64_t *gauge, int64_t delta)
{
	__atomic_store_n(gauge, __atomic_load_n(gauge, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}

static inline void metrics_inc(uint64_t *counter)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* Slot of a route, "/metrics" (route NULL, is_metrics 1) or anything else. */
int metrics_slot(const struct route *r, int is_metrics);

void metrics_request(struct metrics *m, int slot, int status);
void metrics_lateness(struct metrics *m, int64_t late_ns);

/* Writes the exposition for n workers' metrics into buf; returns its length,
 * or 0 when cap was too small. */
size_t metrics_render(char *buf, size_t cap, struct metrics *const *workers, int n);

#endif
