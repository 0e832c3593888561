/*
 * bin/blocking against real sockets: each route's body and timing, the worker
 * pool's waves, the error answers (bad framing included), HEAD, /metrics, a deep
 * FIFO queue capped to the descriptor limit, the CLI, and the SIGTERM drain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "routes.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Timing bounds are generous: two cores are shared with other builds and tests. */
#define SLACK_MS 400.0
#define POOL "4"

static struct proc server; /* the shared one, --threads 4 */
static struct proc own;    /* a test's own server, stopped by teardown_own even on failure */

static int start(struct proc *p, const char *threads)
{
	char *argv[] = { (char *)harness_bin("blocking"), "--listen", "127.0.0.1:0",
			 "--threads", (char *)threads, "--helpers", "12", "--task-ms", "5000",
			 NULL };
	return proc_start(p, argv);
}

static int setup(void **state)
{
	(void)state;
	return start(&server, POOL);
}

static int teardown(void **state)
{
	(void)state;
	return proc_stop(&server, SIGTERM, 10000) == 0 ? 0 : -1;
}

static int teardown_own(void **state)
{
	(void)state;
	if (own.pid > 0)
		proc_stop(&own, SIGKILL, 5000);
	return 0;
}

/* The blocking route with the given plan, from the table (never a literal path). */
static const struct route *route_with(enum route_plan plan)
{
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == WORLD_BLOCKING && routes[i].plan == plan)
			return &routes[i];
	fail_msg("no blocking route with plan %s", route_plan_name(plan));
	return NULL;
}

static const struct route *an_evented_route(void)
{
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == WORLD_EVENTED)
			return &routes[i];
	return NULL;
}

static void get(int port, const char *path, struct http_resp *r)
{
	assert_int_equal(http_get(port, path, r, 20000), 0);
}

static void assert_json_type(const struct http_resp *r)
{
	char type[128];
	assert_int_equal(http_header(r, "Content-Type", type, sizeof type), 0);
	assert_string_equal(type, "application/json");
}

static void assert_json_error(const struct http_resp *r, int status)
{
	assert_int_equal(r->status, status);
	assert_json_type(r);
	assert_true(strncmp(r->body, "{\"error\": \"", 11) == 0);
	assert_true(r->body_len > 14 && r->body[r->body_len - 1] == '}');
}

static void sequential_route_sleeps_three_times(void **state)
{
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	static struct http_resp r;
	char path[256];
	(void)state;

	snprintf(path, sizeof path, "%s?ms=50", rt->path);
	get(server.port, path, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, rt->body);
	assert_json_type(&r);
	assert_true(r.ms >= rt->tasks * 50.0);
	assert_true(r.ms < rt->tasks * 50.0 + SLACK_MS);
}

static void fanout_route_sleeps_once(void **state)
{
	const struct route *rt = route_with(PLAN_THREAD_FANOUT);
	static struct http_resp r;
	char path[256];
	(void)state;

	/* 100 ms tasks: one task's time if fanned out, three if run in turn. */
	snprintf(path, sizeof path, "%s?ms=100", rt->path);
	get(server.port, path, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, rt->body);
	assert_json_type(&r);
	assert_true(r.ms >= 100.0);
	assert_true(r.ms < 290.0);
}

struct timed_get {
	pthread_t tid;
	int port;
	const char *path;
	struct http_resp resp;
	int rc;
};

static void *timed_get_main(void *arg)
{
	struct timed_get *g = arg;
	g->rc = http_get(g->port, g->path, &g->resp, 30000);
	return NULL;
}

static int by_ms(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void eight_requests_on_four_threads_come_in_two_waves(void **state)
{
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	static struct timed_get g[8];
	double ms[8], wave = rt->tasks * 100.0;
	char path[256];
	(void)state;

	snprintf(path, sizeof path, "%s?ms=100", rt->path);
	for (int i = 0; i < 8; i++) {
		g[i] = (struct timed_get){ .port = server.port, .path = path };
		assert_int_equal(pthread_create(&g[i].tid, NULL, timed_get_main, &g[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(g[i].tid, NULL);
		assert_int_equal(g[i].rc, 0);
		assert_int_equal(g[i].resp.status, 200);
		ms[i] = g[i].resp.ms;
	}
	qsort(ms, 8, sizeof ms[0], by_ms);
	print_message("two waves: first four %.0f..%.0f ms, last four %.0f..%.0f ms\n",
		      ms[0], ms[3], ms[4], ms[7]);
	/* A second-wave client may connect a little after the first wave started, so
	 * its own clock sees slightly less than two waves. */
	assert_true(ms[0] >= wave && ms[3] < wave + SLACK_MS);
	assert_true(ms[4] >= 2 * wave - 50 && ms[7] < 2 * wave + SLACK_MS);
	assert_true(ms[4] > 1.5 * ms[3]);
}

static void errors_are_json(void **state)
{
	const struct route *rt = route_with(PLAN_SEQUENTIAL), *ev = an_evented_route();
	static struct http_resp r;
	char path[256], req[512], allow[64];
	static const char *bad_ms[] = { "ms=abc", "ms=600001", "ms=-1", "ms=", "ms=1&ms=2" };
	(void)state;

	get(server.port, "/no/such/route", &r);
	assert_json_error(&r, 404);
	if (ev != NULL) { /* the evented world's routes are not served here */
		get(server.port, ev->path, &r);
		assert_json_error(&r, 404);
	}
	for (size_t i = 0; i < sizeof bad_ms / sizeof bad_ms[0]; i++) {
		snprintf(path, sizeof path, "%s?%s", rt->path, bad_ms[i]);
		get(server.port, path, &r);
		assert_json_error(&r, 400);
		assert_non_null(strstr(r.body, "ms"));
	}
	snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
		 "Connection: close\r\n\r\n", rt->path);
	assert_int_equal(http_raw(server.port, req, strlen(req), &r, 5000), 0);
	assert_json_error(&r, 405);
	assert_int_equal(http_header(&r, "Allow", allow, sizeof allow), 0);
	assert_string_equal(allow, "GET, HEAD");
	/* Malformed requests never reach a route; CivetWeb's verdict still comes as JSON. */
	snprintf(req, sizeof req, "GARBAGE\r\n\r\n");
	assert_int_equal(http_raw(server.port, req, strlen(req), &r, 5000), 0);
	assert_json_error(&r, 400);
	snprintf(req, sizeof req, "GET %s HTTP/2.0\r\nHost: x\r\n\r\n", rt->path);
	assert_int_equal(http_raw(server.port, req, strlen(req), &r, 5000), 0);
	assert_json_error(&r, 505);
	snprintf(req, sizeof req, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(http_raw(server.port, req, strlen(req), &r, 5000), 0);
	assert_json_error(&r, 405);
}

/* Framing CivetWeb lets through is refused before routing (RFC 9112 section 6.3),
 * as JSON, counted under route "other". */
static void bad_framing_is_refused(void **state)
{
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	static struct http_resp r;
	static char req[8192];
	static const char *bad[] = {
		"Content-Length: 0\r\nContent-Length: 0\r\n",
		"Content-Length: 0\r\ncontent-length: 5\r\n",
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
		"transfer-encoding: chunked\r\nContent-Length: 0\r\n",
	};
	double before400, after400, before431, after431;
	int n;
	(void)state;

	before400 = metrics_value(server.port,
				  "blocking_requests_total{route=\"other\",status=\"400\"}");
	before431 = metrics_value(server.port,
				  "blocking_requests_total{route=\"other\",status=\"431\"}");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = snprintf(req, sizeof req, "GET %s?ms=0 HTTP/1.1\r\nHost: x\r\n%s"
			     "Connection: close\r\n\r\n0\r\n\r\n", rt->path, bad[i]);
		assert_int_equal(http_raw(server.port, req, (size_t)n, &r, 5000), 0);
		assert_json_error(&r, 400);
		assert_non_null(strstr(r.body, "Content-Length"));
	}
	/* A lone Content-Length (or a lone Transfer-Encoding) is fine. */
	n = snprintf(req, sizeof req, "GET %s?ms=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
		     "Connection: close\r\n\r\n", rt->path);
	assert_int_equal(http_raw(server.port, req, (size_t)n, &r, 5000), 0);
	assert_int_equal(r.status, 200);

	/* CivetWeb keeps 64 fields and drops the rest: a full table is refused... */
	n = snprintf(req, sizeof req, "GET %s?ms=0 HTTP/1.1\r\nHost: x\r\n", rt->path);
	for (int i = 0; i < 100; i++)
		n += snprintf(req + n, sizeof req - (size_t)n, "X-H%d: v\r\n", i);
	n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
	assert_int_equal(http_raw(server.port, req, (size_t)n, &r, 5000), 0);
	assert_json_error(&r, 431);
	/* ...and 63 fields (Host + 62) are served. */
	n = snprintf(req, sizeof req, "GET %s?ms=0 HTTP/1.1\r\nHost: x\r\n", rt->path);
	for (int i = 0; i < 62; i++)
		n += snprintf(req + n, sizeof req - (size_t)n, "X-H%d: v\r\n", i);
	n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
	assert_int_equal(http_raw(server.port, req, (size_t)n, &r, 5000), 0);
	assert_int_equal(r.status, 200);

	after400 = metrics_value(server.port,
				 "blocking_requests_total{route=\"other\",status=\"400\"}");
	after431 = metrics_value(server.port,
				 "blocking_requests_total{route=\"other\",status=\"431\"}");
	assert_true(after400 == before400 + 4);
	assert_true(after431 == before431 + 1);
}

/* Under a descriptor limit too small for the default --queue, the queue is
 * capped to fit (and said so): CivetWeb would otherwise spin on EMFILE. */
static void the_queue_fits_the_descriptor_limit(void **state)
{
	char *argv[] = { "/usr/bin/prlimit", "--nofile=200:200", (char *)harness_bin("blocking"),
			 "--listen", "127.0.0.1:0", "--threads", "8", "--helpers", "8", NULL };
	(void)state;

	if (access(argv[0], X_OK) != 0)
		skip();
	assert_int_equal(proc_start(&own, argv), 0);
	/* 200 descriptors - 8 worker connections - 64 spare */
	assert_true(metrics_value(own.port, "blocking_queue_capacity") == 200 - 8 - 64);
	assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
}

static void head_has_headers_and_no_body(void **state)
{
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	static struct http_resp r;
	char req[512], len[32];
	(void)state;

	snprintf(req, sizeof req, "HEAD %s?ms=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		 rt->path);
	assert_int_equal(http_raw(server.port, req, strlen(req), &r, 5000), 0);
	assert_int_equal(r.status, 200);
	assert_json_type(&r);
	assert_int_equal(http_header(&r, "Content-Length", len, sizeof len), 0);
	assert_int_equal(atol(len), (long)strlen(rt->body));
	assert_int_equal(r.body_len, 0);
	assert_true(r.closed); /* closed right after the head: no body bytes followed */
}

static void metrics_counters_move(void **state)
{
	const struct route *rt = route_with(PLAN_THREAD_FANOUT);
	static struct http_resp r;
	char series[256], path[256], type[128];
	double before, after, tasks_before, tasks_after;
	(void)state;

	snprintf(series, sizeof series, "blocking_requests_total{route=\"%s\",status=\"200\"}",
		 rt->path);
	snprintf(path, sizeof path, "%s?ms=10", rt->path);
	before = metrics_value(server.port, series);
	tasks_before = metrics_value(server.port, "blocking_tasks_total");
	assert_true(before >= 0 && tasks_before >= 0);
	get(server.port, path, &r);
	assert_int_equal(r.status, 200);
	after = metrics_value(server.port, series);
	tasks_after = metrics_value(server.port, "blocking_tasks_total");
	assert_true(after == before + 1);
	assert_true(tasks_after == tasks_before + rt->tasks);
	assert_true(metrics_value(server.port, "blocking_pool_threads") == atoi(POOL));
	assert_true(metrics_value(server.port, "blocking_helper_threads") == 12);
	assert_true(metrics_value(server.port, "blocking_task_seconds_total") > 0);
	/* The scrape itself is the one request in flight, on the one busy thread. */
	assert_true(metrics_value(server.port, "blocking_requests_in_flight") >= 1);
	assert_true(metrics_value(server.port, "blocking_busy_threads") >= 1);
	assert_true(metrics_value(server.port, "blocking_requests_waiting") >= 0);

	get(server.port, "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(http_header(&r, "Content-Type", type, sizeof type), 0);
	assert_non_null(strstr(type, "text/plain"));
	assert_non_null(strstr(r.body, "# TYPE blocking_requests_total counter"));
	assert_non_null(strstr(r.body, "blocking_requests_total{route=\"other\",status=\"404\"}"));
}

/* 300 clients at once on 4 threads: all wait their turn, none is refused. */
static void a_deep_queue_answers_everyone(void **state)
{
	enum { CLIENTS = 300 };
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	static int fds[CLIENTS];
	static struct http_resp r;
	char req[512];
	int n, ok = 0;
	(void)state;

	n = snprintf(req, sizeof req, "GET %s?ms=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		     rt->path);
	for (int i = 0; i < CLIENTS; i++) {
		fds[i] = http_connect(server.port);
		assert_true(fds[i] >= 0);
		assert_int_equal(http_send(fds[i], req, (size_t)n), 0);
	}
	for (int i = 0; i < CLIENTS; i++) {
		if (http_read(fds[i], &r, 0, 30000) == 0 && r.status == 200)
			ok++;
		close(fds[i]);
	}
	assert_int_equal(ok, CLIENTS);
}

/* The value of `series` (full name with labels) in a /metrics body, or -1. */
static double sample_in(const char *body, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return atof(p + n + 1);
	return -1;
}

/* Two workers, four slow requests: the metrics-only listener answers while all of
 * them are still in flight (so it did not queue behind them) and shows the queue:
 * in flight 4 = 2 on workers + 2 waiting. */
static void metrics_listener_sees_the_queue(void **state)
{
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	char *argv[] = { (char *)harness_bin("blocking"), "--listen", "127.0.0.1:0",
			 "--threads", "2", "--metrics-listen", "127.0.0.1:0", NULL };
	static struct timed_get g[4];
	static struct http_resp r;
	char path[256];
	double mport;
	(void)state;

	assert_int_equal(proc_start(&own, argv), 0);
	mport = metrics_value(own.port, "blocking_metrics_port");
	assert_true(mport > 0);
	snprintf(path, sizeof path, "%s?ms=500", rt->path); /* 1.5 s per wave */
	for (int i = 0; i < 4; i++) {
		g[i] = (struct timed_get){ .port = own.port, .path = path };
		assert_int_equal(pthread_create(&g[i].tid, NULL, timed_get_main, &g[i]), 0);
	}
	usleep(400 * 1000);
	assert_int_equal(http_get((int)mport, "/metrics", &r, 5000), 0);
	assert_int_equal(r.status, 200);
	print_message("one scrape during saturation took %.0f ms\n", r.ms);
	assert_true(sample_in(r.body, "blocking_busy_threads") == 2);
	assert_true(sample_in(r.body, "blocking_requests_in_flight") == 4);
	assert_true(sample_in(r.body, "blocking_requests_waiting") == 2);
	assert_true(sample_in(r.body, "blocking_requests_handling") == 2);
	assert_int_equal(http_get((int)mport, rt->path, &r, 5000), 0);
	assert_json_error(&r, 404); /* that port serves only /metrics */
	for (int i = 0; i < 4; i++) {
		pthread_join(g[i].tid, NULL);
		assert_int_equal(g[i].rc, 0);
		assert_int_equal(g[i].resp.status, 200);
	}
	assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
}

/* One worker: clients are served strictly in the order they connected. */
static void one_thread_serves_first_come_first(void **state)
{
	enum { CLIENTS = 6 };
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	char *argv[] = { (char *)harness_bin("blocking"), "--listen", "127.0.0.1:0",
			 "--threads", "1", NULL };
	static int fds[CLIENTS];
	static struct http_resp r;
	char req[512];
	int n;
	(void)state;

	assert_int_equal(proc_start(&own, argv), 0);
	n = snprintf(req, sizeof req, "GET %s?ms=10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		     rt->path);
	for (int i = 0; i < CLIENTS; i++) {
		fds[i] = http_connect(own.port);
		assert_true(fds[i] >= 0);
		assert_int_equal(http_send(fds[i], req, (size_t)n), 0);
		usleep(5 * 1000); /* let the kernel queue them in this order */
	}
	/* Record the order in which answers start to arrive (ready together:
	 * lowest first, which FIFO allows). */
	int order[CLIENTS], done = 0, seen[CLIENTS] = { 0 };
	double deadline = harness_now_ms() + 10000;
	while (done < CLIENTS && harness_now_ms() < deadline) {
		struct pollfd pfd[CLIENTS];
		for (int i = 0; i < CLIENTS; i++)
			pfd[i] = (struct pollfd){ .fd = seen[i] ? -1 : fds[i], .events = POLLIN };
		if (poll(pfd, CLIENTS, 1000) <= 0)
			continue;
		for (int i = 0; i < CLIENTS; i++)
			if (!seen[i] && (pfd[i].revents & (POLLIN | POLLHUP))) {
				seen[i] = 1;
				order[done++] = i;
			}
	}
	assert_int_equal(done, CLIENTS);
	for (int i = 0; i < CLIENTS; i++) {
		assert_int_equal(order[i], i);
		assert_int_equal(http_read(fds[i], &r, 0, 10000), 0);
		assert_int_equal(r.status, 200);
		close(fds[i]);
	}
}

/* A client that connects and says nothing holds its worker until
 * --request-timeout-ms: the thread-per-connection cost of slow clients. */
static void a_silent_client_holds_a_worker_until_the_timeout(void **state)
{
	const struct route *rt = route_with(PLAN_SEQUENTIAL);
	char *argv[] = { (char *)harness_bin("blocking"), "--listen", "127.0.0.1:0",
			 "--threads", "1", "--request-timeout-ms", "300", NULL };
	static struct http_resp r;
	char path[256];
	int silent;
	(void)state;

	assert_int_equal(proc_start(&own, argv), 0);
	silent = http_connect(own.port);
	assert_true(silent >= 0);
	usleep(20 * 1000); /* the worker takes the silent connection first */
	snprintf(path, sizeof path, "%s?ms=0", rt->path);
	get(own.port, path, &r);
	close(silent);
	print_message("after a silent client: answered in %.0f ms\n", r.ms);
	assert_int_equal(r.status, 200);
	/* Alone it would take ~1 ms; here it waits for the 300 ms timeout (minus
	 * the moment between the two connects). */
	assert_true(r.ms >= 150 && r.ms < 300 + SLACK_MS);
}

static int run_status(char *const argv[])
{
	struct proc p;
	if (proc_spawn(&p, argv) < 0)
		return -1;
	return proc_wait(&p, 5000);
}

static void usage_errors_exit_2(void **state)
{
	char *bin = (char *)harness_bin("blocking"), port[32];
	(void)state;

	assert_int_equal(run_status((char *[]){ bin, "--help", NULL }), 0);
	assert_int_equal(run_status((char *[]){ bin, "--bogus", NULL }), 2);
	assert_int_equal(run_status((char *[]){ bin, "--threads", "0", NULL }), 2);
	assert_int_equal(run_status((char *[]){ bin, "--task-ms", "x", NULL }), 2);
	assert_int_equal(run_status((char *[]){ bin, "--listen", "nowhere", NULL }), 2);
	assert_int_equal(run_status((char *[]){ bin, "--queue", NULL }), 2);
	assert_int_equal(run_status((char *[]){ bin, "stray", NULL }), 2);
	/* The shared server holds its port: a second bind must fail cleanly. */
	snprintf(port, sizeof port, "127.0.0.1:%d", server.port);
	assert_int_equal(run_status((char *[]){ bin, "--listen", port, NULL }), 2);
}

static void sigterm_drains_running_requests(void **state)
{
	const struct route *seq = route_with(PLAN_SEQUENTIAL), *fan = route_with(PLAN_THREAD_FANOUT);
	static struct timed_get g[6];
	static struct http_resp r;
	char slow_seq[256], slow_fan[256];
	double t0, stopped_ms;
	int rc;
	(void)state;

	assert_int_equal(start(&own, POOL), 0);
	snprintf(slow_seq, sizeof slow_seq, "%s?ms=300", seq->path);
	snprintf(slow_fan, sizeof slow_fan, "%s?ms=800", fan->path);
	/* Four hold the four workers; two more wait in the queue behind them. */
	for (int i = 0; i < 6; i++) {
		g[i] = (struct timed_get){ .port = own.port, .path = i % 2 ? slow_fan : slow_seq };
		assert_int_equal(pthread_create(&g[i].tid, NULL, timed_get_main, &g[i]), 0);
		if (i == 3)
			usleep(100 * 1000);
	}
	usleep(150 * 1000); /* none finished yet */
	t0 = harness_now_ms();
	kill(own.pid, SIGTERM);
	usleep(100 * 1000);
	/* Draining: a new request is answered 503 (after the queue, when a worker frees). */
	assert_int_equal(http_get(own.port, seq->path, &r, 5000), 0);
	assert_json_error(&r, 503);
	for (int i = 0; i < 6; i++) {
		pthread_join(g[i].tid, NULL);
		assert_int_equal(g[i].rc, 0);
		if (i < 4) { /* running when the signal came: finished and answered */
			assert_int_equal(g[i].resp.status, 200);
			assert_string_equal(g[i].resp.body, i % 2 ? fan->body : seq->body);
		} else { /* queued: answered 503 once a worker freed up, not reset */
			assert_json_error(&g[i].resp, 503);
		}
	}
	rc = proc_wait(&own, 10000);
	stopped_ms = harness_now_ms() - t0;
	print_message("drain: exit %d %.0f ms after SIGTERM\n", rc, stopped_ms);
	assert_int_equal(rc, 0);
	assert_true(stopped_ms < 900 + 2000 + 2000 + SLACK_MS); /* longest + grace + mg_stop */
	/* Stopped: nothing listens any more. */
	assert_int_equal(http_connect(own.port) < 0, 1);
}

/* /sync_cpu's three tasks of 100 ms advance the server's CPU clock by 300 ms,
 * on the worker thread (10 ms ticks, plus the request's own handling). */
static void cpu_route_uses_the_cpu_it_claims(void **state)
{
	static struct http_resp r;
	const struct route *rt = NULL;
	char path[128];
	(void)state;
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].cpu == CPU_THREAD)
			rt = &routes[i];
	assert_non_null(rt);
	snprintf(path, sizeof path, "%s?cpu_ms=100", rt->path);
	double used = http_get_cpu_ms(&server, path, &r, 10000);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, rt->body);
	print_message("%s 3 x 100 ms of CPU: server CPU +%.0f ms, %.0f ms by the clock\n",
		      rt->path, used, r.ms);
	assert_true(used >= 280); /* a tick lost at each end */
	assert_true(used < 400);
	/* a wait and a CPU task together: 3 x (100 ms asleep + 20 ms of work) */
	snprintf(path, sizeof path, "%s?ms=100&cpu_ms=20", rt->path);
	used = http_get_cpu_ms(&server, path, &r, 10000);
	assert_true(r.ms >= 360);
	assert_true(used >= 50 && used < 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sequential_route_sleeps_three_times),
		cmocka_unit_test(fanout_route_sleeps_once),
		cmocka_unit_test(eight_requests_on_four_threads_come_in_two_waves),
		cmocka_unit_test(errors_are_json),
		cmocka_unit_test(bad_framing_is_refused),
		cmocka_unit_test_teardown(the_queue_fits_the_descriptor_limit, teardown_own),
		cmocka_unit_test(head_has_headers_and_no_body),
		cmocka_unit_test(metrics_counters_move),
		cmocka_unit_test(a_deep_queue_answers_everyone),
		cmocka_unit_test_teardown(metrics_listener_sees_the_queue, teardown_own),
		cmocka_unit_test_teardown(one_thread_serves_first_come_first, teardown_own),
		cmocka_unit_test_teardown(a_silent_client_holds_a_worker_until_the_timeout,
					  teardown_own),
		cmocka_unit_test(usage_errors_exit_2),
		cmocka_unit_test(cpu_route_uses_the_cpu_it_claims),
		cmocka_unit_test_teardown(sigterm_drains_running_requests, teardown_own),
	};
	return cmocka_run_group_tests_name("it_blocking", tests, setup, teardown);
}
