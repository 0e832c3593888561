/*
 * worker — bin/load as a worker of a Locust 2.x master (bin/load --worker),
 * over ZeroMQ (a DEALER socket whose identity is the node id, as Locust's
 * rpc.Client) with the messages of locust_msg.h.
 *
 * The life of a worker, as Locust 2.12.1's WorkerRunner lives it:
 *   - "client_ready" (resent every 5 s until the master's "ack"), then a
 *     "heartbeat" every second with the state (ready, spawning, running), the
 *     process's CPU percent and resident memory;
 *   - "spawn": "spawning", then the users each class should have now, at once (the
 *     master paces the ramp), then "spawning_complete"; the first spawn of a test
 *     starts a runner against the spawn's host, with the route table's classes;
 *   - "stop": users stopped, "client_stopped", then "client_ready" again;
 *   - "quit": users stopped, a last report, "quit"; "reconnect": a new socket;
 *   - "stats" every 3 s (WORKER_REPORT_INTERVAL) with what happened since the
 *     last one: per entry and in total, Locust's rounded response times and
 *     per-second counts, and the errors keyed as Locust keys them;
 *   - "exception" for what a Python worker would raise: a user class the route
 *     table lacks, no host, more users than --max-users.
 *
 * The master of 2.12.1 sends no heartbeats, so a worker hears it through the
 * connection itself: ZeroMQ's ZMTP heartbeats (PING every second, the link
 * dropped after 3 s without an answer, Locust's HEARTBEAT_LIVENESS beats; the
 * link is up again only when a ZMTP handshake completes, since a frozen master's
 * kernel still accepts TCP connections). When the link is down for
 * `master_timeout_s` (Locust's 60 s by default), the worker stops its users and
 * exits 1. Before the first ack, as Locust's worker: client_ready every 5 s, 60
 * times, then exit 1.
 */
#ifndef WORKER_H
#define WORKER_H

#include <signal.h>

#define WORKER_DEFAULT_PORT 5557    /* Locust's --master-port */
#define WORKER_DEFAULT_TIMEOUT_S 60 /* runners.py HEARTBEAT_DEAD_INTERNAL */
#define WORKER_DEFAULT_MAX_USERS 10000

struct worker_opts {
	const char *master_host;    /* Locust's --master-host (default 127.0.0.1) */
	int master_port;
	double master_timeout_s;
	long max_users;             /* users this process can run at once */
	int threads;
	double wait_min_s, wait_max_s; /* think time, as standalone --wait-time */
	double timeout_s;           /* per request; 0: none */
};

/*
 * Runs until the master says quit or *stopping is set (0), the master is lost
 * (1), or setup fails or the master speaks another protocol (2); every exit
 * path has printed its reason on stderr. At the end one line on stdout gives the
 * worker's own books: "worker: N requests, N failures reported; N unfinished at stop".
 */
int worker_run(const struct worker_opts *o, volatile sig_atomic_t *stopping);

#endif
