/*
 * http_conn — one connection's HTTP/1.1 request side, without sockets: bytes in,
 * a parsed request or an error out; plus the response formatter. The server
 * feeds it whatever recv() returned; tests feed it a byte at a time.
 *
 * Parsing is libhttp-parser's, incremental across any split of the input. The
 * parser stops after each complete request, so a pipelined request is not even
 * looked at until the previous one has been answered (RFC 9112 §9.3.2:
 * responses go out in request order).
 *
 * Limits and the answers to their violations (every error closes the connection):
 *   request line + headers over HTTP_HEAD_MAX bytes    431
 *   more than HTTP_FIELDS_MAX header fields             431
 *   syntax error, Content-Length with Transfer-Encoding 400
 *   version other than HTTP/1.x                         505
 *   method other than GET and HEAD                      405
 *   body over HTTP_BODY_MAX bytes (smaller ones are read and discarded)  413
 *   malformed ?ms=N or ?cpu_ms=N                        400
 *   path that is neither a WORLD_EVENTED route nor /metrics              404
 */
#ifndef HTTP_CONN_H
#define HTTP_CONN_H

#include "routes.h"

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192      /* request line + headers, bytes */
#define HTTP_FIELDS_MAX 100     /* header fields; none is kept, but a count bounds the work */
#define HTTP_BODY_MAX 65536     /* a GET has no use for a body: read and drop this much */
#define HTTP_METRICS_PATH "/metrics"

enum http_event {
	HTTP_EV_MORE,    /* all input consumed, the request is not complete yet */
	HTTP_EV_REQUEST, /* a request is complete: see http_conn.req */
	HTTP_EV_ERROR,   /* answer http_conn.status with http_conn.error, then close */
};

struct http_req {
	const struct route *route; /* NULL for /metrics */
	long ms;                   /* task duration for this request */
	long cpu_ms;               /* a CPU route's work per task */
	uint8_t head;              /* HEAD: headers only */
	uint8_t keep_alive;        /* RFC 9112 §9.3: 1.1 unless "close", 1.0 only with "keep-alive" */
	uint8_t http10;            /* answer "Connection: keep-alive" explicitly */
	uint8_t metrics;           /* GET /metrics */
};

struct http_conn {
	http_parser parser;
	char *url;                 /* the request target so far; grows lazily, kept for reuse */
	uint16_t url_len, url_cap;
	uint32_t body_len;         /* body bytes discarded so far */
	uint16_t status;           /* error status when HTTP_EV_ERROR */
	uint8_t started;           /* some byte of the current request has arrived */
	uint8_t done;              /* the current request is complete (parser paused) */
	uint8_t in_value;          /* the last header callback was a value: a field name starts a new field */
	uint16_t fields;           /* header fields of the current request so far */
	const char *error;         /* static text for the error body */
	long default_ms, default_cpu_ms;
	struct http_req req;
};

/* Call once per process: sets the parser's global header-size limit. */
void http_conn_setup(void);

/* default_ms: a task's wait without ?ms= (a CPU route's is 0: it waits only
 * when asked); default_cpu_ms: a CPU task's work without ?cpu_ms=. */
void http_conn_init(struct http_conn *h, long default_ms, long default_cpu_ms);
void http_conn_free(struct http_conn *h);

/*
 * Feeds len bytes; returns how many were consumed and stores what happened in
 * *ev. On HTTP_EV_REQUEST the bytes after the request are left unconsumed: answer
 * it, call http_conn_next(), then feed them again. After HTTP_EV_ERROR feed nothing more.
 */
size_t http_conn_feed(struct http_conn *h, const char *data, size_t len, enum http_event *ev);

/* Ready for the next request on the same connection. */
void http_conn_next(struct http_conn *h);

/* Reason phrase for the statuses this server sends. */
const char *http_reason(int status);

/*
 * Writes a whole response (head, and body unless head_only) into buf and returns
 * its length, or 0 when cap is too small. `date` is an IMF-fixdate or NULL.
 */
size_t http_format_response(char *buf, size_t cap, int status, const char *content_type,
			    const char *body, size_t body_len, int head_only, int keep_alive,
			    int http10, const char *date);

/* A JSON error body {"error": "..."}; returns its length (0 if cap too small). */
size_t http_error_body(char *buf, size_t cap, const char *message);

#endif
