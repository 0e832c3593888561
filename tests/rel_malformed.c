/*
 * Malformed requests against both real servers: every case is sent on its own
 * connection, its answer and whether the server then closed are checked, and
 * after each case a normal request must be answered promptly. Each case is
 * repeated REPEAT times so a slow corruption (a leak, a wedged worker) shows.
 *
 * Every case must get exactly one response: a second one would mean bytes
 * after a mis-framed request were read as a request of their own (request
 * smuggling). bin/evented decides every answer itself (evented/http_conn.h). For
 * bin/blocking CivetWeb 1.15 answers some errors before the handler runs (an
 * oversized head 400, a bad Content-Length 411) and lets others through (a bad
 * chunk size, since the handler never reads a body); the handler refuses
 * Content-Length twice or beside Transfer-Encoding (400) and a full header
 * table (431). The expectations below are what it actually does, and
 * docs/RELIABILITY.md says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "rel_common.h"
#include "routes.h"

#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPEAT 5
#define PROMPT_MS 1000.0 /* generous: two shared cores */

struct bad_case {
	const char *name;
	const char *fmt;    /* %s = the server's route path; '^' becomes a NUL byte */
	int evented;        /* the status each server answers with */
	int blocking;       /* CivetWeb's own answer where it decides (see the header) */
};

/* Built by build_case for the cases too long for a literal. */
#define BIG_HEADER "<big header>"
#define MANY_HEADERS "<many headers>"

static const struct bad_case cases[] = {
	{ "garbage request line", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 400, 400 },
	{ "unknown method", "BREW %s?ms=0 HTTP/1.1\r\nHost: a\r\n\r\n", 400, 400 },
	{ "method not GET/HEAD", "DELETE %s?ms=0 HTTP/1.1\r\nHost: a\r\n\r\n", 405, 405 },
	{ "version HTTP/9.9", "GET %s?ms=0 HTTP/9.9\r\nHost: a\r\n\r\n", 505, 505 },
	{ "NUL byte in a header value", "GET %s?ms=0 HTTP/1.1\r\nX-A: a^b\r\n\r\n", 400, 400 },
	{ "control bytes in a header value", "GET %s?ms=0 HTTP/1.1\r\nX-A: a\x01\x7f\x1b b\r\n\r\n", 400, 400 },
	{ "control byte in a header name", "GET %s?ms=0 HTTP/1.1\r\nX\x01A: b\r\n\r\n", 400, 400 },
	{ "header over the limit (20,000 bytes)", BIG_HEADER, 431, 400 },
	{ "too many headers (150)", MANY_HEADERS, 431, 431 },
	{ "conflicting Content-Length twice", "GET %s?ms=0 HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, 400 },
	{ "equal Content-Length twice", "GET %s?ms=0 HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 400, 400 },
	{ "non-numeric Content-Length", "GET %s?ms=0 HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, 411 },
	{ "negative Content-Length", "GET %s?ms=0 HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, 411 },
	{ "Content-Length with Transfer-Encoding", "GET %s?ms=0 HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, 400 },
	{ "smuggled request after Content-Length + Transfer-Encoding", "GET %s?ms=0 HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 400, 400 },
	{ "smuggled request after conflicting Content-Length", "GET %s?ms=0 HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 400, 400 },
	{ "bad chunk size", "GET %s?ms=0 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 400, 200 },
	{ "ms negative", "GET %s?ms=-1 HTTP/1.1\r\n\r\n", 400, 400 },
	{ "ms huge (600001)", "GET %s?ms=600001 HTTP/1.1\r\n\r\n", 400, 400 },
	{ "ms overflowing", "GET %s?ms=99999999999999999999999999 HTTP/1.1\r\n\r\n", 400, 400 },
	{ "ms non-numeric", "GET %s?ms=abc HTTP/1.1\r\n\r\n", 400, 400 },
	{ "ms empty", "GET %s?ms= HTTP/1.1\r\n\r\n", 400, 400 },
	{ "ms repeated", "GET %s?ms=1&ms=2 HTTP/1.1\r\n\r\n", 400, 400 },
	{ "ms with trailing junk", "GET %s?ms=5x HTTP/1.1\r\n\r\n", 400, 400 },
};
#define N_CASES (sizeof cases / sizeof cases[0])

static const struct route *first_route(enum route_world world)
{
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == world)
			return &routes[i];
	return NULL;
}

static size_t build_case(const struct bad_case *c, const char *path, char *buf, size_t cap)
{
	int n;
	if (strcmp(c->fmt, BIG_HEADER) == 0) {
		n = snprintf(buf, cap, "GET %s?ms=0 HTTP/1.1\r\nX-Pad: ", path);
		memset(buf + n, 'p', 20000);
		n += 20000;
		n += snprintf(buf + n, cap - (size_t)n, "\r\n\r\n");
		return (size_t)n;
	}
	if (strcmp(c->fmt, MANY_HEADERS) == 0) {
		n = snprintf(buf, cap, "GET %s?ms=0 HTTP/1.1\r\n", path);
		for (int i = 0; i < 150; i++)
			n += snprintf(buf + n, cap - (size_t)n, "X-H%d: v\r\n", i);
		n += snprintf(buf + n, cap - (size_t)n, "Connection: close\r\n\r\n");
		return (size_t)n;
	}
	n = snprintf(buf, cap, c->fmt, path);
	for (int i = 0; i < n; i++)
		if (buf[i] == '^')
			buf[i] = '\0';
	return (size_t)n;
}

/*
 * Sends req on a new connection and reads until the server closes (or
 * timeout_ms): the status is the first line's code whatever version it names
 * (CivetWeb echoes "HTTP/9.9"), *closed whether the server hung up. Returns 0
 * when a status line arrived.
 */
static int exchange(int port, const char *req, size_t len, int *status, int *closed,
		    int *responses, int timeout_ms)
{
	char buf[4096];
	size_t got = 0;
	double end = harness_now_ms() + timeout_ms;
	int fd = http_connect(port);
	*status = 0;
	*closed = 0;
	if (fd < 0)
		return -1;
	if (http_send(fd, req, len) < 0) {
		/* the server may answer and close before taking every byte */
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)(end - harness_now_ms());
		ssize_t n;
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (n <= 0) {
			*closed = 1; /* EOF, or a reset after the answer: either way gone */
			break;
		}
		got += (size_t)n;
		if (got == sizeof buf - 1)
			got = 64; /* keep the status line, drop the rest */
	}
	close(fd);
	buf[got] = '\0';
	if (strncmp(buf, "HTTP/", 5) != 0 || strchr(buf, ' ') == NULL)
		return -1;
	*status = atoi(strchr(buf, ' ') + 1);
	/* a second status line means bytes after the request were taken as another */
	*responses = 0;
	for (const char *q = buf; (q = strstr(q, "HTTP/")) != NULL; q++)
		*responses += isdigit((unsigned char)q[5]) && q[6] == '.' &&
			      isdigit((unsigned char)q[7]) && q[8] == ' ' &&
			      isdigit((unsigned char)q[9]) && isdigit((unsigned char)q[10]) &&
			      isdigit((unsigned char)q[11]) && q[12] == ' ';
	return 0;
}

static void run_cases(const char *server, const char *world_name, enum route_world world,
		      char *const argv[], int blocking)
{
	static char req[32768];
	const struct route *rt = first_route(world);
	struct proc p;
	int fails = 0;
	assert_non_null(rt);
	assert_int_equal(proc_start(&p, argv), 0);
	for (size_t i = 0; i < N_CASES; i++) {
		const struct bad_case *c = &cases[i];
		int want = blocking ? c->blocking : c->evented, closed_all = 1, ok = 0;
		double worst_prompt = 0;
		size_t len = build_case(c, rt->path, req, sizeof req);
		for (int k = 0; k < REPEAT; k++) {
			static struct http_resp g;
			int status, closed, responses = 0;
			int rc = exchange(p.port, req, len, &status, &closed, &responses, 5000);
			if (rc == 0 && status == want && responses == 1)
				ok++;
			else
				print_message("%s: %s: got %d (rc %d, %d responses), want %d\n", server,
					      c->name, status, rc, responses, want);
			closed_all &= closed;
			/* the server is unharmed: a normal request right after is prompt */
			if (http_get(p.port, "/metrics", &g, 5000) < 0 || g.status != 200)
				g.ms = 1e9; /* counted as a failure below, after the server is stopped */
			if (g.ms > worst_prompt)
				worst_prompt = g.ms;
		}
		rel_record(server, c->name, REPEAT, "%d/%d answered %d once%s; next request within %.0f ms",
			   ok, REPEAT, want, closed_all ? ", closed" : ", NOT closed", worst_prompt);
		(void)world_name;
		if (ok != REPEAT || !closed_all || worst_prompt > PROMPT_MS)
			fails++;
	}
	assert_int_equal(proc_stop(&p, SIGTERM, 10000), 0);
	assert_int_equal(fails, 0);
}

/* The response counter itself: two pipelined requests on bin/evented give two. */
static void the_counter_sees_a_second_response(void **state)
{
	char *argv[] = { (char *)harness_bin("evented"), "--listen", "127.0.0.1:0",
			 "--workers", "1", "--task-ms", "0", NULL };
	const struct route *rt = first_route(WORLD_EVENTED);
	char req[512];
	struct proc p;
	int status, closed, responses = 0, n;
	(void)state;
	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\n\r\nGET %s HTTP/1.1\r\n"
		     "Connection: close\r\n\r\n", rt->path, rt->path);
	assert_int_equal(proc_start(&p, argv), 0);
	int rc = exchange(p.port, req, (size_t)n, &status, &closed, &responses, 5000);
	assert_int_equal(proc_stop(&p, SIGTERM, 10000), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(status, 200);
	assert_int_equal(responses, 2);
}

static void evented_answers_every_bad_request(void **state)
{
	char *argv[] = { (char *)harness_bin("evented"), "--listen", "127.0.0.1:0",
			 "--workers", "1", "--task-ms", "0", NULL };
	(void)state;
	run_cases("evented", "evented", WORLD_EVENTED, argv, 0);
}

static void blocking_answers_every_bad_request(void **state)
{
	char *argv[] = { (char *)harness_bin("blocking"), "--listen", "127.0.0.1:0",
			 "--threads", "4", "--task-ms", "0", NULL };
	(void)state;
	run_cases("blocking", "blocking", WORLD_BLOCKING, argv, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_counter_sees_a_second_response),
		cmocka_unit_test(evented_answers_every_bad_request),
		cmocka_unit_test(blocking_answers_every_bad_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
