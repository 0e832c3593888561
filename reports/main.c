/*
 * bin/report — measured beside predicted.
 *
 *   bin/report RUN_DIR            read a run folder, write REPORT.md, report.html,
 *                                 summary.txt into it, print the summary
 *   bin/report --predict [CLASS]  print what the load tests would show, running
 *                                 nothing (`make predict`)
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "prediction.h"
#include "report.h"
#include "routes.h"

static const char *prog = "report";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bin/report [options] RUN_DIR\n"
		"       bin/report --predict [options] [CLASS...]\n"
		"\n"
		"RUN_DIR (a folder written by `make compare`): reads run.env and each\n"
		"NN-NAME/ (scenario.env, load_stats.csv, load_stats_history.csv,\n"
		"load_failures.csv, load.json when present; bin/load's or real Locust 2.x's),\n"
		"writes RUN_DIR/REPORT.md, RUN_DIR/report.html (SVG charts inline) and\n"
		"RUN_DIR/summary.txt, and prints the summary: measured beside predicted.\n"
		"\n"
		"--predict: runs nothing; prints, per user class (default: every route), the\n"
		"Locust tables the load test should end with, from the model, and the closed\n"
		"form X = min(N/(S+Z), C/S), R = N/X - Z with the bound that binds.\n"
		"\n"
		"model options (--predict; a run folder's scenario.env sets its own, but\n"
		"--overhead-ms applies to a run folder's predictions too):\n"
		"  --users N          Locust -u                                 [500]\n"
		"  --spawn-rate R     Locust -r, users per second                [50]\n"
		"  --run-time S       Locust -t in seconds, ramp-up included     [300]\n"
		"  --task-ms MS       one slow task                              [5000]\n"
		"  --threads N        bin/blocking worker threads                [80]\n"
		"  --helpers N        bin/blocking fan-out helper pool           [3 x threads]\n"
		"  --workers N        bin/evented workers                        [2]\n"
		"  --task-cpu-ms MS   a CPU route's work per task                [10]\n"
		"  --cores N          CPUs the server can use                    [2]\n"
		"  --other-cores X    of them, what other processes took while it ran\n"
		"                     (a run's OTHER_CPU_S / WINDOW_S)           [0]\n"
		"  --offload-threads N  bin/evented offload pool per worker      [2]\n"
		"  --wait MIN[-MAX]   wait time between a user's requests, s     [0]\n"
		"  --overhead-ms MS   per-request cost beside the tasks          [0]\n"
		"  --seed N           draw waits from a seeded RNG, 0: each the mean\n"
		"                     [1 where --wait is a range, as the report; else 0]\n"
		"  --split A,B,...    users per worker process, summing to --users:\n"
		"                     threads (helpers, workers) divided evenly\n"
		"                     among the processes, a queue each  [one queue]\n"
		"  --order O          fifo, lifo (anyio's thread limiter) or random:\n"
		"                     the order a process serves its waiters  [fifo]\n"
		"  --pool N           --backend postgres: connections (blocking: in all;\n"
		"                     evented: per worker)        [0: never binds]\n"
		"  --query-ms MS      one query's round trip, added to each task   [0]\n"
		"  --max-connections N  PostgreSQL's cap on every connection  [0: none]\n"
		"  --pg-cpu-ms MS     PostgreSQL's CPU per query, on the same cores\n"
		"                     (PG_CPU_MS)                                  [0]\n"
		"  --target T         c, or fastapi: the original stack, whose worker's own\n"
		"                     CPU runs one request at a time (the GIL)     [c]\n"
		"  --server-cpu-ms MS the server's CPU per request (SERVER_CPU_MS)\n"
		"                                                  [the route's own]\n"
		"  --answer-ms MS     what the connection adds to each answer after the\n"
		"                     server is done (KEEPALIVE_MS - SERVER_CPU_MS)  [0]\n"
		"  --wave MS,.../MS,...  per worker process (one list per --split entry):\n"
		"                     when its threads first start after the users arrive\n"
		"                     at once, offsets at evenly spaced ranks (WAVE_MS;\n"
		"                     0,D: evenly over D ms)              [all together]\n"
		"  --stalls N,...     per worker process, its pauses a second (GC_PAUSES_PER_S)\n"
		"  --stall-ms MS,...  the pauses' lengths at evenly spaced ranks, 2 to 11\n"
		"                     points (GC_PAUSE_MS): a process stops whole   [none]\n"
		"  --first-answer-ms MS,...  what the connection adds to each of a user's\n"
		"                     first answers instead of --answer-ms\n"
		"                     (KEEPALIVE_FIRST_MS - SERVER_CPU_MS)  [none]\n"

		"  --help             this text\n"
		"\n"
		"Exit: 0 ok, 2 bad usage or unreadable input (the message names the file and\n"
		"line; nothing is written then).\n");
}

static double parse_double(const char *flag, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !(v >= lo && v <= hi))
		cli_die_usage(prog, "%s: expected a number in [%g, %g], found \"%s\"", flag, lo,
			      hi, s);
	return v;
}

static int parse_int(const char *flag, const char *s, long lo, long hi)
{
	long v;
	if (cli_parse_long(s, lo, hi, &v) < 0)
		cli_die_usage(prog, "%s: expected a whole number in [%ld, %ld], found \"%s\"",
			      flag, lo, hi, s);
	return (int)v;
}

static void parse_wait(const char *s, double *lo, double *hi)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	char *dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	*lo = parse_double("--wait", buf, 0, 3600);
	*hi = dash ? parse_double("--wait", dash + 1, 0, 3600) : *lo;
	if (*hi < *lo)
		cli_die_usage(prog, "--wait: MAX %g is below MIN %g", *hi, *lo);
}

static int predict(const struct model_scenario *base, char **classes, int n)
{
	int rc = 0;
	for (size_t i = 0; i < (n ? (size_t)n : routes_count); i++) {
		struct model_scenario sc = *base;
		struct prediction p;
		sc.route = n ? routes_find_class(classes[i]) : &routes[i];
		if (prediction_make(&p, &sc) < 0) {
			fprintf(stderr, "%s: model of %s: %s\n", prog, sc.route->user_class,
				strerror(errno));
			rc = 2;
			continue;
		}
		prediction_print(stdout, &p);
		prediction_free(&p);
	}
	return fflush(stdout) == 0 ? rc : 2;
}

int main(int argc, char **argv)
{
	enum { O_PREDICT = 256, O_USERS, O_RATE, O_TIME, O_TASK, O_THREADS, O_HELPERS,
	       O_WORKERS, O_WAIT, O_OVERHEAD, O_SEED, O_SPLIT, O_ORDER, O_CPU, O_CORES, O_OTHER_CORES, O_OFFLOAD,
	       O_POOL, O_QUERY_MS, O_MAX_CONNS, O_PG_CPU, O_TARGET, O_SERVER_CPU, O_ANSWER, O_WAVE,
	       O_FIRST_ANSWER, O_STALLS, O_STALL_MS, O_HELP };
	static const struct option opts[] = {
		{ "predict", no_argument, NULL, O_PREDICT },
		{ "users", required_argument, NULL, O_USERS },
		{ "spawn-rate", required_argument, NULL, O_RATE },
		{ "run-time", required_argument, NULL, O_TIME },
		{ "task-ms", required_argument, NULL, O_TASK },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "helpers", required_argument, NULL, O_HELPERS },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "wait", required_argument, NULL, O_WAIT },
		{ "overhead-ms", required_argument, NULL, O_OVERHEAD },
		{ "seed", required_argument, NULL, O_SEED },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "order", required_argument, NULL, O_ORDER },
		{ "task-cpu-ms", required_argument, NULL, O_CPU },
		{ "cores", required_argument, NULL, O_CORES },
		{ "other-cores", required_argument, NULL, O_OTHER_CORES },
		{ "offload-threads", required_argument, NULL, O_OFFLOAD },
		{ "pool", required_argument, NULL, O_POOL },
		{ "query-ms", required_argument, NULL, O_QUERY_MS },
		{ "max-connections", required_argument, NULL, O_MAX_CONNS },
		{ "pg-cpu-ms", required_argument, NULL, O_PG_CPU },
		{ "target", required_argument, NULL, O_TARGET },
		{ "server-cpu-ms", required_argument, NULL, O_SERVER_CPU },
		{ "answer-ms", required_argument, NULL, O_ANSWER },
		{ "wave", required_argument, NULL, O_WAVE },
		{ "first-answer-ms", required_argument, NULL, O_FIRST_ANSWER },
		{ "stalls", required_argument, NULL, O_STALLS },
		{ "stall-ms", required_argument, NULL, O_STALL_MS },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	struct model_scenario sc;
	int do_predict = 0, helpers_set = 0, seed_set = 0, nwave = 0, nstalls = 0, c;

	model_scenario_init(&sc, &routes[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_PREDICT: do_predict = 1; break;
		case O_USERS: sc.users = parse_int("--users", optarg, 1, 1000000); break;
		case O_RATE: sc.spawn_rate = parse_double("--spawn-rate", optarg, 0.001, 1e6); break;
		case O_TIME: sc.run_time_s = parse_double("--run-time", optarg, 0.001, 86400); break;
		case O_TASK: sc.task_ms = parse_double("--task-ms", optarg, 0, ROUTE_MS_MAX); break;
		case O_THREADS: sc.threads = parse_int("--threads", optarg, 1, 100000); break;
		case O_HELPERS:
			sc.helpers = parse_int("--helpers", optarg, 0, 1000000);
			helpers_set = 1;
			break;
		case O_WORKERS: sc.workers = parse_int("--workers", optarg, 1, 1024); break;
		case O_WAIT: parse_wait(optarg, &sc.wait_min_s, &sc.wait_max_s); break;
		case O_OVERHEAD: sc.overhead_ms = parse_double("--overhead-ms", optarg, 0, 1e6); break;
		case O_SEED:
			sc.seed = (unsigned)parse_int("--seed", optarg, 0, 2147483647);
			seed_set = 1;
			break;
		case O_SPLIT:
			if (model_split_parse(optarg, &sc) < 0)
				cli_die_usage(prog, "--split: expected users per process as "
					      "A,B,... (at most %d whole numbers), found \"%s\"",
					      MODEL_SPLIT_MAX, optarg);
			break;
		case O_ORDER:
			if (model_order_parse(optarg, &sc.order) < 0)
				cli_die_usage(prog, "--order: expected fifo, lifo or random, "
					      "found \"%s\"", optarg);
			break;
		case O_CPU: sc.cpu_ms = parse_double("--task-cpu-ms", optarg, 0, ROUTE_CPU_MS_MAX); break;
		case O_CORES: sc.cores = parse_int("--cores", optarg, 1, 4096); break;
		case O_OTHER_CORES: sc.other_cores = parse_double("--other-cores", optarg, 0, 4096); break;
		case O_OFFLOAD: sc.offload_threads = parse_int("--offload-threads", optarg, 1, 4096); break;
		case O_POOL: sc.pool = parse_int("--pool", optarg, 0, 1000000); break;
		case O_QUERY_MS: sc.query_ms = parse_double("--query-ms", optarg, 0, 1e6); break;
		case O_MAX_CONNS:
			sc.max_connections = parse_int("--max-connections", optarg, 0, 1000000);
			break;
		case O_PG_CPU: sc.pg_cpu_ms = parse_double("--pg-cpu-ms", optarg, 0, 1e6); break;
		case O_TARGET:
			if (strcmp(optarg, "c") != 0 && strcmp(optarg, "fastapi") != 0)
				cli_die_usage(prog, "--target: expected c or fastapi, found \"%s\"",
					      optarg);
			sc.serial_cpu = strcmp(optarg, "fastapi") == 0;
			break;
		case O_SERVER_CPU:
			sc.server_cpu_ms = parse_double("--server-cpu-ms", optarg, 0, 1e6);
			break;
		case O_ANSWER: sc.answer_ms = parse_double("--answer-ms", optarg, 0, 1e6); break;
		case O_WAVE:
			if ((nwave = model_wave_parse(optarg, &sc)) < 0)
				cli_die_usage(prog, "--wave: expected per worker process 2 to %d "
					      "offsets in ms, rising, as A,B,.../C,D,..., as many "
					      "each, found \"%s\"", MODEL_WAVE_POINTS, optarg);
			break;
		case O_STALLS:
			if ((nstalls = model_stall_rate_parse(optarg, &sc)) < 0)
				cli_die_usage(prog, "--stalls: expected pauses a second per worker "
					      "process as A,B,... (numbers >= 0), found \"%s\"", optarg);
			break;
		case O_STALL_MS:
			if (model_stall_ms_parse(optarg, &sc) < 0)
				cli_die_usage(prog, "--stall-ms: expected 2 to %d lengths in ms, rising, "
					      "as A,B,..., found \"%s\"", MODEL_WAVE_POINTS, optarg);
			break;
		case O_FIRST_ANSWER:
			if (model_first_answer_parse(optarg, &sc) < 0)
				cli_die_usage(prog, "--first-answer-ms: expected ms per answer as "
					      "A,B,... (at most %d numbers >= 0), found \"%s\"",
					      MODEL_FIRST_MAX, optarg);
			break;
		case O_HELP: usage(stdout); return 0;
		default:
			cli_die_usage(prog, "unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (!helpers_set)
		sc.helpers = 3 * sc.threads; /* as bin/blocking: never binds by default */
	if (!seed_set)
		sc.seed = model_default_seed(&sc);
	if (sc.nsplit > 1) {
		long sum = 0;
		for (int i = 0; i < sc.nsplit; i++)
			sum += sc.split[i];
		if (sum != sc.users)
			cli_die_usage(prog, "--split: the processes' users sum to %ld, not --users %d",
				      sum, sc.users);
	}
	if (nwave > 0 && nwave != (sc.nsplit > 1 ? sc.nsplit : 1))
		cli_die_usage(prog, "--wave: %d list%s for %d worker process%s (one per --split "
			      "entry, or one without --split)", nwave, nwave == 1 ? "" : "s",
			      sc.nsplit > 1 ? sc.nsplit : 1, sc.nsplit > 1 ? "es" : "");
	if (nstalls > 0 && nstalls != (sc.nsplit > 1 ? sc.nsplit : 1))
		cli_die_usage(prog, "--stalls: %d rate%s for %d worker process%s (one per --split "
			      "entry, or one without --split)", nstalls, nstalls == 1 ? "" : "s",
			      sc.nsplit > 1 ? sc.nsplit : 1, sc.nsplit > 1 ? "es" : "");
	if ((nstalls > 0) != (sc.nstall > 0))
		cli_die_usage(prog, "--stalls and --stall-ms go together");
	if (do_predict) {
		for (int i = optind; i < argc; i++)
			if (!routes_find_class(argv[i]))
				cli_die_usage(prog, "unknown user class \"%s\"", argv[i]);
		return predict(&sc, argv + optind, argc - optind);
	}
	if (argc - optind != 1)
		cli_die_usage(prog, "expected one RUN_DIR, found %d arguments", argc - optind);
	return report_run(argv[optind], sc.overhead_ms, stdout);
}
