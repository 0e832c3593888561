/* The helper pool and the task sleep: every job runs, the pool bounds how many run
 * at once, callers on many threads share it, and a signal never shortens a task. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helper_pool.h"
#include "task.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static atomic_int ran;

static void count_job(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran, 1);
}

static double run_sleeps(struct helper_pool *p, int n, long ms)
{
	struct helper_job jobs[16];
	double t0 = now_ms();
	for (int i = 0; i < n; i++)
		jobs[i] = (struct helper_job){ .run = task_sleep_job, .arg = &ms };
	helper_pool_run(p, jobs, n);
	return now_ms() - t0;
}

static void every_job_runs_once(void **state)
{
	struct helper_pool *p = helper_pool_start(3);
	struct helper_job jobs[16];
	(void)state;

	assert_non_null(p);
	atomic_store(&ran, 0);
	for (int i = 0; i < 16; i++)
		jobs[i] = (struct helper_job){ .run = count_job };
	helper_pool_run(p, jobs, 16);
	assert_int_equal(atomic_load(&ran), 16);
	helper_pool_run(p, jobs, 0); /* nothing to do returns at once */
	assert_int_equal(helper_pool_threads(p), 3);
	assert_int_equal(helper_pool_busy(p), 0);
	assert_int_equal(helper_pool_queued(p), 0);
	helper_pool_stop(p);
}

static void enough_helpers_run_tasks_together(void **state)
{
	struct helper_pool *p = helper_pool_start(3);
	double ms;
	(void)state;

	assert_non_null(p);
	ms = run_sleeps(p, 3, 100);
	assert_true(ms >= 100 && ms < 100 + 250);
	helper_pool_stop(p);
}

static void too_few_helpers_queue_the_rest(void **state)
{
	struct helper_pool *p = helper_pool_start(2);
	double ms;
	(void)state;

	assert_non_null(p);
	ms = run_sleeps(p, 4, 100); /* two rounds of two */
	assert_true(ms >= 200 && ms < 200 + 300);
	helper_pool_stop(p);
}

struct caller {
	pthread_t tid;
	struct helper_pool *p;
	double ms;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	c->ms = run_sleeps(c->p, 3, 100);
	return NULL;
}

static void callers_on_many_threads_share_the_pool(void **state)
{
	struct helper_pool *p = helper_pool_start(12);
	struct caller c[4];
	(void)state;

	assert_non_null(p);
	for (int i = 0; i < 4; i++) {
		c[i] = (struct caller){ .p = p };
		assert_int_equal(pthread_create(&c[i].tid, NULL, caller_main, &c[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(c[i].tid, NULL);
		assert_true(c[i].ms >= 100 && c[i].ms < 100 + 300);
	}
	helper_pool_stop(p);
}

static atomic_int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	atomic_fetch_add(&alarms, 1);
}

static void a_signal_does_not_shorten_a_task(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: EINTR */
	struct itimerval every_10ms = { { 0, 10000 }, { 0, 10000 } }, off = { 0 };
	double t0;
	(void)state;

	sigaction(SIGALRM, &sa, NULL);
	atomic_store(&alarms, 0);
	setitimer(ITIMER_REAL, &every_10ms, NULL);
	t0 = now_ms();
	assert_int_equal(task_sleep(150), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	assert_true(now_ms() - t0 >= 150);
	assert_true(atomic_load(&alarms) >= 5);
	signal(SIGALRM, SIG_DFL);
}

static void zero_ms_returns_at_once(void **state)
{
	double t0 = now_ms();
	(void)state;
	assert_int_equal(task_sleep(0), 0);
	assert_true(now_ms() - t0 < 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_job_runs_once),
		cmocka_unit_test(enough_helpers_run_tasks_together),
		cmocka_unit_test(too_few_helpers_queue_the_rest),
		cmocka_unit_test(callers_on_many_threads_share_the_pool),
		cmocka_unit_test(a_signal_does_not_shorten_a_task),
		cmocka_unit_test(zero_ms_returns_at_once),
	};
	return cmocka_run_group_tests_name("helper_pool", tests, NULL, NULL);
}
