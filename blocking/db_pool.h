/*
 * db_pool — the sync world's PostgreSQL connection pool: `size` blocking libpq
 * connections shared by every thread that runs a task (worker threads and
 * /sync_parallel's helpers). A task takes a slot, runs pg_task's one query on
 * it and gives it back; when every slot is taken, threads wait in FIFO order
 * (a ticket queue, each waiter its own condition variable, slots handed
 * straight to the oldest waiter so a newcomer never barges in).
 *
 * A slot whose connection is missing or broken (the database restarted) is
 * connected again by the thread that takes it; an idle connection the server
 * closed is noticed before use. So the pool heals by itself once the database
 * is back, and until then each task fails fast with 503.
 *
 * A request whose tasks run in order takes one connection for its whole plan
 * (db_pool_take, a query per task, db_pool_give), as a handler does with
 * `with pool.connection()`; a fanned-out task takes its own.
 *
 * db_pool_open() returns NULL only when out of memory; it opens every
 * connection in the background (the server answers meanwhile, and
 * PREFIX_db_connects_total shows the progress); one it cannot open is
 * reported on stderr and retried on use. db_pool_task()
 * returns 0 or an HTTP status with why (see pg_task.h).
 */
#ifndef DB_POOL_H
#define DB_POOL_H

#include "pg_task.h"

#include <stdint.h>

struct db_pool;

struct db_pool *db_pool_open(const struct pg_conninfo *ci, int size, long query_timeout_ms);

/* Waits (FIFO) for a free slot and returns its number; give it back after. */
int db_pool_take(struct db_pool *p);
void db_pool_give(struct db_pool *p, int slot);

/* One task on slot (taken by the caller), or on a slot of its own when slot
 * is -1: run the query with arg and ms, store the row's value. Safe from any
 * thread. */
int db_pool_task(struct db_pool *p, int slot, int32_t arg, long ms, int32_t *value, char *why,
		 size_t cap);

const struct pg_stats *db_pool_stats(const struct db_pool *p);

/* Waits for the warm-up, closes every connection; no task may be running. */
void db_pool_close(struct db_pool *p);

#endif
