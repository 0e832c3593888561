#include "routes.h"

#include <string.h>

/* Bodies are the original experiment's, byte for byte (seed-experiment.md); the
 * CPU routes, which the original lacks, follow their style. */
/* A path and its length, counted by the compiler. */
#define PATH(p) p, sizeof p - 1

const struct route routes[] = {
	{ PATH("/sync_baseline"), WORLD_BLOCKING, "SyncBaselineUser", 3, PLAN_SEQUENTIAL, 1,
	  { 0, 1u << 0, 1u << 1 },
	  "{\"message\": \"Sync tasks completed with 1, 2, 3\"}",
	  "three nanosleeps in order on the request's worker thread",
	  "three blocking queries in order on the request's worker thread",
	  CPU_NONE },
	{ PATH("/sync_parallel"), WORLD_BLOCKING, "SyncParallelUser", 3, PLAN_THREAD_FANOUT, 3,
	  { 0, 0, 0 },
	  "{\"message\": \"Sync tasks completed with [0, 1, 2]\"}",
	  "three nanosleeps fanned out to helper threads and joined",
	  "three blocking queries fanned out to helper threads and joined",
	  CPU_NONE },
	{ PATH("/async_independent"), WORLD_EVENTED, "AsyncIndependentUser", 3, PLAN_SEQUENTIAL, 1,
	  { 0, 1u << 0, 1u << 1 },
	  "{\"message\": \"Async tasks completed with 1, 2, 3\"}",
	  "three timers awaited in order, though none needs another",
	  "three queries awaited in order, though none needs another",
	  CPU_NONE },
	{ PATH("/async_dependent"), WORLD_EVENTED, "AsyncDependentUser", 3, PLAN_DEPENDENT, 1,
	  { 0, 1u << 0, 1u << 1 },
	  "{\"message\": \"Async tasks completed with 1, 1, 1\"}",
	  "three timers in order, each fed the previous result",
	  "three queries in order, each fed the previous result",
	  CPU_NONE },
	{ PATH("/async_concurrent"), WORLD_EVENTED, "AsyncConcurrentUser", 3, PLAN_GATHER, 3,
	  { 0, 0, 0 },
	  "{\"message\": \"Async tasks completed with [0, 1, 2]\"}",
	  "three timers gathered through a semaphore of 3",
	  "three queries gathered through a semaphore of 3",
	  CPU_NONE },
	{ PATH("/async_dataflow"), WORLD_EVENTED, "AsyncDataflowUser", 3, PLAN_DATAFLOW, 3,
	  { 0, 0, 0 },
	  "{\"message\": \"Async tasks completed with 1, 2, 3\"}",
	  "the independent route's tasks, each started once its inputs are ready",
	  NULL,
	  CPU_NONE },
	{ PATH("/async_blocking"), WORLD_EVENTED, "AsyncBlockingUser", 3, PLAN_BLOCKING_LOOP, 1,
	  { 0, 1u << 0, 1u << 1 },
	  "{\"message\": \"Async tasks completed with 1, 2, 3\"}",
	  "three nanosleeps inside the event loop, stalling the whole worker",
	  "three blocking queries inside the event loop, stalling the whole worker",
	  CPU_NONE },
	{ PATH("/sync_cpu"), WORLD_BLOCKING, "SyncCpuUser", 3, PLAN_SEQUENTIAL, 1,
	  { 0, 1u << 0, 1u << 1 },
	  "{\"message\": \"Sync CPU tasks completed with 1, 2, 3\"}",
	  "three CPU tasks in order on the request's worker thread: the cores are shared",
	  NULL,
	  CPU_THREAD },
	{ PATH("/async_cpu"), WORLD_EVENTED, "AsyncCpuUser", 3, PLAN_SEQUENTIAL, 1,
	  { 0, 1u << 0, 1u << 1 },
	  "{\"message\": \"Async CPU tasks completed with 1, 2, 3\"}",
	  "three CPU tasks inside the event loop, stalling every connection of the worker",
	  NULL,
	  CPU_LOOP },
	{ PATH("/async_offload"), WORLD_EVENTED, "AsyncOffloadUser", 3, PLAN_SEQUENTIAL, 1,
	  { 0, 1u << 0, 1u << 1 },
	  "{\"message\": \"Async offloaded tasks completed with 1, 2, 3\"}",
	  "three CPU tasks handed to the worker's offload pool and awaited (run_in_executor)",
	  NULL,
	  CPU_POOL },
};

const size_t routes_count = sizeof routes / sizeof routes[0];

const struct route *routes_find_path(const char *path, size_t len)
{
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].path_len == len && memcmp(routes[i].path, path, len) == 0)
			return &routes[i];
	return NULL;
}

const struct route *routes_find_class(const char *name)
{
	for (size_t i = 0; i < routes_count; i++)
		if (strcmp(routes[i].user_class, name) == 0)
			return &routes[i];
	return NULL;
}

const char *route_about(const struct route *r, int postgres)
{
	return postgres && r->about_pg != NULL ? r->about_pg : r->about;
}

const char *route_world_name(enum route_world w)
{
	return w == WORLD_BLOCKING ? "blocking" : "evented";
}

const char *route_plan_name(enum route_plan p)
{
	switch (p) {
	case PLAN_SEQUENTIAL: return "sequential";
	case PLAN_DEPENDENT: return "dependent";
	case PLAN_GATHER: return "gather";
	case PLAN_DATAFLOW: return "dataflow";
	case PLAN_BLOCKING_LOOP: return "blocking-loop";
	case PLAN_THREAD_FANOUT: return "thread-fanout";
	}
	return "?";
}

const char *route_cpu_name(enum route_cpu c)
{
	switch (c) {
	case CPU_NONE: return "none";
	case CPU_THREAD: return "thread";
	case CPU_LOOP: return "loop";
	case CPU_POOL: return "pool";
	}
	return "?";
}

/* Longest chain in the deps graph: depth[i] = 1 + max depth of what i needs.
 * Tasks are listed so that deps point backwards, which one pass relies on. */
static int dag_depth(const struct route *r)
{
	int depth[ROUTE_MAX_TASKS] = { 0 }, longest = 0;
	for (int i = 0; i < r->tasks; i++) {
		depth[i] = 1;
		for (int j = 0; j < i; j++)
			if ((r->deps[i] & (1u << j)) && depth[j] + 1 > depth[i])
				depth[i] = depth[j] + 1;
		if (depth[i] > longest)
			longest = depth[i];
	}
	return longest;
}

int route_critical_tasks(const struct route *r, int helpers)
{
	int slots;
	switch (r->plan) {
	case PLAN_SEQUENTIAL:
	case PLAN_DEPENDENT:
	case PLAN_BLOCKING_LOOP:
		return r->tasks;
	case PLAN_DATAFLOW:
		return dag_depth(r);
	case PLAN_GATHER:
	case PLAN_THREAD_FANOUT:
		slots = r->concurrency;
		if (r->plan == PLAN_THREAD_FANOUT && helpers > 0 && helpers < slots)
			slots = helpers;
		if (slots < 1)
			slots = 1;
		return (r->tasks + slots - 1) / slots;
	}
	return r->tasks;
}
