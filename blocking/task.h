/*
 * task — one slow task of the sync world: the calling thread sleeps for `ms`
 * milliseconds, as the original's time.sleep() did, holding whatever thread runs it.
 *
 * task_sleep() returns 0 once the whole duration has passed, -1 (errno set) if
 * nanosleep fails for a reason other than a signal. A signal never shortens a
 * task: the sleep resumes with the time remaining.
 */
#ifndef TASK_H
#define TASK_H

int task_sleep(long ms);

/* helper_job adapter: arg points to a long holding the task's milliseconds. */
void task_sleep_job(void *arg);

#endif
