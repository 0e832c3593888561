/*
 * routes — the one definition of every route in the lab.
 *
 * Both servers, the load generator (user classes), the model and the report read
 * this table; no other file names a route, a task count or a response body.
 *
 * Each route runs `tasks` slow tasks of one duration (the server's --task-ms, or the
 * request's ?ms=N) according to its plan. Which tasks may run together is stated
 * twice on purpose, in two forms that the consumers need:
 *   - deps[i]: bit j set when task i needs task j's result (the dataflow graph);
 *   - concurrency: how many tasks may sleep at once (1 for in-order plans).
 *
 * Lookups return NULL when nothing matches.
 */
#ifndef ROUTES_H
#define ROUTES_H

#include <stddef.h>

#define ROUTE_MAX_TASKS 8
#define ROUTE_MS_MAX 600000L /* the largest ?ms=N a request may ask for (10 min) */
#define ROUTE_DEFAULT_TASK_MS 5000L /* SECONDS_TO_SLEEP = 5 in the original */
#define ROUTE_CPU_MS_MAX 10000L /* the largest ?cpu_ms=N a request may ask for (10 s) */
#define ROUTE_DEFAULT_TASK_CPU_MS 10L /* a CPU task's work unless --task-cpu-ms says */

enum route_world {
	WORLD_BLOCKING, /* bin/blocking: a thread held per request */
	WORLD_EVENTED,  /* bin/evented: tasks are timers on an event loop */
};

enum route_plan {
	PLAN_SEQUENTIAL,    /* await each task in order */
	PLAN_DEPENDENT,     /* in order, each fed the previous task's result */
	PLAN_GATHER,        /* all at once, at most `concurrency` sleeping together */
	PLAN_DATAFLOW,      /* start every task whose deps are done */
	PLAN_BLOCKING_LOOP, /* nanosleep inside the event loop: the classic mistake */
	PLAN_THREAD_FANOUT, /* tasks handed to a bounded helper-thread pool, joined */
};

/* Where a task's CPU work runs (?cpu_ms=N, the server's --task-cpu-ms). On a CPU
 * route each task first waits (?ms=N, default 0: CPU routes do not wait unless
 * asked), then burns its CPU time; other routes never burn CPU. */
enum route_cpu {
	CPU_NONE,   /* the task only waits */
	CPU_THREAD, /* on the request's worker thread (bin/blocking) */
	CPU_LOOP,   /* inside the event loop: every connection of the worker waits */
	CPU_POOL,   /* on the worker's offload pool, completion through an eventfd */
};

struct route {
	const char *path;       /* "/sync_baseline" */
	size_t path_len;        /* strlen(path), fixed when the table is compiled */
	enum route_world world;
	const char *user_class; /* Locust user class, "SyncBaselineUser" */
	int tasks;
	enum route_plan plan;
	int concurrency;        /* tasks that may sleep at once (gather's semaphore) */
	unsigned deps[ROUTE_MAX_TASKS];
	const char *body;       /* exact response body */
	const char *about;      /* one line for --help and the report */
	const char *about_pg;   /* the same under --backend postgres, where each wait is a
	                         * query; NULL where the line holds for both */
	enum route_cpu cpu;     /* CPU_NONE unless a task burns CPU */
};

extern const struct route routes[];
extern const size_t routes_count;

/* The route whose path is exactly path[0..len) (no query string), or NULL. */
const struct route *routes_find_path(const char *path, size_t len);

/* The route whose Locust user class is `name`, or NULL. */
const struct route *routes_find_class(const char *name);

/* r's one line for the backend in use: about_pg under --backend postgres
 * (postgres != 0) where the route has one, else about. */
const char *route_about(const struct route *r, int postgres);

const char *route_world_name(enum route_world w);
const char *route_plan_name(enum route_plan p);
const char *route_cpu_name(enum route_cpu c);

/*
 * Ideal service time of one request in task units: how many task durations the
 * critical path holds when nothing else competes (sequential 3, gather with 3
 * slots 1). `helpers` bounds PLAN_THREAD_FANOUT (the blocking server's helper pool
 * per request); ignored elsewhere; <= 0 means unbounded.
 */
int route_critical_tasks(const struct route *r, int helpers);

#endif
