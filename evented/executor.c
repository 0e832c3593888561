#include "executor.h"

#include "cpu_task.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

#define ALL(r) ((uint8_t)((1u << (r)->tasks) - 1))

static void on_task(struct timer *t);
static void on_offloaded(struct offload_job *job);

void exec_init(struct exec *ex, struct loop *l, struct offload *pool, struct metrics *m,
	       exec_done_fn on_done)
{
	ex->loop = l;
	ex->pool = pool;
	ex->offloaded = ex->cancelled = 0;
	ex->metrics = m;
	ex->route = NULL;
	ex->on_done = on_done;
	ex->started = ex->done = ex->running = 0;
	for (int i = 0; i < ROUTE_MAX_TASKS; i++) {
		timer_init(&ex->task[i].timer, on_task);
		ex->task[i].job.done = on_offloaded;
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

/* Starts every task the plan allows; returns -1 if a timer could not be queued. */
static int schedule(struct exec *ex)
{
	for (int i = 0; i < ex->route->tasks; i++) {
		if ((ex->started & (1u << i)) || !ready(ex, i))
			continue;
		ex->task[i].value = argument(ex, i);
		ex->started |= (uint8_t)(1u << i);
		if (ex->task_ns == 0) {
			if (!work(ex, i))
				continue;
			ex->done |= (uint8_t)(1u << i);
			i = -1; /* a finished task may unblock an earlier index: rescan */
			continue;
		}
		if (loop_timer_after(ex->loop, &ex->task[i].timer, ex->task_ns) < 0)
			return -1;
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
		/* Out of memory mid-plan: finish without the rest rather than hang. */
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
	if (r->plan == PLAN_BLOCKING_LOOP) {
		/* The deliberate mistake: time.sleep() in an async def. Every other
		 * connection and timer on this worker waits until we return. */
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
	}
	ex->running = 0;
	ex->cancelled = ex->offloaded > 0;
}
