/*
 * Both servers with --backend postgres against a real PostgreSQL 15 that this
 * program starts once (load/harness/pg_cluster.sh) and stops at the end: every
 * route's body byte for byte, one query per task, the pool binding (a smaller
 * pool makes requests wait in turn, a fan-out takes several connections at
 * once), the /metrics series and the flags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "pg_server.h"
#include "routes.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two cores shared with other builds: bounds are generous. */
#define SLACK_MS 400.0

static int setup(void **state)
{
	(void)state;
	return pg_cluster_start(&pg, 60);
}

static void every_route_answers_its_body_one_query_per_task(void **state)
{
	static struct http_resp r;
	char path[256];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		int queries = 0;
		double most_s = 0; /* a query takes no longer than its request */

		assert_int_equal(start_side(s, pg.conninfo, "8", NULL, NULL), 0);
		assert_int_equal(series(s, "db_pool_size"), 8);
		for (size_t i = 0; i < routes_count; i++) {
			if (routes[i].world != s->world)
				continue;
			snprintf(path, sizeof path, "%s?ms=20", routes[i].path);
			assert_int_equal(http_get(own.port, path, &r, 10000), 0);
			print_message("%s %s: %d %.0f ms %s\n", s->prog, routes[i].path, r.status,
				      r.ms, r.body);
			assert_int_equal(r.status, 200);
			assert_string_equal(r.body, routes[i].body);
			queries += routes[i].tasks;
			most_s += routes[i].tasks * r.ms / 1000;
		}
		assert_int_equal(series(s, "db_queries_total"), queries);
		/* the server's own timing of them: at least their sleeps, at most
		 * their requests' time */
		assert_true(series(s, "db_query_seconds_total") >= queries * 0.020);
		assert_true(series(s, "db_query_seconds_total") <= most_s);
		assert_int_equal(series(s, "db_errors_total"), 0);
		assert_int_equal(series(s, "db_pool_in_use"), 0);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
	}
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

/* n requests for path at once; returns the slowest one's milliseconds and
 * the fastest one's in *fastest. */
static double concurrent(int n, const char *path, double *fastest)
{
	static struct timed_get g[8];
	double slowest = 0;

	*fastest = 1e9;

	for (int i = 0; i < n; i++) {
		g[i] = (struct timed_get){ .port = own.port, .path = path };
		assert_int_equal(pthread_create(&g[i].tid, NULL, timed_get_main, &g[i]), 0);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(g[i].tid, NULL);
		assert_int_equal(g[i].rc, 0);
		assert_int_equal(g[i].resp.status, 200);
		if (g[i].resp.ms > slowest)
			slowest = g[i].resp.ms;
		if (g[i].resp.ms < *fastest)
			*fastest = g[i].resp.ms;
	}
	return slowest;
}

/* Three requests of three 100 ms tasks: with a pool of 1 every query waits its
 * turn (nine in a row), with 3 they run side by side. A request holds its
 * connection for all three tasks, so the first is done after three queries,
 * not after the others' first tasks too. */
static void a_pool_of_one_serialises_the_queries(void **state)
{
	char path[256];
	double one, three, first, ignored;
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		const struct route *rt = route_with(s->world, PLAN_SEQUENTIAL);

		snprintf(path, sizeof path, "%s?ms=100", rt->path);
		assert_int_equal(start_side(s, pg.conninfo, "1", NULL, NULL), 0);
		one = concurrent(3, path, &first);
		assert_true(series(s, "db_pool_waits_total") >= 2);
		assert_true(series(s, "db_pool_wait_seconds_total") > 0.3);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
		assert_int_equal(start_side(s, pg.conninfo, "3", NULL, NULL), 0);
		three = concurrent(3, path, &ignored);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
		print_message("%s: 3 x %s: pool 1 %.0f ms (first done at %.0f), pool 3 %.0f ms\n",
			      s->prog, path, one, first, three);
		assert_true(one >= 9 * 100.0 - 20);
		assert_true(first >= 3 * 100.0 && first < 3 * 100.0 + SLACK_MS / 2);
		assert_true(three >= 3 * 100.0 && three < 3 * 100.0 + SLACK_MS);
	}
}

/* A plan that runs its tasks at once holds as many connections at once: with
 * a pool of 1 its three tasks run one after another. */
static void a_fanout_takes_a_connection_per_task(void **state)
{
	static struct http_resp r;
	char path[256];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		const struct route *rt = route_with(s->world, s->world == WORLD_BLOCKING ?
						    PLAN_THREAD_FANOUT : PLAN_GATHER);

		snprintf(path, sizeof path, "%s?ms=150", rt->path);
		assert_int_equal(start_side(s, pg.conninfo, "3", NULL, NULL), 0);
		assert_int_equal(http_get(own.port, path, &r, 10000), 0);
		assert_int_equal(r.status, 200);
		assert_true(r.ms >= 150 && r.ms < 150 + SLACK_MS);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
		assert_int_equal(start_side(s, pg.conninfo, "1", NULL, NULL), 0);
		assert_int_equal(http_get(own.port, path, &r, 10000), 0);
		assert_int_equal(r.status, 200);
		print_message("%s %s on a pool of 1: %.0f ms\n", s->prog, path, r.ms);
		assert_true(r.ms >= 3 * 150 - 20);
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
	}
}

/* The server's connections are PostgreSQL's: as many backends as the pool,
 * named by application_name, and none once the server stopped. */
static void the_pool_is_what_postgres_sees(void **state)
{
	char out[256], sql[256];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		const struct side *s = &sides[k];
		snprintf(sql, sizeof sql,
			 "select count(*) from pg_stat_activity where application_name = 'lab-%s'",
			 s->prog);
		assert_int_equal(start_side(s, pg.conninfo, "5", NULL, NULL), 0);
		/* The evented pool connects without blocking: give it a moment. */
		for (int i = 0; i < 50 && series(s, "db_connects_total") < 5; i++)
			usleep(20000);
		assert_int_equal(pg_cluster_sql(&pg, out, sizeof out, sql), 0);
		assert_string_equal(out, "5");
		assert_int_equal(proc_stop(&own, SIGTERM, 10000), 0);
		for (int i = 0; i < 50; i++) {
			assert_int_equal(pg_cluster_sql(&pg, out, sizeof out, sql), 0);
			if (strcmp(out, "0") == 0)
				break;
			usleep(20000);
		}
		assert_string_equal(out, "0");
	}
}

static void bad_flags_exit_2(void **state)
{
	static const char *bad[][2] = {
		{ "--backend", "mysql" }, { "--pool", "0" }, { "--query-timeout", "-1" },
		{ "--db", "nonsense-without-equals" },
	};
	char out[2048];
	(void)state;

	for (size_t k = 0; k < NSIDES; k++) {
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			int rc = harness_sh(out, sizeof out, "%s --backend postgres %s '%s' 2>&1",
					    harness_bin(sides[k].prog), bad[i][0], bad[i][1]);
			print_message("%s %s %s: exit %d: %s", sides[k].prog, bad[i][0], bad[i][1],
				      rc, out);
			assert_int_equal(rc, 2);
			assert_non_null(strstr(out, bad[i][0]));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(every_route_answers_its_body_one_query_per_task,
					  teardown_own),
		cmocka_unit_test_teardown(a_pool_of_one_serialises_the_queries, teardown_own),
		cmocka_unit_test_teardown(a_fanout_takes_a_connection_per_task, teardown_own),
		cmocka_unit_test_teardown(the_pool_is_what_postgres_sees, teardown_own),
		cmocka_unit_test(bad_flags_exit_2),
	};
	return cmocka_run_group_tests(tests, setup, teardown_cluster);
}
