/*
 * epoll_floor — the least an epoll HTTP/1.1 keep-alive server can do for a
 * request: the yardstick row 3 of `make bench` measures bin/evented and nginx
 * against, in the same run.
 *
 * One thread, one epoll set, every connection edge-triggered with TCP_NODELAY
 * (as bin/evented's). For each readable connection: recv until a short read,
 * count the request heads that ended ("\r\n\r\n"; a head split across reads is
 * carried over), and send that many copies of one fixed answer in one send. No
 * parsing, routing, timers, limits or metrics: what is left is the kernel's work
 * for one recv and one send a request, and the wait for readiness. A server
 * doing its real work beside it shows what that work costs; nginx beside it shows
 * how far any server with the same two system calls can be ahead of nginx.
 *
 * Not a server to use: every request gets the same 200 with BODY (requests with a
 * body are not framed), an answer the socket cannot take at once closes the
 * connection (bench answers are a few hundred bytes), and it runs until killed.
 *
 * Prints "epoll_floor: listening on http://HOST:PORT" once ready (PORT 0 picks
 * a free one). Exit 2 for bad usage, 1 when a setup call fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *prog = "epoll_floor";

#define MAX_EVENTS 512
#define MAX_FDS 65536 /* per-descriptor state is indexed by fd */
#define ANSWERS_MAX 64 /* answers sent by one send: as many heads as one read can hold */

/* Per connection: how much of "\r\n\r\n" the last read ended with. */
static unsigned char tail[MAX_FDS];

static char answer[1024];
static size_t answer_len;
static size_t date_at;    /* where the Date value starts inside answer */
static time_t date_shown; /* the second it shows */
static char batch[ANSWERS_MAX * sizeof answer];

/* The Date value is rewritten in place once a second (29 bytes, fixed width). */
static void date_refresh(void)
{
	time_t now = time(NULL);
	struct tm tm;
	char s[32];
	if (now == date_shown)
		return;
	date_shown = now;
	gmtime_r(&now, &tm);
	strftime(s, sizeof s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	memcpy(answer + date_at, s, 29);
}

static int answer_build(const char *body)
{
	int n = snprintf(answer, sizeof answer,
			 "HTTP/1.1 200 OK\r\nServer: epoll_floor\r\nDate: %29s\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 "", strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof answer)
		return -1;
	answer_len = (size_t)n;
	date_at = (size_t)(strstr(answer, "Date: ") - answer) + 6;
	date_refresh();
	return 0;
}

/* Request heads ended in buf[0..n), continuing the match state *t. */
static int heads_in(const char *buf, size_t n, unsigned char *t)
{
	static const char end[4] = { '\r', '\n', '\r', '\n' };
	int heads = 0;
	unsigned m = *t;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == end[m])
			m++;
		else
			m = buf[i] == '\r' ? 1 : 0;
		if (m == 4) {
			heads++;
			m = 0;
		}
	}
	*t = (unsigned char)m;
	return heads;
}

/* Closing fd also takes it out of the epoll set (it is never duplicated). */
static void on_readable(int fd)
{
	static char buf[65536];
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) { /* the peer closed, or reset */
			close(fd);
			return;
		}
		int heads = heads_in(buf, (size_t)r, &tail[fd]);
		while (heads > 0) {
			int k = heads < ANSWERS_MAX ? heads : ANSWERS_MAX;
			const char *out = answer;
			size_t len = answer_len * (size_t)k;
			if (k > 1) { /* pipelined: the answers in one buffer, one send */
				for (int i = 0; i < k; i++)
					memcpy(batch + answer_len * (size_t)i, answer, answer_len);
				out = batch;
			}
			if (send(fd, out, len, MSG_NOSIGNAL) != (ssize_t)len) {
				close(fd);
				return;
			}
			heads -= k;
		}
		if ((size_t)r < sizeof buf) /* a short read drained it (edge-triggered) */
			return;
	}
}

static void on_accept(int ep, int ls)
{
	int one = 1, fd;
	while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = fd };
		if (fd >= MAX_FDS) {
			close(fd);
			continue;
		}
		tail[fd] = 0;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			close(fd);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s --listen HOST:PORT --body TEXT\n"
		"  --listen HOST:PORT  where to listen (PORT 0: a free one, printed once ready)\n"
		"  --body TEXT         the JSON every request is answered with\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, 0, 'l' }, { "body", required_argument, 0, 'b' },
		{ "help", no_argument, 0, 'h' }, { 0 }
	};
	struct sockaddr_in addr;
	socklen_t alen = sizeof addr;
	const char *listen_at = NULL, *body = NULL;
	int c, one = 1, ls = -1, ep = -1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_at = optarg; break;
		case 'b': body = optarg; break;
		case 'h': usage(stdout); return 0;
		default: cli_die_usage(prog, "unknown option");
		}
	}
	if (optind < argc)
		cli_die_usage(prog, "unexpected argument %s", argv[optind]);
	if (listen_at == NULL || cli_parse_hostport(listen_at, &addr) < 0)
		cli_die_usage(prog, "--listen HOST:PORT is required, not '%s'", listen_at ? listen_at : "");
	if (body == NULL || answer_build(body) < 0)
		cli_die_usage(prog, "--body TEXT is required (under %zu bytes)", sizeof answer - 160);

	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 65535) < 0 ||
	    getsockname(ls, (struct sockaddr *)&addr, &alen) < 0) {
		fprintf(stderr, "%s: listen %s: %s\n", prog, listen_at, strerror(errno));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = { .events = EPOLLIN, .data.fd = ls };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", prog, strerror(errno));
		return 1;
	}
	printf("%s: listening on http://%s:%d\n", prog, inet_ntoa(addr.sin_addr), ntohs(addr.sin_port));
	fflush(stdout);

	for (;;) {
		struct epoll_event ev[MAX_EVENTS];
		int n = epoll_wait(ep, ev, MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: epoll_wait: %s\n", prog, strerror(errno));
			return 1;
		}
		date_refresh(); /* once a pass, as nginx updates its cached time */
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == ls)
				on_accept(ep, ls);
			else
				on_readable(ev[i].data.fd);
		}
	}
}
