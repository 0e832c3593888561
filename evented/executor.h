/*
 * executor — runs one request's plan from the route table: a task is a timer
 * plus a continuation, and the plan decides which tasks may start.
 *
 *   sequential, dependent  task i starts when task i-1 is done (dependent also
 *                          hands each task the previous result)
 *   gather                 every task, in order, while fewer than `concurrency`
 *                          sleep: a semaphore, as gather_with_concurrency(3, ...)
 *   dataflow               every task whose deps (a bitmask) are all done: the
 *                          runtime works out independence from the graph
 *   blocking-loop          nanosleep() inside the loop: the whole worker stalls
 *
 * On a CPU route (route->cpu) each task, once it has waited, does its work:
 * CPU_LOOP burns it right here, inside the loop (every other connection of the
 * worker waits); CPU_POOL hands it to the worker's offload pool and stays
 * running until the pool's eventfd says it is done.
 *
 * A zero-length task is done at once (no timer, no syscall), so ?ms=0 measures
 * the HTTP path alone.
 *
 * With a db pool (--backend postgres) a task is a query instead of a timer:
 * in-order plans keep one connection for the whole request, the others take
 * one per task (so gather and dataflow hold as many at once as they run
 * tasks), ?ms=0 still makes the round trip (it is the calibration of the
 * query's cost), and a dependent task's argument is the value the database
 * returned for the task before it. The blocking-loop plan runs its queries
 * with blocking libpq calls inside the loop. A CPU route's tasks wait (as a
 * query, when ?ms= asks) and then work as above.
 *
 * exec_start returns 1 when the plan finished during the call (blocking plans,
 * ms=0, or a failure at once), 0 when it continues on timers or queries and
 * will call on_done, -1 when it could not start (nothing is left pending).
 * Either way ex->status is 0, or the HTTP status the request gets (503, 504,
 * 500) with the reason in ex->why.
 */
#ifndef EXECUTOR_H
#define EXECUTOR_H

#include "db_pool.h"
#include "loop.h"
#include "metrics.h"
#include "offload.h"
#include "pg_task.h"
#include "routes.h"

#include <stdint.h>

struct exec;
typedef void (*exec_done_fn)(struct exec *ex);

struct exec_task {
	struct timer timer;
	struct offload_job job; /* CPU_POOL: the task's work, while in the pool */
	struct db_wait wait;    /* the task's query, with a db pool */
	uint8_t index;      /* which task, to find the exec again */
	int32_t value;      /* the task's result: its argument, as in the original */
};

struct exec {
	struct loop *loop;
	struct offload *pool;
	struct metrics *metrics;
	struct db_pool *db;    /* NULL: tasks are timers */
	const struct route *route;
	int64_t task_ns;
	long cpu_ms;           /* a CPU route's work per task */
	exec_done_fn on_done;
	uint8_t started, done; /* bitmasks over tasks */
	uint8_t running;       /* tasks sleeping, querying or in the pool now */
	uint8_t offloaded;     /* jobs in the pool: the exec's memory must outlive them */
	uint8_t cancelled;     /* pool jobs finishing now find nobody waiting */
	int status;            /* 0, or the HTTP status of a failed plan */
	char why[PG_WHY_MAX];
	struct exec_task task[ROUTE_MAX_TASKS];
};

void exec_init(struct exec *ex, struct loop *l, struct offload *pool, struct metrics *m,
	       struct db_pool *db, exec_done_fn on_done);
int exec_start(struct exec *ex, const struct route *r, long ms, long cpu_ms);

/* Cancels every sleeping task (a client hung up); on_done is not called. Jobs
 * already in the offload pool run to their end: free the exec only once
 * exec_offloaded() is 0. A query already running finishes in the db pool
 * without it (the pool forgets the exec at once). */
void exec_cancel(struct exec *ex);

static inline int exec_busy(const struct exec *ex)
{
	return ex->running > 0;
}

static inline int exec_offloaded(const struct exec *ex)
{
	return ex->offloaded;
}

#endif
