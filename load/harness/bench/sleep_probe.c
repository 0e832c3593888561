/*
 * sleep_probe — how late does a blocking nanosleep wake? The sync world's timer,
 * measured the way bin/blocking uses it: THREADS threads, each sleeping MS
 * milliseconds with relative nanosleep() in a loop, SLEEPS sleeps in all.
 * Lateness = wake time - (time before the call + MS), on the monotonic clock.
 *
 * By default each thread sleeps again as soon as it wakes, so THREADS sleepers start
 * together and stay in step. With --rate R the sleeps are spread as an open load
 * spreads requests: sleep i begins at start + i/R (the wait for that moment is not
 * measured), so deadlines fall due one by one, as bin/evented's timers do under
 * bin/load --rate. Give it THREADS >= R x MS/1000 x 1.5 so a thread is free when due.
 *
 * Prints one line on stdout:
 *   sleeps=N threads=T ms=MS p50_us=X p99_us=X max_us=X
 * and with --out FILE every lateness in microseconds, one per line, ascending.
 * Exit 0, or 2 for bad usage or a failed setup call.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "cli.h"

static const char *prog = "sleep_probe";
static long sleep_ms = 10;
static long slack_ns = -1; /* -1: keep the kernel's default (50 us) as bin/blocking does */
static double rate;        /* sleeps begun per second; 0: back to back */
static struct timespec t0; /* the schedule's origin (--rate) */
static atomic_long next_sleep;
static long total_sleeps;
static double *late_us; /* one slot per sleep, filled by whichever thread took it */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *sleeper(void *arg)
{
	(void)arg;
	if (slack_ns >= 0)
		prctl(PR_SET_TIMERSLACK, slack_ns > 0 ? slack_ns : 1);
	for (;;) {
		long i = atomic_fetch_add(&next_sleep, 1);
		if (i >= total_sleeps)
			return NULL;
		if (rate > 0) {
			/* Absolute, so a late thread does not push the rest of the schedule. */
			int64_t at = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec + (int64_t)(i * 1e9 / rate);
			struct timespec due = { at / 1000000000, at % 1000000000 };
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
				;
		}
		struct timespec left = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
		double start = now_us();
		while (nanosleep(&left, &left) < 0 && errno == EINTR)
			;
		late_us[i] = now_us() - start - sleep_ms * 1e3;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [--threads N] [--sleeps N] [--ms MS] [--rate R] [--slack-ns NS] [--out FILE]\n"
		"  --threads N    sleeping threads (default 80, bin/blocking's pool)\n"
		"  --sleeps N     sleeps in all (default 10000)\n"
		"  --ms MS        each sleep (default 10)\n"
		"  --rate R       begin R sleeps a second on a fixed schedule (default 0: each\n"
		"                 thread sleeps again as soon as it wakes)\n"
		"  --slack-ns NS  PR_SET_TIMERSLACK per thread (default: the kernel's, 50 us)\n"
		"  --out FILE     write every lateness (us), ascending\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, 0, 't' }, { "sleeps", required_argument, 0, 'n' },
		{ "ms", required_argument, 0, 'm' }, { "slack-ns", required_argument, 0, 's' },
		{ "rate", required_argument, 0, 'r' },
		{ "out", required_argument, 0, 'o' }, { "help", no_argument, 0, 'h' }, { 0 }
	};
	long threads = 80;
	const char *out = NULL;
	pthread_t *tids = NULL;
	pthread_attr_t attr;
	long started = 0;
	int c, rc = 2;

	total_sleeps = 10000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': if (cli_parse_long(optarg, 1, 100000, &threads)) cli_die_usage(prog, "bad --threads %s", optarg); break;
		case 'n': if (cli_parse_long(optarg, 1, 10000000, &total_sleeps)) cli_die_usage(prog, "bad --sleeps %s", optarg); break;
		case 'm': if (cli_parse_long(optarg, 0, 600000, &sleep_ms)) cli_die_usage(prog, "bad --ms %s", optarg); break;
		case 's': if (cli_parse_long(optarg, 0, 1000000000, &slack_ns)) cli_die_usage(prog, "bad --slack-ns %s", optarg); break;
		case 'r': {
			long r;
			if (cli_parse_long(optarg, 0, 10000000, &r)) cli_die_usage(prog, "bad --rate %s", optarg);
			rate = (double)r;
			break;
		}
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: cli_die_usage(prog, "unknown option");
		}
	}
	if (optind < argc)
		cli_die_usage(prog, "unexpected argument %s", argv[optind]);

	late_us = calloc(total_sleeps, sizeof *late_us);
	tids = calloc(threads, sizeof *tids);
	if (!late_us || !tids) {
		fprintf(stderr, "%s: calloc: %s\n", prog, strerror(errno));
		goto fail;
	}
	/* Small stacks: thousands of sleepers must fit (a sleeper needs a few hundred bytes). */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* A little ahead, so the first sleeps do not begin while threads are still created. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t0.tv_nsec += 20000000;
	if (t0.tv_nsec >= 1000000000) {
		t0.tv_sec++;
		t0.tv_nsec -= 1000000000;
	}
	for (; started < threads; started++) {
		int err = pthread_create(&tids[started], &attr, sleeper, NULL);
		if (err) {
			fprintf(stderr, "%s: pthread_create: %s\n", prog, strerror(err));
			break;
		}
	}
	pthread_attr_destroy(&attr);
	for (long i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (started < threads)
		goto fail;

	qsort(late_us, total_sleeps, sizeof *late_us, cmp_double);
	printf("sleeps=%ld threads=%ld ms=%ld rate=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       total_sleeps, threads, sleep_ms, rate, late_us[(total_sleeps - 1) / 2],
	       late_us[(long)(total_sleeps * 0.99) < total_sleeps ? (long)(total_sleeps * 0.99) : total_sleeps - 1],
	       late_us[total_sleeps - 1]);
	if (out) {
		FILE *f = fopen(out, "w");
		if (!f) {
			fprintf(stderr, "%s: fopen %s: %s\n", prog, out, strerror(errno));
			goto fail;
		}
		for (long i = 0; i < total_sleeps; i++)
			fprintf(f, "%.1f\n", late_us[i]);
		fclose(f);
	}
	rc = 0;
fail:
	free(tids);
	free(late_us);
	return rc;
}
