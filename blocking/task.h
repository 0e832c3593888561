/*
 * task — one slow task of the sync world, holding whatever thread runs it:
 * with the sleep backend the thread sleeps for `ms` milliseconds, as the
 * original's time.sleep() did; with the postgres backend it takes a connection
 * from the pool and waits for one query that spends `ms` inside PostgreSQL.
 *
 * task_sleep() returns 0 once the whole duration has passed, -1 (errno set) if
 * nanosleep fails for a reason other than a signal. A signal never shortens a
 * task: the sleep resumes with the time remaining.
 */
#ifndef TASK_H
#define TASK_H

#include "pg_task.h"

#include <stdint.h>

struct db_pool;

int task_sleep(long ms);

/* helper_job adapter: arg points to a long holding the task's milliseconds. */
void task_sleep_job(void *arg);

/* One task as the route's plan gives it: in arg, ms and db (NULL: sleep); out
 * value (arg echoed back: by the database with db), status (0 or the HTTP
 * status, see pg_task.h) and why. */
struct task {
	struct db_pool *db;
	int slot;               /* a connection the request holds, -1: take one */
	long ms;
	int32_t arg, value;
	int status;
	char why[PG_WHY_MAX];
};

/* Runs t; returns t->status. */
int task_run(struct task *t);

/* helper_job adapter for task_run: arg is a struct task. */
void task_job(void *arg);

#endif
