/* The route table: lookups, uniqueness, and the plans' critical paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "routes.h"

static void finds_each_route_by_path_and_class(void **state)
{
	(void)state;
	for (size_t i = 0; i < routes_count; i++) {
		assert_ptr_equal(routes_find_path(routes[i].path, strlen(routes[i].path)), &routes[i]);
		assert_ptr_equal(routes_find_class(routes[i].user_class), &routes[i]);
	}
}

static void lookups_need_exact_matches(void **state)
{
	(void)state;
	assert_null(routes_find_path("/sync_baselin", 13));
	assert_null(routes_find_path("/sync_baseline/", 15));
	assert_null(routes_find_path("/", 1));
	assert_null(routes_find_path("", 0));
	/* length-bounded: the query string after the path is not part of it */
	assert_non_null(routes_find_path("/async_dependent?ms=5", 16));
	assert_null(routes_find_class("syncbaselineuser"));
	assert_null(routes_find_class(""));
}

static void paths_and_classes_are_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < routes_count; i++)
		for (size_t j = i + 1; j < routes_count; j++) {
			assert_string_not_equal(routes[i].path, routes[j].path);
			assert_string_not_equal(routes[i].user_class, routes[j].user_class);
		}
}

static void table_is_well_formed(void **state)
{
	(void)state;
	assert_int_equal(routes_count, 10);
	for (size_t i = 0; i < routes_count; i++) {
		const struct route *r = &routes[i];
		assert_true(r->tasks >= 1 && r->tasks <= ROUTE_MAX_TASKS);
		assert_true(r->concurrency >= 1);
		assert_true(r->body[0] == '{');
		assert_int_equal(r->path_len, strlen(r->path));
		/* deps point backwards only (the second bound is for the compiler) */
		for (int t = 0; t < r->tasks && t < ROUTE_MAX_TASKS; t++)
			assert_true((r->deps[t] >> t) == 0);
		/* CPU work runs where its world can run it, in order (the model's
		 * stages and both servers assume a sequential plan) */
		if (r->cpu != CPU_NONE)
			assert_int_equal(r->plan, PLAN_SEQUENTIAL);
		if (r->cpu == CPU_THREAD)
			assert_int_equal(r->world, WORLD_BLOCKING);
		if (r->cpu == CPU_LOOP || r->cpu == CPU_POOL)
			assert_int_equal(r->world, WORLD_EVENTED);
	}
	assert_int_equal(routes_find_class("SyncCpuUser")->cpu, CPU_THREAD);
	assert_int_equal(routes_find_class("AsyncCpuUser")->cpu, CPU_LOOP);
	assert_int_equal(routes_find_class("AsyncOffloadUser")->cpu, CPU_POOL);
}

/* Under --backend postgres a route that waits says it waits on queries; the
 * CPU routes and the dataflow route's line hold for both backends. */
static void each_backend_has_its_line(void **state)
{
	(void)state;
	const struct route *r = routes_find_class("SyncBaselineUser");
	assert_string_equal(route_about(r, 0), r->about);
	assert_non_null(strstr(route_about(r, 0), "nanosleeps"));
	assert_non_null(strstr(route_about(r, 1), "blocking queries"));
	r = routes_find_class("AsyncConcurrentUser");
	assert_non_null(strstr(route_about(r, 0), "timers"));
	assert_non_null(strstr(route_about(r, 1), "queries"));
	r = routes_find_class("AsyncCpuUser");
	assert_string_equal(route_about(r, 1), r->about);
	for (size_t i = 0; i < routes_count; i++) {
		const char *pg = route_about(&routes[i], 1);
		assert_non_null(pg);
		assert_null(strstr(pg, "sleep"));
		assert_null(strstr(pg, "timer"));
	}
}

static void bodies_are_the_originals(void **state)
{
	(void)state;
	assert_string_equal(routes_find_class("SyncBaselineUser")->body,
			    "{\"message\": \"Sync tasks completed with 1, 2, 3\"}");
	assert_string_equal(routes_find_class("AsyncDependentUser")->body,
			    "{\"message\": \"Async tasks completed with 1, 1, 1\"}");
	assert_string_equal(routes_find_class("AsyncConcurrentUser")->body,
			    "{\"message\": \"Async tasks completed with [0, 1, 2]\"}");
}

static void critical_path_follows_the_plan(void **state)
{
	(void)state;
	assert_int_equal(route_critical_tasks(routes_find_class("SyncBaselineUser"), 0), 3);
	assert_int_equal(route_critical_tasks(routes_find_class("AsyncIndependentUser"), 0), 3);
	assert_int_equal(route_critical_tasks(routes_find_class("AsyncDependentUser"), 0), 3);
	assert_int_equal(route_critical_tasks(routes_find_class("AsyncBlockingUser"), 0), 3);
	assert_int_equal(route_critical_tasks(routes_find_class("AsyncConcurrentUser"), 0), 1);
	assert_int_equal(route_critical_tasks(routes_find_class("AsyncDataflowUser"), 0), 1);
	assert_int_equal(route_critical_tasks(routes_find_class("SyncParallelUser"), 0), 1);
	/* a fan-out pool of 2 helpers needs two rounds for three tasks */
	assert_int_equal(route_critical_tasks(routes_find_class("SyncParallelUser"), 2), 2);
	assert_int_equal(route_critical_tasks(routes_find_class("SyncParallelUser"), 1), 3);
}

static void dataflow_depth_follows_deps(void **state)
{
	struct route r = { .tasks = 4, .plan = PLAN_DATAFLOW, .concurrency = 4,
			   .deps = { 0, 0, 1u << 0 | 1u << 1, 0 } };
	(void)state;
	assert_int_equal(route_critical_tasks(&r, 0), 2);
	r.deps[3] = 1u << 2;
	assert_int_equal(route_critical_tasks(&r, 0), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_each_route_by_path_and_class),
		cmocka_unit_test(lookups_need_exact_matches),
		cmocka_unit_test(paths_and_classes_are_unique),
		cmocka_unit_test(table_is_well_formed),
		cmocka_unit_test(each_backend_has_its_line),
		cmocka_unit_test(bodies_are_the_originals),
		cmocka_unit_test(critical_path_follows_the_plan),
		cmocka_unit_test(dataflow_depth_follows_deps),
	};
	return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
