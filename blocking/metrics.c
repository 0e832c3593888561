#include "metrics.h"

#include "textbuf.h"

#include "helper_pool.h"
#include "pg_task.h"
#include "routes.h"
#include "tcp_queue.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statuses this server answers with, then one bucket (status="other") for
 * whatever CivetWeb reports on malformed requests (505, 413...). */
static const int statuses[] = { 200, 400, 404, 405, 431, 500, 503, 504 };
#define NKNOWN (sizeof statuses / sizeof statuses[0])
#define NSTATUS (NKNOWN + 1)

/* Per route slot: routes[0..routes_count), then /metrics, then "other". */
struct slot {
	const char *label;
	int always; /* shown with zeros even before its first request */
	atomic_long requests[NSTATUS];
	atomic_long duration_us;
	atomic_long answered;
};

static struct slot *slots;
static size_t nslots;
static atomic_long handling, started, busy, connections, tasks, task_ms;

int metrics_init(void)
{
	nslots = routes_count + 2;
	slots = calloc(nslots, sizeof *slots);
	if (slots == NULL) {
		fprintf(stderr, "metrics: calloc: %s\n", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < nslots; i++) {
		if (i < routes_count) {
			slots[i].label = routes[i].path;
			slots[i].always = routes[i].world == WORLD_BLOCKING;
		} else {
			slots[i].label = i == routes_count ? METRICS_ROUTE_SELF : METRICS_ROUTE_OTHER;
			slots[i].always = 1;
		}
		for (size_t s = 0; s < NSTATUS; s++)
			atomic_init(&slots[i].requests[s], 0);
		atomic_init(&slots[i].duration_us, 0);
		atomic_init(&slots[i].answered, 0);
	}
	return 0;
}

static struct slot *find_slot(const char *route)
{
	for (size_t i = 0; i + 1 < nslots; i++)
		if (strcmp(slots[i].label, route) == 0)
			return &slots[i];
	return &slots[nslots - 1];
}

void metrics_request_done(const char *route, int status, double seconds)
{
	struct slot *s = find_slot(route);
	size_t k = 0;

	while (k < NKNOWN && statuses[k] != status)
		k++;
	atomic_fetch_add(&s->requests[k], 1);
	atomic_fetch_add(&s->duration_us, (long)(seconds * 1e6));
	atomic_fetch_add(&s->answered, 1);
}

void metrics_handling_add(int delta)
{
	if (delta > 0)
		atomic_fetch_add(&started, 1);
	atomic_fetch_add(&handling, delta);
}

long metrics_handling(void)
{
	return atomic_load(&handling);
}

long metrics_started(void)
{
	return atomic_load(&started);
}

void metrics_busy_add(int delta)
{
	if (delta > 0)
		atomic_fetch_add(&connections, 1);
	atomic_fetch_add(&busy, delta);
}

void metrics_tasks_done(int n, long ms)
{
	atomic_fetch_add(&tasks, n);
	atomic_fetch_add(&task_ms, n * ms);
}

static void header(struct textbuf *o, const char *name, const char *type, const char *help)
{
	textbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct textbuf *o, const char *name, const char *help, long v)
{
	header(o, name, "gauge", help);
	textbuf_printf(o, "%s %ld\n", name, v);
}

int metrics_render(char *buf, size_t cap, const struct metrics_view *v)
{
	struct textbuf o;

	textbuf_init(&o, buf, cap);
	struct tcp_queue q;
	long busy_now = atomic_load(&busy);

	header(&o, "blocking_requests_total", "counter", "Requests answered, by route and status.");
	for (size_t i = 0; i < nslots; i++) {
		for (size_t k = 0; k < NSTATUS; k++) {
			long n = atomic_load(&slots[i].requests[k]);
			char status[8] = "other";
			if (n == 0 && (!slots[i].always || k == NKNOWN))
				continue;
			if (k < NKNOWN)
				snprintf(status, sizeof status, "%d", statuses[k]);
			textbuf_printf(&o, "blocking_requests_total{route=\"%s\",status=\"%s\"} %ld\n",
			    slots[i].label, status, n);
		}
	}
	header(&o, "blocking_request_handler_seconds", "summary",
	       "Time spent in the handler (after a worker took the request), by route.");
	for (size_t i = 0; i < nslots; i++) {
		if (!slots[i].always && atomic_load(&slots[i].answered) == 0)
			continue;
		textbuf_printf(&o, "blocking_request_handler_seconds_sum{route=\"%s\"} %.6f\n",
		    slots[i].label, atomic_load(&slots[i].duration_us) / 1e6);
		textbuf_printf(&o, "blocking_request_handler_seconds_count{route=\"%s\"} %ld\n",
		    slots[i].label, atomic_load(&slots[i].answered));
	}
	/* The queue, from the kernel's side: connections owed an answer, whether they
	 * wait in the accept queue, in CivetWeb's ring, or hold a worker. */
	if (v->port > 0 && tcp_queue_read(v->port, &q) == 0) {
		gauge(&o, "blocking_requests_in_flight",
		      "Connections accepted and not yet answered: waiting for a worker or on one.",
		      q.owed);
		gauge(&o, "blocking_requests_waiting",
		      "In flight but not yet on a worker thread (in flight minus busy threads).",
		      q.owed > busy_now ? q.owed - busy_now : 0);
		gauge(&o, "blocking_listen_queue",
		      "Connections in the kernel's accept queue, not yet taken by the server.",
		      q.backlog);
	}
	gauge(&o, "blocking_requests_handling", "Requests inside a handler right now.",
	      atomic_load(&handling));
	gauge(&o, "blocking_busy_threads", "Worker threads holding a connection.", busy_now);
	gauge(&o, "blocking_pool_threads", "Worker threads (--threads).", v->pool_threads);
	gauge(&o, "blocking_queue_capacity",
	      "Connections CivetWeb queues for a free worker (--queue).", v->queue_capacity);
	header(&o, "blocking_connections_total", "counter", "Connections taken by a worker thread.");
	textbuf_printf(&o, "blocking_connections_total %ld\n", atomic_load(&connections));
	if (v->helpers != NULL) {
		gauge(&o, "blocking_helper_threads", "Helper threads for fanned-out tasks (--helpers).",
		      helper_pool_threads(v->helpers));
		gauge(&o, "blocking_helpers_busy", "Helper threads running a task.",
		      helper_pool_busy(v->helpers));
		gauge(&o, "blocking_helper_jobs_queued", "Fanned-out tasks waiting for a helper.",
		      helper_pool_queued(v->helpers));
	}
	header(&o, "blocking_tasks_total", "counter", "Slow tasks run to completion.");
	textbuf_printf(&o, "blocking_tasks_total %ld\n", atomic_load(&tasks));
	header(&o, "blocking_task_seconds_total", "counter", "Seconds slept by completed tasks.");
	textbuf_printf(&o, "blocking_task_seconds_total %.3f\n", atomic_load(&task_ms) / 1e3);
	if (v->db != NULL)
		pg_stats_render(&o, "blocking", &v->db, 1);
	if (v->metrics_port > 0)
		gauge(&o, "blocking_metrics_port",
		      "Port of the metrics-only listener, whose scrapes skip the request queue.",
		      v->metrics_port);
	gauge(&o, "blocking_draining", "1 while the server drains after SIGINT/SIGTERM.",
	      v->draining);
	return o.overflow ? -1 : (int)o.len; /* -1: did not fit */
}
