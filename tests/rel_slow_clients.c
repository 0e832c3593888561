/*
 * Slow clients (slowloris): connections that trickle a request head a byte at
 * a time. bin/evented must keep answering normal requests on time and close
 * each slow one at --header-timeout-ms. bin/blocking cannot: each slow client,
 * silent or trickling, holds a worker thread until CivetWeb's
 * request_timeout_ms (measured: the trickle does not extend it, the limit is
 * on the whole head). With --threads 4, four slow clients take the whole pool
 * and a normal request waits for the timeout, as the lab's model says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "rel_common.h"
#include "routes.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#define SLOW 200               /* evented: slow connections */
#define TRICKLE_MS 100         /* one byte per connection this often */
#define HEADER_TIMEOUT_MS 1000
#define SLACK_MS 600.0         /* two shared cores */
#define SLOW_HEAD "GET /metrics HTTP/1.1\r\nX-Slow: "

static const struct route *first_route(enum route_world world)
{
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == world)
			return &routes[i];
	return NULL;
}

/* Sends byte k of an endless head: SLOW_HEAD, then 'a's. */
static int trickle(int fd, long k)
{
	char c = k < (long)strlen(SLOW_HEAD) ? SLOW_HEAD[k] : 'a';
	return send(fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -1;
}

/* Normal requests on a thread while the slow clients trickle. */
struct prober {
	int port;
	char path[128];
	double until;          /* monotonic ms */
	int sent, answered;
	double worst_ms;
	pthread_t tid;
};

static void *probe_main(void *arg)
{
	struct prober *pr = arg;
	static struct http_resp r;
	do { /* at least one, however late the thread starts */
		pr->sent++;
		if (http_get(pr->port, pr->path, &r, 3000) == 0 && r.status == 200)
			pr->answered++;
		if (r.ms > pr->worst_ms)
			pr->worst_ms = r.ms;
		usleep(100000);
	} while (harness_now_ms() < pr->until);
	return NULL;
}

static void evented_slowloris(void **state)
{
	static int fd[SLOW];
	static double closed_at[SLOW], began[SLOW];
	char *argv[] = { (char *)harness_bin("evented"), "--listen", "127.0.0.1:0",
			 "--workers", "1", "--task-ms", "0", "--header-timeout-ms", "1000", NULL };
	struct proc p;
	struct prober pr = { 0 };
	int closed = 0, early = 0, late = 0;
	double t0, worst_close = 0;
	(void)state;
	assert_int_equal(proc_start(&p, argv), 0);
	for (int i = 0; i < SLOW; i++) {
		fd[i] = http_connect(p.port);
		assert_true(fd[i] >= 0);
		closed_at[i] = 0;
	}
	pr.port = p.port;
	snprintf(pr.path, sizeof pr.path, "%s?ms=10", first_route(WORLD_EVENTED)->path);
	t0 = harness_now_ms();
	pr.until = t0 + HEADER_TIMEOUT_MS + 1500;
	assert_int_equal(pthread_create(&pr.tid, NULL, probe_main, &pr), 0);
	for (long k = 0; harness_now_ms() < pr.until; k++) {
		double tick = harness_now_ms();
		for (int i = 0; i < SLOW; i++) {
			char buf[512];
			if (closed_at[i] > 0)
				continue;
			if (k == 0)
				began[i] = harness_now_ms();
			if (trickle(fd[i], k) < 0 && errno != EAGAIN) {
				closed_at[i] = harness_now_ms();
				continue;
			}
			ssize_t n = recv(fd[i], buf, sizeof buf, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				closed_at[i] = harness_now_ms();
		}
		double left = TRICKLE_MS - (harness_now_ms() - tick);
		if (left > 0)
			usleep((useconds_t)(left * 1000));
	}
	pthread_join(pr.tid, NULL);
	for (int i = 0; i < SLOW; i++) {
		double held = closed_at[i] - began[i];
		if (closed_at[i] == 0)
			continue;
		closed++;
		if (held < HEADER_TIMEOUT_MS - 50)
			early++;
		if (held > HEADER_TIMEOUT_MS + SLACK_MS)
			late++;
		if (held > worst_close)
			worst_close = held;
		close(fd[i]);
		fd[i] = -1;
	}
	for (int i = 0; i < SLOW; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	print_message("evented: %d/%d slow closed (latest after %.0f ms); %d/%d normal answered, "
		      "worst %.0f ms\n", closed, SLOW, worst_close, pr.answered, pr.sent, pr.worst_ms);
	rel_record("evented", "slowloris: 200 connections, 1 byte/100 ms, --header-timeout-ms 1000",
		   SLOW, "%d closed at the timeout (latest %.0f ms after their first byte); "
		   "%d/%d normal requests meanwhile answered, worst %.0f ms",
		   closed, worst_close, pr.answered, pr.sent, pr.worst_ms);
	assert_int_equal(closed, SLOW);
	assert_int_equal(early, 0);
	assert_int_equal(late, 0);
	assert_int_equal(pr.answered, pr.sent);
	assert_true(pr.worst_ms < 10 + SLACK_MS);
	usleep(100000);
	assert_int_equal(metrics_value(p.port, "evented_connections_open"), 1);
	assert_int_equal(proc_stop(&p, SIGTERM, 10000), 0);
}

static int start_blocking(struct proc *p)
{
	char *argv[] = { (char *)harness_bin("blocking"), "--listen", "127.0.0.1:0",
			 "--threads", "4", "--task-ms", "0", "--request-timeout-ms", "1000", NULL };
	return proc_start(p, argv);
}

/* Four silent clients take the four workers until request_timeout_ms. */
static void blocking_silent_clients_hold_every_worker(void **state)
{
	static struct http_resp r;
	struct proc p;
	char path[128];
	int fd[4];
	(void)state;
	assert_int_equal(start_blocking(&p), 0);
	snprintf(path, sizeof path, "%s?ms=0", first_route(WORLD_BLOCKING)->path);
	for (int i = 0; i < 4; i++) {
		fd[i] = http_connect(p.port);
		assert_true(fd[i] >= 0);
	}
	usleep(100000);
	int got = http_get(p.port, path, &r, 5000);
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	assert_int_equal(proc_stop(&p, SIGTERM, 10000), 0);
	assert_int_equal(got, 0);
	assert_int_equal(r.status, 200);
	print_message("blocking: with 4 silent clients on 4 threads a normal request took %.0f ms\n",
		      r.ms);
	rel_record("blocking", "4 silent clients on --threads 4, --request-timeout-ms 1000", 4,
		   "a normal request waited %.0f ms (until the timeout freed a worker)", r.ms);
	assert_true(r.ms >= 1000 - 200);
	assert_true(r.ms < 1000 + 100 + SLACK_MS * 2);
}

/* Four trickling clients: they hold the pool until request_timeout_ms as the
 * silent ones do (CivetWeb times the whole head, a byte does not restart it). */
static void blocking_trickling_clients_hold_every_worker(void **state)
{
	static struct http_resp r;
	struct proc p;
	struct prober pr = { 0 };
	char path[128];
	int fd[4];
	double t0;
	(void)state;
	assert_int_equal(start_blocking(&p), 0);
	snprintf(path, sizeof path, "%s?ms=0", first_route(WORLD_BLOCKING)->path);
	for (int i = 0; i < 4; i++) {
		fd[i] = http_connect(p.port);
		assert_true(fd[i] >= 0);
	}
	pr.port = p.port;
	snprintf(pr.path, sizeof pr.path, "%s", path);
	t0 = harness_now_ms();
	pr.until = t0 + 1; /* one probe: it waits up to 3 s */
	assert_int_equal(pthread_create(&pr.tid, NULL, probe_main, &pr), 0);
	for (long k = 0; harness_now_ms() < t0 + 3500; k++) {
		for (int i = 0; i < 4; i++)
			trickle(fd[i], k);
		usleep(TRICKLE_MS * 1000);
	}
	pthread_join(pr.tid, NULL);
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	/* once they stop, the pool is back */
	int got = http_get(p.port, path, &r, 5000);
	assert_int_equal(proc_stop(&p, SIGTERM, 10000), 0);
	assert_int_equal(got, 0);
	assert_int_equal(r.status, 200);
	print_message("blocking: with 4 trickling clients %d/%d normal request answered, in "
		      "%.0f ms; after they left, %.0f ms\n", pr.answered, pr.sent, pr.worst_ms, r.ms);
	rel_record("blocking", "4 clients trickling 1 byte/100 ms on --threads 4, "
		   "--request-timeout-ms 1000", 4,
		   "a normal request waited %.0f ms (the trickle does not extend the timeout)",
		   pr.worst_ms);
	assert_int_equal(pr.answered, 1);
	assert_true(pr.worst_ms >= 1000 - 200);
	assert_true(pr.worst_ms < 1000 + 100 + SLACK_MS * 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(evented_slowloris),
		cmocka_unit_test(blocking_silent_clients_hold_every_worker),
		cmocka_unit_test(blocking_trickling_clients_hold_every_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
