/*
 * bin/evented — the async world: epoll event loops whose tasks are timers.
 */
#include "cli.h"
#include "http_conn.h"
#include "pg_task.h"
#include "routes.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "evented"
#define MAX_WORKERS 64
#define DEFAULT_POOL 100
#define MAX_POOL 10000
#define DEFAULT_QUERY_TIMEOUT_MS 30000

static void usage(void)
{
	printf("usage: bin/evented [--listen HOST:PORT] [--workers N] [--task-ms MS]\n"
	       "                   [--task-cpu-ms MS] [--offload-threads N] [--max-conns N] [--header-timeout-ms MS] [--idle-timeout-ms MS]\n"
	       "                   [--backend sleep|postgres] [--db CONNINFO] [--pool N]\n"
	       "                   [--query-timeout MS]\n"
	       "                   [--io epoll|uring]\n"
	       "\n"
	       "The async world: N single-threaded epoll loops, each task a timer in the\n"
	       "loop's min-heap, one timerfd per loop armed for the earliest deadline.\n"
	       "\n"
	       "  --listen HOST:PORT       address to serve (default 127.0.0.1:8002; port 0 picks one)\n"
	       "  --workers N              event loops, 1..%d (default 2, as fastapi --workers 2)\n"
	       "  --task-ms MS             each task's duration unless ?ms=N says otherwise\n"
	       "                           (default %ld, 0..%ld); a CPU route's tasks wait only\n"
	       "                           when ?ms=N asks\n"
	       "  --task-cpu-ms MS         a CPU route's work per task, measured on the running\n"
	       "                           thread's CPU clock (default %ld, 0..%ld; ?cpu_ms=N)\n"
	       "  --offload-threads N      each worker's pool for /async_offload's CPU tasks,\n"
	       "                           1..%d (default 2), each thread started when a job first\n"
	       "                           finds none waiting; done jobs wake the loop by eventfd\n"
	       "  --max-conns N            connections one worker holds at once; at the limit it\n"
	       "                           stops accepting until one closes (default 100000)\n"
	       "  --header-timeout-ms MS   close a connection whose request head is not complete\n"
	       "                           this long after it began (default 10000)\n"
	       "  --idle-timeout-ms MS     close a keep-alive connection idle this long (default 60000)\n"
	       "  --backend sleep|postgres what a task is: a timer, or one query that spends the\n"
	       "                           task's time in PostgreSQL (pg_sleep), through libpq's\n"
	       "                           asynchronous API in the loop (default sleep)\n"
	       "  --db CONNINFO            libpq conninfo or URI of the database (default: libpq's\n"
	       "                           defaults, PGHOST and friends)\n"
	       "  --pool N                 connections per worker, 1..%d (default %d); a task\n"
	       "                           waits for one in FIFO order when all are taken, and a\n"
	       "                           gathered plan takes one per task it runs at once\n"
	       "  --query-timeout MS       statement_timeout of each query, 0 none (default %d):\n"
	       "                           a query past it is answered 504\n"
	       "  --io epoll|uring         the I/O engine (default epoll, the lab's subject): epoll\n"
	       "                           reports readiness and the loop calls recv/send itself;\n"
	       "                           uring (io_uring, Linux 6.0 or later) receives, accepts\n"
	       "                           and sends in the kernel, one io_uring_enter per loop\n"
	       "                           pass; the same HTTP, limits and timeouts either way\n"
	       "  --help                   this text\n"
	       "\n"
	       "Workers are threads of one process, each with its own listening socket bound\n"
	       "with SO_REUSEPORT: the kernel spreads connections over them with no shared\n"
	       "accept queue or lock. Threads rather than processes because /metrics (any\n"
	       "worker may answer it) then sums every loop's counters from memory, and there\n"
	       "is one ready line, one PID to signal and one exit status.\n"
	       "\n"
	       "Routes (from the route table; ?ms=N sets the task duration, 0..%ld):\n",
	       MAX_WORKERS, ROUTE_DEFAULT_TASK_MS, ROUTE_MS_MAX, ROUTE_DEFAULT_TASK_CPU_MS,
	       ROUTE_CPU_MS_MAX, OFFLOAD_MAX_THREADS, MAX_POOL, DEFAULT_POOL,
	       DEFAULT_QUERY_TIMEOUT_MS, ROUTE_MS_MAX);
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == WORLD_EVENTED)
			printf("  GET %-20s %s\n", routes[i].path, routes[i].about);
	printf("  GET %-20s Prometheus text: requests by route and status, open connections,\n"
	       "  %-24s requests in flight, pending timers, timer lateness histogram\n"
	       "\n"
	       "Errors answer a JSON {\"error\": \"...\"} body and close: 431 head over %d bytes\n"
	       "or %d header fields, 400 bad syntax, Content-Length with Transfer-Encoding or bad ms/cpu_ms,\n"
	       "405 method not GET/HEAD, 413 body over %d bytes, 404 unknown path, 505 not HTTP/1.x.\n"
	       "With --backend postgres: 503 (connection kept) while the database is unreachable\n"
	       "(the server starts anyway and reconnects on use), 504 a query past --query-timeout.\n"
	       "SIGINT/SIGTERM: stop accepting, answer every request in flight, close idle\n"
	       "connections, exit 0. Prints \"listening on http://HOST:PORT\" when ready.\n"
	       "Exit status: 0 after a drain, 1 an event loop failed, 2 bad usage or setup\n"
	       "failure (a port already in use included; --io uring where the kernel has no\n"
	       "usable io_uring: the failing call and its reason are printed, never a silent\n"
	       "fall-back to epoll).\n",
	       HTTP_METRICS_PATH, "", HTTP_HEAD_MAX, HTTP_FIELDS_MAX,
	       HTTP_BODY_MAX);
}

/*
 * SO_REUSEPORT would let a second server started by the same user on a busy
 * port bind silently and take half its connections. A plain bind first tells
 * "already in use" apart from "our own workers joining". Returns 0 or -1.
 */
static int port_is_free(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;
	char host[INET_ADDRSTRLEN];

	if (fd < 0)
		return 0; /* the workers' own socket() will report it */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
		inet_ntop(AF_INET, &addr->sin_addr, host, sizeof host);
		fprintf(stderr, "%s: bind %s:%d: %s\n", PROG, host, ntohs(addr->sin_port),
			strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

/* 10,000 sleeping connections need 10,000 descriptors: take the hard limit. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * SIGINT and SIGTERM, read from a signalfd in worker 0's loop: the main thread
 * runs worker 0 itself, so one worker is one thread (the kernel takes a
 * cheaper path on every recv and send in a single-threaded process: no shared
 * file table to count references in). The first signal drains every worker;
 * the descriptor then leaves the loop, so a second one changes nothing.
 */
struct stop_watch {
	struct io io;
	struct loop *loop;
	struct worker *const *workers;
	int n;
};

static void on_stop_signal(struct io *io, uint32_t events)
{
	struct stop_watch *s = (struct stop_watch *)io;
	struct signalfd_siginfo si;
	(void)events;

	if (read(io->fd, &si, sizeof si) != (ssize_t)sizeof si)
		return; /* EAGAIN: nothing there after all */
	fprintf(stderr, "%s: %s: draining\n", PROG, strsignal((int)si.ssi_signo));
	loop_unwatch(s->loop, io);
	close(io->fd);
	io->fd = -1;
	for (int i = 0; i < s->n; i++)
		worker_drain(s->workers[i]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "task-ms", required_argument, NULL, 't' },
		{ "task-cpu-ms", required_argument, NULL, 'c' },
		{ "offload-threads", required_argument, NULL, 'o' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "header-timeout-ms", required_argument, NULL, 'H' },
		{ "idle-timeout-ms", required_argument, NULL, 'I' },
		{ "backend", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "pool", required_argument, NULL, 'p' },
		{ "query-timeout", required_argument, NULL, 'Q' },
		{ "io", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_config cfg = {
		.workers = 2,
		.task_ms = ROUTE_DEFAULT_TASK_MS,
		.task_cpu_ms = ROUTE_DEFAULT_TASK_CPU_MS,
		.offload_threads = 2,
		.max_conns = 100000,
		.header_timeout_ms = 10000,
		.idle_timeout_ms = 60000,
		.pool = DEFAULT_POOL,
		.query_timeout_ms = DEFAULT_QUERY_TIMEOUT_MS,
		.engine = LOOP_EPOLL,
	};
	enum pg_backend backend = BACKEND_SLEEP;
	static struct pg_conninfo conninfo;
	const char *db = "";
	char why[PG_WHY_MAX];
	static struct worker *workers[MAX_WORKERS];
	static struct metrics *all[MAX_WORKERS];
	struct sockaddr_in bound;
	socklen_t blen = sizeof bound;
	char host[INET_ADDRSTRLEN];
	sigset_t stop;
	static struct stop_watch stop_watch;
	int opt;

	cli_parse_hostport("127.0.0.1:8002", &cfg.addr);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (cli_parse_hostport(optarg, &cfg.addr) < 0)
				cli_die_usage(PROG, "--listen wants HOST:PORT, not '%s'", optarg);
			break;
		case 'w': cfg.workers = (int)cli_flag_long(PROG, "--workers", optarg, 1, MAX_WORKERS); break;
		case 't': cfg.task_ms = cli_flag_long(PROG, "--task-ms", optarg, 0, ROUTE_MS_MAX); break;
		case 'c': cfg.task_cpu_ms = cli_flag_long(PROG, "--task-cpu-ms", optarg, 0, ROUTE_CPU_MS_MAX); break;
		case 'o':
			cfg.offload_threads = (int)cli_flag_long(PROG, "--offload-threads", optarg, 1,
								 OFFLOAD_MAX_THREADS);
			break;
		case 'm': cfg.max_conns = cli_flag_long(PROG, "--max-conns", optarg, 1, 10000000); break;
		case 'H': cfg.header_timeout_ms = cli_flag_long(PROG, "--header-timeout-ms", optarg, 1, 3600000); break;
		case 'I': cfg.idle_timeout_ms = cli_flag_long(PROG, "--idle-timeout-ms", optarg, 1, 3600000); break;
		case 'b':
			if (pg_backend_parse(optarg, &backend) < 0)
				cli_die_usage(PROG, "--backend is sleep or postgres, not '%s'", optarg);
			break;
		case 'd': db = optarg; break;
		case 'p': cfg.pool = cli_flag_long(PROG, "--pool", optarg, 1, MAX_POOL); break;
		case 'Q':
			cfg.query_timeout_ms = cli_flag_long(PROG, "--query-timeout", optarg, 0, 3600000);
			break;
		case 'i':
			if (strcmp(optarg, "epoll") == 0)
				cfg.engine = LOOP_EPOLL;
			else if (strcmp(optarg, "uring") == 0)
				cfg.engine = LOOP_URING;
			else
				cli_die_usage(PROG, "--io wants epoll or uring, not '%s'", optarg);
			break;
		case 'h': usage(); return 0;
		default:
			cli_die_usage(PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_die_usage(PROG, "unexpected argument '%s'", argv[optind]);
	if (backend == BACKEND_POSTGRES) {
		if (pg_conninfo_init(&conninfo, db, cfg.query_timeout_ms, "lab-evented", why,
				     sizeof why) < 0)
			cli_die_usage(PROG, "--db '%s': %s", db, why);
		cfg.db = &conninfo;
	}
	if (routes_count + 2 > METRICS_ROUTES) {
		fprintf(stderr, "%s: route table too big for metrics (%zu routes)\n", PROG, routes_count);
		return 2;
	}

	/* Writes to a closed socket must fail with EPIPE, not kill the server
	 * (every send also passes MSG_NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);
	/* Blocked here, inherited by every worker: only the signalfd sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	raise_nofile();
	http_conn_setup();

	if (cfg.addr.sin_port != 0 && port_is_free(&cfg.addr) < 0)
		return 2;
	for (int i = 0; i < cfg.workers; i++) {
		workers[i] = calloc(1, sizeof *workers[i]);
		if (workers[i] == NULL) {
			fprintf(stderr, "%s: calloc: %s\n", PROG, strerror(errno));
			return 2;
		}
		all[i] = &workers[i]->metrics;
	}
	for (int i = 0; i < cfg.workers; i++) {
		if (worker_listen(workers[i], &cfg, i, all) < 0)
			return 2;
		/* Port 0: the first bind chose a port; the others join it. */
		if (i == 0 && cfg.addr.sin_port == 0) {
			if (getsockname(workers[0]->listen_io.fd, (struct sockaddr *)&bound, &blen) < 0) {
				fprintf(stderr, "%s: getsockname: %s\n", PROG, strerror(errno));
				return 2;
			}
			cfg.addr.sin_port = bound.sin_port;
		}
	}
	stop_watch.io.fn = on_stop_signal;
	stop_watch.io.fd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
	if (stop_watch.io.fd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", PROG, strerror(errno));
		return 2;
	}
	stop_watch.loop = &workers[0]->loop;
	stop_watch.workers = workers;
	stop_watch.n = cfg.workers;
	if (loop_watch(&workers[0]->loop, &stop_watch.io, EPOLLIN) < 0)
		return 2;
	for (int i = 1; i < cfg.workers; i++) {
		int rc = pthread_create(&workers[i]->thread, NULL, worker_run, workers[i]);
		if (rc != 0) {
			fprintf(stderr, "%s: pthread_create: %s\n", PROG, strerror(rc));
			return 2;
		}
	}
	if (cfg.db != NULL)
		fprintf(stderr, "%s: backend postgres: pool %ld per worker x %d, query timeout %ld ms, "
			"db '%s'\n", PROG, cfg.pool, cfg.workers, cfg.query_timeout_ms, db);
	inet_ntop(AF_INET, &cfg.addr.sin_addr, host, sizeof host);
	printf("listening on http://%s:%d\n", host, ntohs(cfg.addr.sin_port));
	fflush(stdout);

	worker_run(workers[0]); /* returns once drained */
	for (int i = 1; i < cfg.workers; i++)
		pthread_join(workers[i]->thread, NULL);
	for (int i = 0; i < cfg.workers; i++)
		free(workers[i]);
	return 0;
}
