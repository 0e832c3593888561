/*
 * bin/load --worker under Debian's real Locust 2.12.1 master (/usr/bin/python3 -m
 * locust with load/locustfile.py), against a real bin/evented, all on 127.0.0.1:
 *   - headless, --expect-workers 2, --csv: the master's totals are the sum of what
 *     the two workers say they reported, and the server answered them;
 *   - the web UI (not headless): /stats/requests lists both workers running with
 *     their numbers; one worker killed, the master marks it missing and the
 *     other goes on;
 *   - the master killed, or frozen (only ZeroMQ's heartbeats notice): the worker exits 1
 *     after its --master-timeout;
 *   - make live's script (load/harness/live.py): the UI with its workers, Ctrl-C.
 * Every process's output goes to a file in a fresh folder under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define TASK_MS "20"
#define ROUTE "/async_concurrent"
#define CLASS "AsyncConcurrentUser"
/* Python's start-up is seconds on an idle machine, tens of seconds on a busy one */
#define START_MS 60000

static char dir[64];
static struct proc server;

/* Starts `cmd` through sh's exec (so the pid is the program's), output to dir/log. */
__attribute__((format(printf, 3, 4)))
static void start(struct proc *p, const char *log, const char *fmt, ...)
{
	char cmd[2048], full[2400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "exec %s >%s/%s 2>&1", cmd, dir, log);
	char *argv[] = { "/bin/sh", "-c", full, NULL };
	assert_int_equal(proc_spawn(p, argv), 0);
}

static char *slurp(const char *name)
{
	static char buf[1 << 16];
	char path[256];
	FILE *f;
	size_t n = 0;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Waits up to ms for dir/name to contain text. */
static int wait_for(const char *name, const char *text, int ms)
{
	double end = harness_now_ms() + ms;
	while (harness_now_ms() < end) {
		if (strstr(slurp(name), text) != NULL)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "it_worker: %s/%s never said '%s'\n", dir, name, text);
	return -1;
}

/* The worker's own books, from its last line. */
static void worker_books(const char *log, unsigned long long *reqs, unsigned long long *fails,
			 unsigned long long *unfinished)
{
	const char *line = strstr(slurp(log), "worker: ");
	while (line != NULL && sscanf(line, "worker: %llu requests, %llu failures reported; %llu",
				      reqs, fails, unfinished) != 3)
		line = strstr(line + 1, "worker: ");
	if (line == NULL)
		fail_msg("%s/%s has no closing 'worker: N requests' line", dir, log);
}

static double answered(void)
{
	char series[128];
	snprintf(series, sizeof series, "evented_requests_total{route=\"%s\",status=\"200\"}", ROUTE);
	return metrics_value(server.port, series);
}

static void master_headless_sums_two_workers(void **state)
{
	struct proc master, w1, w2;
	int port = harness_free_port();
	unsigned long long r1, f1, u1, r2, f2, u2, total, fails;
	double before = answered(), after;
	char out[4096];
	(void)state;

	start(&master, "master.log", "/usr/bin/python3 -m locust -f load/locustfile.py --master "
	      "--headless --expect-workers 2 -u 20 -r 20 -t 7s --master-bind-host 127.0.0.1 "
	      "--master-bind-port %d -H http://127.0.0.1:%d --csv %s/m " CLASS, port, server.port, dir);
	start(&w1, "w1.log", "%s --worker --master-port %d --threads 1", harness_bin("load"), port);
	start(&w2, "w2.log", "%s --worker --master-port %d --threads 1", harness_bin("load"), port);
	assert_int_equal(proc_wait(&master, START_MS + 10000), 0);
	assert_int_equal(proc_wait(&w1, 10000), 0);
	assert_int_equal(proc_wait(&w2, 10000), 0);
	worker_books("w1.log", &r1, &f1, &u1);
	worker_books("w2.log", &r2, &f2, &u2);
	/* both took users, nothing failed */
	assert_true(r1 > 100 && r2 > 100);
	assert_int_equal(f1 + f2, 0);
	/* the master's CSV: its row and its total are exactly the workers' sum */
	assert_int_equal(harness_sh(out, sizeof out, "/usr/bin/python3 -c '"
		"import csv,sys; rows={r[\"Name\"]: r for r in csv.DictReader(open(sys.argv[1]))}; "
		"a=rows[\"Aggregated\"]; r=rows[\"%s\"]; "
		"print(r[\"Request Count\"], a[\"Request Count\"], a[\"Failure Count\"], "
		"r[\"Average Content Size\"], r[\"50%%\"], r[\"100%%\"])' %s/m_stats.csv",
		ROUTE, dir), 0);
	{
		unsigned long long row;
		double size, p50, p100;
		assert_int_equal(sscanf(out, "%llu %llu %llu %lf %lf %lf", &row, &total, &fails, &size,
					&p50, &p100), 6);
		assert_int_equal(row, r1 + r2);
		assert_int_equal(total, r1 + r2);
		assert_int_equal(fails, 0);
		assert_true(size > 10); /* the route's body, not zero */
		/* three gathered 20 ms tasks: one task's time, Locust-rounded */
		assert_true(p50 >= 20 && p50 <= 40);
		assert_true(p100 >= p50);
	}
	/* the server answered every request counted, and at most those in flight at stop */
	after = answered();
	assert_true(after - before >= (double)total);
	assert_true(after - before <= (double)(total + u1 + u2));
	/* the master saw two workers, no exception */
	assert_non_null(strstr(slurp("master.log"), "2 workers connected"));
	assert_null(strstr(slurp("master.log"), "Traceback"));
}

/* GET /stats/requests through Python's json, printing what `expr` says of it (d). */
static int web_stats(int web, const char *expr, char *out, size_t cap)
{
	return harness_sh(out, cap, "curl -s --max-time 5 http://127.0.0.1:%d/stats/requests | "
			  "/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(%s)'",
			  web, expr);
}

static void web_ui_lists_workers_and_outlives_a_killed_one(void **state)
{
	struct proc master, w1, w2;
	int port = harness_free_port(), web = harness_free_port();
	char out[4096], req[512];
	static struct http_resp resp_buf;
	struct http_resp *resp = &resp_buf;
	double end;
	long reqs_then, reqs_now;
	int n;
	(void)state;

	start(&master, "web.log", "/usr/bin/python3 -m locust -f load/locustfile.py --master "
	      "--web-host 127.0.0.1 --web-port %d --master-bind-host 127.0.0.1 --master-bind-port %d "
	      CLASS, web, port);
	start(&w1, "wa.log", "%s --worker --master-port %d --threads 1", harness_bin("load"), port);
	start(&w2, "wb.log", "%s --worker --master-port %d --threads 1", harness_bin("load"), port);
	assert_int_equal(wait_for("web.log", "2 workers connected", START_MS), 0);
	/* start a test as a person would with the form */
	{
		char body[128];
		snprintf(body, sizeof body, "user_count=10&spawn_rate=10&host=http%%3A%%2F%%2F127.0.0.1%%3A%d",
			 server.port);
		n = snprintf(req, sizeof req, "POST /swarm HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n"
			     "Connection: close\r\n\r\n%s", strlen(body), body);
	}
	assert_int_equal(http_raw(web, req, (size_t)n, resp, 10000), 0);
	assert_int_equal(resp->status, 200);
	/* within a report or two: both listed running, 5 users each, requests counted */
	end = harness_now_ms() + 30000;
	do {
		usleep(500000);
		web_stats(web, "sorted((w[\"state\"], w[\"user_count\"]) for w in d[\"workers\"]), "
			  "[s[\"num_requests\"] for s in d[\"stats\"] if s[\"name\"] == \"" ROUTE "\"]",
			  out, sizeof out);
		reqs_then = 0;
		if (strstr(out, "[('running', 5), ('running', 5)] [") != NULL)
			sscanf(strrchr(out, '[') + 1, "%ld", &reqs_then);
	} while (reqs_then <= 0 && harness_now_ms() < end);
	assert_non_null(strstr(out, "[('running', 5), ('running', 5)] ["));
	assert_true(reqs_then > 0);
	/* one worker dies without a word: the master marks it missing (3 missed beats) */
	assert_int_equal(proc_stop(&w1, SIGKILL, 5000), 128 + SIGKILL);
	end = harness_now_ms() + 30000;
	do {
		usleep(500000);
		web_stats(web, "sorted(w[\"state\"] for w in d[\"workers\"]), "
			  "[s[\"num_requests\"] for s in d[\"stats\"] if s[\"name\"] == \"" ROUTE "\"]",
			  out, sizeof out);
	} while (strstr(out, "['missing', 'running']") == NULL && harness_now_ms() < end);
	assert_non_null(strstr(out, "['missing', 'running']"));
	/* and the other goes on: the numbers still grow */
	sleep(4);
	web_stats(web, "[s[\"num_requests\"] for s in d[\"stats\"] if s[\"name\"] == \"" ROUTE "\"]",
		  out, sizeof out);
	assert_int_equal(sscanf(out, "[%ld", &reqs_now), 1);
	assert_true(reqs_now > reqs_then);
	/* Ctrl-C on the master: it tells the worker to quit */
	assert_int_equal(proc_stop(&master, SIGINT, 15000), 0);
	assert_int_equal(proc_wait(&w2, 10000), 0);
}

static void worker_exits_1_when_the_master_vanishes(void **state)
{
	struct proc master, w;
	int port = harness_free_port();
	double t0;
	int rc;
	(void)state;

	start(&master, "gone.log", "/usr/bin/python3 -m locust -f load/locustfile.py --master "
	      "--headless --expect-workers 1 -u 4 -r 4 -t 60s --master-bind-host 127.0.0.1 "
	      "--master-bind-port %d -H http://127.0.0.1:%d " CLASS, port, server.port);
	start(&w, "orphan.log", "%s --worker --master-port %d --threads 1 --master-timeout 2",
	      harness_bin("load"), port);
	assert_int_equal(wait_for("gone.log", "All users spawned", START_MS), 0);
	proc_stop(&master, SIGKILL, 5000);
	t0 = harness_now_ms();
	rc = proc_wait(&w, 15000);
	assert_int_equal(rc, 1);
	/* the link's loss is seen at once, then the timeout runs: about 2 s, at most 2 + 3 */
	assert_true(harness_now_ms() - t0 >= 1500);
	assert_true(harness_now_ms() - t0 <= 8000);
	assert_non_null(strstr(slurp("orphan.log"), "no link from the master"));
}

/* A master that hangs (SIGSTOP) keeps its socket open: only the ZMTP heartbeats,
 * unanswered for 3 s, tell the worker; then --master-timeout runs. */
static void worker_exits_1_when_the_master_freezes(void **state)
{
	struct proc master, w;
	int port = harness_free_port();
	double t0, took;
	(void)state;

	start(&master, "frozen.log", "/usr/bin/python3 -m locust -f load/locustfile.py --master "
	      "--headless --expect-workers 1 -u 4 -r 4 -t 60s --master-bind-host 127.0.0.1 "
	      "--master-bind-port %d -H http://127.0.0.1:%d " CLASS, port, server.port);
	start(&w, "frozen-worker.log", "%s --worker --master-port %d --threads 1 --master-timeout 2",
	      harness_bin("load"), port);
	assert_int_equal(wait_for("frozen.log", "All users spawned", START_MS), 0);
	kill(master.pid, SIGSTOP);
	t0 = harness_now_ms();
	assert_int_equal(proc_wait(&w, 20000), 1);
	took = harness_now_ms() - t0;
	proc_stop(&master, SIGKILL, 5000);
	/* 3 s of silence drops the link, then 2 s of timeout: about 5 s */
	assert_true(took >= 4000);
	assert_true(took <= 12000);
	assert_non_null(strstr(slurp("frozen-worker.log"), "lost the link to the master"));
}

/* make live's script: the URL printed, the UI lists the workers, Ctrl-C ends it all. */
static void live_serves_the_ui_until_ctrl_c(void **state)
{
	struct proc live;
	int web = harness_free_port(), fd;
	char bin[512], logs[128], out[4096], *slash;
	(void)state;

	snprintf(bin, sizeof bin, "%s", harness_bin("load"));
	slash = strrchr(bin, '/');
	*slash = '\0';
	snprintf(logs, sizeof logs, "%s/live", dir);
	start(&live, "live.log", "/usr/bin/python3 load/harness/live.py --scenario " CLASS
	      " --load-workers 2 --web-port %d --task-ms " TASK_MS " --bin %s --log-dir %s",
	      web, bin, logs);
	assert_int_equal(wait_for("live.log", "live: open http://127.0.0.1:", START_MS), 0);
	web_stats(web, "sorted(w[\"state\"] for w in d[\"workers\"])", out, sizeof out);
	assert_non_null(strstr(out, "['ready', 'ready']"));
	assert_int_equal(proc_stop(&live, SIGINT, 20000), 0);
	/* everything it started is gone: the UI no longer answers, the workers were told */
	fd = http_connect(web);
	assert_true(fd < 0);
	assert_non_null(strstr(slurp("live/load-worker-1.log"), "worker: "));
	assert_non_null(strstr(slurp("live/load-worker-2.log"), "worker: "));
}

static int setup(void **state)
{
	char *argv[] = { (char *)harness_bin("evented"), "--listen", "127.0.0.1:0", "--task-ms",
			 TASK_MS, NULL };
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/it_worker.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return proc_start(&server, argv);
}

static int teardown(void **state)
{
	char out[256];
	(void)state;
	proc_stop(&server, SIGTERM, 5000);
	harness_sh(out, sizeof out, "rm -rf %s", dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(master_headless_sums_two_workers),
		cmocka_unit_test(web_ui_lists_workers_and_outlives_a_killed_one),
		cmocka_unit_test(worker_exits_1_when_the_master_vanishes),
		cmocka_unit_test(worker_exits_1_when_the_master_freezes),
		cmocka_unit_test(live_serves_the_ui_until_ctrl_c),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
