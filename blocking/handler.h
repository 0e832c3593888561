/*
 * handler — answers every HTTP request the blocking server receives: the route
 * table's WORLD_BLOCKING routes (each request holds its worker thread for the
 * whole plan), /metrics, and JSON errors (400 bad ms, cpu_ms or framing, 404
 * unknown path, 405 method, 431 too many header fields, 503 while draining or
 * when the database is unreachable, 504 a query past --query-timeout).
 *
 * handler_install() returns 0, or -1 (reason printed) if the configuration is
 * unusable. The other calls cannot fail.
 */
#ifndef HANDLER_H
#define HANDLER_H

#include "metrics.h"

struct mg_context;
struct mg_callbacks;
struct helper_pool;
struct db_pool;

struct handler_config {
	long task_ms;                /* a task's duration when the request has no ?ms= */
	long task_cpu_ms;            /* a CPU route's work per task without ?cpu_ms= */
	struct helper_pool *helpers; /* runs PLAN_THREAD_FANOUT tasks */
	struct db_pool *db;          /* each task a query on it; NULL: tasks sleep */
	struct metrics_view view;    /* what /metrics shows besides counters */
};

/* Fills the connection callbacks that count busy worker threads. Before mg_start. */
void handler_callbacks(struct mg_callbacks *cb);

/* Routes every URI of ctx to the handler; cfg must outlive the server. */
int handler_install(struct mg_context *ctx, struct handler_config *cfg);

/* Serves only /metrics on ctx (a second, metrics-only listener). */
void handler_install_metrics(struct mg_context *ctx, struct handler_config *cfg);

/* From now on, new requests (except /metrics) are answered 503; running ones go on. */
void handler_drain_begin(void);

/* Requests admitted to run their plan and not yet answered; after
 * handler_drain_begin() it only falls, and 0 means every owed answer is sent. */
long handler_admitted(void);

#endif
