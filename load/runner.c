#include "runner.h"

#include "cli.h"
#include "response.h"
#include "sched_slice.h"
#include "timer_heap.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define POLL_CAP_MS 100 /* longest sleep, so a stop request is seen promptly */

enum user_state {
	U_UNBORN,   /* not yet spawned */
	U_WAITING,  /* wait time (closed) or idle in the pool (open) */
	U_CONNECTING,
	U_SENDING,
	U_READING,
};

struct worker;

struct user {
	struct worker *w;
	int fd;
	enum user_state state;
	int ep;
	int reused;          /* the connection already carried a response */
	int retried;         /* this request was resent once on a fresh connection */
	int complete;
	size_t sent;         /* request bytes written */
	size_t got;          /* response bytes read */
	uint64_t body;
	int64_t t_start;     /* just before the send (or connect) */
	int64_t t_intended;  /* open model: when the schedule wanted it sent */
	struct timer timer;  /* wait time over (U_WAITING) or request timeout (others) */
	char first[64];      /* the response's first bytes, for BadStatusLine */
	size_t first_len;
	char reason[64];     /* the status line's reason phrase */
	size_t reason_len;
	http_parser parser;
};

struct worker {
	struct runner *r;
	int id;
	pthread_t tid;
	int epfd;
	struct user *users;
	int n_users;         /* users this worker owns: global g = id + k * threads */
	int n_spawned;
	struct timer_heap timers; /* room for every user: adds never allocate */
	struct user **idle;  /* open model: pool of connections free to send */
	int idle_n;
	int64_t interval_ns; /* open model: this worker's share of the schedule */
	int64_t next_due;
	int wakefd;          /* worker mode: runner_set_users rings it */
	unsigned seen_gen;   /* worker mode: the want_gen this thread has applied */
	long have[RUNNER_MAX_ENDPOINTS]; /* worker mode: live users per endpoint */
	uint64_t rng;
	pthread_mutex_t lock;
	struct run_stats *st;
	char rbuf[65536];
};

struct runner {
	struct load_config c;
	int64_t start_ns, end_ns; /* end 0: none */
	atomic_int stop;
	atomic_long want[RUNNER_MAX_ENDPOINTS]; /* worker mode: users per endpoint */
	atomic_uint want_gen;  /* bumped by each runner_set_users */
	int n_workers;
	struct worker *workers;
};

static http_parser_settings parser_settings;

int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --------------------------------------------------------------- config */

int load_config_set_host(struct load_config *c, const char *url)
{
	char hp[120];
	size_t n;
	const char *p;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof hp - 4 || (p[n] == '/' && p[n + 1] != '\0'))
		return -1;
	memcpy(hp, p, n);
	hp[n] = '\0';
	snprintf(c->host, sizeof c->host, "%s", hp);
	snprintf(c->url_base, sizeof c->url_base, "http://%s", hp);
	if (strchr(hp, ':') == NULL)
		strcat(hp, ":80");
	return cli_parse_hostport(hp, &c->addr);
}

int load_config_add_endpoint(struct load_config *c, const char *path)
{
	int i;
	for (i = 0; i < c->n_ep; i++)
		if (strcmp(c->ep[i].name, path) == 0)
			break;
	if (i == c->n_ep) {
		struct endpoint *e = &c->ep[c->n_ep];
		int n;
		if (c->n_ep == RUNNER_MAX_ENDPOINTS || strlen(path) >= sizeof e->name)
			return -1;
		snprintf(e->name, sizeof e->name, "%s", path);
		/* built once; python-requests sends the same headers but for its name */
		n = snprintf(e->request, sizeof e->request,
			     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bin/load\r\n"
			     "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\n"
			     "Connection: keep-alive\r\n\r\n", path, c->host);
		if (n < 0 || (size_t)n >= sizeof e->request)
			return -1;
		e->request_len = (size_t)n;
		c->n_ep++;
	}
	if (c->n_user_ep == RUNNER_MAX_ENDPOINTS)
		return -1;
	c->user_ep[c->n_user_ep++] = i;
	return 0;
}

/* ------------------------------------------------------------ run_stats */

struct run_stats *run_stats_new(int n_ep)
{
	struct run_stats *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->n_ep = n_ep;
	s->ep = calloc((size_t)n_ep, sizeof *s->ep);
	if (s->ep == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void run_stats_clear(struct run_stats *s)
{
	struct ep_stats *ep = s->ep;
	int n = s->n_ep;
	memset(s, 0, sizeof *s);
	memset(ep, 0, (size_t)n * sizeof *ep);
	s->ep = ep;
	s->n_ep = n;
}

static void error_add(struct run_stats *s, int ep, const char *text, uint64_t n)
{
	for (int i = 0; i < s->n_err; i++)
		if (s->err[i].ep == ep && strcmp(s->err[i].text, text) == 0) {
			s->err[i].n += n;
			return;
		}
	if (s->n_err == RUNNER_MAX_ERRORS) {
		/* a bounded table: an unbounded variety of errors folds into the last */
		s->err[RUNNER_MAX_ERRORS - 1].n += n;
		return;
	}
	s->err[s->n_err].ep = ep;
	snprintf(s->err[s->n_err].text, sizeof s->err[0].text, "%s", text);
	s->err[s->n_err].n = n;
	s->n_err++;
}

void ep_stats_merge(struct ep_stats *a, const struct ep_stats *b)
{
	if (b->reqs == 0)
		return;
	if (a->reqs == 0 || b->min_ms < a->min_ms)
		a->min_ms = b->min_ms;
	if (b->max_ms > a->max_ms)
		a->max_ms = b->max_ms;
	if (b->last_ns > a->last_ns)
		a->last_ns = b->last_ns;
	a->reqs += b->reqs;
	a->fails += b->fails;
	a->sum_ms += b->sum_ms;
	a->content_bytes += b->content_bytes;
	locust_buckets_merge(&a->lb, &b->lb);
	histogram_merge(&a->lat, &b->lat);
	histogram_merge(&a->svc, &b->svc);
}

void run_stats_merge(struct run_stats *d, const struct run_stats *s)
{
	d->sent += s->sent;
	d->unfinished += s->unfinished;
	d->late += s->late;
	d->users += s->users;
	if (s->last_ns > d->last_ns)
		d->last_ns = s->last_ns;
	for (int i = 0; i < d->n_ep && i < s->n_ep; i++)
		ep_stats_merge(&d->ep[i], &s->ep[i]);
	for (int i = 0; i < s->n_err; i++)
		error_add(d, s->err[i].ep, s->err[i].text, s->err[i].n);
}

void run_stats_free(struct run_stats *s)
{
	if (s == NULL)
		return;
	free(s->ep);
	free(s);
}

/* ------------------------------------------------------------ recording */

static void record(struct worker *w, struct user *u, int64_t end, const char *err)
{
	struct ep_stats *e = &w->st->ep[u->ep];
	int open = w->r->c.rate > 0;
	int64_t lat = end - (open ? u->t_intended : u->t_start), svc = end - u->t_start;
	double ms = (double)lat / 1e6;

	if (e->reqs == 0 || ms < e->min_ms)
		e->min_ms = ms;
	if (ms > e->max_ms)
		e->max_ms = ms;
	e->reqs++;
	e->sum_ms += ms;
	e->content_bytes += (double)u->body;
	locust_buckets_add(&e->lb, ms, 1);
	histogram_record(&e->lat, (uint64_t)(lat / 1000));
	histogram_record(&e->svc, (uint64_t)(svc / 1000));
	if (err != NULL) {
		e->fails++;
		error_add(w->st, u->ep, err, 1);
	}
	e->last_ns = end;
	w->st->last_ns = end;
}

/* Python's repr of the OSError subclass an errno becomes, as Locust shows it. */
static void errno_text(char *buf, size_t cap, int e)
{
	const char *cls;
	char msg[160];
	switch (e) {
	case ECONNREFUSED: cls = "ConnectionRefusedError"; break;
	case ECONNRESET: cls = "ConnectionResetError"; break;
	case ECONNABORTED: cls = "ConnectionAbortedError"; break;
	case EPIPE: cls = "BrokenPipeError"; break;
	case ETIMEDOUT: cls = "TimeoutError"; break;
	default: cls = "OSError"; break;
	}
	locust_repr_str(msg, sizeof msg, strerror(e));
	snprintf(buf, cap, "%s(%d, %s)", cls, e, msg);
}

/* ---------------------------------------------------------------- users */

static void start_request(struct worker *w, struct user *u, int64_t intended);
static void conn_open(struct worker *w, struct user *u);

static void conn_close(struct user *u)
{
	if (u->fd >= 0)
		close(u->fd); /* also leaves the epoll set */
	u->fd = -1;
	u->reused = 0;
}

static int64_t wait_ns(struct worker *w)
{
	const struct load_config *c = &w->r->c;
	double s = c->wait_min_s;
	if (c->wait_max_s > c->wait_min_s) {
		w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
		s += (c->wait_max_s - c->wait_min_s) * (double)(w->rng >> 11) / 9007199254740992.0;
	}
	return (int64_t)(s * 1e9);
}

/* The request is over (answered or failed): log it, then the user moves on. */
static void finish(struct worker *w, struct user *u, const char *err, int keep_alive)
{
	int64_t now = mono_ns();
	record(w, u, now, err);
	timer_heap_cancel(&w->timers, &u->timer);
	if (err != NULL || !keep_alive)
		conn_close(u);
	else
		u->reused = 1;
	u->state = U_WAITING;
	if (w->r->c.rate > 0) {
		w->idle[w->idle_n++] = u;
		return;
	}
	int64_t wait = wait_ns(w);
	if (wait > 0 || err != NULL)
		/* a failure may come back at once: through the heap, no recursion */
		timer_heap_add(&w->timers, &u->timer, now + wait);
	else
		start_request(w, u, now);
}

static void fail_errno(struct worker *w, struct user *u, int e)
{
	char text[256];
	errno_text(text, sizeof text, e);
	finish(w, u, text, 0);
}

static void fail_timeout(struct worker *w, struct user *u)
{
	char inner[384], text[512];
	const struct load_config *c = &w->r->c;
	char secs[40];
	locust_repr_float(secs, sizeof secs, c->timeout_s);
	if (u->state == U_CONNECTING) {
		snprintf(inner, sizeof inner,
			 "<urllib3.connection.HTTPConnection object at 0x....>, "
			 "'Connection to %s timed out. (connect timeout=%s)'", c->host, secs);
		snprintf(text, sizeof text, "ConnectTimeoutError(%s)", inner);
	} else {
		char host[128], *colon, msg[300];
		snprintf(host, sizeof host, "%s", c->host);
		colon = strrchr(host, ':');
		if (colon)
			*colon++ = '\0';
		snprintf(msg, sizeof msg, "HTTPConnectionPool(host='%s', port=%s): Read timed out. "
			 "(read timeout=%s)", host, colon ? colon : "80", secs);
		locust_repr_str(inner, sizeof inner, msg);
		snprintf(text, sizeof text, "ReadTimeout(ReadTimeoutError(%s))", inner);
	}
	finish(w, u, text, 0);
}

static void fail_http(struct worker *w, struct user *u, unsigned status, int keep_alive)
{
	char msg[700], quoted[760], text[800];
	snprintf(msg, sizeof msg, "%u %s Error: %.*s for url: %s%s", status,
		 status < 500 ? "Client" : "Server", (int)u->reason_len, u->reason,
		 w->r->c.url_base, w->r->c.ep[u->ep].name);
	locust_repr_str(quoted, sizeof quoted, msg);
	snprintf(text, sizeof text, "HTTPError(%s)", quoted);
	finish(w, u, text, keep_alive);
}

static void fail_parse(struct worker *w, struct user *u)
{
	char line[64], quoted[160], text[256];
	enum http_errno e = HTTP_PARSER_ERRNO(&u->parser);
	size_t n = 0;
	if (e == HPE_INVALID_CONSTANT || e == HPE_INVALID_VERSION || e == HPE_INVALID_STATUS) {
		while (n < u->first_len && u->first[n] != '\n' && n + 1 < sizeof line) {
			line[n] = u->first[n];
			n++;
		}
		if (n < u->first_len && u->first[n] == '\n' && n + 1 < sizeof line)
			line[n++] = '\n';
		line[n] = '\0';
		locust_repr_str(quoted, sizeof quoted, line);
		snprintf(text, sizeof text, "BadStatusLine(%s)", quoted);
	} else {
		snprintf(line, sizeof line, "%s", http_errno_description(e));
		locust_repr_str(quoted, sizeof quoted, line);
		snprintf(text, sizeof text, "InvalidHeader(%s)", quoted);
	}
	finish(w, u, text, 0);
}

static void response_done(struct worker *w, struct user *u, unsigned status, int keep)
{
	if (status >= 400 && status <= 599)
		fail_http(w, u, status, keep);
	else
		finish(w, u, NULL, keep);
}

static void do_write(struct worker *w, struct user *u)
{
	const struct endpoint *ep = &w->r->c.ep[u->ep];
	while (u->sent < ep->request_len) {
		ssize_t n = send(u->fd, ep->request + u->sent, ep->request_len - u->sent, MSG_NOSIGNAL);
		if (n >= 0) {
			u->sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return; /* EPOLLOUT resumes it */
		if ((errno == EPIPE || errno == ECONNRESET) && u->reused && !u->retried) {
			/* the server closed a kept-alive connection under us: resend once */
			u->retried = 1;
			conn_close(u);
			conn_open(w, u);
			return;
		}
		fail_errno(w, u, errno);
		return;
	}
	u->state = U_READING;
}

static void do_read(struct worker *w, struct user *u)
{
	struct response resp;

	for (;;) {
		ssize_t n = read(u->fd, w->rbuf, sizeof w->rbuf);
		if (n > 0) {
			if (u->first_len < sizeof u->first) {
				size_t k = sizeof u->first - u->first_len;
				if (k > (size_t)n)
					k = (size_t)n;
				memcpy(u->first + u->first_len, w->rbuf, k);
				u->first_len += k;
			}
			/* The usual case, a whole ordinary response in one read, skips the
			 * parser (load/response.h); anything else goes to it unchanged. */
			if (u->got == 0 && response_whole(w->rbuf, (size_t)n, &resp)) {
				u->got = (size_t)n;
				u->body = resp.body_len;
				u->reason_len = resp.reason_len < sizeof u->reason ? resp.reason_len
										    : sizeof u->reason;
				memcpy(u->reason, resp.reason, u->reason_len);
				response_done(w, u, resp.status, resp.keep_alive);
				return;
			}
			u->got += (size_t)n;
			http_parser_execute(&u->parser, &parser_settings, w->rbuf, (size_t)n);
			if (u->complete) {
				response_done(w, u, u->parser.status_code,
					      http_should_keep_alive(&u->parser));
				return;
			}
			if (HTTP_PARSER_ERRNO(&u->parser) != HPE_OK) {
				fail_parse(w, u);
				return;
			}
			continue;
		}
		if (n == 0) {
			char text[160];
			if (u->got == 0 && u->reused && !u->retried) {
				u->retried = 1;
				conn_close(u);
				conn_open(w, u);
				return;
			}
			/* EOF ends a body that runs until close */
			http_parser_execute(&u->parser, &parser_settings, NULL, 0);
			if (u->complete) {
				response_done(w, u, u->parser.status_code,
					      http_should_keep_alive(&u->parser));
				return;
			}
			if (u->got == 0)
				snprintf(text, sizeof text,
					 "RemoteDisconnected('Remote end closed connection without response')");
			else
				snprintf(text, sizeof text, "IncompleteRead(%llu bytes read)",
					 (unsigned long long)u->body);
			finish(w, u, text, 0);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return;
		if (errno == ECONNRESET && u->got == 0 && u->reused && !u->retried) {
			u->retried = 1;
			conn_close(u);
			conn_open(w, u);
			return;
		}
		fail_errno(w, u, errno);
		return;
	}
}

static void conn_open(struct worker *w, struct user *u)
{
	int one = 1, fd;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = u };

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail_errno(w, u, errno);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	u->fd = fd;
	u->reused = 0;
	if (connect(fd, (const struct sockaddr *)&w->r->c.addr, sizeof w->r->c.addr) == 0) {
		u->state = U_SENDING;
	} else if (errno == EINPROGRESS) {
		u->state = U_CONNECTING;
	} else {
		fail_errno(w, u, errno);
		return;
	}
	/* registered after connect: an unconnected socket would report HUP */
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		fail_errno(w, u, errno);
		return;
	}
	if (u->state == U_SENDING)
		do_write(w, u);
}

static void start_request(struct worker *w, struct user *u, int64_t intended)
{
	const struct load_config *c = &w->r->c;
	u->t_start = mono_ns();
	u->t_intended = intended;
	u->sent = 0;
	u->got = 0;
	u->body = 0;
	u->complete = 0;
	u->retried = 0;
	u->first_len = 0;
	u->reason_len = 0;
	http_parser_init(&u->parser, HTTP_RESPONSE);
	u->parser.data = u;
	w->st->sent++;
	if (c->timeout_s > 0)
		timer_heap_add(&w->timers, &u->timer, u->t_start + (int64_t)(c->timeout_s * 1e9));
	if (u->fd < 0) {
		conn_open(w, u);
	} else {
		u->state = U_SENDING;
		do_write(w, u);
	}
}

static void on_event(struct worker *w, struct user *u, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof err;

	switch (u->state) {
	case U_CONNECTING:
		getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			fail_errno(w, u, err);
			return;
		}
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		u->state = U_SENDING;
		do_write(w, u);
		return;
	case U_SENDING:
		if (ev & EPOLLERR) {
			getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			fail_errno(w, u, err ? err : ECONNRESET);
			return;
		}
		do_write(w, u);
		return;
	case U_READING:
		do_read(w, u);
		return;
	case U_WAITING:
	case U_UNBORN:
		/* an idle kept-alive connection the server closed: reconnect on next use */
		if (u->fd >= 0 && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			conn_close(u);
		return;
	}
}

/* A user's timer: its wait time is over, or its request ran past --timeout. */
static void on_user_timer(struct timer *t)
{
	struct user *u = (struct user *)((char *)t - offsetof(struct user, timer));
	if (u->state == U_WAITING)
		start_request(u->w, u, t->deadline);
	else
		fail_timeout(u->w, u);
}

/* ----------------------------------------------------------------- loop */

static int on_status(http_parser *p, const char *at, size_t len)
{
	struct user *u = p->data;
	size_t room = sizeof u->reason - u->reason_len;
	if (len > room)
		len = room;
	memcpy(u->reason + u->reason_len, at, len);
	u->reason_len += len;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	(void)at;
	((struct user *)p->data)->body += len;
	return 0;
}

static int on_complete(http_parser *p)
{
	((struct user *)p->data)->complete = 1;
	return 0;
}

/* When user g of the run spawns: batches of max(1, floor(rate)) every batch/rate s. */
static int64_t spawn_at(const struct runner *r, long g)
{
	long batch = (long)r->c.spawn_rate < 1 ? 1 : (long)r->c.spawn_rate;
	return r->start_ns + (int64_t)((double)(g / batch) * (double)batch / r->c.spawn_rate * 1e9);
}

static int64_t min_due(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a - b < 0 ? a : b;
}

/* Worker mode: a user leaves at once; a request in flight is never answered here. */
static void retire(struct worker *w, struct user *u)
{
	if (u->state == U_CONNECTING || u->state == U_SENDING || u->state == U_READING)
		w->st->unfinished++;
	timer_heap_cancel(&w->timers, &u->timer);
	conn_close(u);
	u->state = U_UNBORN;
	w->have[u->ep]--;
}

/* Worker mode: start or stop users until each endpoint has this thread's share
 * (thread i owns the users k of an endpoint with k % threads == i). O(users), run
 * only when runner_set_users changed something. */
static void adjust_users(struct worker *w, int64_t now)
{
	struct runner *r = w->r;
	unsigned gen = atomic_load(&r->want_gen);
	long want[RUNNER_MAX_ENDPOINTS];
	int T = r->n_workers;

	if (gen == w->seen_gen)
		return;
	w->seen_gen = gen;
	for (int e = 0; e < r->c.n_ep; e++) {
		long all = atomic_load(&r->want[e]);
		want[e] = all > w->id ? (all - w->id + T - 1) / T : 0;
		for (int i = 0; i < w->n_users && w->have[e] > want[e]; i++)
			if (w->users[i].state != U_UNBORN && w->users[i].ep == e)
				retire(w, &w->users[i]);
	}
	/* after every stop, so that the slots freed can be reused */
	for (int e = 0, i = 0; e < r->c.n_ep; e++)
		for (; i < w->n_users && w->have[e] < want[e]; i++) {
			struct user *u = &w->users[i];
			if (u->state != U_UNBORN)
				continue;
			u->ep = e;
			u->state = U_WAITING;
			w->have[e]++;
			w->st->users++;
			start_request(w, u, now);
		}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct runner *r = w->r;
	int T = r->n_workers;
	struct epoll_event events[MAX_EVENTS];

	/* A response read late is latency the server did not add: short slices,
	 * so a neighbour's process on this CPU delays it 0.1 ms, not 3. */
	sched_slice_set(SCHED_SLICE_NS);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		int64_t now = mono_ns(), due = r->end_ns, left;
		int timeout, n;

		if (atomic_load_explicit(&r->stop, memory_order_relaxed) ||
		    (r->end_ns != 0 && now - r->end_ns >= 0))
			break;
		if (r->c.dynamic)
			adjust_users(w, now);
		/* spawn the users whose time has come */
		while (w->n_spawned < w->n_users &&
		       spawn_at(r, w->id + (long)w->n_spawned * T) - now <= 0) {
			struct user *u = &w->users[w->n_spawned++];
			w->st->users++;
			u->state = U_WAITING;
			if (r->c.rate > 0)
				w->idle[w->idle_n++] = u;
			else
				start_request(w, u, now);
		}
		/* due timers: wait times over, or requests past their timeout; one
		 * a callback adds (a failed user back at once) waits for the next pass */
		timer_heap_run(&w->timers, now);
		/* open model: hand every due request to a free connection */
		if (r->c.rate > 0) {
			while (w->idle_n > 0 && w->next_due - now <= 0) {
				start_request(w, w->idle[--w->idle_n], w->next_due);
				w->next_due += w->interval_ns;
			}
			if (w->idle_n > 0)
				due = min_due(due, w->next_due);
		}
		if (w->n_spawned < w->n_users)
			due = min_due(due, spawn_at(r, w->id + (long)w->n_spawned * T));
		now = mono_ns();
		left = timer_heap_next(&w->timers, now); /* -1: none pending */
		if (due != 0 && (left < 0 || due - now < left))
			left = due - now > 0 ? due - now : 0;
		timeout = POLL_CAP_MS;
		if (left >= 0 && left < (int64_t)POLL_CAP_MS * 1000000)
			timeout = (int)((left + 999999) / 1000000); /* never wake early */
		pthread_mutex_unlock(&w->lock);
		n = epoll_wait(w->epfd, events, MAX_EVENTS, timeout);
		pthread_mutex_lock(&w->lock);
		for (int i = 0; i < n; i++) {
			uint64_t rings;
			if (events[i].data.ptr == NULL) { /* the wake eventfd */
				if (read(w->wakefd, &rings, sizeof rings) < 0 && errno != EAGAIN)
					fprintf(stderr, "bin/load: read eventfd: %s\n", strerror(errno));
				continue;
			}
			on_event(w, events[i].data.ptr, events[i].events);
		}
	}
	/* stop: what is in flight was sent but will never be answered here; in the
	 * open model, what the schedule wanted sent but no connection was free for */
	if (r->c.rate > 0) {
		int64_t now = mono_ns();
		if (r->end_ns != 0 && now - r->end_ns > 0)
			now = r->end_ns;
		if (now - w->next_due >= 0)
			w->st->late += (uint64_t)((now - w->next_due) / w->interval_ns) + 1;
	}
	for (int i = 0; i < w->n_spawned; i++) {
		struct user *u = &w->users[i];
		if (u->state == U_CONNECTING || u->state == U_SENDING || u->state == U_READING)
			w->st->unfinished++;
		conn_close(u);
		u->state = U_UNBORN;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* --------------------------------------------------------------- public */

static void worker_free(struct worker *w)
{
	timer_heap_free(&w->timers); /* first: it marks the users' timers idle */
	free(w->users);
	free(w->idle);
	run_stats_free(w->st);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
}

int runner_start(struct runner **out, const struct load_config *c)
{
	struct runner *r = calloc(1, sizeof *r);
	int started = 0;

	if (r == NULL) {
		fprintf(stderr, "bin/load: calloc: %s\n", strerror(errno));
		return -1;
	}
	parser_settings.on_status = on_status;
	parser_settings.on_body = on_body;
	parser_settings.on_message_complete = on_complete;
	r->c = *c;
	r->n_workers = c->threads;
	if (r->n_workers > c->users && c->users > 0)
		r->n_workers = (int)c->users;
	r->workers = calloc((size_t)r->n_workers, sizeof *r->workers);
	if (r->workers == NULL) {
		fprintf(stderr, "bin/load: calloc: %s\n", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];
		w->r = r;
		w->id = i;
		w->epfd = -1;
		w->wakefd = -1;
		w->n_users = (int)((c->users - i + r->n_workers - 1) / r->n_workers);
		if (c->dynamic) /* each endpoint's share rounds up: room for that */
			w->n_users += c->n_ep;
		w->users = calloc((size_t)w->n_users + 1, sizeof *w->users);
		w->idle = calloc((size_t)w->n_users + 1, sizeof *w->idle);
		w->st = run_stats_new(c->n_ep);
		timer_heap_init(&w->timers);
		/* one timer per user: with the room reserved, no add can fail */
		if (!w->users || !w->idle || !w->st ||
		    timer_heap_reserve(&w->timers, (uint32_t)w->n_users + 1) < 0) {
			fprintf(stderr, "bin/load: calloc: %s\n", strerror(errno));
			goto fail;
		}
		for (int k = 0; k < w->n_users; k++) {
			struct user *u = &w->users[k];
			u->w = w;
			u->fd = -1;
			timer_init(&u->timer, on_user_timer);
			u->ep = c->n_user_ep ? c->user_ep[(i + (long)k * r->n_workers) % c->n_user_ep] : 0;
		}
		w->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (w->epfd < 0) {
			fprintf(stderr, "bin/load: epoll_create1: %s\n", strerror(errno));
			goto fail;
		}
		if (c->dynamic) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
			w->n_spawned = w->n_users; /* no schedule: runner_set_users decides */
			w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (w->wakefd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0) {
				fprintf(stderr, "bin/load: eventfd: %s\n", strerror(errno));
				goto fail;
			}
		}
		pthread_mutex_init(&w->lock, NULL);
	}
	r->start_ns = mono_ns();
	r->end_ns = c->run_time_s > 0 ? r->start_ns + (int64_t)(c->run_time_s * 1e9) : 0;
	for (int i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];
		if (c->rate > 0) {
			/* worker i takes every n-th slot of the schedule, offset by i */
			w->interval_ns = (int64_t)((double)r->n_workers * 1e9 / c->rate);
			w->next_due = r->start_ns + (int64_t)((double)i * 1e9 / c->rate);
		}
		int e = pthread_create(&w->tid, NULL, worker_main, w);
		if (e != 0) {
			fprintf(stderr, "bin/load: pthread_create: %s\n", strerror(e));
			goto fail;
		}
		started++;
	}
	*out = r;
	return 0;
fail:
	if (r->workers != NULL) {
		atomic_store(&r->stop, 1);
		for (int i = 0; i < started; i++)
			pthread_join(r->workers[i].tid, NULL);
		for (int i = 0; i < r->n_workers; i++)
			worker_free(&r->workers[i]);
		free(r->workers);
	}
	free(r);
	return -1;
}

void runner_stop(struct runner *r)
{
	atomic_store(&r->stop, 1);
}

int64_t runner_start_ns(const struct runner *r)
{
	return r->start_ns;
}

void runner_snapshot(struct runner *r, struct run_stats *s)
{
	run_stats_clear(s);
	for (int i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];
		pthread_mutex_lock(&w->lock);
		run_stats_merge(s, w->st);
		pthread_mutex_unlock(&w->lock);
	}
}

void runner_drain(struct runner *r, struct run_stats *s)
{
	for (int i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];
		pthread_mutex_lock(&w->lock);
		run_stats_merge(s, w->st);
		run_stats_clear(w->st);
		pthread_mutex_unlock(&w->lock);
	}
}

long runner_set_users(struct runner *r, const long *want)
{
	long room = r->c.users, total = 0;
	for (int e = 0; e < r->c.n_ep; e++) {
		long n = want[e] < room ? want[e] : room;
		if (n < 0)
			n = 0;
		atomic_store(&r->want[e], n);
		room -= n;
		total += n;
	}
	atomic_fetch_add(&r->want_gen, 1);
	for (int i = 0; i < r->n_workers; i++) {
		uint64_t one = 1;
		if (r->workers[i].wakefd >= 0 && write(r->workers[i].wakefd, &one, sizeof one) < 0)
			fprintf(stderr, "bin/load: write eventfd: %s\n", strerror(errno));
	}
	return total;
}

void runner_join(struct runner *r)
{
	for (int i = 0; i < r->n_workers; i++)
		pthread_join(r->workers[i].tid, NULL);
}

void runner_free(struct runner *r)
{
	for (int i = 0; i < r->n_workers; i++)
		worker_free(&r->workers[i]);
	free(r->workers);
	free(r);
}
