/*
 * harness — what integration tests need to drive the real programs: start one
 * on 127.0.0.1:0, learn its port from its ready line, talk HTTP over real
 * sockets, and always stop it.
 *
 * Functions return 0 (or a count) on success and -1 on failure, having printed
 * the reason (call and strerror) to stderr, so a test only asserts.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#define HARNESS_READY_TIMEOUT_MS 10000

struct proc {
	pid_t pid;
	int port;     /* from "listening on http://HOST:PORT"; 0 when none was read */
	int out_fd;   /* the child's stdout, after the ready line (-1 when closed) */
};

struct http_resp {
	int status;            /* 0 when no status line arrived */
	char head[4096];       /* status line + headers, NUL-terminated */
	char body[65536];      /* NUL-terminated; truncated past capacity */
	size_t body_len;
	double ms;             /* from just before connect to the last byte */
	int closed;            /* the server closed the connection after it */
};

/* Path of a program under bin/ (HARNESS_BIN overrides the folder). */
const char *harness_bin(const char *name);

/*
 * Starts argv[0] with argv (NULL-terminated), stdout piped, stderr inherited,
 * and waits up to HARNESS_READY_TIMEOUT_MS for its ready line. On failure
 * nothing is left running.
 */
int proc_start(struct proc *p, char *const argv[]);

/* Starts a program that is not a server (no ready line expected). */
int proc_spawn(struct proc *p, char *const argv[]);

/* Sends sig, waits up to timeout_ms, then SIGKILLs. Returns the exit status
 * as the shell shows it (code, or 128+signal), -1 if it had to be killed. */
int proc_stop(struct proc *p, int sig, int timeout_ms);

/* Waits up to timeout_ms for the process to exit by itself; status as above,
 * -1 (and SIGKILL) on timeout. */
int proc_wait(struct proc *p, int timeout_ms);

/* A connected blocking TCP socket to 127.0.0.1:port, or -1. */
/* A 127.0.0.1 port nobody listens on now (bound and released), for a
 * program that must be told its port before it starts; -1 on failure. */
int harness_free_port(void);

int http_connect(int port);

/* Writes all of buf (a raw request, any bytes). Returns 0 or -1. */
int http_send(int fd, const void *buf, size_t len);

/*
 * Reads one response from fd within timeout_ms: status line, headers and body
 * (Content-Length, or until close; none when is_head). Reads no byte past the
 * response, so pipelined responses can be read one after another. Returns 0,
 * or -1 on timeout/garbage/EOF before a complete response.
 */
int http_read(int fd, struct http_resp *r, int is_head, int timeout_ms);

/* One request on a new connection: connect, send "GET path HTTP/1.1" with
 * Host and Connection: close, read the response. r->ms is the whole time. */
int http_get(int port, const char *path, struct http_resp *r, int timeout_ms);

/* Raw request bytes on a new connection; response read as http_read. */
int http_raw(int port, const void *req, size_t len, struct http_resp *r, int timeout_ms);

/* The value of header `name` (case-insensitive) in r->head, copied to out. */
int http_header(const struct http_resp *r, const char *name, char *out, size_t cap);

/* Runs a shell command (printf-style), its stdout and stderr as the command
 * redirects them read into out (NUL-terminated, truncated at cap - 1). Returns
 * its exit code, 128 when a signal ended it, -1 when it could not start. */
__attribute__((format(printf, 3, 4)))
int harness_sh(char *out, size_t cap, const char *fmt, ...);

/*
 * A private PostgreSQL (load/harness/pg_cluster.sh): started with the given
 * max_connections and owned by this process (a watcher stops it if the test
 * dies), stopped and removed by pg_cluster_stop. halt is an immediate shutdown
 * (a crash) that keeps the folder; resume starts it again.
 */
struct pg_cluster {
	char conninfo[512]; /* "host=DIR user=postgres dbname=postgres" */
	char dir[400];
};
int pg_cluster_start(struct pg_cluster *pg, int max_connections);
int pg_cluster_stop(struct pg_cluster *pg);
int pg_cluster_halt(struct pg_cluster *pg);
int pg_cluster_resume(struct pg_cluster *pg);
/* Runs one SQL statement with psql -Atc; its output (trailing newline cut) in out. */
int pg_cluster_sql(struct pg_cluster *pg, char *out, size_t cap, const char *sql);

/* Monotonic milliseconds. */
double harness_now_ms(void);

/* Entries of /proc/PID/WHAT ("fd": descriptors, "task": threads), or -1. */
int harness_proc_entries(pid_t pid, const char *what);

/* CPU time (user + system) a process has used so far, in ms, from
 * /proc/PID/stat (clock ticks: 10 ms steps at 100 Hz), or -1. */
double harness_cpu_ms(pid_t pid);

/* http_get() to p's port, and the CPU ms the server process used meanwhile
 * (10 ms ticks: within a tick at each end), or -1 when it could not be read. */
double http_get_cpu_ms(const struct proc *p, const char *path, struct http_resp *r,
		       int timeout_ms);

/* GET /metrics and return the value of the first sample line that starts
 * with `series` (e.g. "evented_requests_in_flight"), or -1 when absent. */
double metrics_value(int port, const char *series);

#endif
