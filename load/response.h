/*
 * response — bin/load's fast path for the response almost every request gets:
 * one ordinary HTTP/1.x response that arrived whole in one read().
 *
 * libhttp-parser reads a response a byte at a time through a state machine;
 * for a 200-byte answer that was most of bin/load's user time per request.
 * response_whole() accepts only a strict subset of what the parser accepts --
 * "HTTP/1.1" or "HTTP/1.0", a three-digit status 200..599 other than 204 and
 * 304, a reason phrase, ordinary header fields (token names, visible-ASCII
 * values), exactly one all-digit Content-Length, at most one Connection field
 * reading "close" or "keep-alive", no Transfer-Encoding, Upgrade or
 * Proxy-Connection, CRLF line ends, and the body's last byte the buffer's last
 * byte -- and for those gives the parser's reading. Anything else (a partial or
 * chunked response, bytes beyond it, an odd byte anywhere) is declined, and the
 * caller hands the same bytes to the parser. tests/test_response.c checks the
 * two against each other.
 *
 * response_whole returns 1 and fills *r when buf[0..len) is such a response,
 * 0 to decline. It never allocates; r->reason points into buf.
 */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#define RESPONSE_HEAD_MAX 4096 /* longer heads are left to the parser */

struct response {
	unsigned status;
	int keep_alive;       /* as http_should_keep_alive() would say */
	const char *reason;   /* the reason phrase, in buf */
	size_t reason_len;
	uint64_t body_len;
};

int response_whole(const char *buf, size_t len, struct response *r);

#endif
