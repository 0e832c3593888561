/*
 * bin/blocking — the sync world: a CivetWeb server whose fixed pool of worker
 * threads serves one request per thread, each thread held while its request
 * sleeps through its tasks. See --help.
 */
#include "cli.h"
#include "db_pool.h"
#include "handler.h"
#include "helper_pool.h"
#include "metrics.h"
#include "routes.h"

#include <civetweb.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "blocking"
#define DEFAULT_LISTEN "127.0.0.1:8001"
#define DEFAULT_THREADS 80
#define DEFAULT_HELPERS 240
#define DEFAULT_QUEUE 10000
#define DEFAULT_REQUEST_TIMEOUT_MS 30000
#define DEFAULT_QUERY_TIMEOUT_MS 30000
#define MAX_THREADS 10000
/* After the last running request is answered, keep serving 503s until no request
 * has arrived for DRAIN_QUIET_MS (at most DRAIN_GRACE_MS): clients already queued
 * behind the running ones get an answer instead of a reset from mg_stop. */
#define DRAIN_QUIET_MS 200
#define DRAIN_GRACE_MS 2000
#define DRAIN_POLL_MS 10
/* The metrics-only listener: scrapes are short, two threads never queue. */
#define METRICS_THREADS "2"
#define METRICS_TIMEOUT_MS "5000"
/* Descriptors kept free beside the queue and the workers' connections: stdio,
 * the listeners, the /proc files a scrape reads, CivetWeb's own. */
#define FD_MARGIN 64

struct options {
	const char *listen, *metrics_listen;
	struct sockaddr_in addr, metrics_addr;
	long threads, helpers, task_ms, task_cpu_ms, queue, request_timeout_ms;
	enum pg_backend backend;
	const char *db;
	long pool, query_timeout_ms;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bin/blocking [--listen HOST:PORT] [--threads N] [--helpers N] [--task-ms MS]\n"
		"                    [--task-cpu-ms MS] [--queue N] [--request-timeout-ms MS]\n"
		"                    [--metrics-listen HOST:PORT]\n"
		"                    [--backend sleep|postgres] [--db CONNINFO] [--pool N]\n"
		"                    [--query-timeout MS]\n"
		"\n"
		"The sync world: a CivetWeb server with a fixed pool of worker threads, one thread\n"
		"held per request for as long as the request sleeps through its tasks.\n"
		"\n"
		"  --listen HOST:PORT        address to listen on; port 0 picks a free one (default %s)\n"
		"  --threads N               worker threads, 1..%d (default %d: the original ran FastAPI\n"
		"                            with 2 processes x a 40-thread pool for plain `def` routes)\n"
		"  --helpers N               helper threads that run fanned-out tasks, 1..%d (default %d:\n"
		"                            3 per worker, so the helper pool never binds by default)\n"
		"  --task-ms MS              one task's duration, 0..%ld (default %ld; ?ms=N overrides;\n"
		"                            a CPU route's tasks wait only when ?ms=N asks)\n"
		"  --task-cpu-ms MS          a CPU route's work per task, measured on the thread's CPU\n"
		"                            clock, 0..%ld (default %ld; ?cpu_ms=N overrides)\n"
		"  --queue N                 connections queued for a free worker, 1..1000000 (default %d);\n"
		"                            the kernel's listen backlog is set to net.core.somaxconn;\n"
		"                            capped (said on stderr) so queue + threads + metrics + %d\n"
		"                            fit in the descriptor limit, whose soft value is raised\n"
		"                            to the hard one: a queue past it makes CivetWeb retry\n"
		"                            accept() without pause once descriptors run out\n"
		"  --request-timeout-ms MS   bound on each socket read/write, header reads included\n"
		"                            (default %d); a silent client holds a worker this long\n"
		"  --metrics-listen HOST:PORT  also serve /metrics on this address, from its own two\n"
		"                            threads: a scrape on the main port waits in the same FIFO\n"
		"                            queue as the load; its address goes to stderr as\n"
		"                            \"metrics also on http://HOST:PORT/metrics\" (default: none)\n"
		"  --backend sleep|postgres  what a task is: a nanosleep, or one query that spends the\n"
		"                            task's time in PostgreSQL (pg_sleep) (default sleep)\n"
		"  --db CONNINFO             libpq conninfo or URI of the database (default: libpq's\n"
		"                            defaults, PGHOST and friends)\n"
		"  --pool N                  connections shared by workers and helpers, 1..%d (default:\n"
		"                            threads + helpers, one per thread that runs tasks); a\n"
		"                            thread waits for one in FIFO order when all are taken\n"
		"  --query-timeout MS        statement_timeout of each query, 0 none (default %d):\n"
		"                            a query past it is answered 504\n"
		"  -h, --help                this text\n"
		"\n"
		"Routes:\n",
		DEFAULT_LISTEN, MAX_THREADS, DEFAULT_THREADS, MAX_THREADS, DEFAULT_HELPERS,
		ROUTE_MS_MAX, ROUTE_DEFAULT_TASK_MS, ROUTE_CPU_MS_MAX, ROUTE_DEFAULT_TASK_CPU_MS,
		DEFAULT_QUEUE, FD_MARGIN,
		DEFAULT_REQUEST_TIMEOUT_MS, MAX_THREADS, DEFAULT_QUERY_TIMEOUT_MS);
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == WORLD_BLOCKING)
			fprintf(f, "  GET %-20s %s\n", routes[i].path, routes[i].about);
	fprintf(f,
		"  GET %-20s Prometheus text: requests, in flight, busy threads, queue\n"
		"\n"
		"Errors are JSON {\"error\": \"...\"}: 400 bad ?ms or ?cpu_ms, or Content-Length twice or with\n"
		"Transfer-Encoding; 404 unknown path; 405 method other than GET/HEAD; 431 at %d\n"
		"header fields (CivetWeb drops any past them); 503 while draining, or the database\n"
		"is unreachable (the server starts anyway and reconnects on use); 504 a query ran\n"
		"past --query-timeout.\n"
		"SIGINT/SIGTERM drain: running requests finish and are answered, new ones get 503,\n"
		"then the server exits 0 (a second signal stops at once, exit 1).\n"
		"Prints \"listening on http://HOST:PORT\" when ready.\n"
		"Exit codes: 0 stopped cleanly, 1 stopped without draining, 2 bad usage or setup.\n",
		METRICS_ROUTE_SELF, MG_MAX_HEADERS);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "helpers", required_argument, NULL, 'H' },
		{ "task-ms", required_argument, NULL, 'm' },
		{ "task-cpu-ms", required_argument, NULL, 'c' },
		{ "queue", required_argument, NULL, 'q' },
		{ "request-timeout-ms", required_argument, NULL, 'r' },
		{ "metrics-listen", required_argument, NULL, 'M' },
		{ "backend", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "pool", required_argument, NULL, 'p' },
		{ "query-timeout", required_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .listen = DEFAULT_LISTEN, .threads = DEFAULT_THREADS,
			       .helpers = DEFAULT_HELPERS, .task_ms = ROUTE_DEFAULT_TASK_MS,
			       .task_cpu_ms = ROUTE_DEFAULT_TASK_CPU_MS, .queue = DEFAULT_QUEUE,
			       .request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS,
			       .db = "", .query_timeout_ms = DEFAULT_QUERY_TIMEOUT_MS };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 't': o->threads = cli_flag_long(PROG, "--threads", optarg, 1, MAX_THREADS); break;
		case 'H': o->helpers = cli_flag_long(PROG, "--helpers", optarg, 1, MAX_THREADS); break;
		case 'm': o->task_ms = cli_flag_long(PROG, "--task-ms", optarg, 0, ROUTE_MS_MAX); break;
		case 'c':
			o->task_cpu_ms = cli_flag_long(PROG, "--task-cpu-ms", optarg, 0, ROUTE_CPU_MS_MAX);
			break;
		case 'q': o->queue = cli_flag_long(PROG, "--queue", optarg, 1, 1000000); break;
		case 'r':
			o->request_timeout_ms = cli_flag_long(PROG, "--request-timeout-ms", optarg, 1, 3600000);
			break;
		case 'M': o->metrics_listen = optarg; break;
		case 'b':
			if (pg_backend_parse(optarg, &o->backend) < 0)
				cli_die_usage(PROG, "--backend is sleep or postgres, not '%s'", optarg);
			break;
		case 'd': o->db = optarg; break;
		case 'p': o->pool = cli_flag_long(PROG, "--pool", optarg, 1, MAX_THREADS); break;
		case 'Q':
			o->query_timeout_ms = cli_flag_long(PROG, "--query-timeout", optarg, 0, 3600000);
			break;
		case 'h': usage(stdout); exit(0);
		case ':': cli_die_usage(PROG, "%s needs a value", argv[optind - 1]);
		default: cli_die_usage(PROG, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_die_usage(PROG, "unexpected argument '%s'", argv[optind]);
	if (cli_parse_hostport(o->listen, &o->addr) < 0)
		cli_die_usage(PROG, "--listen wants IPv4-HOST:PORT, not '%s'", o->listen);
	if (o->pool == 0)
		o->pool = o->threads + o->helpers;
	if (o->metrics_listen && cli_parse_hostport(o->metrics_listen, &o->metrics_addr) < 0)
		cli_die_usage(PROG, "--metrics-listen wants IPv4-HOST:PORT, not '%s'",
			      o->metrics_listen);
}

/* The kernel caps any listen backlog at net.core.somaxconn; asking for exactly
 * that makes the cap visible in the startup line. */
static long system_somaxconn(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	long v = 0;
	if (f == NULL || fscanf(f, "%ld", &v) != 1 || v <= 0)
		v = SOMAXCONN;
	if (f)
		fclose(f);
	return v;
}

/* Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit now in
 * force (the old one if raising fails, said on stderr), or -1 if unknown. */
static long descriptor_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		fprintf(stderr, PROG ": getrlimit(RLIMIT_NOFILE): %s\n", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = { rl.rlim_max, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised;
		else
			fprintf(stderr, PROG ": setrlimit(RLIMIT_NOFILE, %llu): %s\n",
				(unsigned long long)rl.rlim_max, strerror(errno));
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX)
		return LONG_MAX;
	return (long)rl.rlim_cur;
}

/*
 * CivetWeb's master thread accepts while the queue has room; once accept()
 * fails with EMFILE it polls and retries at once, a spin on a core. A queue
 * that fills before descriptors run out makes it wait on the queue instead.
 * Returns the queue length to use (at least 1), saying on stderr when it caps.
 */
static long fitting_queue(const struct options *o, long fd_limit)
{
	long metrics = o->metrics_listen ? 1 + atol(METRICS_THREADS) : 0;
	long room = fd_limit - o->threads - metrics - FD_MARGIN;

	if (fd_limit < 0 || o->queue <= room)
		return o->queue;
	fprintf(stderr, PROG ": --queue %ld capped to %ld: %ld descriptors (RLIMIT_NOFILE) must "
		"hold the queue, %ld worker connections, %ld for metrics and %d spare%s\n",
		o->queue, room < 1 ? 1 : room, fd_limit, o->threads, metrics, FD_MARGIN,
		room < 1 ? " (less than that is left: the queue is 1)" : "");
	return room < 1 ? 1 : room;
}

/* CivetWeb says only "Failed to setup server ports"; binding the address the same
 * way (SO_REUSEADDR, as CivetWeb does) recovers the reason. */
static const char *bind_reason(const struct sockaddr_in *a)
{
	static char why[128];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	snprintf(why, sizeof why, "CivetWeb could not set up the listening socket");
	if (fd < 0) {
		snprintf(why, sizeof why, "socket: %s", strerror(errno));
		return why;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)a, sizeof *a) < 0)
		snprintf(why, sizeof why, "bind: %s", strerror(errno));
	close(fd);
	return why;
}

/* mg_start2 with the listener's address in every error. Returns the context and
 * its port, or NULL (reason printed). */
static struct mg_context *start_listener(const char *what, const struct sockaddr_in *addr,
					 const char **options, const struct mg_callbacks *cb,
					 int *port)
{
	struct mg_init_data init = { .callbacks = cb, .configuration_options = options };
	struct mg_server_port p = { 0 };
	char text[256] = "";
	unsigned code = 0;
	struct mg_error_data err = { &code, text, sizeof text };
	struct mg_context *ctx = mg_start2(&init, &err);

	if (ctx == NULL) {
		fprintf(stderr, PROG ": cannot listen on %s (%s): %s\n", options[1], what,
			bind_reason(addr));
		return NULL;
	}
	if (mg_get_server_ports(ctx, 1, &p) != 1 || p.port <= 0) {
		fprintf(stderr, PROG ": mg_get_server_ports (%s): no listening port\n", what);
		mg_stop(ctx);
		return NULL;
	}
	*port = p.port;
	return ctx;
}

static void format_addr(const struct sockaddr_in *a, char *host, size_t hcap, char *hostport,
			size_t cap)
{
	inet_ntop(AF_INET, &a->sin_addr, host, (socklen_t)hcap);
	snprintf(hostport, cap, "%s:%u", host, ntohs(a->sin_port));
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Waits DRAIN_POLL_MS for a signal; returns 1 if one came (a second signal). */
static int second_signal(const sigset_t *set)
{
	struct timespec t = { 0, DRAIN_POLL_MS * 1000000L };
	return sigtimedwait(set, NULL, &t) > 0;
}

/* Drains before mg_stop, which would wait for running handlers and then drop
 * their responses. Returns 0 when drained, -1 when a second signal cut it short. */
static int drain(const sigset_t *set)
{
	double quiet_since, grace_end;
	long seen;

	handler_drain_begin();
	fprintf(stderr, PROG ": draining %ld running request(s)\n", handler_admitted());
	while (handler_admitted() > 0)
		if (second_signal(set))
			return -1;
	grace_end = now_ms() + DRAIN_GRACE_MS;
	quiet_since = now_ms();
	seen = metrics_started();
	while (now_ms() < grace_end && now_ms() - quiet_since < DRAIN_QUIET_MS) {
		if (second_signal(set))
			return -1;
		if (metrics_started() != seen || metrics_handling() > 0) {
			seen = metrics_started();
			quiet_since = now_ms();
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct handler_config cfg = { 0 };
	struct pg_conninfo conninfo;
	char why[PG_WHY_MAX];
	struct mg_callbacks callbacks = { 0 }, no_callbacks = { 0 };
	struct mg_context *ctx = NULL, *metrics_ctx = NULL;
	char host[INET_ADDRSTRLEN], mhost[INET_ADDRSTRLEN], listening[64], metrics_listening[64],
		threads[24], backlog[24], queue[24], timeout[24];
	sigset_t stop_signals;
	int sig, port = 0, metrics_port = 0, rc = 2;

	parse_options(argc, argv, &o);
	o.queue = fitting_queue(&o, descriptor_limit());
	format_addr(&o.addr, host, sizeof host, listening, sizeof listening);
	snprintf(threads, sizeof threads, "%ld", o.threads);
	snprintf(backlog, sizeof backlog, "%ld", system_somaxconn());
	snprintf(queue, sizeof queue, "%ld", o.queue);
	snprintf(timeout, sizeof timeout, "%ld", o.request_timeout_ms);

	/* Every thread started from here on inherits the mask, so SIGINT/SIGTERM
	 * arrive only through sigwaitinfo in this thread: no async handler at all. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (metrics_init() < 0)
		return 2;
	cfg.task_ms = o.task_ms;
	cfg.task_cpu_ms = o.task_cpu_ms;
	if (o.backend == BACKEND_POSTGRES) {
		if (pg_conninfo_init(&conninfo, o.db, o.query_timeout_ms, "lab-blocking", why,
				     sizeof why) < 0)
			cli_die_usage(PROG, "--db '%s': %s", o.db, why);
		cfg.db = db_pool_open(&conninfo, (int)o.pool, o.query_timeout_ms);
		if (cfg.db == NULL)
			return 2;
	}
	cfg.helpers = helper_pool_start((int)o.helpers);
	if (cfg.helpers == NULL)
		return 2;
	mg_init_library(0);

	const char *options[] = {
		"listening_ports", listening,
		"num_threads", threads,
		"listen_backlog", backlog,
		"connection_queue", queue,
		"request_timeout_ms", timeout,
		/* One request per connection: keep-alive would let an idle client hold a
		 * worker between its requests and starve the queue. */
		"enable_keep_alive", "no",
		NULL,
	};
	handler_callbacks(&callbacks);
	ctx = start_listener("requests", &o.addr, options, &callbacks, &port);
	if (ctx == NULL)
		goto fail;
	if (o.metrics_listen != NULL) {
		format_addr(&o.metrics_addr, mhost, sizeof mhost, metrics_listening,
			    sizeof metrics_listening);
		const char *moptions[] = {
			"listening_ports", metrics_listening,
			"num_threads", METRICS_THREADS,
			"request_timeout_ms", METRICS_TIMEOUT_MS,
			"enable_keep_alive", "no",
			NULL,
		};
		metrics_ctx = start_listener("metrics", &o.metrics_addr, moptions, &no_callbacks,
					     &metrics_port);
		if (metrics_ctx == NULL)
			goto fail;
	}
	cfg.view = (struct metrics_view){ .port = port, .metrics_port = metrics_port,
					  .pool_threads = (int)o.threads,
					  .queue_capacity = (int)o.queue, .helpers = cfg.helpers,
					  .db = cfg.db ? db_pool_stats(cfg.db) : NULL };
	if (handler_install(ctx, &cfg) < 0)
		goto fail;
	if (metrics_ctx != NULL) {
		handler_install_metrics(metrics_ctx, &cfg);
		fprintf(stderr, PROG ": metrics also on http://%s:%d%s\n", mhost, metrics_port,
			METRICS_ROUTE_SELF);
	}

	fprintf(stderr, PROG ": %ld worker threads, %ld helpers, task %ld ms, CPU task %ld ms, "
		"queue %ld, listen backlog %s, request timeout %ld ms\n",
		o.threads, o.helpers, o.task_ms, o.task_cpu_ms, o.queue, backlog,
		o.request_timeout_ms);
	if (cfg.db != NULL)
		fprintf(stderr, PROG ": backend postgres: pool %ld, query timeout %ld ms, db '%s'\n",
			o.pool, o.query_timeout_ms, o.db);
	printf("listening on http://%s:%d\n", host, port);
	fflush(stdout);

	do
		sig = sigwaitinfo(&stop_signals, NULL);
	while (sig < 0 && errno == EINTR);
	fprintf(stderr, PROG ": %s\n", sig > 0 ? strsignal(sig) : strerror(errno));
	if (drain(&stop_signals) < 0) {
		fprintf(stderr, PROG ": second signal: stopping without waiting\n");
		rc = 1;
	} else {
		rc = 0;
	}
fail:
	/* Both stops wait for running handlers; the drain has already answered ours. */
	if (ctx != NULL)
		mg_stop(ctx);
	if (metrics_ctx != NULL)
		mg_stop(metrics_ctx);
	if (rc != 2)
		fprintf(stderr, PROG ": stopped\n");
	mg_exit_library();
	helper_pool_stop(cfg.helpers);
	db_pool_close(cfg.db);
	return rc;
}
