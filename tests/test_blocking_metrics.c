/* The blocking server's /metrics text: every series present, requests counted
 * under the right label, evented routes absent until used, overflow reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helper_pool.h"
#include "metrics.h"
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char text[65536];

static const struct route *first_of(enum route_world w)
{
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == w)
			return &routes[i];
	return NULL;
}

/* The value of the sample line that starts with `series` followed by a space. */
static double sample(const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return atof(p + n + 1);
	return -1;
}

static void render(const struct metrics_view *v)
{
	assert_true(metrics_render(text, sizeof text, v) > 0);
}

static void counts_requests_under_their_route(void **state)
{
	const struct route *b = first_of(WORLD_BLOCKING), *e = first_of(WORLD_EVENTED);
	struct metrics_view v = { .pool_threads = 80, .queue_capacity = 10000 };
	char series[256];
	(void)state;

	render(&v);
	snprintf(series, sizeof series, "blocking_requests_total{route=\"%s\",status=\"200\"}",
		 b->path);
	assert_true(sample(series) == 0);
	if (e != NULL) { /* not this server's: hidden until a request is counted there */
		snprintf(series, sizeof series, "blocking_requests_total{route=\"%s\",", e->path);
		assert_null(strstr(text, series));
	}
	metrics_request_done(b->path, 200, 0.25);
	metrics_request_done(b->path, 200, 0.25);
	metrics_request_done("/whatever", 404, 0.001);
	metrics_request_done(METRICS_ROUTE_SELF, 505, 0); /* not ours: status="other" */
	render(&v);
	snprintf(series, sizeof series, "blocking_requests_total{route=\"%s\",status=\"200\"}",
		 b->path);
	assert_true(sample(series) == 2);
	snprintf(series, sizeof series, "blocking_request_handler_seconds_sum{route=\"%s\"}",
		 b->path);
	assert_true(sample(series) > 0.49 && sample(series) < 0.51);
	assert_true(sample("blocking_requests_total{route=\"other\",status=\"404\"}") == 1);
	assert_true(sample("blocking_requests_total{route=\"/metrics\",status=\"other\"}") == 1);
	assert_null(strstr(text, "route=\"other\",status=\"other\""));
}

static void gauges_follow_their_counters(void **state)
{
	struct helper_pool *p = helper_pool_start(2);
	struct metrics_view v = { .pool_threads = 4, .queue_capacity = 7, .helpers = p,
				  .draining = 1 };
	(void)state;

	assert_non_null(p);
	metrics_busy_add(1);
	metrics_handling_add(1);
	metrics_tasks_done(3, 500);
	render(&v);
	assert_true(sample("blocking_busy_threads") == 1);
	assert_true(sample("blocking_requests_handling") == 1);
	assert_true(sample("blocking_pool_threads") == 4);
	assert_true(sample("blocking_queue_capacity") == 7);
	assert_true(sample("blocking_helper_threads") == 2);
	assert_true(sample("blocking_helpers_busy") == 0);
	assert_true(sample("blocking_tasks_total") == 3);
	assert_true(sample("blocking_task_seconds_total") == 1.5);
	assert_true(sample("blocking_draining") == 1);
	assert_true(sample("blocking_requests_in_flight") == -1); /* no port: no queue view */
	assert_non_null(strstr(text, "# TYPE blocking_requests_total counter\n"));
	metrics_busy_add(-1);
	metrics_handling_add(-1);
	helper_pool_stop(p);
}

static void too_small_a_buffer_is_an_error(void **state)
{
	struct metrics_view v = { 0 };
	(void)state;
	assert_int_equal(metrics_render(text, 100, &v), -1);
}

static int setup(void **state)
{
	(void)state;
	return metrics_init();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_requests_under_their_route),
		cmocka_unit_test(gauges_follow_their_counters),
		cmocka_unit_test(too_small_a_buffer_is_an_error),
	};
	return cmocka_run_group_tests_name("blocking_metrics", tests, setup, NULL);
}
