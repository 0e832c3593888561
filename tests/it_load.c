/*
 * bin/load end to end, against a small HTTP server this test runs in a thread
 * (127.0.0.1:0, a thread per connection): paths /dN answer after N ms, /status/N
 * answer status N, /close answers with Connection: close. Checks the closed
 * system's request count, count conservation, exit codes, Locust's CSV headers,
 * connection-refused and timeout failures, the open model, --list and --routes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static int server_port;
static char dir[64];

/* ---------------------------------------------------------------- server */

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	size_t have = 0;
	for (;;) {
		char *end, path[256] = "", resp[512];
		int status = 200, close_after = 0, n;
		long ms = 0;
		const char *reason = "OK", *body = "{\"message\": \"ok\"}";
		ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end == NULL)
			continue;
		sscanf(buf, "GET %255s", path);
		if (sscanf(path, "/d%ld", &ms) == 1 && ms > 0) {
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		} else if (sscanf(path, "/status/%d", &status) == 1) {
			reason = status == 404 ? "Not Found" : "Internal Server Error";
		} else if (strcmp(path, "/close") == 0) {
			close_after = 1;
		}
		n = snprintf(resp, sizeof resp, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n%s",
			     status, reason, strlen(body), close_after ? "Connection: close\r\n" : "", body);
		if (write(fd, resp, (size_t)n) != n || close_after)
			break;
		have -= (size_t)(end + 4 - buf);
		memmove(buf, end + 4, have);
	}
	close(fd);
	return NULL;
}

static void *serve(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	for (;;) {
		pthread_t t;
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		if (pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(t);
	}
}

static int server_setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	pthread_t t;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	(void)state;
	if (lfd < 0)
		return -1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 512) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	server_port = ntohs(a.sin_port);
	if (pthread_create(&t, NULL, serve, (void *)(intptr_t)lfd) != 0)
		return -1;
	pthread_detach(t);
	snprintf(dir, sizeof dir, "/tmp/it_load.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int server_teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------- running */

struct run {
	int status;       /* exit code; -1 when killed */
	char err[65536];  /* its stderr */
	char out[8192];   /* its stdout */
};

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	if (f != NULL) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs bin/load with the given arguments (NULL-terminated), at most 30 s. */
static void run_load(struct run *r, ...)
{
	char *argv[64], out_path[128], err_path[128];
	va_list ap;
	int argc = 0, st;
	pid_t pid;
	double deadline = harness_now_ms() + 30000;

	argv[argc++] = (char *)harness_bin("load");
	va_start(ap, r);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(out_path, sizeof out_path, "%s/stdout", dir);
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (harness_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(20000);
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(out_path, r->out, sizeof r->out);
	slurp(err_path, r->err, sizeof r->err);
	if (r->status < 0 || r->status > 2)
		fprintf(stderr, "bin/load exited %d:\n%s\n", r->status, r->err);
}

static const char *host(void)
{
	static char h[64];
	snprintf(h, sizeof h, "http://127.0.0.1:%d", server_port);
	return h;
}

/* A path in the test's folder; four buffers in turn, so one call may use several. */
static const char *prefix(const char *name)
{
	static char p[4][128];
	static int next;
	char *s = p[next++ % 4];
	snprintf(s, sizeof p[0], "%s/%s", dir, name);
	return s;
}

/* The conservation line: sent = answered + failed + unfinished, and it balances. */
static void conservation(const struct run *r, unsigned long long *answered,
			 unsigned long long *failed)
{
	unsigned long long s, a, f, u;
	const char *line = strstr(r->err, "bin/load: sent ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "bin/load: sent %llu = answered %llu + failed %llu + "
				"unfinished at stop %llu", &s, &a, &f, &u), 4);
	assert_true(s == a + f + u);
	*answered = a;
	*failed = f;
}

/* A number of a JSON object's, or NAN when it is missing or not a number. */
static double json_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void read_file(const char *path, char *buf, size_t cap)
{
	buf[0] = '\0';
	slurp(path, buf, cap);
}

/* ----------------------------------------------------------------- tests */

static void closed_system_count_matches_users_over_service_time(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	unsigned long long a, f;
	char path[160], buf[4096];
	(void)state;
	/* 5 users, 50 ms per request, 2 s: at most 5 * 2 / 0.05 = 200 requests */
	run_load(r, "--headless", "-u", "5", "-r", "100", "-t", "2s", "-H", host(),
		 "--path", "/d50", "--threads", "2", "--csv", prefix("closed"),
		 "--json", prefix("closed.json"), NULL);
	assert_int_equal(r->status, 0);
	conservation(r, &a, &f);
	assert_int_equal(f, 0);
	assert_true(a >= 120 && a <= 200);
	/* Locust's files, Locust's headers */
	snprintf(path, sizeof path, "%s_stats.csv", prefix("closed"));
	read_file(path, buf, sizeof buf);
	{
		const char *hdr = "Type,Name,Request Count,Failure Count,Median Response Time,"
			"Average Response Time,Min Response Time,Max Response Time,"
			"Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,"
			"98%,99%,99.9%,99.99%,100%\r\nGET,/d50,";
		assert_true(strncmp(buf, hdr, strlen(hdr)) == 0);
	}
	assert_non_null(strstr(buf, "\r\n,Aggregated,"));
	snprintf(path, sizeof path, "%s_stats_history.csv", prefix("closed"));
	read_file(path, buf, sizeof buf);
	assert_true(strncmp(buf, "Timestamp,User Count,Type,Name,Requests/s,Failures/s,", 52) == 0);
	assert_non_null(strstr(buf, ",5,,Aggregated,"));
	snprintf(path, sizeof path, "%s_failures.csv", prefix("closed"));
	read_file(path, buf, sizeof buf);
	assert_string_equal(buf, "Method,Name,Error,Occurrences\r\n");
	snprintf(path, sizeof path, "%s_exceptions.csv", prefix("closed"));
	read_file(path, buf, sizeof buf);
	assert_string_equal(buf, "Count,Message,Traceback,Nodes\r\n");
	/* JSON: a valid document; the books balance there too, and latency is near 50 ms */
	read_file(prefix("closed.json"), buf, sizeof buf);
	{
		cJSON *doc = cJSON_Parse(buf);
		assert_non_null(doc);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "tool")), "bin/load");
		double sent = json_num(doc, "sent"), reqs = json_num(doc, "requests");
		double un = json_num(doc, "unfinished");
		double p50 = json_num(cJSON_GetObjectItem(doc, "latency_us"), "p50");
		assert_true(sent == reqs + un);
		assert_true(p50 >= 50000 && p50 < 50000 + 40000);
		cJSON_Delete(doc);
	}
	/* Locust's final tables on stderr */
	assert_non_null(strstr(r->err, "Response time percentiles (approximated)"));
	assert_non_null(strstr(r->err, "         Aggregated "));
	free(r);
}

static void failures_exit_1_and_group_as_locust(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	unsigned long long a, f;
	char path[160], buf[4096], want[256];
	(void)state;
	run_load(r, "-u", "2", "-r", "10", "-t", "1", "-H", host(), "--path", "/status/404",
		 "--csv", prefix("fail"), NULL);
	assert_int_equal(r->status, 1);
	conservation(r, &a, &f);
	assert_true(f > 0);
	assert_int_equal(a, 0);
	snprintf(want, sizeof want, "GET,/status/404,HTTPError('404 Client Error: Not Found for url: "
		 "http://127.0.0.1:%d/status/404'),", server_port);
	snprintf(path, sizeof path, "%s_failures.csv", prefix("fail"));
	read_file(path, buf, sizeof buf);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(r->err, "Error report"));
	free(r);
}

static void closed_port_records_connection_refused(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	unsigned long long a, f;
	char path[160], buf[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	char url[64];
	(void)state;
	/* a port that was free a moment ago and has no listener */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	run_load(r, "-u", "2", "-r", "10", "-t", "1", "-H", url, "AsyncConcurrentUser",
		 "--csv", prefix("refused"), "--threads", "1", NULL);
	assert_int_equal(r->status, 1);
	conservation(r, &a, &f);
	assert_true(f > 0);
	snprintf(path, sizeof path, "%s_failures.csv", prefix("refused"));
	read_file(path, buf, sizeof buf);
	assert_non_null(strstr(buf, "GET,/async_concurrent,\"ConnectionRefusedError(111, "
				    "'Connection refused')\","));
	free(r);
}

static void timeout_fails_slow_requests(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	unsigned long long a, f;
	(void)state;
	run_load(r, "-u", "2", "-r", "10", "-t", "2", "-H", host(), "--path", "/d600",
		 "--timeout", "0.2", NULL);
	assert_int_equal(r->status, 1);
	conservation(r, &a, &f);
	assert_int_equal(a, 0);
	assert_true(f >= 4);
	assert_non_null(strstr(r->err, "ReadTimeout(ReadTimeoutError("));
	free(r);
}

static void connection_close_reconnects_without_failures(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	unsigned long long a, f;
	(void)state;
	run_load(r, "-u", "3", "-r", "10", "-t", "1", "-H", host(), "--path", "/close",
		 "--threads", "1", NULL);
	assert_int_equal(r->status, 0);
	conservation(r, &a, &f);
	assert_int_equal(f, 0);
	assert_true(a > 10);
	free(r);
}

static void open_model_sends_on_schedule(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	unsigned long long a, f;
	char buf[8192];
	(void)state;
	/* 100/s for 2 s with a pool of 10 connections, 20 ms service: ~200 requests */
	run_load(r, "-u", "10", "-r", "100", "-t", "2", "-H", host(), "--path", "/d20",
		 "--rate", "100", "--json", prefix("open.json"), NULL);
	assert_int_equal(r->status, 0);
	conservation(r, &a, &f);
	assert_true(a >= 170 && a <= 205);
	read_file(prefix("open.json"), buf, sizeof buf);
	{
		cJSON *doc = cJSON_Parse(buf);
		assert_non_null(doc);
		assert_true(cJSON_IsObject(cJSON_GetObjectItem(doc, "service_us")));
		assert_true(json_num(cJSON_GetObjectItem(doc, "params"), "rate") == 100.0);
		cJSON_Delete(doc);
	}
	free(r);
}

/* A closed system against the lab's own servers, when they are built: users
 * divided by the service time bounds the request count. */
static void against_server(const char *server, const char *cls, double service_s)
{
	struct run *r = calloc(1, sizeof *r);
	struct proc p;
	char url[64];
	unsigned long long a, f;
	double most = 10 * 2 / service_s;
	char *argv[] = { (char *)harness_bin(server), "--listen", "127.0.0.1:0", "--task-ms", "20", NULL };

	if (access(argv[0], X_OK) != 0) {
		fprintf(stderr, "%s not built: skipped\n", argv[0]);
		free(r);
		return;
	}
	assert_int_equal(proc_start(&p, argv), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", p.port);
	run_load(r, "-u", "10", "-r", "100", "-t", "2", "-H", url, cls, NULL);
	proc_stop(&p, SIGTERM, 5000);
	assert_int_equal(r->status, 0);
	conservation(r, &a, &f);
	assert_int_equal(f, 0);
	assert_true((double)a <= most && (double)a >= 0.6 * most);
	free(r);
}

static void closed_system_against_evented(void **state)
{
	(void)state;
	against_server("evented", "AsyncConcurrentUser", 0.020);
}

static void closed_system_against_blocking(void **state)
{
	(void)state;
	against_server("blocking", "SyncBaselineUser", 0.060);
}

static void wait_time_spaces_requests(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	unsigned long long a, f;
	(void)state;
	/* 2 users waiting 0.4-0.6 s after each quick answer, 2 s: about 2 * 2 / 0.5 */
	run_load(r, "-u", "2", "-r", "10", "-t", "2", "-H", host(), "--path", "/d1",
		 "--wait-time", "0.4-0.6", NULL);
	assert_int_equal(r->status, 0);
	conservation(r, &a, &f);
	assert_true(a >= 6 && a <= 12);
	free(r);
}

static void history_has_a_batch_per_second(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	char path[160], buf[16384];
	int lines = 0, agg = 0, named = 0;
	(void)state;
	run_load(r, "-u", "2", "-r", "10", "-t", "3", "-H", host(), "--path", "/d10",
		 "--csv", prefix("full"), "--csv-full-history", NULL);
	assert_int_equal(r->status, 0);
	snprintf(path, sizeof path, "%s_stats_history.csv", prefix("full"));
	read_file(path, buf, sizeof buf);
	for (char *p = buf; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	for (char *p = buf; (p = strstr(p, ",,Aggregated,")) != NULL; p++)
		agg++;
	for (char *p = buf; (p = strstr(p, ",GET,/d10,")) != NULL; p++)
		named++;
	/* header, then one batch (a named row and Aggregated) at 0, 1, 2 and 3 s */
	assert_int_equal(agg, 4);
	assert_int_equal(named, 4);
	assert_int_equal(lines, 1 + 8);
	free(r);
}

static void usage_errors_exit_2(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	(void)state;
	run_load(r, "-u", "x", "-H", host(), "AsyncConcurrentUser", NULL);
	assert_int_equal(r->status, 2);
	run_load(r, "-H", host(), "NoSuchUser", NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->err, "NoSuchUser"));
	run_load(r, "AsyncConcurrentUser", NULL);
	assert_int_equal(r->status, 2);
	run_load(r, "-t", "5q", "-H", host(), "AsyncConcurrentUser", NULL);
	assert_int_equal(r->status, 2);
	run_load(r, "--bogus", NULL);
	assert_int_equal(r->status, 2);
	/* a worker takes its users, classes and host from the master */
	run_load(r, "--worker", "AsyncConcurrentUser", NULL);
	assert_int_equal(r->status, 2);
	run_load(r, "--worker", "--rate", "10", NULL);
	assert_int_equal(r->status, 2);
	run_load(r, "--worker", "--master-port", "70000", NULL);
	assert_int_equal(r->status, 2);
	run_load(r, "--help", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "--spawn-rate"));
	free(r);
}

static void list_and_routes_read_the_route_table(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	(void)state;
	run_load(r, "--list", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "SyncBaselineUser\n"));
	assert_non_null(strstr(r->out, "AsyncConcurrentUser\n"));
	run_load(r, "--routes", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "AsyncConcurrentUser\t/async_concurrent\tevented\tgather\t3\tnone\n"));
	assert_non_null(strstr(r->out, "AsyncOffloadUser\t/async_offload\tevented\tsequential\t3\tpool\n"));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_system_count_matches_users_over_service_time),
		cmocka_unit_test(failures_exit_1_and_group_as_locust),
		cmocka_unit_test(closed_port_records_connection_refused),
		cmocka_unit_test(timeout_fails_slow_requests),
		cmocka_unit_test(connection_close_reconnects_without_failures),
		cmocka_unit_test(open_model_sends_on_schedule),
		cmocka_unit_test(closed_system_against_evented),
		cmocka_unit_test(closed_system_against_blocking),
		cmocka_unit_test(wait_time_spaces_requests),
		cmocka_unit_test(history_has_a_batch_per_second),
		cmocka_unit_test(usage_errors_exit_2),
		cmocka_unit_test(list_and_routes_read_the_route_table),
	};
	return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
