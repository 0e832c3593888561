#include "sched_slice.h"

#include <errno.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int sched_slice_set(unsigned long long ns)
{
	struct sched_attr a;
	int nice;

	/* A thread started under another policy (chrt -f for a latency run,
	 * SCHED_BATCH, SCHED_IDLE) keeps it: setting SCHED_NORMAL here would
	 * undo what whoever started the program asked for. */
	if (syscall(SYS_sched_getscheduler, 0) != SCHED_NORMAL)
		return 0;
	/* sched_setattr sets the nice value too: pass the thread's own. */
	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	if (nice == -1 && errno != 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.sched_policy = SCHED_NORMAL;
	a.sched_nice = nice;
	a.sched_runtime = ns;
	/* glibc has no wrapper for sched_setattr */
	return (int)syscall(SYS_sched_setattr, 0, &a, 0);
}
