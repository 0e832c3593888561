/*
 * bin/load — a load generator with Locust's command line, semantics and output
 * formats, driven by one epoll loop per thread (see runner.h and output.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"
#include "routes.h"
#include "runner.h"
#include "worker.h"

static const char *prog = "bin/load";

static void usage(FILE *f)
{
	fprintf(f,
"usage: bin/load [--headless] -u USERS -r RATE -t TIME -H http://HOST:PORT [options] CLASS...\n"
"       bin/load --worker [--master-host H] [--master-port P] [options]\n"
"\n"
"Locust's command line and output formats, without its speed limit. Each user owns\n"
"one keep-alive connection: send, read the whole response, wait, repeat (a closed\n"
"system, as Locust). CLASS is a user class of the route table (see --list); several\n"
"are spread evenly over the users.\n"
"\n"
"  -u, --users N          peak number of users (default 1)\n"
"  -r, --spawn-rate R     users started per second, in Locust's batches (default 1)\n"
"  -t, --run-time T       20, 20s, 3m, 1h20m; counted from the start, ramp-up\n"
"                         included (default: until Ctrl-C)\n"
"  -H, --host URL         http://HOST[:PORT] (IPv4 or localhost)\n"
"      --path P           request P (with any ?query) instead of the classes' paths\n"
"      --wait-time MIN[-MAX]  seconds each user waits between requests, uniform in\n"
"                         [MIN, MAX] (default 0, as Locust's default)\n"
"      --rate R           open model: R requests per second on a fixed schedule,\n"
"                         taken by a pool of -u connections; latency counts from\n"
"                         each request's intended time (coordinated omission\n"
"                         corrected, as wrk2), service time is reported beside it\n"
"      --timeout S        fail a request after S seconds (default none, as HttpUser)\n"
"      --threads N        worker threads, one epoll loop each (default: CPUs)\n"
"      --csv PREFIX       write PREFIX_stats.csv, PREFIX_stats_history.csv,\n"
"                         PREFIX_failures.csv, PREFIX_exceptions.csv as Locust 2.x\n"
"      --csv-full-history every name's row in the history, not only Aggregated\n"
"      --json FILE        exact figures: µs percentiles, counts, per-second series\n"
"      --headless         accepted for Locust compatibility (always headless)\n"
"      --worker           be a worker of a Locust 2.x master (ZeroMQ + msgpack):\n"
"                         the master gives users, classes and host; the worker\n"
"                         reports every 3 s (-u -r -t -H are the master's)\n"
"      --master-host H    the master's address (default 127.0.0.1)\n"
"      --master-port P    the master's port (default 5557)\n"
"      --master-timeout S exit 1 when the link to the master is down for S seconds\n"
"                         (default 60); the first ack is awaited 60 x 5 s, as Locust\n"
"      --max-users N      users one worker can run at once (default 10000)\n"
"  -l, --list             print the user classes and exit\n"
"      --routes           print the route table as TSV: CLASS PATH WORLD PLAN TASKS CPU\n"
"  -h, --help             this text\n"
"\n"
"Console: a progress line every 2 s, then Locust's stats, percentile and error\n"
"tables on stderr. Requests sent = answered + failed + unfinished at stop.\n"
"Exit status: 0 no request failed, 1 some failed, 2 bad usage or setup.\n"
"As a worker: 0 the master said quit (or Ctrl-C), 1 the master was lost, 2 bad\n"
"usage, setup, or a master of another protocol.\n");
}

/* Locust's time spans: "20" (seconds), or any of NhNmNs in that order. */
static int parse_timespan(const char *s, double *out)
{
	long v, total = 0;
	int seen = 0, last_unit = -1;
	const char *units = "hms";
	static const long mult[] = { 3600, 60, 1 };

	if (cli_parse_long(s, 0, 100000000, &v) == 0) {
		*out = (double)v;
		return 0;
	}
	while (*s) {
		const char *u;
		char *end;
		if (*s < '0' || *s > '9')
			return -1;
		v = strtol(s, &end, 10);
		u = strchr(units, *end);
		if (*end == '\0' || u == NULL || (int)(u - units) <= last_unit)
			return -1;
		last_unit = (int)(u - units);
		total += v * mult[last_unit];
		seen = 1;
		s = end + 1;
	}
	if (!seen)
		return -1;
	*out = (double)total;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;
	if (s == NULL || *s == '\0' || *s == ' ')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int parse_wait(const char *s, double *lo, double *hi)
{
	char buf[64], *dash;
	snprintf(buf, sizeof buf, "%s", s);
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash = '\0';
	if (parse_double(buf, 0, 86400, lo) < 0)
		return -1;
	if (dash == NULL) {
		*hi = *lo;
		return 0;
	}
	return parse_double(dash + 1, *lo, 86400, hi);
}

/* A user holds a socket: lift the soft descriptor limit to the hard one. */
static void raise_fd_limit(long users)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)users + 64 > rl.rlim_cur)
		fprintf(stderr, "%s: warning: %ld users but only %llu file descriptors "
			"(ulimit -n); expect OSError(24, 'Too many open files') failures\n",
			prog, users, (unsigned long long)rl.rlim_cur);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct runner *the_runner;
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (the_runner != NULL)
		runner_stop(the_runner);
}

/* Sleeps until monotonic time `at`; returns early when a signal asks to stop. */
static void sleep_until(int64_t at)
{
	struct timespec ts = { (time_t)(at / 1000000000LL), (long)(at % 1000000000LL) };
	while (!stopping && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	enum { O_PATH = 1000, O_WAIT, O_CSV, O_FULL, O_JSON, O_THREADS, O_TIMEOUT, O_RATE,
	       O_HEADLESS, O_ROUTES, O_WORKER, O_MHOST, O_MPORT, O_MTIMEOUT, O_MAXUSERS };
	static const struct option opts[] = {
		{ "users", required_argument, NULL, 'u' },
		{ "spawn-rate", required_argument, NULL, 'r' },
		{ "run-time", required_argument, NULL, 't' },
		{ "host", required_argument, NULL, 'H' },
		{ "path", required_argument, NULL, O_PATH },
		{ "wait-time", required_argument, NULL, O_WAIT },
		{ "csv", required_argument, NULL, O_CSV },
		{ "csv-full-history", no_argument, NULL, O_FULL },
		{ "json", required_argument, NULL, O_JSON },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "rate", required_argument, NULL, O_RATE },
		{ "headless", no_argument, NULL, O_HEADLESS },
		{ "worker", no_argument, NULL, O_WORKER },
		{ "master-host", required_argument, NULL, O_MHOST },
		{ "master-port", required_argument, NULL, O_MPORT },
		{ "master-timeout", required_argument, NULL, O_MTIMEOUT },
		{ "max-users", required_argument, NULL, O_MAXUSERS },
		{ "list", no_argument, NULL, 'l' },
		{ "routes", no_argument, NULL, O_ROUTES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct load_config c;
	struct output_opts oo = { 0 };
	struct worker_opts wo = { "127.0.0.1", WORKER_DEFAULT_PORT, WORKER_DEFAULT_TIMEOUT_S,
				  WORKER_DEFAULT_MAX_USERS, 1, 0, 0, 0 };
	int worker = 0;
	const char *host = NULL, *path = NULL;
	struct output *out = NULL;
	struct run_stats *snap = NULL;
	struct sigaction sa;
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	int opt, rc = 2;
	int64_t start, end;
	long t, final_t;

	c.users = 1;
	c.spawn_rate = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":u:r:t:H:lh", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			if (cli_parse_long(optarg, 1, 1000000, &c.users) < 0)
				cli_die_usage(prog, "-u/--users must be an integer from 1 to 1000000");
			break;
		case 'r':
			if (parse_double(optarg, 1e-6, 1e9, &c.spawn_rate) < 0)
				cli_die_usage(prog, "-r/--spawn-rate must be a number above 0");
			break;
		case 't':
			if (parse_timespan(optarg, &c.run_time_s) < 0 || c.run_time_s <= 0)
				cli_die_usage(prog, "-t/--run-time must be like 20, 20s, 3m or 1h20m");
			break;
		case 'H': host = optarg; break;
		case O_PATH:
			if (optarg[0] != '/')
				cli_die_usage(prog, "--path must start with /");
			path = optarg;
			break;
		case O_WAIT:
			if (parse_wait(optarg, &c.wait_min_s, &c.wait_max_s) < 0)
				cli_die_usage(prog, "--wait-time must be MIN or MIN-MAX seconds, MIN <= MAX");
			break;
		case O_CSV: oo.csv_prefix = optarg; break;
		case O_FULL: oo.full_history = 1; break;
		case O_JSON: oo.json_path = optarg; break;
		case O_THREADS:
			if (cli_parse_long(optarg, 1, 1024, &threads) < 0)
				cli_die_usage(prog, "--threads must be an integer from 1 to 1024");
			break;
		case O_TIMEOUT:
			if (parse_double(optarg, 1e-3, 86400, &c.timeout_s) < 0)
				cli_die_usage(prog, "--timeout must be seconds above 0");
			break;
		case O_RATE:
			if (parse_double(optarg, 1e-3, 1e8, &c.rate) < 0)
				cli_die_usage(prog, "--rate must be requests per second above 0");
			break;
		case O_HEADLESS: break;
		case O_WORKER: worker = 1; break;
		case O_MHOST: wo.master_host = optarg; break;
		case O_MPORT: {
			long port;
			if (cli_parse_long(optarg, 1, 65535, &port) < 0)
				cli_die_usage(prog, "--master-port must be a port from 1 to 65535");
			wo.master_port = (int)port;
			break;
		}
		case O_MTIMEOUT:
			if (parse_double(optarg, 0.1, 86400, &wo.master_timeout_s) < 0)
				cli_die_usage(prog, "--master-timeout must be seconds from 0.1 to 86400");
			break;
		case O_MAXUSERS:
			if (cli_parse_long(optarg, 1, 1000000, &wo.max_users) < 0)
				cli_die_usage(prog, "--max-users must be an integer from 1 to 1000000");
			break;
		case 'l':
			for (size_t i = 0; i < routes_count; i++)
				printf("%s\n", routes[i].user_class);
			return 0;
		case O_ROUTES:
			for (size_t i = 0; i < routes_count; i++)
				printf("%s\t%s\t%s\t%s\t%d\t%s\n", routes[i].user_class, routes[i].path,
				       route_world_name(routes[i].world),
				       route_plan_name(routes[i].plan), routes[i].tasks,
				       route_cpu_name(routes[i].cpu));
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			cli_die_usage(prog, "%s needs a value", argv[optind - 1]);
		default:
			cli_die_usage(prog, "unknown option %s", argv[optind - 1]);
		}
	}
	if (worker) {
		if (optind != argc)
			cli_die_usage(prog, "--worker takes no CLASS: the master names them");
		if (c.rate > 0 || path != NULL || oo.csv_prefix != NULL || oo.json_path != NULL)
			cli_die_usage(prog, "--worker runs the master's closed model and reports to it: "
				      "no --rate, --path, --csv or --json");
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		raise_fd_limit(wo.max_users);
		wo.threads = (int)(threads < 1 ? 1 : threads);
		wo.wait_min_s = c.wait_min_s;
		wo.wait_max_s = c.wait_max_s;
		wo.timeout_s = c.timeout_s;
		return worker_run(&wo, &stopping);
	}
	if (host == NULL)
		cli_die_usage(prog, "-H/--host http://HOST:PORT is required");
	if (load_config_set_host(&c, host) < 0)
		cli_die_usage(prog, "-H/--host must be http://HOST[:PORT] with an IPv4 HOST: %s", host);
	if (optind == argc && path == NULL)
		cli_die_usage(prog, "name a user class (see --list) or give --path");
	/* Locust hands users to classes round-robin in name order (equal weights) */
	qsort(&argv[optind], (size_t)(argc - optind), sizeof argv[0], by_name);
	oo.classes = (const char *const *)&argv[optind];
	oo.n_classes = argc - optind;
	for (int i = optind; i < argc; i++) {
		const struct route *r = routes_find_class(argv[i]);
		if (r == NULL)
			cli_die_usage(prog, "unknown user class %s (see --list)", argv[i]);
		if (load_config_add_endpoint(&c, path ? path : r->path) < 0)
			cli_die_usage(prog, "too many user classes (at most %d)", RUNNER_MAX_ENDPOINTS);
	}
	if (optind == argc && load_config_add_endpoint(&c, path) < 0)
		cli_die_usage(prog, "--path is too long");
	c.threads = (int)(threads < 1 ? 1 : threads);

	raise_fd_limit(c.users);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	snap = run_stats_new(c.n_ep);
	if (snap == NULL) {
		fprintf(stderr, "%s: calloc: %s\n", prog, strerror(errno));
		return 2;
	}
	oo.cfg = &c;
	oo.wall_start = (long)time(NULL);
	if (runner_start(&the_runner, &c) < 0)
		goto done;
	start = runner_start_ns(the_runner);
	oo.start_ns = start;
	out = output_open(&oo);
	if (out == NULL) {
		runner_stop(the_runner);
		runner_join(the_runner);
		goto done;
	}
	{
		char span[48] = "until Ctrl-C";
		if (c.run_time_s > 0)
			snprintf(span, sizeof span, "for %.0fs", c.run_time_s);
		fprintf(stderr, "%s: %ld users (%.6g/s) against %s %s, %d threads, %s model\n",
			prog, c.users, c.spawn_rate, c.url_base, span, c.threads,
			c.rate > 0 ? "open" : "closed");
	}
	for (t = 0;; t++) {
		sleep_until(start + t * 1000000000LL);
		if (stopping || (c.run_time_s > 0 && (double)t >= c.run_time_s))
			break;
		runner_snapshot(the_runner, snap);
		output_tick(out, snap, t);
	}
	runner_join(the_runner);
	end = mono_ns();
	if (c.run_time_s > 0 && !stopping)
		end = start + (int64_t)(c.run_time_s * 1e9);
	final_t = (long)((end - start + 999999999LL) / 1000000000LL);
	runner_snapshot(the_runner, snap);
	output_tick(out, snap, final_t);
	rc = output_finish(out, snap, end) < 0 ? 2 : 0;
	{
		uint64_t reqs = 0, fails = 0;
		for (int i = 0; i < snap->n_ep; i++) {
			reqs += snap->ep[i].reqs;
			fails += snap->ep[i].fails;
		}
		if (snap->sent != reqs + snap->unfinished) {
			/* the books must balance; if they do not, the numbers cannot be trusted */
			fprintf(stderr, "%s: count conservation broken: sent %llu != %llu + %llu\n",
				prog, (unsigned long long)snap->sent, (unsigned long long)reqs,
				(unsigned long long)snap->unfinished);
			rc = 2;
		} else if (rc == 0 && fails > 0) {
			rc = 1;
		}
	}
	runner_free(the_runner);
done:
	run_stats_free(snap);
	return rc;
}
