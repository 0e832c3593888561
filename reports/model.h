/*
 * model — what a load test of one route should measure, before it runs.
 *
 * One route under a Locust load is a closed queueing network: N users cycle
 * through think time and the server. The server is a list of stations
 * (struct model_network): a delay station for everything that only waits
 * (sleeps, timers, think time), and queueing stations for what a request must
 * share: the CPU (`cores` servers), an event loop that runs CPU work inside it
 * (one server per worker), an offload pool. A passive resource — the blocking
 * server's threads, the loop held by a blocking sleep — may be held through
 * the whole visit (the network's `cap`).
 *
 * Two answers for one scenario:
 *   - model_steady(): exact mean value analysis (MVA) of that network, with the
 *     multi-server stations solved through their marginal probabilities
 *     (Reiser and Lavenberg's recursion). A cap is handled as a flow-equivalent
 *     server (Norton's theorem): the stations are solved alone for 1..cap
 *     requests, and the users then cycle between think time and that one
 *     load-dependent server, whose distribution is computed in closed form
 *     (product form) in log space, because the MVA recursion's p(0) suffers
 *     cancellation at thousands of users. Without CPU work and with no think
 *     time this is the old closed form exactly: X = min(N / S, C / S).
 *     The binding station (users, threads, the loop, the pool or the CPU) is
 *     the one with the lowest throughput bound. Split over processes, each
 *     process is its own network and X is the sum (an idle thread in one
 *     process cannot serve a user queued in another); the cores are shared
 *     by all of them, which separate networks cannot say: each process's
 *     network gets an even share of them, so a split CPU route's steady
 *     state is approximate (the simulation shares them as they are).
 *   With a database (pg_cpu_ms), the cores also serve PostgreSQL's backends:
 *   its CPU per request joins the server's in the station of the cores. What
 *   other processes took of the cores while the server ran (other_cores,
 *   measured) stretches every station on them: the server had the rest.
 *   - model_simulate(): the whole run as a discrete-event simulation of the
 *     same network — users spawned as Locust spawns them, a queue for the
 *     cap's tokens in each worker process (the users split over the processes
 *     as measured, each keeping its process for the whole run as a keep-alive
 *     connection does; served in FIFO, LIFO or random order), each task's wait
 *     and CPU burst in turn. A thread's burst, and PostgreSQL's work for a
 *     query (a job of its own), holds one of the `cores` a kernel time slice
 *     at a time, first come, first served, then goes behind the others
 *     waiting, as the kernel's scheduler runs a runnable thread; an event loop
 *     or an offload pool runs one burst per worker or pool thread to
 *     completion (a FIFO queue of tokens in front of the cores); the bursts
 *     running at once share `cores` less other_cores. It also keeps Locust's
 *     accounting (a request counts only when it completes before the stop —
 *     one due exactly at the stop counts as late, as any real one would be;
 *     req/s = count / time of the last completed request) and sees the ramp-up
 *     transient that the steady state misses. Deterministic, and milliseconds
 *     even for a 5-minute run.
 *
 * Functions returning int return 0 on success and -1 on failure (out of memory,
 * or a scenario that makes no sense), with errno set.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

#include "routes.h"

/* Worker processes a split may name (`SPLIT=a,b,...`). */
#define MODEL_SPLIT_MAX 64

/* Points of a worker's measured wave of thread starts (WAVE_MS). */
#define MODEL_WAVE_POINTS 11

/* A connection's first answers the model may give a wait of their own. */
#define MODEL_FIRST_MAX 8

/* The order in which a worker process serves the requests waiting for it. */
enum model_order {
	MODEL_ORDER_FIFO,   /* first come, first served: bin/blocking, CivetWeb's queue */
	MODEL_ORDER_LIFO,   /* newest waiter first: anyio 3.6's CapacityLimiter wakes the
			     * waiter OrderedDict.popitem() returns, the last one added */
	MODEL_ORDER_RANDOM, /* any waiter, uniformly (seeded) */
};

struct model_scenario {
	const struct route *route;
	double task_ms;       /* one slow task */
	int users;            /* N, Locust's -u */
	double spawn_rate;    /* Locust's -r, users per second */
	double run_time_s;    /* Locust's -t, ramp-up included */
	double wait_min_s;    /* Locust wait_time between(min, max); 0, 0 = constant(0) */
	double wait_max_s;
	int threads;          /* blocking world: worker threads */
	int helpers;          /* blocking world: the fan-out helper pool (<= 0: unbounded) */
	int workers;          /* evented world: event-loop processes */
	double overhead_ms;   /* per-request cost beside the tasks (network, parsing) */
	unsigned seed;        /* 0: every wait is the mean; else a seeded uniform draw */
	int cores;            /* CPUs the server can use: the CPU station's servers */
	double other_cores;   /* of them, what other processes took while the server
			       * ran, measured (OTHER_CPU_S / WINDOW_S: the load
			       * generator, the harness, the rest of the machine): the
			       * kernel shares the cores with them, so the server's CPU
			       * work runs on cores - other_cores (model_cpu_stretch).
			       * 0: the cores are the server's alone */
	double cpu_ms;        /* CPU time of one task on a CPU route (--task-cpu-ms) */
	double wait_ms;       /* a CPU route's wait per task before its CPU (?ms=; 0) */
	double server_cpu_ms; /* measured server CPU per request, route's included
	                       * (SERVER_CPU_MS); < 0: unknown, the route's CPU only */
	double held_cpu_ms;   /* of it, what ran on the thread the request holds
	                       * (SERVER_CPU_HELD_MS: bin/blocking's workers); the
	                       * rest (accepting, helpers) runs beside the held
	                       * threads and holds none. < 0: unknown, all of it held */
	int offload_threads;  /* evented world: offload pool threads per worker */
	/* --backend postgres (all 0 for the sleep backend): a request holds one
	 * connection per task it runs at once, for its whole visit */
	int pool;             /* connections: blocking's one pool, evented's per worker;
			       * 0: large enough never to bind */
	double query_ms;      /* one query's round trip beside its task's time (QUERY_RTT_MS) */
	int max_connections;  /* PostgreSQL's cap on all of them (0: none) */
	double pg_cpu_ms;     /* PostgreSQL's CPU per query (PG_CPU_MS): each backend is
			       * a process on the server's cores, so it queues with the
			       * server's CPU for them (model_database_cpu_ms). 0: none */
	/* Users per worker process, as measured (their sum is users). nsplit <= 1:
	 * one queue for the whole server. Otherwise threads, helpers (blocking) or
	 * workers (evented) are divided evenly among nsplit processes, each with
	 * its own queue; user k goes to the process furthest below its share. */
	int split[MODEL_SPLIT_MAX];
	int nsplit;
	enum model_order order;
	/* 1: the server's own CPU per request (server_cpu_ms beyond the route's)
	 * runs one request at a time in each worker process, in arrival order,
	 * whatever thread the request holds: CPython's GIL, and the event loop
	 * that parses and answers every request of a FastAPI worker, sync routes
	 * included. 0: on the thread that holds the request, the cores shared
	 * among all (C threads). */
	int serial_cpu;
	/* What the connection adds to each answer after the server is done with
	 * it, in ms, measured (KEEPALIVE_MS beyond SERVER_CPU_MS): a wait that
	 * holds no thread and no loop but is in every response time. uvicorn's
	 * workers answer with Nagle's algorithm on, so the body waits for the
	 * client's delayed ACK. 0: none. */
	double answer_ms;
	/* When worker process p's threads first start after the load's users
	 * arrive at once, measured (WAVE_MS; index 0 without a split): the offset
	 * from the wave's first start of the starts at nwave evenly spaced ranks,
	 * first to last (two points 0 and D: evenly over D ms). A FastAPI
	 * worker's loop takes the burst of new connections one at a time and
	 * starts its threads in step with it, so the first wave of starts spreads
	 * over tens of ms, in bunches. Each thread then starts once a service
	 * later for the rest of the run, so every wave keeps that shape, and
	 * under LIFO a user answered early in a wave can come back before the
	 * wave ends and take one of its last threads at once. The simulation
	 * frees the process's thread tokens at those offsets instead of all at
	 * the start. nwave 0: all at once (the C servers). */
	double wave_ms[MODEL_SPLIT_MAX][MODEL_WAVE_POINTS];
	int nwave;
	/* What the connection adds to each of its first nfirst answers instead of
	 * answer_ms, in ms, measured (KEEPALIVE_FIRST_MS beyond SERVER_CPU_MS):
	 * the client's kernel acknowledges a new connection's first answer at
	 * once, and only delays its ACKs once it has sent a request right after
	 * an answer, so a user's first request comes back within milliseconds
	 * and its next one waits the whole answer_ms. Each user keeps one
	 * connection, so its first request gets first_answer_ms[0] and so on.
	 * nfirst 0: every answer waits answer_ms. */
	double first_answer_ms[MODEL_FIRST_MAX];
	int nfirst;
	/* Pauses that stop a whole worker process, measured (GC_PAUSES_PER_S,
	 * GC_PAUSE_MS): CPython's cyclic garbage collector holds the GIL while it
	 * runs, so nothing of that worker moves, neither its loop nor its
	 * threads. stall_per_s[p]: process p's pauses a second (of 1 ms or more;
	 * index 0 without a split); stall_ms: their length at nstall evenly
	 * spaced ranks, shortest to longest, the same for every process. The
	 * simulation draws each process's pauses (seeded: exponential gaps at
	 * that rate, lengths from those points) and holds back whatever of that
	 * process falls due inside one (a request's arrival, the end of a wait
	 * or of a burst) to its end; the answer on the wire is the client's and
	 * goes on. nstall 0: none (the C servers). */
	double stall_per_s[MODEL_SPLIT_MAX];
	double stall_ms[MODEL_WAVE_POINTS];
	int nstall;
};

enum model_station_kind {
	MODEL_DELAY, /* infinite servers: every request in it progresses (waits, timers) */
	MODEL_QUEUE, /* `servers` servers; more requests than that queue */
};

#define MODEL_MAX_STATIONS 6

struct model_station {
	const char *name;     /* "waits", "CPU", "the loop", "the pool" */
	enum model_station_kind kind;
	int servers;          /* MODEL_QUEUE only */
	double demand_ms;     /* D: service one request needs here, all visits summed */
};

struct model_network {
	double think_ms;      /* Z */
	struct model_station st[MODEL_MAX_STATIONS];
	int n;
	int cap;              /* requests inside the stations at once; 0 = no limit */
	double pool_stretch;  /* >= 1: the waits' demand over S, for a pool whose
			       * connections serve a fractional number of requests
			       * (model_pool_requests) as a cap of ceil(c) */
	const char *cap_name; /* what the cap is: "threads", "the loop" */
};

/* Which bound holds the throughput down: the lowest of N/(S+Z), C/S and, per
 * queueing station, servers/D. */
enum model_bound {
	MODEL_BOUND_USERS,    /* too few users to fill the server: R = S */
	MODEL_BOUND_CAPACITY, /* the cap (threads, the sleeping loop) is full */
	MODEL_BOUND_STATION,  /* a queueing station (CPU, the loop, the pool) is full */
};

struct model_steady {
	double service_ms;    /* S, overhead included */
	double think_ms;      /* Z, the mean wait */
	int capacity;         /* C: requests served at once */
	int unbounded;        /* C is not a server limit (timers on an event loop) */
	double x_per_s;       /* X */
	double r_ms;          /* R */
	enum model_bound bound;
	const char *binding;  /* "users", "threads", "the loop", "the pool", "CPU" */
	int pool_binds;       /* C is the connection pool's (or max_connections'), not threads' */
	double cpu_ms;        /* CPU per request the model charges (route + overhead) */
	double util[MODEL_MAX_STATIONS]; /* per station of the network: X D / servers */
	struct model_network net;
	char why[320];        /* one sentence: which bound binds, and why */
};

/* One counted request of the simulated run: when it completed, how long it took. */
struct model_done {
	double at_s;
	double ms;
};

struct model_run {
	long sent;            /* requests sent before the stop */
	long reqs;            /* completed inside the window: Locust's "# reqs" */
	long unfinished;      /* sent but still in flight at the stop (Locust drops them) */
	long users_answered;  /* users with at least one counted request: under LIFO the
			       * rest waited the whole run, which Locust's table never shows */
	double last_done_s;   /* completion time of the last counted request */
	double rps;           /* Locust's total req/s: reqs / last_done_s */
	double *ms;           /* response times of counted requests, ascending; malloc'd */
	struct model_done *done; /* the same requests in the order they completed (the run
	                            over time, for windowed percentiles); malloc'd, reqs long */
	long *done_per_s;     /* completions in each second of the run; malloc'd */
	int *users_per_s;     /* users spawned by the end of each second; malloc'd */
	int seconds;          /* length of the two arrays above: ceil(run_time_s) */
};

/* Service time S of one request in ms: critical-path tasks x (task_ms +
 * query_ms) + overhead, and the CPU. */
double model_service_ms(const struct model_scenario *sc);

/* Capacity C: blocking = threads (fan-out also bounded by helpers / tasks at
 * once); evented = users (timers never hold a server) except the blocking-loop
 * mistake, where each worker serves one request at a time: C = workers.
 * With a pool, C is also at most the connections (blocking: pool; evented:
 * pool x workers; both capped by max_connections) over the connections one
 * request holds at once (model_conns_per_request); *pool_binds (may be NULL)
 * says the pool is what sets C. */
int model_capacity(const struct model_scenario *sc, int *unbounded);
int model_capacity_pool(const struct model_scenario *sc, int *unbounded, int *pool_binds);

/* Requests the pool serves at once, connections / connections per request
 * (fractional: a gathered request's tasks take connections one by one), or
 * INFINITY when no pool is set or the route holds none (the blocking mistake,
 * a CPU route's pure work). */
double model_pool_requests(const struct model_scenario *sc);

/* Connections one request of r holds at once: one per task it runs at once. */
int model_conns_per_request(const struct route *r);

/* 1 when sc's tasks are PostgreSQL queries (--backend postgres: a pool, a
 * round trip or PostgreSQL's CPU set), 0 for the sleep backend. */
int model_has_database(const struct model_scenario *sc);

/* Queries one request sends (one per task; none for a CPU route's pure work)
 * times pg_cpu_ms: the database's CPU per request, in ms, on the cores. */
double model_database_cpu_ms(const struct model_scenario *sc);

/* The time slice Linux gives a runnable process among others before it
 * queues behind them, in ms, on a machine of `cores` CPUs: the scheduler's
 * base slice (EEVDF, 6.6 and later; CFS's minimum granularity before it),
 * 0.75 ms scaled by 1 + log2 of the CPUs, counting at most 8, as its default
 * tunable scaling does: 1.5 ms on 2 CPUs. The simulation runs PostgreSQL's
 * work for a query a slice at a time. */
double model_kernel_slice_ms(int cores);

/* cores / (cores - other_cores): how much longer a ms of the server's CPU
 * work takes where the cores bind, with what other processes took of them
 * (1: nothing measured). Every station on the cores is stretched by it. */
double model_cpu_stretch(const struct model_scenario *sc);

/* The scenario as a network of stations (see the top). Returns 0, or -1
 * (EINVAL) for a scenario with no route. */
int model_network_of(const struct model_scenario *sc, struct model_network *net);

/* Exact MVA of `net` with `users` customers. x (may be NULL) receives X(n) in
 * requests per ms for n = 1..users (x[0] = 0); r_ms the mean time in the
 * stations at `users`. Returns X(users) per ms, or -1 (ENOMEM, EINVAL). */
double model_mva(const struct model_network *net, int users, double *x, double *r_ms);

/* The steady state of the network: MVA, the cap as a flow-equivalent server.
 * Returns 0, or -1 (EINVAL) for a scenario with no users, ENOMEM. */
int model_steady(const struct model_scenario *sc, struct model_steady *out);

/* When Locust has spawned user k (0-based): batches of max(1, floor(r)) users
 * every batch / r seconds, the first batch at 0. */
double model_spawn_time_s(const struct model_scenario *sc, int k);

/* The simulation. On success *out owns memory; release it with model_run_free(). */
int model_simulate(const struct model_scenario *sc, struct model_run *out);
void model_run_free(struct model_run *run);

/* "fifo", "lifo", "random" -> 0 and *out, or -1 (EINVAL); and back. */
int model_order_parse(const char *s, enum model_order *out);
const char *model_order_name(enum model_order o);

/* "a,b,..." (each >= 0, at most MODEL_SPLIT_MAX) into sc->split/nsplit.
 * Returns 0, or -1 (EINVAL) on anything else. */
int model_split_parse(const char *s, struct model_scenario *sc);

/* "a,b,.../c,d,..." into sc->wave_ms: a list of 2..MODEL_WAVE_POINTS
 * offsets (ms, >= 0, non-decreasing) per worker process, every list as long.
 * Returns how many processes, or -1 (EINVAL); sets nwave. */
int model_wave_parse(const char *s, struct model_scenario *sc);

/* "a,b,..." pauses a second per worker process into sc->stall_per_s, and
 * "q0,...,qn" (2..MODEL_WAVE_POINTS lengths in ms, rising) into sc->stall_ms
 * and nstall. Each returns how many, or -1 (EINVAL). */
int model_stall_rate_parse(const char *s, struct model_scenario *sc);
int model_stall_ms_parse(const char *s, struct model_scenario *sc);

/* The same for sc->first_answer_ms (at most MODEL_FIRST_MAX), setting nfirst. */
int model_first_answer_parse(const char *s, struct model_scenario *sc);

/* Capacity of worker process p (0-based) when the scenario is split. */
int model_process_capacity(const struct model_scenario *sc, int p, int *unbounded);

/* Default values of a scenario for a route: the seed experiment's servers. */
void model_scenario_init(struct model_scenario *sc, const struct route *r);

/* The seed the report's simulation and `bin/report --predict` use unless told:
 * 1 where the wait is a range, since Locust draws each wait uniformly from
 * between(min, max) and users whose every wait is the mean stay in the step
 * they were spawned in; 0 (no draw to make) for a constant wait. Fixed, so a
 * run's report reads the same every time. */
unsigned model_default_seed(const struct model_scenario *sc);

#endif
