/*
 * rel_common — what the reliability programs (tests/rel_*.c) share: one line
 * per thing tried, "REL|area|what|count|outcome", on stdout. tests/rel_table.sh
 * collects these lines into the table of docs/RELIABILITY.md, so the table only
 * ever shows what a test run actually did and saw.
 */
#ifndef REL_COMMON_H
#define REL_COMMON_H

#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline void rel_record(const char *area, const char *what, long count, const char *fmt, ...)
{
	char outcome[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(outcome, sizeof outcome, fmt, ap);
	va_end(ap);
	for (char *p = outcome; *p; p++)
		if (*p == '|' || *p == '\n')
			*p = '/';
	printf("REL|%s|%s|%ld|%s\n", area, what, count, outcome);
	fflush(stdout);
}

/* Descriptors a process holds, from /proc/PID/fd, or -1. */
static inline int rel_fd_count(pid_t pid)
{
	return harness_proc_entries(pid, "fd");
}

/* Resident memory of a process in KiB, from /proc/PID/status, or -1. */
static inline long rel_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* utime + stime of a process in clock ticks, from /proc/PID/stat, or -1. */
static inline long rel_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

#endif
