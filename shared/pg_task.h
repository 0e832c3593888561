/*
 * pg_task — one slow task as one PostgreSQL query, the same text for both
 * servers: the task's time is spent inside the database (pg_sleep), and the
 * task's argument goes in as a parameter and comes back in the row, so the
 * dependent plan's value really flows through the database.
 *
 * Also what both servers' pools share: the connection keywords (the user's
 * --db conninfo or URI, plus statement_timeout for --query-timeout), how a
 * failed query maps to an HTTP status, and the pool's counters with their
 * Prometheus text.
 *
 * Functions returning int return 0 on success, or the HTTP status the request
 * gets (503 the database is unreachable or the connection was lost, 504 the
 * query ran past --query-timeout, 500 anything else) with the reason, one line
 * of printable text, in `why`.
 */
#ifndef PG_TASK_H
#define PG_TASK_H

#include "textbuf.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* The one query text. $1 the task's argument (int4), $2 its milliseconds.
 * pg_sleep in FROM yields one row, so the statement is the sleep and the
 * answer in one round trip. */
#define PG_TASK_SQL "select $1::int4 from pg_sleep($2::float8 / 1000)"
#define PG_TASK_NPARAMS 2
#define PG_WHY_MAX 200
/* Bounds a blocking connect (libpq's connect_timeout, seconds). */
#define PG_CONNECT_TIMEOUT_S "5"

enum pg_backend { BACKEND_SLEEP, BACKEND_POSTGRES };

/* Keyword/value arrays for PQconnectdbParams / PQconnectStartParams (with
 * expand_dbname = 1, so `db` may be any conninfo string or URI). */
struct pg_conninfo {
	const char *keys[6];
	const char *values[6];
	char options[64];
	const char *db;
};

struct pg_task_params {
	char text[2][24];
	const char *values[PG_TASK_NPARAMS];
};

/* Pool counters: gauges and totals, updated with relaxed atomics by whoever
 * owns the pool, read by /metrics from any thread. */
struct pg_stats {
	int64_t size;              /* connection slots */
	int64_t in_use;            /* slots held by a task (query running or connecting) */
	int64_t waiters;           /* tasks waiting for a free slot */
	uint64_t waits;            /* tasks that had to wait */
	uint64_t wait_ns;          /* time those tasks waited, summed */
	uint64_t queries;          /* queries that returned their row */
	uint64_t query_ns;         /* their time as the server saw it, summed: from the
	                            * query sent to its row in (the database's time,
	                            * the wire both ways, and each side's wake-up) */
	uint64_t errors;           /* queries or connects that failed (timeouts included) */
	uint64_t timeouts;         /* queries cancelled by statement_timeout */
	uint64_t connects;         /* connections opened */
};

/* "sleep" or "postgres" into *out; returns 0, or -1 for anything else. */
int pg_backend_parse(const char *s, enum pg_backend *out);

/* Fills c for `db`; application_name names the server. Returns 0, or -1 when
 * libpq cannot parse db (its message in why). Keeps a pointer to db. */
int pg_conninfo_init(struct pg_conninfo *c, const char *db, long query_timeout_ms,
		     const char *app, char *why, size_t cap);

/* The parameter texts for one task. */
void pg_task_params(struct pg_task_params *p, int32_t arg, long ms);

/* Status of a finished query (res may be NULL): 0 and the row's value, or an
 * HTTP status and why. Does not clear res. */
int pg_task_result(const PGresult *res, const PGconn *conn, long query_timeout_ms,
		   int32_t *value, char *why, size_t cap);

/* Drops the server's notices on c (libpq prints them to stderr by default):
 * the only ones these queries meet are shutdown warnings, already answered as
 * the next query's error. */
void pg_quiet(PGconn *c);

/* 503, with "PREFIX: libpq's message" in why: for a connection that could not
 * be made ("database unreachable") or was lost ("database connection lost"). */
int pg_conn_error(const PGconn *conn, const char *prefix, char *why, size_t cap);

static inline void pg_stats_add(int64_t *gauge, int64_t delta)
{
	__atomic_fetch_add(gauge, delta, __ATOMIC_RELAXED);
}

static inline void pg_stats_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* Appends the pool's series for n pools (summed) as PREFIX_db_*. */
void pg_stats_render(struct textbuf *o, const char *prefix, const struct pg_stats *const *s,
		     int n);

#endif
