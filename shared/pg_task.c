#include "pg_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_backend_parse(const char *s, enum pg_backend *out)
{
	if (strcmp(s, "sleep") == 0)
		*out = BACKEND_SLEEP;
	else if (strcmp(s, "postgres") == 0)
		*out = BACKEND_POSTGRES;
	else
		return -1;
	return 0;
}

/* libpq's messages are multi-line ("FATAL: ...\nDETAIL: ..."): keep the first
 * line, printable ASCII only, so it fits a JSON body and a log line. */
static void one_line(char *why, size_t cap, const char *prefix, const char *msg)
{
	size_t n;

	snprintf(why, cap, "%s%s", prefix, msg && *msg ? msg : "no message from libpq");
	n = strcspn(why, "\n");
	why[n] = '\0';
	while (n > 0 && why[n - 1] == ' ')
		why[--n] = '\0';
	for (char *p = why; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			*p = '?';
}

int pg_conninfo_init(struct pg_conninfo *c, const char *db, long query_timeout_ms,
		     const char *app, char *why, size_t cap)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(db, &err);
	int i = 0;

	if (opts == NULL) {
		one_line(why, cap, "", err);
		PQfreemem(err);
		return -1;
	}
	PQconninfoFree(opts);
	memset(c, 0, sizeof *c);
	c->db = db;
	/* Keywords after dbname override what the expanded conninfo says. */
	c->keys[i] = "dbname", c->values[i++] = db;
	c->keys[i] = "application_name", c->values[i++] = app;
	c->keys[i] = "connect_timeout", c->values[i++] = PG_CONNECT_TIMEOUT_S;
	if (query_timeout_ms > 0) {
		/* The server enforces it: a query past it is cancelled there and
		 * answers SQLSTATE 57014 on a connection that stays usable. */
		snprintf(c->options, sizeof c->options, "-c statement_timeout=%ld",
			 query_timeout_ms);
		c->keys[i] = "options", c->values[i++] = c->options;
	}
	c->keys[i] = NULL, c->values[i] = NULL;
	return 0;
}

void pg_task_params(struct pg_task_params *p, int32_t arg, long ms)
{
	snprintf(p->text[0], sizeof p->text[0], "%d", (int)arg);
	snprintf(p->text[1], sizeof p->text[1], "%ld", ms);
	p->values[0] = p->text[0];
	p->values[1] = p->text[1];
}

static void drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void pg_quiet(PGconn *c)
{
	PQsetNoticeProcessor(c, drop_notice, NULL);
}

int pg_conn_error(const PGconn *conn, const char *prefix, char *why, size_t cap)
{
	char head[64];

	snprintf(head, sizeof head, "%s: ", prefix);
	one_line(why, cap, head, conn ? PQerrorMessage(conn) : "out of memory");
	return 503;
}

int pg_task_result(const PGresult *res, const PGconn *conn, long query_timeout_ms,
		   int32_t *value, char *why, size_t cap)
{
	const char *state, *v;
	char *end;
	long n;

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0)) {
			one_line(why, cap, "", "the task query returned no single value");
			return 500;
		}
		v = PQgetvalue(res, 0, 0);
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < INT32_MIN || n > INT32_MAX) {
			one_line(why, cap, "the task query returned ", v);
			return 500;
		}
		*value = (int32_t)n;
		return 0;
	}
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "57014") == 0) {
		snprintf(why, cap, "query ran past --query-timeout %ld ms", query_timeout_ms);
		return 504;
	}
	/* Class 08 (connection exception) and 57P (shutdown, crash, cannot connect
	 * now), or no result at all: the database is gone for now. */
	if (PQstatus(conn) == CONNECTION_BAD || state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0) {
		one_line(why, cap, "database connection lost: ",
			 res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
		return 503;
	}
	one_line(why, cap, "query failed: ", PQresultErrorMessage(res));
	return 500;
}

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

static void series(struct textbuf *o, const char *prefix, const char *name, const char *type,
		   const char *help, double v)
{
	textbuf_printf(o, "# HELP %s_%s %s\n# TYPE %s_%s %s\n%s_%s %.*f\n", prefix, name, help,
		       prefix, name, type, prefix, name, v == (double)(int64_t)v ? 0 : 6, v);
}

void pg_stats_render(struct textbuf *o, const char *prefix, const struct pg_stats *const *s,
		     int n)
{
	struct pg_stats t = { 0 };

	for (int i = 0; i < n; i++) {
		t.size += LOAD(&s[i]->size);
		t.in_use += LOAD(&s[i]->in_use);
		t.waiters += LOAD(&s[i]->waiters);
		t.waits += LOAD(&s[i]->waits);
		t.wait_ns += LOAD(&s[i]->wait_ns);
		t.queries += LOAD(&s[i]->queries);
		t.query_ns += LOAD(&s[i]->query_ns);
		t.errors += LOAD(&s[i]->errors);
		t.timeouts += LOAD(&s[i]->timeouts);
		t.connects += LOAD(&s[i]->connects);
	}
	series(o, prefix, "db_pool_size", "gauge", "PostgreSQL connection slots (all pools).",
	       (double)t.size);
	series(o, prefix, "db_pool_in_use", "gauge", "Slots held by a task now.", (double)t.in_use);
	series(o, prefix, "db_pool_waiters", "gauge", "Tasks waiting for a free slot now.",
	       (double)t.waiters);
	series(o, prefix, "db_pool_waits_total", "counter", "Tasks that waited for a slot.",
	       (double)t.waits);
	series(o, prefix, "db_pool_wait_seconds_total", "counter",
	       "Time tasks waited for a slot.", t.wait_ns / 1e9);
	series(o, prefix, "db_queries_total", "counter", "Task queries that returned their row.",
	       (double)t.queries);
	series(o, prefix, "db_query_seconds_total", "counter",
	       "Time those queries took, from sent to their row received.", t.query_ns / 1e9);
	series(o, prefix, "db_errors_total", "counter",
	       "Failed queries and connects (timeouts included).", (double)t.errors);
	series(o, prefix, "db_timeouts_total", "counter", "Queries cancelled by --query-timeout.",
	       (double)t.timeouts);
	series(o, prefix, "db_connects_total", "counter", "Connections opened.",
	       (double)t.connects);
}
