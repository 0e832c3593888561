#include "server.h"

#include "executor.h"
#include "http_conn.h"
#include "sched_slice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL
#define ACCEPT_BATCH 64           /* accepts per wake-up, so a flood can't starve reads */
#define ACCEPT_RETRY_MS 100       /* pause after EMFILE/ENFILE before trying again */
#define LINGER_MS 2000            /* a closing connection's input is dropped this long */
#define LINGER_MAX_BYTES (1 << 20)
#define PENDING_MAX 16384         /* pipelined input buffered while a request sleeps */

enum conn_state { READING, BUSY, LINGER, CLOSED };
enum conn_wait { WAIT_NONE, WAIT_HEADER, WAIT_IDLE, WAIT_LINGER };

struct conn {
	struct io io;              /* first: the epoll data points here */
	struct worker *w;
	struct conn *prev, *next;
	struct timer timer;        /* fires at or before expire; see set_expire */
	int64_t expire;            /* when the current wait ends, INT64_MAX none */
	uint8_t state, wait;
	uint8_t close_after;       /* close once the output is sent */
	uint8_t in_flight;
	uint32_t events;           /* current epoll interest */
	uint32_t linger_bytes;
	uint32_t pending_len, wlen, woff;
	char *pending;             /* unparsed input, only while blocked */
	char *wbuf;                /* unsent output, only after a short write */
	struct http_conn http;
	struct exec exec;
};

static void conn_close(struct conn *c);
static void conn_input(struct conn *c, const char *data, size_t len);
static void conn_settle(struct conn *c);
static void conn_read(struct conn *c, int hup);

/* ---- the connection's one timer, lazily moved ---- */

/* A keep-alive connection changes its deadline on every request. Moving the
 * heap entry each time would cost O(log n) and, for the earliest one, a
 * timerfd_settime; instead only `expire` changes, and the timer, when it fires
 * early, moves itself to the new deadline (nginx and libuv users do the same).
 * Except while a request sleeps (WAIT_NONE): it has no timeout, and its
 * connection's timer leaves the heap. Kept there, every connection opened in
 * the same moment (a spawn of 2,000 users) fired its header timeout together
 * ten seconds later, 2,000 early callbacks in one loop pass ahead of the tasks
 * due; a sleeping request already costs its tasks' timers, and one cancel and
 * one add at the far end of the heap beside them are cheap. */
static void set_expire(struct conn *c, enum conn_wait wait, int64_t delay_ms)
{
	struct loop *l = &c->w->loop;
	c->wait = (uint8_t)wait;
	c->expire = wait == WAIT_NONE ? INT64_MAX : l->now + delay_ms * MS;
	if (wait == WAIT_NONE)
		loop_timer_cancel(l, &c->timer);
	if (c->expire != INT64_MAX &&
	    (!timer_pending(&c->timer) || c->timer.deadline > c->expire) &&
	    loop_timer_at(l, &c->timer, c->expire) < 0)
		conn_close(c);
}

static void on_conn_timer(struct timer *t)
{
	struct conn *c = (struct conn *)((char *)t - offsetof(struct conn, timer));
	struct loop *l = &c->w->loop;

	if (c->expire == INT64_MAX)
		return;
	if (c->expire > l->now) {
		if (loop_timer_at(l, &c->timer, c->expire) < 0)
			conn_close(c);
		return;
	}
	/* A loop stalled by /async_blocking's nanosleeps (or by a long batch of
	 * events) may not yet have read what the client sent in time: what the
	 * kernel holds has arrived, so read it before judging. A head completed
	 * now starts its request; a slow client's still-partial head keeps its
	 * old deadline (set once per request) and is closed below. */
	if (c->wait == WAIT_HEADER || c->wait == WAIT_IDLE) {
		enum conn_wait was = (enum conn_wait)c->wait;
		int64_t expire = c->expire;
		conn_read(c, 0);
		if (c->state == CLOSED || c->wait != was || c->expire != expire)
			return;
	}
	/* Header timeout, idle timeout, or the end of a lingering close: a slow
	 * or silent client gets nothing more than a closed connection. */
	conn_close(c);
}

/* ---- output ---- */

static void set_events(struct conn *c, uint32_t events)
{
	if (c->events == events)
		return;
	c->events = events;
	if (loop_modify(&c->w->loop, &c->io, events) < 0)
		conn_close(c);
}

static const char *date_header(struct worker *w)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != w->date_sec) {
		w->date_sec = ts.tv_sec;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(w->date, sizeof w->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	return w->date;
}

/* Sends what responses have collected in w->out (one send for a whole batch of
 * pipelined answers); the rest waits in c->wbuf for EPOLLOUT. */
static void flush(struct conn *c)
{
	struct worker *w = c->w;
	size_t off = 0;

	if (w->olen == 0)
		return;
	if (c->state == CLOSED) {
		w->olen = 0;
		return;
	}
	if (c->wlen == 0) {
		for (;;) {
			ssize_t n = loop_send(&w->loop, &c->io, w->out, w->olen);
			if (n >= 0) {
				off = (size_t)n;
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			w->olen = 0;
			conn_close(c); /* EPIPE, ECONNRESET: the client is gone */
			return;
		}
	}
	if (off < w->olen) {
		size_t rest = w->olen - off;
		char *buf = realloc(c->wbuf, c->wlen + rest);
		if (buf == NULL) {
			w->olen = 0;
			conn_close(c);
			return;
		}
		memcpy(buf + c->wlen, w->out + off, rest);
		c->wbuf = buf;
		c->wlen += (uint32_t)rest;
	}
	w->olen = 0;
}

static void respond(struct conn *c, int status, const char *type, const char *body,
		    size_t len, int head_only, int keep_alive, int http10)
{
	struct worker *w = c->w;
	size_t n;

	n = http_format_response(w->out + w->olen, sizeof w->out - w->olen, status, type, body,
				 len, head_only, keep_alive, http10, date_header(w));
	if (n == 0 && w->olen > 0) {
		flush(c);
		n = http_format_response(w->out, sizeof w->out, status, type, body, len,
					 head_only, keep_alive, http10, date_header(w));
	}
	w->olen += n;
	if (!keep_alive)
		c->close_after = 1;
}

/* The route's usual answer, from w->canned, re-dated when the second changed;
 * NULL when it does not fit the canned buffer (then it is formatted each time). */
static const struct canned *canned_for(struct worker *w, const struct route *r)
{
	struct canned *k = &w->canned[r - routes];
	const char *date = date_header(w);

	if (k->date_sec != w->date_sec) {
		k->len = (uint32_t)http_format_response(k->bytes, sizeof k->bytes, 200,
						       "application/json", r->body,
						       strlen(r->body), 0, 1, 0, date);
		k->date_sec = w->date_sec;
	}
	return k->len > 0 ? k : NULL;
}

static void respond_canned(struct conn *c, const struct canned *k)
{
	struct worker *w = c->w;

	if (k->len > sizeof w->out - w->olen)
		flush(c);
	memcpy(w->out + w->olen, k->bytes, k->len);
	w->olen += k->len;
}

static void respond_error(struct conn *c, int status, const char *why, int slot)
{
	char body[256];
	size_t len = http_error_body(body, sizeof body, why);
	respond(c, status, "application/json", body, len, 0, 0, 0);
	metrics_request(&c->w->metrics, slot, status);
}

/* ---- requests ---- */

/* The route's body, or the JSON error of a plan that failed (the database
 * unreachable or too slow): an answer like any other, so the connection stays. */
static void finish_request(struct conn *c)
{
	struct worker *w = c->w;
	const struct http_req *req = &c->http.req;
	const char *body = req->route->body;
	int status = c->exec.status ? c->exec.status : 200;
	char error[PG_WHY_MAX + 64];
	size_t len;
	const struct canned *k;

	c->in_flight = 0;
	metrics_add(&w->metrics.requests_in_flight, -1);
	if (status != 200) {
		len = http_error_body(error, sizeof error, c->exec.why);
		respond(c, status, "application/json", error, len, req->head,
			req->keep_alive && !w->draining, req->http10);
	} else if (!req->head && req->keep_alive && !w->draining && !req->http10 &&
		   (k = canned_for(w, req->route)) != NULL) {
		respond_canned(c, k);
	} else {
		/* Measured here only: the canned answer above carries its length. */
		len = strlen(body);
		respond(c, 200, "application/json", body, len, req->head,
			req->keep_alive && !w->draining, req->http10);
	}
	metrics_request(&w->metrics, metrics_slot(req->route, 0), status);
}

static void on_exec_done(struct exec *ex)
{
	struct conn *c = (struct conn *)((char *)ex - offsetof(struct conn, exec));
	char *pending = c->pending;
	uint32_t len = c->pending_len;

	c->state = READING;
	finish_request(c);
	if (!c->close_after) {
		http_conn_next(&c->http);
		c->pending = NULL;
		c->pending_len = 0;
		if (len > 0 && c->wlen == 0) {
			conn_input(c, pending, len);
		} else if (len > 0) {
			c->pending = pending; /* still blocked on output */
			c->pending_len = len;
			pending = NULL;
		}
		free(pending);
	}
	flush(c);
	conn_settle(c);
}

/* Handles a complete request; returns 1 when it was answered at once. */
static int start_request(struct conn *c)
{
	struct worker *w = c->w;
	const struct http_req *req = &c->http.req;
	int rc;

	if (req->metrics) {
		size_t n = metrics_render(w->body, sizeof w->body, w->all, w->cfg->workers);
		respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", w->body, n, req->head,
			req->keep_alive && !w->draining, req->http10);
		metrics_request(&w->metrics, metrics_slot(NULL, 1), 200);
		return 1;
	}
	c->in_flight = 1;
	metrics_add(&w->metrics.requests_in_flight, 1);
	rc = exec_start(&c->exec, req->route, req->ms, req->cpu_ms);
	if (rc != 0) {
		/* Done at once: ms=0, the blocking plan, or a failure (status set). */
		finish_request(c);
		return 1;
	}
	c->state = BUSY;
	return 0;
}

/* Input can't be parsed now: a request is sleeping, or its answer is unsent. */
static int blocked(const struct conn *c)
{
	return c->state == BUSY || c->wlen > 0;
}

static void keep_pending(struct conn *c, const char *data, size_t len)
{
	char *buf;
	if (len == 0)
		return;
	buf = realloc(c->pending, c->pending_len + len);
	if (buf == NULL) {
		conn_close(c);
		return;
	}
	memcpy(buf + c->pending_len, data, len);
	c->pending = buf;
	c->pending_len += (uint32_t)len;
}

/* Parses and answers as many requests as data holds, in order. */
static void conn_input(struct conn *c, const char *data, size_t len)
{
	while (c->state == READING && !c->close_after) {
		enum http_event ev;
		size_t used;

		if (blocked(c)) {
			keep_pending(c, data, len);
			return;
		}
		used = http_conn_feed(&c->http, data, len, &ev);
		data += used;
		len -= used;
		if (ev == HTTP_EV_MORE)
			return;
		if (ev == HTTP_EV_ERROR) {
			const struct http_req *req = &c->http.req;
			respond_error(c, c->http.status, c->http.error,
				      metrics_slot(req->route, req->metrics));
			return;
		}
		if (!start_request(c)) {
			keep_pending(c, data, len);
			return;
		}
		if (c->close_after)
			return;
		http_conn_next(&c->http);
	}
}

/* What c should hear about: always a hang-up; input unless enough pipelined
 * input already waits behind a blocked request; EPOLLOUT while output waits. */
static uint32_t wanted_events(const struct conn *c)
{
	uint32_t ev = EPOLLRDHUP;
	if (!(blocked(c) && c->pending_len >= PENDING_MAX))
		ev |= EPOLLIN;
	if (c->wlen > 0)
		ev |= EPOLLOUT;
	return ev;
}

/* Sets the right wait and interest after anything happened on c. */
static void conn_settle(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state == CLOSED || c->state == LINGER)
		return;
	if (c->state == BUSY) {
		if (c->wait != WAIT_NONE)
			set_expire(c, WAIT_NONE, 0);
	} else if (c->wlen > 0) {
		/* A client that doesn't read its answers gets the idle timeout. */
		if (c->wait != WAIT_IDLE)
			set_expire(c, WAIT_IDLE, w->cfg->idle_timeout_ms);
	} else if (c->close_after) {
		/* Lingering close: FIN now, then read and drop what the client still
		 * sends, so our answer is not lost to a reset (RFC 9112 §9.6). */
		loop_shutdown(&w->loop, &c->io);
		c->state = LINGER;
		set_events(c, EPOLLIN | EPOLLRDHUP);
		if (c->state != CLOSED)
			set_expire(c, WAIT_LINGER, LINGER_MS);
		return;
	} else if (c->http.started) {
		/* Set once per request, not per read: a slow trickle doesn't extend it. */
		if (c->wait != WAIT_HEADER)
			set_expire(c, WAIT_HEADER, w->cfg->header_timeout_ms);
	} else if (w->draining) {
		conn_close(c);
		return;
	} else if (c->wait != WAIT_IDLE) {
		set_expire(c, WAIT_IDLE, w->cfg->idle_timeout_ms);
	}
	if (c->state != CLOSED)
		set_events(c, wanted_events(c));
}

static void conn_write(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = loop_send(&c->w->loop, &c->io, c->wbuf + c->woff, c->wlen - c->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_close(c);
			return;
		}
		c->woff += (uint32_t)n;
	}
	free(c->wbuf);
	c->wbuf = NULL;
	c->wlen = c->woff = 0;
	if (c->state == READING && c->pending_len > 0 && !c->close_after) {
		char *pending = c->pending;
		uint32_t len = c->pending_len;
		c->pending = NULL;
		c->pending_len = 0;
		conn_input(c, pending, len);
		free(pending);
		flush(c);
	}
	conn_settle(c);
}

/* One recv, and what it brought handled; returns recv's count, or -1 when
 * the socket had nothing (EAGAIN) or c was closed. */
static ssize_t conn_read_once(struct conn *c)
{
	struct worker *w = c->w;
	ssize_t n;

	do
		n = loop_recv(&w->loop, &c->io, w->in, sizeof w->in);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n <= 0) {
		/* EOF or reset: the client is gone (or half-closed, which HTTP/1.1
		 * gives no way to tell apart); whatever sleeps for it is cancelled. */
		conn_close(c);
		return -1;
	}
	if (c->state == LINGER) {
		c->linger_bytes += (uint32_t)n;
		if (c->linger_bytes > LINGER_MAX_BYTES)
			conn_close(c);
		return n;
	}
	if (blocked(c)) {
		keep_pending(c, w->in, (size_t)n);
	} else {
		conn_input(c, w->in, (size_t)n);
		flush(c);
	}
	conn_settle(c);
	return n;
}

/* Reads what the socket holds while c takes input: a stream is edge-triggered
 * under epoll (loop.h), so one event means "read until a short read". `hup`:
 * the event also said the client hung up, and no second event will say it
 * again, so after the data its EOF is read too (and closes c, as the next
 * level-triggered event would have). */
static void conn_read(struct conn *c, int hup)
{
	ssize_t n;

	do
		n = conn_read_once(c);
	while (n > 0 && c->state != CLOSED && (c->events & EPOLLIN) &&
	       ((size_t)n == sizeof c->w->in || hup));
}

static void on_conn_event(struct io *io, uint32_t events)
{
	struct conn *c = (struct conn *)io;

	if (c->state == CLOSED)
		return; /* closed earlier in this batch */
	if (events & EPOLLERR) {
		conn_close(c);
		return;
	}
	if (events & EPOLLOUT) {
		conn_write(c);
		if (c->state == CLOSED)
			return;
	}
	if (events & EPOLLIN) {
		conn_read(c, (events & (EPOLLRDHUP | EPOLLHUP)) != 0);
	} else if (events & (EPOLLRDHUP | EPOLLHUP)) {
		/* Hang-up with no readable data left (or reading paused): gone. */
		conn_close(c);
	}
}

/* ---- connections ---- */

static void resume_accept(struct worker *w)
{
	if (!w->accept_paused || w->draining)
		return;
	w->accept_paused = 0;
	loop_timer_cancel(&w->loop, &w->accept_timer);
	loop_modify(&w->loop, &w->listen_io, EPOLLIN);
}

static void pause_accept(struct worker *w, int why)
{
	if (w->accept_paused)
		return;
	w->accept_paused = (uint8_t)why;
	metrics_inc(&w->metrics.accept_pauses);
	/* Level-triggered: a listener with a non-empty backlog we can't accept
	 * from would wake us forever. Stop watching it instead of spinning. */
	loop_modify(&w->loop, &w->listen_io, 0);
	if (why == 1)
		loop_timer_after(&w->loop, &w->accept_timer, ACCEPT_RETRY_MS * MS);
}

static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state == CLOSED)
		return;
	if (c->in_flight) {
		exec_cancel(&c->exec);
		c->in_flight = 0;
		metrics_add(&w->metrics.requests_in_flight, -1);
		metrics_inc(&w->metrics.abandoned);
	}
	c->state = CLOSED;
	loop_timer_cancel(&w->loop, &c->timer);
	loop_close(&w->loop, &c->io); /* also stops watching it */
	free(c->pending);
	free(c->wbuf);
	c->pending = c->wbuf = NULL;
	c->pending_len = c->wlen = 0;
	http_conn_free(&c->http);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = w->dead;
	w->dead = c;
	w->nconns--;
	metrics_add(&w->metrics.connections_open, -1);
	if (w->accept_paused == 2)
		resume_accept(w);
}

static void conn_open(struct worker *w, int fd)
{
	struct conn *c = calloc(1, sizeof *c);
	int one = 1;

	if (c == NULL) {
		close(fd);
		return;
	}
	/* Each answer leaves in one send(); Nagle would only delay pipelined ones. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->io.fd = fd;
	c->io.fn = on_conn_event;
	c->w = w;
	c->state = READING;
	c->events = EPOLLIN | EPOLLRDHUP;
	timer_init(&c->timer, on_conn_timer);
	http_conn_init(&c->http, w->cfg->task_ms, w->cfg->task_cpu_ms);
	exec_init(&c->exec, &w->loop, &w->offload, &w->metrics, w->cfg->db ? &w->db : NULL,
		  on_exec_done);
	if (loop_watch_stream(&w->loop, &c->io, c->events) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	metrics_add(&w->metrics.connections_open, 1);
	/* A new connection owes us a request head within the header timeout. */
	c->http.started = 0;
	set_expire(c, WAIT_HEADER, w->cfg->header_timeout_ms);
}

static void on_accept(struct io *io, uint32_t events)
{
	struct worker *w = (struct worker *)((char *)io - offsetof(struct worker, listen_io));
	(void)events;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd;
		if (w->nconns >= w->cfg->max_conns) {
			pause_accept(w, 2); /* resumed by the next close */
			return;
		}
		fd = loop_accept(&w->loop, &w->listen_io);
		if (fd >= 0) {
			conn_open(w, fd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* Out of descriptors: keep serving the connections we have,
			 * and look again shortly; closes will have freed some. */
			if (!w->accept_paused)
				fprintf(stderr, "evented: worker %d: accept: %s; pausing accept %d ms\n",
					w->id, strerror(errno), ACCEPT_RETRY_MS);
			pause_accept(w, 1);
			return;
		default: /* EAGAIN: backlog empty */
			return;
		}
	}
}

static void on_accept_timer(struct timer *t)
{
	struct worker *w = (struct worker *)((char *)t - offsetof(struct worker, accept_timer));
	resume_accept(w);
}

/* ---- the drain ---- */

static void start_drain(struct worker *w)
{
	struct conn *c, *next;

	w->draining = 1;
	if (w->listen_io.fd >= 0) {
		loop_timer_cancel(&w->loop, &w->accept_timer);
		loop_close(&w->loop, &w->listen_io);
	}
	for (c = w->conns; c; c = next) {
		next = c->next;
		if (c->state == READING && c->wlen == 0 && !c->close_after)
			conn_close(c); /* idle, or a head not yet complete: not in flight */
		else if (c->state == READING && c->wlen > 0)
			c->close_after = 1;
		/* BUSY: answered with Connection: close when its tasks finish.
		 * LINGER: already closing. */
	}
}

static void on_wake(struct io *io, uint32_t events)
{
	struct worker *w = (struct worker *)((char *)io - offsetof(struct worker, wake_io));
	uint64_t v;
	(void)events;
	if (read(io->fd, &v, sizeof v) < 0 && errno != EAGAIN)
		fprintf(stderr, "evented: eventfd read: %s\n", strerror(errno));
	if (!w->draining)
		start_drain(w);
}

void worker_drain(struct worker *w)
{
	uint64_t one = 1;
	if (write(w->wake_io.fd, &one, sizeof one) < 0)
		fprintf(stderr, "evented: eventfd write: %s\n", strerror(errno));
}

int worker_listen(struct worker *w, const struct server_config *cfg, int id,
		  struct metrics *const *all)
{
	int one = 1;
	char host[INET_ADDRSTRLEN];

	memset(&w->metrics, 0, sizeof w->metrics);
	w->id = id;
	w->cfg = cfg;
	w->all = all;
	w->listen_io.fd = w->wake_io.fd = -1;
	w->canned = calloc(routes_count, sizeof *w->canned);
	if (w->canned == NULL) {
		fprintf(stderr, "evented: calloc: %s\n", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < routes_count; i++)
		w->canned[i].date_sec = -1;
	if (loop_init(&w->loop, cfg->engine) < 0) {
		free(w->canned);
		w->canned = NULL;
		return -1;
	}
	timer_init(&w->accept_timer, on_accept_timer);
	w->listen_io.fn = on_accept;
	w->wake_io.fn = on_wake;
	inet_ntop(AF_INET, &cfg->addr.sin_addr, host, sizeof host);
	w->listen_io.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->listen_io.fd < 0) {
		fprintf(stderr, "evented: socket: %s\n", strerror(errno));
		goto fail;
	}
	/* SO_REUSEPORT: each worker has its own listening socket on the same port
	 * and the kernel spreads new connections across them, so workers share no
	 * accept queue, no lock and no thundering herd. */
	if (setsockopt(w->listen_io.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(w->listen_io.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
		fprintf(stderr, "evented: setsockopt SO_REUSEPORT: %s\n", strerror(errno));
		goto fail;
	}
	if (bind(w->listen_io.fd, (const struct sockaddr *)&cfg->addr, sizeof cfg->addr) < 0) {
		fprintf(stderr, "evented: bind %s:%d: %s\n", host, ntohs(cfg->addr.sin_port),
			strerror(errno));
		goto fail;
	}
	if (cfg->db != NULL && db_pool_init(&w->db, &w->loop, cfg->db, (int)cfg->pool,
					    cfg->query_timeout_ms, &w->metrics.db, id) < 0)
		goto fail;
	if (listen(w->listen_io.fd, 65535) < 0) { /* the kernel caps it at somaxconn */
		fprintf(stderr, "evented: listen %s:%d: %s\n", host, ntohs(cfg->addr.sin_port),
			strerror(errno));
		goto fail;
	}
	w->wake_io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_io.fd < 0) {
		fprintf(stderr, "evented: eventfd: %s\n", strerror(errno));
		goto fail;
	}
	if (loop_watch_listener(&w->loop, &w->listen_io, EPOLLIN) < 0 ||
	    loop_watch(&w->loop, &w->wake_io, EPOLLIN) < 0)
		goto fail;
	if (offload_start(&w->offload, &w->loop, cfg->offload_threads) < 0)
		goto fail;
	return 0;
fail:
	if (w->listen_io.fd >= 0)
		close(w->listen_io.fd);
	if (w->wake_io.fd >= 0)
		close(w->wake_io.fd);
	w->listen_io.fd = w->wake_io.fd = -1;
	db_pool_free(&w->db);
	loop_free(&w->loop);
	free(w->canned);
	w->canned = NULL;
	return -1;
}

/* Frees the connections closed this batch, except those whose CPU tasks are
 * still in the offload pool (their jobs live in the conn): they wait for the
 * pool's answer, or, with `all`, for offload_stop(), which has joined it. */
static void free_dead(struct worker *w, int all)
{
	struct conn **p = &w->dead;
	while (*p) {
		struct conn *c = *p;
		if (!all && exec_offloaded(&c->exec) > 0) {
			p = &c->next;
			continue;
		}
		*p = c->next;
		free(c);
	}
}

void *worker_run(void *arg)
{
	struct worker *w = arg;

	/* Timer slack is per thread: 1 ns so epoll and sleeps wake on time (the
	 * default 50 µs would show up in the lateness histogram). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	/* Short slices: a timer due while a neighbour's process has this CPU
	 * waits for a 0.1 ms slice, not a 3 ms one (sched_slice.h). */
	sched_slice_set(SCHED_SLICE_NS);
	while (!w->draining || w->nconns > 0) {
		if (loop_run_once(&w->loop, -1) < 0)
			exit(1);
		free_dead(w, 0);
	}
	offload_stop(&w->offload);
	free_dead(w, 1);
	if (w->listen_io.fd >= 0)
		loop_close(&w->loop, &w->listen_io);
	loop_unwatch(&w->loop, &w->wake_io);
	close(w->wake_io.fd);
	db_pool_free(&w->db);
	loop_free(&w->loop);
	free(w->canned);
	w->canned = NULL;
	return NULL;
}
