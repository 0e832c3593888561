#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double harness_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int harness_proc_entries(pid_t pid, const char *what)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

double harness_cpu_ms(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "harness: fopen %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields count from
	 * the last ')'; utime and stime are fields 14 and 15 (proc(5)). */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
		   &stime) != 2) {
		fprintf(stderr, "harness: %s: unexpected format\n", path);
		return -1;
	}
	return (double)(utime + stime) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

double http_get_cpu_ms(const struct proc *p, const char *path, struct http_resp *r,
		       int timeout_ms)
{
	double before = harness_cpu_ms(p->pid), after;
	if (before < 0 || http_get(p->port, path, r, timeout_ms) < 0 ||
	    (after = harness_cpu_ms(p->pid)) < 0)
		return -1;
	return after - before;
}

const char *harness_bin(const char *name)
{
	static char path[4][512];
	static int next;
	const char *dir = getenv("HARNESS_BIN");
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", dir ? dir : "bin", name);
	return p;
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;
	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int spawn(struct proc *p, char *const argv[])
{
	int pipefd[2];

	memset(p, 0, sizeof *p);
	p->out_fd = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "harness: pipe: %s\n", strerror(errno));
		return -1;
	}
	p->pid = fork();
	if (p->pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (p->pid == 0) {
		/* A test that crashes must not leave its server holding the
		 * runner's output pipe open (which would hang make test). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], STDOUT_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	p->out_fd = pipefd[0];
	return 0;
}

int proc_spawn(struct proc *p, char *const argv[])
{
	return spawn(p, argv);
}

int proc_start(struct proc *p, char *const argv[])
{
	char line[512];
	size_t n = 0;
	double deadline = harness_now_ms() + HARNESS_READY_TIMEOUT_MS;

	if (spawn(p, argv) < 0)
		return -1;
	/* Byte at a time so nothing after the ready line is swallowed. */
	while (n + 1 < sizeof line) {
		int left = (int)(deadline - harness_now_ms());
		ssize_t r;
		if (left <= 0 || wait_readable(p->out_fd, left) <= 0) {
			fprintf(stderr, "harness: %s printed no ready line within %d ms\n",
				argv[0], HARNESS_READY_TIMEOUT_MS);
			goto fail;
		}
		r = read(p->out_fd, line + n, 1);
		if (r <= 0) {
			fprintf(stderr, "harness: %s exited before its ready line\n", argv[0]);
			goto fail;
		}
		if (line[n] == '\n') {
			const char *colon;
			line[n] = '\0';
			if (strncmp(line, "listening on http://", 20) != 0 ||
			    (colon = strrchr(line, ':')) == NULL) {
				n = 0; /* not the ready line: keep looking */
				continue;
			}
			p->port = atoi(colon + 1);
			if (p->port <= 0) {
				fprintf(stderr, "harness: bad ready line '%s'\n", line);
				goto fail;
			}
			return 0;
		}
		n++;
	}
	fprintf(stderr, "harness: ready line too long\n");
fail:
	proc_stop(p, SIGKILL, 2000);
	return -1;
}

int proc_wait(struct proc *p, int timeout_ms)
{
	double deadline = harness_now_ms() + timeout_ms;
	int status;

	if (p->pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid)
			break;
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "harness: waitpid: %s\n", strerror(errno));
			return -1;
		}
		if (harness_now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			p->pid = 0;
			if (p->out_fd >= 0)
				close(p->out_fd);
			p->out_fd = -1;
			return -1;
		}
		usleep(5000);
	}
	p->pid = 0;
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int proc_stop(struct proc *p, int sig, int timeout_ms)
{
	if (p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	return proc_wait(p, timeout_ms);
}

int harness_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int http_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "harness: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		fprintf(stderr, "harness: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int http_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			fprintf(stderr, "harness: send: %s\n", strerror(errno));
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads up to len bytes before deadline; returns bytes read, 0 on EOF, -1. */
static ssize_t read_some(int fd, char *buf, size_t len, double deadline)
{
	int left = (int)(deadline - harness_now_ms());
	ssize_t r;
	if (left <= 0 || wait_readable(fd, left) <= 0)
		return -1;
	do
		r = recv(fd, buf, len, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ECONNRESET)
		return 0;
	return r;
}

int http_header(const struct http_resp *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = strchr(r->head, '\n');

	while (p != NULL && *++p != '\0') {
		const char *eol = strchr(p, '\n');
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t n;
			while (*v == ' ' || *v == '\t')
				v++;
			n = (size_t)((eol ? eol : v + strlen(v)) - v);
			while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		p = eol;
	}
	return -1;
}

int http_read(int fd, struct http_resp *r, int is_head, int timeout_ms)
{
	double start = harness_now_ms(), deadline = start + timeout_ms;
	size_t n = 0;
	char value[64];
	long clen = -1;

	r->status = 0;
	r->head[0] = r->body[0] = '\0';
	r->body_len = 0;
	r->closed = 0;
	/* Headers one byte at a time, so no byte of a following response is taken. */
	while (n < 4 || memcmp(r->head + n - 4, "\r\n\r\n", 4) != 0) {
		ssize_t got;
		if (n + 1 >= sizeof r->head) {
			fprintf(stderr, "harness: response head over %zu bytes\n", sizeof r->head);
			return -1;
		}
		got = read_some(fd, r->head + n, 1, deadline);
		if (got <= 0) {
			r->head[n] = '\0';
			r->closed = got == 0;
			if (n > 0 || got < 0)
				fprintf(stderr, "harness: %s after %zu header bytes\n",
					got == 0 ? "connection closed" : "timeout", n);
			return -1;
		}
		n++;
	}
	r->head[n] = '\0';
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1) {
		fprintf(stderr, "harness: bad status line: %.80s\n", r->head);
		return -1;
	}
	if (http_header(r, "Content-Length", value, sizeof value) == 0)
		clen = atol(value);
	if (is_head || r->status == 204 || r->status == 304 || r->status / 100 == 1)
		clen = 0;
	while (clen < 0 || r->body_len < (size_t)clen) {
		char tmp[4096];
		size_t want = sizeof tmp;
		ssize_t got;
		if (clen >= 0 && (size_t)clen - r->body_len < want)
			want = (size_t)clen - r->body_len;
		got = read_some(fd, tmp, want, deadline);
		if (got < 0) {
			fprintf(stderr, "harness: timeout reading body\n");
			return -1;
		}
		if (got == 0) {
			r->closed = 1;
			if (clen >= 0) {
				fprintf(stderr, "harness: closed after %zu of %ld body bytes\n",
					r->body_len, clen);
				return -1;
			}
			break;
		}
		if (r->body_len + (size_t)got < sizeof r->body) {
			memcpy(r->body + r->body_len, tmp, (size_t)got);
			r->body[r->body_len + (size_t)got] = '\0';
		}
		r->body_len += (size_t)got;
	}
	return 0;
}

int http_raw(int port, const void *req, size_t len, struct http_resp *r, int timeout_ms)
{
	double start = harness_now_ms();
	int fd = http_connect(port), rc = -1;
	char probe;

	if (fd < 0)
		return -1;
	if (http_send(fd, req, len) == 0 &&
	    http_read(fd, r, len >= 4 && memcmp(req, "HEAD", 4) == 0, timeout_ms) == 0)
		rc = 0;
	r->ms = harness_now_ms() - start;
	/* Did the server close after answering? A short wait tells. */
	if (rc == 0 && !r->closed && wait_readable(fd, 200) > 0 &&
	    recv(fd, &probe, 1, MSG_PEEK) <= 0)
		r->closed = 1;
	close(fd);
	return rc;
}

int http_get(int port, const char *path, struct http_resp *r, int timeout_ms)
{
	char req[2048];
	int n = snprintf(req, sizeof req,
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
			 path, port);
	return http_raw(port, req, (size_t)n, r, timeout_ms);
}

double metrics_value(int port, const char *series)
{
	static struct http_resp r;
	size_t sl = strlen(series);
	const char *p;

	if (http_get(port, "/metrics", &r, 5000) < 0 || r.status != 200)
		return -1;
	for (p = r.body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, series, sl) == 0 && (p[sl] == ' ' || p[sl] == '{')) {
			const char *v = p[sl] == '{' ? strchr(p, '}') : p + sl;
			if (v == NULL)
				continue;
			if (*v == '}')
				v++;
			return atof(v);
		}
	}
	return -1;
}

int harness_sh(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (p == NULL) {
		fprintf(stderr, "harness: popen %s: %s\n", cmd, strerror(errno));
		return -1;
	}
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define PG_CLUSTER "load/harness/pg_cluster.sh"

int pg_cluster_start(struct pg_cluster *pg, int max_connections)
{
	char out[1024];
	const char *host;
	size_t n;
	int rc;

	memset(pg, 0, sizeof *pg);
	rc = harness_sh(out, sizeof out, PG_CLUSTER " start %d %d", max_connections, (int)getpid());
	if (rc != 0 || strncmp(out, "host=", 5) != 0) {
		fprintf(stderr, "harness: " PG_CLUSTER " start exited %d: %s\n", rc, out);
		return -1;
	}
	out[strcspn(out, "\n")] = '\0';
	snprintf(pg->conninfo, sizeof pg->conninfo, "%.*s", (int)sizeof pg->conninfo - 1, out);
	host = out + 5;
	n = strcspn(host, " ");
	if (n >= sizeof pg->dir) {
		fprintf(stderr, "harness: cluster folder too long: %s\n", out);
		return -1;
	}
	memcpy(pg->dir, host, n);
	return 0;
}

static int pg_cluster_cmd(struct pg_cluster *pg, const char *cmd)
{
	char out[4096];
	int rc;

	if (pg->dir[0] == '\0')
		return -1;
	rc = harness_sh(out, sizeof out, PG_CLUSTER " %s '%s' 2>&1", cmd, pg->dir);
	if (rc != 0) {
		fprintf(stderr, "harness: " PG_CLUSTER " %s exited %d: %s\n", cmd, rc, out);
		return -1;
	}
	return 0;
}

int pg_cluster_stop(struct pg_cluster *pg)
{
	int rc = pg_cluster_cmd(pg, "stop");
	pg->dir[0] = '\0';
	return rc;
}

int pg_cluster_halt(struct pg_cluster *pg)
{
	return pg_cluster_cmd(pg, "halt");
}

int pg_cluster_resume(struct pg_cluster *pg)
{
	return pg_cluster_cmd(pg, "resume");
}

int pg_cluster_sql(struct pg_cluster *pg, char *out, size_t cap, const char *sql)
{
	int rc = harness_sh(out, cap, "psql -X -Atq '%s' -c \"%s\" 2>&1", pg->conninfo, sql);
	size_t n = strlen(out);

	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	if (rc != 0)
		fprintf(stderr, "harness: psql -c \"%s\" exited %d: %s\n", sql, rc, out);
	return rc == 0 ? 0 : -1;
}
