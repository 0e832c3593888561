#include "executor.h"

#include "cpu_task.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define ALL(r) ((uint8_t)((1u << (r)->tasks) - 1))

static void on_task(struct timer *t);
static void on_offloaded(struct offload_job *job);
static void on_query(struct db_wait *w, int status, int32_t value, const char *why);

void exec_init(struct exec *ex, struct loop *l, struct offload *pool, struct metrics *m,
	       struct db_pool *db, exec_done_fn on_done)
{
	ex->loop = l;
	ex->db = db;
	ex->pool = pool;
	ex->offloaded = ex->cancelled = 0;
	ex->metrics = m;
	ex->route = NULL;
	ex->on_done = on_done;
	ex->started = ex->done = ex->running = 0;
	for (int i = 0; i < ROUTE_MAX_TASKS; i++) {
		timer_init(&ex->task[i].timer, on_task);
		ex->task[i].job.done = on_offloaded;
		ex->task[i].wait = (struct db_wait){ .done = on_query };
		ex->task[i].index = (uint8_t)i;
	}
}

/* May task i start now, under this plan? */
static int ready(const struct exec *ex, int i)
{
	const struct route *r = ex->route;
	switch (r->plan) {
	case PLAN_SEQUENTIAL:
	case PLAN_DEPENDENT:
		return ex->running == 0 && ex->done == (uint8_t)((1u << i) - 1);
	case PLAN_GATHER:
		return ex->running < r->concurrency;
	case PLAN_DATAFLOW:
		return (r->deps[i] & ~ex->done) == 0;
	default:
		return 0;
	}
}

/* What task i is given: dependent tasks take the previous result, the
 * others their own number (the original's t(1), t(2), t(3) / t(0..2)). */
static int32_t argument(const struct exec *ex, int i)
{
	if (ex->route->plan == PLAN_DEPENDENT)
		return i == 0 ? 1 : ex->task[i - 1].value;
	return ex->route->plan == PLAN_GATHER ? i : i + 1;
}

/* Task i has waited: a CPU route now does its work. Returns 1 when the task is
 * done, 0 when it went to the offload pool (it counts as running until then). */
static int work(struct exec *ex, int i)
{
	switch (ex->route->cpu) {
	case CPU_LOOP:
		cpu_task_run(ex->cpu_ms);
		/* the loop's cached time stood still while we computed */
		ex->loop->now = loop_clock();
		return 1;
	case CPU_POOL:
		ex->task[i].job.cpu_ms = ex->cpu_ms;
		offload_submit(ex->pool, &ex->task[i].job);
		ex->running++;
		ex->offloaded++;
		return 0;
	case CPU_NONE:
	case CPU_THREAD:
		break;
	}
	return 1;
}

/* Does task i wait as a query? Every task with a db pool, but a CPU route's
 * pure work (?ms=0), which has nothing to wait for. */
static int queries(const struct exec *ex)
{
	return ex->db != NULL && !(ex->route->cpu != CPU_NONE && ex->task_ns == 0);
}

/* Hands task i's query to the pool; -1 (ex->status set) when it failed at once. */
static int submit(struct exec *ex, int i)
{
	struct db_wait *w = &ex->task[i].wait;
	const struct route *r = ex->route;
	int in_order = r->plan == PLAN_SEQUENTIAL || r->plan == PLAN_DEPENDENT;

	w->arg = ex->task[i].value;
	w->ms = (long)(ex->task_ns / 1000000);
	/* In-order plans keep one connection for the request, as a handler that
	 * takes one from the pool for its whole body: task i runs on task i-1's. */
	w->slot = NULL;
	if (in_order && i > 0) {
		w->slot = ex->task[i - 1].wait.slot;
		ex->task[i - 1].wait.slot = NULL;
	}
	w->keep = in_order && i < r->tasks - 1;
	ex->running++;
	ex->status = db_pool_submit(ex->db, w, ex->why, sizeof ex->why);
	if (ex->status != 0) {
		ex->running--;
		return -1;
	}
	return 0;
}

/* Starts every task the plan allows; returns -1 (ex->status set) if a timer
 * could not be queued or a query failed at once. */
static int schedule(struct exec *ex)
{
	for (int i = 0; i < ex->route->tasks; i++) {
		if ((ex->started & (1u << i)) || !ready(ex, i))
			continue;
		ex->task[i].value = argument(ex, i);
		ex->started |= (uint8_t)(1u << i);
		if (queries(ex)) {
			if (submit(ex, i) < 0)
				return -1;
			continue;
		}
		if (ex->task_ns == 0) {
			if (!work(ex, i))
				continue;
			ex->done |= (uint8_t)(1u << i);
			i = -1; /* a finished task may unblock an earlier index: rescan */
			continue;
		}
		if (loop_timer_after(ex->loop, &ex->task[i].timer, ex->task_ns) < 0) {
			ex->status = 503;
			snprintf(ex->why, sizeof ex->why, "out of memory");
			return -1;
		}
		ex->running++;
		metrics_add(&ex->metrics->timers_pending, 1);
	}
	return 0;
}

static void task_done(struct exec *ex, int i)
{
	ex->done |= (uint8_t)(1u << i);
	if (ex->done == ALL(ex->route)) {
		ex->on_done(ex);
		return;
	}
	if (schedule(ex) < 0) {
		/* Out of memory (or a query failed at once) mid-plan: finish
		 * without the rest rather than hang. */
		exec_cancel(ex);
		ex->on_done(ex);
	}
}

static void on_task(struct timer *t)
{
	struct exec_task *task = (struct exec_task *)t;
	struct exec *ex = (struct exec *)((char *)(task - task->index) - offsetof(struct exec, task));

	/* Read the clock here rather than use the loop's cached now: a timer run
	 * after a thousand others in the same pass is that much later, and the
	 * histogram should say so. */
	metrics_lateness(ex->metrics, loop_clock() - t->deadline);
	metrics_add(&ex->metrics->timers_pending, -1);
	ex->running--;
	if (work(ex, task->index))
		task_done(ex, task->index);
}

static void on_offloaded(struct offload_job *job)
{
	struct exec_task *task = (struct exec_task *)((char *)job - offsetof(struct exec_task, job));
	struct exec *ex = (struct exec *)((char *)(task - task->index) - offsetof(struct exec, task));

	ex->offloaded--;
	if (ex->cancelled)
		return; /* the client left; its connection is freed once offloaded is 0 */
	ex->running--;
	task_done(ex, task->index);
}

/* A task's query finished (or failed). The row must hand back the argument. */
static void on_query(struct db_wait *w, int status, int32_t value, const char *why)
{
	struct exec_task *task = (struct exec_task *)((char *)w - offsetof(struct exec_task, wait));
	struct exec *ex = (struct exec *)((char *)(task - task->index) - offsetof(struct exec, task));

	ex->running--;
	if (status == 0 && value != task->value) {
		status = 500;
		snprintf(ex->why, sizeof ex->why, "task %d was given %d and returned %d",
			 task->index + 1, (int)task->value, (int)value);
	} else if (status != 0) {
		snprintf(ex->why, sizeof ex->why, "%s", why);
	}
	if (status != 0) {
		/* One failed task fails the request: the others are not waited for. */
		ex->status = status;
		exec_cancel(ex);
		ex->on_done(ex);
		return;
	}
	if (work(ex, task->index))
		task_done(ex, task->index);
}

/* /async_blocking with the postgres backend: blocking queries in the loop. */
static void blocking_queries(struct exec *ex)
{
	int32_t value;

	for (int i = 0; i < ex->route->tasks; i++) {
		ex->task[i].value = argument(ex, i);
		ex->status = db_pool_exec_blocking(ex->db, ex->task[i].value,
						   (long)(ex->task_ns / 1000000), &value, ex->why,
						   sizeof ex->why);
		if (ex->status != 0)
			return;
		if (value != ex->task[i].value) {
			ex->status = 500;
			snprintf(ex->why, sizeof ex->why, "task %d was given %d and returned %d",
				 i + 1, (int)ex->task[i].value, (int)value);
			return;
		}
	}
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int exec_start(struct exec *ex, const struct route *r, long ms, long cpu_ms)
{
	ex->route = r;
	ex->task_ns = (int64_t)ms * 1000000;
	ex->cpu_ms = cpu_ms;
	ex->started = ex->done = ex->running = ex->cancelled = 0;
	ex->status = 0;
	if (r->plan == PLAN_BLOCKING_LOOP) {
		/* The deliberate mistake: time.sleep() in an async def, or a
		 * blocking driver call. Every other connection and timer on this
		 * worker waits until we return. */
		if (ex->db != NULL)
			blocking_queries(ex);
		else
			for (int i = 0; i < r->tasks; i++)
				if (ex->task_ns > 0)
					sleep_ns(ex->task_ns);
		/* The loop's cached time stood still while we slept; what follows
		 * (this connection's idle deadline) must not start in the past. */
		ex->loop->now = loop_clock();
		ex->done = ALL(r);
		return 1;
	}
	if (schedule(ex) < 0) {
		exec_cancel(ex);
		return -1;
	}
	return ex->done == ALL(r) ? 1 : 0;
}

void exec_cancel(struct exec *ex)
{
	for (int i = 0; i < ROUTE_MAX_TASKS; i++) {
		if (timer_pending(&ex->task[i].timer)) {
			loop_timer_cancel(ex->loop, &ex->task[i].timer);
			metrics_add(&ex->metrics->timers_pending, -1);
		}
		if (ex->db != NULL && (ex->task[i].wait.queued || ex->task[i].wait.slot != NULL))
			db_pool_cancel(ex->db, &ex->task[i].wait);
	}
	ex->running = 0;
	ex->cancelled = ex->offloaded > 0;
}
