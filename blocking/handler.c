#include "handler.h"

#include "cpu_task.h"
#include "db_pool.h"
#include "helper_pool.h"
#include "query.h"
#include "routes.h"
#include "task.h"

#include <civetweb.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* /metrics text: ~60 lines plus 6 per route slot; 64 KiB leaves ample room. */
#define METRICS_CAP (64 * 1024)

static atomic_int draining;
/* Requests admitted to run their route's plan and not yet answered: the work a
 * drain must wait for (503s and scrapes are not). */
static atomic_long admitted;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Head and (unless HEAD) body. Connection: close because a worker must never
 * be held by an idle client between requests (keep-alive is off in CivetWeb too). */
static int send_response(struct mg_connection *c, int status, const char *type,
			 const char *extra, const char *body, size_t len, int is_head)
{
	mg_printf(c,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: %s\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n"
		  "%s"
		  "Connection: close\r\n\r\n",
		  status, mg_get_response_code_text(c, status), type, len, extra ? extra : "");
	if (!is_head && len > 0)
		mg_write(c, body, len);
	return status;
}

/* {"error": "why"}, with anything that is not plain printable ASCII replaced, so
 * text taken from the request cannot break the JSON. */
static int send_error(struct mg_connection *c, int status, const char *extra, int is_head,
		      const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int send_error(struct mg_connection *c, int status, const char *extra, int is_head,
		      const char *fmt, ...)
{
	char why[256], body[320];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	for (char *p = why; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			*p = '?';
	n = snprintf(body, sizeof body, "{\"error\": \"%s\"}", why);
	return send_response(c, status, "application/json", extra, body, (size_t)n, is_head);
}

static int serve_metrics(struct mg_connection *c, const struct handler_config *cfg, int is_head)
{
	char *buf = malloc(METRICS_CAP); /* worker stacks are only 100 KiB */
	struct metrics_view v = cfg->view;
	int n, status;

	if (buf == NULL)
		return send_error(c, 500, NULL, is_head, "out of memory");
	v.draining = atomic_load(&draining);
	n = metrics_render(buf, METRICS_CAP, &v);
	if (n < 0)
		status = send_error(c, 500, NULL, is_head, "metrics exceed %d bytes", METRICS_CAP);
	else
		status = send_response(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
				       buf, (size_t)n, is_head);
	free(buf);
	return status;
}

/* Runs the route's tasks on this worker thread (and, for a fan-out, on helpers
 * while this thread waits for them). Each task gets the original's argument
 * (1, 2, 3; 0, 1, 2 fanned out; the previous result when dependent) and must
 * hand it back. On a CPU route a task waits (only when ?ms= asks), then works
 * for cpu_ms on this thread. Returns 0, or the HTTP status of the first failed
 * task with its reason in why. */
static int run_plan(const struct route *r, const struct handler_config *cfg, long ms,
		    long cpu_ms, char *why, size_t cap)
{
	struct helper_job jobs[ROUTE_MAX_TASKS];
	struct task tasks[ROUTE_MAX_TASKS];
	int32_t prev = 1;
	int slot;

	for (int i = 0; i < r->tasks; i++)
		tasks[i] = (struct task){ .db = cfg->db, .slot = -1, .ms = ms,
					  .arg = r->plan == PLAN_THREAD_FANOUT ? i : i + 1 };
	switch (r->plan) {
	case PLAN_SEQUENTIAL:
	case PLAN_DEPENDENT:
		/* One connection for the whole request, as `with pool.connection()`
		 * (none for pure CPU work, which never queries). */
		slot = cfg->db && !(r->cpu != CPU_NONE && ms == 0) ? db_pool_take(cfg->db) : -1;
		for (int i = 0; i < r->tasks; i++) {
			if (r->plan == PLAN_DEPENDENT)
				tasks[i].arg = prev;
			tasks[i].slot = slot;
			if (r->cpu != CPU_NONE && ms == 0)
				tasks[i].value = tasks[i].arg; /* pure work: nothing to wait for */
			else if (task_run(&tasks[i]) != 0)
				break;
			if (r->cpu == CPU_THREAD)
				cpu_task_run(cpu_ms);
			prev = tasks[i].value;
		}
		if (slot >= 0)
			db_pool_give(cfg->db, slot);
		break;
	case PLAN_THREAD_FANOUT:
		for (int i = 0; i < r->tasks; i++)
			jobs[i] = (struct helper_job){ .run = task_job, .arg = &tasks[i] };
		helper_pool_run(cfg->helpers, jobs, r->tasks);
		break;
	default:
		snprintf(why, cap, "plan %s is not run by this server", route_plan_name(r->plan));
		return 500;
	}
	for (int i = 0; i < r->tasks; i++) {
		if (tasks[i].status != 0) {
			snprintf(why, cap, "%s", tasks[i].why);
			return tasks[i].status;
		}
		if (tasks[i].value != tasks[i].arg) {
			snprintf(why, cap, "task %d was given %d and returned %d", i + 1,
				 (int)tasks[i].arg, (int)tasks[i].value);
			return 500;
		}
	}
	metrics_tasks_done(r->tasks, ms);
	return 0;
}

/* CivetWeb leaves the local URI NULL for an absolute URI naming another host. */
static const char *ri_path(const struct mg_request_info *ri)
{
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	return path ? path : "";
}

static int serve_route(struct mg_connection *c, const struct handler_config *cfg,
		       const struct mg_request_info *ri, const struct route *r, int is_head);

/*
 * The framing CivetWeb 1.15 lets through: Content-Length twice, or beside
 * Transfer-Encoding, is how requests are smuggled past a proxy that frames them
 * the other way (RFC 9112 section 6.3), so it is refused even though keep-alive
 * is off here; and CivetWeb keeps only the first MG_MAX_HEADERS fields and drops
 * the rest silently, so a full table means fields were lost. Returns the status
 * sent, or 0 when the framing is fine.
 */
static int refuse_bad_framing(struct mg_connection *c, const struct mg_request_info *ri,
			      int is_head)
{
	int lengths = 0, chunked = 0;

	if (ri->num_headers >= MG_MAX_HEADERS)
		return send_error(c, 431, NULL, is_head,
				  "%d or more header fields; those past %d would be dropped",
				  MG_MAX_HEADERS, MG_MAX_HEADERS);
	for (int i = 0; i < ri->num_headers; i++) {
		const char *name = ri->http_headers[i].name;
		if (name == NULL)
			continue;
		lengths += strcasecmp(name, "Content-Length") == 0;
		chunked |= strcasecmp(name, "Transfer-Encoding") == 0;
	}
	if (lengths > 1)
		return send_error(c, 400, NULL, is_head, "Content-Length given %d times", lengths);
	if (lengths == 1 && chunked)
		return send_error(c, 400, NULL, is_head,
				  "both Content-Length and Transfer-Encoding");
	return 0;
}

static int dispatch(struct mg_connection *c, const struct handler_config *cfg,
		    const struct mg_request_info *ri, const char **label)
{
	const char *path = ri_path(ri);
	const char *method = ri->request_method;
	int is_head = strcmp(method, "HEAD") == 0;
	int readable = is_head || strcmp(method, "GET") == 0;
	const struct route *r;
	int status;

	*label = METRICS_ROUTE_OTHER;
	status = refuse_bad_framing(c, ri, is_head);
	if (status != 0)
		return status;
	if (strcmp(path, METRICS_ROUTE_SELF) == 0) {
		*label = METRICS_ROUTE_SELF;
		if (!readable)
			return send_error(c, 405, "Allow: GET, HEAD\r\n", 0,
					  "method %s not allowed; use GET or HEAD", method);
		return serve_metrics(c, cfg, is_head);
	}
	r = routes_find_path(path, strlen(path));
	if (r != NULL && r->world != WORLD_BLOCKING)
		r = NULL; /* the evented world's routes live in bin/evented */
	if (r != NULL)
		*label = r->path;
	/* Admitted before the flag is read: a drain that sees none admitted knows no
	 * request slipped past the flag. A 503 leaves at once, so a stream of them
	 * cannot hold the drain open. */
	atomic_fetch_add(&admitted, 1);
	if (atomic_load(&draining)) {
		atomic_fetch_sub(&admitted, 1);
		return send_error(c, 503, NULL, is_head, "server is shutting down");
	}
	status = serve_route(c, cfg, ri, r, is_head);
	atomic_fetch_sub(&admitted, 1);
	return status;
}

/* An admitted request: the errors a route can have, else its plan and body. */
static int serve_route(struct mg_connection *c, const struct handler_config *cfg,
		       const struct mg_request_info *ri, const struct route *r, int is_head)
{
	const char *query = ri->query_string ? ri->query_string : "";
	const char *method = ri->request_method;
	int readable = is_head || strcmp(method, "GET") == 0;
	char why_plan[PG_WHY_MAX + 64];
	const char *why;
	int status;
	long ms, cpu_ms;

	if (r == NULL)
		return send_error(c, 404, NULL, is_head,
				  "no route %s on this server; see the route table", ri_path(ri));
	if (!readable)
		return send_error(c, 405, "Allow: GET, HEAD\r\n", 0,
				  "method %s not allowed on %s; use GET or HEAD", method, r->path);
	/* CPU routes wait only when asked: their default task is pure work */
	if (query_task_ms(query, strlen(query), r->cpu != CPU_NONE ? 0 : cfg->task_ms, &ms,
			  &why) < 0 ||
	    query_cpu_ms(query, strlen(query), cfg->task_cpu_ms, &cpu_ms, &why) < 0)
		return send_error(c, 400, NULL, is_head, "%s", why);
	status = run_plan(r, cfg, ms, cpu_ms, why_plan, sizeof why_plan);
	if (status != 0)
		return send_error(c, status, NULL, is_head, "%s on %s", why_plan, r->path);
	return send_response(c, 200, "application/json", NULL, r->body, strlen(r->body), is_head);
}

static int on_request(struct mg_connection *c, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	double start = now_s();
	const char *label;
	int status;

	metrics_handling_add(1);
	status = dispatch(c, cbdata, ri, &label);
	metrics_request_done(label, status, now_s() - start);
	metrics_handling_add(-1);
	return status;
}

/* The metrics-only listener: its own small pool, so a scrape never waits in the
 * main queue behind the load it is meant to observe. */
static int on_metrics_request(struct mg_connection *c, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	int is_head = strcmp(ri->request_method, "HEAD") == 0;
	double start = now_s();
	int status = refuse_bad_framing(c, ri, is_head);

	if (status != 0) {
		metrics_request_done(METRICS_ROUTE_OTHER, status, now_s() - start);
		return status;
	}
	if (strcmp(ri_path(ri), METRICS_ROUTE_SELF) != 0)
		return send_error(c, 404, NULL, is_head, "this port serves only %s",
				  METRICS_ROUTE_SELF);
	if (!is_head && strcmp(ri->request_method, "GET") != 0)
		status = send_error(c, 405, "Allow: GET, HEAD\r\n", 0,
				    "method %s not allowed; use GET or HEAD", ri->request_method);
	else
		status = serve_metrics(c, cbdata, is_head);
	metrics_request_done(METRICS_ROUTE_SELF, status, now_s() - start);
	return status;
}

/* CivetWeb's own errors (malformed request line, HTTP/2.0, oversized head) get
 * the same JSON shape as ours; they never reach a route, so they count as "other". */
static int on_civetweb_error(struct mg_connection *c, int status, const char *msg)
{
	send_error(c, status, NULL, 0, "%s", msg && *msg ? msg : "bad request");
	metrics_request_done(METRICS_ROUTE_OTHER, status, 0);
	return 0;
}

static int on_connection_taken(const struct mg_connection *c, void **conn_data)
{
	(void)c;
	*conn_data = NULL;
	metrics_busy_add(1);
	return 0;
}

static void on_connection_closed(const struct mg_connection *c)
{
	(void)c;
	metrics_busy_add(-1);
}

void handler_callbacks(struct mg_callbacks *cb)
{
	cb->init_connection = on_connection_taken;
	cb->connection_closed = on_connection_closed;
	cb->http_error = on_civetweb_error;
}

int handler_install(struct mg_context *ctx, struct handler_config *cfg)
{
	if (cfg->helpers == NULL || cfg->task_ms < 0 || cfg->task_ms > ROUTE_MS_MAX ||
	    cfg->task_cpu_ms < 0 || cfg->task_cpu_ms > ROUTE_CPU_MS_MAX) {
		fprintf(stderr, "handler: no helper pool, or task_ms or task_cpu_ms out of range\n");
		return -1;
	}
	/* "**" is CivetWeb's match-everything pattern: one handler sees every URI. */
	mg_set_request_handler(ctx, "**", on_request, cfg);
	return 0;
}

void handler_install_metrics(struct mg_context *ctx, struct handler_config *cfg)
{
	mg_set_request_handler(ctx, "**", on_metrics_request, cfg);
}

void handler_drain_begin(void)
{
	atomic_store(&draining, 1);
}

long handler_admitted(void)
{
	return atomic_load(&admitted);
}
