/*
 * db_pool — one event loop's PostgreSQL connections, driven through libpq's
 * asynchronous API only (PQconnectStartParams/PQconnectPoll, PQsendQueryParams,
 * PQflush, PQconsumeInput, PQisBusy, PQgetResult): each connection's socket is
 * in the loop's epoll, so no thread ever blocks inside libpq — except in
 * db_pool_exec_blocking(), /async_blocking's deliberate mistake.
 *
 * A task asks for a connection with db_pool_submit(); it gets a free one at
 * once, or waits in FIFO order. A plan that runs three tasks at once asks
 * three times, so it holds three connections at once. A plan that runs its
 * tasks in order keeps one connection for the whole request, as a handler
 * does with `async with pool.connection()`: each task but the last sets
 * `keep`, and the next task is submitted with the same db_wait slot. A slot without a
 * connection (never opened, or lost when the database went away) connects
 * when a task needs it, so the pool heals by itself once the database is back;
 * until then every connect fails fast and its task gets 503.
 *
 * Every slot starts connecting at db_pool_init (its failure is said once on
 * stderr, not fatal). Idle connections stay watched, so a server that closes
 * them is noticed at once. db_pool_cancel() on a task whose query is running
 * leaves the query to finish (libpq 15 has no non-blocking cancel) and the
 * connection returns to the pool when its result arrives.
 *
 * Completion: w->done(w, status, value, why) with status 0 or an HTTP status
 * (pg_task.h), called from the loop, never from inside db_pool_submit.
 */
#ifndef DB_POOL_H
#define DB_POOL_H

#include "loop.h"
#include "pg_task.h"

#include <stdint.h>

struct db_wait;
struct db_slot;
typedef void (*db_done_fn)(struct db_wait *w, int status, int32_t value, const char *why);

/* A task's place in the pool: caller-owned, untouched until done or cancel. */
struct db_wait {
	struct db_wait *next;     /* in the FIFO, while queued */
	struct db_slot *slot;     /* the connection serving it, NULL while queued */
	db_done_fn done;
	int32_t arg;
	long ms;
	int64_t queued_at;        /* monotonic ns, while queued */
	uint8_t queued;
	uint8_t keep;             /* hold the connection after the result: w->slot
				   * stays set for the next task's submit */
};

struct db_pool {
	struct loop *loop;
	const struct pg_conninfo *ci;
	long query_timeout_ms;
	int size;
	int id;                   /* the worker, for messages */
	int warned;               /* said once that the database is unreachable */
	struct db_slot *slots;
	struct db_wait *head, *tail;
	struct pg_stats *stats;   /* the worker's metrics own them */
};

/* Returns 0, or -1 (reason printed) when out of memory. */
int db_pool_init(struct db_pool *p, struct loop *l, const struct pg_conninfo *ci, int size,
		 long query_timeout_ms, struct pg_stats *stats, int id);
void db_pool_free(struct db_pool *p);

/* Runs one task query for w (w->done, w->arg, w->ms set; w->slot NULL, or the
 * connection a previous task kept). Returns 0 when it will call w->done, or an
 * HTTP status (why filled) when it failed at once (nothing is then held). */
int db_pool_submit(struct db_pool *p, struct db_wait *w, char *why, size_t cap);

/* w no longer wants an answer: taken out of the queue, its running query left
 * to finish without it, or the connection it kept given back. */
void db_pool_cancel(struct db_pool *p, struct db_wait *w);

/* The classic mistake: a free connection used with blocking PQexecParams, the
 * whole loop waiting. Returns 0 and the value, or an HTTP status and why. */
int db_pool_exec_blocking(struct db_pool *p, int32_t arg, long ms, int32_t *value, char *why,
			  size_t cap);

#endif
