#include "http_conn.h"

#include "http_field.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct http_conn *of(http_parser *p)
{
	return p->data;
}

static int fail(struct http_conn *h, int status, const char *why)
{
	h->status = (uint16_t)status;
	h->error = why;
	return -1; /* makes the parser stop with HPE_CB_* */
}

static int on_message_begin(http_parser *p)
{
	struct http_conn *h = of(p);
	h->started = 1;
	h->url_len = 0;
	h->body_len = 0;
	h->fields = 0;
	h->in_value = 0;
	memset(&h->req, 0, sizeof h->req);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn *h = of(p);
	size_t need = (size_t)h->url_len + len;

	/* The parser's head limit bounds the target; this only guards the uint16_t. */
	if (need > HTTP_HEAD_MAX)
		return fail(h, 431, "request head over 8192 bytes");
	if (need > h->url_cap) {
		size_t cap = h->url_cap ? h->url_cap : 64;
		char *url;
		while (cap < need)
			cap *= 2;
		url = realloc(h->url, cap);
		if (url == NULL)
			return fail(h, 503, "out of memory");
		h->url = url;
		h->url_cap = (uint16_t)cap;
	}
	memcpy(h->url + h->url_len, at, len);
	h->url_len = (uint16_t)need;
	return 0;
}

/* The parser may hand one field name over in pieces: count a field when its
 * name starts, i.e. on the first call or the first after a value. */
static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_conn *h = of(p);
	(void)at;
	(void)len;
	if (h->fields == 0 || h->in_value) {
		h->in_value = 0;
		if (++h->fields > HTTP_FIELDS_MAX)
			return fail(h, 431, "more than 100 header fields");
	}
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	(void)at;
	(void)len;
	of(p)->in_value = 1;
	return 0;
}

/* Resolves the target url[0..len) to a route and a task duration, or fails
 * with 404/400. */
static int route_target(struct http_conn *h, const char *url, size_t len)
{
	const char *path = url, *end = url + len, *q;
	const char *why;

	/* absolute-form (RFC 9112 §3.2.2): skip "scheme://authority". */
	if (path < end && *path != '/') {
		const char *s = memchr(path, '/', (size_t)(end - path));
		if (s && s + 1 < end && s[1] == '/')
			s = memchr(s + 2, '/', (size_t)(end - s - 2));
		path = s ? s : end;
	}
	q = memchr(path, '?', (size_t)(end - path));
	if (q == NULL)
		q = end;
	if ((size_t)(q - path) == strlen(HTTP_METRICS_PATH) &&
	    memcmp(path, HTTP_METRICS_PATH, (size_t)(q - path)) == 0) {
		h->req.metrics = 1;
		return 0;
	}
	h->req.route = routes_find_path(path, (size_t)(q - path));
	if (h->req.route == NULL || h->req.route->world != WORLD_EVENTED)
		return fail(h, 404, "no such route");
	long wait_ms = h->req.route->cpu != CPU_NONE ? 0 : h->default_ms;
	if (q < end) {
		const char *frag = memchr(q, '#', (size_t)(end - q));
		size_t qlen = (size_t)((frag ? frag : end) - q - 1);
		if (query_task_ms(q + 1, qlen, wait_ms, &h->req.ms, &why) < 0 ||
		    query_cpu_ms(q + 1, qlen, h->default_cpu_ms, &h->req.cpu_ms, &why) < 0)
			return fail(h, 400, why);
	} else {
		h->req.ms = wait_ms;
		h->req.cpu_ms = h->default_cpu_ms;
	}
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_conn *h = of(p);

	/* The target first, so even a refused request is counted under its route;
	 * then the method and size checks, whose answers take precedence. */
	int target = route_target(h, h->url, h->url_len);

	/* The parser takes any one-digit version; only 1.x is spoken here
	 * (RFC 9110 §15.6.6). HTTP/1.x with x > 1 is 1.1 (RFC 9112 §2.3). */
	if (p->http_major != 1)
		return fail(h, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	if (p->method != HTTP_GET && p->method != HTTP_HEAD)
		return fail(h, 405, "only GET and HEAD are allowed");
	/* A declared body we would refuse anyway is refused before it is read. */
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_BODY_MAX)
		return fail(h, 413, "request body over 65536 bytes");
	if (target < 0)
		return -1;
	h->req.head = p->method == HTTP_HEAD;
	h->req.http10 = p->http_major == 1 && p->http_minor == 0;
	h->req.keep_alive = http_should_keep_alive(p) && !p->upgrade;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_conn *h = of(p);
	(void)at;
	/* Chunked bodies announce no size: count what was discarded. */
	if (len > HTTP_BODY_MAX - h->body_len)
		return fail(h, 413, "request body over 65536 bytes");
	h->body_len += (uint32_t)len;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_conn *h = of(p);
	h->done = 1;
	/* Stop here: a pipelined request waits until this one is answered. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void http_conn_setup(void)
{
	/* Counted over the request line and headers together (checked: a
	 * 8198-byte head fails with HPE_HEADER_OVERFLOW, 8183 passes). */
	http_parser_set_max_header_size(HTTP_HEAD_MAX);
}

void http_conn_init(struct http_conn *h, long default_ms, long default_cpu_ms)
{
	memset(h, 0, sizeof *h);
	http_parser_init(&h->parser, HTTP_REQUEST);
	h->parser.data = h;
	h->default_ms = default_ms;
	h->default_cpu_ms = default_cpu_ms;
}

void http_conn_free(struct http_conn *h)
{
	free(h->url);
	h->url = NULL;
	h->url_cap = h->url_len = 0;
}

/* ---- the fast path: a plain request head that arrived whole ----
 *
 * Nearly every request is a GET or HEAD whose whole head came in one recv():
 * an origin-form target, HTTP/1.1 or 1.0, a few ordinary header fields, no
 * body. For those, libhttp-parser's byte-at-a-time state machine is most of
 * the server's user time. fast_head() accepts only a strict subset of what the
 * parser accepts and gives the same answer for it; anything else (a partial
 * head, a body, Transfer-Encoding, Upgrade, an unusual byte anywhere, a
 * repeated Connection field, a large head) is declined and goes to the parser,
 * untouched. test_http_conn checks the two against each other on mutated
 * requests. */

#define FAST_HEAD_MAX 4096 /* well under HTTP_HEAD_MAX: the parser judges the rest */

/* Returns the head's length when data starts with a whole plain head (the
 * request is then in h->req, or h->status holds its 404/400), 0 to decline. */
static size_t fast_head(struct http_conn *h, const char *data, size_t len)
{
	const char *p = data, *end = data + (len < FAST_HEAD_MAX ? len : FAST_HEAD_MAX);
	const char *url, *url_end;
	int head, http10, conn_close = 0, conn_keep = 0;
	unsigned fields = 0;

	if ((size_t)(end - p) >= 4 && memcmp(p, "GET ", 4) == 0) {
		head = 0;
		p += 4;
	} else if ((size_t)(end - p) >= 5 && memcmp(p, "HEAD ", 5) == 0) {
		head = 1;
		p += 5;
	} else {
		return 0;
	}
	url = p;
	if (p == end || *p != '/')
		return 0;
	while (p < end && HTTP_IS(*p, HTTP_TARGET))
		p++;
	url_end = p;
	if ((size_t)(end - p) < 11 || memcmp(p, " HTTP/1.", 8) != 0 || (p[8] != '1' && p[8] != '0') ||
	    p[9] != '\r' || p[10] != '\n')
		return 0;
	http10 = p[8] == '0';
	p += 11;
	for (;;) {
		struct http_field f;
		int rc = http_field_next(&p, end, &f);

		if (rc < 0)
			return 0;
		if (rc == 0)
			break;
		if (++fields > HTTP_FIELDS_MAX)
			return 0;
		if (HTTP_FIELD_IS(f.name, f.name_len, "connection")) {
			if (http_field_connection(&f, &conn_close, &conn_keep) < 0)
				return 0;
		} else if (http_field_reframes(&f) ||
			   HTTP_FIELD_IS(f.name, f.name_len, "content-length")) {
			return 0; /* a request with a body is not for the fast path */
		}
	}
	/* What on_message_begin and on_headers_complete would have set. */
	h->started = 1;
	h->url_len = 0;
	h->body_len = 0;
	h->fields = (uint16_t)fields;
	h->in_value = 0;
	memset(&h->req, 0, sizeof h->req);
	if (route_target(h, url, (size_t)(url_end - url)) == 0) {
		h->req.head = (uint8_t)head;
		h->req.http10 = (uint8_t)http10;
		h->req.keep_alive = (uint8_t)(http10 ? conn_keep : !conn_close);
		h->done = 1;
	}
	return (size_t)(p - data);
}

size_t http_conn_feed(struct http_conn *h, const char *data, size_t len, enum http_event *ev)
{
	size_t n;
	enum http_errno e;

	if (h->status) {
		*ev = HTTP_EV_ERROR;
		return 0;
	}
	if (h->done) {
		*ev = HTTP_EV_REQUEST;
		return 0;
	}
	*ev = HTTP_EV_MORE;
	if (len == 0)
		return 0;
	/* Only between requests: the parser then waits at a message's start. */
	if (!h->started && (n = fast_head(h, data, len)) > 0) {
		*ev = h->status ? HTTP_EV_ERROR : HTTP_EV_REQUEST;
		return n;
	}
	n = http_parser_execute(&h->parser, &settings, data, len);
	e = HTTP_PARSER_ERRNO(&h->parser);
	if (h->status) {
		*ev = HTTP_EV_ERROR;
	} else if (h->done) {
		*ev = HTTP_EV_REQUEST;
	} else if (e == HPE_HEADER_OVERFLOW) {
		fail(h, 431, "request head over 8192 bytes");
		*ev = HTTP_EV_ERROR;
	} else if (e != HPE_OK) {
		/* HPE_UNEXPECTED_CONTENT_LENGTH covers Content-Length with
		 * Transfer-Encoding (RFC 9112 §6.1: a request smuggling vector). */
		fail(h, 400, e == HPE_UNEXPECTED_CONTENT_LENGTH
			     ? "both Content-Length and Transfer-Encoding, or Content-Length twice"
			     : http_errno_description(e));
		*ev = HTTP_EV_ERROR;
	} else if (h->parser.upgrade) {
		fail(h, 400, "protocol upgrade not supported");
		*ev = HTTP_EV_ERROR;
	}
	return n;
}

void http_conn_next(struct http_conn *h)
{
	h->done = 0;
	h->started = 0;
	http_parser_pause(&h->parser, 0);
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

size_t http_format_response(char *buf, size_t cap, int status, const char *content_type,
			    const char *body, size_t body_len, int head_only, int keep_alive,
			    int http10, const char *date)
{
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nServer: evented\r\n%s%s%sContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n%s%s\r\n",
			 status, http_reason(status), date ? "Date: " : "", date ? date : "",
			 date ? "\r\n" : "", content_type, body_len,
			 status == 405 ? "Allow: GET, HEAD\r\n" : "",
			 !keep_alive ? "Connection: close\r\n"
				     : http10 ? "Connection: keep-alive\r\n" : "");
	if (n < 0 || (size_t)n >= cap)
		return 0;
	if (head_only)
		return (size_t)n;
	if (body_len > cap - (size_t)n)
		return 0;
	memcpy(buf + n, body, body_len);
	return (size_t)n + body_len;
}

size_t http_error_body(char *buf, size_t cap, const char *message)
{
	size_t n = 0;

	/* Messages are our own static strings or the parser's descriptions; escape
	 * the two characters JSON requires anyway. */
	if (cap < 14)
		return 0;
	memcpy(buf, "{\"error\": \"", 11);
	n = 11;
	for (const char *m = message; *m; m++) {
		if (n + 5 > cap)
			return 0;
		if (*m == '"' || *m == '\\')
			buf[n++] = '\\';
		buf[n++] = *m;
	}
	memcpy(buf + n, "\"}", 2);
	return n + 2;
}
