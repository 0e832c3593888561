/* Request handling without sockets: every request fed whole and one byte at a
 * time, pipelining, keep-alive rules, every error, and the response format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_conn.h"

/* Feeds req (whole, or a byte at a time) until an event other than MORE;
 * returns the event and stores how many bytes were consumed. */
static enum http_event feed(struct http_conn *h, const char *req, size_t len, int bytewise,
			    size_t *used)
{
	enum http_event ev = HTTP_EV_MORE;
	size_t off = 0;

	while (off < len) {
		size_t chunk = bytewise ? 1 : len - off;
		size_t n = http_conn_feed(h, req + off, chunk, &ev);
		off += n;
		if (ev != HTTP_EV_MORE)
			break;
		assert_int_equal(n, chunk); /* MORE means everything was taken */
	}
	*used = off;
	return ev;
}

/* One request on a fresh connection, both ways; both must agree. */
static enum http_event one(const char *req, struct http_conn *out)
{
	enum http_event ev[2];
	size_t used[2];
	struct http_conn h[2];

	for (int b = 0; b < 2; b++) {
		http_conn_init(&h[b], 5000, 10);
		ev[b] = feed(&h[b], req, strlen(req), b, &used[b]);
	}
	assert_int_equal(ev[0], ev[1]);
	if (ev[0] != HTTP_EV_ERROR) /* after an error the parser may have read ahead */
		assert_int_equal(used[0], used[1]);
	assert_int_equal(h[0].status, h[1].status);
	assert_int_equal(h[0].req.ms, h[1].req.ms);
	assert_ptr_equal(h[0].req.route, h[1].req.route);
	assert_int_equal(h[0].req.keep_alive, h[1].req.keep_alive);
	assert_int_equal(h[0].req.head, h[1].req.head);
	assert_int_equal(h[0].req.http10, h[1].req.http10);
	assert_int_equal(h[0].req.metrics, h[1].req.metrics);
	if (ev[0] == HTTP_EV_ERROR)
		assert_string_equal(h[0].error, h[1].error);
	*out = h[0];
	http_conn_free(&h[1]);
	return ev[0];
}

static void simple_get(void **state)
{
	struct http_conn h;
	(void)state;
	assert_int_equal(one("GET /async_dataflow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n", &h),
			 HTTP_EV_REQUEST);
	assert_non_null(h.req.route);
	assert_string_equal(h.req.route->path, "/async_dataflow");
	assert_int_equal(h.req.ms, 50);
	assert_true(h.req.keep_alive);
	assert_false(h.req.head);
	assert_false(h.req.metrics);
	http_conn_free(&h);
}

static void default_ms_head_metrics_and_absolute_form(void **state)
{
	struct http_conn h;
	(void)state;
	assert_int_equal(one("HEAD /async_concurrent HTTP/1.1\r\n\r\n", &h), HTTP_EV_REQUEST);
	assert_int_equal(h.req.ms, 5000);
	assert_true(h.req.head);
	http_conn_free(&h);
	assert_int_equal(one("GET /metrics HTTP/1.1\r\n\r\n", &h), HTTP_EV_REQUEST);
	assert_true(h.req.metrics);
	assert_null(h.req.route);
	http_conn_free(&h);
	assert_int_equal(one("GET http://127.0.0.1:8002/async_dependent?ms=7 HTTP/1.1\r\n\r\n", &h),
			 HTTP_EV_REQUEST);
	assert_string_equal(h.req.route->path, "/async_dependent");
	assert_int_equal(h.req.ms, 7);
	http_conn_free(&h);
}

static void keep_alive_rules(void **state)
{
	struct http_conn h;
	(void)state;
	one("GET /async_dataflow HTTP/1.1\r\nConnection: close\r\n\r\n", &h);
	assert_false(h.req.keep_alive);
	http_conn_free(&h);
	one("GET /async_dataflow HTTP/1.0\r\n\r\n", &h);
	assert_false(h.req.keep_alive);
	assert_true(h.req.http10);
	http_conn_free(&h);
	one("GET /async_dataflow HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h);
	assert_true(h.req.keep_alive);
	http_conn_free(&h);
}

static void pipelined_requests_come_one_at_a_time(void **state)
{
	const char *two = "GET /async_independent?ms=1 HTTP/1.1\r\n\r\n"
			  "GET /async_dependent?ms=2 HTTP/1.1\r\n\r\n";
	size_t len = strlen(two), first = strlen("GET /async_independent?ms=1 HTTP/1.1\r\n\r\n");
	(void)state;
	for (int b = 0; b < 2; b++) {
		struct http_conn h;
		size_t used;
		http_conn_init(&h, 5000, 10);
		assert_int_equal(feed(&h, two, len, b, &used), HTTP_EV_REQUEST);
		assert_int_equal(used, first); /* stops right after the first request */
		assert_int_equal(h.req.ms, 1);
		/* Until answered, nothing more is taken. */
		enum http_event ev;
		assert_int_equal(http_conn_feed(&h, two + used, len - used, &ev), 0);
		assert_int_equal(ev, HTTP_EV_REQUEST);
		http_conn_next(&h);
		size_t more;
		assert_int_equal(feed(&h, two + used, len - used, b, &more), HTTP_EV_REQUEST);
		assert_int_equal(used + more, len);
		assert_string_equal(h.req.route->path, "/async_dependent");
		assert_int_equal(h.req.ms, 2);
		http_conn_free(&h);
	}
}

static void small_bodies_are_discarded(void **state)
{
	struct http_conn h;
	(void)state;
	assert_int_equal(one("GET /async_dataflow HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &h),
			 HTTP_EV_REQUEST);
	http_conn_free(&h);
	assert_int_equal(one("GET /async_dataflow HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "5\r\nhello\r\n0\r\n\r\n", &h),
			 HTTP_EV_REQUEST);
	http_conn_free(&h);
}

static void expect_error(const char *req, int status)
{
	struct http_conn h;
	assert_int_equal(one(req, &h), HTTP_EV_ERROR);
	assert_int_equal(h.status, status);
	assert_non_null(h.error);
	http_conn_free(&h);
}

static void errors(void **state)
{
	static char big[HTTP_HEAD_MAX + 100], body[HTTP_BODY_MAX + 200];
	int n;
	(void)state;
	expect_error("GET /nowhere HTTP/1.1\r\n\r\n", 404);
	expect_error("GET /sync_baseline HTTP/1.1\r\n\r\n", 404); /* the other world's route */
	expect_error("GET /async_dataflow?ms=abc HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /async_dataflow?ms=600001 HTTP/1.1\r\n\r\n", 400);
	expect_error("POST /async_dataflow HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 405);
	expect_error("DELETE /async_dataflow HTTP/1.1\r\n\r\n", 405);
	expect_error("GET /async_dataflow HTTP/1.1\r\nContent-Length: 3\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n", 400);
	expect_error("GET /async_dataflow HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		     "Content-Length: 3\r\n\r\n", 400);
	expect_error("GET /async_dataflow HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", 413);
	expect_error("GARBAGE\r\n\r\n", 400);
	expect_error("GET /async_dataflow HTTP/9.9x\r\n\r\n", 400);
	expect_error("GET /async_dataflow HTTP/1.1\r\nBad Header\r\n\r\n", 400);

	n = snprintf(big, sizeof big, "GET /async_dataflow HTTP/1.1\r\nX-Pad: ");
	memset(big + n, 'a', HTTP_HEAD_MAX);
	strcpy(big + n + HTTP_HEAD_MAX, "\r\n\r\n");
	expect_error(big, 431);
	/* A long target alone also counts. */
	n = snprintf(big, sizeof big, "GET /");
	memset(big + n, 'a', HTTP_HEAD_MAX);
	strcpy(big + n + HTTP_HEAD_MAX, " HTTP/1.1\r\n\r\n");
	expect_error(big, 431);

	n = snprintf(body, sizeof body, "GET /async_dataflow HTTP/1.1\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n%x\r\n", HTTP_BODY_MAX + 10);
	memset(body + n, 'b', HTTP_BODY_MAX + 10);
	strcpy(body + n + HTTP_BODY_MAX + 10, "\r\n0\r\n\r\n");
	expect_error(body, 413);
}

static void a_head_just_under_the_limit_is_fine(void **state)
{
	static char big[HTTP_HEAD_MAX + 100];
	struct http_conn h;
	int n = snprintf(big, sizeof big, "GET /async_dataflow HTTP/1.1\r\nX-Pad: ");
	(void)state;
	memset(big + n, 'a', HTTP_HEAD_MAX - n - 100);
	strcpy(big + HTTP_HEAD_MAX - 100, "\r\n\r\n");
	assert_int_equal(one(big, &h), HTTP_EV_REQUEST);
	http_conn_free(&h);
}

/* A whole head may take http_conn's fast path; fed a byte at a time it never
 * can (the parser sees it). Every mutation of these requests -- each byte
 * replaced by each of a set of awkward bytes, or dropped, or doubled -- must get
 * the same answer both ways: the fast path only takes what it reads exactly as
 * the parser does, and declines the rest. */
static void fast_path_agrees_with_the_parser(void **state)
{
	static const char *const base[] = {
		"GET /async_concurrent?ms=0 HTTP/1.1\r\nHost: 127.0.0.1:8002\r\n"
		"User-Agent: bin/load\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
		"HEAD /metrics HTTP/1.0\r\nConnection: Keep-Alive\r\nX-A:\t v\r\n\r\n",
		"GET /async_dataflow HTTP/1.1\r\nconnection: CLOSE\r\nContent-Length: 0\r\n\r\n",
	};
	static const char awkward[] = { 0, '\t', '\n', '\r', ' ', '"', '#', '%', ',', '/', ':', ';',
					'?', '@', 'A', 'a', '\\', 0x7f, (char)0x80, (char)0xff };
	char req[512];
	struct http_conn h;
	(void)state;

	for (size_t b = 0; b < sizeof base / sizeof base[0]; b++) {
		size_t len = strlen(base[b]);
		for (size_t i = 0; i < len; i++) {
			for (size_t k = 0; k < sizeof awkward + 2; k++) {
				size_t n = 0;
				memcpy(req, base[b], i);
				n = i;
				if (k < sizeof awkward)
					req[n++] = awkward[k]; /* replaced */
				else if (k == sizeof awkward)
					req[n++] = base[b][i], req[n++] = base[b][i]; /* doubled */
				/* else dropped */
				memcpy(req + n, base[b] + i + 1, len - i - 1);
				n += len - i - 1;
				req[n] = '\0';
				if (strlen(req) != n)
					continue; /* one() takes a C string */
				one(req, &h);
				http_conn_free(&h);
			}
		}
	}
}

static void response_format(void **state)
{
	char buf[512], body[64];
	size_t n;
	(void)state;
	n = http_format_response(buf, sizeof buf, 200, "application/json", "{}", 2, 0, 1, 0, NULL);
	buf[n] = '\0';
	assert_string_equal(buf, "HTTP/1.1 200 OK\r\nServer: evented\r\n"
				 "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	n = http_format_response(buf, sizeof buf, 200, "application/json", "{}", 2, 1, 1, 1, NULL);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "Connection: keep-alive\r\n"));
	assert_non_null(strstr(buf, "Content-Length: 2\r\n"));
	assert_string_equal(buf + n - 4, "\r\n\r\n"); /* HEAD: no body */
	n = http_error_body(body, sizeof body, "say \"no\"");
	body[n] = '\0';
	assert_string_equal(body, "{\"error\": \"say \\\"no\\\"\"}");
	n = http_format_response(buf, sizeof buf, 404, "application/json", body, strlen(body), 0, 0,
				 0, "Thu, 01 Jan 1970 00:00:00 GMT");
	buf[n] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.1 404 Not Found\r\n"));
	assert_non_null(strstr(buf, "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_int_equal(http_format_response(buf, 10, 200, "x", "y", 1, 0, 1, 0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_get),
		cmocka_unit_test(default_ms_head_metrics_and_absolute_form),
		cmocka_unit_test(keep_alive_rules),
		cmocka_unit_test(pipelined_requests_come_one_at_a_time),
		cmocka_unit_test(small_bodies_are_discarded),
		cmocka_unit_test(errors),
		cmocka_unit_test(a_head_just_under_the_limit_is_fine),
		cmocka_unit_test(fast_path_agrees_with_the_parser),
		cmocka_unit_test(response_format),
	};
	http_conn_setup();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
