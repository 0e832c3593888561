/*
 * make compare end to end: the smoke profile's run folder, report and summary,
 * the report as Chromium renders it, real Locust on one scenario (one process,
 * then a master and two workers), the original FastAPI stack (TARGET=fastapi),
 * Ctrl-C stopping everything, and the locustfile
 * matching the route table (its classes and GETs, nothing else).
 *
 * Runs go under build/tests/ (RUNS_DIR=), not reports/runs, so a test never
 * moves a student's reports/runs/latest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "routes.h"

#define OUT_CAP (1 << 20)

static char out[OUT_CAP]; /* the last command's stdout */

/*
 * Runs argv (stdout captured into out[], stderr shown) and returns its exit
 * status as the shell shows it, or -1 when it had to be killed at timeout_ms.
 * The pipe is drained while waiting so a chatty command never blocks on it.
 */
static int run(char *const argv[], int timeout_ms)
{
	struct proc p;
	double deadline = harness_now_ms() + timeout_ms;
	size_t n = 0;

	out[0] = '\0';
	if (proc_spawn(&p, argv) < 0)
		return -1;
	for (;;) {
		struct pollfd pfd = { .fd = p.out_fd, .events = POLLIN };
		int left = (int)(deadline - harness_now_ms());
		ssize_t r;
		if (left <= 0) {
			fprintf(stderr, "it_compare: %s still running after %d ms\n", argv[0], timeout_ms);
			proc_stop(&p, SIGTERM, 5000);
			return -1;
		}
		if (poll(&pfd, 1, left) <= 0)
			continue;
		r = read(p.out_fd, out + n, OUT_CAP - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		out[n] = '\0';
		if (n == OUT_CAP - 1)
			n = 0; /* keep draining; only the tail matters past 1 MiB */
	}
	fputs(out, stderr); /* the command's progress, for whoever reads the log */
	return proc_wait(&p, (int)(deadline - harness_now_ms()) + 1000);
}

/* A whole small file into a malloc'd NUL-terminated string, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	if (buf != NULL) {
		buf[fread(buf, 1, (size_t)len, f)] = '\0';
	}
	fclose(f);
	return buf;
}

static void assert_file_has(const char *dir, const char *name, const char *needle)
{
	char path[PATH_MAX];
	char *text;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	text = slurp(path);
	if (text == NULL)
		fail_msg("%s is missing", path);
	if (text[0] == '\0') {
		free(text);
		fail_msg("%s is empty", path);
	}
	if (needle != NULL && strstr(text, needle) == NULL) {
		free(text);
		fail_msg("%s lacks '%s'", path, needle);
	}
	free(text);
}

/* A fresh folder for one test's runs, under build/tests/. */
static void fresh_runs_dir(char *dir, size_t cap, const char *name)
{
	snprintf(dir, cap, "build/tests/%s.XXXXXX", name);
	mkdir("build", 0755);
	mkdir("build/tests", 0755);
	assert_non_null(mkdtemp(dir));
}

/* How many processes carry LAB_RUN_DIR=dir in their environment: what the
 * compare script marks everything it starts with. `loud`: name each one. */
static int processes_of_run(const char *dir, int loud)
{
	char mark[PATH_MAX + 16];
	size_t mlen = (size_t)snprintf(mark, sizeof mark, "LAB_RUN_DIR=%s", dir) + 1; /* with NUL */
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], env[1 << 16];
		ssize_t n;
		int fd;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue; /* gone since readdir */
		n = read(fd, env, sizeof env);
		close(fd);
		if (n > 0 && memmem(env, (size_t)n, mark, mlen) != NULL) {
			if (loud)
				fprintf(stderr, "it_compare: process %s outlived run %s\n",
					e->d_name, dir);
			found++;
		}
	}
	closedir(d);
	return found;
}

/* Removes a test's runs folder (only reached when the test passed). */
static void remove_runs(const char *runs)
{
	char *argv[] = { "/bin/rm", "-rf", (char *)runs, NULL };
	assert_int_equal(run(argv, 10000), 0);
}

/* The real path of RUNS/latest. */
static void latest_run(const char *runs, char *dir)
{
	char link[PATH_MAX];
	snprintf(link, sizeof link, "%s/latest", runs);
	if (realpath(link, dir) == NULL)
		fail_msg("%s: %s", link, strerror(errno));
}

/* `make -s compare PROFILE=smoke VARS... RUNS_DIR=RUNS` in a fresh RUNS
 * (build/tests/NAME.*), a make of our own and not a child of the make running
 * the tests, within ms: it must succeed, its run folder goes to dir, and
 * nothing it started may outlive it. */
static void make_compare(char runs[PATH_MAX], char dir[PATH_MAX], const char *name, int ms,
			 const char *const *vars)
{
	char runs_arg[PATH_MAX + 16];
	char *argv[24] = { "/usr/bin/env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u", "MAKELEVEL",
			   "make", "-s", "compare", "PROFILE=smoke" };
	int n = 11;

	fresh_runs_dir(runs, PATH_MAX, name);
	snprintf(runs_arg, sizeof runs_arg, "RUNS_DIR=%s", runs);
	while (*vars && n < 22)
		argv[n++] = (char *)*vars++;
	argv[n++] = runs_arg;
	argv[n] = NULL;
	assert_int_equal(run(argv, ms), 0);
	latest_run(runs, dir);
	assert_int_equal(processes_of_run(dir, 1), 0);
}

/*
 * The run's report.html as Debian's headless Chromium draws it at 1280 px
 * (reports/render.py prints one fact a line): every chart there with a size,
 * every bar of the summary chart at least a few pixels long (the 3 req/s of the
 * blocked loop beside hundreds), nothing wider than the window, on screen or
 * printed, no console message, no request beyond the file itself. The run's
 * own screenshot, report.png, is the whole page at that width.
 */
static void report_renders_in_chromium(const char *dir)
{
	char html[PATH_MAX + 16], png[PATH_MAX + 16];
	snprintf(html, sizeof html, "%s/report.html", dir);
	snprintf(png, sizeof png, "%s/report.png", dir);
	char *argv[] = { "/usr/bin/python3", "reports/render.py", html, NULL };
	int page_w = 0, page_h = 0, charts = 0, bars = 0, named[64] = { 0 };
	double shortest_bar = 1e9;
	char *text = slurp(html), *line;

	assert_non_null(text);
	assert_null(strstr(text, "<script")); /* readable without JavaScript */
	free(text);
	assert_int_equal(run(argv, 60000), 0);
	for (line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char name[512];
		double w, h;
		if (sscanf(line, "page %d %d", &page_w, &page_h) == 2)
			continue;
		if (sscanf(line, "chart %511s %lf %lf", name, &w, &h) == 3) {
			int nn = 0;
			if (w <= 0 || h <= 0)
				fail_msg("chart %s drawn %gx%g", name, w, h);
			charts++;
			if (sscanf(name, "%2d-", &nn) == 1 && nn > 0 && nn < 64)
				named[nn]++;
			continue;
		}
		if (sscanf(line, "bar %511s %lf", name, &w) == 2) {
			bars++;
			if (w < shortest_bar)
				shortest_bar = w;
			if (w < 3)
				fail_msg("bar %s is %.1f px long: not visible", name, w);
			continue;
		}
		fail_msg("report.html in Chromium: %s", line); /* overflow, console, request */
	}
	assert_int_equal(page_w, 1280);
	assert_true(page_h > 900);
	assert_int_equal(charts, 1 + 2 * (int)routes_count); /* the summary, then 2 each */
	for (size_t i = 1; i <= routes_count; i++)
		if (named[i] != 2)
			fail_msg("scenario %zu has %d charts, not 2", i, named[i]);
	assert_int_equal(bars, 2 * 2 * (int)routes_count); /* 2 panels x measured, predicted */
	fprintf(stderr, "it_compare: %d charts, %d bars, the shortest %.1f px, page %dx%d\n",
		charts, bars, shortest_bar, page_w, page_h);

	/* report.png: a PNG of the whole page, 1280 wide */
	FILE *f = fopen(png, "rb");
	unsigned char head[24];
	if (f == NULL)
		fail_msg("%s: %s", png, strerror(errno));
	assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
	fclose(f);
	assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal((head[16] << 24) | (head[17] << 16) | (head[18] << 8) | head[19], 1280);
	assert_true(((head[20] << 24) | (head[21] << 16) | (head[22] << 8) | head[23]) > 900);
}

static void make_compare_smoke_writes_a_complete_run(void **state)
{
	char runs[PATH_MAX], dir[PATH_MAX], sub[PATH_MAX + 64];
	char *summary, *line;
	(void)state;

	make_compare(runs, dir, "it_compare_smoke", 100000, (const char *const[]){ NULL });

	assert_non_null(strstr(out, "scenario 1/"));
	assert_file_has(dir, "run.env", "PROFILE=smoke\n");
	assert_file_has(dir, "run.env", "LOAD=bin/load\n");
	assert_file_has(dir, "run.env", "CPUS=");
	assert_file_has(dir, "run.env", "KERNEL=");
	assert_file_has(dir, "run.env", "STARTED=");
	assert_file_has(dir, "run.env", "GIT=");
	for (size_t i = 0; i < routes_count; i++) {
		char want[256], scen[PATH_MAX + 80];
		snprintf(scen, sizeof scen, "%s/%02zu-%s", dir, i + 1, routes[i].user_class);
		snprintf(want, sizeof want, "CLASS=%s\nPATH=%s\nWORLD=%s\nUSERS=50\n",
			 routes[i].user_class, routes[i].path, route_world_name(routes[i].world));
		assert_file_has(scen, "scenario.env", want);
		assert_file_has(scen, "scenario.env", "TASK_MS=100\nTHREADS=8\n");
		assert_file_has(scen, "scenario.env", "SWEEP=0\n");
		/* what the run used, measured: the load generator and the server
		 * under load (every server answers at least its scrape) */
		assert_file_has(scen, "scenario.env", "TASK_CPU_MS=3\nOFFLOAD_THREADS=2\nCORES=");
		assert_file_has(scen, "scenario.env", "\nLOAD_CPU_S=");
		assert_file_has(scen, "scenario.env", "\nSERVER_RSS_KB=");
		assert_file_has(scen, "scenario.env", "\nSERVER_THREADS=");
		if (routes[i].plan != PLAN_BLOCKING_LOOP) /* its scrape may time out */
			assert_file_has(scen, "scenario.env", "\nSERVER_CPU_MS=");
		assert_file_has(scen, "load_stats.csv", "Type,Name,Request Count,Failure Count,");
		snprintf(want, sizeof want, ",%s,", routes[i].path);
		assert_file_has(scen, "load_stats.csv", want);
		assert_file_has(scen, "load_stats_history.csv", "Timestamp,User Count,");
		assert_file_has(scen, "load_failures.csv", "Method,Name,Error,Occurrences");
		assert_file_has(scen, "load_exceptions.csv", "Count,Message,Traceback,Nodes");
		assert_file_has(scen, "load.json", "\"tool\":");
		assert_file_has(scen, "console.txt", "Aggregated");
		assert_file_has(scen, "metrics.txt", NULL);
		assert_file_has(scen, "server.log", "listening on http://127.0.0.1:");
	}
	assert_file_has(dir, "REPORT.md", NULL);
	assert_file_has(dir, "report.html", NULL);
	assert_file_has(dir, "summary.txt", NULL);
	/* the story sets CPU work against CPU work, not against sleeps */
	assert_file_has(dir, "report.html", "Threads against events, 3 CPU tasks in a row</strong> "
			"(/sync_cpu and /async_cpu, 50 users)");
	assert_file_has(dir, "report.html", "Threads against events, 3 tasks in a row</strong> "
			"(/sync_baseline and /async_independent, 50 users)");
	/* and a CPU route's title names its tasks' CPU, not the sleep routes' TASK_MS */
	assert_file_has(dir, "summary.txt", "GET /sync_cpu on blocking: 50 users, 100/s spawn, "
			"3 s, 3 ms CPU tasks, 8 threads");

	/* The summary printed is summary.txt: each of its lines is on stdout. */
	snprintf(sub, sizeof sub, "%s/summary.txt", dir);
	summary = slurp(sub);
	assert_non_null(summary);
	for (line = strtok(summary, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (strstr(out, line) == NULL) {
			fprintf(stderr, "it_compare: summary line not printed: %s\n", line);
			free(summary);
			fail();
		}
	free(summary);
	report_renders_in_chromium(dir);
	remove_runs(runs);
}

static void make_compare_load_locust_reads_locusts_csv(void **state)
{
	char runs[PATH_MAX], dir[PATH_MAX], scen[PATH_MAX + 64];
	(void)state;

	make_compare(runs, dir, "it_compare_locust", 60000,
		     (const char *const[]){ "LOAD=locust", "SCENARIOS=AsyncConcurrentUser", NULL });
	assert_file_has(dir, "run.env", "LOAD=locust\n");
	snprintf(scen, sizeof scen, "%s/01-AsyncConcurrentUser", dir);
	assert_file_has(scen, "load_stats.csv", ",/async_concurrent,");
	assert_file_has(scen, "load_stats_history.csv", "Timestamp,User Count,");
	assert_file_has(dir, "summary.txt", NULL);
	remove_runs(runs);

	/* Distributed mode on loopback: a master and two workers. */
	make_compare(runs, dir, "it_compare_locust", 60000,
		     (const char *const[]){ "LOAD=locust", "LOCUST_WORKERS=2",
					    "SCENARIOS=AsyncConcurrentUser", NULL });
	assert_file_has(dir, "run.env", "LOCUST_WORKERS=2\n");
	snprintf(scen, sizeof scen, "%s/01-AsyncConcurrentUser", dir);
	assert_file_has(scen, "load_stats.csv", ",/async_concurrent,");
	assert_file_has(scen, "locust-worker-2.txt", NULL);
	assert_file_has(dir, "summary.txt", NULL);
	remove_runs(runs);

	/* Locust's master with two bin/load workers: the master's CSV files, read as before */
	make_compare(runs, dir, "it_compare_locust", 60000,
		     (const char *const[]){ "LOAD=locust-master", "LOAD_WORKERS=2",
					    "SCENARIOS=AsyncConcurrentUser", NULL });
	assert_file_has(dir, "run.env", "LOAD=locust-master\nLOAD_WORKERS=2\n");
	snprintf(scen, sizeof scen, "%s/01-AsyncConcurrentUser", dir);
	assert_file_has(scen, "load_stats.csv", ",/async_concurrent,");
	assert_file_has(scen, "load-worker-1.txt", "connected to the master");
	assert_file_has(scen, "load-worker-2.txt", " requests, 0 failures reported");
	assert_file_has(dir, "summary.txt", NULL);
	remove_runs(runs);
}

/* The original stack under the same harness: 160 users on the smoke profile's
 * 100 ms tasks queue for uvicorn's 2 x 40 threads, so the run measures each
 * worker's share of the users, the order anyio's limiter serves them in (newest
 * first), the threads and CPU per request, and the report predicts with them. */
static void make_compare_target_fastapi_measures_split_and_order(void **state)
{
	char runs[PATH_MAX], dir[PATH_MAX], scen[PATH_MAX + 64];
	char path[PATH_MAX + 96];
	(void)state;

	make_compare(runs, dir, "it_compare_fastapi", 90000,
		     (const char *const[]){ "TARGET=fastapi", "USERS=160",
					    "SCENARIOS=SyncBaselineUser,AsyncConcurrentUser", NULL });

	snprintf(scen, sizeof scen, "%s/01-SyncBaselineUser-fastapi", dir);
	assert_file_has(scen, "scenario.env", "TARGET=fastapi\n");
	/* measured, appended after the flags' values */
	assert_file_has(scen, "scenario.env", "TARGET=fastapi\nWORKERS=2\nTHREADS=80\n");
	assert_file_has(scen, "scenario.env", "ORDER=lifo\n");
	assert_file_has(scen, "scenario.env", "SERVER_CPU_MS=");
	assert_file_has(scen, "scenario.env", "KEEPALIVE_MS=");
	assert_file_has(scen, "scenario.env", "KEEPALIVE_FIRST_MS=");
	assert_file_has(scen, "load_stats.csv", ",/sync_baseline,");
	/* SPLIT: two workers' users, summing to the 160 users */
	snprintf(path, sizeof path, "%s/scenario.env", scen);
	char *env = slurp(path), *split = env ? strstr(env, "\nSPLIT=") : NULL;
	int a = -1, b = -1;
	assert_non_null(split);
	assert_int_equal(sscanf(split, "\nSPLIT=%d,%d\n", &a, &b), 2);
	free(env);
	assert_int_equal(a + b, 160);
	assert_true(a >= 0 && b >= 0);

	snprintf(scen, sizeof scen, "%s/02-AsyncConcurrentUser-fastapi", dir);
	assert_file_has(scen, "scenario.env", "TARGET=fastapi\n");
	assert_file_has(scen, "load_stats.csv", ",/async_concurrent,");
	/* the report names what it predicted with */
	assert_file_has(dir, "summary.txt", "FastAPI on uvicorn");
	assert_file_has(dir, "summary.txt", "lifo order");
	assert_file_has(dir, "summary.txt", "ms round trip on a kept-alive connection");
	assert_non_null(strstr(out, "users per process"));
	remove_runs(runs);
}

/* BACKEND=postgres end to end on the smoke profile: the run starts its own
 * cluster, rehearses the load (PostgreSQL's CPU per query with the load's
 * backends at work, and what the rest of the machine took beside them), runs
 * it, waits for the backends to exit, and stops the cluster, its folder,
 * its cgroup and its CPU group gone with it. */
static void make_compare_backend_postgres_rehearses_and_cleans_up(void **state)
{
	char runs[PATH_MAX], dir[PATH_MAX], scen[PATH_MAX + 64];
	char path[PATH_MAX + 96], cluster[PATH_MAX];
	(void)state;

	make_compare(runs, dir, "it_compare_postgres", 120000,
		     (const char *const[]){ "BACKEND=postgres", "USERS=20",
					    "SCENARIOS=AsyncConcurrentUser", NULL });

	snprintf(scen, sizeof scen, "%s/01-AsyncConcurrentUser", dir);
	assert_file_has(scen, "scenario.env", "BACKEND=postgres\n");
	assert_file_has(scen, "scenario.env", "\nPG_CPU_BUSY_MS=");
	assert_file_has(scen, "scenario.env", "\nPG_BUSY_OTHERS=");
	assert_file_has(scen, "scenario.env", "\nPG_QUERY_MS=");
	assert_file_has(scen, "scenario.env", "\nPG_QUERY_SEEN_MS=");
	assert_file_has(scen, "scenario.env", "\nPG_DRAIN_S=");
	assert_file_has(scen, "pg-busy.txt", "/async_concurrent");
	assert_file_has(scen, "load_stats.csv", ",/async_concurrent,");
	assert_file_has(dir, "summary.txt", "PostgreSQL's");

	/* the cluster's folder (its socket's) and cgroup are gone */
	snprintf(path, sizeof path, "%s/postgres.txt", dir);
	char *settings = slurp(path), *at = settings ? strstr(settings, "unix_socket_directories = ") : NULL;
	assert_non_null(at);
	assert_int_equal(sscanf(at, "unix_socket_directories = %4095s", cluster), 1);
	free(settings);
	assert_int_equal(access(cluster, F_OK), -1);
	const char *base = strrchr(cluster, '/');
	assert_non_null(base);
	FILE *mounts = fopen("/proc/mounts", "r");
	char line[1024], mnt[512], type[64];
	assert_non_null(mounts);
	while (fgets(line, sizeof line, mounts))
		if (sscanf(line, "%*s %511s %63s", mnt, type) == 2 && strcmp(type, "cgroup2") == 0) {
			snprintf(path, sizeof path, "%s%s", mnt, base);
			if (access(path, F_OK) == 0)
				fail_msg("%s outlived its cluster", path);
		}
	fclose(mounts);
	/* so is its CPU group, where it had one (PG_CPU_GROUP, or none) */
	snprintf(path, sizeof path, "%s/run.env", dir);
	char *env = slurp(path), *group = env ? strstr(env, "\nPG_CPU_GROUP=") : NULL;
	assert_non_null(group);
	assert_int_equal(sscanf(group, "\nPG_CPU_GROUP=%4095s", cluster), 1);
	free(env);
	if (getuid() == 0 && strcmp(cluster, "none") != 0 && access(cluster, F_OK) == 0)
		fail_msg("CPU group %s outlived its cluster", cluster);
	remove_runs(runs);
}

static void ctrl_c_stops_everything_it_started(void **state)
{
	char runs[PATH_MAX], console[PATH_MAX + 64], dir[PATH_MAX];
	struct proc p;
	struct stat st;
	double deadline;
	int rc;
	(void)state;

	fresh_runs_dir(runs, sizeof runs, "it_compare_int");
	char *argv[] = { "load/harness/compare.py", "--users", "20", "--run-time", "30", "--task-ms", "100",
			 "--threads", "4", "--scenarios", "SyncBaselineUser", "--runs-dir", runs, NULL };
	assert_int_equal(proc_spawn(&p, argv), 0);
	/* Once the load generator's console exists, a server and the load run. */
	snprintf(console, sizeof console, "%s/latest/01-SyncBaselineUser/console.txt", runs);
	deadline = harness_now_ms() + 15000;
	while (stat(console, &st) < 0 && harness_now_ms() < deadline)
		usleep(50000);
	assert_int_equal(stat(console, &st), 0);
	usleep(500000);
	latest_run(runs, dir);
	assert_true(processes_of_run(dir, 0) >= 2);
	assert_int_equal(kill(p.pid, SIGINT), 0);
	rc = proc_wait(&p, 10000);
	assert_int_equal(rc, 130);
	assert_int_equal(processes_of_run(dir, 1), 0);
	remove_runs(runs);
}

/*
 * A server that never gets ready: that scenario fails to run (exit 1), its
 * folder is kept as failed-NN-NAME, and the others still run and are reported.
 */
static void a_scenario_that_cannot_run_is_set_aside(void **state)
{
	char runs[PATH_MAX], bindir[PATH_MAX + 8], path[PATH_MAX + 64], dir[PATH_MAX];
	char cwd[PATH_MAX];
	const char *real[] = { "blocking", "load", "report" };
	FILE *f;
	(void)state;

	fresh_runs_dir(runs, sizeof runs, "it_compare_fail");
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(bindir, sizeof bindir, "%s/bin", runs);
	assert_int_equal(mkdir(bindir, 0755), 0);
	for (size_t i = 0; i < 3; i++) {
		char target[PATH_MAX + 64];
		snprintf(target, sizeof target, "%s/bin/%s", cwd, real[i]);
		snprintf(path, sizeof path, "%s/%s", bindir, real[i]);
		assert_int_equal(symlink(target, path), 0);
	}
	snprintf(path, sizeof path, "%s/evented", bindir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho 'evented: cannot start' >&2\nexit 2\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);

	char *argv[] = { "load/harness/compare.py", "--users", "10", "--run-time", "2", "--task-ms", "50",
			 "--threads", "4", "--scenarios", "SyncBaselineUser,AsyncConcurrentUser",
			 "--runs-dir", runs, "--bin", bindir, NULL };
	assert_int_equal(run(argv, 30000), 1);
	latest_run(runs, dir);
	assert_int_equal(processes_of_run(dir, 1), 0);
	assert_file_has(dir, "failed-02-AsyncConcurrentUser/server.log", "cannot start");
	assert_file_has(dir, "01-SyncBaselineUser/load_stats.csv", ",/sync_baseline,");
	assert_file_has(dir, "summary.txt", "01-SyncBaselineUser");
	remove_runs(runs);
}

static void bad_usage_exits_2(void **state)
{
	char *unknown[] = { "load/harness/compare.py", "--scenarios", "NoSuchUser", NULL };
	char *users[] = { "load/harness/compare.py", "--users", "0", NULL };
	char *flag[] = { "load/harness/compare.py", "--fast", NULL };
	char *help[] = { "load/harness/compare.py", "--help", NULL };
	(void)state;

	assert_int_equal(run(unknown, 10000), 2);
	assert_int_equal(run(users, 10000), 2);
	assert_int_equal(run(flag, 10000), 2);
	assert_int_equal(run(help, 10000), 0);
	assert_non_null(strstr(out, "usage: load/harness/compare.py"));
}

/*
 * The locustfile against the route table: each route's class and its GET are
 * there, and no other class or GET is. Locust itself must agree (--list).
 */
static void locustfile_matches_the_route_table(void **state)
{
	char *text = slurp("load/locustfile.py"), *p;
	char *argv[] = { "/usr/bin/locust", "-f", "load/locustfile.py", "--list", NULL };
	size_t listed = 0;
	(void)state;

	assert_non_null(text);
	for (size_t i = 0; i < routes_count; i++) {
		char cls[128], get[160];
		snprintf(cls, sizeof cls, "\nclass %s(", routes[i].user_class);
		snprintf(get, sizeof get, "self.client.get(\"%s\")", routes[i].path);
		if (strstr(text, cls) == NULL || strstr(text, get) == NULL) {
			free(text);
			fail_msg("load/locustfile.py lacks class %s or its GET %s",
				 routes[i].user_class, routes[i].path);
		}
	}
	for (p = strstr(text, "\nclass "); p != NULL; p = strstr(p + 1, "\nclass ")) {
		char name[128];
		if (sscanf(p + 7, "%127[A-Za-z0-9_]", name) != 1)
			continue;
		if (strcmp(name, "LabUser") != 0 && routes_find_class(name) == NULL) {
			free(text);
			fail_msg("load/locustfile.py: class %s is no route's", name);
		}
	}
	for (p = strstr(text, "client.get(\""); p != NULL; p = strstr(p + 1, "client.get(\"")) {
		const char *path = p + 12, *end = strchr(path, '"');
		if (end == NULL || routes_find_path(path, (size_t)(end - path)) == NULL) {
			free(text);
			fail_msg("load/locustfile.py GETs a path that is no route's");
		}
	}
	free(text);

	/* Locust lists exactly the route classes (the abstract base is not a user). */
	assert_int_equal(run(argv, 30000), 0);
	for (p = strtok(out, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		while (*p == ' ')
			p++;
		if (strcmp(p, "Available Users:") == 0)
			continue;
		if (routes_find_class(p) == NULL)
			fail_msg("locust --list shows %s, no route's class", p);
		listed++;
	}
	assert_int_equal(listed, routes_count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(locustfile_matches_the_route_table),
		cmocka_unit_test(bad_usage_exits_2),
		cmocka_unit_test(a_scenario_that_cannot_run_is_set_aside),
		cmocka_unit_test(make_compare_smoke_writes_a_complete_run),
		cmocka_unit_test(make_compare_load_locust_reads_locusts_csv),
		cmocka_unit_test(make_compare_target_fastapi_measures_split_and_order),
		cmocka_unit_test(make_compare_backend_postgres_rehearses_and_cleans_up),
		cmocka_unit_test(ctrl_c_stops_everything_it_started),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
