#include "metrics.h"

#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>

static const int statuses[METRICS_STATUSES] = { 200, 400, 404, 405, 408, 413, 431, 500,
								  503, 504, 505 };

/* Upper bounds in ns: a well-behaved loop lands in the first few (tens of µs);
 * /async_blocking pushes its neighbours' timers into the last ones. */
static const int64_t bounds_ns[METRICS_BUCKETS] = {
	5000, 10000, 25000, 50000, 100000, 200000, 500000, 1000000, 2000000,
	5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 1000000000,
	10000000000,
};

int metrics_slot(const struct route *r, int is_metrics)
{
	if (r != NULL)
		return (int)(r - routes);
	return (int)routes_count + (is_metrics ? 0 : 1);
}

static const char *slot_name(int slot)
{
	if (slot < (int)routes_count)
		return routes[slot].path;
	return slot == (int)routes_count ? "/metrics" : "other";
}

void metrics_request(struct metrics *m, int slot, int status)
{
	int s = METRICS_STATUSES - 1;
	for (int i = 0; i < METRICS_STATUSES; i++)
		if (statuses[i] == status)
			s = i;
	metrics_inc(&m->requests[slot][s]);
}

void metrics_lateness(struct metrics *m, int64_t late_ns)
{
	int b = 0;
	if (late_ns < 0)
		late_ns = 0;
	while (b < METRICS_BUCKETS && late_ns > bounds_ns[b])
		b++;
	metrics_inc(&m->lateness[b]);
	__atomic_store_n(&m->lateness_sum_ns,
			 __atomic_load_n(&m->lateness_sum_ns, __ATOMIC_RELAXED) + (uint64_t)late_ns,
			 __ATOMIC_RELAXED);
	/* This worker is the only writer, so a load and a store make a max. */
	if (late_ns > __atomic_load_n(&m->lateness_max_ns, __ATOMIC_RELAXED))
		__atomic_store_n(&m->lateness_max_ns, late_ns, __ATOMIC_RELAXED);
}

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

static int64_t sum_gauge(struct metrics *const *w, int n, size_t offset)
{
	int64_t s = 0;
	for (int i = 0; i < n; i++)
		s += LOAD((const int64_t *)((const char *)w[i] + offset));
	return s;
}

size_t metrics_render(char *buf, size_t cap, struct metrics *const *w, int n)
{
	struct textbuf o;

	textbuf_init(&o, buf, cap);
	uint64_t cum = 0, sum_ns = 0, pauses = 0, abandoned = 0;
	int64_t max_ns = 0;

	textbuf_printf(&o, "# HELP evented_requests_total Requests answered, by route and status.\n"
		"# TYPE evented_requests_total counter\n");
	for (int slot = 0; slot < (int)routes_count + 2; slot++) {
		for (int s = 0; s < METRICS_STATUSES; s++) {
			uint64_t v = 0;
			for (int i = 0; i < n; i++)
				v += LOAD(&w[i]->requests[slot][s]);
			/* Every evented route shows its 200 line even at 0, so a scrape
			 * before the load starts lists the series to expect. */
			int always = s == 0 && slot < (int)routes_count &&
				     routes[slot].world == WORLD_EVENTED;
			if (v == 0 && !always)
				continue;
			textbuf_printf(&o, "evented_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
			    slot_name(slot), statuses[s], (unsigned long long)v);
		}
	}
	textbuf_printf(&o, "# HELP evented_connections_open Client connections open.\n"
		"# TYPE evented_connections_open gauge\nevented_connections_open %lld\n",
	    (long long)sum_gauge(w, n, offsetof(struct metrics, connections_open)));
	/* The model needs each loop's share: users stay on the worker that accepted
	 * their kept-alive connection, and the kernel's SO_REUSEPORT hash seldom
	 * splits them evenly (the harness records it as SPLIT). */
	textbuf_printf(&o, "# HELP evented_worker_connections_open Client connections open, by worker.\n"
		"# TYPE evented_worker_connections_open gauge\n");
	for (int i = 0; i < n; i++)
		textbuf_printf(&o, "evented_worker_connections_open{worker=\"%d\"} %lld\n", i,
		    (long long)LOAD(&w[i]->connections_open));
	textbuf_printf(&o, "# HELP evented_requests_in_flight Requests parsed and not yet answered.\n"
		"# TYPE evented_requests_in_flight gauge\nevented_requests_in_flight %lld\n",
	    (long long)sum_gauge(w, n, offsetof(struct metrics, requests_in_flight)));
	textbuf_printf(&o, "# HELP evented_timers_pending Task timers sleeping in the loops' heaps.\n"
		"# TYPE evented_timers_pending gauge\nevented_timers_pending %lld\n",
	    (long long)sum_gauge(w, n, offsetof(struct metrics, timers_pending)));
	textbuf_printf(&o, "# HELP evented_timer_lateness_seconds How late task timers ran after their deadline.\n"
		"# TYPE evented_timer_lateness_seconds histogram\n");
	for (int b = 0; b <= METRICS_BUCKETS; b++) {
		for (int i = 0; i < n; i++)
			cum += LOAD(&w[i]->lateness[b]);
		if (b < METRICS_BUCKETS)
			textbuf_printf(&o, "evented_timer_lateness_seconds_bucket{le=\"%g\"} %llu\n",
			    bounds_ns[b] / 1e9, (unsigned long long)cum);
		else
			textbuf_printf(&o, "evented_timer_lateness_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	for (int i = 0; i < n; i++) {
		if (LOAD(&w[i]->lateness_max_ns) > max_ns)
			max_ns = LOAD(&w[i]->lateness_max_ns);
		sum_ns += LOAD(&w[i]->lateness_sum_ns);
		pauses += LOAD(&w[i]->accept_pauses);
		abandoned += LOAD(&w[i]->abandoned);
	}
	/* _count is the +Inf bucket as summed above, so the two always agree even
	 * while other workers keep counting. */
	textbuf_printf(&o, "evented_timer_lateness_seconds_sum %.9f\nevented_timer_lateness_seconds_count %llu\n",
	    sum_ns / 1e9, (unsigned long long)cum);
	textbuf_printf(&o, "# HELP evented_timer_lateness_max_seconds The latest any task timer ran since start.\n"
		"# TYPE evented_timer_lateness_max_seconds gauge\nevented_timer_lateness_max_seconds %.9f\n",
	    max_ns / 1e9);
	textbuf_printf(&o, "# HELP evented_accept_pauses_total Times a worker stopped accepting for a while "
		"(out of descriptors, or at --max-conns).\n"
		"# TYPE evented_accept_pauses_total counter\nevented_accept_pauses_total %llu\n",
	    (unsigned long long)pauses);
	textbuf_printf(&o, "# HELP evented_requests_abandoned_total Requests whose client hung up while "
		"their tasks slept (timers cancelled, nothing written).\n"
		"# TYPE evented_requests_abandoned_total counter\nevented_requests_abandoned_total %llu\n",
	    (unsigned long long)abandoned);
	if (LOAD(&w[0]->db.size) > 0) {
		const struct pg_stats *db[n];
		for (int i = 0; i < n; i++)
			db[i] = &w[i]->db;
		pg_stats_render(&o, "evented", db, n);
	}
	textbuf_printf(&o, "# HELP evented_workers Event loops serving the port.\n"
		"# TYPE evented_workers gauge\nevented_workers %d\n", n);
	return textbuf_len(&o);
}
