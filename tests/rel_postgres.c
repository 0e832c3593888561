/*
 * A database that fails, against both servers with --backend postgres and a
 * real PostgreSQL this program starts (load/harness/pg_cluster.sh):
 *   - unreachable at start: the server starts anyway and answers JSON 503;
 *   - stopped mid-run (immediate shutdown, as a crash): the requests in flight
 *     and those that follow get JSON 503 within a bounded time, nothing hangs
 *     or leaks, and once the database is back the pool reconnects by itself;
 *   - a query slower than --query-timeout: 504, and the connection goes on.
 * The choice and the figures are in docs/RELIABILITY.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "pg_server.h"
#include "rel_common.h"
#include "routes.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#define POOL 4
#define SLACK_MS 400.0
#define BOUND_MS 2000.0 /* what a request may wait once the database is gone */

static int setup(void **state)
{
	(void)state;
	return pg_cluster_start(&pg, 40);
}

static int is_json_error(const struct http_resp *r, int status, const char *needle)
{
	return r->status == status && strncmp(r->body, "{\"error\": \"", 11) == 0 &&
	       strstr(r->body, needle) != NULL;
}

static void unreachable_at_start_answers_503(void **state)
{
	static struct http_resp r;
	char path[256];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		int ok = 0;
		double worst = 0;

		assert_int_equal(start_side(s, "host=/nonexistent-lab-db user=postgres dbname=postgres",
					    "4", "--query-timeout", "1000"), 0);
		snprintf(path, sizeof path, "%s?ms=10", route_with(s->world, PLAN_SEQUENTIAL)->path);
		for (int i = 0; i < 10; i++) {
			assert_int_equal(http_get(own.port, path, &r, 10000), 0);
			ok += is_json_error(&r, 503, "database unreachable");
			if (r.ms > worst)
				worst = r.ms;
		}
		print_message("%s: %s\n", s->prog, r.body);
		rel_record(s->prog, "database unreachable at start", 10,
			   "server up; %d/10 answered JSON 503 \"database unreachable\", worst %.0f ms",
			   ok, worst);
		assert_int_equal(ok, 10);
		assert_true(worst < BOUND_MS);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
	}
}

struct timed_get {
	pthread_t tid;
	int port;
	const char *path;
	struct http_resp resp;
	double done_ms;
	int rc;
};

static void *timed_get_main(void *arg)
{
	struct timed_get *g = arg;
	g->rc = http_get(g->port, g->path, &g->resp, 30000);
	g->done_ms = harness_now_ms();
	return NULL;
}

static void stopped_mid_run_503_then_reconnects(void **state)
{
	static struct timed_get g[POOL];
	static struct http_resp r;
	char path[256], quick[256], sql[256], out[64];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		double halted, worst = 0, down_worst = 0, back_ms;
		int in_flight_503 = 0, down_503 = 0, tries = 0;

		assert_int_equal(start_side(s, pg.conninfo, "4", "--query-timeout", "30000"), 0);
		snprintf(path, sizeof path, "%s?ms=5000", route_with(s->world, PLAN_SEQUENTIAL)->path);
		snprintf(quick, sizeof quick, "%s?ms=10", route_with(s->world, PLAN_SEQUENTIAL)->path);
		for (int i = 0; i < POOL; i++) {
			g[i] = (struct timed_get){ .port = own.port, .path = path };
			assert_int_equal(pthread_create(&g[i].tid, NULL, timed_get_main, &g[i]), 0);
		}
		usleep(500 * 1000); /* every request inside its first query */
		assert_int_equal(series(s, "db_pool_in_use"), POOL);
		halted = harness_now_ms();
		assert_int_equal(pg_cluster_halt(&pg), 0);
		for (int i = 0; i < POOL; i++) {
			pthread_join(g[i].tid, NULL);
			assert_int_equal(g[i].rc, 0);
			in_flight_503 += is_json_error(&g[i].resp, 503, "database");
			if (g[i].done_ms - halted > worst)
				worst = g[i].done_ms - halted;
		}
		for (int i = 0; i < 10; i++) {
			assert_int_equal(http_get(own.port, quick, &r, 10000), 0);
			down_503 += is_json_error(&r, 503, "database");
			if (r.ms > down_worst)
				down_worst = r.ms;
		}
		assert_int_equal(series(s, "db_pool_in_use"), 0);
		assert_int_equal(pg_cluster_resume(&pg), 0);
		back_ms = harness_now_ms();
		do {
			assert_int_equal(http_get(own.port, quick, &r, 10000), 0);
			tries++;
		} while (r.status != 200 && tries < 20);
		back_ms = harness_now_ms() - back_ms;
		print_message("%s: in flight %d/%d 503 within %.0f ms; down %d/10 503 (worst "
			      "%.0f ms); back after %d tries\n", s->prog, in_flight_503, POOL, worst,
			      down_503, down_worst, tries);
		rel_record(s->prog, "database stopped (immediate) under 4 requests, then 10 more", 14,
			   "%d/%d in flight answered JSON 503 within %.0f ms of the stop; %d/10 while "
			   "down 503 (worst %.0f ms); pool back to 0 in use", in_flight_503, POOL,
			   worst, down_503, down_worst);
		rel_record(s->prog, "database started again", tries,
			   "request %d after the restart answered %d (%.0f ms after it), no server "
			   "restart", tries, r.status, back_ms);
		assert_int_equal(in_flight_503, POOL);
		assert_true(worst < BOUND_MS);
		assert_int_equal(down_503, 10);
		assert_true(down_worst < BOUND_MS);
		assert_int_equal(r.status, 200);
		assert_true(tries <= 2);
		/* Every later request succeeds, and PostgreSQL sees no more of our
		 * connections than the pool holds. */
		for (int i = 0; i < 5; i++) {
			assert_int_equal(http_get(own.port, quick, &r, 10000), 0);
			assert_int_equal(r.status, 200);
		}
		snprintf(sql, sizeof sql,
			 "select count(*) <= %d from pg_stat_activity where application_name = 'lab-%s'",
			 POOL, s->prog);
		assert_int_equal(pg_cluster_sql(&pg, out, sizeof out, sql), 0);
		assert_string_equal(out, "t");
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
	}
}

static void slow_query_gets_504(void **state)
{
	static struct http_resp r;
	char path[256];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		double ms;

		assert_int_equal(start_side(s, pg.conninfo, "4", "--query-timeout", "200"), 0);
		snprintf(path, sizeof path, "%s?ms=2000", route_with(s->world, PLAN_SEQUENTIAL)->path);
		assert_int_equal(http_get(own.port, path, &r, 10000), 0);
		ms = r.ms;
		print_message("%s: %d in %.0f ms: %s\n", s->prog, r.status, r.ms, r.body);
		assert_true(is_json_error(&r, 504, "query-timeout"));
		assert_true(ms >= 200 && ms < 200 + SLACK_MS);
		assert_int_equal(series(s, "db_timeouts_total"), 1);
		snprintf(path, sizeof path, "%s?ms=10", route_with(s->world, PLAN_SEQUENTIAL)->path);
		assert_int_equal(http_get(own.port, path, &r, 10000), 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(series(s, "db_connects_total"), POOL);
		rel_record(s->prog, "query slower than --query-timeout 200 (?ms=2000)", 1,
			   "JSON 504 after %.0f ms (statement_timeout); the next request 200 on "
			   "the same connections", ms);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
	}
}

/* Clients that hang up while their queries run or wait for a connection: the
 * queries finish without them, every connection comes back, none leaks. */
static void hangups_leave_the_pool_whole(void **state)
{
	char req[256], path[256];
	static struct http_resp r;
	int fds[8];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		double in_use, waiters;

		assert_int_equal(start_side(s, pg.conninfo, "2", NULL, NULL), 0);
		snprintf(req, sizeof req, "GET %s?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n",
			 route_with(s->world, PLAN_SEQUENTIAL)->path);
		for (int i = 0; i < 8; i++) {
			fds[i] = http_connect(own.port);
			assert_true(fds[i] >= 0);
			assert_int_equal(http_send(fds[i], req, strlen(req)), 0);
		}
		usleep(150 * 1000);
		for (int i = 0; i < 8; i++)
			close(fds[i]);
		/* The two running queries end within 300 ms; the waiters' queries
		 * (evented drops them, blocking's threads run them out) after. */
		for (int i = 0; i < 100; i++) {
			in_use = series(s, "db_pool_in_use");
			waiters = series(s, "db_pool_waiters");
			if (in_use == 0 && waiters == 0)
				break;
			usleep(50 * 1000);
		}
		snprintf(path, sizeof path, "%s?ms=10", route_with(s->world, PLAN_SEQUENTIAL)->path);
		assert_int_equal(http_get(own.port, path, &r, 10000), 0);
		rel_record(s->prog, "8 clients hang up mid-query on a pool of 2", 8,
			   "pool back to %.0f in use, %.0f waiting; %.0f connects in all; next "
			   "request %d", in_use, waiters, series(s, "db_connects_total"), r.status);
		assert_int_equal(in_use, 0);
		assert_int_equal(waiters, 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(series(s, "db_connects_total"), 2);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(unreachable_at_start_answers_503, teardown_own),
		cmocka_unit_test_teardown(stopped_mid_run_503_then_reconnects, teardown_own),
		cmocka_unit_test_teardown(slow_query_gets_504, teardown_own),
		cmocka_unit_test_teardown(hangups_leave_the_pool_whole, teardown_own),
	};
	return cmocka_run_group_tests(tests, setup, teardown_cluster);
}
