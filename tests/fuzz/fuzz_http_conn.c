/*
 * fuzz_http_conn — libFuzzer target for bin/evented's request side: the bytes a
 * client sends, fed to http_conn exactly as the server's read loop does
 * (answer, http_conn_next, feed the rest), split at a point the input chooses
 * so incremental parsing is exercised too. Every outcome is formatted into a
 * response as the server would send it.
 */
#include "http_conn.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void answer(const struct http_conn *h, enum http_event ev)
{
	char body[512], buf[2048];
	size_t n;
	if (ev == HTTP_EV_ERROR) {
		n = http_error_body(body, sizeof body, h->error ? h->error : "?");
		if (n == 0 || http_format_response(buf, sizeof buf, h->status, "application/json",
						   body, n, 0, 0, 0, NULL) == 0)
			abort(); /* every error text must fit an error response */
		return;
	}
	if (h->req.ms < 0 || h->req.ms > 600000)
		abort(); /* the route table's bound on ?ms= */
	if (!h->req.metrics && h->req.route == NULL)
		abort();
	http_format_response(buf, sizeof buf, 200, "application/json", "{}", 2, h->req.head,
			     h->req.keep_alive, h->req.http10, "Thu, 01 Jan 1970 00:00:00 GMT");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int setup;
	struct http_conn h;
	size_t split, off = 0;
	int requests = 0;

	if (!setup) {
		http_conn_setup();
		setup = 1;
	}
	if (size == 0)
		return 0;
	split = data[0] % 64; /* first feed's size: the rest goes in one */
	data++, size--;
	http_conn_init(&h, 5000, 10);
	while (off < size && requests < 64) {
		size_t want = split && off == 0 && split < size ? split : size - off;
		enum http_event ev;
		size_t used = http_conn_feed(&h, (const char *)data + off, want, &ev);
		if (used > want)
			abort();
		off += used;
		if (ev == HTTP_EV_ERROR) {
			answer(&h, ev);
			break;
		}
		if (ev == HTTP_EV_REQUEST) {
			answer(&h, ev);
			http_conn_next(&h);
			requests++;
			continue;
		}
		if (used == 0 && want > 0)
			abort(); /* MORE without consuming: the server would spin */
	}
	http_conn_free(&h);
	return 0;
}
