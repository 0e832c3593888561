/* bin/report end to end: the model's predictions for the seed experiment, the
 * recorded run folders in tests/data/report/ (real Locust 2.x output, and
 * bin/load's layout with load.json), and bad input that must leave nothing
 * half-written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[256];
static char out[1 << 20];

/* A shell command's exit code, its output in out. */
#define sh(...) harness_sh(out, sizeof out, __VA_ARGS__)

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/it_report.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return sh("rm -rf '%s'", tmpdir) == 0 ? 0 : -1;
}

/* A fresh copy of a fixture folder; returns its path. */
static const char *copy_fixture(const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	assert_int_equal(sh("rm -rf '%s' && cp -r tests/data/report/%s '%s'", path, name, path), 0);
	return path;
}

/* The recorded run reduced to scenario sc alone, the KEY=VALUE lines `keys`
 * (or "") appended to its scenario.env; returns the run's path. */
static const char *one_scenario(const char *sc, const char *keys)
{
	const char *dir = copy_fixture("run");
	assert_int_equal(sh("cd '%s' && for d in [0-9][0-9]-*; do "
			    "[ \"$d\" = '%s' ] || rm -rf \"$d\"; done && "
			    "printf '%%s' '%s' >> '%s/scenario.env'", dir, sc, keys, sc), 0);
	return dir;
}

static void help_and_usage(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	assert_int_equal(sh("%s --help", bin), 0);
	assert_non_null(strstr(out, "usage: bin/report"));
	assert_int_equal(sh("%s 2>&1", bin), 2);
	assert_non_null(strstr(out, "expected one RUN_DIR"));
	assert_int_equal(sh("%s --bogus x 2>&1", bin), 2);
	assert_int_equal(sh("%s --predict --users 0 2>&1", bin), 2);
	assert_int_equal(sh("%s --predict NoSuchUser 2>&1", bin), 2);
	assert_non_null(strstr(out, "unknown user class"));
	assert_int_equal(sh("%s --predict --wait 2-1 2>&1", bin), 2);
	assert_int_equal(sh("%s --predict --target go 2>&1", bin), 2);
	assert_non_null(strstr(out, "--target: expected c or fastapi"));
	assert_int_equal(sh("%s --predict --answer-ms -1 2>&1", bin), 2);
}

/* The original stack predicted as make compare TARGET=fastapi measures it: 500
 * users on /async_independent (750 ms of timers) each wait 44 ms more for
 * their answer, so they cycle in 794.5 ms: 500 / 0.7945 s = 629.3 req/s, a
 * little less: a request's 0.5 ms on its worker's loop sometimes waits its turn. */
static void predicts_the_original_stack(void **state)
{
	(void)state;
	assert_int_equal(sh("%s --predict --users 500 --spawn-rate 1000 --run-time 15 "
			    "--task-ms 250 --split 250,250 --target fastapi --server-cpu-ms 0.5 "
			    "--answer-ms 44 AsyncIndependentUser", harness_bin("report")), 0);
	assert_non_null(strstr(out, "X=629.25 req/s, R=795 ms"));
	assert_non_null(strstr(out, "R includes 44.0 ms each answer waits on its connection"));
}

/* The original experiment's tables, predicted (make predict PROFILE=seed). */
static void predicts_the_seed_experiment(void **state)
{
	(void)state;
	assert_int_equal(sh("%s --predict --users 500 --spawn-rate 50 --run-time 300 "
			    "--task-ms 5000 --threads 80 --workers 2", harness_bin("report")), 0);
	static const char *const lines[] = {
		"GET      /sync_baseline                                                                  1520     0(0.00%) |  79375   15000  104000  90000 |    5.31        0.00",
		"GET      /async_independent                                                              9500     0(0.00%) |  15000   15000   15000  15000 |   32.31        0.00",
		"GET      /async_dependent                                                                9500     0(0.00%) |  15000   15000   15000  15000 |   32.31        0.00",
		"GET      /async_concurrent                                                              29250     0(0.00%) |   5000    5000    5000   5000 |   97.83        0.00",
		"GET      /async_blocking                                                                   38     0(0.00%) | 150000   15000  285000 150000 |    0.13        0.00",
		"closed form: S=15000 ms, Z=0 ms, C=80, N=500: X=5.33 req/s, R=93750 ms (capacity binds",
		"closed form: S=5000 ms, Z=0 ms, C=unbounded, N=500: X=100.00 req/s, R=5000 ms (users bind",
		"Response time percentiles (approximated)",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		if (!strstr(out, lines[i]))
			fail_msg("missing line: %s", lines[i]);
}

/* The recorded run (real Locust against both servers, a user sweep): the whole
 * summary is golden, with the folder's path written as RUN_DIR. */
static void recorded_run_matches_golden_summary(void **state)
{
	(void)state;
	const char *dir = copy_fixture("run");
	assert_int_equal(sh("%s '%s'", harness_bin("report"), dir), 0);
	char *golden = slurp("tests/data/report/run.summary.golden");
	assert_non_null(golden);
	char *stdout_copy = strdup(out);
	assert_non_null(stdout_copy);
	assert_int_equal(sh("sed 's|%s|RUN_DIR|g' '%s/summary.txt'", dir, dir), 0);
	if (strcmp(out, golden) != 0)
		fail_msg("summary.txt differs from tests/data/report/run.summary.golden:\n%s", out);
	free(golden);
	char path[600];
	snprintf(path, sizeof path, "%s/summary.txt", dir);
	char *summary = slurp(path);
	assert_non_null(summary);
	assert_string_equal(stdout_copy, summary); /* stdout is the summary */
	free(summary);
	free(stdout_copy);

	snprintf(path, sizeof path, "%s/report.html", dir);
	char *html = slurp(path);
	assert_non_null(html);
	int svgs = 0;
	for (char *p = html; (p = strstr(p, "<svg xmlns")); p++) /* a chart, not a clip */
		svgs++;
	assert_int_equal(svgs, 8 * 2 + 1 + 2); /* 2 per scenario, the summary, the sweep */
	assert_non_null(strstr(html, "latency and throughput against users"));
	assert_null(strstr(html, "<?xml"));
	assert_null(strstr(html, "<script"));
	/* The story comes first, in words and one chart, before any table: who won,
	 * by how much, from this run's numbers (26.4 against 65.7 req/s). */
	char *story = strstr(html, "What this run shows"), *table = strstr(html, "<table");
	assert_non_null(story);
	assert_non_null(table);
	assert_true(story < table);
	char *bars = strstr(html, "aria-label=\"every scenario: throughput");
	assert_true(bars != NULL && bars < table);
	assert_non_null(strstr(html, "Threads against events, 3 tasks in a row</strong> "
				     "(/sync_baseline and /async_independent, 20 users): "
				     "<strong>events won</strong> with 2.5\xc3\x97 the throughput"));
	assert_non_null(strstr(html, "Blocking the event loop against leaving it free</strong> "
				     "(/async_blocking and /async_independent, 20 users): "
				     "<strong>the free loop won</strong>"));
	/* Locust's wide tables are folded away */
	assert_non_null(strstr(html, "<details><summary>Locust's tables"));
	free(html);
	snprintf(path, sizeof path, "%s/REPORT.md", dir);
	char *md = slurp(path);
	assert_non_null(md);
	assert_non_null(strstr(md, "The sync world holds one of its 8 threads"));
	assert_non_null(strstr(md, "The classic mistake"));
	assert_non_null(strstr(md, "independent and gathered"));
	free(md);
	assert_int_equal(sh("ls -d '%s'/.report-* 2>/dev/null | wc -l", dir), 0);
	assert_string_equal(out, "0\n"); /* no temporary folder left */
	assert_int_equal(sh("test -s '%s/charts/sweep_lat.svg'", dir), 0);
}

static void locust_csv_and_bin_load_layouts(void **state)
{
	(void)state;
	const char *dir = copy_fixture("locust-run");
	assert_int_equal(sh("%s '%s'", harness_bin("report"), dir), 0);
	/* stats.csv lagged at 656 requests; console.txt's final table has 776 */
	assert_non_null(strstr(out, "  measured          776     132.08"));
	dir = copy_fixture("binload-run");
	assert_int_equal(sh("%s '%s'", harness_bin("report"), dir), 0);
	assert_non_null(strstr(out, "2 of 90 requests failed"));
	assert_non_null(strstr(out, "totals from the history's last row"));
	char path[600];
	snprintf(path, sizeof path, "%s/REPORT.md", dir);
	char *md = slurp(path);
	assert_non_null(md);
	assert_non_null(strstr(md, "ConnectionResetError(104, 'Connection reset by peer')"));
	assert_non_null(strstr(md, "100 sent, 10 in flight at the stop (load.json)"));
	free(md);
}

/* The verdict on slow requests asks the server's own clock first. The recorded
 * /async_independent run (about 303 ms a request) against a model told its
 * tasks took 90 ms: 33 ms a request too slow, 11 ms a task, which alone reads as
 * timer lateness. The scrape says otherwise when the timers were on time, and
 * so does a load generator near a full core. */
static void slow_requests_blame_whoever_was_late(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	const char *sc = "02-AsyncIndependentUser";
	const char *dir = one_scenario(sc, "");
	assert_int_equal(sh("sed -i 's/^TASK_MS=100$/TASK_MS=90/' '%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "likely timer lateness"));

	/* timers on time: 0.3 ms each, 0.9 ms of the 33 */
	assert_int_equal(sh("printf 'evented_timer_lateness_seconds_sum 0.3\n"
			    "evented_timer_lateness_seconds_count 1000\n' > '%s/%s/metrics.txt'",
			    dir, sc), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_null(strstr(out, "timer lateness:"));
	assert_non_null(strstr(out, "the gap is the load generator's, not the server's"));
	assert_non_null(strstr(out, "only 0.90 ms of that by the server's own clock"));

	/* timers 10 ms late each: the server's clock saw the whole gap */
	assert_int_equal(sh("printf 'evented_timer_lateness_seconds_sum 10\n"
			    "evented_timer_lateness_seconds_count 1000\n' > '%s/%s/metrics.txt'",
			    dir, sc), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "likely timer lateness"));

	/* ... unless the load generator ran near a full core: 3.6 s of 4 */
	assert_int_equal(sh("echo LOAD_CPU_S=3.6 >> '%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "the gap is the load generator's"));
	assert_non_null(strstr(out, "0.90 CPU-seconds per second (near a full core"));
}

/* Under BACKEND=postgres the verdict sets PostgreSQL's own timing of its
 * queries (PG_QUERY_MS, pg_stat_statements) against the request's lateness:
 * the recorded run made a postgres one, its tasks told 90 ms, its queries
 * timed at 95: 5 ms a query inside PostgreSQL, 15 of the request's ~33. */
static void postgres_queries_timed_by_postgres(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	const char *sc = "02-AsyncIndependentUser";
	const char *dir = one_scenario(sc, "BACKEND=postgres\nPOOL=100\nPG_QUERY_MS=95.0\n");
	assert_int_equal(sh("sed -i 's/^TASK_MS=100$/TASK_MS=90/' '%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "PostgreSQL timed each query at 95.0 ms (pg_stat_statements), "
				    "5.0 ms over its 90 ms sleep, 15.0 ms a request over the 3 it "
				    "waits for in a row, of the "));
	assert_non_null(strstr(out, "the rest passed outside PostgreSQL's timing"));

	/* queries that took the whole gap leave nothing outside */
	assert_int_equal(sh("sed -i 's/^PG_QUERY_MS=95.0$/PG_QUERY_MS=102.0/' '%s/%s/scenario.env'",
			    dir, sc), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "PostgreSQL timed each query at 102.0 ms"));
	assert_null(strstr(out, "outside PostgreSQL's timing"));

	/* the server's own timing splits the rest: 95 in PostgreSQL, 99 from
	 * sent to row in (4 ms a query between them), 27 ms a request in all,
	 * of ~33: the rest in the server between queries */
	assert_int_equal(sh("sed -i 's/^PG_QUERY_MS=102.0$/PG_QUERY_MS=95.0\\nPG_QUERY_SEEN_MS=99.0/' "
			    "'%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "5.0 ms over its 90 ms sleep; the server saw each take 99.0 ms "
				    "from sent to its row in, 4.0 ms more (parsing and planning, "
				    "the wire both ways, each side's wake-up and wait for a core), "
				    "27.0 ms a request over the 3 it waits for in a row, of the "));
	assert_non_null(strstr(out, "the rest passed in the server, between a query's row"));
	assert_null(strstr(out, "outside PostgreSQL's timing"));

	/* where only the tail differs (/async_concurrent, a request 15 ms late at
	 * most), the queries' timing replaces the guess at timers or the load */
	sc = "03-AsyncConcurrentUser";
	dir = one_scenario(sc, "");
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "only the tail differs: a few requests ran up to 15 ms late — "
				    "timer lateness or a CPU busy with the load generator"));
	dir = one_scenario(sc, "BACKEND=postgres\nPOOL=100\nPG_QUERY_MS=101.0\n");
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "only the tail differs: a few requests ran up to 15 ms late "
				    "(the model has no jitter); PostgreSQL timed each query at 101.0 ms"));
	assert_null(strstr(out, "timer lateness"));
}

/* A recorded postgres run whose 500 users ran in step (20261202-100718,
 * /async_independent: 9292 of 9500, each request 30.7 ms late, 4.1%): the
 * verdict blames the slower requests in a closed loop, not the load
 * generator, and says what the step does to the queries; so it does when
 * they were slower than the tolerance. Told the users waited 0-100 ms
 * between requests, the run is in step no more. */
static void users_in_step_are_told(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	const char *dir = copy_fixture("pg-in-step");
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "slower requests, fewer of them: each took 30.7 ms (4.1%) "
				    "longer than the model, and 500 users"));
	assert_non_null(strstr(out, "in step, they lose whole rounds of 500 at the stop"));
	assert_non_null(strstr(out, "the 500 users run in step (spawned at once, no wait between "
				    "requests), so each round's queries wake together"));
	assert_null(strstr(out, "generator-bound"));

	/* told the tasks were 235 ms, the requests ran 10% slow: still the slower
	 * requests (the queries' clocks then say where), neither guess */
	assert_int_equal(sh("sed -i 's/^TASK_MS=250$/TASK_MS=235/' "
			    "'%s/01-AsyncIndependentUser/scenario.env'", dir), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "slower requests, fewer of them: each took"));
	assert_non_null(strstr(out, "over its 235 ms sleep"));
	assert_null(strstr(out, "likely CPU-bound"));
	assert_null(strstr(out, "likely timer lateness"));
	assert_int_equal(sh("sed -i 's/^TASK_MS=235$/TASK_MS=250/' "
			    "'%s/01-AsyncIndependentUser/scenario.env'", dir), 0);

	/* recorded before PG_CPU_GROUP: the header names PostgreSQL, not a group */
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	char path[600];
	snprintf(path, sizeof path, "%s/REPORT.md", dir);
	char *md = slurp(path);
	assert_non_null(md);
	assert_non_null(strstr(md, "load generator bin/load, tasks as queries on PostgreSQL "
				   "15.18 (max_connections 618), 2 CPUs"));
	free(md);
	assert_non_null(strstr(out, "wait for the cores, the server's loops among them: spread "
				    "the users (WAIT=0-0.1) and the queries"));

	/* the cluster's backends each a task of the scheduler's (PG_CPU_GROUP=no):
	 * the verdict names the CPU group as the other way out */
	assert_int_equal(sh("echo PG_CPU_GROUP=none >> '%s/run.env'", dir), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "the server's loops among them: spread the users "
				    "(WAIT=0-0.1), or leave the cluster in a CPU group of its own "
				    "(without PG_CPU_GROUP=no), and the queries come back on time"));
	md = slurp(path);
	assert_non_null(md);
	assert_non_null(strstr(md, "(max_connections 618; each backend a task of the "
				   "scheduler's own, beside the server's threads)"));
	free(md);

	/* the cluster one task to the scheduler: the loops waited behind no
	 * backend, so the verdict does not say they did */
	assert_int_equal(sh("sed -i 's|^PG_CPU_GROUP=none$|PG_CPU_GROUP=/sys/fs/cgroup/cpu/lab-pg.x|' "
			    "'%s/run.env'", dir), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "so each round's queries wake together and wait for the "
				    "cores: spread the users (WAIT=0-0.1) and the queries"));
	assert_null(strstr(out, "loops among them"));
	md = slurp(path);
	assert_non_null(md);
	assert_non_null(strstr(md, "(max_connections 618; the cluster in a CPU group of its "
				   "own, one task to the scheduler)"));
	free(md);

	assert_int_equal(sh("sed -i 's/^WAIT_MAX_S=0$/WAIT_MAX_S=0.1/' "
			    "'%s/01-AsyncIndependentUser/scenario.env'", dir), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_null(strstr(out, "in step"));
}

/* Appends a history row at t = k s with the running total `total`. */
static int history_row(const char *dir, const char *sc, int k, long total)
{
	return sh("printf '%ld,20,,Aggregated,100.0,0.0,100,100,100,100,100,100,100,100,100,100,"
		  "110,%ld,0,100,100.0,100,110,16\n' >> '%s/%s/load_stats_history.csv'",
		  1795620378L + k, total, dir, sc);
}

/* A CPU-bound verdict tells the rate over the settled window (a third of the
 * run in to a second before its end: 1.3 to 3 s of this 4 s run) from the
 * history's running totals, against the model's steady X; where the two
 * agree, the requests were lost in the first seconds. The recorded run made
 * CPU-bound: 20 ms of the server's CPU a request on 2 cores. */
static void cpu_bound_verdict_tells_the_settled_rate(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	const char *sc = "03-AsyncConcurrentUser";
	const char *dir = one_scenario(sc, "SERVER_CPU_MS=20\nCORES=2\n");
	double steady = 0;
	long twice[] = { 150, 350, 550, 570 }; /* 200 a second from t = 2 to 3 */
	for (int k = 1; k <= 4; k++)
		assert_int_equal(history_row(dir, sc, k, twice[k - 1]), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "binds, and the server got more of the cores"));
	assert_non_null(strstr(out, "; from 1 s to 3 s it answered 200.00 req/s, "));
	const char *at = strstr(out, "of the model's steady ");
	assert_non_null(at);
	assert_int_equal(sscanf(at, "of the model's steady %lf", &steady), 1);
	assert_true(steady > 50 && steady < 150);
	assert_null(strstr(out, "lost in the first seconds"));

	/* the same whole run, its settled seconds at the model's rate (the
	 * header and the t = 0 row stay) */
	assert_int_equal(sh("sed -i '3,$d' '%s/%s/load_stats_history.csv'", dir, sc), 0);
	long even[] = { 150, 350, 350 + (long)(steady + 0.5), 560 };
	for (int k = 1; k <= 4; k++)
		assert_int_equal(history_row(dir, sc, k, even[k - 1]), 0);
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "the requests were lost in the first seconds, where the "
				    "simulation reaches its steady rate sooner"));
}

/* A server that serves its waiters newest first (ORDER=lifo, as the harness
 * measures FastAPI's thread pool): the verdict and the story tell the service
 * order and Little's law, never timer lateness or the load generator. */
static void a_lifo_run_is_explained_by_its_order(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	const char *sc = "01-SyncBaselineUser";
	const char *dir = one_scenario(sc, "TARGET=fastapi\nSPLIT=12,8\nORDER=lifo\n");
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "lifo order"));
	assert_non_null(strstr(out, "verdict: the service order, not lateness"));
	assert_non_null(strstr(out, "by Little's law X R ="));
	assert_null(strstr(out, "timer lateness"));
	assert_null(strstr(out, "load generator"));
	char path[600];
	snprintf(path, sizeof path, "%s/REPORT.md", dir);
	char *md = slurp(path);
	assert_non_null(md);
	assert_non_null(strstr(md, "hands a free thread to the newest waiter (lifo)"));
	free(md);
}

/* The waves of thread starts and a connection's first answer, as the harness measures
 * them for the original stack: the title names both and the prediction uses
 * them; a wave that does not name every worker of the split is refused with
 * its file and line. */
static void measured_waves_and_first_answers_are_told(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	const char *sc = "01-SyncBaselineUser";
	const char *dir = one_scenario(sc, "TARGET=fastapi\nSPLIT=12,8\nORDER=lifo\nKEEPALIVE_MS=44\n"
					   "KEEPALIVE_FIRST_MS=3.5\nWAVE_MS=0,20,32.9/0,9,70.4\n"
					   "GC_PAUSES_PER_S=8.91,7.57\nGC_PAUSE_MS=1.1,3.5,57.5\n");
	assert_int_equal(sh("%s '%s'", bin, dir), 0);
	assert_non_null(strstr(out, "44.0 ms round trip on a kept-alive connection (3.5 ms its first)"));
	assert_non_null(strstr(out, "thread starts a wave apart by 33/70 ms"));
	assert_non_null(strstr(out, "GC pauses 8.9/7.6 a second of up to 58 ms"));

	assert_int_equal(sh("echo WAVE_MS=0,30 >> '%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("%s '%s' 2>&1", bin, dir), 2);
	assert_non_null(strstr(out, "WAVE_MS: 1 list for 2 worker processes (SPLIT)"));
	assert_int_equal(sh("echo WAVE_MS=0,30/0,-1 >> '%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("%s '%s' 2>&1", bin, dir), 2);
	assert_non_null(strstr(out, "WAVE_MS: expected per worker process 2 to 11 offsets"));
	assert_int_equal(sh("echo WAVE_MS=0,30/0,40 >> '%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("echo GC_PAUSES_PER_S=8.9 >> '%s/%s/scenario.env'", dir, sc), 0);
	assert_int_equal(sh("%s '%s' 2>&1", bin, dir), 2);
	assert_non_null(strstr(out, "GC_PAUSES_PER_S: expected pauses a second for each of 2"));
}

/* Bad input: exit 2, the file and line named, the earlier report untouched. */
static void bad_input_writes_nothing(void **state)
{
	(void)state;
	const char *bin = harness_bin("report");
	const char *dir = copy_fixture("binload-run");
	assert_int_equal(sh("echo old > '%s/REPORT.md'", dir), 0);
	assert_int_equal(sh("printf 'Type,Name\\r\\n,Aggregated,1,2,3\\r\\n' > "
			    "'%s/01-AsyncDependentUser/load_stats.csv'", dir), 0);
	assert_int_equal(sh("%s '%s' 2>&1", bin, dir), 2);
	char want[700];
	snprintf(want, sizeof want, "%s/01-AsyncDependentUser/load_stats.csv:1: missing column "
		 "\"Request Count\"", dir);
	assert_non_null(strstr(out, want));

	assert_int_equal(sh("head -c 200 tests/data/report/binload-run/01-AsyncDependentUser/"
			    "load_stats.csv > '%s/01-AsyncDependentUser/load_stats.csv'", dir), 0);
	assert_int_equal(sh("%s '%s' 2>&1", bin, dir), 2); /* truncated mid-header */
	assert_non_null(strstr(out, "load_stats.csv:1: missing column"));

	assert_int_equal(sh(": > '%s/01-AsyncDependentUser/load_stats.csv'", dir), 0);
	assert_int_equal(sh("%s '%s' 2>&1", bin, dir), 2);
	assert_non_null(strstr(out, "load_stats.csv:1: empty file"));

	assert_int_equal(sh("rm '%s/01-AsyncDependentUser/load_stats.csv'", dir), 0);
	assert_int_equal(sh("%s '%s' 2>&1", bin, dir), 2);
	assert_non_null(strstr(out, "load_stats.csv: No such file or directory"));

	assert_int_equal(sh("cat '%s/REPORT.md'; ls '%s'", dir, dir), 0);
	assert_non_null(strstr(out, "old\n"));
	assert_null(strstr(out, "summary.txt"));
	assert_null(strstr(out, "report.html"));
	assert_null(strstr(out, ".report-"));

	assert_int_equal(sh("%s '%s/nowhere' 2>&1", bin, tmpdir), 2);
	assert_non_null(strstr(out, "nowhere/run.env: No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_and_usage),
		cmocka_unit_test(predicts_the_seed_experiment),
		cmocka_unit_test(predicts_the_original_stack),
		cmocka_unit_test(recorded_run_matches_golden_summary),
		cmocka_unit_test(locust_csv_and_bin_load_layouts),
		cmocka_unit_test(bad_input_writes_nothing),
		cmocka_unit_test(slow_requests_blame_whoever_was_late),
		cmocka_unit_test(postgres_queries_timed_by_postgres),
		cmocka_unit_test(users_in_step_are_told),
		cmocka_unit_test(cpu_bound_verdict_tells_the_settled_rate),
		cmocka_unit_test(a_lifo_run_is_explained_by_its_order),
		cmocka_unit_test(measured_waves_and_first_answers_are_told),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
