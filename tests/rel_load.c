/*
 * bin/load against servers that misbehave: down at start, dying mid-run,
 * resetting connections, answering garbage, answering slower than --timeout.
 * Each misbehaviour must show as failures with its own error text, the run
 * must complete with its files written, and the exit status must be 1. The
 * servers are tiny ones inside this program, a thread each, on 127.0.0.1:0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "rel_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

enum mode { M_DIES, M_RESETS, M_GARBAGE, M_SILENT };

struct bad_server {
	enum mode mode;
	int lfd, port;
	atomic_int stop;
	pthread_t tid;
	double die_at;         /* M_DIES: monotonic ms at which it closes everything */
	int held[256], n_held; /* M_SILENT: connections read and never answered */
};

static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: 2\r\n\r\n{}";

static void serve(struct bad_server *s, int fd, int *open)
{
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		close(fd);
		*open = 0;
		return;
	}
	if (n < 0)
		return;
	switch (s->mode) {
	case M_DIES:
		send(fd, OK, sizeof OK - 1, MSG_NOSIGNAL);
		break;
	case M_RESETS: {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
		close(fd);
		*open = 0;
		break;
	}
	case M_GARBAGE:
		send(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n", 23, MSG_NOSIGNAL);
		close(fd);
		*open = 0;
		break;
	case M_SILENT:
		break; /* read, never answered */
	}
}

static void *server_main(void *arg)
{
	struct bad_server *s = arg;
	struct pollfd pfd[257];
	int n = 0;
	pfd[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	while (!atomic_load(&s->stop)) {
		if (s->mode == M_DIES && harness_now_ms() >= s->die_at) {
			for (int i = 0; i < n; i++)
				close(pfd[i].fd);
			return NULL; /* the port refuses from now on */
		}
		if (poll(pfd, (nfds_t)n, 20) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && n < 257) {
			int fd = accept(s->lfd, NULL, NULL);
			if (fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
		for (int i = 1; i < n; i++) {
			int open = 1;
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			serve(s, pfd[i].fd, &open);
			if (!open)
				pfd[i--] = pfd[--n];
		}
	}
	for (int i = 0; i < n; i++)
		close(pfd[i].fd);
	return NULL;
}

/* A listening socket on 127.0.0.1:0 (its port in *port), or -1. */
static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int server_start(struct bad_server *s, enum mode m)
{
	memset(s, 0, sizeof *s);
	s->mode = m;
	s->die_at = harness_now_ms() + 1000;
	s->lfd = listen_any(&s->port);
	if (s->lfd < 0)
		return -1;
	return pthread_create(&s->tid, NULL, server_main, s) == 0 ? 0 : -1;
}

static void server_stop(struct bad_server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->tid, NULL);
}

/* ---- running bin/load ---- */

static char dir[64];

struct run {
	int status;
	double ms;
	char err[65536];
	char failures[8192];
	char json[65536];
	int files;             /* of the five it should write */
};

static void slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static void run_load(struct run *r, const char *name, int port, const char *timeout_s)
{
	char host[64], prefix[128], json[160], errp[160], path[200];
	int st = 0;
	pid_t pid;
	double t0 = harness_now_ms();
	snprintf(host, sizeof host, "http://127.0.0.1:%d", port);
	snprintf(prefix, sizeof prefix, "%s/%s", dir, name);
	snprintf(json, sizeof json, "%s.json", prefix);
	snprintf(errp, sizeof errp, "%s.stderr", prefix);
	char *argv[] = { (char *)harness_bin("load"), "--headless", "-u", "4", "-r", "100", "-t", "2",
			 "-H", host, "--path", "/x", "--threads", "2", "--timeout", (char *)timeout_s,
			 "--csv", prefix, "--json", json, NULL };
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(e, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (harness_now_ms() - t0 > 20000) { /* bounded: -t 2 must end it */
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(20000);
	}
	r->ms = harness_now_ms() - t0;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	slurp(errp, r->err, sizeof r->err);
	r->files = 0;
	const char *suffix[] = { "_stats.csv", "_stats_history.csv", "_failures.csv",
				 "_exceptions.csv", ".json" };
	for (int i = 0; i < 5; i++) {
		struct stat sb;
		snprintf(path, sizeof path, "%s%s", prefix, suffix[i]);
		r->files += stat(path, &sb) == 0 && sb.st_size > 0;
	}
	snprintf(path, sizeof path, "%s_failures.csv", prefix);
	slurp(path, r->failures, sizeof r->failures);
	slurp(json, r->json, sizeof r->json);
}

static long json_count(const char *json, const char *key)
{
	char k[64];
	const char *p;
	snprintf(k, sizeof k, "\"%s\":", key);
	p = strstr(json, k);
	return p ? atol(p + strlen(k)) : -1;
}

static void check(const char *what, struct run *r, const char *error_text, int some_succeed)
{
	long req = json_count(r->json, "requests"), fails = json_count(r->json, "failures");
	int has_text = strstr(r->failures, error_text) != NULL;
	rel_record("load", what, fails, "%ld/%ld requests failed with %s%s; exit %d in %.1f s; "
		   "%d/5 files written", fails, req, error_text, has_text ? "" : " (text NOT found)",
		   r->status, r->ms / 1000, r->files);
	if (!has_text)
		print_message("failures.csv:\n%s\nstderr tail:\n%s\n", r->failures,
			      r->err + (strlen(r->err) > 2000 ? strlen(r->err) - 2000 : 0));
	assert_int_equal(r->status, 1);
	assert_int_equal(r->files, 5);
	assert_true(has_text);
	assert_true(fails > 0);
	if (!some_succeed)
		assert_int_equal(fails, req);
	else
		assert_true(fails < req);
	assert_true(r->ms < 2000 + 3000); /* the run ends on time */
}

static void target_down_at_start(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	int port, fd = listen_any(&port);
	(void)state;
	assert_true(fd >= 0);
	close(fd); /* nothing listens there now */
	run_load(r, "down", port, "1");
	check("target down at start", r, "ConnectionRefusedError(111", 0);
	free(r);
}

static void target_dies_mid_run(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	struct bad_server s;
	(void)state;
	assert_int_equal(server_start(&s, M_DIES), 0);
	run_load(r, "dies", s.port, "1");
	server_stop(&s);
	check("target dies 1 s into a 2 s run", r, "ConnectionRefusedError(111", 1);
	free(r);
}

static void target_resets(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	struct bad_server s;
	(void)state;
	assert_int_equal(server_start(&s, M_RESETS), 0);
	run_load(r, "resets", s.port, "1");
	server_stop(&s);
	check("target resets every connection", r, "ConnectionResetError(104", 0);
	free(r);
}

static void target_answers_garbage(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	struct bad_server s;
	(void)state;
	assert_int_equal(server_start(&s, M_GARBAGE), 0);
	run_load(r, "garbage", s.port, "1");
	server_stop(&s);
	check("target answers garbage (an SSH banner)", r, "BadStatusLine(", 0);
	free(r);
}

static void target_slower_than_timeout(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	struct bad_server s;
	(void)state;
	assert_int_equal(server_start(&s, M_SILENT), 0);
	run_load(r, "silent", s.port, "0.3");
	server_stop(&s);
	check("target never answers, --timeout 0.3", r, "ReadTimeout(", 0);
	free(r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/rel_load.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(target_down_at_start),
		cmocka_unit_test(target_dies_mid_run),
		cmocka_unit_test(target_resets),
		cmocka_unit_test(target_answers_garbage),
		cmocka_unit_test(target_slower_than_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
