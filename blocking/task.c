#include "task.h"

#include <errno.h>
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
