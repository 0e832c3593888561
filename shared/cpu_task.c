#include "cpu_task.h"

#include <time.h>

#define ROUNDS_PER_CHECK 4096 /* ~20 µs of hashing between two clock reads */

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t cpu_task_run(long ms)
{
	int64_t until = thread_cpu_ns() + (int64_t)ms * 1000000;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)ms;

	if (ms <= 0)
		return h;
	do {
		/* xorshift-multiply: data-dependent, so it runs and cannot be folded */
		for (int i = 0; i < ROUNDS_PER_CHECK; i++) {
			h ^= h >> 33;
			h *= 0xff51afd7ed558ccdull;
			h ^= h >> 29;
		}
	} while (thread_cpu_ns() < until);
	return h;
}
