/*
 * load_floor — the least an epoll load client can do for a request: the
 * yardstick row 1 of `make bench` measures bin/load and wrk against, in the
 * same run.
 *
 * One thread, CONNS keep-alive connections, each edge-triggered with
 * TCP_NODELAY (as bin/load's), one request outstanding on each. For each
 * readable connection: recv until a short read; when the bytes of a whole answer
 * are in, count it and send the next request with one send. An answer's length
 * is learnt from each connection's first (its head's Content-Length), and every
 * later answer must start as the first did ("HTTP/1.1 200"): the servers it is
 * pointed at answer one route with one fixed-length body. No parsing after the
 * first answer, no timing of requests, no statistics: what is left is the
 * kernel's work for one send and one recv a request, and the wait for readiness.
 *
 * Prints one line when the time is up:
 *   requests=N seconds=S rps=R
 * Exit 0; 1 when an answer is not what the first was, a connection closes, or a
 * setup call fails (the line names it); 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *prog = "load_floor";

#define MAX_EVENTS 512
#define MAX_CONNS 10000
#define ANSWER_MAX 4096 /* the head and body of the first answer must fit */
#define OK_START "HTTP/1.1 200" /* how every answer must start */
#define OK_START_LEN (sizeof OK_START - 1)

struct conn {
	int fd;
	size_t got;  /* bytes of the current answer received */
	size_t size; /* an answer's length; 0 until the first answer's head is in */
	char first[ANSWER_MAX]; /* the first answer, until its length is known */
};

static struct conn *conns;
static char request[512];
static size_t request_len;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The length of the answer whose start is in buf[0..n), or 0 while its head is
 * incomplete; -1 when it is not a 200 with a Content-Length. */
static long answer_size(const char *buf, size_t n)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4), *cl;
	if (end == NULL)
		return n < ANSWER_MAX ? 0 : -1;
	if (n < OK_START_LEN || memcmp(buf, OK_START, OK_START_LEN) != 0)
		return -1;
	cl = memmem(buf, (size_t)(end - buf), "\r\nContent-Length: ", 18);
	if (cl == NULL)
		return -1;
	return (end + 4 - buf) + strtol(cl + 18, NULL, 10);
}

static int send_request(struct conn *c)
{
	return send(c->fd, request, request_len, MSG_NOSIGNAL) == (ssize_t)request_len ? 0 : -1;
}

/* Reads what c has; returns the answers completed (each followed by the next
 * request), or -1 with the reason printed. */
static long on_readable(struct conn *c)
{
	static char buf[65536];
	long done = 0;
	for (;;) {
		char *into = c->size ? buf : c->first + c->got;
		size_t room = c->size ? sizeof buf : ANSWER_MAX - c->got;
		ssize_t r = recv(c->fd, into, room, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return done;
		if (r <= 0) {
			fprintf(stderr, "%s: recv: %s\n", prog, r == 0 ? "the server closed a connection" : strerror(errno));
			return -1;
		}
		if (c->size == 0) {
			long size = answer_size(c->first, c->got + (size_t)r);
			if (size < 0) {
				fprintf(stderr, "%s: the first answer is not a 200 with a Content-Length\n", prog);
				return -1;
			}
			c->got += (size_t)r;
			if (size == 0)
				continue;
			c->size = (size_t)size;
		} else {
			if (c->got == 0 && memcmp(buf, OK_START, (size_t)r < OK_START_LEN ? (size_t)r : OK_START_LEN) != 0) {
				fprintf(stderr, "%s: an answer does not start as the first did\n", prog);
				return -1;
			}
			c->got += (size_t)r;
		}
		if (c->got > c->size) {
			fprintf(stderr, "%s: an answer is longer than the first (%zu bytes)\n", prog, c->size);
			return -1;
		}
		if (c->got == c->size) {
			c->got = 0;
			done++;
			if (send_request(c) < 0) {
				fprintf(stderr, "%s: send: %s\n", prog, strerror(errno));
				return -1;
			}
		}
		if ((size_t)r < room) /* a short read drained it (edge-triggered) */
			return done;
	}
}

/* Fills addr and the request from "http://HOST:PORT/PATH" (PATH default "/"). */
static int url_parse(const char *url, struct sockaddr_in *addr)
{
	static char hostport[64];
	const char *p, *slash;
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof hostport)
		return -1;
	memcpy(hostport, p, n);
	hostport[n] = '\0';
	if (cli_parse_hostport(hostport, addr) < 0)
		return -1;
	int len = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
			   slash ? slash : "/", hostport);
	if (len < 0 || (size_t)len >= sizeof request)
		return -1;
	request_len = (size_t)len;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s --url http://HOST:PORT/PATH [--conns N] [--secs S]\n"
		"  --url URL    what every request asks for (keep-alive, one route)\n"
		"  --conns N    connections, one request outstanding on each (default 50)\n"
		"  --secs S     how long to run (default 5)\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, 0, 'u' }, { "conns", required_argument, 0, 'c' },
		{ "secs", required_argument, 0, 's' }, { "help", no_argument, 0, 'h' }, { 0 }
	};
	struct sockaddr_in addr;
	const char *url = NULL;
	long nconns = 50, secs = 5, requests = 0;
	int c, one = 1, ep = -1, rc = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'c': nconns = cli_flag_long(prog, "--conns", optarg, 1, MAX_CONNS); break;
		case 's': secs = cli_flag_long(prog, "--secs", optarg, 1, 3600); break;
		case 'h': usage(stdout); return 0;
		default: cli_die_usage(prog, "unknown option");
		}
	}
	if (optind < argc)
		cli_die_usage(prog, "unexpected argument %s", argv[optind]);
	if (url == NULL || url_parse(url, &addr) < 0)
		cli_die_usage(prog, "--url http://HOST:PORT/PATH is required, not '%s'", url ? url : "");

	conns = calloc((size_t)nconns, sizeof *conns);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || ep < 0) {
		fprintf(stderr, "%s: setup: %s\n", prog, strerror(errno));
		goto out;
	}
	for (long i = 0; i < nconns; i++) {
		struct conn *k = &conns[i];
		k->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (k->fd < 0 || connect(k->fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
			fprintf(stderr, "%s: connect %s: %s\n", prog, url, strerror(errno));
			goto out;
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = k };
		setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (fcntl(k->fd, F_SETFL, O_NONBLOCK) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, k->fd, &ev) < 0) {
			fprintf(stderr, "%s: fcntl/epoll_ctl: %s\n", prog, strerror(errno));
			goto out;
		}
	}

	double start = now_s(), end = start + (double)secs, t = start;
	for (long i = 0; i < nconns; i++)
		if (send_request(&conns[i]) < 0) {
			fprintf(stderr, "%s: send: %s\n", prog, strerror(errno));
			goto out;
		}
	while (t < end) {
		struct epoll_event ev[MAX_EVENTS];
		int n = epoll_wait(ep, ev, MAX_EVENTS, (int)((end - t) * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "%s: epoll_wait: %s\n", prog, strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			long done = on_readable(ev[i].data.ptr);
			if (done < 0)
				goto out;
			requests += done;
		}
		t = now_s();
	}
	printf("requests=%ld seconds=%.3f rps=%.1f\n", requests, t - start, requests / (t - start));
	rc = 0;
out:
	for (long i = 0; conns && i < nconns; i++)
		if (conns[i].fd > 0)
			close(conns[i].fd);
	if (ep >= 0)
		close(ep);
	free(conns);
	return rc;
}
