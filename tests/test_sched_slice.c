/* sched_slice_set: a SCHED_OTHER thread asks for short slices and stays
 * SCHED_OTHER at its nice value; a thread under another policy keeps it
 * (SCHED_BATCH needs no privilege; SCHED_FIFO is checked where permitted). */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/resource.h>

#include "sched_slice.h"

static void other_stays_other_at_its_nice(void **state)
{
	struct sched_param p = { .sched_priority = 0 };
	int nice;
	(void)state;
	assert_int_equal(sched_setscheduler(0, SCHED_OTHER, &p), 0);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	assert_int_equal(errno, 0);
	/* 0, or EINVAL on a kernel without custom slices (before 6.12) */
	if (sched_slice_set(SCHED_SLICE_NS) != 0)
		assert_int_equal(errno, EINVAL);
	assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
	assert_int_equal(getpriority(PRIO_PROCESS, 0), nice);
}

static void another_policy_is_kept(void **state)
{
	struct sched_param p = { .sched_priority = 0 };
	(void)state;
	assert_int_equal(sched_setscheduler(0, SCHED_BATCH, &p), 0);
	assert_int_equal(sched_slice_set(SCHED_SLICE_NS), 0);
	assert_int_equal(sched_getscheduler(0), SCHED_BATCH);
	p.sched_priority = 1;
	if (sched_setscheduler(0, SCHED_FIFO, &p) == 0) { /* root or CAP_SYS_NICE */
		assert_int_equal(sched_slice_set(SCHED_SLICE_NS), 0);
		assert_int_equal(sched_getscheduler(0), SCHED_FIFO);
	} else {
		print_message("SCHED_FIFO not permitted here (%s): checked SCHED_BATCH only\n",
			      errno == EPERM ? "EPERM" : "other error");
	}
	p.sched_priority = 0;
	assert_int_equal(sched_setscheduler(0, SCHED_OTHER, &p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(other_stays_other_at_its_nice),
		cmocka_unit_test(another_policy_is_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
