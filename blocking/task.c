#include "task.h"

#include "db_pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int task_sleep(long ms)
{
	struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&left, &left) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

void task_sleep_job(void *arg)
{
	task_sleep(*(const long *)arg);
}

int task_run(struct task *t)
{
	t->status = 0;
	t->value = t->arg;
	if (t->db != NULL)
		t->status = db_pool_task(t->db, t->slot, t->arg, t->ms, &t->value, t->why, sizeof t->why);
	else if (task_sleep(t->ms) < 0) {
		snprintf(t->why, sizeof t->why, "nanosleep: %s", strerror(errno));
		t->status = 500;
	}
	return t->status;
}

void task_job(void *arg)
{
	task_run(arg);
}
