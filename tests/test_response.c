/* bin/load's fast response path against libhttp-parser: whatever response_whole
 * accepts, the parser must read the same way (complete exactly at the buffer's
 * end, same status, reason, body length and keep-alive), on ordinary
 * responses and on every byte mutation of them; and what it must decline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <http_parser.h>
#include <stdio.h>
#include <string.h>

#include "response.h"

struct reading {
	int complete;
	size_t complete_at;     /* bytes consumed when the message completed */
	char reason[256];
	size_t reason_len;
	uint64_t body;
	const char *base;
	const char *cur;        /* the chunk being executed, to place complete_at */
};

static int on_status(http_parser *p, const char *at, size_t len)
{
	struct reading *r = p->data;
	if (r->complete)
		return 0;
	if (len > sizeof r->reason - r->reason_len)
		len = sizeof r->reason - r->reason_len;
	memcpy(r->reason + r->reason_len, at, len);
	r->reason_len += len;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct reading *r = p->data;
	(void)at;
	if (!r->complete)
		r->body += len;
	return 0;
}

static int on_complete(http_parser *p)
{
	struct reading *r = p->data;
	r->complete = 1;
	http_parser_pause(p, 1); /* stop here: what follows is not this response */
	return 0;
}

static const http_parser_settings settings = {
	.on_status = on_status,
	.on_body = on_body,
	.on_message_complete = on_complete,
};

/* If the fast path accepts buf, the parser must agree on everything. */
static int agree(const char *buf, size_t len)
{
	struct response fast;
	struct reading slow = { 0 };
	http_parser p;
	size_t n;

	if (!response_whole(buf, len, &fast))
		return 0;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &slow;
	n = http_parser_execute(&p, &settings, buf, len);
	assert_true(slow.complete);
	assert_int_equal(n, len);
	assert_int_equal(p.status_code, fast.status);
	assert_int_equal(http_should_keep_alive(&p), fast.keep_alive);
	assert_int_equal(slow.body, fast.body_len);
	assert_int_equal(slow.reason_len, fast.reason_len);
	assert_memory_equal(slow.reason, fast.reason, fast.reason_len);
	return 1;
}

static const char *const ordinary[] = {
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 16:00:00 GMT\r\n"
	"Content-Type: application/json\r\nContent-Length: 51\r\nConnection: keep-alive\r\n\r\n"
	"{\"message\": \"Async tasks completed with [0, 1, 2]\"}",
	"HTTP/1.1 200 OK\r\nServer: evented\r\nContent-Type: application/json\r\n"
	"Content-Length: 2\r\n\r\n{}",
	"HTTP/1.0 503 Service Unavailable\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n",
	"HTTP/1.1 404 Not Found\r\nX-A:\t v \r\nCONNECTION: close\r\nContent-Length: 3\r\n\r\nabc",
};

static void ordinary_responses_take_the_fast_path(void **state)
{
	struct response r;
	(void)state;
	for (size_t i = 0; i < sizeof ordinary / sizeof ordinary[0]; i++)
		assert_true(agree(ordinary[i], strlen(ordinary[i])));
	assert_true(response_whole(ordinary[2], strlen(ordinary[2]), &r));
	assert_int_equal(r.status, 503);
	assert_true(r.keep_alive);
	assert_int_equal(r.body_len, 0);
	assert_true(response_whole(ordinary[3], strlen(ordinary[3]), &r));
	assert_false(r.keep_alive);
	assert_int_equal(r.reason_len, strlen("Not Found"));
}

static void declined(void **state)
{
	static const char *const other[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",          /* partial body */
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab",           /* bytes beyond it */
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP/1.1 500 X\r\n", /* a second response */
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",                 /* partial head */
		"HTTP/1.1 200 OK\r\n\r\nuntil close",                       /* no length */
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
		"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\na",
		"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 101 Switching\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
		"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\n Folded: x\r\nContent-Length: 0\r\n\r\n",
	};
	struct response r;
	(void)state;
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		assert_false(response_whole(other[i], strlen(other[i]), &r));
}

/* Each byte replaced by each awkward byte, dropped, or doubled: whatever the
 * fast path still accepts, the parser reads the same way. */
static void every_mutation_agrees(void **state)
{
	static const char awkward[] = { 0, '\t', '\n', '\r', ' ', '"', ',', '+', '-', '0', '9', ':',
					';', 'A', 'a', '\\', 0x7f, (char)0x80, (char)0xff };
	char buf[512];
	size_t accepted = 0, tried = 0;
	(void)state;

	for (size_t b = 0; b < sizeof ordinary / sizeof ordinary[0]; b++) {
		const char *base = ordinary[b];
		size_t len = strlen(base);
		for (size_t i = 0; i < len; i++) {
			for (size_t k = 0; k < sizeof awkward + 2; k++) {
				size_t n = i;
				memcpy(buf, base, i);
				if (k < sizeof awkward)
					buf[n++] = awkward[k];
				else if (k == sizeof awkward)
					buf[n++] = base[i], buf[n++] = base[i];
				memcpy(buf + n, base + i + 1, len - i - 1);
				n += len - i - 1;
				accepted += (size_t)agree(buf, n);
				tried++;
			}
		}
	}
	/* Most mutations of a value or a body byte are still ordinary responses. */
	assert_true(accepted > tried / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ordinary_responses_take_the_fast_path),
		cmocka_unit_test(declined),
		cmocka_unit_test(every_mutation_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
