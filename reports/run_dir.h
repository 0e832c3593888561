/*
 * run_dir — one run folder of `make compare`, read whole: run.env, then per
 * scenario NN-NAME/ its scenario.env and the load generator's files
 * (load_stats.csv, load_stats_history.csv, load_failures.csv, load.json when
 * bin/load wrote it). Real Locust 2.x files are accepted with their known flaws:
 * stats.csv may lag the end of the run (the history's last row then wins when it
 * counted more), the last history rows may be missing, failures.csv may carry
 * First Seen / Last Seen.
 *
 * run_dir_load returns 0, or -1 with "FILE:LINE: what" in err; nothing is kept
 * on failure.
 */
#ifndef RUN_DIR_H
#define RUN_DIR_H

#include <stddef.h>

#include "locust.h"
#include "model.h"
#include "routes.h"

#define RUN_DIR_MAX_SCENARIOS 64

struct history_point {
	double t_s;         /* since the first history row */
	double users;
	double rps, fps;
	double p50, p95, p99; /* NAN when Locust wrote N/A */
	double total_reqs;
};

struct measured {
	struct locust_row row;     /* the Aggregated figures, as the report prints them */
	struct history_point *hist;
	size_t nhist;
	struct locust_error *errors;
	size_t nerrors;
	int from_history;          /* stats.csv lagged: totals from the last history row */
	int from_console;          /* ... or from console.txt's final tables */
	long unfinished, sent;     /* from load.json; -1 when unknown */
};

struct scenario {
	char dir[1024];           /* RUN_DIR/NN-NAME */
	char name[256];           /* NN-NAME */
	const struct route *route;
	char world[16];
	int users, threads, helpers, workers, sweep;
	/* BACKEND=postgres: POOL, QUERY_RTT_MS, MAX_CONNECTIONS and PostgreSQL's
	 * CPU per query for the model (pool 0: sleep): pg_cpu_ms is
	 * PG_CPU_BUSY_MS (read with the load's own backends at work, PG_BUSY of
	 * them) when the run has it, else PG_CPU_MS (8 connections), which
	 * pg_cpu_calibrated_ms keeps either way */
	int pool, max_connections, pg_busy;
	double query_ms, pg_cpu_ms, pg_cpu_calibrated_ms;
	/* PG_BUSY_OTHERS: the cores neither the server nor the cluster took in
	 * the rehearsal that read PG_CPU_BUSY_MS (the load generator, the harness,
	 * the kernel's threads); -1 unknown */
	double pg_busy_others;
	double pg_cpu_loaded_ms;  /* PG_CPU_LOADED_MS: the same CPU per query in the
				   * run itself, not the model's input; -1 unknown */
	double pg_query_ms;       /* PG_QUERY_MS: a query's time by PostgreSQL's own
				   * clock in the run (its sleep, and how late its
				   * backend woke and ran); -1 unknown */
	double pg_query_seen_ms;  /* PG_QUERY_SEEN_MS: the same queries timed by the
				   * server, from sent to their row in (PostgreSQL's
				   * time, the wire both ways, each side's wake-up);
				   * -1 unknown */
	int pg_cpu_group;         /* the run's PG_CPU_GROUP: 1 the cluster in a CPU
				   * group of its own, 0 none, -1 unknown (older) */
	double spawn_rate, run_time_s, task_ms, wait_min_s, wait_max_s;
	/* measured by the harness (load/harness/measure.py); absent in older runs */
	char target[16];          /* TARGET: c or fastapi ("" = c) */
	int split[MODEL_SPLIT_MAX]; /* SPLIT: users per worker process, summing to users */
	int nsplit;               /* 0: not measured (one queue) */
	enum model_order order;   /* ORDER */
	int order_measured;
	double server_cpu_ms;     /* SERVER_CPU_MS; -1 when not measured */
	double held_cpu_ms;       /* SERVER_CPU_HELD_MS; -1 when not measured */
	double keepalive_ms;      /* KEEPALIVE_MS: a ?ms=0 round trip on a kept-alive
				   * connection, alone; -1 when not measured */
	double keepalive_first_ms; /* KEEPALIVE_FIRST_MS: the same, a fresh connection's
				   * first answer; -1 when not measured */
	/* WAVE_MS: per worker process, its wave of thread starts (model.h) */
	double wave_ms[MODEL_SPLIT_MAX][MODEL_WAVE_POINTS];
	int nwave_procs, nwave;   /* 0: not measured */
	/* GC_PAUSES_PER_S per worker process and GC_PAUSE_MS (model.h stall_*) */
	double stall_per_s[MODEL_SPLIT_MAX], stall_ms[MODEL_WAVE_POINTS];
	int nstall_procs, nstall; /* 0: not measured */
	int cores, offload_threads;  /* CORES, OFFLOAD_THREADS */
	double task_cpu_ms;          /* TASK_CPU_MS: a CPU route's work per task */
	double load_cpu_s;           /* LOAD_CPU_S: the load generator's CPU; -1 unknown */
	double rss_kb, server_threads; /* SERVER_RSS_KB, SERVER_THREADS under load; -1 */
	double cores_free;           /* CORES - OTHER_CPU_S / WINDOW_S; -1 unknown */
	double lateness_ms;          /* evented: mean lateness of a task's timer from its
	                              * /metrics (metrics.txt); -1 none */
	struct measured m;
};

struct run_dir {
	char path[512];
	char profile[32], load[32], cpus[16], kernel[128], started[64], git[64];
	/* BACKEND=postgres: PG_VERSION, MAX_CONNECTIONS and PG_CPU_GROUP (the
	 * cgroup pg_cluster.sh put the cluster in for the CPU, "none", or "" in
	 * a run older than it); all "" under sleeps */
	char backend[16], pg_version[32], max_connections[16], pg_cpu_group[256];
	struct scenario sc[RUN_DIR_MAX_SCENARIOS];
	size_t n;
};

int run_dir_load(struct run_dir *rd, const char *path, char *err, size_t cap);
void run_dir_free(struct run_dir *rd);

#endif
