/*
 * pg_server — what the PostgreSQL tests (it_postgres, rel_postgres) share: the
 * two servers as "sides" of one table, one private cluster per test program,
 * and a server started on it with --backend postgres (one worker for evented,
 * so its per-worker pool is the whole pool).
 */
#ifndef PG_SERVER_H
#define PG_SERVER_H

#include "harness.h"
#include "routes.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct side {
	const char *prog;     /* "blocking" */
	const char *prefix;   /* its /metrics prefix */
	enum route_world world;
};

static const struct side sides[] = {
	{ "blocking", "blocking", WORLD_BLOCKING },
	{ "evented", "evented", WORLD_EVENTED },
};
#define NSIDES (sizeof sides / sizeof sides[0])

static struct pg_cluster pg;
static struct proc own; /* a test's server, stopped by teardown_own even on failure */

static int teardown_cluster(void **state)
{
	(void)state;
	return pg_cluster_stop(&pg);
}

static int teardown_own(void **state)
{
	(void)state;
	if (own.pid > 0)
		proc_stop(&own, SIGKILL, 5000);
	own.pid = 0;
	return 0;
}

static double series(const struct side *s, const char *name);

/* Starts s's server against db with --pool pool, 100 ms tasks, and one more
 * flag when extra_flag is not NULL; against the test's own cluster, waits
 * (up to 20 s) until the pool has opened every connection, as make compare
 * does, so timings start with the pool ready. Returns proc_start's result. */
static int start_side(const struct side *s, const char *db, const char *pool,
		      const char *extra_flag, const char *extra_value)
{
	char *argv[24];
	int n = 0;

	argv[n++] = (char *)harness_bin(s->prog);
	argv[n++] = "--listen", argv[n++] = "127.0.0.1:0";
	argv[n++] = "--task-ms", argv[n++] = "100";
	argv[n++] = "--backend", argv[n++] = "postgres";
	argv[n++] = "--db", argv[n++] = (char *)db;
	argv[n++] = "--pool", argv[n++] = (char *)pool;
	if (s->world == WORLD_BLOCKING) {
		argv[n++] = "--threads", argv[n++] = "8";
		argv[n++] = "--helpers", argv[n++] = "6";
	} else {
		argv[n++] = "--workers", argv[n++] = "1";
	}
	if (extra_flag)
		argv[n++] = (char *)extra_flag, argv[n++] = (char *)extra_value;
	argv[n] = NULL;
	if (proc_start(&own, argv) < 0)
		return -1;
	for (int i = 0; i < 400 && db == pg.conninfo; i++) {
		if (series(s, "db_connects_total") >= atoi(pool))
			break;
		usleep(50 * 1000);
	}
	return 0;
}

/* PREFIX_name from the running server's /metrics, -1 when absent. */
static double series(const struct side *s, const char *name)
{
	char full[128];
	snprintf(full, sizeof full, "%s_%s", s->prefix, name);
	return metrics_value(own.port, full);
}

/* The side's first route with this plan, or NULL. */
static const struct route *route_with(enum route_world w, enum route_plan plan)
{
	for (size_t i = 0; i < routes_count; i++)
		if (routes[i].world == w && routes[i].plan == plan)
			return &routes[i];
	return NULL;
}

#endif
